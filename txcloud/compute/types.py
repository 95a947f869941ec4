"""Constants of the compute service, with Libcloud's string values."""

from __future__ import annotations

from enum import Enum

__all__ = ["NodeState", "Provider"]


class Provider(str, Enum):
    """Compute providers txcloud knows."""

    DUMMY = "dummy"
    EC2 = "ec2"
    DIGITAL_OCEAN = "digitalocean"
    GCE = "gce"
    AZURE_ARM = "azure_arm"
    OPENSTACK = "openstack"

    def __str__(self) -> str:
        return self.value


class NodeState(str, Enum):
    """The state of a compute node, as Libcloud spells it."""

    RUNNING = "running"
    STARTING = "starting"
    REBOOTING = "rebooting"
    TERMINATED = "terminated"
    PENDING = "pending"
    UNKNOWN = "unknown"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    ERROR = "error"
    PAUSED = "paused"
    RECONFIGURING = "reconfiguring"
    MIGRATING = "migrating"
    NORMAL = "normal"
    UPDATING = "updating"

    def __str__(self) -> str:
        return self.value
