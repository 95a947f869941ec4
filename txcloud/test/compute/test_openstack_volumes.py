"""
OpenStack volumes and snapshots (txcloud.compute.drivers.openstack.volumes):
parsing of Cinder answers recorded in ``fixtures/openstack`` (written from
the block-storage API reference's examples, in our own words), and the
driver against txcloud.testing.openstack's Cinder and Nova on a Clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.openstack.keystone import KeystoneToken
from txcloud.compute.base import Node, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.openstack import OpenStackNodeDriver, ServiceCatalog
from txcloud.compute.drivers.openstack.parse import parse_snapshot, parse_volume
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import (
    InvalidArgumentError,
    InvalidRequestError,
    MalformedResponseError,
    NodeNotFoundError,
    RequestTimeoutError,
    VolumeNotFoundError,
)
from txcloud.test.compute.test_openstack import OpenStackTestCase
from txcloud.test.compute.test_openstack_parse import fixture

VOLUME_ID = "3f1c2e7a-5b0d-4c41-9a8e-2d6b7c9e0f11"
SERVER_ID = "9168b536-cd40-4630-b43f-b259807c6e87"


class VolumeParsingTests(SynchronousTestCase):
    def setUp(self) -> None:
        document = fixture("volumes_detail.json")
        self.attached, self.detaching = (parse_volume(v, None) for v in document["volumes"])

    def test_a_volume_has_libclouds_fields(self) -> None:
        volume = self.attached
        self.assertEqual(
            (volume.id, volume.name, volume.size, volume.state),
            (VOLUME_ID, "db-data", 50, StorageVolumeState.INUSE),
        )

    def test_a_volume_has_libclouds_extra_keys(self) -> None:
        extra = self.attached.extra
        self.assertEqual(
            {key: extra[key] for key in extra if key != "attachments"},
            {
                "description": "Postgres data of the db servers",
                "state": "in-use",
                "snapshot_id": "b7d2e0c4-1a3f-4e5b-8c6d-9f0a1b2c3d4e",
                "location": "az-1",
                "volume_type": "ssd",
                "metadata": {"tier": "db"},
                "created_at": "2024-03-14T09:58:12.000000",
            },
        )
        [attachment] = extra["attachments"]
        self.assertEqual((attachment["server_id"], attachment["device"]), (SERVER_ID, "/dev/vdb"))

    def test_a_nameless_volume_is_named_empty(self) -> None:
        self.assertEqual((self.detaching.name, self.detaching.extra["attachments"]), ("", []))

    def test_detaching_is_the_nearest_state_inuse(self) -> None:
        self.assertEqual(self.detaching.state, StorageVolumeState.INUSE)

    def test_cinder_statuses_map_as_libclouds_do(self) -> None:
        for status, state in (
            ("available", StorageVolumeState.AVAILABLE),
            ("creating", StorageVolumeState.CREATING),
            ("attaching", StorageVolumeState.ATTACHING),
            ("deleting", StorageVolumeState.DELETING),
            ("error_deleting", StorageVolumeState.ERROR),
            ("backing-up", StorageVolumeState.BACKUP),
            ("extending", StorageVolumeState.UPDATING),
            ("something-new", StorageVolumeState.UNKNOWN),
        ):
            volume = parse_volume({"id": VOLUME_ID, "size": 1, "status": status}, None)
            self.assertEqual(volume.state, state, status)

    def test_a_volume_without_a_size_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, parse_volume, {"id": VOLUME_ID}, None)


class SnapshotParsingTests(SynchronousTestCase):
    def setUp(self) -> None:
        document = fixture("snapshots_detail.json")
        self.nightly, self.leaving = (parse_snapshot(s, None) for s in document["snapshots"])

    def test_a_snapshot_has_libclouds_fields_and_extra(self) -> None:
        snapshot = self.nightly
        self.assertEqual(
            (snapshot.id, snapshot.name, snapshot.size, snapshot.state),
            ("b7d2e0c4-1a3f-4e5b-8c6d-9f0a1b2c3d4e", "db-data-nightly", 50, "available"),
        )
        self.assertEqual(
            snapshot.extra,
            {
                "volume_id": VOLUME_ID,
                "name": "db-data-nightly",
                "created": "2024-03-16T02:00:05.123456",
                "description": "Taken by the nightly job",
                "status": "available",
            },
        )

    def test_cinders_time_without_an_offset_is_utc(self) -> None:
        self.assertEqual(
            self.nightly.created, datetime(2024, 3, 16, 2, 0, 5, 123456, tzinfo=timezone.utc)
        )

    def test_unmanaging_is_deleting(self) -> None:
        self.assertEqual(self.leaving.state, VolumeSnapshotState.DELETING)

    def test_a_snapshot_without_an_id_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, parse_snapshot, {"size": 1}, None)


def catalog_entry(service_type: str, url: str, region: str = "RegionOne") -> dict[str, Any]:
    endpoint = {"interface": "public", "region_id": region, "url": url}
    return {"type": service_type, "name": "cinder", "endpoints": [endpoint]}


class BlockStorageCatalogTests(SynchronousTestCase):
    def test_block_storage_is_preferred_to_volumev3(self) -> None:
        catalog = ServiceCatalog(
            [
                catalog_entry("volumev3", "https://cinder.test/v3/p1"),
                catalog_entry("block-storage", "https://cinder.test/volume/v3"),
            ]
        )
        self.assertEqual(
            catalog.url_of_any(("block-storage", "volumev3"), region="RegionOne"),
            "https://cinder.test/volume/v3",
        )

    def test_volumev3_serves_a_region_block_storage_does_not(self) -> None:
        catalog = ServiceCatalog(
            [
                catalog_entry("block-storage", "https://two.test/v3", "RegionTwo"),
                catalog_entry("volumev3", "https://one.test/v3/p1"),
            ]
        )
        self.assertEqual(
            catalog.url_of_any(("block-storage", "volumev3"), region="RegionOne"),
            "https://one.test/v3/p1",
        )

    def test_no_block_storage_names_the_regions_that_have_it(self) -> None:
        catalog = ServiceCatalog(
            [catalog_entry("block-storage", "https://two.test/v3", "RegionTwo")]
        )
        error = self.assertRaises(
            InvalidArgumentError,
            catalog.url_of_any,
            ("block-storage", "volumev3"),
            region="RegionOne",
        )
        self.assertIn("RegionTwo", str(error))

    def test_the_project_is_added_to_a_url_without_it_only(self) -> None:
        driver = OpenStackNodeDriver(
            "alice",
            "pw",
            ex_force_auth_url="https://k.test",
            ex_tenant_name="demo",
            region="RegionOne",
        )
        for url, expected in (
            ("https://cinder.test/v3", "https://cinder.test/v3/p1"),
            ("https://cinder.test/v3/p1", "https://cinder.test/v3/p1"),
        ):
            token = KeystoneToken("t", 0.0, [catalog_entry("volumev3", url)], {"id": "p1"}, {})
            self.assertEqual(driver._service_url(token, "volume"), expected)


class VolumeTestCase(OpenStackTestCase):
    def result(self, d: Any) -> Any:
        return self.successResultOf(d)

    def server(self, name: str = "web") -> Node:
        added = self.cloud.add_server(name)
        return Node(added.id, name, NodeState.RUNNING, [], [], self.driver)

    def volume(self, name: str = "data", size: int = 10) -> StorageVolume:
        return self.result(self.driver.create_volume(size, name))

    def sent(self) -> Any:
        return json.loads(self.cloud.received[-1].body)


class VolumeTests(VolumeTestCase):
    def test_a_new_volume_is_creating_until_cinder_is_done(self) -> None:
        self.cloud.volume_seconds = 30
        volume = self.volume()
        self.assertEqual((volume.name, volume.size, volume.state), ("data", 10, "creating"))
        waited = self.driver.wait_until_volume(volume, wait_period=10)
        self.assertNoResult(waited)
        self.clock.advance(30)
        self.assertEqual(self.result(waited).state, StorageVolumeState.AVAILABLE)

    def test_wait_until_volume_times_out_on_the_clock(self) -> None:
        self.cloud.volume_seconds = 100
        waited = self.driver.wait_until_volume(self.volume(), wait_period=5, timeout=20)
        self.clock.pump([5] * 4)
        self.failureResultOf(waited, RequestTimeoutError)

    def test_create_volume_sends_zone_type_snapshot_and_image(self) -> None:
        source = self.cloud.add_volume("source", 5)
        snapshot = self.result(self.driver.create_volume_snapshot(self.driver_volume(source.id)))
        image = next(iter(self.cloud.images))
        zone = NodeLocation("nova", "nova", "", self.driver, {"availability_zone": True})
        volume = self.result(
            self.driver.create_volume(
                8, "copy", zone, snapshot, ex_volume_type="ssd", ex_image_ref=image
            )
        )
        self.assertEqual(
            self.sent(),
            {
                "volume": {
                    "size": 8,
                    "name": "copy",
                    "availability_zone": "nova",
                    "snapshot_id": snapshot.id,
                    "volume_type": "ssd",
                    "imageRef": image,
                }
            },
        )
        self.assertEqual(
            (volume.extra["snapshot_id"], volume.extra["volume_type"]), (snapshot.id, "ssd")
        )

    def driver_volume(self, volume_id: str) -> StorageVolume:
        return self.result(self.driver.ex_get_volume(volume_id))

    def test_list_volumes_follows_the_marker_page_after_page(self) -> None:
        for number in range(5):
            self.cloud.add_volume(f"v{number}")
        driver = self.make_driver(ex_page_size=2)
        names = [volume.name for volume in self.result(driver.list_volumes())]
        self.assertEqual(names, ["v0", "v1", "v2", "v3", "v4"])
        markers = [r.arg("marker") for r in self.cloud.received if r.path.endswith("/detail")]
        self.assertEqual(len(markers), 3)
        self.assertEqual(markers[0], None)

    def test_a_region_sees_its_own_volumes_only(self) -> None:
        self.cloud.add_volume("one")
        self.cloud.add_volume("two", region="RegionTwo")
        two = self.make_driver("RegionTwo")
        self.assertEqual([v.name for v in self.result(two.list_volumes())], ["two"])

    def test_requests_name_the_project_the_catalog_url_leaves_out(self) -> None:
        self.result(self.driver.list_volumes())
        project = self.cloud.projects["demo"]
        self.assertEqual(
            self.requests()[-1], ("GET", f"/volume/RegionOne/v3/{project}/volumes/detail")
        )

    def test_ex_get_volume_of_a_missing_volume_is_volume_not_found(self) -> None:
        failure = self.failureResultOf(
            self.driver.ex_get_volume("00000000-0000-4000-8000-000000000000"), VolumeNotFoundError
        )
        self.assertEqual((failure.value.status, failure.value.code), (404, "itemNotFound"))

    def test_the_volume_shortcuts_reach_the_driver(self) -> None:
        volume = self.volume()
        snapshot = self.result(volume.snapshot("s"))
        self.assertEqual([s.id for s in self.result(volume.list_snapshots())], [snapshot.id])
        self.assertTrue(self.result(snapshot.destroy()))
        self.assertTrue(self.result(volume.destroy()))
        self.assertEqual(self.cloud.volumes, {})


class AttachmentTests(VolumeTestCase):
    def test_attach_lets_nova_name_the_device(self) -> None:
        node, volume = self.server(), self.volume()
        self.assertIs(self.result(self.driver.attach_volume(node, volume)), True)
        self.assertEqual(self.sent(), {"volumeAttachment": {"volumeId": volume.id}})
        current = self.result(self.driver.ex_get_volume(volume.id))
        self.assertEqual(current.state, StorageVolumeState.INUSE)
        [attachment] = current.extra["attachments"]
        self.assertEqual((attachment["server_id"], attachment["device"]), (node.id, "/dev/vdb"))

    def test_the_server_lists_the_volumes_attached(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        server = self.result(self.driver.ex_get_node_details(node.id))
        self.assertEqual(server.extra["volumes_attached"], [{"id": volume.id}])

    def test_attach_sends_a_device_given(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume, "/dev/vdc"))
        self.assertEqual(self.sent()["volumeAttachment"]["device"], "/dev/vdc")

    def test_detach_reads_the_attachments_cinder_has_now(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        # ``volume`` was read before the attachment: it lists none.
        self.assertIs(self.result(self.driver.detach_volume(volume)), True)
        self.assertEqual(
            self.requests()[-1],
            (
                "DELETE",
                f"/compute/RegionOne/v2.1/servers/{node.id}/os-volume_attachments/{volume.id}",
            ),
        )
        self.assertEqual(self.cloud.volumes[volume.id].status, "available")

    def test_detach_from_another_node_detaches_nothing(self) -> None:
        node, other, volume = self.server(), self.server("other"), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        self.assertIs(self.result(self.driver.detach_volume(volume, ex_node=other)), True)
        self.assertEqual(self.cloud.volumes[volume.id].status, "in-use")

    def test_cinder_refuses_to_delete_an_attached_volume(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        failure = self.failureResultOf(self.driver.destroy_volume(volume), InvalidRequestError)
        self.assertEqual((failure.value.status, failure.value.code), (400, "badRequest"))
        self.assertIn("must not be migrating, attached", str(failure.value))

    def test_attaching_to_a_missing_server_is_node_not_found(self) -> None:
        volume = self.volume()
        self.failureResultOf(self.driver.attach_volume(self.node(), volume), NodeNotFoundError)

    def test_attaching_a_missing_volume_is_volume_not_found(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.destroy_volume(volume))
        self.failureResultOf(self.driver.attach_volume(node, volume), VolumeNotFoundError)


class SnapshotTests(VolumeTestCase):
    def test_a_snapshot_is_forced_by_default_as_in_libcloud(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        snapshot = self.result(
            self.driver.create_volume_snapshot(volume, "nightly", ex_description="by cron")
        )
        self.assertEqual(
            self.sent(),
            {
                "snapshot": {
                    "volume_id": volume.id,
                    "force": True,
                    "name": "nightly",
                    "description": "by cron",
                }
            },
        )
        self.assertEqual((snapshot.name, snapshot.extra["volume_id"]), ("nightly", volume.id))

    def test_an_attached_volume_without_force_is_refused(self) -> None:
        node, volume = self.server(), self.volume()
        self.result(self.driver.attach_volume(node, volume))
        self.failureResultOf(
            self.driver.create_volume_snapshot(volume, ex_force=False), InvalidRequestError
        )

    def test_a_snapshot_is_creating_until_cinder_is_done(self) -> None:
        self.cloud.volume_seconds = 10
        volume = self.volume()
        self.clock.advance(10)
        snapshot = self.result(self.driver.create_volume_snapshot(volume))
        self.assertEqual(snapshot.state, VolumeSnapshotState.CREATING)
        waited = self.driver.wait_until_snapshot(snapshot, wait_period=5)
        self.clock.pump([5, 5])
        self.assertEqual(self.result(waited).state, VolumeSnapshotState.AVAILABLE)

    def test_volume_snapshots_are_asked_for_by_volume(self) -> None:
        first, second = self.volume("a"), self.volume("b")
        mine = self.result(self.driver.create_volume_snapshot(first))
        self.result(self.driver.create_volume_snapshot(second))
        listed = self.result(self.driver.list_volume_snapshots(first))
        self.assertEqual([s.id for s in listed], [mine.id])
        self.assertEqual(self.cloud.received[-1].arg("volume_id"), first.id)
        self.assertEqual(len(self.result(self.driver.list_snapshots())), 2)

    def test_a_volume_with_snapshots_cannot_be_deleted(self) -> None:
        volume = self.volume()
        self.result(self.driver.create_volume_snapshot(volume))
        self.failureResultOf(self.driver.destroy_volume(volume), InvalidRequestError)

    def test_destroying_a_missing_snapshot_is_volume_not_found(self) -> None:
        snapshot = VolumeSnapshot("00000000-0000-4000-8000-000000000000", self.driver)
        self.failureResultOf(self.driver.destroy_volume_snapshot(snapshot), VolumeNotFoundError)


class BadInputTests(VolumeTestCase):
    def test_sizes_that_are_not_positive_integers_are_refused(self) -> None:
        for size in (0, -1, True, 1.5, "10"):
            self.assert_refused(self.driver.create_volume, size, "data")

    def test_malformed_ids_are_refused(self) -> None:
        volume = StorageVolume("not-a-uuid", "x", 1, self.driver)
        self.assert_refused(self.driver.ex_get_volume, "../servers")
        self.assert_refused(self.driver.destroy_volume, volume)
        self.assert_refused(self.driver.create_volume_snapshot, volume)
        self.assert_refused(self.driver.create_volume, 1, "x", snapshot="snap-1")
        self.assert_refused(self.driver.create_volume, 1, "x", ex_image_ref="ubuntu")
        self.assert_refused(
            self.driver.destroy_volume_snapshot, VolumeSnapshot("../volumes", self.driver)
        )

    def test_bad_devices_and_arguments_are_refused(self) -> None:
        volume = StorageVolume(VOLUME_ID, "x", 1, self.driver)
        self.assert_refused(self.driver.attach_volume, self.node(), volume, "vdb")
        self.assert_refused(self.driver.attach_volume, self.node(), volume, "/dev/../etc")
        self.assert_refused(self.driver.attach_volume, "web", volume)
        self.assert_refused(self.driver.detach_volume, volume, ex_node="web")
        self.assert_refused(self.driver.create_volume_snapshot, volume, ex_force="yes")
        self.assert_refused(self.driver.create_volume, 1, "")
        other_region = NodeLocation("RegionTwo", "RegionTwo", "", self.driver)
        self.assert_refused(self.driver.create_volume, 1, "x", other_region)
