"""
Amazon ECS documents as txcloud models: clusters, tasks (one
:class:`~txcloud.container.base.Container` per container of a task) and the
image references and states they carry.

``extra`` keys keep the names ECS gives the fields (``taskArn``,
``runningTasksCount``...), as Libcloud's ECS driver does for the task ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from txcloud.container.base import Container, ContainerCluster, ContainerDriver
from txcloud.container.drivers.images import image_version, to_image
from txcloud.container.types import ContainerState
from txcloud.errors import MalformedResponseError

__all__ = [
    "CLUSTER_EXTRA",
    "TASK_EXTRA",
    "cluster_in_arn",
    "container_state",
    "image_version",
    "task_in_container_arn",
    "to_cluster",
    "to_containers",
    "to_image",
]

#: Cluster fields copied into ``ContainerCluster.extra``.
CLUSTER_EXTRA = (
    "status",
    "runningTasksCount",
    "pendingTasksCount",
    "activeServicesCount",
    "registeredContainerInstancesCount",
)

#: Task fields copied into the ``extra`` of each of its containers.
TASK_EXTRA = (
    "taskArn",
    "taskDefinitionArn",
    "clusterArn",
    "launchType",
    "lastStatus",
    "desiredStatus",
    "stoppedReason",
    "createdAt",
)

# A task's lastStatus through its lifecycle.  A task never runs again once
# it starts going down, so the states after RUNNING all read as stopped.
_TASK_STATES = {
    "PROVISIONING": ContainerState.PENDING,
    "PENDING": ContainerState.PENDING,
    "ACTIVATING": ContainerState.PENDING,
    "RUNNING": ContainerState.RUNNING,
    "DEACTIVATING": ContainerState.STOPPED,
    "STOPPING": ContainerState.STOPPED,
    "DEPROVISIONING": ContainerState.STOPPED,
    "STOPPED": ContainerState.STOPPED,
    "DELETED": ContainerState.TERMINATED,
}


def _field(document: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    value = document.get(key)
    if not isinstance(value, kind):
        raise MalformedResponseError(f"ECS {what} without a valid {key!r}")
    return value


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"ECS {what} is not an object")
    return value


def container_state(task_status: str | None, container_status: str | None) -> ContainerState:
    """
    The state of a container of a task: stopped when it or its task is,
    otherwise its task's state (the finer of the two lifecycles).

    :param task_status: the task's ``lastStatus``.
    :param container_status: the container's ``lastStatus``.
    """
    if container_status == "STOPPED":
        return ContainerState.STOPPED
    return _TASK_STATES.get(task_status or "", ContainerState.UNKNOWN)


def to_cluster(driver: ContainerDriver, document: object) -> ContainerCluster:
    """A :class:`ContainerCluster` from an ECS ``Cluster`` object."""
    cluster = _mapping(document, "cluster")
    return ContainerCluster(
        id=_field(cluster, "clusterArn", str, "cluster"),
        name=_field(cluster, "clusterName", str, "cluster"),
        driver=driver,
        extra={key: cluster.get(key) for key in CLUSTER_EXTRA},
    )


def _addresses(task: Mapping[str, Any], container: Mapping[str, Any]) -> list[str]:
    # The container's own interfaces (awsvpc tasks); else the addresses of
    # the task's network interface attachments.
    found: list[str] = []
    for interface in container.get("networkInterfaces") or ():
        if isinstance(interface, Mapping):
            for key in ("privateIpv4Address", "ipv6Address"):
                if isinstance(interface.get(key), str):
                    found.append(interface[key])
    if found:
        return found
    for attachment in task.get("attachments") or ():
        if isinstance(attachment, Mapping):
            for detail in attachment.get("details") or ():
                if isinstance(detail, Mapping) and detail.get("name") == "privateIPv4Address":
                    found.append(str(detail.get("value")))
    return found


def to_containers(driver: ContainerDriver, document: object) -> list[Container]:
    """
    One :class:`Container` per container of an ECS ``Task`` object.

    The container's id is its ARN (as in Libcloud); ``extra`` holds the task's
    fields named in :data:`TASK_EXTRA` and the container's ``exitCode``.
    """
    task = _mapping(document, "task")
    _field(task, "taskArn", str, "task")
    task_extra = {key: task.get(key) for key in TASK_EXTRA}
    containers = []
    for item in _field(task, "containers", list, "task"):
        container = _mapping(item, "container")
        image = container.get("image")
        digest = container.get("imageDigest")
        containers.append(
            Container(
                id=_field(container, "containerArn", str, "container"),
                name=_field(container, "name", str, "container"),
                image=to_image(
                    driver,
                    image if isinstance(image, str) else "",
                    digest if isinstance(digest, str) else None,
                ),
                state=container_state(task.get("lastStatus"), container.get("lastStatus")),
                ip_addresses=_addresses(task, container),
                driver=driver,
                extra={**task_extra, "exitCode": container.get("exitCode")},
            )
        )
    return containers


def cluster_in_arn(arn: str) -> str | None:
    """
    The cluster named in a long-format task ARN
    (``arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID``), or ``None``.
    """
    _, marker, resource = arn.partition(":task/")
    parts = resource.split("/")
    return parts[0] if marker and len(parts) == 2 and parts[0] else None


def task_in_container_arn(arn: str) -> tuple[str, str] | None:
    """
    The cluster and task id named in a long-format container ARN
    (``arn:aws:ecs:REGION:ACCOUNT:container/CLUSTER/TASK/ID``), or ``None``.
    """
    _, marker, resource = arn.partition(":container/")
    parts = resource.split("/")
    if marker and len(parts) == 3 and all(parts):
        return parts[0], parts[1]
    return None
