"""
:class:`FakeDigitalOcean`: one in-memory DigitalOcean account and the
endpoints of the API v2 that read and change it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from treq.testing import RequestTraversalAgent
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request as ServerRequest
from twisted.web.server import Site

from txcloud.testing.digitalocean.models import (
    FakeDroplet,
    FakeImage,
    FakeKey,
    FakeRegion,
    FakeSize,
    fingerprint,
    iso_time,
    offered,
)
from txcloud.testing.digitalocean.serving import (
    ERROR_IDS,
    NOT_FOUND,
    Call,
    Fault,
    Faults,
    RateLimiter,
    Received,
    Refused,
    answer,
)
from txcloud.testing.digitalocean.volumes import (
    VOLUME_ROUTES,
    FakeSnapshot,
    FakeVolume,
    VolumeEndpoints,
)

__all__ = ["DEFAULT_TOKEN", "FakeDigitalOcean"]

#: The token a fake accepts unless given others.
DEFAULT_TOKEN = "dop_v1_fake0000000000000000000000000000000000000000000000000000000000"

_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$")
_MAX_USER_DATA = 64 * 1024
# Each droplet action, and the status it leaves the droplet in.
_ACTIONS = {
    "power_on": "active",
    "power_cycle": "active",
    "reboot": "active",
    "shutdown": "off",
    "power_off": "off",
}
_FIRST_DROPLET_ID = 3164444


class _API(Resource):
    """Everything under ``/v2``, routed by the fake."""

    isLeaf = True

    def __init__(self, fake: FakeDigitalOcean) -> None:
        super().__init__()
        self._fake = fake

    def render(self, request: ServerRequest) -> Any:
        return self._fake._handle(request)


class FakeDigitalOcean(VolumeEndpoints):
    """
    An in-memory DigitalOcean account behind the API v2.

    :param tokens: the personal access tokens it accepts (each has its own
        rate limit); :data:`DEFAULT_TOKEN` by default.
    :param clock: what time it is (``seconds()``) and what delays answers
        (``callLater``): a ``Clock`` in unit tests; the global reactor by default.
    :param catalogue: start with a few regions, sizes and images
        (:meth:`add_catalogue`).
    :ivar received: every request, as :class:`Received`, in order.
    :ivar regions: :class:`FakeRegion` by slug; ``sizes``: :class:`FakeSize`
        by slug; ``images``: :class:`FakeImage` by id; ``keys``:
        :class:`FakeKey` by id; ``droplets``: :class:`FakeDroplet` by id;
        ``volumes``: :class:`FakeVolume` by id; ``snapshots``:
        :class:`FakeSnapshot` by id.
    :ivar actions: the droplet actions taken, as the API showed them.
    :ivar latency: seconds each answer is delayed on the clock.
    :ivar boot_seconds: seconds a new droplet takes to become active.
    :ivar droplet_limit: droplets the account may have.
    """

    def __init__(
        self, tokens: Iterable[str] = (DEFAULT_TOKEN,), *, clock: Any = None, catalogue: bool = True
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.tokens = list(tokens)
        self.clock = clock
        self.received: list[Received] = []
        self.regions: dict[str, FakeRegion] = {}
        self.sizes: dict[str, FakeSize] = {}
        self.images: dict[int, FakeImage] = {}
        self.keys: dict[int, FakeKey] = {}
        self.droplets: dict[int, FakeDroplet] = {}
        self.volumes: dict[str, FakeVolume] = {}
        self.snapshots: dict[str, FakeSnapshot] = {}
        self.actions: list[dict[str, Any]] = []
        self.latency = 0.0
        self.boot_seconds = 0.0
        self.droplet_limit = 25
        self._faults = Faults()
        self._limiter = RateLimiter(limit=5000, window=3600.0)
        self._agents: list[RequestTraversalAgent] = []
        self._next_id = {
            "droplet": _FIRST_DROPLET_ID,
            "image": 100001,
            "key": 289794,
            "action": 7515,
            "volume": 1,
            "snapshot": 1,
        }
        self.resource = Resource()
        # Resource provides IResource through zope, which mypy cannot see.
        self.resource.putChild(b"v2", cast(IResource, _API(self)))
        if catalogue:
            self.add_catalogue()

    @property
    def token(self) -> str:
        """The first accepted token."""
        return self.tokens[0]

    # Serving

    def agent(self) -> RequestTraversalAgent:
        """An in-memory agent (for a driver's ``ex_agent``) that sends requests here."""
        agent = RequestTraversalAgent(self.resource)
        self._agents.append(agent)
        return agent

    def flush(self) -> None:
        """Deliver the answers written since the last flush to this fake's agents."""
        for agent in self._agents:
            agent.flush()

    def site(self) -> Site:
        """A ``Site`` to listen with on a real port."""
        return Site(self.resource)

    # Seeding

    def _new_id(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind] - 1

    def add_catalogue(self) -> None:
        """Add seven regions (``nyc1`` unavailable), four sizes and three public images."""
        for slug, name in (
            ("nyc1", "New York 1"),
            ("nyc3", "New York 3"),
            ("sfo3", "San Francisco 3"),
            ("ams3", "Amsterdam 3"),
            ("lon1", "London 1"),
            ("fra1", "Frankfurt 1"),
            ("sgp1", "Singapore 1"),
        ):
            self.add_region(slug, name, available=slug != "nyc1")
        for slug, memory, vcpus, disk, transfer, monthly in (
            ("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0),
            ("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0),
            ("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0),
            ("s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0),
        ):
            self.add_size(slug, memory, vcpus, disk, transfer=transfer, price_monthly=monthly)
        self.add_image("24.04 (LTS) x64", slug="ubuntu-24-04-x64")
        self.add_image("12 x64", slug="debian-12-x64", distribution="Debian")
        self.add_image("Docker on Ubuntu 22.04", slug="docker-20-04", kind="application")

    def add_region(self, slug: str, name: str, *, available: bool = True) -> FakeRegion:
        """Add (or replace) a region."""
        region = self.regions[slug] = FakeRegion(slug, name, available)
        return region

    def add_size(
        self,
        slug: str,
        memory: int,
        vcpus: int,
        disk: int,
        *,
        transfer: float = 1.0,
        price_monthly: float = 6.0,
        regions: list[str] | None = None,
        available: bool = True,
    ) -> FakeSize:
        """Add (or replace) a size, offered in *regions* (every region by default)."""
        size = FakeSize(slug, memory, vcpus, disk, transfer, price_monthly, regions, available)
        self.sizes[slug] = size
        return size

    def add_image(
        self,
        name: str,
        *,
        slug: str | None = None,
        distribution: str = "Ubuntu",
        kind: str = "distribution",
        regions: list[str] | None = None,
        tags: Iterable[str] = (),
    ) -> FakeImage:
        """Add an image; *kind* is ``"distribution"``, ``"application"`` or ``"private"``."""
        if kind not in ("distribution", "application", "private"):
            raise ValueError(f"unknown image kind {kind!r}")
        image_id = self._new_id("image")
        created = self.clock.seconds()
        image = FakeImage(image_id, name, slug, distribution, kind, created, regions, list(tags))
        self.images[image.id] = image
        return image

    def add_key(self, name: str, public_key: str) -> FakeKey:
        """Upload a public key as the API would; it must be a valid OpenSSH key."""
        key = FakeKey(self._new_id("key"), name, public_key, fingerprint(public_key))
        self.keys[key.id] = key
        return key

    def add_droplet(
        self,
        name: str,
        *,
        region: str = "nyc3",
        size: str = "s-1vcpu-1gb",
        image: str | int = "ubuntu-24-04-x64",
        status: str = "active",
        tags: Iterable[str] = (),
    ) -> FakeDroplet:
        """Add a droplet (with addresses of its own) to known region, size and image."""
        found = self._image(image)
        if region not in self.regions or size not in self.sizes or found is None:
            raise ValueError("add the droplet's region, size and image first")
        droplet_id = self._new_id("droplet")
        host = droplet_id - _FIRST_DROPLET_ID
        droplet = FakeDroplet(
            id=droplet_id,
            name=name,
            region=region,
            size=size,
            image=found.id,
            status=status,
            created_at=self.clock.seconds(),
            public_ip=f"203.0.{113 + host // 250}.{host % 250 + 2}",
            private_ip=f"10.108.{host // 250}.{host % 250 + 2}",
            tags=list(tags),
        )
        self.droplets[droplet.id] = droplet
        return droplet

    # Faults

    def fail(
        self,
        path: str,
        status: int,
        *,
        method: str | None = None,
        error_id: str | None = None,
        message: str = "injected failure",
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """
        Answer the next *times* requests for *path* (``"/v2/droplets"``; the
        query string is not compared) with *status* and an error body.
        Requests are authenticated and counted against the rate limit first.

        :param method: only requests with this method; any by default.
        :param error_id: the body's ``id``; DigitalOcean's for *status* by default.
        :param headers: more headers for the answer (``{"Retry-After": "3"}``).
        :param times: how many requests to fail; ``None`` for every one.
        """
        error_id = error_id or ERROR_IDS.get(status, "error")
        method = method.upper() if method else None
        fault = Fault(
            method, path.rstrip("/"), status, error_id, message, dict(headers or {}), times
        )
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Forget every fault :meth:`fail` set up."""
        self._faults.clear()

    def rate_limit(self, limit: int, window: float = 3600.0, retry_after: bool = False) -> None:
        """
        Allow each token *limit* requests per sliding *window* seconds (5,000
        per hour until told otherwise); over it, answer 429.

        :param retry_after: also send ``Retry-After`` with 429 answers (as
            DigitalOcean does for its per-minute burst limit).
        """
        self._limiter = RateLimiter(limit, window, retry_after)

    # Serving a request

    def _handle(self, request: ServerRequest) -> Any:
        received = Received.of(request, request.content.read() if request.content else b"")
        self.received.append(received)
        request_id = f"9a1f2c3d-0000-4000-8000-{len(self.received):012d}"
        request.setHeader("x-request-id", request_id)
        request.setHeader("content-type", "application/json; charset=utf-8")
        try:
            token = self._authenticate(received.headers.get("authorization", ""))
            self._limiter.count(request, token, self.clock.seconds())
            self._faults.raise_for(request, received.method, received.path)
            status, document = self._route(request, received)
        except Refused as refused:
            status = refused.status
            document = {
                "id": refused.error_id,
                "message": refused.message,
                "request_id": request_id,
            }
        return answer(request, status, document, self.clock, self.latency)

    def _authenticate(self, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise Refused(401, "Unable to authenticate you")
        return token

    def _route(self, request: ServerRequest, received: Received) -> tuple[int, Any]:
        allowed = False
        for pattern, verb, endpoint in _ROUTES:
            match = pattern.match(received.path)
            if match is None:
                continue
            allowed = True
            if verb == received.method:
                return endpoint(self, Call(request, received, match.groups()))
        if allowed:
            raise Refused(405, f"{received.method} is not allowed on {received.path}")
        raise Refused(404, NOT_FOUND)

    # Rendering and lookups

    def _region_json(self, slug: str) -> dict[str, Any]:
        return self.regions[slug].to_json(self.sizes.values())

    def _size_json(self, slug: str) -> dict[str, Any]:
        return self.sizes[slug].to_json(self.regions)

    def _image_json(self, image: FakeImage) -> dict[str, Any]:
        return image.to_json(self.regions)

    def _droplet_json(self, droplet: FakeDroplet) -> dict[str, Any]:
        droplet.refresh(self.clock.seconds())
        return droplet.to_json(
            self._size_json(droplet.size),
            self._image_json(self.images[droplet.image]),
            self._region_json(droplet.region),
        )

    def _image(self, ref: object) -> FakeImage | None:
        # An id (number or digits) or a slug.
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.images.get(ref)
        if not isinstance(ref, str):
            return None
        return next((image for image in self.images.values() if image.slug == ref), None)

    def _key(self, ref: object) -> FakeKey | None:
        # An id (number or digits) or a fingerprint.
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.keys.get(ref)
        return next((key for key in self.keys.values() if key.fingerprint == ref), None)

    def _found_key(self, ref: str) -> FakeKey:
        key = self._key(ref)
        if key is None:
            raise Refused(404, NOT_FOUND)
        return key

    def _droplet(self, ref: str) -> FakeDroplet:
        droplet = self.droplets.get(int(ref)) if ref.isdigit() else None
        if droplet is None:
            raise Refused(404, NOT_FOUND)
        return droplet

    # Endpoints

    def _get_account(self, call: Call) -> tuple[int, Any]:
        account = {
            "droplet_limit": self.droplet_limit,
            "floating_ip_limit": 3,
            "email": "sammy@example.com",
            "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
            "email_verified": True,
            "status": "active",
            "status_message": "",
        }
        return 200, {"account": account}

    def _list_droplets(self, call: Call) -> tuple[int, Any]:
        tag = call.arg("tag_name")
        droplets = [d for d in self.droplets.values() if tag is None or tag in d.tags]
        return 200, call.page("droplets", [self._droplet_json(d) for d in droplets])

    def _get_droplet(self, call: Call) -> tuple[int, Any]:
        return 200, {"droplet": self._droplet_json(self._droplet(call.groups[0]))}

    def _delete_droplet(self, call: Call) -> tuple[int, Any]:
        del self.droplets[self._droplet(call.groups[0]).id]
        return 204, None

    def _create_droplet(self, call: Call) -> tuple[int, Any]:
        spec = call.json()
        if "names" in spec:
            raise Refused(422, "This fake creates one droplet per request.")
        name = spec.get("name")
        if not isinstance(name, str) or not _HOSTNAME.match(name):
            raise Refused(422, "A name holds only letters, digits, '.' and '-'.")
        size = spec.get("size")
        if size not in self.sizes:
            raise Refused(422, "You specified an invalid size for Droplet creation.")
        image = self._image(spec.get("image"))
        if image is None:
            raise Refused(422, "You specified an invalid image for Droplet creation.")
        region = self._pick_region(spec.get("region"), size)
        keys = [self._key(ref) for ref in spec.get("ssh_keys") or []]
        user_data = spec.get("user_data")
        tags = spec.get("tags") or []
        if None in keys:
            raise Refused(422, "One of the SSH keys given is not on this account.")
        if user_data is not None and not (
            isinstance(user_data, str) and len(user_data.encode()) <= _MAX_USER_DATA
        ):
            raise Refused(422, "user_data must be text of at most 64 KiB.")
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise Refused(422, "tags must be a list of strings.")
        if len(self.droplets) >= self.droplet_limit:
            raise Refused(422, "You have reached the droplet limit of this account.")
        droplet = self.add_droplet(name, region=region, size=size, image=image.id, tags=tags)
        droplet.status = "new"
        droplet.active_at = self.clock.seconds() + self.boot_seconds
        droplet.ssh_keys = [key.id for key in keys if key is not None]
        droplet.user_data = user_data
        droplet.features += [f for f in ("backups", "ipv6", "monitoring") if spec.get(f) is True]
        # The answer is written before the droplet boots, whatever boot_seconds says.
        rendered = droplet.to_json(
            self._size_json(size), self._image_json(image), self._region_json(region)
        )
        action_id = self._new_id("action")
        href = f"{call.base_url()}/v2/actions/{action_id}"
        links = {"actions": [{"id": action_id, "rel": "create", "href": href}]}
        return 202, {"droplet": rendered, "links": links}

    def _pick_region(self, wanted: object, size: str) -> str:
        # A slug, a data-centre prefix ("nyc"), or nothing: any region will do.
        matching = [
            region
            for region in self.regions.values()
            if wanted is None or wanted in (region.slug, region.slug[:3])
        ]
        if not matching:
            raise Refused(422, "You specified an invalid region for Droplet creation.")
        offered_in = self.sizes[size].regions
        usable = [r.slug for r in matching if r.available and offered(offered_in, r.slug)]
        if not usable:
            raise Refused(422, "This size is not available in the region chosen.")
        return usable[0]

    def _droplet_action(self, call: Call) -> tuple[int, Any]:
        droplet = self._droplet(call.groups[0])
        droplet.refresh(self.clock.seconds())
        kind = call.json().get("type")
        if kind not in _ACTIONS:
            raise Refused(422, f"The action type {kind!r} is not supported.")
        if droplet.status == "new":
            raise Refused(422, "The droplet is still being created.")
        if kind == "power_on" and droplet.status == "active":
            raise Refused(422, "Droplet is already powered on.")
        if kind in ("shutdown", "power_off") and droplet.status == "off":
            raise Refused(422, "Droplet is already powered off.")
        if kind == "reboot" and droplet.status == "off":
            raise Refused(422, "The droplet is powered off: power it on instead.")
        droplet.status = _ACTIONS[kind]
        return 201, {"action": self._record_action(kind, droplet.id, "droplet", droplet.region)}

    def _record_action(
        self, kind: str, resource_id: int | None, resource_type: str, region: str
    ) -> dict[str, Any]:
        """Record an action begun now, as the API shows it."""
        action = {
            "id": self._new_id("action"),
            "status": "in-progress",
            "type": kind,
            "started_at": iso_time(self.clock.seconds()),
            "completed_at": None,
            "resource_id": resource_id,
            "resource_type": resource_type,
            "region": self._region_json(region),
            "region_slug": region,
        }
        self.actions.append(action)
        return action

    def _list_sizes(self, call: Call) -> tuple[int, Any]:
        return 200, call.page("sizes", [self._size_json(slug) for slug in self.sizes])

    def _list_regions(self, call: Call) -> tuple[int, Any]:
        return 200, call.page("regions", [self._region_json(slug) for slug in self.regions])

    def _list_images(self, call: Call) -> tuple[int, Any]:
        kind = call.arg("type")
        if kind not in (None, "distribution", "application"):
            raise Refused(400, "type must be 'distribution' or 'application'.")
        private = call.arg("private") == "true"
        tag = call.arg("tag_name")
        images = [
            image
            for image in self.images.values()
            if (not private or image.kind == "private")
            and (kind is None or image.kind == kind)
            and (tag is None or tag in image.tags)
        ]
        return 200, call.page("images", [self._image_json(image) for image in images])

    def _get_image(self, call: Call) -> tuple[int, Any]:
        image = self._image(call.groups[0])
        if image is None:
            raise Refused(404, NOT_FOUND)
        return 200, {"image": self._image_json(image)}

    def _list_keys(self, call: Call) -> tuple[int, Any]:
        return 200, call.page("ssh_keys", [key.to_json() for key in self.keys.values()])

    def _create_key(self, call: Call) -> tuple[int, Any]:
        spec = call.json()
        name, public_key = spec.get("name"), spec.get("public_key")
        if not isinstance(name, str) or not name:
            raise Refused(422, "Name is required.")
        if not isinstance(public_key, str):
            raise Refused(422, "Public key is required.")
        try:
            key_fingerprint = fingerprint(public_key)
        except ValueError as e:
            raise Refused(422, f"Key invalid: {e}") from None
        if any(key.fingerprint == key_fingerprint for key in self.keys.values()):
            raise Refused(422, "SSH Key is already in use on your account")
        return 201, {"ssh_key": self.add_key(name, public_key.strip()).to_json()}

    def _get_key(self, call: Call) -> tuple[int, Any]:
        return 200, {"ssh_key": self._found_key(call.groups[0]).to_json()}

    def _delete_key(self, call: Call) -> tuple[int, Any]:
        del self.keys[self._found_key(call.groups[0]).id]
        return 204, None


_Endpoint = Callable[[FakeDigitalOcean, Call], tuple[int, Any]]

# (path, method, endpoint); a path that matches with another method is a 405.
_ROUTES: list[tuple[re.Pattern[str], str, _Endpoint]] = [
    (re.compile(pattern), method, endpoint)
    for pattern, method, endpoint in (
        (r"^/v2/account$", "GET", FakeDigitalOcean._get_account),
        (r"^/v2/droplets$", "GET", FakeDigitalOcean._list_droplets),
        (r"^/v2/droplets$", "POST", FakeDigitalOcean._create_droplet),
        (r"^/v2/droplets/([^/]+)$", "GET", FakeDigitalOcean._get_droplet),
        (r"^/v2/droplets/([^/]+)$", "DELETE", FakeDigitalOcean._delete_droplet),
        (r"^/v2/droplets/([^/]+)/actions$", "POST", FakeDigitalOcean._droplet_action),
        (r"^/v2/sizes$", "GET", FakeDigitalOcean._list_sizes),
        (r"^/v2/regions$", "GET", FakeDigitalOcean._list_regions),
        (r"^/v2/images$", "GET", FakeDigitalOcean._list_images),
        (r"^/v2/images/([^/]+)$", "GET", FakeDigitalOcean._get_image),
        (r"^/v2/account/keys$", "GET", FakeDigitalOcean._list_keys),
        (r"^/v2/account/keys$", "POST", FakeDigitalOcean._create_key),
        (r"^/v2/account/keys/([^/]+)$", "GET", FakeDigitalOcean._get_key),
        (r"^/v2/account/keys/([^/]+)$", "DELETE", FakeDigitalOcean._delete_key),
        *(
            (pattern, method, getattr(FakeDigitalOcean, name))
            for pattern, method, name in VOLUME_ROUTES
        ),
    )
]
