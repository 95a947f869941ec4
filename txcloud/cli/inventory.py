"""
``txcloud inventory``, ``nodes`` and ``containers``: what every target holds, fetched at once.

Every selected target is asked concurrently by :func:`txcloud.inventory.gather`
(which the ``twistd txcloud`` service uses too), with the configuration's
``concurrency`` and per-target ``timeout``.  A target that fails shows its
error in place of its items; the command fails (exit code 1) only when every
target failed.

``--json`` prints ``{"targets": [...]}``, one entry per target in the
order of the configuration::

    {"target": "dummy", "kind": "compute", "provider": "dummy", "region": null, "account": null,
     "items": [{"id": "...", "name": "...", "state": "running",
                "public_ips": [...], "private_ips": [...]}],
     "error": null}

Storage items are ``{"name"}``; container items ``{"id", "name", "state",
"image", "ip_addresses"}``; a failed target has ``"items": []`` and
``"error": {"type": "RequestTimeoutError", "message": "..."}``.
"""

from __future__ import annotations

import json
from typing import Any

from txcloud.cli.context import Context
from txcloud.cli.table import format_table
from txcloud.inventory import TargetInventory, describe_error, gather

__all__ = ["show_inventory"]

_HEADER = ("TARGET", "KIND", "PROVIDER", "REGION", "NAME", "ID", "STATE", "ADDRESSES")


def _document(inventories: list[TargetInventory]) -> Any:
    return {
        "targets": [
            {
                "target": inventory.target.name,
                "kind": inventory.target.kind,
                "provider": inventory.target.provider,
                "region": inventory.target.region,
                "account": inventory.target.account,
                "items": inventory.items,
                "volumes": inventory.volumes,
                "error": None if inventory.error is None else describe_error(inventory.error),
            }
            for inventory in inventories
        ]
    }


def _rows(inventories: list[TargetInventory]) -> list[list[str]]:
    rows = []
    for inventory in inventories:
        target = inventory.target
        start = [target.label, target.kind, target.provider, target.region or "-"]
        if inventory.error is not None:
            error = describe_error(inventory.error)
            rows.append([*start, f"error: {error['type']}: {error['message']}"])
            continue
        if not inventory.items:
            rows.append([*start, "(none)", "-", "-", "-"])
        for item in inventory.items:
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
    inventories = await gather(
        targets, context.driver, defaults=context.config.defaults, reactor=context.reactor
    )
    if as_json:
        context.print(json.dumps(_document(inventories), indent=2, sort_keys=True))
    else:
        for line in format_table(_HEADER, _rows(inventories)):
            context.print(line)
    every_target_failed = bool(inventories) and all(i.error is not None for i in inventories)
    return 1 if every_target_failed else 0
