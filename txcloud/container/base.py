"""
Container models and the :class:`ContainerDriver` base class.

Names follow Libcloud's ``libcloud.container.base``; I/O methods return
Deferreds.
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.internet.defer import Deferred

from txcloud.common.base import BaseDriver
from txcloud.common.models import Model
from txcloud.container.types import ContainerState

__all__ = ["Container", "ContainerCluster", "ContainerDriver", "ContainerImage"]


@attrs.define(eq=False, repr=False)
class Container(Model):
    """A running or stopped container."""

    _shown = ("id", "name", "state")

    id: str
    name: str
    image: ContainerImage
    state: ContainerState
    ip_addresses: list[str]
    driver: ContainerDriver
    extra: dict[str, Any] = attrs.field(factory=dict)

    def start(self) -> Deferred[Container]:
        """See :meth:`ContainerDriver.start_container`."""
        return self.driver.start_container(self)

    def stop(self) -> Deferred[Container]:
        """See :meth:`ContainerDriver.stop_container`."""
        return self.driver.stop_container(self)

    def restart(self) -> Deferred[Container]:
        """See :meth:`ContainerDriver.restart_container`."""
        return self.driver.restart_container(self)

    def destroy(self) -> Deferred[bool]:
        """See :meth:`ContainerDriver.destroy_container`."""
        return self.driver.destroy_container(self)


@attrs.define(eq=False, repr=False)
class ContainerImage(Model):
    """An image containers are deployed from."""

    _shown = ("id", "name", "path", "version")

    id: str | None
    name: str
    path: str
    version: str | None
    driver: ContainerDriver
    extra: dict[str, Any] = attrs.field(factory=dict)

    def deploy(
        self, name: str, parameters: str | None = None, start: bool = True, **kwargs: Any
    ) -> Deferred[Container]:
        """See :meth:`ContainerDriver.deploy_container`."""
        return self.driver.deploy_container(
            name, self, parameters=parameters, start=start, **kwargs
        )


@attrs.define(eq=False, repr=False)
class ContainerCluster(Model):
    """A group of containers: an ECS cluster, a Kubernetes namespace."""

    id: str
    name: str
    driver: ContainerDriver
    extra: dict[str, Any] = attrs.field(factory=dict)

    def list_containers(self) -> Deferred[list[Container]]:
        """See :meth:`ContainerDriver.list_containers`."""
        return self.driver.list_containers(cluster=self)

    def destroy(self) -> Deferred[bool]:
        """See :meth:`ContainerDriver.destroy_cluster`."""
        return self.driver.destroy_cluster(self)


class ContainerDriver(BaseDriver):
    """Base class of container drivers."""

    #: Whether the provider groups containers in clusters.
    supports_clusters: bool = False

    def install_image(self, path: str) -> Deferred[ContainerImage]:
        """Pull the image at *path* (``"repo/name:tag"``); fires with the image."""
        raise NotImplementedError(f"{self.name} cannot install images")

    def list_images(self) -> Deferred[list[ContainerImage]]:
        """List installed images."""
        raise NotImplementedError(f"{self.name} cannot list images")

    def list_containers(
        self, image: ContainerImage | None = None, all: bool = True, **kwargs: Any
    ) -> Deferred[list[Container]]:
        """List containers, optionally only those of *image*; stopped ones too when *all*."""
        raise NotImplementedError(f"{self.name} cannot list containers")

    def deploy_container(
        self,
        name: str,
        image: ContainerImage,
        parameters: str | None = None,
        start: bool = True,
        **kwargs: Any,
    ) -> Deferred[Container]:
        """Create (and by default start) a container named *name* from *image*."""
        raise NotImplementedError(f"{self.name} cannot deploy containers")

    def get_container(self, id: str) -> Deferred[Container]:
        """Fetch one container by id."""
        raise NotImplementedError(f"{self.name} cannot get containers")

    def start_container(self, container: Container) -> Deferred[Container]:
        """Start *container*; fires with its new state."""
        raise NotImplementedError(f"{self.name} cannot start containers")

    def stop_container(self, container: Container) -> Deferred[Container]:
        """Stop *container*; fires with its new state."""
        raise NotImplementedError(f"{self.name} cannot stop containers")

    def restart_container(self, container: Container) -> Deferred[Container]:
        """Restart *container*; fires with its new state."""
        raise NotImplementedError(f"{self.name} cannot restart containers")

    def destroy_container(self, container: Container) -> Deferred[bool]:
        """Remove *container*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} cannot destroy containers")

    def list_clusters(self) -> Deferred[list[ContainerCluster]]:
        """List clusters."""
        raise NotImplementedError(f"{self.name} has no clusters")

    def get_cluster(self, id: str) -> Deferred[ContainerCluster]:
        """Fetch one cluster by id."""
        raise NotImplementedError(f"{self.name} has no clusters")

    def create_cluster(self, name: str, location: Any = None) -> Deferred[ContainerCluster]:
        """Create a cluster named *name*."""
        raise NotImplementedError(f"{self.name} has no clusters")

    def destroy_cluster(self, cluster: ContainerCluster) -> Deferred[bool]:
        """Delete *cluster*; fires with ``True``."""
        raise NotImplementedError(f"{self.name} has no clusters")
