"""List the nodes of several regions at once, keeping each region's failure apart."""

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud import multi
from txcloud.compute.providers import get_driver
from txcloud.compute.types import Provider


async def main(reactor: object) -> None:
    cls = get_driver(Provider.DUMMY)
    drivers = [cls("key", region=region, reactor=reactor) for region in ("eu-1", "us-1")]
    outcome = await multi.list_nodes(drivers, concurrency=10, timeout=30)
    for driver, nodes in outcome.results.items():
        print(driver.region, [node.name for node in nodes])
    for driver, failure in outcome.failures.items():
        print(driver.region, "failed:", failure.value)


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor)))
