"""Tests for txcloud.auth.aws.sts, metadata and providers, against txcloud.testing's fakes."""

from __future__ import annotations

from typing import Any

from treq.testing import StubTreq
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.metadata import ContainerCredentials, InstanceMetadataCredentials
from txcloud.auth.aws.providers import (
    StaticCredentials,
    as_provider,
    environment_credentials,
    shared,
)
from txcloud.auth.aws.sts import AssumeRole, AssumeRoleWithWebIdentity, STSSettings
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.test.auth._aws_support import INSTANCE, SOURCE, TASK, HomeTestCase, clock_at
from txcloud.test.http._support import capture_logs
from txcloud.testing.aws_credentials import (
    FakeContainerCredentials,
    FakeInstanceMetadata,
    FakeSTS,
)

ROLE = "arn:aws:iam::111111111111:role/reader"


class StaticTests(SynchronousTestCase):
    def test_static_credentials_are_at_hand(self) -> None:
        provider = StaticCredentials(SOURCE, "the tests")
        self.assertIs(self.successResultOf(provider.get()), SOURCE)
        self.assertIs(provider.fresh(), SOURCE)
        self.assertNotIn(SOURCE.secret_key, repr(provider))
        self.assertEqual(provider, StaticCredentials(SOURCE))

    def test_the_environment_gives_keys_and_token(self) -> None:
        found = environment_credentials(
            {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
        )
        assert found is not None
        self.assertEqual(found.credentials, AWSCredentials("AKIDENV", "s", "t"))
        self.assertIsNone(environment_credentials({}))
        with self.assertRaises(InvalidCredsError):
            environment_credentials({"AWS_ACCESS_KEY_ID": "AKIDENV"})

    def test_as_provider_wraps_credentials_and_refuses_others(self) -> None:
        self.assertIsInstance(as_provider(SOURCE), StaticCredentials)
        with self.assertRaises(InvalidArgumentError):
            as_provider("AKID")  # type: ignore[arg-type]


class AssumeRoleTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = clock_at()
        self.sts = FakeSTS(self.clock)
        self.sts.add_role(ROLE, trusted_keys=[SOURCE.access_key], external_id="tenant-42")

    def role(self, **kwargs: object) -> AssumeRole:
        arguments: dict[str, object] = {"external_id": "tenant-42", **kwargs}
        return AssumeRole(
            ROLE,
            arguments.pop("source", SOURCE),  # type: ignore[arg-type]
            sts=self.sts.settings(),
            reactor=self.clock,
            **arguments,  # type: ignore[arg-type]
        )

    def test_assume_role_signs_with_the_source_and_gives_session_credentials(self) -> None:
        role = self.role(session_name="inventory", duration_seconds=900)
        found = self.successResultOf(role.get())
        self.assertEqual(self.sts.session_role(found.access_key), ROLE)
        self.assertEqual(found.expires_at, self.clock.seconds() + 900)
        [call] = self.sts.received
        form = call.form()
        self.assertEqual(
            (form["RoleSessionName"], form["DurationSeconds"], form["ExternalId"]),
            ("inventory", "900", "tenant-42"),
        )
        self.assertIn(f"Credential={SOURCE.access_key}/", call.header("authorization") or "")
        self.assertIn("/us-east-1/sts/aws4_request", call.header("authorization") or "")

    def test_many_callers_share_one_assume_role_call(self) -> None:
        role = self.role()
        self.sts.latency = 1.0
        waiting = [role.get() for _ in range(16)]
        self.clock.advance(1)
        keys = {self.successResultOf(d).access_key for d in waiting}
        self.assertEqual(len(keys), 1)
        self.assertEqual(self.sts.calls, [("AssumeRole", ROLE)])

    def test_credentials_are_assumed_again_before_they_expire(self) -> None:
        role = self.role()
        first = self.successResultOf(role.get())
        self.clock.advance(3600 - 900)
        self.assertEqual(self.successResultOf(role.get()), first)
        second = self.successResultOf(role.get())
        self.assertNotEqual(second, first)
        self.assertEqual(len(self.sts.calls), 2)

    def test_a_refused_role_names_the_role_and_the_source(self) -> None:
        role = AssumeRole(
            ROLE,
            StaticCredentials(AWSCredentials("AKIDOTHER", "other-secret"), "profile 'base'"),
            sts=self.sts.settings(),
            reactor=self.clock,
        )
        error = self.failureResultOf(role.get(), InvalidCredsError).value
        self.assertIn(ROLE, str(error))
        self.assertIn("profile 'base'", str(error))
        self.assertEqual((error.status, error.code), (403, "AccessDenied"))
        self.assertNotIn("other-secret", str(error))

    def test_a_wrong_external_id_is_refused(self) -> None:
        self.failureResultOf(self.role(external_id="tenant-7").get(), InvalidCredsError)

    def test_a_failing_source_is_named(self) -> None:
        chained = AssumeRole(
            "arn:aws:iam::222222222222:role/admin",
            AssumeRole(
                ROLE, AWSCredentials("AKIDNOBODY", "x"), sts=self.sts.settings(), reactor=self.clock
            ),
            sts=self.sts.settings(),
            reactor=self.clock,
        )
        error = self.failureResultOf(chained.get(), InvalidCredsError).value
        self.assertIn("arn:aws:iam::222222222222:role/admin", str(error))
        self.assertIn(f"its source credentials from role {ROLE}", str(error))

    def test_roles_from_the_same_source_are_equal_and_shared(self) -> None:
        settings = STSSettings("https://sts.us-east-1.amazonaws.com", "us-east-1")
        one = AssumeRole(ROLE, SOURCE, sts=settings, reactor=self.clock)
        two = AssumeRole(ROLE, StaticCredentials(SOURCE), sts=settings, reactor=self.clock)
        self.assertEqual(one, two)
        self.assertIs(shared(one), shared(two))
        other = AssumeRole(ROLE, SOURCE, "x-1", sts=settings, reactor=self.clock)
        self.assertIsNot(shared(other), shared(one))

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        for arguments in (
            {"role_arn": "arn:aws:iam::1:user/x"},
            {"duration_seconds": 60},
            {"session_name": "has space"},
            {"external_id": "x"},
        ):
            with self.assertRaises(InvalidArgumentError):
                AssumeRole(
                    **{"role_arn": ROLE, "source": SOURCE, **arguments},  # type: ignore[arg-type]
                    sts=self.sts.settings(),
                    reactor=self.clock,
                )
        self.assertEqual(self.sts.received, [])

    def test_repr_and_logs_hold_no_secret(self) -> None:
        logs = capture_logs(self)
        role = self.role()
        found = self.successResultOf(role.get())
        text = repr(role) + repr(found) + " ".join(str(e) for e in logs)
        for secret in (SOURCE.secret_key, found.secret_key, found.session_token):
            self.assertNotIn(str(secret), text)

    def test_settings_follow_the_environment(self) -> None:
        settings = STSSettings.from_environment({"HOME": "/nonexistent", "AWS_REGION": "eu-west-3"})
        self.assertEqual(
            (settings.endpoint, settings.region),
            ("https://sts.eu-west-3.amazonaws.com", "eu-west-3"),
        )
        local = STSSettings.from_environment(
            {"HOME": "/nonexistent", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:5000"}
        )
        self.assertEqual((local.endpoint, local.region), ("http://127.0.0.1:5000", "us-east-1"))


class WebIdentityTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.sts = FakeSTS(self.clock)
        self.sts.add_role(ROLE, web_identity_tokens=["oidc-token-1", "oidc-token-2"])
        self.token_file = self.write("token", "oidc-token-1\n")

    def provider(self) -> AssumeRoleWithWebIdentity:
        return AssumeRoleWithWebIdentity(
            ROLE, self.token_file, "pod-1", sts=self.sts.settings(), reactor=self.clock
        )

    def test_the_token_file_is_exchanged_unsigned(self) -> None:
        found = self.successResultOf(self.provider().get())
        self.assertEqual(self.sts.session_role(found.access_key), ROLE)
        [call] = self.sts.received
        self.assertIsNone(call.header("authorization"))
        self.assertEqual(call.form()["RoleSessionName"], "pod-1")

    def test_the_token_file_is_read_again_at_each_refresh(self) -> None:
        provider = self.provider()
        self.successResultOf(provider.get())
        self.write("token", "oidc-token-2")
        self.clock.advance(3600 - 600)
        self.successResultOf(provider.get())
        self.assertEqual(
            [r.form()["WebIdentityToken"] for r in self.sts.received],
            ["oidc-token-1", "oidc-token-2"],
        )

    def test_a_refused_token_is_not_echoed(self) -> None:
        self.write("token", "stolen-token")
        error = self.failureResultOf(self.provider().get(), InvalidCredsError).value
        self.assertIn(ROLE, str(error))
        self.assertNotIn("stolen-token", str(error))

    def test_a_missing_token_file_is_invalid_creds(self) -> None:
        provider = AssumeRoleWithWebIdentity(
            ROLE, self.home + "/none", sts=self.sts.settings(), reactor=self.clock
        )
        error = self.failureResultOf(provider.get(), InvalidCredsError).value
        self.assertIn("none", str(error))
        self.assertEqual(self.sts.received, [])


class InstanceMetadataTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = clock_at()
        self.imds = FakeInstanceMetadata(INSTANCE, clock=self.clock, lifetime=3600)

    def provider(self, **environ: str) -> InstanceMetadataCredentials:
        return InstanceMetadataCredentials(
            environ=environ, reactor=self.clock, agent=self.imds.agent()
        )

    def test_imdsv2_puts_a_token_then_gets_with_it(self) -> None:
        found = self.successResultOf(self.provider().get())
        self.assertEqual(
            (found.access_key, found.session_token), ("ASIAINSTANCE", "instance-session-token")
        )
        self.assertEqual(found.expires_at, self.clock.seconds() + 3600)
        methods = [(r.method, r.path) for r in self.imds.received]
        self.assertEqual(
            methods,
            [
                ("PUT", "/latest/api/token"),
                ("GET", "/latest/meta-data/iam/security-credentials/"),
                ("GET", "/latest/meta-data/iam/security-credentials/txcloud-instance-role"),
            ],
        )
        token = self.imds.received[0]
        self.assertEqual(token.header("x-aws-ec2-metadata-token-ttl-seconds"), "21600")
        self.assertTrue(self.imds.received[1].header("x-aws-ec2-metadata-token"))

    def test_credentials_are_fetched_again_inside_the_mandatory_window(self) -> None:
        # No stretching: with five minutes left, callers wait for new ones.
        provider = self.provider()
        self.successResultOf(provider.get())
        self.imds.credentials = TASK
        self.clock.advance(3300)
        self.assertIsNone(provider.fresh())
        renewed = self.successResultOf(provider.get())
        self.assertEqual(
            (renewed.access_key, renewed.expires_at), ("ASIATASK", self.clock.seconds() + 3600)
        )
        self.assertEqual(self.imds.credential_requests, 2)

    def test_the_endpoint_and_timeouts_come_from_the_environment(self) -> None:
        provider = InstanceMetadataCredentials(
            environ={
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1234/",
                "AWS_METADATA_SERVICE_TIMEOUT": "2",
                "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "3",
            },
            reactor=self.clock,
        )
        self.assertEqual(
            (provider.endpoint, provider.timeout, provider.attempts),
            ("http://127.0.0.1:1234", 2.0, 3),
        )
        ipv6 = InstanceMetadataCredentials(
            environ={"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}, reactor=self.clock
        )
        self.assertEqual(ipv6.endpoint, "http://[fd00:ec2::254]")
        self.assertEqual(InstanceMetadataCredentials(environ={}, reactor=self.clock).timeout, 1.0)

    def test_the_fake_refuses_imdsv1(self) -> None:
        treq: Any = StubTreq(self.imds.resource)
        path = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        self.assertEqual(self.successResultOf(treq.get(path)).code, 401)
        self.assertEqual(
            self.successResultOf(treq.put("http://169.254.169.254/latest/api/token")).code, 400
        )

    def test_a_missing_role_is_invalid_creds(self) -> None:
        self.imds.role_name = ""
        error = self.failureResultOf(self.provider().get(), InvalidCredsError).value
        self.assertIn("instance metadata service", str(error))


class ContainerTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = FakeContainerCredentials(
            TASK, clock=self.clock, authorization_token="pod-identity-token"
        )

    def provider(self, **environ: str) -> ContainerCredentials:
        return ContainerCredentials(
            environ=self.env(**environ), reactor=self.clock, agent=self.fake.agent()
        )

    def test_the_relative_uri_is_on_the_ecs_agent_address(self) -> None:
        self.fake.authorization_token = None
        provider = self.provider(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=self.fake.path)
        self.assertEqual(provider.uri, "http://169.254.170.2" + self.fake.path)
        self.assertEqual(self.successResultOf(provider.get()).access_key, "ASIATASK")

    def test_the_token_file_wins_and_is_read_at_each_fetch(self) -> None:
        token_file = self.write("eks-token", "pod-identity-token")
        provider = self.provider(
            AWS_CONTAINER_CREDENTIALS_FULL_URI="http://169.254.170.23/v1/credentials",
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file,
            AWS_CONTAINER_AUTHORIZATION_TOKEN="stale-token",
        )
        self.fake.path = "/v1/credentials"
        self.successResultOf(provider.get())
        self.assertEqual(self.fake.received[0].header("authorization"), "pod-identity-token")

    def test_a_wrong_token_is_refused_without_echoing_it(self) -> None:
        provider = self.provider(
            AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1/v2/credentials/txcloud-task",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-secret-token",
        )
        error = self.failureResultOf(provider.get(), InvalidCredsError).value
        self.assertIn("container credentials endpoint", str(error))
        self.assertNotIn("wrong-secret-token", str(error) + repr(provider))

    def test_full_uris_must_be_loopback_agent_or_https(self) -> None:
        for uri in ("http://10.0.0.1/creds", "http://example.com/creds", "ftp://127.0.0.1/x"):
            with self.assertRaises(InvalidArgumentError):
                self.provider(AWS_CONTAINER_CREDENTIALS_FULL_URI=uri)
        for uri in ("https://example.com/creds", "http://[::1]:80/c", "http://localhost/c"):
            self.assertEqual(self.provider(AWS_CONTAINER_CREDENTIALS_FULL_URI=uri).uri, uri)

    def test_no_configured_uri_is_an_error(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.provider()
