"""
The disks and snapshots of txcloud.testing.gce, spoken to over plain HTTP
with treq's StubTreq, on a Clock.
"""

from __future__ import annotations

from txcloud.test.testing.test_gce_fake import API, FakeGCECase

ZONE = f"{API}/zones/us-central1-a"


class FakeDiskTests(FakeGCECase):
    def setUp(self) -> None:
        super().setUp()
        self.fake.add_instance("web-1")

    def attach(
        self, disk: str, mode: str = "READ_WRITE", instance: str = "web-1"
    ) -> tuple[int, object]:
        body = {"source": f"zones/us-central1-a/disks/{disk}", "deviceName": disk, "mode": mode}
        return self.send("POST", f"{ZONE}/instances/{instance}/attachDisk", json=body)

    def test_an_instance_has_its_boot_disk_in_use(self) -> None:
        status, disk = self.send("GET", f"{ZONE}/disks/web-1")
        self.assertEqual((status, disk["status"], disk["sizeGb"]), (200, "READY", "10"))
        self.assertEqual(disk["users"], [f"{self.fake_link()}/instances/web-1"])
        self.assertIn("debian-12", disk["sourceImage"])

    def fake_link(self) -> str:
        return f"https://www.googleapis.com/compute/v1/projects/{self.fake.project}/zones/us-central1-a"

    def test_a_new_disk_is_creating_until_its_operation_is_done(self) -> None:
        self.fake.operation_seconds = 4.0
        body = {"name": "data-1", "sizeGb": "50", "type": "zones/us-central1-a/diskTypes/pd-ssd"}
        status, operation = self.send("POST", f"{ZONE}/disks", json=body)
        self.assertEqual((status, operation["operationType"]), (200, "insert"))
        self.assertTrue(operation["targetLink"].endswith("/zones/us-central1-a/disks/data-1"))
        self.assertEqual(self.send("GET", f"{ZONE}/disks/data-1")[1]["status"], "CREATING")
        self.clock.advance(4.0)
        _, disk = self.send("GET", f"{ZONE}/disks/data-1")
        self.assertEqual((disk["status"], disk["type"].rsplit("/", 1)[-1]), ("READY", "pd-ssd"))

    def test_disk_inserts_are_checked(self) -> None:
        self.fake.add_disk("data-1")
        for body, status, reason in (
            ({"name": "data-1", "sizeGb": "10"}, 409, "alreadyExists"),
            ({"name": "data-2", "type": "zones/us-central1-a/diskTypes/pd-fast"}, 400, "invalid"),
            ({"name": "data-2", "sizeGb": "0"}, 400, "invalid"),
            ({"name": "data-2", "sourceSnapshot": "global/snapshots/none"}, 404, "notFound"),
        ):
            answer = self.send("POST", f"{ZONE}/disks", json=body)
            self.assertEqual(
                (answer[0], answer[1]["error"]["errors"][0]["reason"]), (status, reason)
            )

    def test_aggregated_disks_warn_for_zones_without_any(self) -> None:
        self.fake.add_disk("far-1", zone="asia-east1-a")
        _, page = self.send("GET", f"{API}/aggregated/disks")
        self.assertEqual(page["kind"], "compute#diskAggregatedList")
        self.assertEqual(
            [d["name"] for d in page["items"]["zones/asia-east1-a"]["disks"]], ["far-1"]
        )
        warning = page["items"]["zones/europe-west1-b"]["warning"]
        self.assertEqual(warning["code"], "NO_RESULTS_ON_PAGE")

    def test_attached_disks_are_in_use_and_cannot_be_deleted(self) -> None:
        self.fake.add_disk("data-1")
        self.assertEqual(self.attach("data-1")[0], 200)
        _, instance = self.send("GET", f"{ZONE}/instances/web-1")
        self.assertEqual(
            [d["deviceName"] for d in instance["disks"]], ["persistent-disk-0", "data-1"]
        )
        status, body = self.send("DELETE", f"{ZONE}/disks/data-1")
        self.assertEqual(
            (status, body["error"]["errors"][0]["reason"]), (400, "resourceInUseByAnotherResource")
        )
        self.fake.add_instance("web-2")
        self.assertEqual(self.attach("data-1", instance="web-2")[0], 400)

    def test_read_only_disks_attach_to_several_instances(self) -> None:
        self.fake.add_instance("web-2")
        self.fake.add_disk("data-1")
        self.assertEqual(self.attach("data-1", "READ_ONLY")[0], 200)
        self.assertEqual(self.attach("data-1", "READ_ONLY", "web-2")[0], 200)
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, ["web-1", "web-2"])

    def test_a_disk_attaches_only_in_its_zone(self) -> None:
        self.fake.add_disk("far-1", zone="europe-west1-b")
        body = {"source": "zones/europe-west1-b/disks/far-1"}
        status, error = self.send("POST", f"{ZONE}/instances/web-1/attachDisk", json=body)
        self.assertEqual((status, error["error"]["errors"][0]["reason"]), (400, "invalid"))

    def test_detach_takes_a_device_name(self) -> None:
        self.fake.add_disk("data-1")
        self.attach("data-1")
        url = f"{ZONE}/instances/web-1/detachDisk"
        self.assertEqual(self.send("POST", url, params={"deviceName": "nope"})[0], 400)
        self.assertEqual(self.send("POST", url, params={"deviceName": "data-1"})[0], 200)
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, [])

    def test_deleting_an_instance_deletes_its_boot_disk_and_frees_the_others(self) -> None:
        self.fake.add_disk("data-1")
        self.attach("data-1")
        self.assertEqual(self.send("DELETE", f"{ZONE}/instances/web-1")[0], 200)
        self.assertEqual(set(self.fake.disks), {("us-central1-a", "data-1")})
        self.assertEqual(self.fake.disks[("us-central1-a", "data-1")].users, [])

    def test_snapshots_are_global_and_deleted_by_global_operations(self) -> None:
        self.fake.operation_seconds = 3.0
        self.fake.add_disk("data-1", size_gb=30)
        _, created = self.send("POST", f"{ZONE}/disks/data-1/createSnapshot", json={"name": "s-1"})
        self.assertEqual(created["operationType"], "createSnapshot")
        self.assertEqual(self.send("GET", f"{API}/global/snapshots/s-1")[1]["status"], "CREATING")
        self.clock.advance(3.0)
        _, listing = self.send("GET", f"{API}/global/snapshots")
        (snapshot,) = listing["items"]
        self.assertEqual(
            (snapshot["name"], snapshot["status"], snapshot["diskSizeGb"]), ("s-1", "READY", "30")
        )
        self.assertTrue(snapshot["sourceDisk"].endswith("/zones/us-central1-a/disks/data-1"))
        _, deleting = self.send("DELETE", f"{API}/global/snapshots/s-1")
        self.assertNotIn("zone", deleting)
        self.assertIn("/global/operations/", deleting["selfLink"])
        _, done = self.send("GET", f"{API}/global/operations/{deleting['name']}")
        self.assertEqual(done["status"], "RUNNING")
        self.clock.advance(3.0)
        self.assertEqual(
            self.send("GET", f"{API}/global/operations/{deleting['name']}")[1]["status"], "DONE"
        )
        self.assertEqual(self.send("GET", f"{API}/global/snapshots/s-1")[0], 404)
