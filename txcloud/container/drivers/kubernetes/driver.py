"""
The :class:`KubernetesContainerDriver` class; :mod:`txcloud.container.drivers.kubernetes`
describes the driver.
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, succeed

from txcloud.common.paging import collect
from txcloud.container.base import Container, ContainerCluster, ContainerDriver, ContainerImage
from txcloud.container.drivers.images import image_path, to_image
from txcloud.container.drivers.kubernetes.client import (
    CORE,
    KubernetesBaseDriver,
    boolean,
    label,
    page_size,
    subdomain,
    text,
)
from txcloud.container.drivers.kubernetes.parse import KubernetesPod, to_cluster, to_pod
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import ContainerNotFoundError, InvalidArgumentError, MalformedResponseError

__all__ = ["KubernetesContainerDriver", "KubernetesPod"]

#: Restart policies a pod may have.
RESTART_POLICIES = frozenset({"Always", "OnFailure", "Never"})


def _mapping(value: object, what: str) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidArgumentError(f"{what} must map names to strings, not {value!r}")
    return value


def _strings(value: object, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{what} must be a list of strings, not {value!r}")
    if not all(isinstance(item, str) for item in value):
        raise InvalidArgumentError(f"{what} must be a list of strings, not {value!r}")
    return list(value)


def _ports(value: object) -> list[int]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"ex_ports must be a list of port numbers, not {value!r}")
    for port in value:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidArgumentError(f"ex_ports must hold ports in 1..65535, not {port!r}")
    return list(value)


def _container(container: object) -> tuple[str, str]:
    # The namespace and pod of a container this driver listed or deployed.
    if not isinstance(container, Container):
        raise InvalidArgumentError(f"expected a Container, not {container!r}")
    namespace = container.extra.get("namespace")
    pod = container.extra.get("pod")
    if not (isinstance(namespace, str) and isinstance(pod, str)):
        raise InvalidArgumentError(f"{container!r} names no namespace and pod in its extra")
    return namespace, pod


class KubernetesContainerDriver(KubernetesBaseDriver, ContainerDriver):
    """
    Namespaces as clusters and pods' containers as containers, on one
    Kubernetes cluster.

    See :class:`~txcloud.container.drivers.kubernetes.client.KubernetesBaseDriver`
    for the constructor's arguments (Libcloud's ``key``, ``secret``,
    ``secure``, ``host``, ``port``, ``key_file``, ``cert_file``, ``ca_cert``,
    ``ex_token_bearer_auth``, ``ex_credentials``, and more), ``ex_from_kubeconfig``
    and ``ex_from_in_cluster``.
    """

    name = "Kubernetes"
    type = Provider.KUBERNETES
    website = "https://kubernetes.io/"
    supports_clusters = True

    def _namespace(self, cluster: object, what: str = "cluster") -> str:
        if cluster is None:
            return self.ex_namespace
        if isinstance(cluster, ContainerCluster):
            return label(cluster.id, f"{what}.id")
        return label(cluster, what)

    # Clusters (namespaces)

    def iterate_clusters(self, ex_page_size: int | None = None) -> AsyncIterator[ContainerCluster]:
        """
        The cluster's namespaces, fetched a page at a time.

        :param ex_page_size: namespaces per page (``limit``); 500 by default.
        :returns: an async iterator of :class:`ContainerCluster`.
        :raises InvalidArgumentError: for a bad page size.
        """
        return self._iterate_clusters(page_size(ex_page_size))

    async def _iterate_clusters(self, page_size: int) -> AsyncIterator[ContainerCluster]:
        async for items in self._pages([*CORE, "namespaces"], page_size, "NamespaceList"):
            for item in items:
                yield to_cluster(self, item)

    def list_clusters(self, ex_page_size: int | None = None) -> Deferred[list[ContainerCluster]]:
        """
        List the namespaces (every page).

        :param ex_page_size: see :meth:`iterate_clusters`.
        :returns: a Deferred firing with a list of :class:`ContainerCluster`
            (``extra``: ``phase``, ``uid``, ``labels``, ``resourceVersion``,
            ``creationTimestamp``).
        """
        return collect(self.iterate_clusters(ex_page_size))

    def get_cluster(self, id: str) -> Deferred[ContainerCluster]:
        """
        Fetch one namespace.

        :param id: the namespace's name.
        :returns: a Deferred firing with the :class:`ContainerCluster`, or
            failing with :class:`~txcloud.errors.ClusterNotFoundError`.
        """
        name = label(id, "id")
        return Deferred.fromCoroutine(self._cluster_call("GET", name))

    async def _cluster_call(self, method: str, name: str) -> ContainerCluster:
        return to_cluster(self, await self._call(method, [*CORE, "namespaces", name]))

    def create_cluster(self, name: str, location: Any = None) -> Deferred[ContainerCluster]:
        """
        Create a namespace.

        :param name: an RFC 1123 label (up to 63 lowercase letters, digits and ``-``).
        :param location: unused (accepted for Libcloud's signature).
        :returns: a Deferred firing with the new :class:`ContainerCluster`,
            or failing with :class:`~txcloud.errors.ClusterAlreadyExistsError`.
        """
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": label(name, "name")}}
        return Deferred.fromCoroutine(self._create_cluster(body))

    async def _create_cluster(self, body: Mapping[str, Any]) -> ContainerCluster:
        return to_cluster(self, await self._call("POST", [*CORE, "namespaces"], body=body))

    def destroy_cluster(self, cluster: ContainerCluster | str) -> Deferred[bool]:
        """
        Delete a namespace and everything in it; it stays ``Terminating``
        until its contents are gone.

        :param cluster: a :class:`ContainerCluster` or a namespace's name.
        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.ClusterNotFoundError` or (for
            ``default`` and the ``kube-`` namespaces)
            :class:`~txcloud.errors.PermissionDeniedError`.
        """
        if cluster is None:
            raise InvalidArgumentError("destroy_cluster needs a cluster")
        name = self._namespace(cluster)
        return Deferred.fromCoroutine(self._destroy_cluster(name))

    async def _destroy_cluster(self, name: str) -> bool:
        await self._cluster_call("DELETE", name)
        return True

    # Libcloud's Kubernetes driver names the cluster methods after namespaces.
    list_namespaces = list_clusters
    get_namespace = get_cluster
    create_namespace = create_cluster
    delete_namespace = destroy_cluster

    # Pods and containers

    def ex_iterate_pods(
        self, namespace: ContainerCluster | str | None = None, ex_page_size: int | None = None
    ) -> AsyncIterator[KubernetesPod]:
        """
        Pods, fetched a page at a time.

        :param namespace: only this namespace's (a :class:`ContainerCluster`
            or a name); every namespace's when ``None``.
        :param ex_page_size: pods per page (``limit``); 500 by default.
        :returns: an async iterator of :class:`KubernetesPod`.
        :raises InvalidArgumentError: for a bad argument.
        """
        segments = (
            [*CORE, "pods"]
            if namespace is None
            else [*CORE, "namespaces", self._namespace(namespace, "namespace"), "pods"]
        )
        return self._iterate_pods(segments, page_size(ex_page_size))

    async def _iterate_pods(
        self, segments: Sequence[str], page_size: int
    ) -> AsyncIterator[KubernetesPod]:
        async for items in self._pages(segments, page_size, "PodList"):
            for item in items:
                yield to_pod(self, item)

    def ex_list_pods(
        self, namespace: ContainerCluster | str | None = None, ex_page_size: int | None = None
    ) -> Deferred[list[KubernetesPod]]:
        """
        List pods (every page); see :meth:`ex_iterate_pods`.

        :returns: a Deferred firing with a list of :class:`KubernetesPod`.
        """
        return collect(self.ex_iterate_pods(namespace, ex_page_size))

    def ex_destroy_pod(self, namespace: ContainerCluster | str, pod_name: str) -> Deferred[bool]:
        """
        Delete a pod and its containers.

        :param namespace: the pod's namespace.
        :param pod_name: the pod's name.
        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        if namespace is None:
            raise InvalidArgumentError("ex_destroy_pod needs a namespace")
        segments = [
            *CORE,
            "namespaces",
            self._namespace(namespace, "namespace"),
            "pods",
            subdomain(pod_name, "pod_name"),
        ]
        return Deferred.fromCoroutine(self._destroy_pod(segments))

    async def _destroy_pod(self, segments: Sequence[str]) -> bool:
        await self._call("DELETE", segments)
        return True

    def iterate_containers(
        self,
        image: ContainerImage | str | None = None,
        all: bool = True,
        cluster: ContainerCluster | str | None = None,
        ex_page_size: int | None = None,
    ) -> AsyncIterator[Container]:
        """
        The containers of pods, fetched a page of pods at a time.

        :param image: only containers of this image: a :class:`ContainerImage`
            (its ``path``) or a reference, compared as the pod spec writes it.
        :param all: every container; only running ones when ``False``.
        :param cluster: only this namespace's pods; every namespace's when ``None``.
        :param ex_page_size: pods per page; 500 by default.
        :returns: an async iterator of :class:`Container`.
        :raises InvalidArgumentError: for a bad argument.
        """
        path = None if image is None else image_path(image)
        pods = self.ex_iterate_pods(cluster, ex_page_size)
        return self._iterate_containers(pods, path, boolean(all, "all"))

    async def _iterate_containers(
        self, pods: AsyncIterator[KubernetesPod], path: str | None, all: bool
    ) -> AsyncIterator[Container]:
        async for pod in pods:
            for container in pod.containers:
                if path is not None and container.image.path != path:
                    continue
                if all or container.state == ContainerState.RUNNING:
                    yield container

    def list_containers(  # type: ignore[override]  # Libcloud's arguments, then the namespace
        self,
        image: ContainerImage | str | None = None,
        all: bool = True,
        cluster: ContainerCluster | str | None = None,
        ex_page_size: int | None = None,
    ) -> Deferred[list[Container]]:
        """
        List the containers of pods (every page); see :meth:`iterate_containers`.

        :returns: a Deferred firing with a list of :class:`Container`.
        """
        return collect(self.iterate_containers(image, all, cluster, ex_page_size))

    def get_container(self, id: str) -> Deferred[Container]:
        """
        Fetch one container.

        :param id: a container's ``id``: ``"NAMESPACE/POD/CONTAINER"`` is
            fetched with its pod; a runtime id (``"containerd://..."``) is
            searched for in every namespace's pods.
        :returns: a Deferred firing with the :class:`Container` (whose
            ``id`` is the runtime's once it has one), or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        text(id, "id")
        parts = id.split("/")
        if "://" not in id and len(parts) == 3:
            namespace = label(parts[0], "the id's namespace")
            pod = subdomain(parts[1], "the id's pod")
            container = label(parts[2], "the id's container")
            return Deferred.fromCoroutine(self._get_named_container(namespace, pod, container))
        return Deferred.fromCoroutine(self._find_container(id))

    async def _get_named_container(self, namespace: str, pod: str, name: str) -> Container:
        document = await self._call("GET", [*CORE, "namespaces", namespace, "pods", pod])
        for container in to_pod(self, document).containers:
            if container.name == name:
                return container
        raise ContainerNotFoundError(f"pod {namespace}/{pod} has no container {name!r}", self)

    async def _find_container(self, id: str) -> Container:
        async for container in self.iterate_containers():
            if container.id == id:
                return container
        raise ContainerNotFoundError(f"no Kubernetes container {id!r}", self)

    def deploy_container(  # type: ignore[override]  # Libcloud's order: namespace third
        self,
        name: str,
        image: ContainerImage | str,
        cluster: ContainerCluster | str | None = None,
        parameters: str | None = None,
        start: bool = True,
        ex_container_name: str | None = None,
        ex_command: Sequence[str] | None = None,
        ex_environment: Mapping[str, str] | None = None,
        ex_labels: Mapping[str, str] | None = None,
        ex_ports: Sequence[int] | None = None,
        ex_restart_policy: str | None = None,
    ) -> Deferred[Container]:
        """
        Create a pod of one container running *image*.

        :param name: the pod's name (an RFC 1123 subdomain), and its
            container's unless *ex_container_name* is given.
        :param image: a :class:`ContainerImage` (its ``path``) or a reference.
        :param cluster: the namespace; :attr:`ex_namespace` (``"default"``)
            when ``None``.
        :param parameters: arguments for the image's entry point (the
            container's ``args``), split as a shell would (``"sleep 60"``).
        :param start: must be ``True``: Kubernetes runs a pod once created.
        :param ex_container_name: the container's name (an RFC 1123 label).
        :param ex_command: the container's ``command`` (replaces the image's
            entry point).
        :param ex_environment: environment variables.
        :param ex_labels: the pod's labels.
        :param ex_ports: container ports to declare.
        :param ex_restart_policy: ``"Always"`` (Kubernetes' default),
            ``"OnFailure"`` or ``"Never"``.
        :returns: a Deferred firing with the new pod's :class:`Container`
            (pending, its ``id`` ``"NAMESPACE/POD/CONTAINER"``), or failing
            with :class:`~txcloud.errors.ResourceConflictError` when the
            pod exists, :class:`~txcloud.errors.ClusterNotFoundError` when
            the namespace does not.
        :raises InvalidArgumentError: for a bad argument, before any request.
        """
        namespace = self._namespace(cluster)
        if not boolean(start, "start"):
            raise InvalidArgumentError(
                "Kubernetes runs a pod as soon as it is created: start=False is not supported"
            )
        container: dict[str, Any] = {
            "name": label(
                name if ex_container_name is None else ex_container_name,
                "name" if ex_container_name is None else "ex_container_name",
            ),
            "image": image_path(image),
        }
        command = _strings(ex_command, "ex_command")
        if command is not None:
            container["command"] = command
        if parameters is not None:
            try:
                container["args"] = shlex.split(text(parameters, "parameters"))
            except ValueError as e:
                raise InvalidArgumentError(f"parameters cannot be split: {e}") from None
        environment = _mapping(ex_environment, "ex_environment")
        if environment:
            container["env"] = [{"name": k, "value": v} for k, v in environment.items()]
        ports = _ports(ex_ports)
        if ports:
            container["ports"] = [{"containerPort": port} for port in ports]
        metadata: dict[str, Any] = {"name": subdomain(name, "name"), "namespace": namespace}
        labels = _mapping(ex_labels, "ex_labels")
        if labels:
            metadata["labels"] = dict(labels)
        spec: dict[str, Any] = {"containers": [container]}
        if ex_restart_policy is not None:
            if ex_restart_policy not in RESTART_POLICIES:
                raise InvalidArgumentError(
                    f"ex_restart_policy must be one of {', '.join(sorted(RESTART_POLICIES))}, "
                    f"not {ex_restart_policy!r}"
                )
            spec["restartPolicy"] = ex_restart_policy
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
        return Deferred.fromCoroutine(self._deploy(namespace, body))

    async def _deploy(self, namespace: str, body: Mapping[str, Any]) -> Container:
        document = await self._call("POST", [*CORE, "namespaces", namespace, "pods"], body=body)
        containers = to_pod(self, document).containers
        if not containers:
            raise MalformedResponseError("Kubernetes created a pod without containers", self)
        return containers[0]

    def destroy_container(self, container: Container) -> Deferred[bool]:
        """
        Delete *container*'s pod (all its containers), as Libcloud does.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        namespace, pod = _container(container)
        return self.ex_destroy_pod(namespace, pod)

    def start_container(self, container: Container) -> Deferred[Container]:
        """Not supported: Kubernetes runs a pod's containers for as long as the pod exists."""
        raise NotImplementedError(
            "Kubernetes cannot start a container: a pod runs from its creation to its "
            "deletion; deploy_container creates a new one"
        )

    def stop_container(self, container: Container) -> Deferred[Container]:
        """Not supported: a pod cannot be stopped, only deleted (destroy_container)."""
        raise NotImplementedError(
            "Kubernetes cannot stop a container: a pod can only be deleted, with destroy_container"
        )

    def restart_container(self, container: Container) -> Deferred[Container]:
        """Not supported: delete the pod and deploy a new one instead."""
        raise NotImplementedError(
            "Kubernetes cannot restart a container on request: destroy_container, then "
            "deploy_container"
        )

    # Images

    def install_image(self, path: str) -> Deferred[ContainerImage]:
        """
        Name an image for :meth:`deploy_container`; nothing is pulled (each
        node pulls the image when a pod needs it).

        :param path: an image reference (``"nginx:1.25"``).
        :returns: a Deferred firing at once with the :class:`ContainerImage`.
        """
        return succeed(to_image(self, text(path, "path")))

    def list_images(self, ex_page_size: int | None = None) -> Deferred[list[ContainerImage]]:
        """
        The images the pods of every namespace use, each once, in the order
        first seen.

        :param ex_page_size: pods per page; 500 by default.
        :returns: a Deferred firing with a list of :class:`ContainerImage`
            (``id`` the resolved image id where a container reports one).
        """
        return Deferred.fromCoroutine(
            self._list_images(self.iterate_containers(None, True, None, ex_page_size))
        )

    async def _list_images(self, containers: AsyncIterator[Container]) -> list[ContainerImage]:
        images: dict[str, ContainerImage] = {}
        async for container in containers:
            known = images.get(container.image.path)
            if known is None or (known.id is None and container.image.id is not None):
                images[container.image.path] = container.image
        return list(images.values())
