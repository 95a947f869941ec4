"""
DigitalOcean droplets through the API v2: :class:`DigitalOceanNodeDriver`::

    from txcloud.compute.providers import get_driver
    from txcloud.compute.types import Provider

    driver = get_driver(Provider.DIGITAL_OCEAN)(token, region="nyc3")
    nodes = await driver.list_nodes()

The package splits the driver's methods (:mod:`.driver`) from the API's
requests, paging and errors (:mod:`.api`), the rate-limit gate
(:mod:`.ratelimit`) and the parsing of answers into models (:mod:`.parse`).
:mod:`txcloud.testing.digitalocean` is a fake of the API for tests.
"""

from txcloud.compute.drivers.digitalocean.api import API_HOST, MAX_PER_PAGE
from txcloud.compute.drivers.digitalocean.driver import (
    CREATE_ATTRIBUTES,
    IMAGE_TYPES,
    MAX_USER_DATA,
    DigitalOceanNodeDriver,
)
from txcloud.compute.drivers.digitalocean.parse import NODE_STATES, region_country
from txcloud.compute.drivers.digitalocean.ratelimit import RateLimit

__all__ = [
    "API_HOST",
    "CREATE_ATTRIBUTES",
    "IMAGE_TYPES",
    "MAX_PER_PAGE",
    "MAX_USER_DATA",
    "NODE_STATES",
    "DigitalOceanNodeDriver",
    "RateLimit",
    "region_country",
]
