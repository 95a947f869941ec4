"""
AWS targets in the configuration: profiles, roles, and one role in many
accounts; the drivers built from them against the EC2 fake (which accepts
only role sessions here, so every success proves a role was used), and the
inventory service renewing role credentials across many expiries on a Clock.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.config import Config, parse_config
from txcloud.errors import ConfigError, InvalidCredsError
from txcloud.service.refresher import Refresher
from txcloud.testing.ec2 import DEFAULT_KEY, DEFAULT_SECRET, FakeEC2

ROLE = "arn:aws:iam::111111111111:role/inventory-reader"
ACCOUNTS = ("111111111111", "222222222222")
EXTERNAL_ID = "tenant-42-external-id"


def entry(**keys: Any) -> str:
    """A ``[[compute]]`` ec2 entry of the source's keys with *keys*."""
    lines = [
        "[[compute]]",
        'name = "fleet"',
        'provider = "ec2"',
        'regions = ["eu-west-1", "us-east-1"]',
        f'key = "{DEFAULT_KEY}"',
        f'secret = "{DEFAULT_SECRET}"',
    ]
    for name, value in keys.items():
        rendered = f'"{value}"' if isinstance(value, str) else repr(value).replace("'", '"')
        lines.append(f"{name} = {rendered}")
    return "\n".join(lines) + "\n"


class ParsingTests(SynchronousTestCase):
    def parse(self, text: str, **environ: str) -> Config:
        return parse_config(text, "fleet.toml", {"HOME": self.mktemp(), **environ})

    def refused(self, text: str, **environ: str) -> str:
        with self.assertRaises(ConfigError) as caught:
            self.parse(text, **environ)
        return str(caught.exception)

    def test_accounts_give_one_target_per_account_and_region(self) -> None:
        config = self.parse(entry(accounts=list(ACCOUNTS), role_name="inventory-reader"))
        self.assertEqual(
            [target.label for target in config.targets],
            [
                "fleet.111111111111@eu-west-1",
                "fleet.111111111111@us-east-1",
                "fleet.222222222222@eu-west-1",
                "fleet.222222222222@us-east-1",
            ],
        )
        self.assertEqual(len(config.select(name="fleet")), 4)
        self.assertEqual(len(config.select(name="fleet.222222222222@us-east-1")), 1)

    def test_a_role_arn_keeps_one_target_per_region(self) -> None:
        config = self.parse(entry(role_arn=ROLE))
        self.assertEqual(
            [target.label for target in config.targets], ["fleet@eu-west-1", "fleet@us-east-1"]
        )

    def test_refused_settings_name_the_key_and_never_the_external_id(self) -> None:
        for keys, wanted in (
            ({"role_arn": "arn:aws:iam::1:user/x"}, "not an IAM role ARN"),
            ({"accounts": ["111"], "role_name": "r"}, "twelve digits"),
            ({"accounts": [], "role_name": "r"}, "each once"),
            ({"accounts": list(ACCOUNTS) * 2, "role_name": "r"}, "each once"),
            ({"accounts": list(ACCOUNTS)}, "together"),
            ({"role_name": "r"}, "together"),
            ({"role_arn": ROLE, "accounts": list(ACCOUNTS), "role_name": "r"}, "not both"),
            ({"external_id": EXTERNAL_ID}, "needs 'role_arn'"),
            ({"duration_seconds": 3600}, "needs 'role_arn'"),
            ({"role_arn": ROLE, "duration_seconds": 60}, "900 to 43200"),
        ):
            with self.subTest(keys=keys):
                message = self.refused(entry(**keys))
                self.assertIn(wanted, message)
                self.assertIn("fleet.toml", message)
                self.assertNotIn(EXTERNAL_ID, message)

    def test_aws_keys_are_refused_on_other_providers(self) -> None:
        message = self.refused('[[compute]]\nname = "d"\nprovider = "dummy"\nprofile = "ops"\n')
        self.assertIn("only for ec2, s3 and ecs targets", message)

    def test_the_external_id_may_come_from_the_environment(self) -> None:
        config = self.parse(
            entry(role_arn=ROLE, external_id_env="FLEET_EXTERNAL_ID"),
            FLEET_EXTERNAL_ID=EXTERNAL_ID,
        )
        self.assertNotIn(EXTERNAL_ID, repr(config))


class DriverTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        # Only role sessions are accepted: the source's own key is not.
        self.fake = FakeEC2(clock=self.clock, access_keys=[])
        for account in ACCOUNTS:
            self.fake.sts.add_role(
                f"arn:aws:iam::{account}:role/inventory-reader",
                trusted_keys=[DEFAULT_KEY],
                external_id=EXTERNAL_ID,
            )
            self.fake.add_instance("web", region="eu-west-1")

    def config(self, text: str) -> Config:
        environ = {"HOME": self.mktemp(), "FLEET_EXTERNAL_ID": EXTERNAL_ID}
        return parse_config(text, "fleet.toml", environ)

    def drivers(self, config: Config) -> list[Any]:
        # One agent, as one process has one network: equal roles are then shared.
        agent = self.fake.agent()
        built = [
            config.build_driver(target, self.clock, ex_agent=agent) for target in config.targets
        ]
        for driver in built:
            self.addCleanup(driver.close)
        return built

    def test_each_account_is_assumed_once_for_all_its_regions(self) -> None:
        config = self.config(
            entry(
                accounts=list(ACCOUNTS),
                role_name="inventory-reader",
                external_id_env="FLEET_EXTERNAL_ID",
            )
        )
        drivers = self.drivers(config)
        for driver in drivers:
            self.successResultOf(driver.list_nodes())
        self.assertEqual(
            sorted(self.fake.sts.calls),
            [
                ("AssumeRole", f"arn:aws:iam::{account}:role/inventory-reader")
                for account in ACCOUNTS
            ],
        )
        providers = [driver.credentials_provider for driver in drivers]
        self.assertIs(providers[0], providers[1])
        self.assertIsNot(providers[0], providers[2])

    def test_a_wrong_external_id_fails_the_target_naming_the_role(self) -> None:
        config = parse_config(
            entry(role_arn=ROLE, external_id="not-the-one"),
            "fleet.toml",
            {"HOME": self.mktemp()},
        )
        driver = self.drivers(config)[0]
        error = self.failureResultOf(driver.list_nodes(), InvalidCredsError).value
        self.assertIn(ROLE, str(error))
        self.assertNotIn("not-the-one", str(error))


class ServiceTests(SynchronousTestCase):
    def test_the_service_renews_role_credentials_across_many_expiries(self) -> None:
        clock = Clock()
        fake = FakeEC2(clock=clock, access_keys=[])
        fake.sts.add_role(ROLE, trusted_keys=[DEFAULT_KEY])
        fake.add_instance("web", region="eu-west-1")
        config = parse_config(
            entry(role_arn=ROLE, duration_seconds=900), "fleet.toml", {"HOME": self.mktemp()}
        )
        agent = fake.agent()
        refresher = Refresher(
            config, 300.0, clock, lambda target: config.build_driver(target, clock, ex_agent=agent)
        )
        refresher.startService()
        self.addCleanup(lambda: refresher.running and refresher.stopService())
        # Eight hours of refreshes every five minutes, with sessions of 15 minutes.
        for _ in range(96):
            clock.advance(300)
            for status in refresher.snapshot().targets:
                self.assertIsNone(status.error, status.target.label)
                self.assertEqual(status.fetched_at, clock.seconds())
        eu = next(s for s in refresher.snapshot().targets if s.target.region == "eu-west-1")
        self.assertEqual(len(eu.items), 1)
        # Both regions share one session at a time: at most one call per five minutes.
        assumed = len(fake.sts.calls)
        self.assertGreaterEqual(assumed, 8 * 4)
        self.assertLessEqual(assumed, 97)
