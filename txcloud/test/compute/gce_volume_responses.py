"""
Disks, snapshots and their operations as the Compute Engine API v1
reference describes them, written in our own words for the parsing tests
of the GCE driver's volumes.
"""

from __future__ import annotations

from typing import Any

from txcloud.test.compute.gce_responses import ROOT, google_error

ZONE_A = f"{ROOT}/zones/us-central1-a"
DEBIAN = "https://www.googleapis.com/compute/v1/projects/debian-cloud"

#: A balanced disk made from a snapshot, attached to web-1.
LOGS: dict[str, Any] = {
    "kind": "compute#disk",
    "id": "8812345678901234567",
    "creationTimestamp": "2024-04-02T09:15:00.250-07:00",
    "name": "logs",
    "description": "web logs",
    "sizeGb": "200",
    "zone": ZONE_A,
    "status": "READY",
    "sourceSnapshot": f"{ROOT}/global/snapshots/logs-nightly",
    "sourceSnapshotId": "5512345678901234567",
    "type": f"{ZONE_A}/diskTypes/pd-balanced",
    "users": [f"{ZONE_A}/instances/web-1"],
    "labels": {"team": "web"},
    "physicalBlockSizeBytes": "4096",
    "lastAttachTimestamp": "2024-04-02T09:16:12.004-07:00",
    "selfLink": f"{ZONE_A}/disks/logs",
}

#: A boot disk made from a public image, no longer attached.
SPARE: dict[str, Any] = {
    "kind": "compute#disk",
    "id": "8812345678901230001",
    "creationTimestamp": "2024-03-01T10:00:00.000-08:00",
    "name": "spare",
    "sizeGb": "10",
    "zone": f"{ROOT}/zones/europe-west1-b",
    "status": "READY",
    "sourceImage": f"{DEBIAN}/global/images/debian-12-bookworm-v20240213",
    "sourceImageId": "3344556677889900",
    "type": f"{ROOT}/zones/europe-west1-b/diskTypes/pd-standard",
    "lastDetachTimestamp": "2024-03-20T11:00:00.000-07:00",
    "selfLink": f"{ROOT}/zones/europe-west1-b/disks/spare",
}

#: One page of ``disks.aggregatedList``: a zone with disks, one with a warning.
AGGREGATED_DISKS: dict[str, Any] = {
    "kind": "compute#diskAggregatedList",
    "id": "projects/acme-prod/aggregated/disks",
    "items": {
        "zones/us-central1-a": {"disks": [LOGS]},
        "zones/asia-east1-a": {
            "warning": {
                "code": "NO_RESULTS_ON_PAGE",
                "message": "There are no results for scope 'zones/asia-east1-a' on this page.",
                "data": [{"key": "scope", "value": "zones/asia-east1-a"}],
            }
        },
        "zones/europe-west1-b": {"disks": [SPARE]},
    },
    "selfLink": f"{ROOT}/aggregated/disks",
}

#: A snapshot of ``logs`` still being uploaded.
LOGS_NIGHTLY: dict[str, Any] = {
    "kind": "compute#snapshot",
    "id": "5512345678901234567",
    "creationTimestamp": "2024-04-01T23:00:00.000-07:00",
    "name": "logs-nightly",
    "description": "",
    "status": "UPLOADING",
    "sourceDisk": f"{ZONE_A}/disks/logs",
    "sourceDiskId": "8812345678901234567",
    "diskSizeGb": "200",
    "storageBytes": "41943040000",
    "storageBytesStatus": "UPDATING",
    "storageLocations": ["us"],
    "selfLink": f"{ROOT}/global/snapshots/logs-nightly",
}

SNAPSHOTS: dict[str, Any] = {
    "kind": "compute#snapshotList",
    "id": "projects/acme-prod/global/snapshots",
    "items": [
        LOGS_NIGHTLY,
        {
            **LOGS_NIGHTLY,
            "id": "5512345678901239999",
            "name": "spare-1",
            "status": "READY",
            "sourceDisk": f"{ROOT}/zones/europe-west1-b/disks/spare",
            "sourceDiskId": "8812345678901230001",
        },
    ],
    "selfLink": f"{ROOT}/global/snapshots",
}

GLOBAL_OPERATION = "operation-1712100000000-615a1b2c3d4e5-aa11bb22-cc33dd44"

#: Deleting a snapshot: a global operation, done.
DELETE_SNAPSHOT_DONE: dict[str, Any] = {
    "kind": "compute#operation",
    "id": "9100000000000000001",
    "name": GLOBAL_OPERATION,
    "operationType": "delete",
    "targetLink": f"{ROOT}/global/snapshots/logs-nightly",
    "targetId": "5512345678901234567",
    "status": "DONE",
    "progress": 100,
    "insertTime": "2024-04-03T08:00:00.000-07:00",
    "endTime": "2024-04-03T08:00:04.000-07:00",
    "selfLink": f"{ROOT}/global/operations/{GLOBAL_OPERATION}",
}

#: An attachDisk that found no disk once it ran.
ATTACH_MISSING_DISK: dict[str, Any] = {
    "kind": "compute#operation",
    "id": "9100000000000000002",
    "name": "operation-1712100000001-615a1b2c3d4e6-aa11bb22-cc33dd45",
    "zone": ZONE_A,
    "operationType": "attachDisk",
    "targetLink": f"{ZONE_A}/instances/web-1",
    "status": "DONE",
    "error": {
        "errors": [
            {
                "code": "RESOURCE_NOT_FOUND",
                "message": "The resource 'projects/acme-prod/zones/us-central1-a/disks/gone' "
                "was not found",
            }
        ]
    },
    "httpErrorStatusCode": 404,
    "httpErrorMessage": "NOT FOUND",
    "selfLink": f"{ZONE_A}/operations/operation-1712100000001-615a1b2c3d4e6-aa11bb22-cc33dd45",
}

DISK_NOT_FOUND = google_error(
    404,
    "notFound",
    "The resource 'projects/acme-prod/zones/us-central1-a/disks/gone' was not found",
)
DISK_IN_USE = google_error(
    400,
    "resourceInUseByAnotherResource",
    "The disk resource 'projects/acme-prod/zones/us-central1-a/disks/logs' is already being "
    "used by 'projects/acme-prod/zones/us-central1-a/instances/web-1'",
)
