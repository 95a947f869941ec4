"""
Azure Resource Manager as the driver speaks it: JSON with Azure AD bearer
tokens for ``https://management.azure.com/.default``, ``api-version`` on
every request, ``nextLink`` paging, error bodies ``{"error": {"code",
"message"}}``, and long-running operations (:mod:`.operations`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, DeferredList, FirstError, gatherResults

from txcloud.auth.azure import MANAGEMENT_SCOPE, ClientSecretTokens, default_azure_tokens
from txcloud.auth.azure.entra import authority_host
from txcloud.auth.sources import shared_source
from txcloud.auth.tokens import TokenSource, bearer_authorized
from txcloud.common.http_driver import HTTPDriver
from txcloud.compute.base import Node, NodeDriver, NodeLocation
from txcloud.compute.drivers.azure_arm.errors import arm_error
from txcloud.compute.drivers.azure_arm.operations import wait_for_operation
from txcloud.compute.drivers.azure_arm.regions import check_region
from txcloud.compute.drivers.azure_arm.resources import (
    COMPUTE,
    ResourceId,
    check_resource_group,
    check_subscription_id,
)
from txcloud.compute.types import Provider
from txcloud.errors import InvalidArgumentError, MalformedResponseError, TxCloudError
from txcloud.http import (
    ErrorResponse,
    Request,
    Response,
    default_error_mapper,
    error_details,
    json_parts,
    proxy_settings,
)

__all__ = [
    "API_HOST",
    "COMPUTE_API_VERSION",
    "DISKS_API_VERSION",
    "LOCATIONS_API_VERSION",
    "NETWORK_API_VERSION",
    "VMS",
    "AzureAPIDriver",
    "gathered",
]

#: Where Azure Resource Manager answers (the public cloud).
API_HOST = "management.azure.com"
#: The API versions the driver asks for: Microsoft.Compute's,
COMPUTE_API_VERSION = "2024-07-01"
#: Microsoft.Compute's managed disks' (versioned apart from the machines),
DISKS_API_VERSION = "2024-03-02"
#: Microsoft.Network's,
NETWORK_API_VERSION = "2024-05-01"
#: and the subscription's locations'.
LOCATIONS_API_VERSION = "2022-12-01"

#: Microsoft.Compute's resource type of virtual machines.
VMS = "virtualMachines"

_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _login_host(value: object) -> str:
    if (
        not isinstance(value, str)
        or urlsplit(value).scheme != "https"
        or not urlsplit(value).hostname
    ):
        raise InvalidArgumentError(
            f"ex_login_host must be an https:// URL such as https://login.microsoftonline.com, "
            f"not {value!r}"
        )
    return value.rstrip("/")


async def gathered(deferreds: Iterable[Deferred[Any]]) -> list[Any]:
    """
    The results of *deferreds*, run together; the first to fail cancels the
    others (their answers would be thrown away), waits for them to end, and
    fails the whole with its own (typed) error, not a ``FirstError``.
    """
    running = list(deferreds)
    try:
        return await gatherResults(running, consumeErrors=True)
    except FirstError as error:
        for deferred in running:
            deferred.cancel()
        # Nothing of this call is left running once it has failed.
        await DeferredList(running, consumeErrors=True)
        error.subFailure.raiseException()


def _positive(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(f"{what} must be a positive number, not {value!r}")
    return float(value)


class AzureAPIDriver(HTTPDriver, NodeDriver):
    """
    What :class:`~txcloud.compute.drivers.azure_arm.AzureNodeDriver` sends
    its requests with; see there for the arguments.
    """

    name = "Azure Virtual machines"
    type = Provider.AZURE_ARM
    website = "https://azure.microsoft.com/products/virtual-machines/"

    def __init__(
        self,
        tenant_id: str | None = None,
        subscription_id: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        api_version: str | None = None,
        region: str | None = None,
        *,
        ex_login_host: str | None = None,
        ex_credentials: TokenSource | None = None,
        ex_environ: Mapping[str, str] | None = None,
        ex_poll_interval: float = 5.0,
        ex_operation_timeout: float = 1800.0,
        ex_concurrency: int = 8,
        **kwargs: Any,
    ) -> None:
        environ = os.environ if ex_environ is None else ex_environ
        subscription_id = subscription_id or environ.get("AZURE_SUBSCRIPTION_ID")
        if not subscription_id:
            raise InvalidArgumentError(
                "give subscription_id (or set AZURE_SUBSCRIPTION_ID): "
                "Azure Resource Manager lists and creates within a subscription"
            )
        self.subscription_id = check_subscription_id(subscription_id)
        if region is not None:
            region = check_region(region)
        if api_version is not None and not isinstance(api_version, str):
            raise InvalidArgumentError(f"api_version must be a string, not {api_version!r}")
        if (
            isinstance(ex_concurrency, bool)
            or not isinstance(ex_concurrency, int)
            or ex_concurrency < 1
        ):
            raise InvalidArgumentError(f"ex_concurrency must be at least 1, not {ex_concurrency!r}")
        if not secure and not _is_loopback(host or API_HOST):
            raise InvalidArgumentError(
                "bearer tokens are sent over HTTPS only: secure=False is for a local fake "
                "(a loopback host)"
            )
        if tenant_id is not None and (
            not isinstance(tenant_id, str) or not tenant_id or "/" in tenant_id
        ):
            raise InvalidArgumentError(
                f"tenant_id must be a directory id or domain, not {tenant_id!r}"
            )
        if key is not None and not (isinstance(key, str) and key):
            raise InvalidArgumentError("key must be the application's (client) id")
        if key is not None and (tenant_id is None or not secret):
            raise InvalidArgumentError(
                "an application's key (client id) needs its tenant_id and secret"
            )
        if key is None and secret is not None:
            raise InvalidArgumentError("a secret needs its key (the application's client id)")
        authority = _login_host(ex_login_host) if ex_login_host is not None else None
        super().__init__(key, None, secure, host, port, region=region, **kwargs)
        self.compute_api_version = api_version or COMPUTE_API_VERSION
        self.ex_poll_interval = _positive(ex_poll_interval, "ex_poll_interval")
        self.ex_operation_timeout = _positive(ex_operation_timeout, "ex_operation_timeout")
        self.ex_concurrency = ex_concurrency
        self.tenant_id = tenant_id
        self._tokens = ex_credentials or self._token_source(
            tenant_id, key, secret, authority, environ
        )

    def _token_source(
        self,
        tenant_id: str | None,
        client_id: str | None,
        secret: str | None,
        authority: str | None,
        environ: Mapping[str, str],
    ) -> TokenSource:
        if client_id is None or tenant_id is None or secret is None:
            # The chain reads the environment: the arguments given take precedence.
            given = {"AZURE_TENANT_ID": tenant_id, "AZURE_AUTHORITY_HOST": authority}
            environ = {**environ, **{name: value for name, value in given.items() if value}}
            return default_azure_tokens(MANAGEMENT_SCOPE, environ=environ, reactor=self.reactor)
        authority = authority or authority_host(environ)
        return shared_source(
            (
                "secret",
                secret,
                tenant_id,
                client_id,
                MANAGEMENT_SCOPE,
                authority,
                self.reactor,
                None,
                proxy_settings(None, environ),
            ),
            lambda: ClientSecretTokens(
                tenant_id,
                client_id,
                secret,
                authority=authority,
                scope=MANAGEMENT_SCOPE,
                reactor=self.reactor,
                environ=environ,
            ),
        )

    def _default_host(self) -> str:
        return API_HOST

    @property
    def subscription_path(self) -> str:
        """``/subscriptions/SUB``: where every path of the driver starts."""
        return f"/subscriptions/{self.subscription_id}"

    def _sign(self, request: Request) -> Deferred[Request]:
        return bearer_authorized(self._tokens, request)

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        if response.status == 401:
            # An expired or revoked token: the next request fetches another.
            self._tokens.invalidate()
        details = error_details(response)
        error = arm_error(
            details.code,
            response.describe(details.message),
            self,
            status=response.status,
            request_id=details.request_id,
            path=urlsplit(response.request.url).path,
            retry_after=response.retry_after,
        )
        return error if error is not None else default_error_mapper(response)

    def _check_origin(self, url: object, what: str) -> str:
        """*url* if it is on this driver's endpoint: tokens go nowhere else."""
        if not isinstance(url, str) or not url.startswith(self.endpoint + "/"):
            raise MalformedResponseError(f"{what} is not on {self.endpoint}: {url!r}", self)
        return url

    # Paths and arguments

    def _group_path(self, resource_group: str | None) -> str:
        if resource_group is None:
            return self.subscription_path
        return f"{self.subscription_path}/resourceGroups/{check_resource_group(resource_group)}"

    def _resource(self, resource_group: str, namespace: str, kind: str, name: str) -> ResourceId:
        return ResourceId(self.subscription_id, resource_group, namespace, kind, name)

    def _own(self, value: object, kind: str, what: str) -> ResourceId:
        """The Microsoft.Compute resource id *value*, if it is of this driver's subscription."""
        resource = ResourceId.parse(value, COMPUTE, kind, what)
        if resource.subscription != self.subscription_id:
            raise InvalidArgumentError(
                f"{what}: {resource.name!r} is in subscription {resource.subscription}, "
                f"not this driver's ({self.subscription_id})",
                self,
            )
        return resource

    def _vm_id(self, node: object) -> ResourceId:
        if not isinstance(node, Node):
            raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}", self)
        return self._own(node.id, VMS, "the node's id")

    def _location(self, location: NodeLocation | str | None) -> str:
        if isinstance(location, NodeLocation):
            location = location.id
        if location is None:
            if self.region is None:
                raise InvalidArgumentError(
                    "give a location, or build the driver with a region", self
                )
            return self.region
        return check_region(location, "location")

    # Requests

    async def _send(
        self,
        method: str,
        url: str,
        *,
        api_version: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Response:
        """
        Send one request to *url* (a path of this endpoint, or a URL of it
        that already holds its query), with ``api-version`` when given.
        """
        if url.startswith("/"):
            url = self.endpoint + url
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        headers, data = json_parts(body)
        # ARM's actions (start, restart...) are safe to repeat.
        request = Request(
            method,
            url,
            headers=headers,
            params=query,
            body=data,
            idempotent=True,
        )
        return await self.http.send(request)

    async def _get(self, path: str, api_version: str, **params: str) -> dict[str, Any]:
        """``GET path`` and its JSON object."""
        response = await self._send("GET", path, api_version=api_version, params=params)
        return await response.json_object(f"the answer to GET {path} is not a JSON object")

    async def _items(self, path: str, api_version: str, **params: str) -> AsyncIterator[Any]:
        """
        Every item of a list of ``GET path``: the ``value`` of each page,
        following ``nextLink`` (on this endpoint only), or a bare JSON array.
        """
        url: str = path
        query: dict[str, str] | None = params
        version: str | None = api_version
        while True:
            response = await self._send("GET", url, api_version=version, params=query)
            document = await response.json()
            if isinstance(document, list):
                for item in document:
                    yield item
                return
            items = document.get("value") if isinstance(document, dict) else None
            if not isinstance(items, list):
                raise MalformedResponseError(f"the answer to GET {path} has no 'value' list", self)
            for item in items:
                yield item
            link = document.get("nextLink")
            if not link:
                return
            # The link holds the query (api-version, $skiptoken) itself.
            url, query, version = self._check_origin(link, f"GET {path}'s nextLink"), None, None

    async def _operation(
        self, method: str, path: str, api_version: str, body: Mapping[str, Any] | None = None
    ) -> Response:
        """Start a long-running operation and wait until Azure says it is done."""
        response = await self._send(method, path, api_version=api_version, body=body)
        await wait_for_operation(self, response, f"{method} {path}")
        return response
