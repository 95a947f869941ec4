"""
The inventory service's HTTP API, a :mod:`twisted.web` resource serving JSON.

========================  ==================================================
``GET /inventory``        every target's latest snapshot
``GET /nodes``            the same for compute targets only
``GET /health``           503 until every target was refreshed once, then 200
========================  ==================================================

``/inventory`` and ``/nodes`` take filters, each repeatable (a target
passes a filter matching any of its values) and combined with "and":
``?kind=compute&provider=dummy&region=eu-1&target=NAME`` (``target`` is a
name, matching all its regions, or a ``name@region`` label).  An unknown
parameter or kind is refused with 400.

Every answer is JSON, ``Cache-Control: no-store``: errors are
``{"error": "..."}`` with status 400 (bad filter), 401 (missing or wrong
token), 404 (unknown path) or 405 (a method other than GET or HEAD).

When the configuration sets a token (``[service] token`` or ``token_env``),
``/inventory`` and ``/nodes`` (and unknown paths, so they reveal nothing)
require ``Authorization: Bearer <token>``.  ``/health`` stays open, so load
balancers and process supervisors can probe it without the secret; it shows
only the labels of the stale targets.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from twisted.web.resource import Resource
from twisted.web.server import Request

from txcloud.config import KINDS, Target
from txcloud.errors import InvalidArgumentError
from txcloud.service.snapshot import Snapshot

__all__ = ["FILTERS", "InventoryResource", "TargetFilter"]

#: The query parameters ``/inventory`` and ``/nodes`` accept.
FILTERS = ("kind", "provider", "region", "target")

_ALLOWED_METHODS = (b"GET", b"HEAD")


@attrs.frozen
class TargetFilter:
    """
    Which targets a request asks for; an empty tuple accepts every value.

    :ivar kinds: accepted ``kind`` values.
    :ivar providers: accepted ``provider`` values.
    :ivar regions: accepted ``region`` values.
    :ivar targets: accepted target names or ``name@region`` labels.
    """

    kinds: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, args: Mapping[bytes, Sequence[bytes]]) -> TargetFilter:
        """
        Read a request's query arguments.

        :raises InvalidArgumentError: for an unknown parameter or kind, or
            a value that is not UTF-8.
        """
        values: dict[str, tuple[str, ...]] = {}
        for raw_name, raw_values in args.items():
            name = _text(raw_name, "a query parameter name")
            if name not in FILTERS:
                raise InvalidArgumentError(
                    f"unknown query parameter {name!r}; expected one of {', '.join(FILTERS)}"
                )
            values[name] = tuple(_text(value, f"{name!r}") for value in raw_values)
        for kind in values.get("kind", ()):
            if kind not in KINDS:
                raise InvalidArgumentError(
                    f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
                )
        return cls(
            kinds=values.get("kind", ()),
            providers=values.get("provider", ()),
            regions=values.get("region", ()),
            targets=values.get("target", ()),
        )

    def __call__(self, target: Target) -> bool:
        """Whether *target* passes every filter."""
        return (
            _accepts(self.kinds, target.kind)
            and _accepts(self.providers, target.provider)
            and _accepts(self.regions, target.region)
            and (not self.targets or bool({target.name, target.label} & set(self.targets)))
        )


def _accepts(accepted: tuple[str, ...], value: str | None) -> bool:
    return not accepted or value in accepted


def _text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgumentError(f"{what} is not UTF-8") from None


class InventoryResource(Resource):
    """
    The whole HTTP API: serve it with ``twisted.web.server.Site(resource)``.

    :param snapshot: gives what the service knows now
        (:meth:`txcloud.service.refresher.Refresher.snapshot`).
    :param token: the bearer token ``/inventory`` and ``/nodes`` require,
        or ``None`` for an open API.
    """

    isLeaf = True

    def __init__(self, snapshot: Callable[[], Snapshot], token: str | None = None) -> None:
        super().__init__()
        self._snapshot = snapshot
        self._token = None if token is None else token.encode("utf-8")
        self._routes: dict[bytes, Callable[[Request], tuple[int, Any]]] = {
            b"/health": self._health,
            b"/inventory": self._inventory,
            b"/nodes": self._nodes,
        }

    def render(self, request: Request) -> bytes:
        """Answer *request* with a JSON document."""
        code, document = self._answer(request)
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        if code == 401:
            request.setHeader(b"www-authenticate", b'Bearer realm="txcloud"')
        elif code == 405:
            request.setHeader(b"allow", b", ".join(_ALLOWED_METHODS))
        body = json.dumps(document, sort_keys=True).encode("utf-8") + b"\n"
        if request.method == b"HEAD":
            # The length GET would have; twisted.web logs a warning for a HEAD body.
            request.setHeader(b"content-length", b"%d" % len(body))
            return b""
        return body

    def _answer(self, request: Request) -> tuple[int, Any]:
        path = request.path
        if path != b"/health" and not self._authorized(request):
            return 401, {"error": "a valid bearer token is required"}
        route = self._routes.get(path)
        if route is None:
            return 404, {"error": "not found", "paths": sorted(p.decode() for p in self._routes)}
        if request.method not in _ALLOWED_METHODS:
            return 405, {"error": "method not allowed; use GET or HEAD"}
        return route(request)

    def _authorized(self, request: Request) -> bool:
        if self._token is None:
            return True
        scheme, _, credentials = (request.getHeader(b"authorization") or b"").partition(b" ")
        # compare_digest does not stop at the first differing byte, so timing
        # tells nothing of the token.
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self._token)

    def _health(self, request: Request) -> tuple[int, Any]:
        snapshot = self._snapshot()
        return (200 if snapshot.ready else 503), snapshot.health_document()

    def _inventory(self, request: Request) -> tuple[int, Any]:
        return self._listing(request, _every_target)

    def _nodes(self, request: Request) -> tuple[int, Any]:
        return self._listing(request, _is_compute)

    def _listing(self, request: Request, scope: Callable[[Target], bool]) -> tuple[int, Any]:
        try:
            wanted = TargetFilter.from_query(request.args or {})
        except InvalidArgumentError as e:
            return 400, {"error": str(e)}
        return 200, self._snapshot().inventory_document(lambda t: scope(t) and wanted(t))


def _every_target(target: Target) -> bool:
    return True


def _is_compute(target: Target) -> bool:
    return target.kind == "compute"
