"""Tests for the shared files, the providers profiles describe, and the default chain."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

from txcloud.auth.aws.chain import credentials_for, default_credentials
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.metadata import ContainerCredentials
from txcloud.auth.aws.process import ProcessCredentials
from txcloud.auth.aws.profiles import profile_credentials
from txcloud.auth.aws.providers import StaticCredentials
from txcloud.auth.aws.shared_config import load_shared_config
from txcloud.auth.aws.sso import SSOCredentials, sso_cache_file
from txcloud.auth.aws.sts import AssumeRole, AssumeRoleWithWebIdentity
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.test.auth._aws_support import INSTANCE, HomeTestCase
from txcloud.test.http._support import ScriptedResource
from txcloud.testing.aws_credentials import FakeInstanceMetadata

ROLE = "arn:aws:iam::111111111111:role/reader"
ADMIN = "arn:aws:iam::222222222222:role/admin"

PROFILES = f"""
[default]
region = eu-west-1

[profile base]
region = eu-central-1

[profile reader]
role_arn = {ROLE}
source_profile = base
external_id = tenant-42
role_session_name = inventory
duration_seconds = 1800

[profile admin]
role_arn = {ADMIN}
source_profile = reader

[profile loop-a]
role_arn = {ROLE}
source_profile = loop-b

[profile loop-b]
role_arn = {ADMIN}
source_profile = loop-a

[profile on-ec2]
role_arn = {ROLE}
credential_source = Ec2InstanceMetadata

[profile from-env]
role_arn = {ROLE}
credential_source = Environment

[profile in-task]
role_arn = {ROLE}
credential_source = EcsContainer

[profile pod]
role_arn = {ROLE}
web_identity_token_file = ~/token

[profile self]
role_arn = {ROLE}
source_profile = self
aws_access_key_id = AKIDSELF
aws_secret_access_key = self-secret

[profile tool]
credential_process = {sys.executable} ~/tool.py

[profile sso]
sso_session = corp
sso_account_id = 333333333333
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile local]
services = moto
endpoint_url = http://127.0.0.1:9000

[services moto]
s3 =
  endpoint_url = http://127.0.0.1:5000
sts =
  endpoint_url = http://127.0.0.1:5001
"""

CREDENTIALS = """
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret

[base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = base-secret-value
"""


class ProfileTestCase(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write(".aws/config", PROFILES)
        self.write(".aws/credentials", CREDENTIALS)

    def resolve(self, name: str, **environ: str) -> object:
        return profile_credentials(name, environ=self.env(**environ), reactor=self.clock)


class SharedConfigTests(ProfileTestCase):
    def test_profiles_sessions_and_services_are_read_from_home(self) -> None:
        config = load_shared_config(self.env())
        self.assertEqual(config.config_file, os.path.join(self.home, ".aws/config"))
        self.assertEqual(config.profile("base")["aws_access_key_id"], "AKIDBASE")
        self.assertEqual(config.profile("base")["region"], "eu-central-1")
        self.assertEqual(config.sso_sessions["corp"]["sso_region"], "eu-west-1")
        self.assertEqual(config.services["moto"]["s3"], {"endpoint_url": "http://127.0.0.1:5000"})

    def test_files_named_by_the_environment_win(self) -> None:
        other = self.write("elsewhere/config", "[profile x]\nregion = ap-south-1\n")
        creds = self.write(
            "elsewhere/creds", "[x]\naws_access_key_id = A\naws_secret_access_key = B\n"
        )
        config = load_shared_config(
            self.env(AWS_CONFIG_FILE=other, AWS_SHARED_CREDENTIALS_FILE=creds)
        )
        self.assertEqual(
            config.profile("x"),
            {"region": "ap-south-1", "aws_access_key_id": "A", "aws_secret_access_key": "B"},
        )
        self.assertFalse(config.has_profile("base"))

    def test_an_unparsable_file_is_named_not_quoted(self) -> None:
        self.write(".aws/credentials", "aws_secret_access_key = leaked-secret\n")
        with self.assertRaises(InvalidCredsError) as caught:
            load_shared_config(self.env())
        self.assertIn("credentials", str(caught.exception))
        self.assertNotIn("leaked-secret", str(caught.exception))


class ProfileTests(ProfileTestCase):
    def test_keys_of_the_credentials_file(self) -> None:
        found = self.resolve("base")
        self.assertEqual(found, StaticCredentials(AWSCredentials("AKIDBASE", "base-secret-value")))
        self.assertIn("profile 'base'", found.description)  # type: ignore[attr-defined]

    def test_a_role_profile_assumes_the_role_with_its_source_profile(self) -> None:
        found = self.resolve("reader")
        assert isinstance(found, AssumeRole)
        self.assertEqual(
            (found.role_arn, found.external_id, found.session_name, found.duration_seconds),
            (ROLE, "tenant-42", "inventory", 1800),
        )
        assert isinstance(found.source, StaticCredentials)
        self.assertEqual(found.source.credentials.access_key, "AKIDBASE")
        # STS is the regional one of the role profile's region... unless the environment says.
        self.assertEqual(found.sts.endpoint, "https://sts.us-east-1.amazonaws.com")
        found_with_region = self.resolve("reader", AWS_REGION="ap-northeast-1")
        assert isinstance(found_with_region, AssumeRole)
        self.assertEqual(found_with_region.sts.region, "ap-northeast-1")

    def test_chains_of_roles_follow_source_profiles(self) -> None:
        found = self.resolve("admin")
        assert isinstance(found, AssumeRole) and isinstance(found.source, AssumeRole)
        self.assertEqual((found.role_arn, found.source.role_arn), (ADMIN, ROLE))
        self.assertIn(ROLE, found.description)

    def test_the_same_profile_gives_the_same_provider(self) -> None:
        self.assertIs(self.resolve("admin"), self.resolve("admin"))

    def test_a_source_profile_loop_is_refused(self) -> None:
        with self.assertRaises(InvalidCredsError) as caught:
            self.resolve("loop-a")
        self.assertIn("loop-a -> loop-b -> loop-a", str(caught.exception))

    def test_a_profile_may_be_its_own_source_when_it_holds_keys(self) -> None:
        found = self.resolve("self")
        assert isinstance(found, AssumeRole) and isinstance(found.source, StaticCredentials)
        self.assertEqual(found.source.credentials.access_key, "AKIDSELF")

    def test_a_missing_profile_is_refused(self) -> None:
        with self.assertRaises(InvalidCredsError) as caught:
            self.resolve("nowhere")
        self.assertIn("'nowhere'", str(caught.exception))
        self.write(
            ".aws/config", "[profile dangling]\nrole_arn = " + ROLE + "\nsource_profile = gone\n"
        )
        with self.assertRaises(InvalidCredsError) as caught:
            self.resolve("dangling")
        self.assertIn("named by profile 'dangling'", str(caught.exception))

    def test_credential_sources(self) -> None:
        on_ec2 = self.resolve("on-ec2")
        assert isinstance(on_ec2, AssumeRole)
        self.assertIn("instance metadata", on_ec2.source.description)
        env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}
        from_env = self.resolve("from-env", **env)
        assert isinstance(from_env, AssumeRole)
        self.assertEqual(from_env.source.fresh(), AWSCredentials("AKIDENV", "env-secret"))
        with self.assertRaises(InvalidCredsError):
            self.resolve("from-env")
        in_task = self.resolve("in-task", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/x")
        assert isinstance(in_task, AssumeRole)
        self.assertIsInstance(in_task.source, ContainerCredentials)

    def test_inconsistent_roles_are_refused(self) -> None:
        for extra in (
            "credential_source = Ec2InstanceMetadata\nsource_profile = base\n",
            "credential_source = Somewhere\n",
            "",
            "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n",
            "source_profile = base\nduration_seconds = soon\n",
        ):
            self.write(".aws/config", f"[profile odd]\nrole_arn = {ROLE}\n{extra}")
            self.write(".aws/credentials", CREDENTIALS)
            with self.assertRaises(InvalidCredsError):
                self.resolve("odd")

    def test_web_identity_profiles(self) -> None:
        found = self.resolve("pod")
        assert isinstance(found, AssumeRoleWithWebIdentity)
        self.assertEqual(found.token_file, "~/token")

    def test_sso_profiles(self) -> None:
        found = self.resolve("sso")
        assert isinstance(found, SSOCredentials)
        self.assertEqual(
            (found.account_id, found.role_name, found.sso_region),
            ("333333333333", "ReadOnly", "eu-west-1"),
        )
        self.assertEqual(found.endpoint, "https://portal.sso.eu-west-1.amazonaws.com")
        self.assertEqual(found.cache_file, sso_cache_file("corp", self.env()))
        self.assertTrue(found.cache_file.startswith(self.home))

    def test_process_profiles(self) -> None:
        found = self.resolve("tool")
        assert isinstance(found, ProcessCredentials)
        self.assertEqual(found.argv[0], sys.executable)


class ChainTests(ProfileTestCase):
    def chain(self, profile: str | None = None, **environ: str) -> object:
        return default_credentials(profile, environ=self.env(**environ), reactor=self.clock)

    def test_environment_keys_come_first(self) -> None:
        found = self.chain(
            AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="s", AWS_PROFILE="reader"
        )
        self.assertEqual(found, StaticCredentials(AWSCredentials("AKIDENV", "s")))

    def test_a_named_profile_skips_the_environment(self) -> None:
        found = self.chain("base", AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="s")
        self.assertEqual(found.fresh().access_key, "AKIDBASE")  # type: ignore[attr-defined]

    def test_the_default_profile(self) -> None:
        self.assertEqual(self.chain().fresh().access_key, "AKIDDEFAULT")  # type: ignore[attr-defined]

    def test_a_role_profile_comes_before_web_identity_variables(self) -> None:
        token = self.write("token", "t")
        found = self.chain(
            AWS_PROFILE="reader", AWS_ROLE_ARN=ADMIN, AWS_WEB_IDENTITY_TOKEN_FILE=token
        )
        self.assertIsInstance(found, AssumeRole)

    def test_web_identity_variables_come_before_profile_keys(self) -> None:
        token = self.write("token", "t")
        found = self.chain(
            AWS_ROLE_ARN=ADMIN, AWS_WEB_IDENTITY_TOKEN_FILE=token, AWS_ROLE_SESSION_NAME="ci-run"
        )
        assert isinstance(found, AssumeRoleWithWebIdentity)
        self.assertEqual((found.role_arn, found.session_name), (ADMIN, "ci-run"))

    def test_container_credentials_come_before_the_instance(self) -> None:
        os.remove(os.path.join(self.home, ".aws/credentials"))
        found = self.chain(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/task")
        self.assertIsInstance(found, ContainerCredentials)

    def test_the_instance_metadata_service_is_last_and_lists_every_place_looked(self) -> None:
        os.remove(os.path.join(self.home, ".aws/credentials"))
        imds = FakeInstanceMetadata(INSTANCE, clock=self.clock)
        found = default_credentials(environ=self.env(), reactor=self.clock, agent=imds.agent())
        self.assertEqual(self.successResultOf(found.get()).access_key, INSTANCE.access_key)
        imds.role_name = ""
        missing = default_credentials(
            environ=self.env(AWS_REGION="eu-west-2"), reactor=self.clock, agent=imds.agent()
        )
        error = self.failureResultOf(missing.get(), InvalidCredsError).value
        for place in (
            "AWS_ACCESS_KEY_ID",
            "profile 'default'",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "instance metadata service",
        ):
            self.assertIn(place, str(error))

    def test_a_disabled_metadata_service_fails_at_once(self) -> None:
        os.remove(os.path.join(self.home, ".aws/credentials"))
        with self.assertRaises(InvalidCredsError) as caught:
            self.chain(AWS_EC2_METADATA_DISABLED="true")
        self.assertIn("no AWS credentials found", str(caught.exception))

    def test_a_named_missing_profile_fails_at_once(self) -> None:
        for arguments in ({"profile": "nowhere"}, {"AWS_PROFILE": "nowhere"}):
            with self.assertRaises(InvalidCredsError):
                self.chain(**arguments)

    def test_credentials_for_prefers_a_provider_then_keys(self) -> None:
        provider = StaticCredentials(AWSCredentials("AKIDGIVEN", "x"))
        self.assertIs(credentials_for(credentials=provider, environ=self.env()), provider)
        with self.assertRaises(InvalidArgumentError):
            credentials_for("AKID", "s", credentials=provider)
        with self.assertRaises(InvalidCredsError):
            credentials_for("AKID")
        self.assertEqual(
            credentials_for("AKID", "s", "t").fresh(), AWSCredentials("AKID", "s", "t")
        )


class ProcessTests(HomeTestCase):
    """credential_process runs through the real reactor."""

    def tool(self, body: str) -> ProcessCredentials:
        script = self.write("tool.py", body)
        from twisted.internet import reactor

        return ProcessCredentials(
            f"{sys.executable} {script}", "tool", environ=self.env(), reactor=reactor
        )

    async def test_version_1_json_with_expiration(self) -> None:
        expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        document = {
            "Version": 1,
            "AccessKeyId": "ASIAPROCESS",
            "SecretAccessKey": "process-secret",
            "SessionToken": "process-token",
            "Expiration": expires.isoformat(),
        }
        found = await self.tool(f"print({json.dumps(json.dumps(document))})").get()
        self.assertEqual(
            found,
            AWSCredentials(
                "ASIAPROCESS", "process-secret", "process-token", expires_at=expires.timestamp()
            ),
        )

    async def test_a_non_zero_exit_is_invalid_creds_without_its_output(self) -> None:
        provider = self.tool(
            "import sys\nprint('printed-secret')\nsys.stderr.write('err-secret')\nsys.exit(3)"
        )
        with self.assertRaises(InvalidCredsError) as caught:
            await provider.get()
        self.assertIn("exited with status 3", str(caught.exception))
        self.assert_hidden(str(caught.exception), ("printed-secret", "err-secret"))

    async def test_output_other_than_version_1_json_is_refused_unechoed(self) -> None:
        for body in (
            "print('not-json-secret')",
            'print(\'{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "version-secret"}\')',
            'print(\'{"Version": 1, "AccessKeyId": "A"}\')',
        ):
            with self.assertRaises(InvalidCredsError) as caught:
                await self.tool(body).get()
            self.assert_hidden(str(caught.exception), ("not-json-secret", "version-secret"))

    def test_an_empty_command_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            ProcessCredentials("   ")


class SSOTests(HomeTestCase):
    def provider(self, agent: object) -> SSOCredentials:
        return SSOCredentials(
            "https://corp.awsapps.com/start",
            "eu-west-1",
            "333333333333",
            "ReadOnly",
            session_name="corp",
            environ=self.env(),
            reactor=self.clock,
            agent=agent,
        )

    def cache(self, expires_at: str) -> None:
        self.write(
            os.path.relpath(sso_cache_file("corp", self.env()), self.home),
            json.dumps({"accessToken": "sso-access-token", "expiresAt": expires_at}),
        )

    def test_the_cached_token_is_exchanged_for_role_credentials(self) -> None:
        from treq.testing import RequestTraversalAgent

        self.cache("2031-01-01T00:00:00Z")
        answer = {
            "roleCredentials": {
                "accessKeyId": "ASIASSO",
                "secretAccessKey": "sso-secret",
                "sessionToken": "sso-session",
                "expiration": int((self.clock.seconds() + 3600) * 1000),
            }
        }
        server = ScriptedResource(
            (200, {"Content-Type": "application/json"}, json.dumps(answer).encode())
        )
        found = self.successResultOf(self.provider(RequestTraversalAgent(server)).get())
        self.assertEqual(
            (found.access_key, found.expires_at), ("ASIASSO", self.clock.seconds() + 3600)
        )
        [request] = server.received
        self.assertEqual(request.header("x-amz-sso_bearer_token"), "sso-access-token")
        self.assertIn("account_id=333333333333", request.uri)

    def test_an_expired_or_missing_token_asks_for_a_login(self) -> None:
        provider = self.provider(None)
        error = self.failureResultOf(provider.get(), InvalidCredsError).value
        self.assertIn("aws sso login", str(error))
        self.cache("2020-01-01T00:00:00Z")
        error = self.failureResultOf(self.provider(None).get(), InvalidCredsError).value
        self.assertIn("expired", str(error))
        self.assertNotIn("sso-access-token", str(error))
