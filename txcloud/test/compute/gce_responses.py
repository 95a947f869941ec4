"""
Answers of the Compute Engine API v1 as Google sends them, written from the
API reference (resource and list shapes, aggregated lists with warnings,
operations, error bodies) for the parsing tests of the GCE driver.
"""

from __future__ import annotations

from typing import Any

ROOT = "https://www.googleapis.com/compute/v1/projects/acme-prod"

WEB_1: dict[str, Any] = {
    "kind": "compute#instance",
    "id": "4567890123456789012",
    "creationTimestamp": "2024-03-05T04:22:51.183-08:00",
    "name": "web-1",
    "description": "front end",
    "tags": {"items": ["http-server", "https-server"], "fingerprint": "6smc4R4d39I="},
    "machineType": f"{ROOT}/zones/us-central1-a/machineTypes/e2-standard-2",
    "status": "RUNNING",
    "zone": f"{ROOT}/zones/us-central1-a",
    "canIpForward": False,
    "networkInterfaces": [
        {
            "kind": "compute#networkInterface",
            "network": f"{ROOT}/global/networks/default",
            "subnetwork": f"{ROOT}/regions/us-central1/subnetworks/default",
            "networkIP": "10.128.0.7",
            "name": "nic0",
            "accessConfigs": [
                {
                    "kind": "compute#accessConfig",
                    "type": "ONE_TO_ONE_NAT",
                    "name": "External NAT",
                    "natIP": "35.202.14.88",
                    "networkTier": "PREMIUM",
                }
            ],
            "fingerprint": "Wq3bF0pQ3Xc=",
            "stackType": "IPV4_ONLY",
        },
        {
            "kind": "compute#networkInterface",
            "network": f"{ROOT}/global/networks/backend",
            "networkIP": "192.168.4.2",
            "name": "nic1",
        },
    ],
    "disks": [
        {
            "kind": "compute#attachedDisk",
            "type": "PERSISTENT",
            "mode": "READ_WRITE",
            "source": f"{ROOT}/zones/us-central1-a/disks/web-1",
            "deviceName": "web-1",
            "index": 0,
            "boot": True,
            "autoDelete": True,
            "interface": "SCSI",
            "diskSizeGb": "20",
        },
        {
            "kind": "compute#attachedDisk",
            "type": "PERSISTENT",
            "source": f"{ROOT}/zones/us-central1-a/disks/web-1-data",
            "index": 1,
            "boot": False,
            "diskSizeGb": "200",
        },
    ],
    "metadata": {
        "kind": "compute#metadata",
        "fingerprint": "q1d0TPuVdPc=",
        "items": [{"key": "startup-script", "value": "#!/bin/sh\necho hello"}],
    },
    "serviceAccounts": [
        {
            "email": "123456789-compute@developer.gserviceaccount.com",
            "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        }
    ],
    "selfLink": f"{ROOT}/zones/us-central1-a/instances/web-1",
    "scheduling": {"onHostMaintenance": "MIGRATE", "automaticRestart": True, "preemptible": False},
    "cpuPlatform": "Intel Broadwell",
    "labels": {"team": "web"},
    "labelFingerprint": "vezUS-42LLM=",
    "deletionProtection": False,
    "lastStartTimestamp": "2024-03-05T04:23:02.117-08:00",
}

#: A stopped instance: TERMINATED, its access config without an address.
BATCH_7: dict[str, Any] = {
    "kind": "compute#instance",
    "id": "8901234567890123456",
    "creationTimestamp": "2023-11-20T10:00:00.000-08:00",
    "name": "batch-7",
    "machineType": f"{ROOT}/zones/europe-west4-b/machineTypes/n2-highmem-8",
    "status": "TERMINATED",
    "zone": f"{ROOT}/zones/europe-west4-b",
    "networkInterfaces": [
        {
            "network": f"{ROOT}/global/networks/default",
            "networkIP": "10.164.0.3",
            "name": "nic0",
            "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}],
        }
    ],
    "disks": [],
    "selfLink": f"{ROOT}/zones/europe-west4-b/instances/batch-7",
}

#: The first page of instances.aggregatedList: one zone with an instance,
#: one without (a warning instead), and a token for the next page.
AGGREGATED_PAGE_1: dict[str, Any] = {
    "kind": "compute#instanceAggregatedList",
    "id": "projects/acme-prod/aggregated/instances",
    "items": {
        "zones/us-central1-a": {"instances": [WEB_1]},
        "zones/asia-south1-c": {
            "warning": {
                "code": "NO_RESULTS_ON_PAGE",
                "message": "There are no results for scope 'zones/asia-south1-c' on this page.",
                "data": [{"key": "scope", "value": "zones/asia-south1-c"}],
            }
        },
    },
    "nextPageToken": "CkQIu6OmnMD0hAM6OQoCGAMKAiAACgIYAgoHIIDA8OnoBAoCGAEKAiAACgIYAwoHIIDA",
    "selfLink": f"{ROOT}/aggregated/instances",
}

AGGREGATED_PAGE_2: dict[str, Any] = {
    "kind": "compute#instanceAggregatedList",
    "id": "projects/acme-prod/aggregated/instances",
    "items": {"zones/europe-west4-b": {"instances": [BATCH_7]}},
    "selfLink": f"{ROOT}/aggregated/instances",
}

E2_MEDIUM: dict[str, Any] = {
    "kind": "compute#machineType",
    "id": "335003",
    "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
    "name": "e2-medium",
    "description": "Efficient Instance, 2 vCPU (1/2 shared physical core) and 4 GB RAM",
    "guestCpus": 2,
    "memoryMb": 4096,
    "imageSpaceGb": 0,
    "maximumPersistentDisks": 128,
    "maximumPersistentDisksSizeGb": "263168",
    "zone": "us-central1-a",
    "selfLink": f"{ROOT}/zones/us-central1-a/machineTypes/e2-medium",
    "isSharedCpu": True,
}

DEBIAN_IMAGES: dict[str, Any] = {
    "kind": "compute#imageList",
    "id": "projects/debian-cloud/global/images",
    "items": [
        {
            "kind": "compute#image",
            "id": "6287433532417453090",
            "creationTimestamp": "2024-02-13T16:04:10.281-08:00",
            "name": "debian-12-bookworm-v20240213",
            "description": "Debian, Debian GNU/Linux, 12 (bookworm), amd64 built on 20240213",
            "sourceType": "RAW",
            "status": "READY",
            "archiveSizeBytes": "1282992192",
            "diskSizeGb": "10",
            "licenses": [
                "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/licenses/debian-12-bookworm"
            ],
            "family": "debian-12",
            "selfLink": "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240213",
            "architecture": "X86_64",
        },
        {
            "kind": "compute#image",
            "id": "5102478211120712398",
            "name": "debian-11-bullseye-v20231010",
            "status": "READY",
            "diskSizeGb": "10",
            "family": "debian-11",
            "deprecated": {
                "state": "DEPRECATED",
                "replacement": "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-11-bullseye-v20240213",
            },
            "selfLink": "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-11-bullseye-v20231010",
        },
    ],
    "selfLink": "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images",
}

ZONE: dict[str, Any] = {
    "kind": "compute#zone",
    "id": "2000",
    "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
    "name": "us-central1-a",
    "description": "us-central1-a",
    "status": "UP",
    "region": f"{ROOT}/regions/us-central1",
    "selfLink": f"{ROOT}/zones/us-central1-a",
    "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
    "supportsPzs": False,
}

OPERATION = "operation-1709641371082-612ec1d5f9d6e-2be2b8c8-9ac6b8b4"

INSERT_RUNNING: dict[str, Any] = {
    "kind": "compute#operation",
    "id": "7151207624350493577",
    "name": OPERATION,
    "zone": f"{ROOT}/zones/us-central1-a",
    "operationType": "insert",
    "targetLink": f"{ROOT}/zones/us-central1-a/instances/web-2",
    "targetId": "4567890123456789099",
    "status": "RUNNING",
    "user": "deployer@acme-prod.iam.gserviceaccount.com",
    "progress": 0,
    "insertTime": "2024-03-05T04:22:51.541-08:00",
    "startTime": "2024-03-05T04:22:51.561-08:00",
    "selfLink": f"{ROOT}/zones/us-central1-a/operations/{OPERATION}",
}

INSERT_DONE: dict[str, Any] = {
    **INSERT_RUNNING,
    "status": "DONE",
    "progress": 100,
    "endTime": "2024-03-05T04:23:05.002-08:00",
}

#: An insert refused once it ran: the vCPU quota of the region is spent.
INSERT_OVER_QUOTA: dict[str, Any] = {
    **INSERT_DONE,
    "error": {
        "errors": [
            {
                "code": "QUOTA_EXCEEDED",
                "message": "Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.",
            }
        ]
    },
    "httpErrorStatusCode": 403,
    "httpErrorMessage": "FORBIDDEN",
}


def google_error(code: int, reason: str, message: str) -> dict[str, Any]:
    """An error body as Google's APIs write them."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


NOT_FOUND = google_error(
    404,
    "notFound",
    "The resource 'projects/acme-prod/zones/us-central1-a/instances/gone' was not found",
)
ALREADY_EXISTS = google_error(
    409,
    "alreadyExists",
    "The resource 'projects/acme-prod/zones/us-central1-a/instances/web-1' already exists",
)
QUOTA = google_error(
    403, "quotaExceeded", "Quota 'IN_USE_ADDRESSES' exceeded.  Limit: 8.0 in region us-central1."
)
RATE_LIMITED = google_error(
    403,
    "rateLimitExceeded",
    "Rate Limit Exceeded: Quota exceeded for quota metric 'Read requests' of service "
    "'compute.googleapis.com'.",
)
