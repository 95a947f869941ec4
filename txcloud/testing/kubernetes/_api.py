"""
The Kubernetes API server's rules that :mod:`txcloud.testing.kubernetes`
follows, apart from HTTP: ``Status`` errors, object names, how a created pod
and its container statuses look, and lists cut in pages with ``continue``
tokens over consistent snapshots.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "LABEL_RULE",
    "SUBDOMAIN_RULE",
    "APIError",
    "Pager",
    "container_status",
    "invalid",
    "is_label",
    "is_subdomain",
    "new_name",
    "not_found",
    "object_metadata",
    "pod_containers",
]

#: The ``Status`` reason of each HTTP status the fake answers with.
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
LABEL_RULE = (
    "a lowercase RFC 1123 label must be at most 63 lowercase letters, digits or '-', "
    "starting and ending with a letter or digit"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must be at most 253 characters: labels of "
    "lowercase letters, digits or '-' joined by '.'"
)

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_TOKEN_VERSION = "meta.k8s.io/v1"

Entries = list[tuple[str, dict[str, Any]]]


def is_label(name: object) -> bool:
    """Whether *name* is an RFC 1123 label (namespace and container names)."""
    return isinstance(name, str) and len(name) <= 63 and bool(_LABEL.match(name))


def is_subdomain(name: object) -> bool:
    """Whether *name* is an RFC 1123 subdomain (pod names)."""
    return isinstance(name, str) and len(name) <= 253 and all(map(is_label, name.split(".")))


class APIError(Exception):
    """
    Answer with a ``Status`` object instead.

    :ivar code: the HTTP status.
    :ivar document: the ``Status`` object.
    """

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.document: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(metadata or {}),
            "status": "Failure",
            "message": message,
            "reason": reason or REASONS.get(code, "Unknown"),
            "code": code,
        }
        if details:
            self.document["details"] = dict(details)


def not_found(resource: str, name: str) -> APIError:
    """``404`` for the object *name* of *resource* (``"pods"``)."""
    return APIError(404, f'{resource} "{name}" not found', details={"name": name, "kind": resource})


def invalid(kind: str, name: str, field: str, rule: str) -> APIError:
    """``422`` for an object of *kind* whose *field* breaks *rule*."""
    return APIError(
        422,
        f'{kind} "{name}" is invalid: {field}: Invalid value: "{name}": {rule}',
        details={
            "name": name,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": rule, "field": field}],
        },
    )


def object_metadata(document: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """The ``metadata`` of a posted object, which must be of *kind* (or say no kind)."""
    if document.get("kind", kind) != kind:
        raise APIError(400, f"the object is not a {kind}: kind {document.get('kind')!r}")
    metadata = document.get("metadata")
    if not isinstance(metadata, Mapping):
        raise APIError(400, f"the {kind} has no metadata")
    return metadata


def new_name(metadata: Mapping[str, Any]) -> str:
    """The ``name`` of a posted object, made from ``generateName`` if it has none."""
    name = metadata.get("name")
    generated = metadata.get("generateName")
    if not name and isinstance(generated, str) and generated:
        return generated + uuid.uuid4().hex[:5]
    return name if isinstance(name, str) else ""


def pod_containers(pod: str, spec: object) -> list[dict[str, Any]]:
    """
    The containers of a posted pod's *spec*, checked and with the fields the
    API server fills in.
    """
    containers = spec.get("containers") if isinstance(spec, Mapping) else None
    if not isinstance(containers, list) or not containers:
        raise APIError(
            422,
            f'Pod "{pod}" is invalid: spec.containers: Required value',
            details={"name": pod, "kind": "Pod"},
        )
    normalised: list[dict[str, Any]] = []
    for index, container in enumerate(containers):
        field = f"spec.containers[{index}]"
        name = container.get("name") if isinstance(container, Mapping) else None
        if not is_label(name) or any(c["name"] == name for c in normalised):
            raise invalid("Pod", pod, f"{field}.name", LABEL_RULE + ", unique in the pod")
        image = container.get("image")
        if not isinstance(image, str) or not image.strip():
            raise APIError(
                422,
                f'Pod "{pod}" is invalid: {field}.image: Required value',
                details={"name": pod, "kind": "Pod"},
            )
        tagged = ":" in image.rpartition("/")[2] and not image.endswith(":latest")
        normalised.append(
            {
                "resources": {},
                "imagePullPolicy": "IfNotPresent" if tagged else "Always",
                **container,
            }
        )
    return normalised


def _repository(image: str) -> str:
    # The image reference without its tag or digest.
    name = image.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    return head + slash + last.split(":", 1)[0]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def container_status(
    pod: Mapping[str, Any], container: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    """
    The status the kubelet reports for *container* of *pod* in *state*,
    with ids made up from the pod's uid and the image.
    """
    image = container["image"]
    running = "running" in state
    status: dict[str, Any] = {
        "name": container["name"],
        "state": copy.deepcopy(dict(state)),
        "lastState": {},
        "ready": running,
        "restartCount": 0,
        "image": image,
        "imageID": "",
        "started": running,
    }
    if "waiting" not in state:
        # Only a container the runtime has created has an id and a resolved image.
        status["imageID"] = f"{_repository(image)}@sha256:{_digest(image)}"
        status["containerID"] = f"containerd://{_digest(pod['metadata']['uid'], container['name'])}"
    return status


class Pager:
    """
    Cuts lists into pages.  A list cut by ``limit`` keeps a snapshot of its
    objects, which its ``continue`` tokens page through, until :meth:`expire`.
    """

    def __init__(self) -> None:
        self._snapshots: dict[str, tuple[str, int, Entries]] = {}

    def expire(self) -> None:
        """Forget every snapshot: their tokens now answer ``410 Gone``."""
        self._snapshots.clear()

    def page(
        self,
        kind: str,
        items: Iterable[tuple[str, dict[str, Any]]],
        version: int,
        limit: str,
        token: str,
    ) -> dict[str, Any]:
        """
        One page of a list.

        :param kind: the objects' kind (``"Pod"``).
        :param items: the current objects, each with its key (``"ns/name"``).
        :param version: the current resource version.
        :param limit: the ``limit`` parameter (``"0"`` for all).
        :param token: the ``continue`` parameter (``""`` for the first page).
        :returns: the ``...List`` document.
        :raises APIError: for a bad limit or token, or an expired token.
        """
        size = self._limit(limit)
        if token:
            snapshot_id, start, version, entries = self._continue(token, kind, items, version)
        else:
            snapshot_id, start = None, ""
            entries = sorted((key, copy.deepcopy(value)) for key, value in items)
        remaining = [(key, value) for key, value in entries if key > start]
        page = remaining[:size] if size else remaining
        metadata: dict[str, Any] = {"resourceVersion": str(version)}
        if len(page) < len(remaining):
            if snapshot_id is None:
                snapshot_id = uuid.uuid4().hex
                self._snapshots[snapshot_id] = (kind, version, entries)
            metadata["continue"] = self._token(snapshot_id, page[-1][0], version)
            metadata["remainingItemCount"] = len(remaining) - len(page)
        elif snapshot_id is not None:
            self._snapshots.pop(snapshot_id, None)
        return {
            "kind": f"{kind}List",
            "apiVersion": "v1",
            "metadata": metadata,
            # Items of a list carry no kind or apiVersion of their own.
            "items": [
                {k: v for k, v in value.items() if k not in ("kind", "apiVersion")}
                for _, value in page
            ],
        }

    @staticmethod
    def _limit(text: str) -> int:
        try:
            limit = int(text)
        except ValueError:
            limit = -1
        if limit < 0:
            raise APIError(400, f"limit must be a non-negative integer, not {text!r}")
        return limit

    @staticmethod
    def _token(snapshot_id: str, start: str, version: int) -> str:
        token = {"v": _TOKEN_VERSION, "rv": version, "start": start, "list": snapshot_id}
        return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()

    def _continue(
        self,
        token: str,
        kind: str,
        items: Iterable[tuple[str, dict[str, Any]]],
        version: int,
    ) -> tuple[str, str, int, Entries]:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            snapshot_id, start = decoded["list"], decoded["start"]
            if decoded["v"] != _TOKEN_VERSION or not isinstance(start, str):
                raise ValueError(token)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise APIError(400, "continue key is not valid: cannot decode it") from None
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            # Compacted: offer a token over the current objects after the
            # same key, for a client that accepts an inconsistent list.
            fresh = uuid.uuid4().hex
            entries = sorted((key, copy.deepcopy(value)) for key, value in items)
            self._snapshots[fresh] = (kind, version, entries)
            raise APIError(
                410,
                "the continue token is too old to give a consistent list: list again "
                "without it, or use the continue token of this status for the rest of "
                "the current objects",
                reason="Expired",
                metadata={"continue": self._token(fresh, start, version)},
            )
        snapshot_kind, snapshot_version, entries = snapshot
        if snapshot_kind != kind:
            raise APIError(400, "continue key is not valid: it belongs to another list")
        return snapshot_id, start, snapshot_version, entries
