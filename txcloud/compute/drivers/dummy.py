"""
An in-memory compute cloud that needs no network and no credentials.

:class:`DummyNodeDriver` backs the ``txcloud`` command's defaults, the
documentation's examples and tests of code built on txcloud.  Its data is
deterministic: sizes and images are fixed, and the locations and the initial
nodes (ids, names, addresses) are derived from a hash of the region, so two
drivers for the same region hold equal data and drivers for different
regions hold different data.

How it behaves, call by call:

* Arguments are checked when a method is called, and bad ones raise
  :class:`~txcloud.errors.InvalidArgumentError` at once, before anything is
  "sent".
* The call is then "served" after ``ex_latency`` seconds on the driver's
  reactor (synchronously when the latency is 0): only then does the cloud's
  state change, so cancelling a call before it is served changes nothing.
  Errors the provider would report (an unknown node, a duplicate key pair)
  fail the Deferred at that point, as does ``ex_fail_with``.
* Every model returned is a fresh snapshot: changing it changes nothing in
  the cloud, and a later call does not update it; list again to see changes.
* ``create_node`` makes a ``PENDING`` node, ``start_node`` a ``STARTING``
  one and ``reboot_node`` a ``REBOOTING`` one; each becomes ``RUNNING``
  ``ex_boot_time`` seconds later by the reactor's clock (at once when
  ``ex_boot_time`` is 0, the default).  ``stop_node`` stops a node at once;
  ``reboot_node`` refuses a stopped node; starting a running node or
  stopping a stopped one does nothing.  ``destroy_node`` removes the node, so
  later listings leave it out (as Libcloud's dummy driver does).
* ``create_key_pair`` makes a real Ed25519 key; its private half is returned
  once, in that call's result, and never kept.  Key material is the only
  data that is not deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_ssh_public_key,
)
from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.task import deferLater

from txcloud.common.base import DEFAULT_TIMEOUT
from txcloud.common.checks import check_text
from txcloud.compute.base import KeyPair, Node, NodeDriver, NodeImage, NodeLocation, NodeSize
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    NodeError,
    NodeNotFoundError,
)

__all__ = ["DEFAULT_REGION", "DummyNodeDriver"]

_T = TypeVar("_T")

#: The region of a driver constructed without one.
DEFAULT_REGION = "dummy-1"

# id: (name, ram MiB, disk GiB, bandwidth GiB/month, price per hour, vCPUs)
_SIZES: dict[str, tuple[str, int, int, int, float, int]] = {
    "small": ("Small", 1024, 25, 1000, 0.01, 1),
    "medium": ("Medium", 2048, 50, 2000, 0.02, 2),
    "large": ("Large", 4096, 80, 4000, 0.04, 2),
    "xlarge": ("Extra Large", 8192, 160, 5000, 0.08, 4),
}

# id: (name, operating system)
_IMAGES: dict[str, tuple[str, str]] = {
    "ubuntu-24.04": ("Ubuntu 24.04 LTS", "linux"),
    "debian-12": ("Debian 12", "linux"),
    "fedora-41": ("Fedora 41", "linux"),
    "windows-2022": ("Windows Server 2022", "windows"),
}

_ZONES = ("a", "b", "c")
_COUNTRIES = ("US", "IE", "DE", "FR", "GB", "JP", "SG", "AU", "BR", "CA")

# Addresses from ranges that are never routed on the internet: RFC 2544's
# benchmarking block stands in for public addresses.
_PUBLIC_NETWORK = ipaddress.IPv4Network("198.18.0.0/15")
_PRIVATE_NETWORK = ipaddress.IPv4Network("10.0.0.0/8")

# Initial nodes were "created" at fixed times so that their data does not
# depend on when the driver was made.
_INITIAL_CREATED_AT = datetime(2024, 1, 1, tzinfo=timezone.utc)


@attrs.define
class _NodeRecord:
    """The cloud's own copy of a node; models are built from it on each answer."""

    id: str
    name: str
    state: NodeState
    public_ips: list[str]
    private_ips: list[str]
    size_id: str
    image_id: str
    location_id: str
    created_at: datetime
    key_name: str | None = None
    #: When a transitional state turns into RUNNING, by the reactor's clock.
    ready_at: float | None = None


@attrs.frozen
class _KeyRecord:
    name: str
    public_key: str
    fingerprint: str
    key_type: str


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()


def _address(network: ipaddress.IPv4Network, block: bytes, index: int) -> str:
    # Each region owns a /24-sized block of the network; node n gets host n + 1.
    offset = int.from_bytes(block, "big") * 256 + index + 1
    return str(network[offset % network.num_addresses])


def _fingerprint(public_key: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line."""
    blob = base64.b64decode(public_key.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode()
    return "SHA256:" + digest.rstrip("=")


def _checked_addresses(addresses: list[str] | None, argument: str) -> list[str] | None:
    if addresses is None:
        return None
    if isinstance(addresses, str):
        raise InvalidArgumentError(f"{argument} must be a list of addresses, not a string")
    try:
        if not all(isinstance(address, str) for address in addresses):
            raise TypeError
        return [str(ipaddress.ip_address(address)) for address in addresses]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{argument} must hold IP addresses: {addresses!r}") from None


class DummyNodeDriver(NodeDriver):
    """
    A deterministic in-memory compute cloud.

    ``ex_latency``, ``ex_boot_time`` and ``ex_fail_with`` stay attributes of
    the same names, which may be changed later (to start or end an outage).

    :param key: accepted like every driver's, and otherwise unused.
    :param secret: accepted like every driver's, and otherwise unused.
    :param region: which cloud's data to hold; ``"dummy-1"`` when ``None``.
    :param reactor: the reactor for latency, boot delays and ``created_at``.
    :param timeout: accepted like every driver's; calls take ``ex_latency``.
    :param ex_latency: seconds each call takes to be served (``0``: calls
        complete synchronously).
    :param ex_node_count: how many nodes the cloud starts with.
    :param ex_boot_time: seconds a created, started or rebooted node takes to
        become ``RUNNING``.
    :param ex_fail_with: an exception every call fails with once served,
        to simulate an outage.
    :raises InvalidArgumentError: for a negative latency, boot time or node
        count, an empty region, or an ``ex_fail_with`` that is not an
        exception instance.
    """

    name = "Dummy Node Provider"
    type = Provider.DUMMY

    def __init__(
        self,
        key: Any = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = None,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_latency: float = 0.0,
        ex_node_count: int = 2,
        ex_boot_time: float = 0.0,
        ex_fail_with: Exception | None = None,
    ) -> None:
        region = DEFAULT_REGION if region is None else check_text(region, "region")
        if not ex_latency >= 0:
            raise InvalidArgumentError(f"ex_latency must be >= 0, not {ex_latency!r}")
        if not ex_boot_time >= 0:
            raise InvalidArgumentError(f"ex_boot_time must be >= 0, not {ex_boot_time!r}")
        if not isinstance(ex_node_count, int) or ex_node_count < 0:
            raise InvalidArgumentError(f"ex_node_count must be an int >= 0, not {ex_node_count!r}")
        if ex_fail_with is not None and not isinstance(ex_fail_with, Exception):
            raise InvalidArgumentError(
                f"ex_fail_with must be an exception instance, not {ex_fail_with!r}"
            )
        super().__init__(
            key, secret, secure, host, port, region=region, reactor=reactor, timeout=timeout
        )
        self.ex_latency = ex_latency
        self.ex_boot_time = ex_boot_time
        self.ex_fail_with = ex_fail_with
        self._region_digest = _digest(region)
        self._created = 0
        self._nodes: dict[str, _NodeRecord] = {}
        self._key_pairs: dict[str, _KeyRecord] = {}
        sizes, images, locations = list(_SIZES), list(_IMAGES), self._location_ids()
        for index in range(ex_node_count):
            record = self._new_record(
                f"dummy-{region}-{index + 1}",
                sizes[index % len(sizes)],
                images[index % len(images)],
                locations[index % len(locations)],
                _INITIAL_CREATED_AT + timedelta(hours=index),
            )
            record.state = NodeState.RUNNING

    # Serving calls

    def _respond(self, operation: Callable[[], _T]) -> Deferred[_T]:
        """Serve *operation* after the simulated latency."""
        if self.ex_latency > 0:
            return Deferred.fromCoroutine(self._respond_later(operation))
        return self._serve(operation)

    async def _respond_later(self, operation: Callable[[], _T]) -> _T:
        await deferLater(self.reactor, self.ex_latency)
        return await self._serve(operation)

    def _serve(self, operation: Callable[[], _T]) -> Deferred[_T]:
        if self.ex_fail_with is not None:
            return fail(self.ex_fail_with)
        return maybeDeferred(operation)

    # Catalogue

    def _location_ids(self) -> list[str]:
        return [f"{self.region}{zone}" for zone in _ZONES]

    def _size(self, size_id: str) -> NodeSize:
        name, ram, disk, bandwidth, price, vcpus = _SIZES[size_id]
        return NodeSize(size_id, name, ram, disk, bandwidth, price, self, {"vcpus": vcpus})

    def _image(self, image_id: str) -> NodeImage:
        name, os = _IMAGES[image_id]
        return NodeImage(image_id, name, self, {"os": os})

    def _locations(self) -> list[NodeLocation]:
        country = _COUNTRIES[self._region_digest[0] % len(_COUNTRIES)]
        return [
            NodeLocation(
                location_id,
                f"{self.region} zone {zone}",
                country,
                self,
                {"region": self.region, "zone": zone},
            )
            for zone, location_id in zip(_ZONES, self._location_ids(), strict=True)
        ]

    def list_sizes(self, location: NodeLocation | None = None) -> Deferred[list[NodeSize]]:
        """
        List the sizes, the same in every location.

        :returns: a Deferred firing with a list of :class:`NodeSize`.
        """
        self._check_location(location)
        return self._respond(lambda: [self._size(size_id) for size_id in _SIZES])

    def list_images(self, location: NodeLocation | None = None) -> Deferred[list[NodeImage]]:
        """
        List the images, the same in every location.

        :returns: a Deferred firing with a list of :class:`NodeImage`.
        """
        self._check_location(location)
        return self._respond(lambda: [self._image(image_id) for image_id in _IMAGES])

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """
        List the region's three zones.

        :returns: a Deferred firing with a list of :class:`NodeLocation`.
        """
        return self._respond(self._locations)

    def _check_location(self, location: NodeLocation | None) -> None:
        if location is not None and (
            not isinstance(location, NodeLocation) or location.id not in self._location_ids()
        ):
            raise InvalidArgumentError(f"Unknown location {location!r}", self)

    # Nodes

    def _new_record(
        self, name: str, size_id: str, image_id: str, location_id: str, created_at: datetime
    ) -> _NodeRecord:
        index = self._created
        self._created += 1
        record = _NodeRecord(
            id="dummy-" + _digest(self.region, "node", index).hex()[:12],
            name=name,
            state=NodeState.PENDING,
            public_ips=[_address(_PUBLIC_NETWORK, self._region_digest[1:3], index)],
            private_ips=[_address(_PRIVATE_NETWORK, self._region_digest[3:5], index)],
            size_id=size_id,
            image_id=image_id,
            location_id=location_id,
            created_at=created_at,
        )
        self._nodes[record.id] = record
        return record

    def _boot(self, record: _NodeRecord, state: NodeState) -> None:
        """Put *record* in a transitional *state* that ends after the boot time."""
        if self.ex_boot_time > 0:
            record.state = state
            record.ready_at = self.reactor.seconds() + self.ex_boot_time
        else:
            record.state = NodeState.RUNNING
            record.ready_at = None

    def _settle(self, record: _NodeRecord) -> _NodeRecord:
        """Finish *record*'s transition if its boot time has passed."""
        if record.ready_at is not None and self.reactor.seconds() >= record.ready_at:
            record.state = NodeState.RUNNING
            record.ready_at = None
        return record

    def _record(self, node_id: str) -> _NodeRecord:
        try:
            return self._settle(self._nodes[node_id])
        except KeyError:
            raise NodeNotFoundError(f"No node with id {node_id!r}", self) from None

    def _node(self, record: _NodeRecord) -> Node:
        extra: dict[str, Any] = {"region": self.region, "location": record.location_id}
        if record.key_name is not None:
            extra["key_name"] = record.key_name
        return Node(
            id=record.id,
            name=record.name,
            state=record.state,
            public_ips=list(record.public_ips) if record.state is not NodeState.STOPPED else [],
            private_ips=list(record.private_ips),
            driver=self,
            size=self._size(record.size_id),
            image=self._image(record.image_id),
            created_at=record.created_at,
            extra=extra,
        )

    def _check_node(self, node: Node) -> None:
        if not isinstance(node, Node):
            raise InvalidArgumentError(f"Expected a Node, not {node!r}", self)

    def list_nodes(self) -> Deferred[list[Node]]:
        """
        List the nodes, oldest first.

        :returns: a Deferred firing with a list of :class:`Node` snapshots.
        """
        return self._respond(
            lambda: [self._node(self._settle(record)) for record in self._nodes.values()]
        )

    def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        location: NodeLocation | None = None,
        ex_key_name: str | None = None,
        ex_public_ips: list[str] | None = None,
        ex_private_ips: list[str] | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create a node; it is ``PENDING`` until ``ex_boot_time`` has passed.

        :param name: the node's name; names need not be unique.
        :param size: one of :meth:`list_sizes`.
        :param image: one of :meth:`list_images`.
        :param location: one of :meth:`list_locations`; the first when ``None``.
        :param ex_key_name: the name of a key pair to install on the node.
        :param ex_public_ips: the node's public addresses (``["127.0.0.1"]``
            makes a node whose "SSH server" is a local one, to try
            :meth:`deploy_node` without a cloud); generated when ``None``.
        :param ex_private_ips: its private addresses; generated when ``None``.
        :returns: a Deferred firing with the new :class:`Node`, or failing
            with :class:`~txcloud.errors.KeyPairDoesNotExistError` if
            *ex_key_name* is not a key pair.
        :raises InvalidArgumentError: if an argument is not one this driver knows.
        """
        check_text(name, "name")
        if kwargs:
            raise InvalidArgumentError(f"Unknown arguments: {', '.join(sorted(kwargs))}", self)
        if not isinstance(size, NodeSize) or size.id not in _SIZES:
            raise InvalidArgumentError(f"Unknown size {size!r}", self)
        if not isinstance(image, NodeImage) or image.id not in _IMAGES:
            raise InvalidArgumentError(f"Unknown image {image!r}", self)
        self._check_location(location)
        if ex_key_name is not None:
            check_text(ex_key_name, "ex_key_name")
        location_id = self._location_ids()[0] if location is None else location.id
        public_ips = _checked_addresses(ex_public_ips, "ex_public_ips")
        private_ips = _checked_addresses(ex_private_ips, "ex_private_ips")

        def create() -> Node:
            if ex_key_name is not None and ex_key_name not in self._key_pairs:
                raise KeyPairDoesNotExistError(f"No key pair named {ex_key_name!r}", self)
            created_at = datetime.fromtimestamp(self.reactor.seconds(), timezone.utc)
            record = self._new_record(name, size.id, image.id, location_id, created_at)
            record.key_name = ex_key_name
            if public_ips is not None:
                record.public_ips = public_ips
            if private_ips is not None:
                record.private_ips = private_ips
            self._boot(record, NodeState.PENDING)
            return self._node(record)

        return self._respond(create)

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """
        Reboot *node*; it is ``REBOOTING`` until ``ex_boot_time`` has passed.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.NodeNotFoundError`, or with
            :class:`~txcloud.errors.NodeError` if the node is stopped.
        """
        self._check_node(node)

        def reboot() -> bool:
            record = self._record(node.id)
            if record.state is NodeState.STOPPED:
                raise NodeError(f"Node {node.id!r} is stopped; start it instead", self)
            self._boot(record, NodeState.REBOOTING)
            return True

        return self._respond(reboot)

    def start_node(self, node: Node) -> Deferred[bool]:
        """
        Start a stopped *node*; a node that is not stopped is left alone.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.NodeNotFoundError`.
        """
        self._check_node(node)

        def start() -> bool:
            record = self._record(node.id)
            if record.state is NodeState.STOPPED:
                self._boot(record, NodeState.STARTING)
            return True

        return self._respond(start)

    def stop_node(self, node: Node) -> Deferred[bool]:
        """
        Stop *node* at once; it keeps its private address only.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.NodeNotFoundError`.
        """
        self._check_node(node)

        def stop() -> bool:
            record = self._record(node.id)
            record.state = NodeState.STOPPED
            record.ready_at = None
            return True

        return self._respond(stop)

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """
        Destroy *node*; later listings leave it out.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.NodeNotFoundError`.
        """
        self._check_node(node)

        def destroy() -> bool:
            del self._nodes[self._record(node.id).id]
            return True

        return self._respond(destroy)

    # Key pairs

    def _key_pair(self, record: _KeyRecord, private_key: str | None = None) -> KeyPair:
        return KeyPair(
            name=record.name,
            public_key=record.public_key,
            fingerprint=record.fingerprint,
            driver=self,
            private_key=private_key,
            extra={"key_type": record.key_type},
        )

    def _add_key_pair(self, name: str, public_key: str) -> _KeyRecord:
        if name in self._key_pairs:
            raise KeyPairAlreadyExistsError(f"A key pair named {name!r} exists", self)
        record = _KeyRecord(name, public_key, _fingerprint(public_key), public_key.split()[0])
        self._key_pairs[name] = record
        return record

    def list_key_pairs(self) -> Deferred[list[KeyPair]]:
        """
        List the key pairs, oldest first, without private keys.

        :returns: a Deferred firing with a list of :class:`KeyPair`.
        """
        return self._respond(lambda: [self._key_pair(r) for r in self._key_pairs.values()])

    def get_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        Fetch the key pair called *name*, without its private key.

        :returns: a Deferred firing with a :class:`KeyPair`, or failing with
            :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        check_text(name, "name")

        def get() -> KeyPair:
            try:
                return self._key_pair(self._key_pairs[name])
            except KeyError:
                raise KeyPairDoesNotExistError(f"No key pair named {name!r}", self) from None

        return self._respond(get)

    def create_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        Create an Ed25519 key pair.

        :returns: a Deferred firing with a :class:`KeyPair` whose
            ``private_key`` (OpenSSH format) is given only this once, or
            failing with :class:`~txcloud.errors.KeyPairAlreadyExistsError`.
        """
        check_text(name, "name")

        def create() -> KeyPair:
            private = Ed25519PrivateKey.generate()
            public_key = (
                private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
            )
            record = self._add_key_pair(name, public_key)
            private_key = private.private_bytes(
                Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
            ).decode()
            return self._key_pair(record, private_key)

        return self._respond(create)

    def import_key_pair_from_string(self, name: str, key_material: str) -> Deferred[KeyPair]:
        """
        Import an OpenSSH public key (``"ssh-ed25519 AAAA... comment"``).

        :returns: a Deferred firing with a :class:`KeyPair`, or failing with
            :class:`~txcloud.errors.KeyPairAlreadyExistsError`.
        :raises InvalidArgumentError: if *key_material* is not an OpenSSH public key.
        """
        check_text(name, "name")
        if not isinstance(key_material, str):
            raise InvalidArgumentError("key_material must be a string", self)
        public_key = key_material.strip()
        try:
            load_ssh_public_key(public_key.encode())
        except (ValueError, UnsupportedAlgorithm):
            # The material is public, but a pasted private key would be
            # secret, so it is never quoted back.
            raise InvalidArgumentError("key_material is not an OpenSSH public key", self) from None
        return self._respond(lambda: self._key_pair(self._add_key_pair(name, public_key)))

    def delete_key_pair(self, key_pair: KeyPair) -> Deferred[bool]:
        """
        Delete *key_pair*.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        if not isinstance(key_pair, KeyPair):
            raise InvalidArgumentError(f"Expected a KeyPair, not {key_pair!r}", self)

        def delete() -> bool:
            if self._key_pairs.pop(key_pair.name, None) is None:
                raise KeyPairDoesNotExistError(f"No key pair named {key_pair.name!r}", self)
            return True

        return self._respond(delete)
