"""Constants of the container service, with Libcloud's string values."""

from __future__ import annotations

from enum import Enum

__all__ = ["ContainerState", "Provider"]


class Provider(str, Enum):
    """Container providers txcloud knows."""

    DOCKER = "docker"
    KUBERNETES = "kubernetes"
    ECS = "ecs"
    JOYENT = "joyent"

    def __str__(self) -> str:
        return self.value


class ContainerState(str, Enum):
    """The state of a container, as Libcloud spells it."""

    RUNNING = "running"
    STOPPED = "stopped"
    PENDING = "pending"
    REBOOTING = "rebooting"
    TERMINATED = "terminated"
    UNKNOWN = "unknown"
    ERROR = "error"
    PAUSED = "paused"
    SUSPENDED = "suspended"

    def __str__(self) -> str:
        return self.value
