"""
The inventory service behind ``twistd txcloud``.

::

    twistd -n txcloud --config txcloud.toml --listen tcp:8080:interface=127.0.0.1 --interval 60

It reads the configuration of the ``txcloud`` command (:mod:`txcloud.config`;
with no file, the embedded defaults), refreshes the inventory of every
target when it starts and then every ``--interval`` seconds, and serves the
latest snapshot as JSON over :mod:`twisted.web` on the ``--listen`` endpoint
string.  It logs ``txcloud inventory listening on HOST:PORT`` once
listening (with the real port when port 0 was asked for), and each refresh's
outcome per target.

Refreshing (:mod:`txcloud.service.refresher`) uses
:func:`txcloud.inventory.gather`, the command's own implementation, with the
configuration's concurrency limit and per-target timeout.  A target whose
previous refresh is still running when the timer fires is skipped that time.
A target whose refresh fails keeps serving its last good items, with the
error beside them.  A target's items are *stale* when it never answered, or
when they are older than three intervals.

The HTTP API (:mod:`txcloud.service.web`):

``GET /inventory``
    ::

        {"generated_at": "2025-01-01T12:00:00.000Z", "interval": 60.0, "stale_after": 180.0,
         "targets": [
           {"name": "dummy", "label": "dummy", "kind": "compute", "provider": "dummy",
            "region": null, "account": null,
            "items": [{"id": "...", "name": "...", "state": "running",
                       "public_ips": [...], "private_ips": [...]}],
            "volumes": null,
            "fetched_at": "2025-01-01T11:59:30.000Z", "age": 30.0, "stale": false,
            "last_error": null}]}

    Items are those of :mod:`txcloud.inventory`; a compute target's
    volumes are listed apart, under ``volumes`` (``null`` for other kinds
    and for providers without block storage).  ``fetched_at`` and
    ``age`` (seconds) are ``null`` until the target first answers;
    ``last_error`` is ``{"type", "message", "at"}`` when the target's latest
    refresh failed, else ``null``.
``GET /nodes``
    The same document, listing only compute targets.
``GET /health``
    ``{"status": "starting" | "ok" | "degraded", "stale": [labels]}``: 503
    with ``"starting"`` until every target has answered or failed once, then
    200 (``"degraded"`` while some target is stale).

``/inventory`` and ``/nodes`` filter by ``?kind=``, ``provider=``,
``region=`` and ``target=`` (a name or a ``name@region`` label).  With a
token in the configuration (``[service] token_env = "VARIABLE"`` or
``token = "..."``), every path but ``/health`` requires
``Authorization: Bearer <token>`` and answers 401 without it.  Unknown paths
answer 404, methods other than GET and HEAD 405, bad filters 400, each with
``{"error": "..."}``.  Credentials and the token appear in no answer and no
log.

Stopping the service stops the HTTP server, the timer and the refreshes in
flight, and closes the drivers; no timer is left behind.
"""

from txcloud.service.refresher import Refresher
from txcloud.service.snapshot import Snapshot, TargetError, TargetStatus
from txcloud.service.tap import make_service
from txcloud.service.web import InventoryResource

__all__ = [
    "InventoryResource",
    "Refresher",
    "Snapshot",
    "TargetError",
    "TargetStatus",
    "make_service",
]
