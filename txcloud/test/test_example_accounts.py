"""
``docs/examples/inventory_across_accounts.py`` against moto server with IAM
authentication on: the credentials that run it may only assume roles, so
every node it lists was read through a role, one ``AssumeRole`` per account.
"""

from __future__ import annotations

import os
import sys

from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from txcloud.test.auth._moto_iam import MotoIAM, allow, deny, policy
from txcloud.test.emulators import iam_moto, reactor

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_EXAMPLE = os.path.join(_ROOT, "docs", "examples", "inventory_across_accounts.py")

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
#: Nodes run in each account, by region.
NODES = {"eu-west-1": (1, 0, 2), "us-east-1": (2, 1, 0)}

# The identity running the example may assume roles and nothing else.
SOURCE_POLICY = policy(allow(["sts:AssumeRole"]), deny(["ec2:*"]))


class InventoryAcrossAccountsTests(TestCase):
    async def set_up(self) -> None:
        await iam_moto.ensure_started()
        self.moto = MotoIAM(iam_moto.url)
        await self.moto.reset()
        source = await self.moto.user("inventory", SOURCE_POLICY)
        for account in ACCOUNTS:
            await self.moto.role(account, "inventory-reader")
        for region, counts in NODES.items():
            for account, count in zip(ACCOUNTS, counts, strict=True):
                if count:
                    await self.moto.instances(account, count, region)
        await self.moto.unauthenticated("0")
        self.home = self.mktemp()
        os.makedirs(os.path.join(self.home, ".aws"))
        with open(os.path.join(self.home, ".aws", "credentials"), "w") as credentials:
            credentials.write(
                f"[default]\naws_access_key_id = {source.access_key}\n"
                f"aws_secret_access_key = {source.secret_key}\n"
            )

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self.set_up())

    async def test_every_account_and_region_is_listed_through_one_role_each(self) -> None:
        environ = {
            "HOME": self.home,
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": _ROOT,
            "AWS_ENDPOINT_URL": iam_moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            [_EXAMPLE, "inventory-reader", *ACCOUNTS],
            env=environ,
            reactor=reactor,
        )
        self.assertEqual(code, 0, err.decode())
        expected = sorted(
            f"{account} {region} {count} nodes"
            for region, counts in NODES.items()
            for account, count in zip(ACCOUNTS, counts, strict=True)
        )
        self.assertEqual(out.decode().splitlines(), expected)
        assumed = await self.moto.assumed_roles()
        self.assertEqual(
            sorted(assumed), [f"arn:aws:iam::{a}:role/inventory-reader" for a in ACCOUNTS]
        )
