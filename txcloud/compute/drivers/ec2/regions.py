"""
Where AWS regions are: the country (ISO 3166-1 alpha-2 code) each region's
data centres are in, for :class:`~txcloud.compute.base.NodeLocation`.
"""

from __future__ import annotations

__all__ = ["REGION_COUNTRIES", "region_country"]

#: The country of each commercial region (and the partitions' prefixes below).
REGION_COUNTRIES: dict[str, str] = {
    "us-east-1": "US",
    "us-east-2": "US",
    "us-west-1": "US",
    "us-west-2": "US",
    "af-south-1": "ZA",
    "ap-east-1": "HK",
    "ap-south-1": "IN",
    "ap-south-2": "IN",
    "ap-southeast-1": "SG",
    "ap-southeast-2": "AU",
    "ap-southeast-3": "ID",
    "ap-southeast-4": "AU",
    "ap-southeast-5": "MY",
    "ap-southeast-7": "TH",
    "ap-northeast-1": "JP",
    "ap-northeast-2": "KR",
    "ap-northeast-3": "JP",
    "ca-central-1": "CA",
    "ca-west-1": "CA",
    "eu-central-1": "DE",
    "eu-central-2": "CH",
    "eu-west-1": "IE",
    "eu-west-2": "GB",
    "eu-west-3": "FR",
    "eu-south-1": "IT",
    "eu-south-2": "ES",
    "eu-north-1": "SE",
    "il-central-1": "IL",
    "me-south-1": "BH",
    "me-central-1": "AE",
    "mx-central-1": "MX",
    "sa-east-1": "BR",
}

# GovCloud and the China partition: every region is in one country.
_PARTITION_COUNTRIES = {"us-gov-": "US", "us-iso": "US", "cn-": "CN"}


def region_country(region: str) -> str:
    """
    The ISO 3166-1 alpha-2 code of the country *region* is in, or ``""``
    for a region this table does not know yet.
    """
    if region in REGION_COUNTRIES:
        return REGION_COUNTRIES[region]
    for prefix, country in _PARTITION_COUNTRIES.items():
        if region.startswith(prefix):
            return country
    return ""
