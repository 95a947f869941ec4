"""
Amazon EC2: :class:`EC2NodeDriver` for one region, and
:func:`drivers_for_regions` for one driver per region::

    from txcloud import multi
    from txcloud.compute.drivers.ec2 import drivers_for_regions

    drivers = drivers_for_regions(key, secret)          # every AWS region
    result = await multi.list_nodes(drivers, concurrency=len(drivers))

The package splits the driver (:mod:`.driver`, with its security group
methods in :mod:`.security_groups`, its volume and snapshot methods in
:mod:`.volumes` and its image methods in :mod:`.images`) from the Query API calls and paging
(:mod:`.api`), the encoding of arguments (:mod:`.query`), the parsing of
responses (:mod:`.parse`), the EC2-only models (:mod:`.models`) and the
region table (:mod:`.regions`).
"""

from txcloud.common.aws import AWS_REGIONS
from txcloud.compute.drivers.ec2.api import API_VERSION, ERROR_CODES
from txcloud.compute.drivers.ec2.driver import EC2NodeDriver, drivers_for_regions
from txcloud.compute.drivers.ec2.models import EC2SecurityGroup
from txcloud.compute.drivers.ec2.parse import NODE_STATES
from txcloud.compute.drivers.ec2.regions import region_country

__all__ = [
    "API_VERSION",
    "AWS_REGIONS",
    "ERROR_CODES",
    "NODE_STATES",
    "EC2NodeDriver",
    "EC2SecurityGroup",
    "drivers_for_regions",
    "region_country",
]
