"""
The Compute Engine API v1 as the driver speaks it: credentials (a service
account key, Application Default Credentials), the project's URLs, JSON
requests, ``pageToken`` paging, and Google's error bodies
``{"error": {"code", "message", "errors": [{"reason"}]}}`` mapped to
txcloud's errors.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from txcloud.auth.google.adc import GoogleCredentials
from txcloud.auth.google.metadata import MetadataServerTokens
from txcloud.auth.tokens import TokenSource
from txcloud.common.google import GoogleAuth
from txcloud.common.http_driver import HTTPDriver
from txcloud.compute.base import Node, NodeDriver, NodeImage, NodeLocation
from txcloud.compute.drivers.gce.operations import is_volume_link, wait_for_operation
from txcloud.compute.drivers.gce.parse import check_name, check_project, check_zone
from txcloud.compute.types import Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidRequestError,
    MalformedResponseError,
    NodeNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ResourceConflictError,
    TxCloudError,
    VolumeNotFoundError,
)
from txcloud.http import ErrorResponse, Request, default_error_mapper, error_details, json_parts
from txcloud.http.errors import THROTTLING_CODES

__all__ = [
    "API_HOST",
    "COMPUTE_SCOPE",
    "DEFAULT_PAGE_SIZE",
    "QUOTA_REASONS",
    "GCEAPIDriver",
]

#: Where Google serves the Compute Engine API.
API_HOST = "compute.googleapis.com"

#: The OAuth2 scope that lets a token read and change Compute Engine resources.
COMPUTE_SCOPE = "https://www.googleapis.com/auth/compute"

#: Items asked for per page (the API's maximum).
DEFAULT_PAGE_SIZE = 500

#: Error reasons that mean a quota is spent.
QUOTA_REASONS = frozenset({"quotaExceeded", "QUOTA_EXCEEDED"})

# Paths whose 404 means an instance does not exist.
_INSTANCE_PATH = re.compile(r"/zones/[^/]+/instances/[^/]+(?:/[a-zA-Z]+)?/?\Z")
# Paths whose 404 means a disk or snapshot does not exist.
_VOLUME_PATH = re.compile(r"/(?:zones/[^/]+/disks|global/snapshots)/[^/]+(?:/[a-zA-Z]+)?/?\Z")

Params = dict[str, str]


def _positive(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(f"{what} must be a positive number, not {value!r}")
    return float(value)


class GCEAPIDriver(HTTPDriver, NodeDriver):
    """
    What :class:`~txcloud.compute.drivers.gce.GCENodeDriver` sends its
    requests with; see there for the arguments.
    """

    name = "Google Compute Engine"
    type = Provider.GCE
    website = "https://cloud.google.com/compute"

    def __init__(
        self,
        user_id: str | None = None,
        key: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        datacenter: str | None = None,
        project: str | None = None,
        *,
        secret: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        ex_scopes: Sequence[str] = (COMPUTE_SCOPE,),
        ex_credentials: GoogleCredentials | TokenSource | None = None,
        ex_environ: Mapping[str, str] | None = None,
        ex_page_size: int = DEFAULT_PAGE_SIZE,
        ex_poll_interval: float = 2.0,
        ex_operation_timeout: float = 180.0,
        **kwargs: Any,
    ) -> None:
        self.ex_poll_interval = _positive(ex_poll_interval, "ex_poll_interval")
        self.ex_operation_timeout = _positive(ex_operation_timeout, "ex_operation_timeout")
        if "region" in kwargs:
            raise InvalidArgumentError(
                "Compute Engine drivers take datacenter= (a zone), not region="
            )
        if key is not None and secret is not None:
            raise InvalidArgumentError("give the service account key as key or secret, not both")
        key = key if key is not None else secret
        if user_id is not None and not (isinstance(user_id, str) and user_id):
            raise InvalidArgumentError("user_id must be the service account's e-mail address")
        if user_id and key is None and ex_credentials is None:
            raise InvalidArgumentError(
                "a service account key (key=, the path of its JSON file) is needed with "
                "user_id; give neither for Application Default Credentials"
            )
        if datacenter is not None:
            check_zone(datacenter, "datacenter")
        if isinstance(ex_page_size, bool) or not isinstance(ex_page_size, int):
            raise InvalidArgumentError(f"ex_page_size must be an integer, not {ex_page_size!r}")
        if not 1 <= ex_page_size <= DEFAULT_PAGE_SIZE:
            raise InvalidArgumentError(f"ex_page_size must be in 1..{DEFAULT_PAGE_SIZE}")
        super().__init__(None, None, secure, host, port, region=datacenter, **kwargs)
        environ = os.environ if ex_environ is None else ex_environ
        self._auth = GoogleAuth(
            self,
            ex_scopes,
            key=key,
            client_email=user_id,
            credentials=ex_credentials,
            environ=environ,
        )
        if self._auth.account is not None:
            self.key = self._auth.account.client_email
        self.datacenter = datacenter
        self.ex_page_size = ex_page_size
        found = project or environ.get("GOOGLE_CLOUD_PROJECT") or self._auth.project
        self.project: str | None = None if found is None else check_project(found)
        credentials = self._auth.credentials
        # Only the metadata server can still tell the project, when first asked.
        if self.project is None and not (
            credentials is not None and isinstance(credentials.tokens, MetadataServerTokens)
        ):
            raise InvalidArgumentError(
                "a project is needed: pass project= or set GOOGLE_CLOUD_PROJECT",
                self,
            )
        self._zones: Deferred[dict[str, NodeLocation]] | None = None

    # Credentials, URLs and errors

    def _default_host(self) -> str:
        return API_HOST

    @property
    def tokens(self) -> TokenSource | None:
        """Where access tokens come from."""
        return self._auth.tokens

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        return self._auth.sign(request)

    async def _project(self) -> str:
        """The project, asked of the metadata server when it was not given."""
        if self.project is None:
            found = await self._auth.project_id()
            if not found:
                raise InvalidArgumentError(
                    "a project is needed: pass project= or set GOOGLE_CLOUD_PROJECT "
                    "(the metadata server named none)",
                    self,
                )
            self.project = check_project(found)
        return self.project

    async def _url(self, path: str, project: str | None = None) -> str:
        """The URL of *path* (``/zones/...``) in *project* (the driver's by default)."""
        project = project or await self._project()
        return f"{self.endpoint}/compute/v1/projects/{quote(project, safe=':')}{path}"

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        self._auth.refused(response.status)
        details = error_details(response)
        path = urlsplit(response.request.url).path
        cls: type[TxCloudError] | None = None
        if details.code in QUOTA_REASONS:
            cls = QuotaExceededError
        elif response.status == 404 and (
            _VOLUME_PATH.search(path) or is_volume_link(details.message)
        ):
            # attachDisk answers 404 on the instance's path for a missing disk.
            cls = VolumeNotFoundError
        elif response.status == 404 and _INSTANCE_PATH.search(path):
            cls = NodeNotFoundError
        elif response.status == 409 or details.code == "resourceInUseByAnotherResource":
            cls = ResourceConflictError
        elif response.status == 400:
            cls = InvalidRequestError
        elif response.status == 403 and details.code not in THROTTLING_CODES:
            # The token is good; the account may not do this.
            cls = PermissionDeniedError
        if cls is None:
            return default_error_mapper(response)
        return cls(
            response.describe(details.message),
            self,
            status=response.status,
            code=details.code,
            request_id=details.request_id,
        )

    # Requests

    async def _call(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """
        Send one request and read its JSON object.

        Every change carries a new ``requestId``, so Google ignores a repeat
        of one it has done: changes are then safe to retry after throttling
        or a lost answer, as reads are.
        """
        headers, data = json_parts(body)
        query = dict(params or {})
        if method != "GET":
            query["requestId"] = str(uuid.uuid4())
        request = Request(
            method, url, headers=headers, params=query or None, body=data, idempotent=True
        )
        response = await self.http.send(request)
        path = urlsplit(url).path
        return await response.json_object(f"the answer to {method} {path} is not a JSON object")

    async def _pages(self, url: str, params: Params | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every page of a listing, following ``nextPageToken``."""
        query = dict(params or {}, maxResults=str(self.ex_page_size))
        seen: set[str] = set()
        while True:
            page = await self._call("GET", url, params=query)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return
            if not isinstance(token, str) or token in seen:
                raise MalformedResponseError(f"a listing repeats its page token {token!r}", self)
            seen.add(token)
            query = dict(query, pageToken=token)

    async def _items(self, url: str, params: Params | None = None) -> AsyncIterator[Any]:
        """The ``items`` of every page of a listing."""
        async for page in self._pages(url, params):
            items = page.get("items", [])
            if not isinstance(items, list):
                raise MalformedResponseError("a listing's items are not a list", self)
            for item in items:
                yield item

    async def _aggregated(self, url: str, key: str) -> AsyncIterator[Any]:
        """
        The resources under *key* of every scope of every page of an
        ``aggregatedList`` (scopes without any carry a warning instead).
        """
        async for page in self._pages(url):
            scopes = page.get("items", {})
            if not isinstance(scopes, dict):
                raise MalformedResponseError(
                    "an aggregated listing's items are not an object", self
                )
            for scoped in scopes.values():
                found = scoped.get(key, []) if isinstance(scoped, dict) else None
                if not isinstance(found, list):
                    raise MalformedResponseError(
                        f"an aggregated listing's {key} is not a list", self
                    )
                for item in found:
                    yield item

    async def _zoned(self, collection: str, zone: str | None) -> AsyncIterator[Any]:
        """
        The resources of a zonal *collection* (``instances``, ``disks``):
        of every zone in one ``aggregatedList``, or of *zone*, once known.
        """
        if zone is None:
            items = self._aggregated(await self._url(f"/aggregated/{collection}"), collection)
        else:
            await self._known_zone(zone)
            items = self._items(await self._url(f"/zones/{zone}/{collection}"))
        async for item in items:
            yield item

    def _instance_path(self, zone: str, name: str, action: str = "") -> str:
        path = f"/zones/{check_zone(zone)}/instances/{check_name(name, 'the node name')}"
        return f"{path}/{action}" if action else path

    def _image_path(self, image: object) -> str:
        if isinstance(image, NodeImage):
            link = image.extra.get("selfLink")
            project = image.extra.get("project")
            if project:
                name = check_name(image.name, "image")
                return f"projects/{check_project(project)}/global/images/{name}"
            if isinstance(link, str) and "/projects/" in link:
                return "projects/" + link.split("/projects/", 1)[1]
            image = image.name
        if isinstance(image, str) and image.startswith(("projects/", "global/")):
            return image
        return f"global/images/{check_name(image, 'image')}"

    def _node_path(self, node: object, action: str = "") -> str:
        if not isinstance(node, Node):
            raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}", self)
        zone = node.extra.get("zone")
        if zone is None:
            raise InvalidArgumentError(f"the node {node.name!r} names no zone", self)
        return self._instance_path(zone, node.name, action)

    async def _finish(self, operation: dict[str, Any]) -> dict[str, Any]:
        async def refresh(path: str) -> dict[str, Any]:
            return await self._call("GET", await self._url(path))

        return await wait_for_operation(
            operation,
            refresh,
            self.reactor,
            poll_interval=self.ex_poll_interval,
            timeout=self.ex_operation_timeout,
            driver=self,
        )

    # Zones

    def _zone_name(self, location: object) -> str:
        if location is None:
            if self.datacenter is None:
                raise InvalidArgumentError(
                    "no zone: pass location= or build the driver with datacenter=", self
                )
            return self.datacenter
        if isinstance(location, NodeLocation):
            location = location.name
        return check_zone(location, "location")

    async def _known_zone(self, zone: str) -> None:
        if self._zones is None:
            self._zones = self._zone_index()
            self._zones.addErrback(self._forget_zones)
        zones = await self._zones
        if zone not in zones:
            raise InvalidArgumentError(f"the project {self.project} has no zone {zone!r}", self)

    def _zone_index(self) -> Deferred[dict[str, NodeLocation]]:
        return self.list_locations().addCallback(lambda found: {zone.name: zone for zone in found})

    def _forget_zones(self, failure: Failure) -> Failure:
        self._zones = None
        return failure

    def close(self) -> Deferred[None]:
        """Close the connections this driver (and its own token source) opened."""
        return super().close().addCallback(lambda _: self._auth.close())

    def __repr__(self) -> str:
        shown = f"<{type(self).__name__} provider={str(self.type)!r}"
        if self.project is not None:
            shown += f" project={self.project!r}"
        if self.datacenter is not None:
            shown += f" datacenter={self.datacenter!r}"
        shown += self._auth.describe()
        if self.host is not None:
            shown += f" host={self.host!r}"
        return shown + ">"
