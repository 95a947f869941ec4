"""
DigitalOcean volumes and snapshots: against recorded answers (written from
the API reference's examples, in our own words) and against the fake
(txcloud.testing.digitalocean) on a Clock.
"""

from __future__ import annotations

import json
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.base import Node, NodeLocation, StorageVolume
from txcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import RequestTimeoutError, VolumeNotFoundError
from txcloud.test.compute.test_digitalocean import TOKEN, DigitalOceanTestCase
from txcloud.test.http._support import ScriptedResource

#: A volume as GET /v2/volumes/{id} shows it, attached to one droplet.
VOLUME: dict[str, Any] = {
    "id": "7724db7c-e098-11e5-b522-000f53304e51",
    "region": {
        "name": "Frankfurt 1",
        "slug": "fra1",
        "sizes": ["s-1vcpu-1gb"],
        "features": ["private_networking", "backups"],
        "available": True,
    },
    "droplet_ids": [3164494],
    "name": "app-data",
    "description": "Data of the app servers",
    "size_gigabytes": 100,
    "created_at": "2024-03-02T17:00:49Z",
    "filesystem_type": "ext4",
    "filesystem_label": "appdata",
    "tags": ["aninterestingtag"],
}

#: A volume snapshot as GET /v2/volumes/{id}/snapshots lists it.
SNAPSHOT: dict[str, Any] = {
    "id": "8eb4d51a-873f-11e6-96bf-000f53315a41",
    "name": "app-data-monday",
    "regions": ["fra1"],
    "created_at": "2024-03-04T09:12:00Z",
    "resource_id": "7724db7c-e098-11e5-b522-000f53304e51",
    "resource_type": "volume",
    "min_disk_size": 100,
    "size_gigabytes": 2.25,
    "tags": ["weekly"],
}


def page(key: str, items: list[Any]) -> tuple[int, dict[str, str], bytes]:
    document = {key: items, "links": {}, "meta": {"total": len(items)}}
    return 200, {"content-type": "application/json"}, json.dumps(document).encode()


class RecordedAnswerTests(SynchronousTestCase):
    """The driver reads the API's documented shapes into Libcloud's models."""

    def driver(self, *answers: Any) -> tuple[DigitalOceanNodeDriver, ScriptedResource]:
        server = ScriptedResource(*answers)
        driver = DigitalOceanNodeDriver(
            TOKEN, reactor=Clock(), ex_agent=RequestTraversalAgent(server)
        )
        return driver, server

    def test_a_volume_has_libclouds_fields_and_extra(self) -> None:
        driver, server = self.driver(page("volumes", [VOLUME]))
        [volume] = self.successResultOf(driver.list_volumes())
        self.assertEqual(
            (volume.id, volume.name, volume.size, volume.state),
            (VOLUME["id"], "app-data", 100, StorageVolumeState.INUSE),
        )
        self.assertEqual(volume.extra["droplet_ids"], [3164494])
        self.assertEqual(volume.extra["region_id"], "fra1")
        self.assertEqual(volume.extra["region"]["name"], "Frankfurt 1")
        self.assertEqual(volume.extra["created_at"], "2024-03-02T17:00:49Z")
        self.assertEqual(volume.extra["filesystem_type"], "ext4")
        self.assertEqual(server.received[0].uri.split("?")[0], "/v2/volumes")

    def test_a_snapshot_has_libclouds_fields_and_extra(self) -> None:
        driver, server = self.driver(page("snapshots", [SNAPSHOT]))
        volume = StorageVolume(VOLUME["id"], "app-data", 100, driver)
        [snapshot] = self.successResultOf(driver.list_volume_snapshots(volume))
        self.assertEqual(
            (snapshot.id, snapshot.name, snapshot.size, snapshot.state),
            (SNAPSHOT["id"], "app-data-monday", 2, VolumeSnapshotState.AVAILABLE),
        )
        self.assertEqual(snapshot.created.isoformat(), "2024-03-04T09:12:00+00:00")  # type: ignore[union-attr]
        self.assertEqual(
            {key: snapshot.extra[key] for key in ("resource_id", "regions", "min_disk_size")},
            {"resource_id": VOLUME["id"], "regions": ["fra1"], "min_disk_size": 100},
        )
        self.assertEqual(
            server.received[0].uri.split("?")[0], f"/v2/volumes/{VOLUME['id']}/snapshots"
        )

    def test_detach_detaches_from_each_droplet_the_volume_is_on_now(self) -> None:
        action = {"action": {"id": 72531856, "status": "in-progress", "type": "detach_volume"}}
        driver, server = self.driver(
            (200, {}, json.dumps({"volume": VOLUME}).encode()),
            (202, {}, json.dumps(action).encode()),
        )
        stale = StorageVolume(VOLUME["id"], "app-data", 100, driver)
        self.assertIs(self.successResultOf(driver.detach_volume(stale)), True)
        self.assertEqual(
            [(r.method, r.uri) for r in server.received],
            [
                ("GET", f"/v2/volumes/{VOLUME['id']}"),
                ("POST", f"/v2/volumes/{VOLUME['id']}/actions"),
            ],
        )
        self.assertEqual(
            json.loads(server.received[1].body),
            {"type": "detach", "droplet_id": 3164494, "region": "fra1"},
        )

    def test_a_missing_volume_is_volume_not_found(self) -> None:
        body = {"id": "not_found", "message": "The resource you were accessing could not be found."}
        driver, _ = self.driver((404, {}, json.dumps(body).encode()))
        volume = StorageVolume("gone", "gone", 1, driver)
        self.failureResultOf(driver.destroy_volume(volume), VolumeNotFoundError)


class FakeVolumeTests(DigitalOceanTestCase):
    """The whole life of a volume against the fake."""

    def setUp(self) -> None:
        super().setUp()
        self.droplet = self.fake.add_droplet("web-1", region="fra1")
        self.web = Node(str(self.droplet.id), "web-1", NodeState.RUNNING, [], [], self.driver)
        self.fra1 = NodeLocation("fra1", "Frankfurt 1", "DE", self.driver)

    def test_create_attach_snapshot_restore_detach_destroy(self) -> None:
        volume = self.successResultOf(
            self.driver.create_volume(
                20, "app-data", location=self.fra1, ex_filesystem_type="ext4", ex_tags=["app"]
            )
        )
        self.assertEqual(
            (volume.name, volume.size, volume.state), ("app-data", 20, StorageVolumeState.AVAILABLE)
        )
        self.assertEqual(json.loads(self.fake.received[-1].body)["region"], "fra1")

        self.assertIs(self.successResultOf(volume.attach(self.web)), True)
        attached = self.successResultOf(
            self.driver.wait_until_volume(volume, StorageVolumeState.INUSE, wait_period=1)
        )
        self.assertEqual(attached.extra["droplet_ids"], [self.droplet.id])

        snapshot = self.successResultOf(volume.snapshot("app-data-monday"))
        self.assertEqual(
            (snapshot.name, snapshot.extra["resource_id"]), ("app-data-monday", volume.id)
        )
        [listed] = self.successResultOf(volume.list_snapshots())
        self.assertEqual(listed.id, snapshot.id)
        self.assertEqual(
            [
                s.id
                for s in self.successResultOf(self.driver.list_snapshots(ex_resource_type="volume"))
            ],
            [snapshot.id],
        )
        restored = self.successResultOf(
            self.driver.create_volume(20, "app-data-copy", snapshot=snapshot)
        )
        self.assertEqual(restored.extra["region_id"], "fra1")

        self.assertIs(self.successResultOf(volume.detach()), True)
        self.assertEqual(
            self.successResultOf(self.driver.wait_until_volume(volume)).state,
            StorageVolumeState.AVAILABLE,
        )
        self.assertIs(self.successResultOf(snapshot.destroy()), True)
        self.assertIs(self.successResultOf(volume.destroy()), True)
        self.assertEqual(
            [v.name for v in self.successResultOf(self.driver.list_volumes())], ["app-data-copy"]
        )

    def test_a_volume_name_defaults_its_snapshot_name_from_the_clock(self) -> None:
        volume = self.successResultOf(self.driver.create_volume(5, "logs", location="fra1"))
        snapshot = self.successResultOf(self.driver.create_volume_snapshot(volume))
        self.assertEqual(snapshot.name, "logs-1700000000")

    def test_waiting_for_a_state_times_out_on_the_clock(self) -> None:
        volume = self.successResultOf(self.driver.create_volume(5, "logs", location="fra1"))
        waiting = self.driver.wait_until_volume(
            volume, StorageVolumeState.INUSE, wait_period=5, timeout=12
        )
        for _ in range(3):
            self.clock.advance(5)
        self.failureResultOf(waiting, RequestTimeoutError)
        self.assertEqual(len([r for r in self.fake.received if r.method == "GET"]), 4)

    def test_attached_volumes_cannot_be_destroyed(self) -> None:
        volume = self.successResultOf(self.driver.create_volume(5, "logs", location="fra1"))
        self.successResultOf(volume.attach(self.web))
        self.failureResultOf(volume.destroy())

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        for size in (0, -3, 2.5, "10", True, 16385):
            self.assert_refused(self.driver.create_volume, size, "logs", "fra1")
        for name in ("Logs", "1logs", "logs_1", ""):
            self.assert_refused(self.driver.create_volume, 5, name, "fra1")
        self.assert_refused(self.driver.create_volume, 5, "logs")
        self.assert_refused(self.driver.create_volume, 5, "logs", "fra1", ex_filesystem_type="ntfs")
        self.assert_refused(self.driver.list_snapshots, ex_resource_type="image")
        self.assert_refused(self.driver.attach_volume, self.web, object())
