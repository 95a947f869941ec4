"""The container driver registry: ``get_driver(Provider.DOCKER)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from txcloud.common.registry import DriverRegistry
from txcloud.container.types import Provider

if TYPE_CHECKING:
    from txcloud.container.base import ContainerDriver

__all__ = ["DRIVERS", "get_driver", "set_driver"]

# Drivers are registered here as they land (Docker, Kubernetes, ECS, Triton).
DRIVERS: DriverRegistry[ContainerDriver] = DriverRegistry(
    "container",
    {
        Provider.DOCKER: ("txcloud.container.drivers.docker", "DockerContainerDriver"),
        Provider.ECS: ("txcloud.container.drivers.ecs", "ElasticContainerDriver"),
        Provider.JOYENT: ("txcloud.container.drivers.joyent", "TritonContainerDriver"),
        Provider.KUBERNETES: ("txcloud.container.drivers.kubernetes", "KubernetesContainerDriver"),
    },
)

get_driver = DRIVERS.get_driver
set_driver = DRIVERS.set_driver
