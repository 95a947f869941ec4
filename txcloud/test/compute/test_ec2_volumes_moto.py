"""
EBS volumes, snapshots and AMIs against moto server, in two regions
(us-east-1 and eu-west-1) whose resources must stay apart.
"""

from __future__ import annotations

from twisted.internet.task import Clock

from txcloud.compute.base import StorageVolume
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import ImageNotFoundError, InvalidArgumentError, RequestTimeoutError
from txcloud.test.compute.test_ec2_moto import EAST, WEST, MotoEC2TestCase


class VolumeTests(MotoEC2TestCase):
    async def volume(self, driver: EC2NodeDriver, name: str, **kwargs: object) -> StorageVolume:
        [zone, *_] = await driver.list_locations()
        return await driver.create_volume(10, name, location=zone, **kwargs)  # type: ignore[arg-type]

    async def test_create_list_and_destroy_a_volume(self) -> None:
        volume = await self.volume(self.east, "data-1", ex_volume_type="gp3", ex_iops=3000)
        self.assertEqual((volume.name, volume.size), ("data-1", 10))
        self.assertIn(volume.state, (StorageVolumeState.CREATING, StorageVolumeState.AVAILABLE))
        self.assertEqual(volume.extra["volume_type"], "gp3")
        self.assertEqual(volume.extra["availability_zone"], f"{EAST}a")

        ready = await self.east.wait_until_volume(volume, wait_period=0.1, timeout=10)
        self.assertEqual(ready.state, StorageVolumeState.AVAILABLE)
        [listed] = [v for v in await self.east.list_volumes() if v.id == volume.id]
        self.assertEqual(
            (listed.name, listed.size, listed.extra["tags"]), ("data-1", 10, {"Name": "data-1"})
        )
        self.assertEqual(listed.extra["iops"], 3000)
        self.assertIsNotNone(listed.extra["create_time"])

        self.assertIs(await volume.destroy(), True)
        self.assertNotIn(volume.id, [v.id for v in await self.east.list_volumes()])

    async def test_encrypted_volume_keeps_its_key(self) -> None:
        volume = await self.volume(
            self.east, "secret", ex_encrypted=True, ex_kms_key_id="alias/aws/ebs"
        )
        [listed] = [v for v in await self.east.list_volumes() if v.id == volume.id]
        self.assertIs(listed.extra["encrypted"], True)

    async def test_attach_and_detach_to_a_node(self) -> None:
        [zone, *_] = await self.east.list_locations()
        node = await self.launch(self.east, "db-1", location=zone)
        volume = await self.east.create_volume(8, "db-data", location=zone)
        self.assertIs(await self.east.attach_volume(node, volume, device="/dev/sdf"), True)
        attached = await self.east.wait_until_volume(
            volume, StorageVolumeState.INUSE, wait_period=0.1, timeout=10
        )
        self.assertEqual(
            (attached.extra["instance_id"], attached.extra["device"]), (node.id, "/dev/sdf")
        )
        # The node's root volume is listed beside it.
        self.assertIn(volume.id, [v.id for v in await self.east.list_volumes(node=node)])

        self.assertIs(await attached.detach(), True)
        detached = await self.east.wait_until_volume(volume, wait_period=0.1, timeout=10)
        self.assertNotIn("instance_id", detached.extra)
        self.assertNotIn(volume.id, [v.id for v in await self.east.list_volumes(node=node)])

    async def test_snapshots_of_a_volume_and_a_volume_from_one(self) -> None:
        volume = await self.volume(self.west, "logs")
        snapshot = await self.west.create_volume_snapshot(volume, name="logs-monday")
        self.assertEqual((snapshot.name, snapshot.size), ("logs-monday", 10))
        self.assertEqual(snapshot.extra["volume_id"], volume.id)
        done = await self.west.wait_until_snapshot(snapshot, wait_period=0.1, timeout=10)
        self.assertEqual(done.state, VolumeSnapshotState.AVAILABLE)
        self.assertIsNotNone(done.created)

        [of_volume] = await volume.list_snapshots()
        self.assertEqual((of_volume.id, of_volume.name), (snapshot.id, "logs-monday"))
        owned = await self.west.list_snapshots(owner="self")
        self.assertIn(snapshot.id, [s.id for s in owned])
        [by_id] = await self.west.list_snapshots(snapshot=snapshot)
        self.assertEqual(by_id.extra["tags"], {"Name": "logs-monday"})

        [zone, *_] = await self.west.list_locations()
        restored = await self.west.create_volume(12, "restored", location=zone, snapshot=snapshot)
        self.assertEqual(restored.extra["snapshot_id"], snapshot.id)

        self.assertIs(await snapshot.destroy(), True)
        self.assertEqual(await volume.list_snapshots(), [])

    async def test_volumes_and_snapshots_stay_in_their_region(self) -> None:
        east = await self.volume(self.east, "east-only")
        west = await self.volume(self.west, "west-only")
        await self.east.create_volume_snapshot(east, name="east-snap")
        self.assertEqual([v.id for v in await self.east.list_volumes()], [east.id])
        self.assertEqual([v.id for v in await self.west.list_volumes()], [west.id])
        self.assertEqual(await self.west.list_volume_snapshots(west), [])
        # moto's own AMIs come with snapshots: look for named ones only.
        named = [s.name for s in await self.east.list_snapshots(owner="self") if s.name]
        self.assertEqual(named, ["east-snap"])
        self.assertEqual([s for s in await self.west.list_snapshots(owner="self") if s.name], [])

    async def test_waiting_for_a_state_that_never_comes_times_out(self) -> None:
        volume = await self.volume(self.east, "stays-available")
        error = await self.assertFailure(
            self.east.wait_until_volume(
                volume, StorageVolumeState.INUSE, wait_period=0.05, timeout=0.2
            ),
            RequestTimeoutError,
        )
        self.assertIn(volume.id, str(error))


class VolumeArgumentTests(MotoEC2TestCase):
    """Bad arguments are refused before any request (no moto answer needed)."""

    async def test_bad_sizes_devices_and_options(self) -> None:
        [zone, *_] = await self.east.list_locations()
        for size in (0, -1, 1.5, "10", True, None):
            self.assertRaises(InvalidArgumentError, self.east.create_volume, size, "v", zone)
        self.assertRaises(InvalidArgumentError, self.east.create_volume, 10, "v")
        self.assertRaises(
            InvalidArgumentError, self.east.create_volume, 10, "v", zone, ex_volume_type="ssd"
        )
        self.assertRaises(InvalidArgumentError, self.east.create_volume, 10, "v", zone, ex_iops=100)
        self.assertRaises(
            InvalidArgumentError, self.east.create_volume, 10, "v", zone, ex_kms_key_id="k"
        )
        volume = await self.east.create_volume(1, "v", zone)
        node = await self.launch(self.east, "n", location=zone)
        for device in (None, "sdf", "/dev/nvme1n1", "/dev/sd", "/dev/sdf/../x", 5):
            self.assertRaises(InvalidArgumentError, self.east.attach_volume, node, volume, device)


class ImageTests(MotoEC2TestCase):
    async def test_create_get_copy_and_delete_an_image(self) -> None:
        node = await self.launch(self.east, "golden")
        image = await self.east.create_image(node, "golden-image", description="built by test")
        self.assertEqual(image.name, "golden-image")
        self.assertEqual(image.extra["description"], "built by test")
        fetched = await self.east.get_image(image.id)
        self.assertEqual((fetched.id, fetched.name), (image.id, "golden-image"))

        copy = await self.west.copy_image(image, EAST, name="golden-copy", description="in west")
        self.assertNotEqual(copy.id, image.id)
        self.assertEqual(copy.name, "golden-copy")
        self.assertEqual((await self.west.get_image(copy.id)).extra["description"], "in west")
        await self.assertFailure(self.east.get_image(copy.id), ImageNotFoundError)

        self.assertIs(await self.east.delete_image(image), True)
        await self.assertFailure(self.east.get_image(image.id), ImageNotFoundError)
        self.assertEqual((await self.west.get_image(copy.id)).id, copy.id)

    async def test_copy_image_takes_libcloud_ec2_keywords(self) -> None:
        node = await self.launch(self.west, "source")
        image = await self.west.create_image(node, "source-image")
        copy = await self.east.copy_image(image=image.id, source_region=WEST)
        self.assertEqual((await self.east.get_image(copy.id)).id, copy.id)
        self.assertEqual((await self.only(self.west, node)).state, NodeState.RUNNING)


class WaitClockTests(MotoEC2TestCase):
    """wait_until_volume takes its time from the driver's reactor."""

    def test_bad_periods_are_refused(self) -> None:
        driver = EC2NodeDriver("k", "s", region=EAST, reactor=Clock())
        volume = StorageVolume("vol-1", "v", 1, driver)
        self.assertRaises(InvalidArgumentError, driver.wait_until_volume, volume, wait_period=0)
