"""
AWS credentials against moto server with IAM authentication enforced.

The source identity (user ``source`` of the home account) may assume roles
but is denied EC2 and S3, so every success below proves a role was used.
Roles named ``reader`` live in accounts 111111111111 and 222222222222,
which hold one and two instances; the one of 333333333333 is denied to
the source.  Metadata and container credentials come from
:mod:`txcloud.testing.aws_credentials`'s fakes on free ports.

moto quirks handled here: the unauthenticated window is reopened for set-up
(``POST /moto-api/reset-auth``); an unsigned ``AssumeRoleWithWebIdentity``
(as AWS expects it, and as txcloud sends it) answers 500 once
authentication is on, so its test lets exactly that one action through
unauthenticated; moto checks no web identity token.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import formatEvent
from twisted.trial.unittest import TestCase

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.metadata import InstanceMetadataCredentials
from txcloud.auth.aws.profiles import profile_credentials
from txcloud.auth.aws.sts import AssumeRole, STSSettings
from txcloud.common.aws_targets import drivers_for_accounts, role_arns
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.errors import InvalidCredsError
from txcloud.multi import list_nodes
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.test.auth._moto_iam import HOME_ACCOUNT, MotoIAM, allow, deny, policy
from txcloud.test.emulators import free_port, iam_moto, reactor
from txcloud.test.http._support import capture_logs
from txcloud.testing.aws_credentials import FakeContainerCredentials, FakeInstanceMetadata

ACCOUNT_A, ACCOUNT_B, DENIED = "111111111111", "222222222222", "333333333333"

SOURCE_POLICY = policy(
    allow(["sts:AssumeRole"]),
    deny(["sts:AssumeRole"], f"arn:aws:iam::{DENIED}:role/*"),
    deny(["ec2:*", "s3:*"]),
)


class MotoIAMTestCase(TestCase):
    """A moto with users, roles and instances, authentication on."""

    async def set_up(self) -> None:
        await iam_moto.ensure_started()
        self.moto = MotoIAM(iam_moto.url)
        await self.moto.reset()
        self.source = await self.moto.user("source", SOURCE_POLICY)
        self.role_a = await self.moto.role(ACCOUNT_A)
        self.role_b = await self.moto.role(ACCOUNT_B)
        self.home_role = await self.moto.role(HOME_ACCOUNT, "pod-reader")
        self.nodes_a = await self.moto.instances(ACCOUNT_A, 1)
        self.nodes_b = await self.moto.instances(ACCOUNT_B, 2)
        self.nodes_home = await self.moto.instances(HOME_ACCOUNT, 3)
        await self.set_up_more()
        await self.moto.unauthenticated("0")
        self.home = self.mktemp()
        os.makedirs(os.path.join(self.home, ".aws"))
        self.write(
            ".aws/credentials",
            f"[source]\naws_access_key_id = {self.source.access_key}\n"
            f"aws_secret_access_key = {self.source.secret_key}\n",
        )

    async def set_up_more(self) -> None:
        """More set-up while authentication is off."""

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self.set_up())

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.home, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def env(self, **values: str) -> dict[str, str]:
        return {
            "HOME": self.home,
            "PATH": os.environ.get("PATH", ""),
            "AWS_ENDPOINT_URL": iam_moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            **values,
        }

    def ec2(self, **kwargs: Any) -> EC2NodeDriver:
        environ = self.env(**kwargs.pop("environ", {}))
        driver = EC2NodeDriver(region="us-east-1", ex_environ=environ, **kwargs)
        self.addCleanup(driver.close)
        return driver

    async def node_ids(self, driver: EC2NodeDriver) -> list[str]:
        return sorted(node.id for node in await driver.list_nodes())

    def serve(self, fake: Any) -> int:
        port = reactor.listenTCP(0, fake.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port
        return number


class RoleTests(MotoIAMTestCase):
    async def test_the_source_alone_is_denied(self) -> None:
        with self.assertRaises(InvalidCredsError):
            await self.ec2(ex_profile="source").list_nodes()

    async def test_a_profile_with_role_arn_reads_its_account(self) -> None:
        logs = capture_logs(self)
        self.write(
            ".aws/config",
            f"[profile a]\nrole_arn = {self.role_a}\nsource_profile = source\n"
            "role_session_name = inventory\n",
        )
        driver = self.ec2(ex_profile="a")
        self.assertEqual(await self.node_ids(driver), sorted(self.nodes_a))
        session = driver.credentials
        assert session is not None and session.session_token is not None
        shown = " ".join(formatEvent(event) for event in logs)
        shown += repr(driver) + repr(driver.credentials_provider) + repr(session)
        self.assertIn(self.role_a, shown)
        for secret in (self.source.secret_key, session.secret_key, session.session_token):
            self.assertNotIn(secret, shown)
        s3 = S3StorageDriver(ex_profile="a", ex_environ=self.env())
        self.addCleanup(s3.close)
        self.assertEqual(await s3.list_containers(), [])

    async def test_roles_in_several_accounts_are_assumed_once_each(self) -> None:
        source = profile_credentials("source", environ=self.env())
        targets = drivers_for_accounts(
            EC2NodeDriver,
            ["us-east-1", "eu-west-1", "eu-central-1"],
            roles=role_arns("reader", [ACCOUNT_A, ACCOUNT_B, DENIED]),
            source=source,
            environ=self.env(),
        )
        self.addCleanup(targets.close)
        result = await list_nodes(targets.drivers.values(), concurrency=9)
        seen = {
            targets.target_of(d): sorted(n.id for n in nodes) for d, nodes in result.results.items()
        }
        self.assertEqual(seen[(self.role_a, "us-east-1")], sorted(self.nodes_a))
        self.assertEqual(seen[(self.role_b, "us-east-1")], sorted(self.nodes_b))
        self.assertEqual(seen[(self.role_a, "eu-west-1")], [])
        denied = f"arn:aws:iam::{DENIED}:role/reader"
        self.assertEqual(
            {targets.target_of(d) for d in result.failures},
            {(denied, region) for region in ("us-east-1", "eu-west-1", "eu-central-1")},
        )
        for failure in result.failures.values():
            self.assertIsInstance(failure.value, InvalidCredsError)
            self.assertIn(denied, str(failure.value))
            self.assertIn("profile 'source'", str(failure.value))
            self.assertNotIn(self.source.secret_key, str(failure.value))
        assumed = await self.moto.assumed_roles()
        self.assertEqual(sorted(assumed), sorted([self.role_a, self.role_b]))

    async def test_an_explicit_assume_role_provider(self) -> None:
        sts = STSSettings.from_environment(self.env())
        role = AssumeRole(self.role_b, self.source, external_id="unused-by-moto", sts=sts)
        self.assertEqual(await self.node_ids(self.ec2(ex_credentials=role)), sorted(self.nodes_b))

    async def test_web_identity_from_the_environment(self) -> None:
        token = self.write("token", "eyJhbGciOiJSUzI1NiJ9.fake.token")
        driver = self.ec2(
            environ={
                "AWS_ROLE_ARN": self.home_role,
                "AWS_WEB_IDENTITY_TOKEN_FILE": token,
                "AWS_ROLE_SESSION_NAME": "pod-1",
            }
        )
        # The unsigned exchange, alone, goes through moto's unauthenticated window.
        await self.moto.unauthenticated("1")
        await driver.credentials_provider.get()
        self.assertEqual(await self.node_ids(driver), sorted(self.nodes_home))


class MachineCredentialTests(MotoIAMTestCase):
    async def session_a(self) -> AWSCredentials:
        sts = STSSettings.from_environment(self.env())
        return await AssumeRole(self.role_a, self.source, sts=sts).get()

    async def test_container_credentials(self) -> None:
        fake = FakeContainerCredentials(await self.session_a(), authorization_token="pod-token")
        port = self.serve(fake)
        driver = self.ec2(
            environ={
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{port}{fake.path}",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-token",
            }
        )
        self.assertEqual(await self.node_ids(driver), sorted(self.nodes_a))
        self.assertEqual(fake.credential_requests, 1)

    async def test_imdsv2_instance_credentials(self) -> None:
        fake = FakeInstanceMetadata(await self.session_a())
        port = self.serve(fake)
        driver = self.ec2(
            environ={
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{port}",
                "AWS_EC2_METADATA_DISABLED": "false",
            }
        )
        self.assertEqual(await self.node_ids(driver), sorted(self.nodes_a))
        self.assertEqual((fake.token_requests, fake.credential_requests), (1, 1))

    async def test_a_role_on_top_of_instance_credentials(self) -> None:
        fake = FakeInstanceMetadata(self.source)
        port = self.serve(fake)
        self.write(
            ".aws/config",
            f"[profile b]\nrole_arn = {self.role_b}\ncredential_source = Ec2InstanceMetadata\n",
        )
        driver = self.ec2(
            ex_profile="b",
            environ={"AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{port}"},
        )
        self.assertEqual(await self.node_ids(driver), sorted(self.nodes_b))


class RotationTests(MotoIAMTestCase):
    async def set_up_more(self) -> None:
        self.rotating = await self.moto.user("rotating", policy(allow(["ec2:Describe*"])))

    async def test_a_driver_keeps_working_after_its_key_is_deleted(self) -> None:
        # The instance serves keys valid for 601 s: one second outside the
        # mandatory window, after which they are fetched again (no stretching).
        fake = FakeInstanceMetadata(self.rotating, lifetime=601)
        port = self.serve(fake)
        provider = InstanceMetadataCredentials(f"http://127.0.0.1:{port}")
        driver = self.ec2(ex_credentials=provider)
        before = await self.node_ids(driver)
        await self.moto.unauthenticated("inf")
        fake.credentials = await self.moto.access_key("rotating")
        await self.moto.delete_access_key("rotating", self.rotating.access_key)
        await self.moto.unauthenticated("0")
        with self.assertRaises(InvalidCredsError):
            await self.ec2(ex_credentials=self.rotating).list_nodes()
        await deferLater(reactor, 1.2)
        self.assertEqual(await self.node_ids(driver), before)
        self.assertEqual(fake.credential_requests, 2)
        assert driver.credentials is not None
        self.assertEqual(driver.credentials.access_key, fake.credentials.access_key)


class FailureTests(MotoIAMTestCase):
    def tool(self, body: str) -> str:
        return f"{sys.executable} " + self.write("tool.py", body)

    async def test_credential_process_feeds_a_role(self) -> None:
        document = {
            "Version": 1,
            "AccessKeyId": self.source.access_key,
            "SecretAccessKey": self.source.secret_key,
        }
        tool = self.tool(f"print({json.dumps(json.dumps(document))})")
        self.write(
            ".aws/config",
            f"[profile proc]\ncredential_process = {tool}\n"
            f"[profile a]\nrole_arn = {self.role_a}\nsource_profile = proc\n",
        )
        self.assertEqual(await self.node_ids(self.ec2(ex_profile="a")), sorted(self.nodes_a))

    async def test_failing_processes_fail_before_any_request(self) -> None:
        for body in (
            "import sys\nprint('AKIDLEAK secret-leak')\nsys.exit(2)",
            "print('not json: secret-leak')",
            'print(\'{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "secret-leak"}\')',
        ):
            self.write(".aws/config", f"[profile p]\ncredential_process = {self.tool(body)}\n")
            # An endpoint nobody listens on: reaching it would be a network error.
            driver = self.ec2(
                ex_profile="p", environ={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
            )
            with self.assertRaises(InvalidCredsError) as caught:
                await driver.list_nodes()
            self.assertNotIn("secret-leak", str(caught.exception))
            self.assertIn("credential_process of profile 'p'", str(caught.exception))

    async def test_broken_profiles_fail_before_any_request(self) -> None:
        self.write(
            ".aws/config",
            f"[profile x]\nrole_arn = {self.role_a}\nsource_profile = y\n"
            f"[profile y]\nrole_arn = {self.role_b}\nsource_profile = x\n"
            f"[profile lost]\nrole_arn = {self.role_a}\nsource_profile = nowhere\n",
        )
        for name, words in (("x", "x -> y -> x"), ("lost", "'nowhere'"), ("absent", "'absent'")):
            with self.assertRaises(InvalidCredsError) as caught:
                self.ec2(ex_profile=name)
            self.assertIn(words, str(caught.exception))
        self.assertEqual(await self.moto.assumed_roles(), [])

    async def test_nothing_found_lists_every_place_looked(self) -> None:
        os.remove(os.path.join(self.home, ".aws/credentials"))
        closed = f"http://127.0.0.1:{free_port()}"
        driver = self.ec2(
            environ={
                "AWS_EC2_METADATA_DISABLED": "false",
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": closed,
            }
        )
        with self.assertRaises(InvalidCredsError) as caught:
            await driver.list_nodes()
        message = str(caught.exception)
        for place in (
            "AWS_ACCESS_KEY_ID",
            "profile 'default'",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            closed,
        ):
            self.assertIn(place, message)
