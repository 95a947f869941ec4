"""Tests of txcloud.service.snapshot: ages, staleness and the JSON documents."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.config import Target
from txcloud.service.snapshot import Snapshot, TargetError, TargetStatus, iso_utc

EU = Target("fleet", "compute", "dummy", "eu-1")
FILES = Target("files", "storage", "local")
NODE = {"id": "n1", "name": "web", "state": "running", "public_ips": [], "private_ips": []}

# 2024-01-01T00:00:00Z
T0 = 1704067200.0


class IsoUtcTests(SynchronousTestCase):
    def test_utc_with_milliseconds_and_z(self) -> None:
        self.assertEqual(iso_utc(T0 + 1.25), "2024-01-01T00:00:01.250Z")

    def test_epoch(self) -> None:
        self.assertEqual(iso_utc(0), "1970-01-01T00:00:00.000Z")


class TargetStatusTests(SynchronousTestCase):
    def test_never_answered_has_no_age_and_is_stale(self) -> None:
        status = TargetStatus(EU)
        self.assertIsNone(status.age(T0))
        self.assertTrue(status.is_stale(T0, 30))

    def test_stale_only_past_the_limit(self) -> None:
        status = TargetStatus(EU, (NODE,), T0)
        self.assertFalse(status.is_stale(T0 + 30, 30))
        self.assertTrue(status.is_stale(T0 + 30.5, 30))

    def test_document_of_a_target_failing_after_a_success(self) -> None:
        error = TargetError("RateLimitReached", "slow down", T0 + 60)
        status = TargetStatus(EU, (NODE,), T0, error)
        self.assertEqual(
            status.document(T0 + 61.2345, 180),
            {
                "name": "fleet",
                "label": "fleet@eu-1",
                "kind": "compute",
                "provider": "dummy",
                "region": "eu-1",
                "account": None,
                "items": [NODE],
                "volumes": None,
                "fetched_at": "2024-01-01T00:00:00.000Z",
                "age": 61.234,
                "stale": False,
                "last_error": {
                    "type": "RateLimitReached",
                    "message": "slow down",
                    "at": "2024-01-01T00:01:00.000Z",
                },
            },
        )

    def test_document_lists_a_compute_target_s_volumes_apart(self) -> None:
        volume = {"id": "vol-1", "name": "data", "size": 10, "state": "inuse"}
        status = TargetStatus(EU, (NODE,), T0, volumes=(volume,))
        document = status.document(T0, 180)
        self.assertEqual((document["items"], document["volumes"]), ([NODE], [volume]))

    def test_document_of_a_target_never_answered(self) -> None:
        document = TargetStatus(FILES).document(T0, 180)
        keys = ("region", "account", "items", "fetched_at", "age", "stale", "last_error")
        self.assertEqual(
            {key: document[key] for key in keys},
            {
                "region": None,
                "account": None,
                "items": [],
                "fetched_at": None,
                "age": None,
                "stale": True,
                "last_error": None,
            },
        )


class SnapshotTests(SynchronousTestCase):
    def snapshot(self, ready: bool = True) -> Snapshot:
        return Snapshot(
            taken_at=T0 + 100,
            ready=ready,
            interval=10.0,
            stale_after=30.0,
            targets=(TargetStatus(EU, (NODE,), T0 + 90), TargetStatus(FILES, (), T0)),
        )

    def test_inventory_document_lists_the_wanted_targets(self) -> None:
        document = self.snapshot().inventory_document(lambda target: target.kind == "storage")
        self.assertEqual(
            document,
            {
                "generated_at": "2024-01-01T00:01:40.000Z",
                "interval": 10.0,
                "stale_after": 30.0,
                "targets": [TargetStatus(FILES, (), T0).document(T0 + 100, 30.0)],
            },
        )

    def test_health_lists_the_stale_targets(self) -> None:
        self.assertEqual(
            self.snapshot().health_document(), {"status": "degraded", "stale": ["files"]}
        )

    def test_health_is_ok_when_nothing_is_stale(self) -> None:
        snapshot = Snapshot(T0, True, 10.0, 30.0, (TargetStatus(EU, (), T0),))
        self.assertEqual(snapshot.health_document(), {"status": "ok", "stale": []})

    def test_health_is_starting_until_ready(self) -> None:
        self.assertEqual(
            self.snapshot(ready=False).health_document(), {"status": "starting", "stale": ["files"]}
        )
