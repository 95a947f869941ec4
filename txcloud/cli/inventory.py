"""
``txcloud inventory``, ``nodes`` and ``containers``: what every target holds, fetched at once.

Every selected target is asked concurrently through :func:`txcloud.multi.fan_out`,
with the configuration's ``concurrency`` and per-target ``timeout``.  A
target that fails shows its error in place of its items; the command fails
(exit code 1) only when every target failed.

``--json`` prints ``{"targets": [...]}``, one entry per target in the
order of the configuration::

    {"target": "dummy", "kind": "compute", "provider": "dummy", "region": null,
     "items": [{"id": "...", "name": "...", "state": "running",
                "public_ips": [...], "private_ips": [...]}],
     "error": null}

Storage items are ``{"name"}``; container items ``{"id", "name", "state",
"image", "ip_addresses"}``; a failed target has ``"items": []`` and
``"error": {"type": "RequestTimeoutError", "message": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any

from twisted.python.failure import Failure

from txcloud.cli.context import Context
from txcloud.cli.table import format_table
from txcloud.config import Target
from txcloud.multi import FanOutResult, fan_out

__all__ = ["show_inventory"]

_HEADER = ("TARGET", "KIND", "PROVIDER", "REGION", "NAME", "ID", "STATE", "ADDRESSES")

Item = dict[str, Any]
_Outcome = FanOutResult[Target, list[Item]]


def _node_item(node: Any) -> Item:
    return {
        "id": node.id,
        "name": node.name,
        "state": str(node.state),
        "public_ips": list(node.public_ips),
        "private_ips": list(node.private_ips),
    }


def _bucket_item(container: Any) -> Item:
    return {"name": container.name}


def _container_item(container: Any) -> Item:
    return {
        "id": container.id,
        "name": container.name,
        "state": str(container.state),
        "image": container.image.name,
        "ip_addresses": list(container.ip_addresses),
    }


async def _items(context: Context, target: Target) -> list[Item]:
    driver = context.driver(target)
    if target.kind == "compute":
        return [_node_item(node) for node in await driver.list_nodes()]
    if target.kind == "storage":
        return [_bucket_item(container) for container in await driver.list_containers()]
    return [_container_item(container) for container in await driver.list_containers()]


def _error(failure: Failure) -> dict[str, str]:
    return {"type": type(failure.value).__name__, "message": failure.getErrorMessage()}


def _document(targets: tuple[Target, ...], outcome: _Outcome) -> Any:
    return {
        "targets": [
            {
                "target": target.name,
                "kind": target.kind,
                "provider": target.provider,
                "region": target.region,
                "items": outcome.results.get(target, []),
                "error": _error(outcome.failures[target]) if target in outcome.failures else None,
            }
            for target in targets
        ]
    }


def _rows(targets: tuple[Target, ...], outcome: _Outcome) -> list[list[str]]:
    rows = []
    for target in targets:
        start = [target.label, target.kind, target.provider, target.region or "-"]
        if target in outcome.failures:
            error = _error(outcome.failures[target])
            rows.append([*start, f"error: {error['type']}: {error['message']}"])
            continue
        items = outcome.results[target]
        if not items:
            rows.append([*start, "(none)", "-", "-", "-"])
        for item in items:
            addresses = item.get("public_ips", []) + item.get("private_ips", [])
            addresses += item.get("ip_addresses", [])
            rows.append(
                [
                    *start,
                    item["name"],
                    item.get("id", "-"),
                    item.get("state", "-"),
                    ",".join(addresses) or "-",
                ]
            )
    return rows


async def show_inventory(
    context: Context, kind: str | None, name: str | None, as_json: bool
) -> int:
    """
    Print what the targets of *kind* (every kind when ``None``) named *name* hold.

    :returns: the exit code: 1 if every target failed, else 0.
    """
    targets = context.config.select(kind, name)
    if not targets and not as_json:
        what = "targets" if kind is None else f"{kind} targets"
        context.print(
            f"No {what} in {context.config.source}: "
            f"add [[{kind or 'compute'}]] entries to the configuration file."
        )
        return 0
    defaults = context.config.defaults

    def items(target: Target) -> Coroutine[Any, Any, list[Item]]:
        return _items(context, target)

    outcome: _Outcome = await fan_out(
        items,
        targets,
        concurrency=defaults.concurrency,
        timeout=defaults.timeout,
        reactor=context.reactor,
    )
    if as_json:
        context.print(json.dumps(_document(targets, outcome), indent=2, sort_keys=True))
    else:
        for line in format_table(_HEADER, _rows(targets, outcome)):
            context.print(line)
    every_target_failed = bool(targets) and len(outcome.failures) == len(targets)
    return 1 if every_target_failed else 0
