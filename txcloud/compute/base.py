"""
Compute models and the :class:`NodeDriver` base class.

Names and attributes follow Libcloud's ``libcloud.compute.base``; every
method that would do I/O returns a :class:`~twisted.internet.defer.Deferred`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

import attrs
from twisted.internet.defer import Deferred

from txcloud.common.base import BaseDriver
from txcloud.common.models import Model
from txcloud.compute.types import NodeState
from txcloud.errors import InvalidArgumentError, RequestTimeoutError

__all__ = [
    "KeyPair",
    "Node",
    "NodeDriver",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
]


@attrs.define(eq=False, repr=False)
class Node(Model):
    """A virtual machine or server."""

    _shown = ("id", "name", "state", "public_ips", "private_ips")

    id: str
    name: str
    state: NodeState
    public_ips: list[str]
    private_ips: list[str]
    driver: NodeDriver
    size: NodeSize | None = None
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

    def wait_until_running(
        self,
        nodes: Iterable[Node],
        wait_period: float = 5.0,
        timeout: float = 600.0,
    ) -> Deferred[list[tuple[Node, list[str]]]]:
        """
        Poll :meth:`list_nodes` until every node in *nodes* is running.

        :param wait_period: seconds between polls (on the driver's reactor).
        :param timeout: seconds to wait in all.
        :returns: a Deferred firing with ``[(node, public_ips), ...]`` as
            Libcloud returns, or failing with
            :class:`~txcloud.errors.RequestTimeoutError`.
        """
        wanted = list(nodes)
        if not wanted:
            raise InvalidArgumentError("wait_until_running needs at least one node", self)
        if wait_period <= 0 or timeout <= 0:
            raise InvalidArgumentError("wait_period and timeout must be positive", self)
        return Deferred.fromCoroutine(self._wait_until_running(wanted, wait_period, timeout))

    async def _wait_until_running(
        self, wanted: list[Node], wait_period: float, timeout: float
    ) -> list[tuple[Node, list[str]]]:
        from twisted.internet.task import deferLater

        ids = {node.id for node in wanted}
        deadline = self.reactor.seconds() + timeout
        while True:
            current = {node.id: node for node in await self.list_nodes() if node.id in ids}
            if len(current) == len(ids) and all(
                node.state in self._running_states for node in current.values()
            ):
                return [(node, node.public_ips) for node in current.values()]
            if self.reactor.seconds() + wait_period > deadline:
                raise RequestTimeoutError(
                    f"Nodes {sorted(ids)} were not running after {timeout} seconds", self
                )
            await deferLater(self.reactor, wait_period)
