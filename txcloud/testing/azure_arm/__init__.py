"""
A fake of Azure Resource Manager, for trial tests of code that manages
Azure virtual machines: one subscription's resource groups, virtual
machines (with their instance views and power states), network interfaces,
public IP addresses, managed disks (attached as machines' data disks),
snapshots and virtual networks, its locations, VM
sizes and marketplace images, kept in memory and served by a
``twisted.web`` resource, with its Azure AD tenant
(:class:`~txcloud.testing.azure.FakeAzureAD`) issuing the tokens it accepts.

In memory, through treq's ``RequestTraversalAgent``::

    clock = Clock()
    fake = FakeAzureResourceManager(clock)
    fake.add_vm("web-1", group="rg")
    driver = fake.driver(region="westeurope")
    nodes = self.successResultOf(driver.list_nodes())

or on real ports: ``fake.site()`` on plain HTTP for Resource Manager (a
driver built with ``host="127.0.0.1", port=port, secure=False``) and
``fake.ad.site()`` over TLS for Azure AD (``ex_login_host``).

It behaves as Azure's REST API reference describes: bearer tokens for
``https://management.azure.com/.default`` (others answer 401),
``api-version`` required, ``nextLink`` paging (:attr:`~FakeAzureResourceManager.page_size`),
long-running operations answered ``201``/``202`` with
``Azure-AsyncOperation``, ``Location`` and ``Retry-After`` and ending after
:attr:`~FakeAzureResourceManager.operation_seconds` on the clock, error
bodies ``{"error": {"code", "message"}}``, a cores quota, the data disk
limits of each size (LUNs 0 to 63, ``maxDataDiskCount``, one machine per
disk, the disk's region), and refusals to delete what is still in use (an
attached disk among them).  Faults:
:meth:`~FakeAzureResourceManager.fail` answers requests with an error,
:meth:`~FakeAzureResourceManager.fail_operations` makes operations fail.
"""

from txcloud.testing.azure_arm._catalogue import FakeSize
from txcloud.testing.azure_arm.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBSCRIPTION,
    FakeAzureResourceManager,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SUBSCRIPTION",
    "FakeAzureResourceManager",
    "FakeSize",
]
