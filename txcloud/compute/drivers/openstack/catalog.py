"""
The service catalog of a Keystone v3 token: which URL serves a service
type (``compute``, ``image``, ``block-storage``) in a region, on an interface (``public`` by
default, ``internal`` or ``admin``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from txcloud.errors import InvalidArgumentError

__all__ = ["BLOCK_STORAGE_TYPES", "INTERFACES", "CatalogEndpoint", "ServiceCatalog"]

#: The interfaces a catalog endpoint can be published on.
INTERFACES = ("public", "internal", "admin")

#: The catalog types of Cinder's API v3, the official one first.
BLOCK_STORAGE_TYPES = ("block-storage", "volumev3")


@attrs.frozen
class CatalogEndpoint:
    """One endpoint of the catalog."""

    service_type: str
    service_name: str | None
    interface: str
    region: str | None
    url: str


class ServiceCatalog:
    """
    The endpoints of a token's catalog.

    :param entries: the token's ``catalog`` list, as Keystone wrote it
        (entries or endpoints that are not well formed are skipped).
    """

    def __init__(self, entries: Iterable[Any]) -> None:
        self.endpoints: list[CatalogEndpoint] = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                continue
            name = entry.get("name") if isinstance(entry.get("name"), str) else None
            for endpoint in entry.get("endpoints") or []:
                if not isinstance(endpoint, dict) or not isinstance(endpoint.get("url"), str):
                    continue
                region = endpoint.get("region_id") or endpoint.get("region")
                self.endpoints.append(
                    CatalogEndpoint(
                        service_type=entry["type"],
                        service_name=name,
                        interface=str(endpoint.get("interface", "public")),
                        region=region if isinstance(region, str) else None,
                        url=endpoint["url"].rstrip("/"),
                    )
                )

    def regions(self, service_type: str, interface: str = "public") -> list[str]:
        """The regions that publish *service_type* on *interface*, sorted."""
        return sorted(
            {
                endpoint.region
                for endpoint in self.endpoints
                if endpoint.service_type == service_type
                and endpoint.interface == interface
                and endpoint.region is not None
            }
        )

    def url(
        self,
        service_type: str,
        *,
        region: str | None,
        interface: str = "public",
        name: str | None = None,
    ) -> str:
        """
        The URL of *service_type* in *region* on *interface*.

        :param region: the region; ``None`` is accepted when the service has
            one region only.
        :param name: the service's name, when the catalog lists several
            services of the type.
        :raises InvalidArgumentError: when the catalog has no such endpoint
            (naming the regions it has), or several and no way to choose.
        """
        found = [
            endpoint
            for endpoint in self.endpoints
            if endpoint.service_type == service_type
            and endpoint.interface == interface
            and (name is None or endpoint.service_name == name)
        ]
        known = sorted({endpoint.region or "(none)" for endpoint in found})
        if region is not None:
            found = [endpoint for endpoint in found if endpoint.region == region]
        urls = sorted({endpoint.url for endpoint in found})
        if not urls:
            where = f" in region {region!r}" if region is not None else ""
            raise InvalidArgumentError(
                f"the service catalog has no {interface} {service_type} endpoint{where}; "
                f"regions with one: {', '.join(known) or 'none'}"
            )
        if len(urls) > 1:
            raise InvalidArgumentError(
                f"the service catalog has several {interface} {service_type} endpoints: "
                f"choose a region ({', '.join(known)}) or a service name"
            )
        return urls[0]

    def url_of_any(
        self, service_types: Sequence[str], *, region: str | None, interface: str = "public"
    ) -> str:
        """
        The URL of the first of *service_types* (names of one service, such
        as :data:`BLOCK_STORAGE_TYPES`) the catalog lists in *region* on
        *interface*; see :meth:`url`.
        """
        for service_type in service_types:
            if any(
                endpoint.service_type == service_type
                and endpoint.interface == interface
                and region in (None, endpoint.region)
                for endpoint in self.endpoints
            ):
                return self.url(service_type, region=region, interface=interface)
        return self.url(service_types[0], region=region, interface=interface)
