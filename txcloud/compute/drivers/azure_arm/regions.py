"""
Azure's regions, as Resource Manager names them (``"westeurope"``), with the
country each is in, so a region can be checked before any request.

Users may write a region as the portal shows it (``"West Europe"``): it is
folded to Azure's name, as Libcloud's driver folds it.
"""

from __future__ import annotations

from txcloud.errors import InvalidArgumentError

__all__ = ["REGION_COUNTRIES", "check_region", "region_name"]

#: Each region Azure Resource Manager knows (public, US Government and
#: China clouds) and the ISO 3166-1 alpha-2 code of its country.
REGION_COUNTRIES: dict[str, str] = {
    "australiacentral": "AU",
    "australiacentral2": "AU",
    "australiaeast": "AU",
    "australiasoutheast": "AU",
    "austriaeast": "AT",
    "belgiumcentral": "BE",
    "brazilsouth": "BR",
    "brazilsoutheast": "BR",
    "canadacentral": "CA",
    "canadaeast": "CA",
    "centralindia": "IN",
    "centralus": "US",
    "centraluseuap": "US",
    "chilecentral": "CL",
    "chinaeast": "CN",
    "chinaeast2": "CN",
    "chinaeast3": "CN",
    "chinanorth": "CN",
    "chinanorth2": "CN",
    "chinanorth3": "CN",
    "denmarkeast": "DK",
    "eastasia": "HK",
    "eastus": "US",
    "eastus2": "US",
    "eastus2euap": "US",
    "francecentral": "FR",
    "francesouth": "FR",
    "germanynorth": "DE",
    "germanywestcentral": "DE",
    "indonesiacentral": "ID",
    "israelcentral": "IL",
    "italynorth": "IT",
    "japaneast": "JP",
    "japanwest": "JP",
    "jioindiacentral": "IN",
    "jioindiawest": "IN",
    "koreacentral": "KR",
    "koreasouth": "KR",
    "malaysiawest": "MY",
    "mexicocentral": "MX",
    "newzealandnorth": "NZ",
    "northcentralus": "US",
    "northeurope": "IE",
    "norwayeast": "NO",
    "norwaywest": "NO",
    "polandcentral": "PL",
    "qatarcentral": "QA",
    "southafricanorth": "ZA",
    "southafricawest": "ZA",
    "southcentralus": "US",
    "southeastasia": "SG",
    "southindia": "IN",
    "spaincentral": "ES",
    "swedencentral": "SE",
    "swedensouth": "SE",
    "switzerlandnorth": "CH",
    "switzerlandwest": "CH",
    "uaecentral": "AE",
    "uaenorth": "AE",
    "uksouth": "GB",
    "ukwest": "GB",
    "usgovarizona": "US",
    "usgovtexas": "US",
    "usgovvirginia": "US",
    "westcentralus": "US",
    "westeurope": "NL",
    "westindia": "IN",
    "westus": "US",
    "westus2": "US",
    "westus3": "US",
}


def region_name(value: str) -> str:
    """*value* as Azure names regions: ``"West Europe"`` -> ``"westeurope"``."""
    return "".join(value.split()).lower()


def check_region(value: object, what: str = "region") -> str:
    """
    The Azure name of region *value*.

    :param what: the argument's name, for the error.
    :raises InvalidArgumentError: for anything but a known region.
    """
    name = region_name(value) if isinstance(value, str) else None
    if name not in REGION_COUNTRIES:
        raise InvalidArgumentError(
            f"{what}: {value!r} is not an Azure region (such as 'westeurope' or 'East US')"
        )
    return name
