"""
Azure virtual machines through Azure Resource Manager: :class:`AzureNodeDriver`::

    from txcloud.compute.providers import get_driver
    from txcloud.compute.types import Provider

    cls = get_driver(Provider.AZURE_ARM)
    driver = cls(tenant_id, subscription_id, client_id, client_secret, region="westeurope")
    nodes = await driver.list_nodes()

The package splits the driver's methods (:mod:`.driver`) from what every
request needs (:mod:`.api`: tokens, paging, errors), long-running
operations (:mod:`.operations`), the error codes (:mod:`.errors`), the
marketplace walk (:mod:`.images`), the bodies of ``create_node``
(:mod:`.create`), resource ids (:mod:`.resources`), regions
(:mod:`.regions`) and the parsing of answers into models (:mod:`.parse`).
:mod:`txcloud.testing.azure_arm` is a fake of the API for tests.
"""

from txcloud.compute.drivers.azure_arm.api import (
    API_HOST,
    COMPUTE_API_VERSION,
    DISKS_API_VERSION,
    LOCATIONS_API_VERSION,
    NETWORK_API_VERSION,
)
from txcloud.compute.drivers.azure_arm.driver import AzureNodeDriver
from txcloud.compute.drivers.azure_arm.parse import POWER_STATES, PROVISIONING_STATES
from txcloud.compute.drivers.azure_arm.regions import REGION_COUNTRIES

__all__ = [
    "API_HOST",
    "COMPUTE_API_VERSION",
    "DISKS_API_VERSION",
    "LOCATIONS_API_VERSION",
    "NETWORK_API_VERSION",
    "POWER_STATES",
    "PROVISIONING_STATES",
    "REGION_COUNTRIES",
    "AzureNodeDriver",
]
