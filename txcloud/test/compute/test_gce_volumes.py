"""
Volumes and snapshots of the GCE driver: parsing of answers written from the
API reference (:mod:`txcloud.test.compute.gce_volume_responses`), typed
errors, and the driver against txcloud.testing.gce on a Clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from twisted.internet.defer import Deferred, succeed

from txcloud.compute.base import StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.gce.operations import operation_error, operation_path
from txcloud.compute.drivers.gce.parse import (
    SNAPSHOT_STATES,
    VOLUME_STATES,
    parse_location,
    parse_node,
    parse_snapshot,
    parse_volume,
)
from txcloud.compute.types import StorageVolumeState, VolumeSnapshotState
from txcloud.errors import (
    InvalidArgumentError,
    NodeNotFoundError,
    RequestTimeoutError,
    ResourceConflictError,
    VolumeNotFoundError,
)
from txcloud.test.compute import gce_responses
from txcloud.test.compute import gce_volume_responses as recorded
from txcloud.test.compute.test_gce import GCETestCase
from txcloud.test.compute.test_gce_parse import RecordedDriverCase, answer
from txcloud.test.http._support import ScriptedResource


class ParseTests(RecordedDriverCase):
    def test_an_attached_disk_is_in_use_with_libclouds_extra(self) -> None:
        volume = parse_volume(recorded.LOGS, None)
        self.assertEqual(
            (volume.id, volume.name, volume.size, volume.state),
            ("8812345678901234567", "logs", 200, StorageVolumeState.INUSE),
        )
        self.assertEqual(
            {key: volume.extra[key] for key in ("zone", "type", "users", "sourceSnapshot")},
            {
                "zone": "us-central1-a",
                "type": "pd-balanced",
                "users": ["web-1"],
                "sourceSnapshot": "logs-nightly",
            },
        )
        self.assertEqual(volume.extra["labels"], {"team": "web"})
        self.assertIsNone(volume.extra["sourceImage"])

    def test_a_detached_disk_is_available(self) -> None:
        volume = parse_volume(recorded.SPARE, None)
        self.assertEqual((volume.state, volume.extra["users"]), (StorageVolumeState.AVAILABLE, []))
        self.assertEqual(volume.extra["sourceImage"], "debian-12-bookworm-v20240213")

    def test_disk_statuses(self) -> None:
        self.assertEqual(VOLUME_STATES["CREATING"], StorageVolumeState.CREATING)
        self.assertEqual(VOLUME_STATES["DELETING"], StorageVolumeState.DELETING)
        self.assertEqual(VOLUME_STATES["FAILED"], StorageVolumeState.ERROR)
        # Only a ready disk counts as in use.
        creating = parse_volume({**recorded.LOGS, "status": "CREATING"}, None)
        self.assertEqual(creating.state, StorageVolumeState.CREATING)
        odd = parse_volume({**recorded.SPARE, "status": "SOMETHING-NEW"}, None)
        self.assertEqual(odd.state, StorageVolumeState.UNKNOWN)

    def test_a_snapshot_with_libclouds_extra(self) -> None:
        snapshot = parse_snapshot(recorded.LOGS_NIGHTLY, None)
        self.assertEqual(
            (snapshot.id, snapshot.name, snapshot.size, snapshot.state),
            ("5512345678901234567", "logs-nightly", 200, VolumeSnapshotState.CREATING),
        )
        self.assertEqual(
            (snapshot.extra["sourceDisk"], snapshot.extra["zone"], snapshot.extra["storageBytes"]),
            ("logs", "us-central1-a", 41943040000),
        )
        self.assertEqual(snapshot.extra["sourceDiskId"], "8812345678901234567")
        self.assertEqual(
            snapshot.created, datetime(2024, 4, 1, 23, 0, tzinfo=timezone(timedelta(hours=-7)))
        )

    def test_snapshot_statuses(self) -> None:
        self.assertEqual(SNAPSHOT_STATES["READY"], VolumeSnapshotState.AVAILABLE)
        self.assertEqual(SNAPSHOT_STATES["CREATING"], VolumeSnapshotState.CREATING)
        self.assertEqual(SNAPSHOT_STATES["FAILED"], VolumeSnapshotState.ERROR)

    def test_volumes_of_every_zone_come_from_one_aggregated_list(self) -> None:
        resource = ScriptedResource(answer(recorded.AGGREGATED_DISKS))
        volumes = self.successResultOf(self.driver(resource).list_volumes())
        self.assertEqual([v.name for v in volumes], ["logs", "spare"])
        self.assertTrue(
            resource.received[0].uri.startswith("/compute/v1/projects/acme-prod/aggregated/disks?")
        )

    def test_a_volumes_snapshots_are_matched_by_its_id(self) -> None:
        resource = ScriptedResource(answer(recorded.SNAPSHOTS))
        driver = self.driver(resource)
        volume = parse_volume(recorded.SPARE, driver)
        snapshots = self.successResultOf(driver.list_volume_snapshots(volume))
        self.assertEqual([s.name for s in snapshots], ["spare-1"])

    def test_a_missing_disk_is_volume_not_found(self) -> None:
        resource = ScriptedResource(answer(recorded.DISK_NOT_FOUND, 404))
        volume = parse_volume({**recorded.SPARE, "name": "gone"}, None)
        failure = self.failureResultOf(
            self.driver(resource).destroy_volume(volume), VolumeNotFoundError
        )
        self.assertEqual((failure.value.status, failure.value.code), (404, "notFound"))

    def test_attach_disk_naming_a_missing_disk_is_volume_not_found(self) -> None:
        # attachDisk answers on the instance's path; the message names the disk.
        driver = self.driver(ScriptedResource(answer(recorded.DISK_NOT_FOUND, 404)))
        web = parse_node(gce_responses.WEB_1, driver)
        volume = parse_volume({**recorded.LOGS, "name": "gone"}, driver)
        self.failureResultOf(driver.attach_volume(web, volume), VolumeNotFoundError)
        missing_node = self.driver(ScriptedResource(answer(gce_responses.NOT_FOUND, 404)))
        self.failureResultOf(missing_node.attach_volume(web, volume), NodeNotFoundError)

    def test_deleting_an_attached_disk_is_a_conflict(self) -> None:
        resource = ScriptedResource(answer(recorded.DISK_IN_USE, 400))
        volume = parse_volume(recorded.LOGS, None)
        failure = self.failureResultOf(
            self.driver(resource).destroy_volume(volume), ResourceConflictError
        )
        self.assertEqual(failure.value.code, "resourceInUseByAnotherResource")

    def test_a_snapshot_is_deleted_by_a_global_operation(self) -> None:
        self.assertEqual(
            operation_path(recorded.DELETE_SNAPSHOT_DONE),
            f"/global/operations/{recorded.GLOBAL_OPERATION}",
        )
        resource = ScriptedResource(answer(recorded.DELETE_SNAPSHOT_DONE))
        snapshot = parse_snapshot(recorded.LOGS_NIGHTLY, None)
        self.assertIs(
            self.successResultOf(self.driver(resource).destroy_volume_snapshot(snapshot)), True
        )
        (request,) = resource.received
        self.assertEqual(request.method, "DELETE")
        self.assertTrue(
            request.uri.startswith(
                "/compute/v1/projects/acme-prod/global/snapshots/logs-nightly?requestId="
            )
        )

    def test_an_operation_missing_a_disk_fails_with_volume_not_found(self) -> None:
        error = operation_error(recorded.ATTACH_MISSING_DISK, None)
        assert isinstance(error, VolumeNotFoundError), error
        self.assertEqual((error.status, error.code), (404, "RESOURCE_NOT_FOUND"))

    def test_create_volume_sends_the_disk(self) -> None:
        resource = ScriptedResource(
            answer({**gce_responses.INSERT_DONE, "operationType": "insert"}), answer(recorded.LOGS)
        )
        driver = self.driver(resource, datacenter="us-central1-a")
        driver._zones = succeed({"us-central1-a": parse_location(gce_responses.ZONE, driver)})
        volume = self.successResultOf(
            driver.create_volume(200, "logs", snapshot="logs-nightly", ex_disk_type="pd-balanced")
        )
        self.assertEqual(volume.name, "logs")
        insert, _ = resource.received
        self.assertEqual(
            json.loads(insert.body),
            {
                "name": "logs",
                "sizeGb": "200",
                "type": "zones/us-central1-a/diskTypes/pd-balanced",
                "sourceSnapshot": "global/snapshots/logs-nightly",
            },
        )


class FakeVolumeTests(GCETestCase):
    """The driver's volumes against the fake, on a Clock."""

    def setUp(self) -> None:
        super().setUp()
        self.fake.add_instance("web-1", zone="us-central1-a")
        self.fake.add_instance("db-1", zone="europe-west1-b")
        self.driver = self.make_driver(datacenter="us-central1-a")
        self.web = self.settle(self.driver.ex_get_node("web-1"))

    def volume(self, name: str = "data-1", size: int = 20, **kwargs: Any) -> StorageVolume:
        volume: StorageVolume = self.settle(self.driver.create_volume(size, name, **kwargs))
        return volume

    def test_create_attach_snapshot_restore_detach_destroy(self) -> None:
        volume = self.volume()
        self.assertEqual(
            (volume.name, volume.size, volume.state, volume.extra["type"]),
            ("data-1", 20, StorageVolumeState.AVAILABLE, "pd-standard"),
        )
        self.assertIs(self.settle(volume.attach(self.web)), True)
        listed = {v.name: v for v in self.settle(self.driver.list_volumes())}
        self.assertEqual(listed["data-1"].state, StorageVolumeState.INUSE)
        self.assertEqual(listed["data-1"].extra["users"], ["web-1"])
        node = self.settle(self.driver.ex_get_node("web-1"))
        self.assertIn("data-1", [d["deviceName"] for d in node.extra["disks"]])

        snapshot = self.settle(volume.snapshot("data-1-monday"))
        self.assertEqual(
            (snapshot.name, snapshot.size, snapshot.state),
            ("data-1-monday", 20, VolumeSnapshotState.AVAILABLE),
        )
        self.assertEqual(self.settle(volume.list_snapshots()), [snapshot])
        copy = self.settle(self.driver.create_volume(None, "data-copy", snapshot=snapshot))
        self.assertEqual((copy.size, copy.extra["sourceSnapshot"]), (20, "data-1-monday"))

        self.assertIs(self.settle(volume.detach()), True)
        self.assertEqual(self.settle(self.driver.ex_get_node("web-1")).extra["disks"][1:], [])
        for done in (volume.destroy(), copy.destroy(), snapshot.destroy()):
            self.assertIs(self.settle(done), True)
        self.assertEqual(
            set(self.fake.disks), {("us-central1-a", "web-1"), ("europe-west1-b", "db-1")}
        )
        self.assertEqual(self.fake.snapshots, {})

    def test_each_change_waits_for_its_operation_on_the_clock(self) -> None:
        self.fake.operation_seconds = 5.0
        d = self.driver.create_volume(10, "slow-1")
        self.clock.advance(2)
        self.assertNoResult(d)
        listed = self.successResultOf(self.driver.list_volumes(ex_zone="us-central1-a"))
        self.assertEqual({v.name: v.state for v in listed}["slow-1"], StorageVolumeState.CREATING)
        self.clock.advance(2)
        self.assertNoResult(d)
        volume = self.settle(d)
        self.assertEqual(volume.state, StorageVolumeState.AVAILABLE)

    def test_a_slow_operation_times_out(self) -> None:
        self.fake.operation_seconds = 1000.0
        driver = self.make_driver(datacenter="us-central1-a", ex_operation_timeout=10.0)
        d = driver.create_volume(10, "slow-1")
        self.clock.pump([2.0] * 6)
        self.failureResultOf(d, RequestTimeoutError)

    def test_volumes_of_one_zone_and_of_all(self) -> None:
        self.volume(location="europe-west1-b")
        everywhere = self.settle(self.driver.list_volumes())
        self.assertEqual(
            sorted((v.name, v.extra["zone"]) for v in everywhere),
            [("data-1", "europe-west1-b"), ("db-1", "europe-west1-b"), ("web-1", "us-central1-a")],
        )
        self.assertEqual(
            [v.name for v in self.settle(self.driver.list_volumes(ex_zone="us-central1-a"))],
            ["web-1"],
        )
        self.assertIn("GET /compute/v1/projects/txcloud-fake/aggregated/disks", self.api_requests())

    def test_detach_from_one_node(self) -> None:
        volume = self.volume()
        self.settle(self.driver.attach_volume(self.web, volume, device="scratch", ex_mode="RW"))
        self.assertIs(self.settle(self.driver.detach_volume(volume, ex_node=self.web)), True)
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, [])
        self.assertIn(
            "POST /compute/v1/projects/txcloud-fake/zones/us-central1-a/instances/web-1/detachDisk",
            self.api_requests(),
        )

    def test_a_read_only_disk_attaches_to_several_nodes_and_detaches_from_all(self) -> None:
        self.fake.add_instance("web-2", zone="us-central1-a")
        web2 = self.settle(self.driver.ex_get_node("web-2"))
        volume = self.volume()
        for node in (self.web, web2):
            self.settle(self.driver.attach_volume(node, volume, ex_mode="READ_ONLY"))
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, ["web-1", "web-2"])
        # One detachDisk operation per node, each polled once.
        self.assertIs(self.settle(volume.detach(), times=2), True)
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, [])

    def test_in_use_disks_cannot_be_attached_again_or_destroyed(self) -> None:
        self.fake.add_instance("web-2", zone="us-central1-a")
        web2 = self.settle(self.driver.ex_get_node("web-2"))
        volume = self.volume()
        self.settle(volume.attach(self.web))
        self.failureResultOf(self.settle_later(volume.attach(web2)), ResourceConflictError)
        self.failureResultOf(self.settle_later(volume.destroy()), ResourceConflictError)

    def settle_later(self, d: Deferred[Any]) -> Deferred[Any]:
        self.clock.advance(2)
        return d

    def test_missing_disks_and_snapshots_are_volume_not_found(self) -> None:
        volume = self.volume()
        snapshot = self.settle(volume.snapshot("snap-1"))
        self.settle(volume.destroy())
        self.settle(snapshot.destroy())
        for d in (
            volume.destroy(),
            volume.snapshot("snap-2"),
            volume.attach(self.web),
            snapshot.destroy(),
            self.driver.create_volume(None, "from-gone", snapshot=snapshot),
        ):
            self.failureResultOf(self.settle_later(d), VolumeNotFoundError)

    def test_an_operation_that_fails_is_typed(self) -> None:
        volume = self.volume()
        self.fake.fail_operation(
            "attachDisk",
            "RESOURCE_NOT_FOUND",
            "The resource 'projects/txcloud-fake/zones/us-central1-a/disks/data-1' was not found",
            404,
        )
        self.failureResultOf(self.settle_later(volume.attach(self.web)), VolumeNotFoundError)
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, [])

    def test_a_snapshot_name_defaults_from_the_clock(self) -> None:
        snapshot = self.settle(self.volume().snapshot())
        self.assertEqual(snapshot.name, f"data-1-{int(self.clock.seconds()) - 2}")

    def test_waiting_for_a_snapshot_polls_on_the_clock(self) -> None:
        volume = self.volume()
        snapshot = self.settle(volume.snapshot("snap-1"))
        self.fake.snapshots["snap-1"].ready_at = self.clock.seconds() + 12
        d = self.driver.wait_until_snapshot(
            VolumeSnapshot(snapshot.id, self.driver), wait_period=5, timeout=30
        )
        self.clock.pump([5.0, 5.0])
        self.assertNoResult(d)
        self.clock.advance(5)
        self.assertEqual(self.successResultOf(d).state, VolumeSnapshotState.AVAILABLE)

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        volume = self.volume()
        other_zone = self.volume("far-1", location="europe-west1-b")
        before = len(self.fake.received)
        for call in (
            lambda: self.driver.create_volume(0, "x"),
            lambda: self.driver.create_volume(-5, "x"),
            lambda: self.driver.create_volume(True, "x"),
            lambda: self.driver.create_volume("10", "x"),  # type: ignore[arg-type]
            lambda: self.driver.create_volume(10, "Bad_Name"),
            lambda: self.driver.create_volume(10, "x", ex_disk_type="pd-fast"),
            lambda: self.driver.create_volume(None, "x"),
            lambda: self.driver.create_volume(10, "x", location="mars"),
            lambda: self.driver.create_volume(10, "x", snapshot="s", image="debian-12"),
            lambda: self.driver.attach_volume(self.web, volume, ex_mode="RX"),
            lambda: self.driver.attach_volume(self.web, volume, device="Bad Device"),
            lambda: self.driver.attach_volume(self.web, volume, ex_boot="yes"),  # type: ignore[arg-type]
            lambda: self.driver.attach_volume(self.web, other_zone),
            lambda: self.driver.attach_volume("web-1", volume),  # type: ignore[arg-type]
            lambda: self.driver.destroy_volume("data-1"),  # type: ignore[arg-type]
            lambda: self.driver.create_volume_snapshot(volume, "Not A Name"),
            lambda: self.driver.destroy_volume_snapshot("../x"),  # type: ignore[arg-type]
        ):
            self.assertRaises(InvalidArgumentError, call)
        self.assertEqual(len(self.fake.received), before)
