"""
Kubernetes API objects as txcloud models: namespaces as clusters, pods as
:class:`KubernetesPod`, and each container of a pod as a
:class:`~txcloud.container.base.Container`.

As in Libcloud's Kubernetes driver, a container's ``id`` is the runtime's
``containerID`` from its status (``"containerd://..."``), and its ``extra``
names its ``pod`` and ``namespace``.  A container the runtime has not
created yet has no such id; it gets ``"NAMESPACE/POD/CONTAINER"`` instead
(Libcloud uses the bare container name, which is not unique).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from txcloud.common.models import Model
from txcloud.common.timestamps import parse_rfc3339
from txcloud.container.base import Container, ContainerCluster, ContainerDriver
from txcloud.container.drivers.images import to_image
from txcloud.container.types import ContainerState
from txcloud.errors import MalformedResponseError

__all__ = [
    "KubernetesPod",
    "container_state",
    "list_page",
    "parse_timestamp",
    "pod_key",
    "status_details",
    "to_cluster",
    "to_pod",
]

# Why a waiting container will not start without someone fixing something.
_STUCK_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "RunContainerError",
    }
)
# The state of a container that has no status yet, by its pod's phase.
_PHASE_STATES = {
    "Pending": ContainerState.PENDING,
    "Succeeded": ContainerState.TERMINATED,
    "Failed": ContainerState.ERROR,
}


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"Kubernetes {what} is not an object")
    return value


def _text(document: Mapping[str, Any], key: str, what: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"Kubernetes {what} without a valid {key!r}")
    return value


#: An RFC 3339 timestamp (``"2024-05-01T12:00:00Z"``) as an aware datetime, or ``None``.
parse_timestamp = parse_rfc3339


def list_page(document: object, what: str) -> tuple[list[Mapping[str, Any]], str | None]:
    """
    The items of one page of a list and the token of the next page.

    :param what: the list, for error messages (``"PodList"``).
    :returns: the items and the ``continue`` token (``None`` on the last page).
    :raises MalformedResponseError: if *document* is not such a list.
    """
    page = _mapping(document, what)
    items = page.get("items")
    if items is None:
        # Go's JSON encoding writes an empty slice as null.
        items = []
    if not isinstance(items, list):
        raise MalformedResponseError(f"Kubernetes {what} without a list of items")
    metadata = _mapping(page.get("metadata", {}), f"{what} metadata")
    token = metadata.get("continue") or None
    if token is not None and not isinstance(token, str):
        raise MalformedResponseError(f"Kubernetes {what} with a bad continue token")
    return [_mapping(item, f"{what} item") for item in items], token


def status_details(body: bytes) -> Mapping[str, Any]:
    """
    The ``details`` of a ``Status`` error body (``{"name": ..., "kind":
    "pods"}``), or an empty mapping when the body has none.
    """
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    details = document.get("details") if isinstance(document, dict) else None
    return details if isinstance(details, dict) else {}


def to_cluster(driver: ContainerDriver, document: object) -> ContainerCluster:
    """
    A :class:`ContainerCluster` from a ``Namespace``: ``id`` and ``name`` are
    the namespace's name; ``extra`` holds its ``phase`` (as Libcloud's),
    ``uid``, ``labels``, ``resourceVersion`` and ``creationTimestamp``.
    """
    namespace = _mapping(document, "Namespace")
    metadata = _mapping(namespace.get("metadata"), "Namespace metadata")
    status = _mapping(namespace.get("status", {}), "Namespace status")
    name = _text(metadata, "name", "Namespace")
    return ContainerCluster(
        id=name,
        name=name,
        driver=driver,
        extra={
            "phase": status.get("phase"),
            "uid": metadata.get("uid"),
            "labels": dict(metadata.get("labels") or {}),
            "resourceVersion": metadata.get("resourceVersion"),
            "creationTimestamp": metadata.get("creationTimestamp"),
        },
    )


def container_state(phase: str | None, status: Mapping[str, Any] | None) -> ContainerState:
    """
    A container's state from its status and its pod's phase.

    Running is ``RUNNING``; waiting is ``PENDING``, or ``ERROR`` when it
    waits on something that will not fix itself (``ImagePullBackOff``,
    ``CrashLoopBackOff``...); terminated is ``TERMINATED`` after exit code
    0 and ``ERROR`` after any other.  Without a status the pod's phase
    decides: ``Pending`` is ``PENDING``, ``Succeeded`` ``TERMINATED``,
    ``Failed`` ``ERROR``, anything else ``UNKNOWN``.
    """
    state = status.get("state") if status else None
    if isinstance(state, Mapping) and state:
        if "running" in state:
            return ContainerState.RUNNING
        if "waiting" in state:
            waiting = state["waiting"] if isinstance(state["waiting"], Mapping) else {}
            stuck = waiting.get("reason") in _STUCK_REASONS
            return ContainerState.ERROR if stuck else ContainerState.PENDING
        if "terminated" in state:
            ended = state["terminated"] if isinstance(state["terminated"], Mapping) else {}
            clean = ended.get("exitCode") == 0
            return ContainerState.TERMINATED if clean else ContainerState.ERROR
    return _PHASE_STATES.get(phase or "", ContainerState.UNKNOWN)


def _state_details(status: Mapping[str, Any] | None) -> dict[str, Any]:
    # The reason, exit code and start time of the container's current state.
    state = status.get("state") if status else None
    if not isinstance(state, Mapping) or not state:
        return {}
    details = next(iter(state.values()))
    if not isinstance(details, Mapping):
        return {}
    return {
        key: details[key]
        for key in ("reason", "message", "exitCode", "startedAt", "finishedAt")
        if key in details
    }


@attrs.define(eq=False, repr=False)
class KubernetesPod(Model):
    """
    A pod, as Libcloud's ``KubernetesPod``: its containers, where it runs
    and its phase (lower case, ``"running"``, as Libcloud gives it).
    """

    _shown = ("name", "namespace", "state")

    id: str
    name: str
    namespace: str
    state: str
    ip_addresses: list[str]
    containers: list[Container]
    created_at: datetime | None
    node_name: str | None
    driver: ContainerDriver
    extra: dict[str, Any] = attrs.field(factory=dict)


def pod_key(namespace: str, pod: str, container: str) -> str:
    """The id of a container the runtime has not created yet."""
    return f"{namespace}/{pod}/{container}"


def _addresses(status: Mapping[str, Any]) -> list[str]:
    addresses = [
        entry["ip"]
        for entry in status.get("podIPs") or ()
        if isinstance(entry, Mapping) and isinstance(entry.get("ip"), str)
    ]
    if not addresses and isinstance(status.get("podIP"), str) and status["podIP"]:
        addresses = [status["podIP"]]
    return addresses


def to_pod(driver: ContainerDriver, document: object) -> KubernetesPod:
    """
    A :class:`KubernetesPod` (with its :class:`Container` list) from a ``Pod``.

    Each container's ``extra`` holds ``pod``, ``namespace``, ``pod_uid``,
    ``phase`` (the pod's), ``node_name``, ``resources`` (the spec's),
    ``containerID``, ``imageID``, ``ready``, ``restartCount``, and the
    ``reason``, ``message``, ``exitCode``, ``startedAt`` and ``finishedAt``
    of its current state where the status gives them.

    :raises MalformedResponseError: for a document that is not a pod.
    """
    pod = _mapping(document, "Pod")
    metadata = _mapping(pod.get("metadata"), "Pod metadata")
    spec = _mapping(pod.get("spec"), "Pod spec")
    status = _mapping(pod.get("status") or {}, "Pod status")
    name = _text(metadata, "name", "Pod")
    namespace = _text(metadata, "namespace", "Pod")
    phase = status.get("phase") if isinstance(status.get("phase"), str) else None
    addresses = _addresses(status)
    statuses = {
        entry.get("name"): entry
        for entry in status.get("containerStatuses") or ()
        if isinstance(entry, Mapping)
    }
    specs = spec.get("containers")
    if not isinstance(specs, list):
        raise MalformedResponseError(f"Kubernetes pod {name!r} without containers")
    containers = []
    for container_spec in specs:
        container = _mapping(container_spec, "Pod container")
        container_name = _text(container, "name", "Pod container")
        image = _text(container, "image", "Pod container")
        container_status = statuses.get(container_name)
        runtime_id = (container_status or {}).get("containerID") or None
        image_id = (container_status or {}).get("imageID") or None
        containers.append(
            Container(
                id=runtime_id or pod_key(namespace, name, container_name),
                name=container_name,
                image=to_image(driver, image, image_id),
                state=container_state(phase, container_status),
                ip_addresses=list(addresses),
                driver=driver,
                extra={
                    "pod": name,
                    "namespace": namespace,
                    "pod_uid": metadata.get("uid"),
                    "phase": phase,
                    "node_name": spec.get("nodeName"),
                    "resources": dict(container.get("resources") or {}),
                    "containerID": runtime_id,
                    "imageID": image_id,
                    "ready": (container_status or {}).get("ready", False),
                    "restartCount": (container_status or {}).get("restartCount", 0),
                    **_state_details(container_status),
                },
            )
        )
    return KubernetesPod(
        id=_text(metadata, "uid", "Pod"),
        name=name,
        namespace=namespace,
        state=(phase or "unknown").lower(),
        ip_addresses=addresses,
        containers=containers,
        created_at=parse_timestamp(metadata.get("creationTimestamp")),
        node_name=spec.get("nodeName"),
        driver=driver,
        extra={
            "labels": dict(metadata.get("labels") or {}),
            "resourceVersion": metadata.get("resourceVersion"),
            "hostIP": status.get("hostIP"),
            "qosClass": status.get("qosClass"),
            "restartPolicy": spec.get("restartPolicy"),
        },
    )
