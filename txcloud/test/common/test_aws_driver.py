"""
Tests of what every AWS driver shares: credentials from providers (shared
by source), the region, endpoints and CA bundle as the SDKs resolve them.
"""

from __future__ import annotations

from typing import Any

import certifi

from txcloud import multi
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.providers import StaticCredentials
from txcloud.auth.aws.sts import AssumeRole
from txcloud.compute.drivers.ec2 import EC2NodeDriver, drivers_for_regions
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.multi import drivers_for_accounts, role_arns
from txcloud.storage.drivers.google_storage.xml_api import GoogleStorageXMLDriver
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.test.auth._aws_support import SOURCE, HomeTestCase
from txcloud.testing.ec2 import FakeEC2
from txcloud.testing.s3 import FakeS3

ROLE = "arn:aws:iam::111111111111:role/reader"
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
]  # fmt: skip

CONFIG = f"""
[default]
region = eu-west-1

[profile prod]
region = ap-south-1
role_arn = {ROLE}
source_profile = base
ca_bundle = ~/ca.pem

[profile base]
aws_access_key_id = {SOURCE.access_key}
aws_secret_access_key = {SOURCE.secret_key}

[profile local]
services = local-services
endpoint_url = http://127.0.0.1:9000

[services local-services]
ec2 =
  endpoint_url = http://127.0.0.1:5000
"""


class RegionAndEndpointTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write(".aws/config", CONFIG)

    def ec2(self, environ: dict[str, str] | None = None, **kwargs: Any) -> EC2NodeDriver:
        return EC2NodeDriver(
            "AKIDEXAMPLE",
            "secret",
            reactor=self.clock,
            ex_environ=self.env(**(environ or {})),
            **kwargs,
        )

    def test_the_region_follows_the_sdks_order(self) -> None:
        self.assertEqual(
            self.ec2(region="sa-east-1", environ={"AWS_REGION": "eu-west-2"}).region, "sa-east-1"
        )
        self.assertEqual(
            self.ec2(environ={"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "eu-west-3"}).region,
            "eu-west-2",
        )
        self.assertEqual(self.ec2(environ={"AWS_DEFAULT_REGION": "eu-west-3"}).region, "eu-west-3")
        self.assertEqual(self.ec2().region, "eu-west-1")
        self.assertEqual(self.ec2(ex_profile="prod").region, "ap-south-1")
        self.assertEqual(self.ec2(environ={"AWS_PROFILE": "prod"}).region, "ap-south-1")
        self.assertEqual(self.ec2(ex_profile="base").region, "us-east-1")

    def test_a_bad_region_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.ec2(environ={"AWS_REGION": "Mars"})

    def test_endpoints_follow_the_sdks_order(self) -> None:
        both = {
            "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:4566",
            "AWS_ENDPOINT_URL": "https://aws.internal:8443",
        }
        self.assertEqual(self.ec2(environ=both).endpoint, "http://127.0.0.1:4566")
        self.assertEqual(
            self.ec2(environ={"AWS_ENDPOINT_URL": "https://aws.internal:8443"}).endpoint,
            "https://aws.internal:8443",
        )
        self.assertEqual(self.ec2(ex_profile="local").endpoint, "http://127.0.0.1:5000")
        s3 = S3StorageDriver(
            "AKID", "s", reactor=self.clock, ex_profile="local", ex_environ=self.env()
        )
        self.assertEqual(s3.endpoint, "http://127.0.0.1:9000")
        ecs = ElasticContainerDriver(
            "AKID",
            "s",
            reactor=self.clock,
            ex_environ=self.env(AWS_ENDPOINT_URL_ECS="http://127.0.0.1:7000"),
        )
        self.assertEqual(ecs.endpoint, "http://127.0.0.1:7000")
        self.assertEqual(self.ec2().endpoint, "https://ec2.eu-west-1.amazonaws.com")

    def test_host_and_port_win_and_configured_urls_can_be_ignored(self) -> None:
        configured = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
        self.assertEqual(
            self.ec2(host="10.1.1.1", port=8080, secure=False, environ=configured).endpoint,
            "http://10.1.1.1:8080",
        )
        ignored = {**configured, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
        self.assertEqual(self.ec2(environ=ignored).endpoint, "https://ec2.eu-west-1.amazonaws.com")

    def test_a_bad_endpoint_url_is_refused(self) -> None:
        for url in ("127.0.0.1:4566", "ftp://h", "http://h/path"):
            with self.assertRaises(InvalidArgumentError):
                self.ec2(environ={"AWS_ENDPOINT_URL": url})

    def test_the_ca_bundle_is_the_trust_store(self) -> None:
        driver = self.ec2(environ={"AWS_CA_BUNDLE": "/etc/corp-ca.pem"})
        self.assertEqual(driver._tls.ca_file, "/etc/corp-ca.pem")  # type: ignore[union-attr]
        with open(certifi.where(), encoding="ascii") as bundle:
            self.write("ca.pem", bundle.read())
        from_profile = EC2NodeDriver(reactor=self.clock, ex_profile="prod", ex_environ=self.env())
        self.assertEqual(from_profile._tls.ca_file, self.home + "/ca.pem")  # type: ignore[union-attr]
        explicit = self.ec2(ex_ca_file="/mine.pem", environ={"AWS_CA_BUNDLE": "/etc/corp-ca.pem"})
        self.assertEqual(explicit._tls.ca_file, "/mine.pem")  # type: ignore[union-attr]

    def test_google_xml_ignores_aws_endpoints(self) -> None:
        driver = GoogleStorageXMLDriver(
            "GOOGKEY",
            "secret",
            reactor=self.clock,
            ex_environ=self.env(AWS_ENDPOINT_URL_S3="http://127.0.0.1:1"),
        )
        self.assertEqual(driver.endpoint, "https://storage.googleapis.com")


class CredentialTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write(".aws/config", CONFIG)
        self.ec2 = FakeEC2(clock=self.clock, access_keys=[])
        self.ec2.sts.add_role(ROLE, trusted_keys=[SOURCE.access_key])

    def test_sixteen_regional_drivers_of_one_role_assume_it_once(self) -> None:
        role = AssumeRole(ROLE, SOURCE, sts=self.ec2.sts.settings(), reactor=self.clock)
        drivers = self.ec2.drivers(REGIONS, ex_credentials=role)
        self.ec2.add_instance("web", region="eu-west-1")
        result = self.successResultOf(multi.list_nodes(drivers, concurrency=16))
        self.assertTrue(result.ok)
        self.assertEqual(self.ec2.sts.calls, [("AssumeRole", ROLE)])
        self.assertEqual(len({d.credentials_provider for d in drivers}), 1)

    def test_drivers_built_one_by_one_from_a_profile_share_its_role(self) -> None:
        environ = self.env()
        agent = self.ec2.agent()
        drivers = [
            EC2NodeDriver(
                region=region,
                reactor=self.clock,
                ex_profile="prod",
                ex_environ=environ,
                ex_agent=agent,
            )
            for region in REGIONS
        ]
        self.assertTrue(self.successResultOf(multi.list_nodes(drivers)).ok)
        self.assertEqual(self.ec2.sts.calls, [("AssumeRole", ROLE)])

    def test_a_role_that_cannot_be_assumed_fails_only_its_target(self) -> None:
        good = AssumeRole(ROLE, SOURCE, sts=self.ec2.sts.settings(), reactor=self.clock)
        refused = AssumeRole(
            "arn:aws:iam::999999999999:role/missing",
            StaticCredentials(SOURCE, "profile 'base'"),
            sts=self.ec2.sts.settings(),
            reactor=self.clock,
        )
        drivers = [
            self.ec2.driver("eu-west-1", ex_credentials=good),
            self.ec2.driver("eu-west-1", ex_credentials=refused),
        ]
        result = self.successResultOf(multi.list_nodes(drivers))
        self.assertEqual(list(result.results), [drivers[0]])
        error = result.failures[drivers[1]].value
        self.assertIsInstance(error, InvalidCredsError)
        self.assertIn("arn:aws:iam::999999999999:role/missing", str(error))
        self.assertIn("profile 'base'", str(error))
        # Nothing reached EC2 for the refused target.
        self.assertEqual(
            len([r for r in self.ec2.received if "DescribeInstances" in r.body.decode()]), 1
        )

    def test_expired_sessions_are_assumed_again(self) -> None:
        role = AssumeRole(
            ROLE, SOURCE, duration_seconds=900, sts=self.ec2.sts.settings(), reactor=self.clock
        )
        driver = self.ec2.driver("eu-west-1", ex_credentials=role)
        self.successResultOf(driver.list_nodes())
        self.clock.advance(3 * 3600)
        self.successResultOf(driver.list_nodes())
        self.assertEqual(len(self.ec2.sts.calls), 2)

    def test_a_session_refused_as_expired_is_forgotten(self) -> None:
        role = AssumeRole(ROLE, SOURCE, sts=self.ec2.sts.settings(), reactor=self.clock)
        driver = self.ec2.driver("eu-west-1", ex_credentials=role)
        self.successResultOf(driver.list_nodes())
        self.ec2.fail("RequestExpired", message="Request has expired.")
        self.failureResultOf(driver.list_nodes())
        self.assertIsNone(role.fresh())
        self.successResultOf(driver.list_nodes())
        self.assertEqual(len(self.ec2.sts.calls), 2)

    def test_keys_and_a_provider_together_are_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            EC2NodeDriver(
                "AKID", "s", reactor=self.clock, ex_credentials=SOURCE, ex_environ=self.env()
            )

    def test_a_broken_profile_fails_the_driver_before_any_request(self) -> None:
        self.write(".aws/config", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n")
        with self.assertRaises(InvalidCredsError):
            EC2NodeDriver(reactor=self.clock, ex_profile="a", ex_environ=self.env())

    def test_drivers_for_regions_share_one_provider(self) -> None:
        drivers = drivers_for_regions(
            regions=REGIONS[:3],
            reactor=self.clock,
            ex_profile="prod",
            ex_environ=self.env(),
            ex_agent=self.ec2.agent(),
        )
        self.assertEqual(len({id(d.credentials_provider) for d in drivers}), 1)
        self.assertIsNone(drivers[0].credentials)


class PresignTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.s3 = FakeS3(clock=self.clock, access_keys=[])
        self.s3.sts.add_role(ROLE)

    def test_fixed_keys_presign_at_once(self) -> None:
        driver = S3StorageDriver("AKIDEXAMPLE", "secret", reactor=self.clock, ex_environ=self.env())
        self.assertIn("X-Amz-Credential=AKIDEXAMPLE", driver.ex_presigned_url(("photos", "k")))

    def test_temporary_credentials_presign_once_fetched(self) -> None:
        role = AssumeRole(ROLE, SOURCE, sts=self.s3.sts.settings(), reactor=self.clock)
        driver = self.s3.driver(ex_credentials=role)
        with self.assertRaises(InvalidCredsError):
            driver.ex_presigned_url(("photos", "k"))
        url = self.successResultOf(driver.ex_presign(("photos", "k")))
        self.assertIn("X-Amz-Security-Token=", url)
        self.assertIn("X-Amz-Credential=ASIAFAKE", url)
        self.assertEqual(driver.ex_presigned_url(("photos", "k")), url)
        with self.assertRaises(InvalidArgumentError):
            driver.ex_presign(("photos", "k"), method="POST")

    def test_a_role_session_lists_buckets(self) -> None:
        self.s3.add_bucket("photos")
        role = AssumeRole(ROLE, SOURCE, sts=self.s3.sts.settings(), reactor=self.clock)
        driver = self.s3.driver(ex_credentials=role)
        self.assertEqual(
            [c.name for c in self.successResultOf(driver.list_containers())], ["photos"]
        )
        self.assertEqual(driver.credentials, role.fresh())
        self.assertEqual(driver.credentials_provider, role)
        self.assertIsInstance(driver.credentials, AWSCredentials)


class AccountsTests(HomeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write(".aws/config", CONFIG)
        self.ec2 = FakeEC2(clock=self.clock, access_keys=[])
        self.arns = role_arns("reader", ["111111111111", "222222222222", "333333333333"])
        for arn in self.arns[:2]:
            self.ec2.sts.add_role(arn, trusted_keys=[SOURCE.access_key], external_id="tenant-42")
        self.ec2.sts.add_role(ROLE, trusted_keys=[SOURCE.access_key])

    def test_roles_in_accounts_and_regions_assume_each_role_once(self) -> None:
        targets = drivers_for_accounts(
            EC2NodeDriver,
            REGIONS[:4],
            roles=self.arns,
            profiles=["prod"],
            source=SOURCE,
            external_id="tenant-42",
            sts=self.ec2.sts.settings(),
            reactor=self.clock,
            environ=self.env(),
            ex_agent=self.ec2.agent(),
        )
        self.assertEqual(len(targets.drivers), 16)
        result = self.successResultOf(multi.list_nodes(targets.drivers.values()))
        failed = {targets.target_of(driver) for driver in result.failures}
        self.assertEqual(failed, {(self.arns[2], region) for region in REGIONS[:4]})
        self.assertEqual(len(result.results), 12)
        assumed = [arn for _, arn in self.ec2.sts.calls]
        # Each account assumes its role once for its four regions (the
        # profile "prod" assumes the first ARN too, without an external id);
        # the refused role is tried again by each of its drivers.
        self.assertEqual(assumed.count(self.arns[0]), 2)
        self.assertEqual(assumed.count(self.arns[1]), 1)
        self.assertEqual(targets.drivers[("prod", "us-east-1")].region, "us-east-1")
        self.successResultOf(targets.close())

    def test_bad_targets_are_refused(self) -> None:
        cases: list[dict[str, Any]] = [{"regions": []}, {"roles": []}, {"roles": [ROLE, ROLE]}]
        for arguments in cases:
            with self.assertRaises(InvalidArgumentError):
                drivers_for_accounts(
                    EC2NodeDriver,
                    **{"regions": REGIONS[:1], "roles": [ROLE], **arguments},
                )
        with self.assertRaises(InvalidArgumentError):
            role_arns("reader", ["12345"])
