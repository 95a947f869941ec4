"""
Block storage with no cloud and no credentials: a DigitalOcean driver in
front of the in-memory fake of its API (txcloud.testing.digitalocean).
"""

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver
from txcloud.compute.types import StorageVolumeState
from txcloud.testing.digitalocean import FakeDigitalOcean


async def main(reactor: object) -> None:
    fake = FakeDigitalOcean(clock=reactor)
    fake.add_droplet("web-1", region="fra1")
    driver = DigitalOceanNodeDriver(fake.token, reactor=reactor, ex_agent=fake.agent())

    [web] = await driver.list_nodes()
    [fra1] = [location for location in await driver.list_locations() if location.id == "fra1"]

    # Create a volume, attach it, and wait until the provider says it is in use.
    volume = await driver.create_volume(20, "app-data", location=fra1)
    await driver.attach_volume(web, volume)
    volume = await driver.wait_until_volume(volume, StorageVolumeState.INUSE, wait_period=1)
    print(volume.name, volume.size, volume.state, volume.extra["droplet_ids"] == [int(web.id)])

    # Snapshot it, then make a second volume from the snapshot.
    snapshot = await volume.snapshot("app-data-monday")
    copy = await driver.create_volume(20, "app-data-copy", snapshot=snapshot)
    print(snapshot.name, "->", copy.name, copy.extra["region_id"])

    # Detach, and clean up.
    await volume.detach()
    await driver.wait_until_volume(volume, wait_period=1)
    for doomed in (snapshot, copy, volume):
        await doomed.destroy()
    print("volumes left:", len(await driver.list_volumes()))


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor)))
