"""
One ``list_nodes`` across five clouds at once: EC2, Google Compute Engine,
Azure, OpenStack and DigitalOcean, where one of them fails and the others'
nodes are kept.

The clouds here are txcloud's fakes (``txcloud.testing``) served to the real
drivers in memory, so the example runs anywhere; with real accounts, build
the drivers with your credentials instead and the rest is unchanged.
"""

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud import multi
from txcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver
from txcloud.compute.drivers.gce import GCENodeDriver
from txcloud.testing.azure_arm import FakeAzureResourceManager
from txcloud.testing.digitalocean import DEFAULT_TOKEN, FakeDigitalOcean
from txcloud.testing.ec2 import FakeEC2
from txcloud.testing.gce import FakeGCE
from txcloud.testing.openstack import FakeOpenStack


def five_clouds(reactor):
    """A driver of each cloud, each with a node or two; OpenStack refuses every call."""
    ec2 = FakeEC2(clock=reactor)
    ec2.add_instance("ec2-web", region="eu-west-1")
    gce = FakeGCE(clock=reactor)
    gce.add_instance("gce-worker", zone="europe-west1-b")
    gce.add_instance("gce-batch", zone="us-central1-a")
    azure = FakeAzureResourceManager(clock=reactor)
    azure.add_vm("azure-api", location="westeurope")
    openstack = FakeOpenStack(clock=reactor)
    openstack.add_server("private-db")
    openstack.fail("compute/*/servers/*", 503, "Nova is down for maintenance", times=None)
    digitalocean = FakeDigitalOcean(clock=reactor)
    digitalocean.add_droplet("do-cache")
    return {
        "ec2": ec2.driver("eu-west-1"),
        "gce": GCENodeDriver(key=gce.key_document(), reactor=reactor, ex_agent=gce.agent()),
        "azure": azure.driver(reactor=reactor),
        "openstack": openstack.driver(reactor=reactor),
        "digitalocean": DigitalOceanNodeDriver(
            DEFAULT_TOKEN, reactor=reactor, ex_agent=digitalocean.agent()
        ),
    }


async def main(reactor):
    drivers = five_clouds(reactor)
    names = {driver: name for name, driver in drivers.items()}
    outcome = await multi.list_nodes(drivers.values(), concurrency=5, timeout=30)
    for driver, nodes in sorted(outcome.results.items(), key=lambda item: names[item[0]]):
        print(names[driver], sorted(node.name for node in nodes))
    for driver, failure in outcome.failures.items():
        print(names[driver], "failed:", type(failure.value).__name__)
    for driver in drivers.values():
        await driver.close()


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor)))
