"""
:class:`FakeOpenStack`: one in-memory OpenStack cloud, Keystone, Nova,
Glance and Cinder in every region, behind the paths its catalog names.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from txcloud.compute.drivers.openstack import OpenStackNodeDriver
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing.digitalocean.models import fingerprint
from txcloud.testing.openstack._compute import ComputeActions, NovaCall
from txcloud.testing.openstack._identity import Grant, IdentityActions, keystone_error
from txcloud.testing.openstack._models import (
    FakeAppCredential,
    FakeFlavor,
    FakeImage,
    FakeKeyPair,
    FakeServer,
    FakeUser,
)
from txcloud.testing.openstack._paging import json_answer, nova_error, page
from txcloud.testing.openstack._volumes import FakeSnapshot, FakeVolume, VolumeActions

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_PROJECT",
    "DEFAULT_REGIONS",
    "DEFAULT_USER",
    "FakeOpenStack",
]

#: The user :meth:`FakeOpenStack.driver` authenticates as, its password and project.
DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "correct-horse-battery-staple"
DEFAULT_PROJECT = "demo"
#: The regions a fake serves unless told others.
DEFAULT_REGIONS = ("RegionOne", "RegionTwo")

_COMPUTE = re.compile(r"^/compute/([^/]+)/v2\.1(/.*)?$")
_IMAGE = re.compile(r"^/image/([^/]+)/v2(/.*)?$")
_VOLUME = re.compile(r"^/volume/([^/]+)/v3(/.*)?$")

# (method, path under the version, endpoint)
_NovaEndpoint = Callable[["FakeOpenStack", NovaCall], Reply]
_NOVA_ROUTES: list[tuple[str, re.Pattern[str], _NovaEndpoint]] = [
    (method, re.compile(pattern), endpoint)
    for method, pattern, endpoint in (
        ("GET", r"^/servers/detail$", ComputeActions._servers_detail),
        ("POST", r"^/servers$", ComputeActions._create_server),
        ("GET", r"^/servers/([^/]+)$", ComputeActions._get_server),
        ("DELETE", r"^/servers/([^/]+)$", ComputeActions._delete_server),
        ("POST", r"^/servers/([^/]+)/action$", ComputeActions._server_action),
        ("GET", r"^/flavors/detail$", ComputeActions._flavors_detail),
        ("GET", r"^/os-availability-zone$", ComputeActions._availability_zones),
        ("GET", r"^/os-keypairs$", ComputeActions._list_key_pairs),
        ("POST", r"^/os-keypairs$", ComputeActions._create_key_pair),
        ("GET", r"^/os-keypairs/([^/]+)$", ComputeActions._get_key_pair),
        ("DELETE", r"^/os-keypairs/([^/]+)$", ComputeActions._delete_key_pair),
        ("POST", r"^/servers/([^/]+)/os-volume_attachments$", VolumeActions._attach_volume),
        (
            "DELETE",
            r"^/servers/([^/]+)/os-volume_attachments/([^/]+)$",
            VolumeActions._detach_volume,
        ),
    )
]


class FakeOpenStack(FakeService, IdentityActions, ComputeActions, VolumeActions):
    """
    An in-memory OpenStack cloud (see :mod:`txcloud.testing.openstack`).

    :param clock: what expires tokens, boots servers and delays answers: a
        ``Clock`` in unit tests; the global reactor by default.
    :param regions: the regions it serves (each has Nova, Glance and Cinder).
    :param catalogue: start with the default user, project, four flavors
        and three images.
    :ivar users: :class:`FakeUser` by name; ``projects``: project ids by name.
    :ivar app_credentials: :class:`FakeAppCredential` by id.
    :ivar grants: every token issued, as :class:`Grant`, in order.
    :ivar servers: :class:`FakeServer` by id; ``flavors``: :class:`FakeFlavor`
        by id; ``images``: :class:`FakeImage` by id; ``key_pairs``:
        :class:`FakeKeyPair` by name; ``zones``: each availability zone's
        availability; ``volumes``: :class:`FakeVolume` and ``snapshots``:
        :class:`FakeSnapshot` by id; ``volume_types``: Cinder's volume types,
        the default first.
    :ivar token_lifetime: seconds a new token is valid for.
    :ivar max_limit: Nova's largest page (and its default).
    :ivar image_page_size: Glance's default page size.
    :ivar boot_seconds: seconds a new server stays ``BUILD``.
    :ivar instance_quota: servers a project may have.
    :ivar volume_seconds: seconds a new volume or snapshot stays ``creating``.
    :ivar scheme: ``"http"``, or ``"https"`` when served over TLS (for the catalog's URLs).
    """

    def __init__(
        self,
        *,
        clock: Any = None,
        regions: Iterable[str] = DEFAULT_REGIONS,
        catalogue: bool = True,
    ) -> None:
        super().__init__(clock)
        self.regions = list(regions)
        self.users: dict[str, FakeUser] = {}
        self.projects: dict[str, str] = {}
        self.app_credentials: dict[str, FakeAppCredential] = {}
        self.grants: list[Grant] = []
        self.servers: dict[str, FakeServer] = {}
        self.flavors: dict[str, FakeFlavor] = {}
        self.images: dict[str, FakeImage] = {}
        self.key_pairs: dict[str, FakeKeyPair] = {}
        self.zones: dict[str, bool] = {"nova": True}
        self.volumes: dict[str, FakeVolume] = {}
        self.snapshots: dict[str, FakeSnapshot] = {}
        self.volume_types = ["lvmdriver-1", "ssd"]
        self.volume_seconds = 0.0
        self.token_lifetime = 3600.0
        self.max_limit = 1000
        self.image_page_size = 25
        self.boot_seconds = 0.0
        self.instance_quota = 10
        self.scheme = "http"
        self._revoked: set[str] = set()
        self._hosts = 0
        if catalogue:
            self.add_catalogue()

    # Seeding

    def add_catalogue(self) -> None:
        """Add the default user and project, four flavors and three public images."""
        self.add_user(DEFAULT_USER, DEFAULT_PASSWORD, [DEFAULT_PROJECT])
        for flavor_id, name, ram, vcpus, disk in (
            ("1", "m1.tiny", 512, 1, 1),
            ("2", "m1.small", 2048, 1, 20),
            ("3", "m1.medium", 4096, 2, 40),
            ("4", "m1.large", 8192, 4, 80),
        ):
            self.add_flavor(flavor_id, name, ram, vcpus, disk)
        self.add_image("ubuntu-24.04", os_distro="ubuntu")
        self.add_image("debian-12", os_distro="debian")
        self.add_image("cirros-0.6.2", os_distro="cirros")

    def add_user(
        self, name: str, password: str, projects: Iterable[str], domain: str = "Default"
    ) -> FakeUser:
        """Add a user who may scope tokens to *projects* (created as needed)."""
        for project in projects:
            self.projects.setdefault(project, uuid.uuid4().hex)
        user = FakeUser(uuid.uuid4().hex, name, password, list(projects), domain)
        self.users[name] = user
        return user

    def add_app_credential(
        self, name: str, secret: str, user: str = DEFAULT_USER, project: str | None = None
    ) -> FakeAppCredential:
        """Add an application credential of *user* in *project* (its first by default)."""
        owner = self.users[user]
        credential = FakeAppCredential(
            uuid.uuid4().hex, name, secret, user, project or owner.projects[0]
        )
        self.app_credentials[credential.id] = credential
        return credential

    def add_flavor(
        self, flavor_id: str, name: str, ram: int, vcpus: int, disk: int, **extra: Any
    ) -> FakeFlavor:
        """Add (or replace) a flavor."""
        flavor = self.flavors[flavor_id] = FakeFlavor(flavor_id, name, ram, vcpus, disk, **extra)
        return flavor

    def add_image(self, name: str, *, status: str = "active", **extra: Any) -> FakeImage:
        """Add an image; ``status`` other than ``active`` keeps it out of default listings."""
        image = FakeImage(str(uuid.uuid4()), name, self.clock.seconds(), status, **extra)
        self.images[image.id] = image
        return image

    def add_key_pair(self, name: str, public_key: str, user: str = DEFAULT_USER) -> FakeKeyPair:
        """Import *public_key* as *user*'s key pair *name*."""
        pair = FakeKeyPair(name, public_key, fingerprint(public_key), user, self.clock.seconds())
        self.key_pairs[name] = pair
        return pair

    def _new_host(self) -> int:
        self._hosts += 1
        return self._hosts - 1

    # Drivers

    def driver(
        self,
        region: str | None = "RegionOne",
        *,
        reactor: Any = None,
        host: str = "openstack.test",
        **kwargs: Any,
    ) -> OpenStackNodeDriver:
        """
        A real :class:`~txcloud.compute.drivers.openstack.OpenStackNodeDriver`
        of *region*, authenticated as the default user (password) unless
        *kwargs* say otherwise, whose requests come here through a new
        :meth:`agent`.

        :param host: the host name in the URLs (any: the agent answers for all).
        :param reactor: the driver's reactor; this fake's clock by default.
        :param kwargs: more driver arguments (``key``, ``secret``,
            ``ex_agent`` to share one agent between drivers...).
        """
        arguments: dict[str, Any] = {
            "ex_force_auth_url": f"{self.scheme}://{host}/v3",
            "ex_tenant_name": DEFAULT_PROJECT,
            "reactor": self.clock if reactor is None else reactor,
        }
        arguments.update(kwargs)
        key = arguments.pop("key", DEFAULT_USER)
        secret = arguments.pop("secret", DEFAULT_PASSWORD)
        if "ex_agent" not in arguments:
            arguments["ex_agent"] = self.agent()
        return OpenStackNodeDriver(key, secret, region=region, **arguments)

    # Faults

    def fail(
        self,
        target: str,
        status: int,
        message: str = "injected failure",
        *,
        method: str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """
        Answer the next *times* requests about *target* with Nova's error
        body for *status* (``{"overLimit": {...}}`` for 413...).

        :param target: a pattern (``fnmatch``) of ``SERVICE/REGION/PATH``:
            ``"compute/RegionOne/servers/detail"``, ``"image/*"``,
            ``"identity/auth/tokens"``.
        :param headers: more headers (``{"Retry-After": "3"}``).
        :param times: how many requests; ``None`` for every one.
        """
        error = nova_error(status, message, dict(headers or {}))
        self._add_fault([target], method, times, error)

    # Serving

    def _base(self, received: Received) -> str:
        return f"{self.scheme}://{received.header('host') or 'openstack.test'}"

    def _catalog(self, base: str) -> list[dict[str, Any]]:
        def endpoints(path: str) -> list[dict[str, Any]]:
            return [
                {
                    "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{region}{path}{interface}").hex,
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": f"{base}{path.format(region=region)}",
                }
                for region in self.regions
                for interface in ("public", "internal")
            ]

        return [
            {
                "type": "identity",
                "name": "keystone",
                "id": "0a4d5e2b",
                "endpoints": endpoints("/v3"),
            },
            {
                "type": "compute",
                "name": "nova",
                "id": "1b5e6f3c",
                "endpoints": endpoints("/compute/{region}/v2.1"),
            },
            {
                "type": "image",
                "name": "glance",
                "id": "2c6f7a4d",
                "endpoints": endpoints("/image/{region}"),
            },
            {
                # Without the project in the URL, as microversion 3.67 allows.
                "type": "block-storage",
                "name": "cinder",
                "id": "3d7a8b5e",
                "endpoints": endpoints("/volume/{region}/v3"),
            },
        ]

    def _target(self, received: Received) -> str:
        path = received.path.rstrip("/")
        for service, pattern in (("compute", _COMPUTE), ("image", _IMAGE), ("volume", _VOLUME)):
            found = pattern.match(path)
            if found is not None:
                return f"{service}/{found[1]}{found[2] or ''}"
        return f"identity{path.removeprefix('/v3')}"

    def _common_headers(self, received: Received) -> Mapping[str, str]:
        request_id = f"req-{uuid.UUID(int=len(self.received))}"
        return {"x-openstack-request-id": request_id}

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        if refused.details.get("style") == "keystone":
            document: Any = {
                "error": {
                    "code": refused.status,
                    "title": refused.code,
                    "message": refused.message,
                }
            }
            return json_answer(document, refused.status, refused.headers)
        if received.path.startswith("/image/"):
            # Glance writes its errors as text.
            text = f"{refused.status} {refused.code}\n\n{refused.message}\n\n"
            headers = {"Content-Type": "text/plain; charset=UTF-8", **refused.headers}
            return Reply(refused.status, headers, text.encode("utf-8"))
        document = {refused.code: {"code": refused.status, "message": refused.message}}
        return json_answer(document, refused.status, refused.headers)

    def _handle(self, received: Received) -> Reply:
        path = received.path.rstrip("/")
        if path == "/v3/auth/tokens":
            if received.method != "POST":
                raise keystone_error(405, "The method is not allowed for the requested URL.")
            return self._issue_token(received, self._base(received))
        services = ((_COMPUTE, self._nova), (_IMAGE, self._glance), (_VOLUME, self._cinder))
        for pattern, serve in services:
            found = pattern.match(path)
            if found is not None:
                region, rest = found[1], found[2] or "/"
                if region not in self.regions:
                    raise nova_error(404, f"No region {region} here")
                grant = self.grant_for(received.header("x-auth-token"))
                return serve(received, region, rest, grant)
        raise nova_error(404, "The resource could not be found.")

    def _nova(self, received: Received, region: str, rest: str, grant: Grant) -> Reply:
        base = f"{self._base(received)}/compute/{region}/v2.1"
        allowed = False
        for method, pattern, endpoint in _NOVA_ROUTES:
            found = pattern.match(rest)
            if found is None:
                continue
            allowed = True
            if method == received.method:
                return endpoint(self, NovaCall(received, region, base, grant, found.groups()))
        if allowed:
            raise nova_error(405, "The method is not allowed for the requested URL.")
        raise nova_error(404, "The resource could not be found.")

    def _glance(self, received: Received, region: str, rest: str, grant: Grant) -> Reply:
        if received.method != "GET":
            raise Refused(405, "Method Not Allowed", "The fake's Glance only reads.")
        if rest == "/images":
            status = received.arg("status")
            listed = [
                image
                for image in self.images.values()
                if (status is None or image.status == status)
                and (image.visibility == "public" or image.owner == self.projects[grant.project])
            ]
            chosen, next_query = page(
                received,
                listed,
                lambda image: image.id,
                default_limit=self.image_page_size,
                max_limit=1000,
            )
            document: dict[str, Any] = {
                "images": [image.to_json() for image in chosen],
                "first": "/v2/images",
                "schema": "/v2/schemas/images",
            }
            if next_query is not None:
                document["next"] = f"/v2/images?{next_query}"
            return json_answer(document)
        found = re.match(r"^/images/([^/]+)$", rest)
        if found is not None and found[1] in self.images:
            return json_answer(self.images[found[1]].to_json())
        missing = found[1] if found else rest
        raise Refused(404, "Not Found", f"No image found with ID {missing}")
