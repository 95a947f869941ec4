"""
A location's marketplace images, walked as the API nests them: publishers,
their offers, each offer's SKUs, each SKU's versions.  Publishers are walked
concurrently (at most the driver's ``ex_concurrency`` at once); the walk
inside one publisher is sequential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.logger import Logger

from txcloud.compute.base import NodeImage
from txcloud.compute.drivers.azure_arm.api import gathered
from txcloud.compute.drivers.azure_arm.parse import parse_image
from txcloud.errors import InvalidArgumentError, ProviderError

if TYPE_CHECKING:
    from txcloud.compute.drivers.azure_arm.api import AzureAPIDriver

__all__ = ["Narrowing", "check_part", "marketplace_images"]

#: ``(publisher, offer, sku, version)``, each ``None`` for every one.
Narrowing = tuple[str | None, str | None, str | None, str | None]

_log = Logger()


def check_part(value: object, what: str) -> str | None:
    """*value* if it is ``None`` or a name of a marketplace level (no ``/``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or "/" in value or value != value.strip():
        raise InvalidArgumentError(f"{what} must be a marketplace name, not {value!r}")
    return value


async def _names(driver: AzureAPIDriver, path: str, wanted: str | None) -> list[str]:
    """The names listed at *path*, or only *wanted* (if listed)."""
    names = []
    async for item in driver._items(path, driver.compute_api_version):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and wanted in (None, name):
            names.append(name)
    return names


async def _publisher_images(
    driver: AzureAPIDriver, base: str, publisher: str, location: str, narrowing: Narrowing
) -> list[NodeImage]:
    _, offer, sku, version = narrowing
    images = []
    offers_path = f"{base}/{quote(publisher, safe='')}/artifacttypes/vmimage/offers"
    try:
        offers = await _names(driver, offers_path, offer)
    except ProviderError as error:
        if error.status != 404:
            raise
        _log.warn("Skipped publisher {publisher}: {error}", publisher=publisher, error=error)
        return []
    for offer_name in offers:
        skus_path = f"{offers_path}/{quote(offer_name, safe='')}/skus"
        for sku_name in await _names(driver, skus_path, sku):
            versions_path = f"{skus_path}/{quote(sku_name, safe='')}/versions"
            for version_name in await _names(driver, versions_path, version):
                images.append(
                    parse_image(publisher, offer_name, sku_name, version_name, location, driver)
                )
    return images


async def marketplace_images(
    driver: AzureAPIDriver, location: str, narrowing: Narrowing
) -> list[NodeImage]:
    """
    The images of *location*'s marketplace that *narrowing* selects, in the
    order of the publishers' list.

    A publisher whose offers answer 404 is skipped (and logged); any other
    failure fails the whole listing.
    """
    publisher = narrowing[0]
    base = f"{driver.subscription_path}/providers/Microsoft.Compute/locations/{location}/publishers"
    publishers = await _names(driver, base, publisher)
    gate = DeferredSemaphore(driver.ex_concurrency)
    walks = [gate.run(_walk, driver, base, name, location, narrowing) for name in publishers]
    found = await gathered(walks)
    return [image for images in found for image in images]


def _walk(
    driver: AzureAPIDriver, base: str, publisher: str, location: str, narrowing: Narrowing
) -> Deferred[list[NodeImage]]:
    return Deferred.fromCoroutine(_publisher_images(driver, base, publisher, location, narrowing))
