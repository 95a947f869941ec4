"""
OpenStack compute through Keystone v3, Nova and Glance:
:class:`OpenStackNodeDriver`::

    from txcloud.compute.providers import get_driver
    from txcloud.compute.types import Provider

    cls = get_driver(Provider.OPENSTACK)
    driver = cls("alice", password, ex_force_auth_url="https://keystone:5000",
                 ex_tenant_name="demo", ex_force_service_region="RegionOne")
    nodes = await driver.list_nodes()

    driver = cls()          # OS_CLOUD and clouds.yaml, or the OS_* variables

The package splits the driver's methods (:mod:`.driver`) from the requests,
token handling, paging and errors (:mod:`.api`), the service catalog
(:mod:`.catalog`) and the parsing of answers (:mod:`.parse`); Keystone
itself is :mod:`txcloud.auth.openstack`.  :mod:`txcloud.testing.openstack`
is a fake of the three services for tests.
"""

from txcloud.compute.drivers.openstack.api import AUTH_VERSIONS
from txcloud.compute.drivers.openstack.catalog import CatalogEndpoint, ServiceCatalog
from txcloud.compute.drivers.openstack.driver import MAX_USER_DATA, OpenStackNodeDriver
from txcloud.compute.drivers.openstack.parse import NODE_STATES, split_addresses

__all__ = [
    "AUTH_VERSIONS",
    "MAX_USER_DATA",
    "NODE_STATES",
    "CatalogEndpoint",
    "OpenStackNodeDriver",
    "ServiceCatalog",
    "split_addresses",
]
