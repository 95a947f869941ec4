"""
The DigitalOcean API v2 as the driver speaks it: JSON with a bearer token,
``page``/``per_page`` paging that follows ``links.pages.next``, the
rate-limit gate, and error bodies ``{"id", "message", "request_id"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from twisted.internet.defer import Deferred

from txcloud.common.http_driver import HTTPDriver
from txcloud.compute.base import NodeDriver, NodeLocation
from txcloud.compute.drivers.digitalocean.ratelimit import RateLimit, seconds_until_reset
from txcloud.compute.types import Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    MalformedResponseError,
    NodeNotFoundError,
    RateLimitReached,
    TxCloudError,
    VolumeNotFoundError,
)
from txcloud.http import (
    ErrorResponse,
    Request,
    Response,
    default_error_mapper,
    error_details,
    json_parts,
)

__all__ = ["API_HOST", "MAX_PER_PAGE", "DigitalOceanAPIDriver", "check_per_page"]

_T = TypeVar("_T")

#: Where DigitalOcean serves its API.
API_HOST = "api.digitalocean.com"

#: The most items DigitalOcean returns per page.
MAX_PER_PAGE = 200

#: Query parameters as the driver builds them.
Params = dict[str, str]

# A token is one run of visible ASCII characters; checked without ever
# quoting it back.
_TOKEN = re.compile(r"^[\x21-\x7e]+$")
# Region slugs ("nyc3") or data-centre prefixes ("nyc").
_REGION = re.compile(r"^[a-z]{3}[0-9]*$")
# Paths whose 404 means a droplet, or an SSH key, does not exist.
_DROPLET_PATH = re.compile(r"^/v2/droplets/[^/]+(/actions)?/?$")
_KEY_PATH = re.compile(r"^/v2/account/keys/[^/]+/?$")
_VOLUME_PATH = re.compile(r"^/v2/(volumes/[^/]+(/actions|/snapshots)?|snapshots/[^/]+)/?$")
# What DigitalOcean's 422 message says when a public key is already uploaded.
_KEY_IN_USE = "already in use"


def check_per_page(value: object, what: str = "ex_per_page") -> int:
    """
    *value* if it is a page size DigitalOcean accepts (1 to 200).

    :raises InvalidArgumentError: otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_PAGE:
        raise InvalidArgumentError(f"{what} must be an integer in 1..{MAX_PER_PAGE}, not {value!r}")
    return value


def _next_page(document: Mapping[str, Any], current: int, driver: Any) -> int | None:
    """The page number ``links.pages.next`` names, or ``None`` on the last page."""
    links = document.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    link = pages.get("next") if isinstance(pages, dict) else None
    if link is None:
        return None
    try:
        number = int(parse_qs(urlsplit(str(link)).query)["page"][0])
    except (KeyError, ValueError):
        raise MalformedResponseError(
            f"a next-page link without a page number: {link!r}", driver
        ) from None
    if number <= current:
        raise MalformedResponseError(f"page {current} links back to page {number}", driver)
    return number


def _body_request_id(body: bytes) -> str | None:
    # Some endpoints name the request in the error body rather than a header.
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("request_id") if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None


class DigitalOceanAPIDriver(HTTPDriver, NodeDriver):
    """
    What :class:`~txcloud.compute.drivers.digitalocean.DigitalOceanNodeDriver`
    sends its requests with; see there for the arguments.
    """

    name = "DigitalOcean"
    type = Provider.DIGITAL_OCEAN
    website = "https://www.digitalocean.com"

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        api_version: str | None = None,
        region: str | None = None,
        *,
        ex_per_page: int = MAX_PER_PAGE,
        **kwargs: Any,
    ) -> None:
        if not isinstance(key, str) or not _TOKEN.match(key):
            raise InvalidArgumentError(
                "key must be a DigitalOcean personal access token: text without spaces"
            )
        if secret is not None:
            raise InvalidArgumentError(
                "DigitalOcean authenticates with a personal access token alone: "
                "pass it as key, and no secret"
            )
        if api_version not in (None, "v2"):
            raise InvalidArgumentError(f"only API version 'v2' is supported, not {api_version!r}")
        if region is not None and not (isinstance(region, str) and _REGION.match(region)):
            raise InvalidArgumentError(f"region must be a region slug like 'nyc3', not {region!r}")
        # The token is the secret: it is kept out of ``key``, which is public.
        super().__init__(None, None, secure, host, port, region=region, **kwargs)
        self._token = key
        self.ex_per_page = check_per_page(ex_per_page)
        self._rate_limit: RateLimit | None = None

    def _default_host(self) -> str:
        return API_HOST

    @property
    def ex_rate_limit(self) -> RateLimit:
        """The token's rate limit as the latest answers reported it."""
        if self._rate_limit is None:
            self._rate_limit = RateLimit(self.reactor, self.name)
        return self._rate_limit

    def _sign(self, request: Request) -> Deferred[Request]:
        return Deferred.fromCoroutine(self._authorize(request))

    async def _authorize(self, request: Request) -> Request:
        # Before every attempt, retries included: wait out an exhausted limit.
        await self.ex_rate_limit.acquire()
        return request.with_headers({"Authorization": f"Bearer {self._token}"})

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        self.ex_rate_limit.observe(response.headers)
        details = error_details(response)
        request_id = details.request_id or _body_request_id(response.body)
        message = response.describe(details.message)
        fields: dict[str, Any] = {
            "status": response.status,
            "code": details.code,
            "request_id": request_id,
        }
        path = urlsplit(response.request.url).path
        if response.status == 429:
            retry_after = response.retry_after
            if retry_after is None:
                retry_after = seconds_until_reset(response.headers, self.reactor.seconds())
            return RateLimitReached(message, self, retry_after=retry_after, **fields)
        if response.status == 404 and _DROPLET_PATH.match(path):
            return NodeNotFoundError(message, self, **fields)
        if response.status == 404 and _KEY_PATH.match(path):
            return KeyPairDoesNotExistError(message, self, **fields)
        if response.status == 404 and _VOLUME_PATH.match(path):
            return VolumeNotFoundError(message, self, **fields)
        if response.status == 422:
            in_use = path.rstrip("/") == "/v2/account/keys" and _KEY_IN_USE in message
            cls = KeyPairAlreadyExistsError if in_use else InvalidRequestError
            return cls(message, self, **fields)
        error = default_error_mapper(response)
        error.request_id = request_id
        return error

    async def _send(self, request: Request) -> Response:
        response = await self.http.send(request)
        self.ex_rate_limit.observe(response.headers)
        return response

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """
        Send one request and read its JSON answer.

        :returns: the answer's object, or ``None`` for an empty answer (204).
        :raises MalformedResponseError: for an answer that is not a JSON object.
        """
        headers, data = json_parts(body)
        request = Request(method, self.endpoint + path, headers=headers, params=params, body=data)
        response = await self._send(request)
        if not (await response.content()).strip():
            return None
        return await response.json_object(f"the answer to {method} {path} is not a JSON object")

    async def _delete(self, path: str) -> bool:
        """``DELETE path``; ``True`` once done."""
        await self._call("DELETE", path)
        return True

    async def _parsed(
        self, path: str, key: str, params: Params, parse: Callable[[Any, Any], _T]
    ) -> AsyncIterator[_T]:
        """``parse(item, self)`` for each item of the list *key* of every page."""
        async for item in self._items(path, key, params):
            yield parse(item, self)

    def _region_of(self, location: object) -> str | None:
        """A region slug from a location or a slug; the driver's region for ``None``."""
        if location is None:
            return self.region
        if isinstance(location, NodeLocation):
            location = location.id
        if not isinstance(location, str) or not location:
            raise InvalidArgumentError("location must be a NodeLocation or a region slug")
        return location

    async def _get_object(self, path: str, key: str) -> dict[str, Any]:
        """``GET path`` and the object under *key* of its answer."""
        document = await self._call("GET", path)
        return self._object(document, key, f"GET {path}")

    def _object(self, document: dict[str, Any] | None, key: str, what: str) -> dict[str, Any]:
        value = document.get(key) if document is not None else None
        if not isinstance(value, dict):
            raise MalformedResponseError(f"the answer to {what} has no {key!r} object", self)
        return value

    async def _items(
        self, path: str, key: str, params: Params | None = None, per_page: int | None = None
    ) -> AsyncIterator[Any]:
        """
        The items of the list *key* of every page of ``GET path``.

        Paging follows ``links.pages.next``: the page number it names is
        asked of this driver's endpoint with the same filters and page size,
        so the token never goes to a host an answer names.
        """
        query = dict(params or {}, per_page=str(per_page or self.ex_per_page))
        page = 1
        while True:
            document = await self._call("GET", path, params=query)
            items = document.get(key) if document is not None else None
            if not isinstance(items, list):
                raise MalformedResponseError(f"the answer to GET {path} has no {key!r} list", self)
            for item in items:
                yield item
            next_page = _next_page(document or {}, page, self)
            if next_page is None:
                return
            page = next_page
            query = dict(query, page=str(page))
