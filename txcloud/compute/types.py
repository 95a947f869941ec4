"""Constants of the compute service, with Libcloud's string values."""

from __future__ import annotations

from enum import Enum

__all__ = ["NodeState", "Provider", "StorageVolumeState", "VolumeSnapshotState"]


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


class StorageVolumeState(str, Enum):
    """The state of a block-storage volume, as Libcloud spells it."""

    AVAILABLE = "available"
    ERROR = "error"
    INUSE = "inuse"
    CREATING = "creating"
    DELETING = "deleting"
    DELETED = "deleted"
    BACKUP = "backup"
    ATTACHING = "attaching"
    UNKNOWN = "unknown"
    MIGRATING = "migrating"
    UPDATING = "updating"

    def __str__(self) -> str:
        return self.value


class VolumeSnapshotState(str, Enum):
    """The state of a volume snapshot, as Libcloud spells it."""

    AVAILABLE = "available"
    ERROR = "error"
    CREATING = "creating"
    DELETING = "deleting"
    RESTORING = "restoring"
    UNKNOWN = "unknown"
    UPDATING = "updating"

    def __str__(self) -> str:
        return self.value
