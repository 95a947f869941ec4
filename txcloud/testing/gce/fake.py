"""
:class:`FakeGCE`: one in-memory Compute Engine project and the endpoints of
the API v1 that read and change it, with an OAuth2 token endpoint beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from twisted.web.resource import IResource, Resource

from txcloud.compute.drivers.gce.driver import IMAGE_PROJECTS
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing._tokens import json_reply
from txcloud.testing.gce.answers import (
    aggregated_reply,
    error_reply,
    invalid,
    listing_reply,
    not_found,
)
from txcloud.testing.gce.models import (
    FakeImage,
    FakeInstance,
    FakeMachineType,
    FakeOperation,
    FakeZone,
)
from txcloud.testing.gce.volumes import VOLUME_ROUTES, FakeDisk, FakeSnapshot, VolumeEndpoints
from txcloud.testing.google.oauth import FakeGoogleTokenEndpoint

__all__ = ["DEFAULT_PROJECT", "FakeGCE"]

#: The project a fake holds unless told otherwise.
DEFAULT_PROJECT = "txcloud-fake"

_PREFIX = re.compile(r"^/compute/v1/projects/([^/]+)(/.*)?\Z")
_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?\Z")
_IMAGE = re.compile(r"^(?:.*?/)??(?:projects/([^/]+)/)?global/images/(family/)?([^/]+)\Z")
# Each action: the status an instance passes through, the one it ends in,
# and the statuses it may start from.
_ACTIONS = {
    "start": ("STAGING", "RUNNING", {"TERMINATED", "STOPPED", "RUNNING"}),
    "stop": ("STOPPING", "TERMINATED", {"RUNNING", "TERMINATED", "STAGING", "PROVISIONING"}),
    "reset": ("RUNNING", "RUNNING", {"RUNNING"}),
}


class _Issuer(Protocol):
    def is_valid(self, token: str) -> bool: ...


class FakeGCE(VolumeEndpoints, FakeService):
    """
    An in-memory Compute Engine project behind the API v1, for trial tests.

    :param project: the project id.
    :param clock: what time it is and what delays answers: a ``Clock`` in
        unit tests; the global reactor by default.
    :param catalogue: start with four zones, four machine types and a few
        images (:meth:`add_catalogue`).
    :ivar oauth: the :class:`~txcloud.testing.google.FakeGoogleTokenEndpoint`
        served at ``/token``, which knows the fake's service account.
    :ivar zones: :class:`FakeZone` by name; ``machine_types``:
        :class:`FakeMachineType` by name; ``images``: :class:`FakeImage`
        by (project, name); ``instances``: :class:`FakeInstance` by
        (zone, name); ``operations``: :class:`FakeOperation` by name;
        ``disks``: :class:`~txcloud.testing.gce.FakeDisk` by (zone, name);
        ``snapshots``: :class:`~txcloud.testing.gce.FakeSnapshot` by name.
    :ivar public_image_projects: the projects whose images anyone may list.
    :ivar boot_seconds: seconds a new or started instance takes to run.
    :ivar operation_seconds: seconds an operation takes to be ``DONE``.
    :ivar cpu_quota: vCPUs each region may have; an insert over it fails
        its operation with ``QUOTA_EXCEEDED``.
    """

    def __init__(
        self, project: str = DEFAULT_PROJECT, *, clock: Any = None, catalogue: bool = True
    ) -> None:
        super().__init__(clock)
        self.project = project
        self.oauth = FakeGoogleTokenEndpoint(self.clock)
        self.service_account_email = f"txcloud-tests@{project}.iam.gserviceaccount.com"
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.oauth.add_service_account(self.service_account_email, self._private_key.public_key())
        self._issuers: list[_Issuer] = [self.oauth.tokens]
        self.zones: dict[str, FakeZone] = {}
        self.machine_types: dict[str, FakeMachineType] = {}
        self.images: dict[tuple[str, str], FakeImage] = {}
        self.instances: dict[tuple[str, str], FakeInstance] = {}
        self.operations: dict[str, FakeOperation] = {}
        self.disks: dict[tuple[str, str], FakeDisk] = {}
        self.snapshots: dict[str, FakeSnapshot] = {}
        self.public_image_projects = set(IMAGE_PROJECTS)
        self.boot_seconds = 0.0
        self.operation_seconds = 0.0
        self.cpu_quota = 24
        self._failing_operations: list[tuple[str, tuple[int, str, str]]] = []
        self._next_id = 1_000_000_000_000_000
        root = Resource()
        root.putChild(b"compute", self.resource)
        root.putChild(b"token", self.oauth.resource)
        self.resource = cast(IResource, root)
        if catalogue:
            self.add_catalogue()

    # Credentials

    def key_document(self, token_uri: str = "http://gce.fake.invalid/token") -> dict[str, str]:
        """
        A service account key (as its JSON file holds it) the fake accepts;
        put the URL the fake's ``/token`` is reached at in *token_uri* (the
        default does for the in-memory agent).
        """
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": pem,
            "client_email": self.service_account_email,
            "client_id": "100000000000000000001",
            "token_uri": token_uri,
        }

    def trust(self, issuer: _Issuer) -> None:
        """Also accept the tokens *issuer* hands out (a ``FakeMetadataServer().tokens``)."""
        self._issuers.append(issuer)

    # Seeding

    def _new_id(self) -> int:
        self._next_id += 7919
        return self._next_id

    def add_catalogue(self) -> None:
        """Add four zones, four machine types, two public images and one of the project."""
        for name in ("us-central1-a", "us-central1-b", "europe-west1-b", "asia-east1-a"):
            self.add_zone(name)
        for name, cpus, memory, shared in (
            ("e2-micro", 2, 1024, True),
            ("e2-medium", 2, 4096, True),
            ("n2-standard-2", 2, 8192, False),
            ("n2-standard-4", 4, 16384, False),
        ):
            self.add_machine_type(name, cpus, memory, shared_cpu=shared)
        self.add_image("debian-cloud", "debian-12-bookworm-v20240110", family="debian-12")
        self.add_image(
            "debian-cloud",
            "debian-11-bullseye-v20230912",
            family="debian-11",
            deprecated="DEPRECATED",
        )
        self.add_image(
            "ubuntu-os-cloud", "ubuntu-2404-noble-amd64-v20240501", family="ubuntu-2404-lts-amd64"
        )
        self.add_image(self.project, "golden-web-1", disk_size_gb=20)

    def add_zone(self, name: str, status: str = "UP") -> FakeZone:
        """Add (or replace) a zone."""
        zone = self.zones[name] = FakeZone(self._new_id(), name, status)
        return zone

    def add_machine_type(
        self, name: str, cpus: int, memory_mb: int, *, shared_cpu: bool = False
    ) -> FakeMachineType:
        """Add (or replace) a machine type, offered in every zone."""
        machine_type = FakeMachineType(self._new_id(), name, cpus, memory_mb, shared_cpu)
        self.machine_types[name] = machine_type
        return machine_type

    def add_image(
        self,
        project: str,
        name: str,
        *,
        family: str | None = None,
        disk_size_gb: int = 10,
        deprecated: str | None = None,
    ) -> FakeImage:
        """Add (or replace) an image of *project* (a public project becomes listable)."""
        if project != self.project:
            self.public_image_projects.add(project)
        image = FakeImage(self._new_id(), project, name, family, disk_size_gb, deprecated)
        self.images[(project, name)] = image
        return image

    def add_instance(
        self,
        name: str,
        zone: str = "us-central1-a",
        machine_type: str = "e2-medium",
        *,
        status: str = "RUNNING",
        external_ip: bool = True,
        source_image: str = "projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
        disk_size_gb: int = 10,
        tags: Iterable[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> FakeInstance:
        """Add an instance as if it had been created and booted."""
        number = len(self.instances) + 2
        instance = FakeInstance(
            id=self._new_id(),
            name=name,
            zone=zone,
            machine_type=machine_type,
            status=status,
            created_at=self.clock.seconds(),
            network_ip=f"10.128.{number // 250}.{number % 250 + 2}",
            nat_ip=f"34.72.{number // 250}.{number % 250 + 2}" if external_ip else None,
            source_image=source_image,
            disk_size_gb=disk_size_gb,
            tags=list(tags),
            labels=dict(labels or {}),
        )
        self.instances[(zone, name)] = instance
        self.add_boot_disk(instance)
        return instance

    # Faults

    def fail(
        self,
        path: str,
        status: int,
        reason: str,
        message: str = "",
        *,
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """
        Answer requests whose path in the project matches *path* (``fnmatch``:
        ``"/aggregated/instances"``, ``"/zones/*/instances/web-1/*"``) with
        a Google error.

        :param reason: the error's reason (``rateLimitExceeded``, ``backendError``...).
        :param times: how many requests; ``None``: all of them.
        :param headers: more headers (``Retry-After``).
        """
        error = Refused(status, reason, message or reason, headers=headers)
        self._add_fault([path], method, times, error)

    def fail_operation(self, kind: str, code: str, message: str, status: int = 400) -> None:
        """
        Make the next operation of *kind* (``insert``, ``delete``, ``start``,
        ``stop``, ``reset``, ``attachDisk``, ``detachDisk``,
        ``createSnapshot``) finish with the error *code* and do nothing.
        """
        self._failing_operations.append((kind, (status, code, message)))

    # Serving

    def _target(self, received: Received) -> str:
        matched = _PREFIX.match(received.path)
        return (matched.group(2) or "/") if matched else received.path

    def _authenticate(self, received: Received) -> None:
        header = received.header("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if not token or not any(issuer.is_valid(token) for issuer in self._issuers):
            raise Refused(
                401,
                "authError" if token else "required",
                "Request had invalid authentication credentials." if token else "Login Required.",
            )

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return error_reply(refused)

    def _handle(self, received: Received) -> Reply:
        matched = _PREFIX.match(received.path)
        if matched is None:
            raise Refused(404, "notFound", "Not Found")
        project, path = matched.group(1), (matched.group(2) or "/").rstrip("/")
        now = self.clock.seconds()
        for instance in self.instances.values():
            instance.settle(now)
        if path == "/global/images" and received.method == "GET":
            return self._images(received, project)
        if project != self.project:
            raise not_found(f"projects/{project}")
        for pattern, method, answer in self._routes():
            found = re.match(pattern, path)
            if found and received.method == method:
                return answer(received, *found.groups())
        if any(re.match(pattern, path) for pattern, _, _ in self._routes()):
            raise Refused(405, "methodNotAllowed", "Method not allowed")
        raise Refused(404, "notFound", "Not Found")

    def _routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        return [
            (r"^/aggregated/instances\Z", "GET", self._aggregated_instances),
            (r"^/aggregated/machineTypes\Z", "GET", self._aggregated_machine_types),
            (r"^/zones\Z", "GET", self._list_zones),
            (r"^/zones/([^/]+)/instances\Z", "GET", self._list_instances),
            (r"^/zones/([^/]+)/instances\Z", "POST", self._insert),
            (r"^/zones/([^/]+)/instances/([^/]+)\Z", "GET", self._get_instance),
            (r"^/zones/([^/]+)/instances/([^/]+)\Z", "DELETE", self._delete),
            (r"^/zones/([^/]+)/instances/([^/]+)/(start|stop|reset)\Z", "POST", self._act),
            (r"^/zones/([^/]+)/machineTypes\Z", "GET", self._list_machine_types),
            (r"^/zones/([^/]+)/operations/([^/]+)\Z", "GET", self._get_operation),
            *((pattern, method, getattr(self, name)) for pattern, method, name in VOLUME_ROUTES),
        ]

    # Endpoints

    def _zone(self, name: str) -> FakeZone:
        zone = self.zones.get(name)
        if zone is None:
            raise not_found(f"projects/{self.project}/zones/{name}")
        return zone

    def _instance_name(self, zone: str, name: str) -> str:
        return f"projects/{self.project}/zones/{zone}/instances/{name}"

    def _instance(self, zone: str, name: str) -> FakeInstance:
        self._zone(zone)
        instance = self.instances.get((zone, name))
        if instance is None:
            raise not_found(self._instance_name(zone, name))
        return instance

    def _aggregated_instances(self, received: Received) -> Reply:
        scoped = [
            (zone, self.instances[(zone, name)].resource(self.project))
            for zone in self.zones
            for (where, name) in sorted(self.instances)
            if where == zone
        ]
        kind, path = "compute#instanceAggregatedList", "/aggregated/instances"
        return aggregated_reply(received, kind, "instances", self.zones, scoped, self.project, path)

    def _aggregated_machine_types(self, received: Received) -> Reply:
        scoped = [
            (zone, machine_type.resource(self.project, zone))
            for zone in self.zones
            for machine_type in self.machine_types.values()
        ]
        kind, path = "compute#machineTypeAggregatedList", "/aggregated/machineTypes"
        return aggregated_reply(
            received, kind, "machineTypes", self.zones, scoped, self.project, path
        )

    def _list_zones(self, received: Received) -> Reply:
        items = [zone.resource(self.project) for zone in self.zones.values()]
        return listing_reply(received, "compute#zoneList", items, self.project, "/zones")

    def _list_instances(self, received: Received, zone: str) -> Reply:
        self._zone(zone)
        items = [
            instance.resource(self.project)
            for (where, _), instance in sorted(self.instances.items())
            if where == zone
        ]
        path = f"/zones/{zone}/instances"
        return listing_reply(received, "compute#instanceList", items, self.project, path)

    def _list_machine_types(self, received: Received, zone: str) -> Reply:
        self._zone(zone)
        items = [
            machine_type.resource(self.project, zone)
            for machine_type in self.machine_types.values()
        ]
        path = f"/zones/{zone}/machineTypes"
        return listing_reply(received, "compute#machineTypeList", items, self.project, path)

    def _images(self, received: Received, project: str) -> Reply:
        if project != self.project and project not in self.public_image_projects:
            raise not_found(f"projects/{project}")
        items = [
            image.resource()
            for (owner, _), image in sorted(self.images.items())
            if owner == project
        ]
        return listing_reply(received, "compute#imageList", items, project, "/global/images")

    def _get_instance(self, received: Received, zone: str, name: str) -> Reply:
        return json_reply(self._instance(zone, name).resource(self.project))

    def _get_operation(self, received: Received, zone: str, name: str) -> Reply:
        self._zone(zone)
        operation = self.operations.get(name)
        if operation is None or operation.zone != zone:
            raise not_found(f"projects/{self.project}/zones/{zone}/operations/{name}")
        return json_reply(operation.resource(self.project, self.clock.seconds()))

    def _operation(
        self,
        kind: str,
        zone: str | None,
        target: str,
        target_id: int,
        target_kind: str = "instances",
    ) -> tuple[FakeOperation, bool]:
        """A new operation, and whether it is to do its work (it was not made to fail)."""
        error = None
        for index, (failing, planned) in enumerate(self._failing_operations):
            if failing == kind:
                error = planned
                del self._failing_operations[index]
                break
        now = self.clock.seconds()
        number = self._new_id()
        operation = FakeOperation(
            id=number,
            name=f"operation-{int(now * 1000)}-{number:x}",
            zone=zone,
            kind=kind,
            target=target,
            target_id=target_id,
            created_at=now,
            done_at=now + self.operation_seconds,
            error=error,
            target_kind=target_kind,
        )
        self.operations[operation.name] = operation
        return operation, error is None

    def _reply_operation(self, operation: FakeOperation) -> Reply:
        # Google answers a change before it is done, whatever its duration.
        document = operation.resource(self.project, operation.created_at - 1)
        return json_reply(document)

    def _insert(self, received: Received, zone: str) -> Reply:
        self._zone(zone)
        try:
            body = received.json()
        except ValueError:
            raise invalid("Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received.")
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise invalid(
                f"Invalid value for field 'resource.name': '{name}'. Must be a match of regex "
                "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'"
            )
        machine_type = str(body.get("machineType", "")).rstrip("/").rsplit("/", 1)[-1]
        if machine_type not in self.machine_types:
            raise invalid(
                f"Invalid value for field 'resource.machineType': '{body.get('machineType')}'."
            )
        image, disk_size = self._boot_image(body.get("disks"))
        interfaces = body.get("networkInterfaces") or [{}]
        interface = interfaces[0] if isinstance(interfaces[0], dict) else {}
        network = str(interface.get("network", "global/networks/default")).rsplit("/", 1)[-1]
        if (zone, name) in self.instances:
            raise Refused(
                409,
                "alreadyExists",
                f"The resource '{self._instance_name(zone, name)}' already exists",
            )
        region = self.zones[zone].region
        used = sum(
            self.machine_types[i.machine_type].cpus
            for i in self.instances.values()
            if self.zones[i.zone].region == region and i.machine_type in self.machine_types
        )
        if used + self.machine_types[machine_type].cpus > self.cpu_quota:
            self._failing_operations.insert(
                0,
                (
                    "insert",
                    (
                        403,
                        "QUOTA_EXCEEDED",
                        f"Quota 'CPUS' exceeded.  Limit: {self.cpu_quota}.0 in region {region}.",
                    ),
                ),
            )
        operation, proceed = self._operation("insert", zone, name, 0)
        if proceed:
            instance = self.add_instance(
                name,
                zone,
                machine_type,
                status="PROVISIONING" if self.boot_seconds else "RUNNING",
                external_ip=bool(interface.get("accessConfigs")),
                source_image=image.resource()["selfLink"],
                disk_size_gb=disk_size or image.disk_size_gb,
                tags=(body.get("tags") or {}).get("items") or [],
                labels=body.get("labels"),
            )
            instance.network = network
            instance.metadata = list((body.get("metadata") or {}).get("items") or [])
            self._boot(instance, "PROVISIONING")
            operation.target_id = instance.id
        return self._reply_operation(operation)

    def _boot(self, instance: FakeInstance, passing: str) -> None:
        now = self.clock.seconds()
        if self.boot_seconds:
            instance.status = passing
            instance.changes = [
                (now + self.boot_seconds / 2, "STAGING"),
                (now + self.boot_seconds, "RUNNING"),
            ]
        else:
            instance.status = "RUNNING"

    def _boot_image(self, disks: Any) -> tuple[FakeImage, int | None]:
        boot = next((d for d in disks or [] if isinstance(d, dict) and d.get("boot")), None)
        params = boot.get("initializeParams") if boot else None
        source = params.get("sourceImage") if isinstance(params, dict) else None
        matched = _IMAGE.match(source) if isinstance(source, str) else None
        if matched is None:
            raise invalid(
                "Invalid value for field 'resource.disks[0].initializeParams.sourceImage'."
            )
        project, by_family, name = (
            matched.group(1) or self.project,
            matched.group(2),
            matched.group(3),
        )
        if by_family:
            found = [
                image
                for (owner, _), image in sorted(self.images.items())
                if owner == project and image.family == name and not image.deprecated
            ]
            if not found:
                raise not_found(f"projects/{project}/global/images/family/{name}")
            image = found[-1]
        else:
            if (project, name) not in self.images:
                raise not_found(f"projects/{project}/global/images/{name}")
            image = self.images[(project, name)]
        size = params.get("diskSizeGb") if isinstance(params, dict) else None
        return image, int(size) if isinstance(size, (int, str)) and str(size).isdigit() else None

    def _delete(self, received: Received, zone: str, name: str) -> Reply:
        instance = self._instance(zone, name)
        operation, proceed = self._operation("delete", zone, name, instance.id)
        if proceed:
            del self.instances[(zone, name)]
            self.release_disks(zone, name)
        return self._reply_operation(operation)

    def _act(self, received: Received, zone: str, name: str, action: str) -> Reply:
        instance = self._instance(zone, name)
        passing, final, allowed = _ACTIONS[action]
        if instance.status not in allowed:
            raise Refused(
                400,
                "resourceNotReady",
                f"The resource '{self._instance_name(zone, name)}' is not ready",
            )
        operation, proceed = self._operation(action, zone, name, instance.id)
        if proceed and action == "start":
            self._boot(instance, passing)
        elif proceed and action == "stop":
            instance.status = passing
            instance.changes = [(operation.done_at, final)]
            instance.settle(self.clock.seconds())
        return self._reply_operation(operation)
