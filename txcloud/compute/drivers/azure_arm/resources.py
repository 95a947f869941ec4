"""
Azure Resource Manager resource ids
(``/subscriptions/SUB/resourceGroups/RG/providers/NAMESPACE/TYPE/NAME``):
built from their parts, read back into them, and checked before any request.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import attrs

from txcloud.errors import InvalidArgumentError

__all__ = [
    "COMPUTE",
    "NETWORK",
    "ResourceId",
    "check_name",
    "check_resource_group",
    "check_subscription_id",
]

#: The resource provider namespaces the driver uses.
COMPUTE = "Microsoft.Compute"
NETWORK = "Microsoft.Network"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Resource group names: 1 to 90 of letters, digits, "_", "-", ".", "(", ")",
# not ending in "." (Azure's naming rules).
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{0,89}[\w\-()]$")
# Names of virtual machines, interfaces, addresses and disks: 1 to 80 of
# letters, digits, "_", "-", ".", starting with a letter or digit, not ending
# in "." or "-" (the strictest of their rules).
_NAME = re.compile(r"^[A-Za-z0-9]([\w\-.]{0,78}[\w])?$")
_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)$",
    re.IGNORECASE,
)


def check_subscription_id(value: object) -> str:
    """
    *value* if it is a subscription id (a GUID).

    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(value, str) or not _GUID.match(value):
        raise InvalidArgumentError(f"subscription_id must be a subscription's GUID, not {value!r}")
    return value.lower()


def check_resource_group(value: object, what: str = "ex_resource_group") -> str:
    """
    *value* if it is a valid resource group name.

    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(value, str) or not _RESOURCE_GROUP.match(value):
        raise InvalidArgumentError(f"{what}: {value!r} is not a valid resource group name")
    return value


def check_name(value: object, what: str) -> str:
    """
    *value* if Azure accepts it as a resource's name.

    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidArgumentError(
            f"{what}: {value!r} is not a valid name (1 to 80 letters, digits, "
            "'_', '-' or '.', not ending in '.' or '-')"
        )
    return value


@attrs.frozen
class ResourceId:
    """
    The parts of a resource's id.

    :ivar subscription: the subscription id.
    :ivar resource_group: the resource group's name.
    :ivar namespace: the resource provider (``"Microsoft.Compute"``).
    :ivar type: the resource type (``"virtualMachines"``).
    :ivar name: the resource's name.
    """

    subscription: str
    resource_group: str
    namespace: str
    type: str
    name: str

    @classmethod
    def parse(
        cls, value: object, namespace: str, type: str, what: str = "resource id"
    ) -> ResourceId:
        """
        Read a resource id of the given *namespace* and *type* (compared
        without case, as Azure does).

        :raises InvalidArgumentError: for anything else.
        """
        match = _ID.match(value) if isinstance(value, str) else None
        if (
            match is None
            or match["namespace"].lower() != namespace.lower()
            or match["type"].lower() != type.lower()
        ):
            raise InvalidArgumentError(
                f"{what}: {value!r} is not the id of a {namespace}/{type} resource "
                f"(/subscriptions/SUB/resourceGroups/GROUP/providers/{namespace}/{type}/NAME)"
            )
        return cls(
            subscription=check_subscription_id(match["subscription"]),
            resource_group=check_resource_group(match["group"], what),
            namespace=namespace,
            type=type,
            name=check_name(match["name"], what),
        )

    @property
    def path(self) -> str:
        """The id as a URL path, each part percent-encoded."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{quote(self.resource_group)}"
            f"/providers/{self.namespace}/{self.type}/{quote(self.name)}"
        )
