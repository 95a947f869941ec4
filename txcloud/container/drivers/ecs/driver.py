"""
The :class:`ElasticContainerDriver` class; :mod:`txcloud.container.drivers.ecs`
describes the driver.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, succeed

from txcloud.common.aws import AWSDriver
from txcloud.common.checks import check_trimmed_text
from txcloud.common.paging import collect
from txcloud.container.base import Container, ContainerCluster, ContainerDriver, ContainerImage
from txcloud.container.drivers.ecs.parse import (
    cluster_in_arn,
    task_in_container_arn,
    to_cluster,
    to_containers,
    to_image,
)
from txcloud.container.drivers.images import image_path
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import (
    ClusterNotFoundError,
    ContainerNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    ProviderError,
    TxCloudError,
)
from txcloud.http import ErrorResponse, retyped_error

__all__ = ["ElasticContainerDriver"]

#: The ``X-Amz-Target`` prefix of ECS operations (API version 2014-11-13).
API_TARGET = "AmazonEC2ContainerServiceV20141113"
#: The content type of ECS requests.
CONTENT_TYPE = "application/x-amz-json-1.1"
#: The most ``maxResults`` a ``List*`` call takes, and ids a ``Describe*`` call takes.
MAX_PAGE_SIZE = 100
#: The most tasks one ``RunTask`` call starts.
MAX_RUN_COUNT = 10
#: Launch types ECS knows.
LAUNCH_TYPES = frozenset({"EC2", "FARGATE", "EXTERNAL"})

# Operations that change nothing, and so may be sent again.
_READ_ONLY = ("List", "Describe")
# Cluster names, task definition families and container names.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")

ClusterLike = ContainerCluster | str


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidArgumentError(
            f"{what} must be 1 to 255 letters, digits, '-' or '_', not {value!r}"
        )
    return value


def _integer(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(f"{what} must be an integer in {low}..{high}, not {value!r}")
    return value


def _page_size(value: object) -> int | None:
    return None if value is None else _integer(value, "ex_page_size", 1, MAX_PAGE_SIZE)


def _cluster(cluster: object) -> dict[str, str]:
    # The "cluster" member of a request: ECS takes a name or an ARN, and
    # uses the "default" cluster when the member is left out.
    if cluster is None:
        return {}
    if isinstance(cluster, ContainerCluster):
        return {"cluster": cluster.id}
    if isinstance(cluster, str):
        return {"cluster": check_trimmed_text(cluster, "cluster")}
    raise InvalidArgumentError(f"cluster must be a ContainerCluster or a name, not {cluster!r}")


def _launch_type(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value in LAUNCH_TYPES):
        return value
    raise InvalidArgumentError(
        f"launch type must be one of {', '.join(sorted(LAUNCH_TYPES))}, not {value!r}"
    )


def _mapping(value: object, what: str) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    raise InvalidArgumentError(f"{what} must be a mapping, not {value!r}")


def _container(container: object) -> Container:
    if not isinstance(container, Container):
        raise InvalidArgumentError(f"expected a Container, not {container!r}")
    return container


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def _string_list(document: Mapping[str, Any], key: str, operation: str) -> list[str]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedResponseError(f"ECS {operation} answered without a list of {key!r}")
    return value


def _same_container(containers: list[Container], container_id: str, task: str) -> Container:
    if not containers:
        raise MalformedResponseError(f"ECS described task {task} without containers")
    return next((c for c in containers if c.id == container_id), containers[0])


class ElasticContainerDriver(AWSDriver, ContainerDriver):
    """
    Amazon ECS in one region.

    Takes :class:`~txcloud.common.aws.AWSDriver`'s arguments (``key``,
    ``secret``, ``region``, ``ex_token``, ``ex_profile``, ``ex_credentials``,
    ``ex_environ``, ``host``/``port``/``secure`` for an emulator...).
    """

    name = "Amazon Elastic Container Service"
    type = Provider.ECS
    website = "https://aws.amazon.com/ecs/"
    service_name = "ecs"
    supports_clusters = True
    error_codes = {
        "ClusterNotFoundException": ClusterNotFoundError,
        "AccessDeniedException": InvalidCredsError,
        "ClientException": InvalidRequestError,
        "InvalidParameterException": InvalidRequestError,
        "ClusterContainsContainerInstancesException": InvalidRequestError,
        "ClusterContainsServicesException": InvalidRequestError,
        "ClusterContainsTasksException": InvalidRequestError,
        "PlatformTaskDefinitionIncompatibilityException": InvalidRequestError,
        "PlatformUnknownException": InvalidRequestError,
        "UnsupportedFeatureException": InvalidRequestError,
    }

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        error = super()._map_error(response)
        # StopTask says a task is unknown only in its message.
        if error.code == "InvalidParameterException" and "task was not found" in error.message:
            return retyped_error(error, ContainerNotFoundError)
        return error

    async def _call(self, operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = self._aws_request(
            "POST",
            self.endpoint + "/",
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"{API_TARGET}.{operation}"},
            body=json.dumps(body, separators=(",", ":")).encode(),
            idempotent=operation.startswith(_READ_ONLY),
        )
        response = await self.http.send(request)
        return await response.json_object(f"ECS {operation} answered with a non-object")

    async def _pages(
        self, operation: str, body: Mapping[str, Any], key: str, page_size: int | None
    ) -> AsyncIterator[list[str]]:
        request = dict(body)
        if page_size is not None:
            request["maxResults"] = page_size
        while True:
            document = await self._call(operation, request)
            yield _string_list(document, key, operation)
            token = document.get("nextToken")
            if not token:
                return
            if not isinstance(token, str):
                raise MalformedResponseError(f"ECS {operation} answered with a bad nextToken")
            request["nextToken"] = token

    # Clusters

    async def _describe_clusters(self, ids: Sequence[str]) -> list[ContainerCluster]:
        clusters: list[ContainerCluster] = []
        for batch in _batches(ids, MAX_PAGE_SIZE):
            document = await self._call("DescribeClusters", {"clusters": list(batch)})
            clusters.extend(to_cluster(self, item) for item in document.get("clusters") or ())
        return clusters

    def iterate_clusters(self, ex_page_size: int | None = None) -> AsyncIterator[ContainerCluster]:
        """
        The region's clusters, fetched a page at a time.

        :param ex_page_size: cluster ARNs per ``ListClusters`` page (1..100);
            ECS's default when ``None``.
        :returns: an async iterator of :class:`ContainerCluster`.
        :raises InvalidArgumentError: for a bad page size.
        """
        return self._iterate_clusters(_page_size(ex_page_size))

    async def _iterate_clusters(self, page_size: int | None) -> AsyncIterator[ContainerCluster]:
        async for arns in self._pages("ListClusters", {}, "clusterArns", page_size):
            for cluster in await self._describe_clusters(arns):
                yield cluster

    def list_clusters(self, ex_page_size: int | None = None) -> Deferred[list[ContainerCluster]]:
        """
        List the region's clusters (every page).

        :param ex_page_size: see :meth:`iterate_clusters`.
        :returns: a Deferred firing with a list of :class:`ContainerCluster`;
            ``extra`` holds ``status``, ``runningTasksCount``,
            ``pendingTasksCount``, ``activeServicesCount`` and
            ``registeredContainerInstancesCount``.
        """
        return collect(self.iterate_clusters(ex_page_size))

    def get_cluster(self, id: str) -> Deferred[ContainerCluster]:
        """
        Fetch one cluster.

        :param id: the cluster's ARN or name.
        :returns: a Deferred firing with the :class:`ContainerCluster` (a
            deleted cluster is described, with status ``INACTIVE``, for a
            while), or failing with :class:`~txcloud.errors.ClusterNotFoundError`.
        """
        return Deferred.fromCoroutine(self._get_cluster(check_trimmed_text(id, "id")))

    async def _get_cluster(self, id: str) -> ContainerCluster:
        clusters = await self._describe_clusters([id])
        if not clusters:
            raise ClusterNotFoundError(f"no ECS cluster {id!r} in {self.region}", self)
        return clusters[0]

    def create_cluster(self, name: str, location: Any = None) -> Deferred[ContainerCluster]:
        """
        Create a cluster (ECS answers with the existing one if *name* is taken).

        :param name: 1 to 255 letters, digits, ``-`` or ``_``.
        :param location: unused: clusters live in the driver's region
            (accepted for Libcloud's signature).
        :returns: a Deferred firing with the :class:`ContainerCluster`.
        """
        body = {"clusterName": _name(name, "name")}
        return Deferred.fromCoroutine(self._create_cluster(body))

    async def _create_cluster(self, body: Mapping[str, Any]) -> ContainerCluster:
        document = await self._call("CreateCluster", body)
        return to_cluster(self, document.get("cluster"))

    def destroy_cluster(self, cluster: ClusterLike) -> Deferred[bool]:
        """
        Delete a cluster; it must hold no running tasks, services or instances.

        :param cluster: a :class:`ContainerCluster`, or a cluster's name or ARN.
        :returns: a Deferred firing with ``True`` once the cluster is
            ``INACTIVE``; failing with
            :class:`~txcloud.errors.ClusterNotFoundError` if there is no such
            cluster, :class:`~txcloud.errors.InvalidRequestError` if it is in use.
        """
        body = _cluster(cluster)
        if not body:
            raise InvalidArgumentError("destroy_cluster needs a cluster")
        return Deferred.fromCoroutine(self._destroy_cluster(body))

    async def _destroy_cluster(self, body: Mapping[str, Any]) -> bool:
        document = await self._call("DeleteCluster", body)
        return to_cluster(self, document.get("cluster")).extra["status"] == "INACTIVE"

    # Images

    def install_image(self, path: str) -> Deferred[ContainerImage]:
        """
        Name an image for :meth:`deploy_container`; nothing is pulled (each
        task's host pulls the image when the task starts).

        :param path: an image reference (``"nginx:1.25"``,
            ``"ACCOUNT.dkr.ecr.REGION.amazonaws.com/web:1"``).
        :returns: a Deferred firing at once with the :class:`ContainerImage`
            (``name`` and ``path`` are the reference, ``version`` its tag).
        """
        return succeed(to_image(self, check_trimmed_text(path, "path")))

    def list_images(self) -> Deferred[list[ContainerImage]]:
        """Not supported: ECS keeps no images (they live in registries such as ECR)."""
        raise NotImplementedError(
            f"{self.name} keeps no images: tasks pull them from a registry such as ECR; "
            "name one with install_image(path)"
        )

    # Containers

    async def _describe_tasks(
        self, task_arns: Sequence[str], cluster: Mapping[str, str]
    ) -> list[Container]:
        containers: list[Container] = []
        for batch in _batches(task_arns, MAX_PAGE_SIZE):
            document = await self._call("DescribeTasks", {**cluster, "tasks": list(batch)})
            for task in document.get("tasks") or ():
                containers.extend(to_containers(self, task))
        return containers

    def ex_list_containers_for_task(
        self, task_arns: Sequence[str], cluster: ClusterLike | None = None
    ) -> Deferred[list[Container]]:
        """
        The containers of the given tasks; unknown tasks are left out.

        :param task_arns: task ARNs or ids.
        :param cluster: the tasks' cluster; the ``default`` cluster when ``None``.
        :returns: a Deferred firing with a list of :class:`Container`.
        """
        if isinstance(task_arns, str) or not isinstance(task_arns, Sequence):
            raise InvalidArgumentError(f"task_arns must be a list of ARNs, not {task_arns!r}")
        arns = [check_trimmed_text(arn, "a task ARN") for arn in task_arns]
        return Deferred.fromCoroutine(self._describe_tasks(arns, _cluster(cluster)))

    def iterate_containers(
        self,
        image: ContainerImage | str | None = None,
        cluster: ClusterLike | None = None,
        all: bool = True,
        ex_page_size: int | None = None,
    ) -> AsyncIterator[Container]:
        """
        The containers of a cluster's tasks, fetched a page of tasks at a time.

        :param image: only containers running this image: a
            :class:`ContainerImage` (its ``path``) or an image reference,
            compared as written.
        :param cluster: the cluster; the ``default`` cluster when ``None``.
        :param all: also the tasks stopped lately (ECS describes a stopped
            task for about an hour); only the tasks meant to run when ``False``.
        :param ex_page_size: task ARNs per ``ListTasks`` page (1..100).
        :returns: an async iterator of :class:`Container`.
        :raises InvalidArgumentError: for a bad argument.
        """
        path = None if image is None else image_path(image)
        if not isinstance(all, bool):
            raise InvalidArgumentError(f"all must be a bool, not {all!r}")
        statuses = ("RUNNING", "STOPPED") if all else ("RUNNING",)
        return self._iterate_containers(_cluster(cluster), statuses, path, _page_size(ex_page_size))

    async def _iterate_containers(
        self,
        cluster: Mapping[str, str],
        statuses: Sequence[str],
        path: str | None,
        page_size: int | None,
    ) -> AsyncIterator[Container]:
        # A task stopping between two listings shows in both: keep the first.
        seen: set[str] = set()
        for status in statuses:
            body = {**cluster, "desiredStatus": status}
            async for arns in self._pages("ListTasks", body, "taskArns", page_size):
                fresh = [arn for arn in arns if arn not in seen]
                seen.update(fresh)
                for container in await self._describe_tasks(fresh, cluster):
                    if path is None or container.image.path == path:
                        yield container

    def list_containers(  # type: ignore[override]  # Libcloud's ECS order: cluster second
        self,
        image: ContainerImage | str | None = None,
        cluster: ClusterLike | None = None,
        all: bool = True,
        ex_page_size: int | None = None,
    ) -> Deferred[list[Container]]:
        """
        List the containers of a cluster's tasks (every page).

        See :meth:`iterate_containers` for the arguments.

        :returns: a Deferred firing with a list of :class:`Container`, or
            failing with :class:`~txcloud.errors.ClusterNotFoundError`.
        """
        return collect(self.iterate_containers(image, cluster, all, ex_page_size))

    def get_container(self, id: str, ex_cluster: ClusterLike | None = None) -> Deferred[Container]:
        """
        Fetch one container.

        :param id: a container's ARN (its :attr:`Container.id`): a long-format
            one (``...:container/CLUSTER/TASK/ID``) is found by describing its
            task, any other by listing its cluster's tasks.  Or a task's ARN
            or id, described in one request, giving the task's first container.
        :param ex_cluster: the cluster; else the one named in a long-format
            ARN, else the ``default`` cluster.
        :returns: a Deferred firing with the :class:`Container`, or failing
            with :class:`~txcloud.errors.ContainerNotFoundError` or
            :class:`~txcloud.errors.ClusterNotFoundError`.
        """
        check_trimmed_text(id, "id")
        cluster = _cluster(ex_cluster)
        if ":task/" in id or not id.startswith("arn:"):
            cluster = cluster or _cluster(cluster_in_arn(id))
            return Deferred.fromCoroutine(self._get_container(id, None, cluster))
        named = task_in_container_arn(id)
        if named is not None:
            cluster = cluster or _cluster(named[0])
            return Deferred.fromCoroutine(self._get_container(named[1], id, cluster))
        return Deferred.fromCoroutine(self._find_container(id, cluster))

    async def _get_container(
        self, task: str, container_id: str | None, cluster: Mapping[str, str]
    ) -> Container:
        for container in await self._describe_tasks([task], cluster):
            if container_id is None or container.id == container_id:
                return container
        raise ContainerNotFoundError(
            f"no ECS container {container_id or task!r} in {self.region}", self
        )

    async def _find_container(self, id: str, cluster: Mapping[str, str]) -> Container:
        async for container in self._iterate_containers(
            cluster, ("RUNNING", "STOPPED"), None, None
        ):
            if container.id == id:
                return container
        raise ContainerNotFoundError(f"no ECS container {id!r} in {self.region}", self)

    def deploy_container(  # type: ignore[override]  # Libcloud's ECS order: cluster third
        self,
        name: str,
        image: ContainerImage | str,
        cluster: ClusterLike | None = None,
        parameters: str | None = None,
        start: bool = True,
        ex_cpu: int = 10,
        ex_memory: int = 500,
        ex_container_port: int | None = None,
        ex_host_port: int | None = None,
        ex_launch_type: str | None = None,
        ex_network_configuration: Mapping[str, Any] | None = None,
        ex_environment: Mapping[str, str] | None = None,
    ) -> Deferred[Container]:
        """
        Register a task definition running *image* and, when *start*, run a task of it.

        :param name: the task definition's family and the container's name
            (1 to 255 letters, digits, ``-`` or ``_``).
        :param image: a :class:`ContainerImage` (its ``path`` is used) or an
            image reference.
        :param cluster: where to run the task; the ``default`` cluster when ``None``.
        :param parameters: the container's command, split as a shell would
            (``"sleep 60"``); the image's own when ``None``.
        :param start: run a task now; otherwise only register the definition.
        :param ex_cpu: CPU units for the container (1024 is one vCPU); for
            Fargate also the task's, which must be a size Fargate offers.
        :param ex_memory: MiB of memory for the container (and Fargate task).
        :param ex_container_port: a container port to publish...
        :param ex_host_port: ...on this host port (ECS picks one when ``None``).
        :param ex_launch_type: ``"EC2"``, ``"FARGATE"`` or ``"EXTERNAL"``;
            the cluster's default when ``None``.  A Fargate task definition
            uses the ``awsvpc`` network mode.
        :param ex_network_configuration: RunTask's ``networkConfiguration``
            (``{"awsvpcConfiguration": {"subnets": [...], "securityGroups":
            [...]}}``), required for ``awsvpc`` tasks.
        :param ex_environment: environment variables for the container.
        :returns: a Deferred firing with the task's :class:`Container`.  When
            not *start*, with a stopped container standing for the task
            definition: its ``id`` is the definition's ARN, its
            ``extra['clusterArn']`` the *cluster* as given, and
            :meth:`start_container` runs it.
        :raises InvalidArgumentError: for a bad argument, before any request.
        """
        definition = self._task_definition(
            _name(name, "name"),
            image_path(image),
            parameters,
            _integer(ex_cpu, "ex_cpu", 0, 1 << 20),
            _integer(ex_memory, "ex_memory", 4, 1 << 24),
            ex_container_port,
            ex_host_port,
            _launch_type(ex_launch_type),
            _mapping(ex_environment, "ex_environment"),
        )
        run = self._run_body(
            _cluster(cluster),
            ex_launch_type,
            _mapping(ex_network_configuration, "ex_network_configuration"),
        )
        if not isinstance(start, bool):
            raise InvalidArgumentError(f"start must be a bool, not {start!r}")
        return Deferred.fromCoroutine(self._deploy(definition, run, start))

    @staticmethod
    def _task_definition(
        name: str,
        path: str,
        parameters: str | None,
        cpu: int,
        memory: int,
        container_port: int | None,
        host_port: int | None,
        launch_type: str | None,
        environment: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": name,
            "image": path,
            "cpu": cpu,
            "memory": memory,
            "essential": True,
            "portMappings": [],
            "environment": [],
        }
        if parameters is not None:
            try:
                container["command"] = shlex.split(check_trimmed_text(parameters, "parameters"))
            except ValueError as e:
                raise InvalidArgumentError(f"parameters cannot be split: {e}") from None
        if container_port is not None:
            mapping = {"containerPort": _integer(container_port, "ex_container_port", 1, 65535)}
            if host_port is not None:
                mapping["hostPort"] = _integer(host_port, "ex_host_port", 0, 65535)
            container["portMappings"].append(mapping)
        elif host_port is not None:
            raise InvalidArgumentError("ex_host_port needs ex_container_port")
        for key, value in (environment or {}).items():
            if not (isinstance(key, str) and key and isinstance(value, str)):
                raise InvalidArgumentError(f"ex_environment must map names to strings: {key!r}")
            container["environment"].append({"name": key, "value": value})
        definition: dict[str, Any] = {"family": name, "containerDefinitions": [container]}
        if launch_type == "FARGATE":
            # Fargate sizes the task, not the containers, and gives each task
            # its own network interface.
            definition.update(
                requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc",
                cpu=str(cpu),
                memory=str(memory),
            )
        return definition

    @staticmethod
    def _run_body(
        cluster: Mapping[str, str],
        launch_type: str | None,
        network_configuration: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = dict(cluster)
        if launch_type is not None:
            body["launchType"] = launch_type
        if network_configuration is not None:
            body["networkConfiguration"] = dict(network_configuration)
        return body

    async def _deploy(
        self, definition: dict[str, Any], run: dict[str, Any], start: bool
    ) -> Container:
        document = await self._call("RegisterTaskDefinition", definition)
        registered = document.get("taskDefinition")
        arn = registered.get("taskDefinitionArn") if isinstance(registered, dict) else None
        if not isinstance(arn, str):
            raise MalformedResponseError("ECS registered a task definition without an ARN", self)
        if start:
            return await self._start(arn, run)
        container = definition["containerDefinitions"][0]
        return Container(
            id=arn,
            name=container["name"],
            image=to_image(self, container["image"]),
            state=ContainerState.STOPPED,
            ip_addresses=[],
            driver=self,
            extra={
                "taskArn": None,
                "taskDefinitionArn": arn,
                "clusterArn": run.get("cluster"),
                "launchType": run.get("launchType"),
                "networkConfiguration": run.get("networkConfiguration"),
            },
        )

    def ex_start_task(
        self,
        task_definition: str,
        count: int = 1,
        cluster: ClusterLike | None = None,
        launch_type: str | None = None,
        network_configuration: Mapping[str, Any] | None = None,
    ) -> Deferred[list[Container]]:
        """
        Run tasks of a task definition.

        :param task_definition: the definition's ARN, or ``family[:revision]``.
        :param count: how many tasks to run (1..10).
        :param cluster: where; the ``default`` cluster when ``None``.
        :param launch_type: see :meth:`deploy_container`.
        :param network_configuration: see :meth:`deploy_container`.
        :returns: a Deferred firing with the containers of the tasks started
            (fewer than *count* tasks when ECS could place only some), or
            failing with :class:`~txcloud.errors.ProviderError` (its ``code``
            ECS's reason, such as ``RESOURCE:MEMORY``) when none started.
        """
        run = self._run_body(
            _cluster(cluster),
            _launch_type(launch_type),
            _mapping(network_configuration, "network_configuration"),
        )
        arn = check_trimmed_text(task_definition, "task_definition")
        return Deferred.fromCoroutine(
            self._run_task(arn, _integer(count, "count", 1, MAX_RUN_COUNT), run)
        )

    async def _run_task(self, arn: str, count: int, run: Mapping[str, Any]) -> list[Container]:
        document = await self._call("RunTask", {**run, "taskDefinition": arn, "count": count})
        containers = [c for task in document.get("tasks") or () for c in to_containers(self, task)]
        if not containers:
            failures = [f for f in document.get("failures") or () if isinstance(f, dict)]
            reasons = [str(f.get("reason")) for f in failures]
            raise ProviderError(
                f"ECS started no task of {arn}: {', '.join(reasons) or 'no reason given'}",
                self,
                code=reasons[0] if reasons else None,
            )
        # ECS does not describe a task's network configuration; keep it so
        # that start_container and restart_container can run the task again.
        if "networkConfiguration" in run:
            for container in containers:
                container.extra["networkConfiguration"] = run["networkConfiguration"]
        return containers

    def start_container(
        self, container: Container, ex_network_configuration: Mapping[str, Any] | None = None
    ) -> Deferred[Container]:
        """
        Run a new task of *container*'s task definition, in its cluster and
        with its launch type (ECS cannot start a stopped task again).

        :param ex_network_configuration: see :meth:`deploy_container`; by
            default the one the container was started or deployed with by
            this driver (``extra['networkConfiguration']``), which listed
            containers lack.
        :returns: a Deferred firing with the new task's :class:`Container`
            (a new ``id``).
        """
        arn, run = self._rerun(container, ex_network_configuration)
        return Deferred.fromCoroutine(self._start(arn, run))

    def _rerun(
        self, container: Container, network_configuration: Mapping[str, Any] | None
    ) -> tuple[str, dict[str, Any]]:
        # What RunTask needs to run the container's task definition again.
        extra = _container(container).extra
        arn = check_trimmed_text(
            extra.get("taskDefinitionArn"), "container.extra['taskDefinitionArn']"
        )
        network = _mapping(network_configuration, "ex_network_configuration")
        run = self._run_body(
            _cluster(extra.get("clusterArn")),
            extra.get("launchType") or None,
            network if network is not None else extra.get("networkConfiguration"),
        )
        return arn, run

    async def _start(self, arn: str, run: Mapping[str, Any]) -> Container:
        return (await self._run_task(arn, 1, run))[0]

    def _task_of(self, container: Container) -> tuple[str, dict[str, str]]:
        extra = _container(container).extra
        task = extra.get("taskArn")
        if not isinstance(task, str) or not task:
            raise InvalidArgumentError(f"{container!r} has no task: it was never started")
        return task, _cluster(extra.get("clusterArn"))

    def stop_container(self, container: Container) -> Deferred[Container]:
        """
        Stop *container*'s task (all its containers).

        :returns: a Deferred firing with the container as ECS describes it
            after the request (usually still stopping), or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        task, cluster = self._task_of(container)
        return Deferred.fromCoroutine(self._stop(container.id, task, cluster))

    async def _stop(self, container_id: str, task: str, cluster: Mapping[str, str]) -> Container:
        document = await self._call("StopTask", {**cluster, "task": task})
        return _same_container(to_containers(self, document.get("task")), container_id, task)

    def restart_container(
        self, container: Container, ex_network_configuration: Mapping[str, Any] | None = None
    ) -> Deferred[Container]:
        """
        Stop *container*'s task, then run a new task of its task definition.

        :param ex_network_configuration: see :meth:`start_container`.
        :returns: a Deferred firing with the new task's :class:`Container`.
        """
        task, cluster = self._task_of(container)
        arn, run = self._rerun(container, ex_network_configuration)
        return Deferred.fromCoroutine(self._restart(container.id, task, cluster, arn, run))

    async def _restart(
        self,
        container_id: str,
        task: str,
        cluster: Mapping[str, str],
        arn: str,
        run: Mapping[str, Any],
    ) -> Container:
        await self._stop(container_id, task, cluster)
        return await self._start(arn, run)

    def destroy_container(self, container: Container) -> Deferred[bool]:
        """
        Stop *container*'s task, as Libcloud does; its task definition stays
        registered, and ECS forgets the stopped task after a while.

        :returns: a Deferred firing with ``True``.
        """
        task, cluster = self._task_of(container)
        return Deferred.fromCoroutine(self._destroy(container.id, task, cluster))

    async def _destroy(self, container_id: str, task: str, cluster: Mapping[str, str]) -> bool:
        await self._stop(container_id, task, cluster)
        return True
