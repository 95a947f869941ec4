"""
The inventory of configured targets: what each one holds, as JSON-ready items.

This is the one implementation behind the ``txcloud inventory`` command and
the ``twistd txcloud`` service.  :func:`gather` asks every target at once
through :func:`txcloud.multi.fan_out`, with the configuration's concurrency
limit and per-target timeout, and gives one :class:`TargetInventory` per
target: its items, or the failure that took their place.

Items are plain dicts that :func:`json.dumps` accepts:

* a compute target's nodes: ``{"id", "name", "state", "public_ips", "private_ips"}``;
* a storage target's containers (buckets): ``{"name"}``;
* a container target's containers: ``{"id", "name", "state", "image", "ip_addresses"}``;
* beside its nodes, a compute target's volumes, a kind of their own:
  ``{"id", "name", "size", "state"}`` (``None`` for a provider without
  block storage, such as the dummy driver).

A failure is described by :func:`describe_error` as ``{"type", "message"}``:
the exception's class name and its message, which by txcloud's rules
never holds a credential.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from txcloud.compute.base import Node, StorageVolume
from txcloud.config import Defaults, Target
from txcloud.container.base import Container
from txcloud.errors import TxCloudError
from txcloud.multi import FanOutResult, fan_out
from txcloud.storage.base import Container as Bucket

__all__ = [
    "Item",
    "TargetInventory",
    "bucket_item",
    "container_item",
    "describe_error",
    "fetch_items",
    "fetch_volumes",
    "gather",
    "node_item",
    "volume_item",
]

#: One listed thing (a node, a bucket, a container) as a JSON-ready dict.
Item = dict[str, Any]


def node_item(node: Node) -> Item:
    """A compute node as an :data:`Item`."""
    return {
        "id": node.id,
        "name": node.name,
        "state": str(node.state),
        "public_ips": list(node.public_ips),
        "private_ips": list(node.private_ips),
    }


def volume_item(volume: StorageVolume) -> Item:
    """A block-storage volume as an :data:`Item` (``size`` in GiB)."""
    return {
        "id": volume.id,
        "name": volume.name,
        "size": volume.size,
        "state": None if volume.state is None else str(volume.state),
    }


def bucket_item(container: Bucket) -> Item:
    """A storage container (a bucket) as an :data:`Item`."""
    return {"name": container.name}


def container_item(container: Container) -> Item:
    """A container of a container service as an :data:`Item`."""
    return {
        "id": container.id,
        "name": container.name,
        "state": str(container.state),
        "image": container.image.name,
        "ip_addresses": list(container.ip_addresses),
    }


async def fetch_items(driver: Any, kind: str) -> list[Item]:
    """
    List what *driver* holds, as items.

    :param driver: a driver of *kind*.
    :param kind: ``"compute"`` (nodes), ``"storage"`` or ``"container"`` (containers).
    :returns: the items, in the driver's order.
    """
    if kind == "compute":
        return [node_item(node) for node in await driver.list_nodes()]
    if kind == "storage":
        return [bucket_item(bucket) for bucket in await driver.list_containers()]
    return [container_item(container) for container in await driver.list_containers()]


_log = Logger()


async def fetch_volumes(driver: Any, kind: str) -> list[Item] | None:
    """
    List the volumes of a compute *driver*, as items.

    A refused listing (an identity allowed to see nodes but not volumes, a
    service without block storage) is logged and costs only the volumes:
    the target's nodes are kept.

    :returns: the items, or ``None`` for another kind, a driver without
        block storage, or a refused listing.
    """
    if kind != "compute":
        return None
    try:
        return [volume_item(volume) for volume in await driver.list_volumes()]
    except NotImplementedError:
        return None
    except TxCloudError as error:
        _log.warn("Could not list the volumes of {driver}: {error}", driver=driver, error=error)
        return None


def describe_error(failure: Failure) -> dict[str, str]:
    """``{"type": ..., "message": ...}``: the failure's exception class name and message."""
    return {"type": type(failure.value).__name__, "message": failure.getErrorMessage()}


@attrs.frozen
class TargetInventory:
    """
    What one target holds, or why that is not known.

    :ivar target: the target asked.
    :ivar items: its items; empty when it failed.
    :ivar error: the failure (a timeout is a
        :class:`~txcloud.errors.RequestTimeoutError`), or ``None``.
    :ivar volumes: a compute target's volumes (see :func:`fetch_volumes`),
        or ``None``.
    """

    target: Target
    items: list[Item] = attrs.field(factory=list)
    error: Failure | None = None
    volumes: list[Item] | None = None


_Fetched = tuple[list[Item], "list[Item] | None"]


def _inventory_of(outcome: FanOutResult[Target, _Fetched], target: Target) -> TargetInventory:
    if target in outcome.failures:
        return TargetInventory(target, error=outcome.failures[target])
    items, volumes = outcome.results[target]
    return TargetInventory(target, items, volumes=volumes)


def gather(
    targets: Sequence[Target],
    driver: Callable[[Target], Any],
    *,
    defaults: Defaults,
    reactor: Any,
    on_each: Callable[[TargetInventory], None] | None = None,
) -> Deferred[list[TargetInventory]]:
    """
    Fetch the items of every target at once.

    At most ``defaults.concurrency`` targets are asked at a time, and each
    may take ``defaults.timeout`` seconds.  A target's failure (including
    failing to build its driver) is recorded against it and never affects
    the others.  Cancelling the returned Deferred cancels every call in
    flight and starts no more; *on_each* is not called for the cancelled
    targets.

    :param targets: distinct targets, in the order wanted.
    :param driver: gives the driver of a target; called once per target,
        when that target's turn comes.
    :param defaults: the configuration's concurrency and timeout.
    :param reactor: the clock for timeouts.
    :param on_each: called with each target's inventory as soon as it is
        known, so a slow target does not delay the others'; it must not raise.
    :returns: a Deferred firing with one :class:`TargetInventory` per
        target, in the order of *targets*.
    """
    wanted = list(targets)

    async def fetch_all(target: Target) -> _Fetched:
        target_driver = driver(target)
        items = await fetch_items(target_driver, target.kind)
        return items, await fetch_volumes(target_driver, target.kind)

    def fetch(target: Target) -> Deferred[_Fetched]:
        return Deferred.fromCoroutine(fetch_all(target))

    async def one(target: Target) -> TargetInventory:
        # A one-target fan-out gives this target fan_out's timeout and typed
        # timeout error, and an outcome of its own that is reported at once;
        # the outer fan-out below limits how many of these run together.
        outcome = await fan_out(fetch, [target], timeout=defaults.timeout, reactor=reactor)
        inventory = _inventory_of(outcome, target)
        if on_each is not None:
            on_each(inventory)
        return inventory

    everything = fan_out(one, wanted, concurrency=defaults.concurrency, reactor=reactor)
    return everything.addCallback(lambda outcome: [outcome.results[t] for t in wanted])
