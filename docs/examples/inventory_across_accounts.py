"""
An inventory of EC2 nodes across accounts and regions, through one role
in each account: the credentials that run it (a profile, instance or pod
credentials: whatever the AWS CLI would use) assume ``inventory-reader``
in every account once, however many regions it spans.

Usage: ``python inventory_across_accounts.py ROLE_NAME ACCOUNT_ID...``
"""

import sys

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud import multi
from txcloud.compute.drivers.ec2 import EC2NodeDriver

REGIONS = ["eu-west-1", "us-east-1"]


async def main(reactor, role_name, accounts):
    targets = multi.drivers_for_accounts(
        EC2NodeDriver,
        REGIONS,
        roles=multi.role_arns(role_name, accounts),
        reactor=reactor,
    )
    try:
        outcome = await multi.list_nodes(targets.drivers.values(), concurrency=32, timeout=60)
    finally:
        await targets.close()
    for driver, nodes in sorted(outcome.results.items(), key=lambda i: targets.target_of(i[0])):
        role, region = targets.target_of(driver)
        account = role.split(":")[4]
        print(account, region, len(nodes), "nodes")
    for driver, failure in outcome.failures.items():
        role, region = targets.target_of(driver)
        print(role.split(":")[4], region, "failed:", type(failure.value).__name__)


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor, sys.argv[1], sys.argv[2:])))
