"""
Compute models and the :class:`NodeDriver` base class.

Names and attributes follow Libcloud's ``libcloud.compute.base``; every
method that would do I/O returns a :class:`~twisted.internet.defer.Deferred`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from ipaddress import IPv4Address, ip_address
from typing import Any, ClassVar

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from txcloud.common.base import BaseDriver
from txcloud.common.models import Model
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import InvalidArgumentError, RequestTimeoutError

__all__ = [
    "KeyPair",
    "Node",
    "NodeDriver",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
    "StorageVolume",
    "VolumeSnapshot",
]


@attrs.define(eq=False, repr=False)
class Node(Model):
    """
    A virtual machine or server.

    ``size`` is a :class:`NodeSize`, or the size's name where the provider's
    listing names it only (Google Compute Engine's machine type, as in Libcloud).
    """

    _shown = ("id", "name", "state", "public_ips", "private_ips")

    id: str
    name: str
    state: NodeState
    public_ips: list[str]
    private_ips: list[str]
    driver: NodeDriver
    size: NodeSize | str | None = None
    image: NodeImage | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

    def reboot(self) -> Deferred[bool]:
        """Reboot this node; see :meth:`NodeDriver.reboot_node`."""
        return self.driver.reboot_node(self)

    def start(self) -> Deferred[bool]:
        """Start this node; see :meth:`NodeDriver.start_node`."""
        return self.driver.start_node(self)

    def stop_node(self) -> Deferred[bool]:
        """Stop this node; see :meth:`NodeDriver.stop_node`."""
        return self.driver.stop_node(self)

    def destroy(self) -> Deferred[bool]:
        """Destroy this node; see :meth:`NodeDriver.destroy_node`."""
        return self.driver.destroy_node(self)


@attrs.define(eq=False, repr=False)
class NodeSize(Model):
    """A hardware configuration nodes can be created with."""

    _shown = ("id", "name", "ram", "disk", "bandwidth", "price")

    id: str
    name: str
    ram: int
    disk: int
    bandwidth: int | None
    price: float | None
    driver: NodeDriver
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False, repr=False)
class NodeImage(Model):
    """An operating-system image nodes can be created from."""

    id: str
    name: str
    driver: NodeDriver
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False, repr=False)
class NodeLocation(Model):
    """A place nodes can be created in (a data centre or availability zone)."""

    _shown = ("id", "name", "country")

    id: str
    name: str
    country: str
    driver: NodeDriver
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False, repr=False)
class KeyPair(Model):
    """An SSH key pair; ``private_key`` is set only when the provider made the key."""

    _identity = ("name",)
    _shown = ("name", "fingerprint")

    name: str
    public_key: str | None
    fingerprint: str | None
    driver: NodeDriver
    private_key: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False, repr=False)
class StorageVolume(Model):
    """A block-storage volume; ``size`` is in GiB."""

    _shown = ("id", "name", "size", "state")

    id: str
    name: str
    size: int
    driver: NodeDriver
    state: StorageVolumeState | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

    def attach(self, node: Node, device: str | None = None) -> Deferred[bool]:
        """Attach to *node*; see :meth:`NodeDriver.attach_volume`."""
        return self.driver.attach_volume(node, self, device)

    def detach(self) -> Deferred[bool]:
        """Detach from its node; see :meth:`NodeDriver.detach_volume`."""
        return self.driver.detach_volume(self)

    def list_snapshots(self) -> Deferred[list[VolumeSnapshot]]:
        """This volume's snapshots; see :meth:`NodeDriver.list_volume_snapshots`."""
        return self.driver.list_volume_snapshots(self)

    def snapshot(self, name: str | None = None) -> Deferred[VolumeSnapshot]:
        """Snapshot this volume; see :meth:`NodeDriver.create_volume_snapshot`."""
        return self.driver.create_volume_snapshot(self, name)

    def destroy(self) -> Deferred[bool]:
        """Destroy this volume; see :meth:`NodeDriver.destroy_volume`."""
        return self.driver.destroy_volume(self)


@attrs.define(eq=False, repr=False)
class VolumeSnapshot(Model):
    """A point-in-time copy of a volume; ``size`` is in GiB."""

    _shown = ("id", "name", "size", "state")

    id: str
    driver: NodeDriver
    size: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    created: datetime | None = None
    state: VolumeSnapshotState | None = None
    name: str | None = None

    def destroy(self) -> Deferred[bool]:
        """Destroy this snapshot; see :meth:`NodeDriver.destroy_volume_snapshot`."""
        return self.driver.destroy_volume_snapshot(self)


class NodeDriver(BaseDriver):
    """
    Base class of compute drivers.

    Subclasses implement the methods their provider supports; the others
    raise :class:`NotImplementedError`.
    """

    #: States :meth:`wait_until_running` waits for.
    _running_states: ClassVar[frozenset[NodeState]] = frozenset({NodeState.RUNNING})

    def list_nodes(self) -> Deferred[list[Node]]:
        """List the nodes; fires with a list of :class:`Node`."""
        raise NotImplementedError(f"{self.name} cannot list nodes")

    def list_sizes(self, location: NodeLocation | None = None) -> Deferred[list[NodeSize]]:
        """List the sizes; fires with a list of :class:`NodeSize`."""
        raise NotImplementedError(f"{self.name} cannot list sizes")

    def list_images(self, location: NodeLocation | None = None) -> Deferred[list[NodeImage]]:
        """List the images; fires with a list of :class:`NodeImage`."""
        raise NotImplementedError(f"{self.name} cannot list images")

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """List the locations; fires with a list of :class:`NodeLocation`."""
        raise NotImplementedError(f"{self.name} cannot list locations")

    def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        location: NodeLocation | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create a node.

        :param name: the node's name.
        :param size: its hardware, from :meth:`list_sizes`.
        :param image: its image, from :meth:`list_images`.
        :param location: where to create it; the provider's default if ``None``.
        :returns: a Deferred firing with the new :class:`Node`.
        """
        raise NotImplementedError(f"{self.name} cannot create nodes")

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Reboot *node*; fires with ``True`` once the provider accepted it."""
        raise NotImplementedError(f"{self.name} cannot reboot nodes")

    def start_node(self, node: Node) -> Deferred[bool]:
        """Start a stopped *node*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot start nodes")

    def stop_node(self, node: Node) -> Deferred[bool]:
        """Stop a running *node*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot stop nodes")

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """Destroy *node*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot destroy nodes")

    def list_key_pairs(self) -> Deferred[list[KeyPair]]:
        """List the key pairs; fires with a list of :class:`KeyPair`."""
        raise NotImplementedError(f"{self.name} cannot list key pairs")

    def get_key_pair(self, name: str) -> Deferred[KeyPair]:
        """Fetch one key pair by name; fails with ``KeyPairDoesNotExistError``."""
        raise NotImplementedError(f"{self.name} cannot get key pairs")

    def create_key_pair(self, name: str) -> Deferred[KeyPair]:
        """Create a key pair; the result carries its ``private_key``."""
        raise NotImplementedError(f"{self.name} cannot create key pairs")

    def import_key_pair_from_string(self, name: str, key_material: str) -> Deferred[KeyPair]:
        """Import a public key as a key pair named *name*."""
        raise NotImplementedError(f"{self.name} cannot import key pairs")

    def delete_key_pair(self, key_pair: KeyPair) -> Deferred[bool]:
        """Delete *key_pair*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot delete key pairs")

    # Block storage

    def list_volumes(self) -> Deferred[list[StorageVolume]]:
        """List the volumes; fires with a list of :class:`StorageVolume`."""
        raise NotImplementedError(f"{self.name} cannot list volumes")

    def create_volume(
        self,
        size: int,
        name: str,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | None = None,
        **kwargs: Any,
    ) -> Deferred[StorageVolume]:
        """
        Create a volume of *size* GiB named *name*.

        :param location: where; some providers require one.
        :param snapshot: a snapshot to fill it from.
        :returns: a Deferred firing with the new :class:`StorageVolume`.
        """
        raise NotImplementedError(f"{self.name} cannot create volumes")

    def attach_volume(
        self, node: Node, volume: StorageVolume, device: str | None = None
    ) -> Deferred[bool]:
        """Attach *volume* to *node* (as *device*, if named); fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot attach volumes")

    def detach_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """Detach *volume* from its node; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot detach volumes")

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """Destroy *volume*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot destroy volumes")

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """List *volume*'s snapshots; fires with a list of :class:`VolumeSnapshot`."""
        raise NotImplementedError(f"{self.name} cannot list volume snapshots")

    def list_snapshots(self) -> Deferred[list[VolumeSnapshot]]:
        """List the account's snapshots; fires with a list of :class:`VolumeSnapshot`."""
        raise NotImplementedError(f"{self.name} cannot list snapshots")

    def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None
    ) -> Deferred[VolumeSnapshot]:
        """Snapshot *volume*; fires with the new :class:`VolumeSnapshot`."""
        raise NotImplementedError(f"{self.name} cannot create volume snapshots")

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Destroy *snapshot*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot destroy volume snapshots")

    def _fetch_volume(self, volume_id: str) -> Deferred[StorageVolume | None]:
        """The volume *volume_id* as it is now, or ``None``; drivers may ask for it alone."""
        return self.list_volumes().addCallback(
            lambda volumes: next((v for v in volumes if v.id == volume_id), None)
        )

    def _fetch_snapshot(self, snapshot_id: str) -> Deferred[VolumeSnapshot | None]:
        """The snapshot *snapshot_id* as it is now, or ``None``."""
        return self.list_snapshots().addCallback(
            lambda snapshots: next((s for s in snapshots if s.id == snapshot_id), None)
        )

    def wait_until_volume(
        self,
        volume: StorageVolume,
        state: StorageVolumeState = StorageVolumeState.AVAILABLE,
        wait_period: float = 5.0,
        timeout: float = 600.0,
    ) -> Deferred[StorageVolume]:
        """
        Poll until *volume* is in *state* (volumes are created, attached and
        detached in the background).

        :param wait_period: seconds between polls, on the driver's reactor.
        :param timeout: seconds to wait in all.
        :returns: a Deferred firing with the volume as it then is, or failing
            with :class:`~txcloud.errors.RequestTimeoutError`.
        """
        return self._wait_for_state(
            self._fetch_volume, volume.id, state, "volume", wait_period, timeout
        )

    def wait_until_snapshot(
        self,
        snapshot: VolumeSnapshot,
        state: VolumeSnapshotState = VolumeSnapshotState.AVAILABLE,
        wait_period: float = 5.0,
        timeout: float = 600.0,
    ) -> Deferred[VolumeSnapshot]:
        """
        Poll until *snapshot* is in *state* (snapshots complete in the background).

        :returns: a Deferred firing with the snapshot as it then is, or
            failing with :class:`~txcloud.errors.RequestTimeoutError`.
        """
        return self._wait_for_state(
            self._fetch_snapshot, snapshot.id, state, "snapshot", wait_period, timeout
        )

    def _wait_for_state(
        self,
        fetch: Any,
        resource_id: str,
        state: Any,
        what: str,
        wait_period: float,
        timeout: float,
    ) -> Deferred[Any]:
        if not (wait_period > 0 and timeout > 0):
            raise InvalidArgumentError("wait_period and timeout must be positive", self)

        async def poll() -> Any:
            deadline = self.reactor.seconds() + timeout
            while True:
                current = await fetch(resource_id)
                if current is not None and current.state == state:
                    return current
                remaining = deadline - self.reactor.seconds()
                if remaining <= 0:
                    seen = "gone" if current is None else current.state
                    raise RequestTimeoutError(
                        f"The {what} {resource_id} was not {state} after {timeout} seconds "
                        f"(last seen: {seen})",
                        self,
                    )
                await deferLater(self.reactor, min(wait_period, remaining))

        return Deferred.fromCoroutine(poll())

    # Images

    def get_image(self, image_id: str) -> Deferred[NodeImage]:
        """Fetch one image by id; fires with a :class:`NodeImage`."""
        raise NotImplementedError(f"{self.name} cannot get images")

    def create_image(
        self, node: Node, name: str, description: str | None = None, **kwargs: Any
    ) -> Deferred[NodeImage]:
        """Make an image of *node*; fires with the new :class:`NodeImage`."""
        raise NotImplementedError(f"{self.name} cannot create images")

    def delete_image(self, image: NodeImage) -> Deferred[bool]:
        """Delete *image*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot delete images")

    # Deployment

    def deploy_node(
        self,
        deploy: Any,
        ssh_username: str = "root",
        ssh_port: int = 22,
        ssh_key: Any = None,
        ssh_timeout: float = 10.0,
        ssh_interface: str = "public_ips",
        known_hosts: str | None = None,
        timeout: float = 300.0,
        wait_period: float = 5.0,
        **create_node_args: Any,
    ) -> Deferred[Node]:
        """
        Create a node, wait until it runs and answers on *ssh_port*, then run
        *deploy* on it over SSH (twisted.conch; no threads).

        :param deploy: a :class:`~txcloud.compute.deployment.Deployment`.
        :param ssh_username: the user to log in as.
        :param ssh_port: the node's SSH port.
        :param ssh_key: the path of a private key file (or a list of paths).
        :param ssh_timeout: seconds each SSH connection may take to log in.
        :param ssh_interface: ``"public_ips"`` or ``"private_ips"``.
        :param known_hosts: an OpenSSH ``known_hosts`` file the host key
            must be in; ``None`` trusts it on first use (and logs it).
        :param timeout: seconds to wait for the node to run and answer.
        :param wait_period: seconds between polls.
        :param create_node_args: passed to :meth:`create_node`.
        :returns: a Deferred firing with the node once every step succeeded,
            or failing with :class:`~txcloud.errors.DeploymentError`.
        :raises InvalidArgumentError: for a missing key file and other bad
            arguments, before the node is created.
        """
        from txcloud.compute.deployment.run import SSHOptions, deploy_node

        ssh = SSHOptions(ssh_username, ssh_port, ssh_key, ssh_timeout, ssh_interface, known_hosts)
        return deploy_node(self, deploy, ssh, timeout, wait_period, create_node_args)

    def wait_until_running(
        self,
        nodes: Iterable[Node],
        wait_period: float = 5.0,
        timeout: float = 600.0,
        ssh_interface: str = "public_ips",
        force_ipv4: bool = True,
    ) -> Deferred[list[tuple[Node, list[str]]]]:
        """
        Poll :meth:`list_nodes` until every node in *nodes* is running and
        has an address on *ssh_interface*.

        :param wait_period: seconds between polls (on the driver's reactor).
        :param timeout: seconds to wait in all; the last poll happens when
            they have passed.
        :param ssh_interface: ``"public_ips"`` or ``"private_ips"``: which
            addresses a node needs and the result carries.
        :param force_ipv4: count and return only IPv4 addresses.
        :returns: a Deferred firing with ``[(node, addresses), ...]`` in the
            order of *nodes* (Libcloud's shape), or failing with
            :class:`~txcloud.errors.RequestTimeoutError`.
        :raises InvalidArgumentError: for no nodes, a period or timeout that
            is not positive, or another *ssh_interface*.
        """
        wanted = list(nodes)
        if not wanted:
            raise InvalidArgumentError("wait_until_running needs at least one node", self)
        if not (wait_period > 0 and timeout > 0):
            raise InvalidArgumentError("wait_period and timeout must be positive", self)
        if ssh_interface not in ("public_ips", "private_ips"):
            raise InvalidArgumentError(
                f"ssh_interface must be 'public_ips' or 'private_ips', not {ssh_interface!r}", self
            )
        return Deferred.fromCoroutine(
            self._wait_until_running(wanted, wait_period, timeout, ssh_interface, force_ipv4)
        )

    async def _wait_until_running(
        self,
        wanted: list[Node],
        wait_period: float,
        timeout: float,
        ssh_interface: str,
        force_ipv4: bool,
    ) -> list[tuple[Node, list[str]]]:
        # Answer in the order the caller gave, each node once.
        ids = list(dict.fromkeys(node.id for node in wanted))
        deadline = self.reactor.seconds() + timeout
        while True:
            ready: dict[str, tuple[Node, list[str]]] = {}
            for node in await self.list_nodes():
                if node.id in ids and node.state in self._running_states:
                    addresses = _addresses(getattr(node, ssh_interface), force_ipv4)
                    if addresses:
                        ready[node.id] = (node, addresses)
            if len(ready) == len(ids):
                return [ready[node_id] for node_id in ids]
            remaining = deadline - self.reactor.seconds()
            if remaining <= 0:
                raise RequestTimeoutError(
                    f"Nodes {sorted(set(ids) - set(ready))} were not running "
                    f"after {timeout} seconds",
                    self,
                )
            await deferLater(self.reactor, min(wait_period, remaining))


def _addresses(addresses: list[str], ipv4_only: bool) -> list[str]:
    if not ipv4_only:
        return list(addresses)
    return [address for address in addresses if _is_ipv4(address)]


def _is_ipv4(address: str) -> bool:
    try:
        return isinstance(ip_address(address), IPv4Address)
    except ValueError:
        return False
