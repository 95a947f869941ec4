"""
Google Compute Engine instances through the API v1: :class:`GCENodeDriver`::

    from txcloud.compute.providers import get_driver
    from txcloud.compute.types import Provider

    cls = get_driver(Provider.GCE)
    driver = cls("sa@my-project.iam.gserviceaccount.com", "key.json", project="my-project")
    nodes = await driver.list_nodes()

The package splits the driver's methods (:mod:`.driver`) from the API's
credentials, requests, paging and errors (:mod:`.api`), zone and global
operations polled until done (:mod:`.operations`), persistent disks and
snapshots (:mod:`.volumes`) and the parsing of resources into models
(:mod:`.parse`).  :mod:`txcloud.testing.gce` is a fake of the API for
tests.
"""

from txcloud.compute.drivers.gce.api import API_HOST, COMPUTE_SCOPE, DEFAULT_PAGE_SIZE
from txcloud.compute.drivers.gce.driver import DEFAULT_DISK_TYPE, IMAGE_PROJECTS, GCENodeDriver
from txcloud.compute.drivers.gce.operations import OPERATION_ERRORS
from txcloud.compute.drivers.gce.parse import NODE_STATES

__all__ = [
    "API_HOST",
    "COMPUTE_SCOPE",
    "DEFAULT_DISK_TYPE",
    "DEFAULT_PAGE_SIZE",
    "IMAGE_PROJECTS",
    "NODE_STATES",
    "OPERATION_ERRORS",
    "GCENodeDriver",
]
