"""
How the OpenStack driver talks to its cloud: the constructor's arguments
turned into Keystone credentials (or found as OpenStack's tools find
them), the token sent as ``X-Auth-Token`` and renewed once when a service
answers ``401``, the URL of each service from the token's catalog, marker
paging, and Nova's error bodies (``{"itemNotFound": {"code", "message"}}``)
mapped to typed errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from twisted.internet.defer import Deferred

from txcloud.auth.openstack.clouds import find_settings
from txcloud.auth.openstack.keystone import (
    KeystoneCredentials,
    KeystoneSession,
    KeystoneToken,
    keystone_session,
)
from txcloud.common.checks import check_text
from txcloud.common.http_driver import HTTPDriver
from txcloud.compute.base import Node, NodeDriver, NodeLocation
from txcloud.compute.drivers.openstack.catalog import (
    BLOCK_STORAGE_TYPES,
    INTERFACES,
    ServiceCatalog,
)
from txcloud.compute.types import Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    MalformedResponseError,
    NodeNotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitReached,
    ResourceConflictError,
    TxCloudError,
    VolumeNotFoundError,
)
from txcloud.http import ErrorResponse, Request, default_error_mapper, json_parts

__all__ = [
    "AUTH_VERSIONS",
    "OpenStackAPIDriver",
    "check_page_size",
    "check_server_id",
    "check_uuid",
]

#: ``ex_force_auth_version`` values and the Keystone v3 method each means
#: (``3.x_token`` is txcloud's: it trades ``ex_force_auth_token`` for a
#: token scoped to the project).
AUTH_VERSIONS = {
    "3.x_password": "password",
    "3.x_appcred": "application_credential",
    "3.x_token": "token",
}

Params = dict[str, str]
_T = TypeVar("_T")

# Paths whose 404 means a server, or a key pair, does not exist.
_SERVER_PATH = re.compile(r"/servers/(?!detail$)[^/]+(/action)?$")
_KEY_PATH = re.compile(r"/os-keypairs/[^/]+$")
_REQUEST_ID_HEADERS = ("x-openstack-request-id", "x-compute-request-id")
# Cinder's volumes and snapshots, and Nova's attachments of volumes.
_VOLUME_PATH = re.compile(r"/(volumes|snapshots)/(?!detail$)[^/]+$")
_ATTACHMENT_PATH = re.compile(r"/os-volume_attachments(/[^/]+)?$")
# Nova's, Glance's and Cinder's ids are UUIDs.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def check_page_size(value: object) -> int | None:
    """*value* if it is ``None`` or a page size of 1 to 1000, else InvalidArgumentError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise InvalidArgumentError(f"ex_page_size must be an integer in 1..1000, not {value!r}")
    return value


def check_uuid(value: object, what: str) -> str:
    """*value* if it is a UUID (an id of Nova, Glance or Cinder); else InvalidArgumentError."""
    text = check_text(value, what)
    if not _UUID.match(text):
        raise InvalidArgumentError(f"{what} must be a UUID, not {text!r}")
    return text


def check_server_id(node: object) -> str:
    """The id of *node*, a Nova :class:`~txcloud.compute.base.Node`; else InvalidArgumentError."""
    if not isinstance(node, Node):
        raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}")
    return check_uuid(node.id, "the node's id")


def _optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{what} must be a non-empty string")
    return value


def _url(value: object, what: str) -> str | None:
    text = _optional_text(value, what)
    if text is not None and not text.startswith(("http://", "https://")):
        raise InvalidArgumentError(f"{what} must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/") if text is not None else None


def _fault(body: bytes) -> tuple[str | None, str | None]:
    """
    Nova's ``{"itemNotFound": {"code", "message"}}`` (or Keystone's
    ``{"error": {"title", "message"}}``): the fault's name and its message.
    """
    try:
        document = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(document, dict) or len(document) != 1:
        return None, None
    [(code, detail)] = document.items()
    if not isinstance(detail, dict):
        return str(code), None
    if code == "error" and isinstance(detail.get("title"), str):
        # Keystone's middleware refusing a token: {"error": {"title", "message"}}.
        code = detail["title"]
    message = detail.get("message")
    return str(code), message if isinstance(message, str) else None


def _next_marker(document: Mapping[str, Any], key: str) -> str | None:
    """
    The marker of the next page: from Glance's ``next`` or the ``rel:
    next`` link of Nova's ``{key}_links``; ``None`` on the last page.
    """
    link = document.get("next")
    if not isinstance(link, str):
        link = next(
            (
                item.get("href")
                for item in document.get(f"{key}_links") or []
                if isinstance(item, dict) and item.get("rel") == "next"
            ),
            None,
        )
    if not isinstance(link, str):
        return None
    markers = parse_qs(urlsplit(link).query).get("marker")
    if not markers:
        raise MalformedResponseError(f"a next-page link without a marker: {link!r}")
    return markers[0]


class OpenStackAPIDriver(HTTPDriver, NodeDriver):
    """
    What :class:`~txcloud.compute.drivers.openstack.OpenStackNodeDriver`
    sends its requests with; see there for the arguments.
    """

    name = "OpenStack"
    type = Provider.OPENSTACK
    website = "https://www.openstack.org"

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        api_version: str | None = None,
        region: str | None = None,
        *,
        ex_force_auth_url: str | None = None,
        ex_force_auth_version: str | None = None,
        ex_force_auth_token: str | None = None,
        ex_tenant_name: str | None = None,
        ex_tenant_id: str | None = None,
        ex_domain_name: str | None = None,
        ex_tenant_domain_id: str | None = None,
        ex_force_service_region: str | None = None,
        ex_force_service_type: str = "compute",
        ex_force_service_name: str | None = None,
        ex_force_base_url: str | None = None,
        ex_interface: str | None = None,
        ex_cloud: str | None = None,
        ex_environ: Mapping[str, str] | None = None,
        ex_page_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        if api_version not in (None, "2.1", "2.0"):
            raise InvalidArgumentError(
                f"only the compute API v2.1 is supported, not {api_version!r}"
            )
        if region is not None and ex_force_service_region not in (None, region):
            raise InvalidArgumentError("give region or ex_force_service_region, not both")
        settings = None
        explicit = (key, secret, ex_force_auth_url, ex_force_auth_token, host)
        if all(value is None for value in explicit):
            settings = find_settings(ex_environ, cloud=ex_cloud)
            credentials = settings.credentials
            if settings.ca_file is not None:
                kwargs.setdefault("ex_ca_file", settings.ca_file)
            if not settings.verify:
                kwargs.setdefault("ex_verify_tls", False)
        else:
            if ex_cloud is not None:
                raise InvalidArgumentError("ex_cloud reads clouds.yaml: give it no credentials")
            credentials = self._credentials(
                key,
                secret,
                self._auth_url(ex_force_auth_url, secure, host, port),
                ex_force_auth_version,
                ex_force_auth_token,
                project_name=_optional_text(ex_tenant_name, "ex_tenant_name"),
                project_id=_optional_text(ex_tenant_id, "ex_tenant_id"),
                user_domain_name=_optional_text(ex_domain_name, "ex_domain_name"),
                project_domain_id=_optional_text(ex_tenant_domain_id, "ex_tenant_domain_id"),
            )
        region = _optional_text(region or ex_force_service_region, "region") or (
            settings.region if settings is not None else None
        )
        interface = ex_interface or (settings.interface if settings is not None else "public")
        if interface not in INTERFACES:
            raise InvalidArgumentError(
                f"ex_interface must be one of {', '.join(INTERFACES)}, not {interface!r}"
            )
        # The secret stays in the credentials; ``key`` is public.
        super().__init__(
            key if credentials.method == "password" else None,
            None,
            secure,
            host,
            port,
            region=region,
            **kwargs,
        )
        self.credentials = credentials
        self.ex_interface = interface
        self.ex_force_service_type = _optional_text(ex_force_service_type, "ex_force_service_type")
        self.ex_force_service_name = _optional_text(ex_force_service_name, "ex_force_service_name")
        self.ex_force_base_url = _url(ex_force_base_url, "ex_force_base_url")
        self.ex_page_size = check_page_size(ex_page_size)
        self._session: KeystoneSession | None = None

    @staticmethod
    def _auth_url(url: str | None, secure: bool, host: str | None, port: int | None) -> str:
        if url is not None:
            return url
        if host is None:
            raise InvalidArgumentError(
                "OpenStack needs Keystone's URL: ex_force_auth_url (or host and port)"
            )
        scheme = "https" if secure else "http"
        return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"

    @staticmethod
    def _credentials(
        key: str | None,
        secret: str | None,
        auth_url: str,
        version: str | None,
        token: str | None,
        **scope: str | None,
    ) -> KeystoneCredentials:
        if version is None:
            version = "3.x_token" if token is not None else "3.x_password"
        method = AUTH_VERSIONS.get(version)
        if method is None:
            raise InvalidArgumentError(
                f"ex_force_auth_version must be one of {', '.join(AUTH_VERSIONS)} "
                f"(Keystone v3), not {version!r}"
            )
        project = {"project_name": scope["project_name"], "project_id": scope["project_id"]}
        if method == "application_credential":
            if any(project.values()):
                raise InvalidArgumentError(
                    "an application credential belongs to one project: give no ex_tenant_name"
                )
            return KeystoneCredentials(
                auth_url,
                method,
                application_credential_id=key,
                application_credential_secret=secret,
            )
        if method == "token":
            return KeystoneCredentials(
                auth_url,
                method,
                token=token,
                project_domain_id=scope["project_domain_id"],
                **project,
            )
        return KeystoneCredentials(
            auth_url,
            method,
            user_name=key,
            password=secret,
            user_domain_name=scope["user_domain_name"],
            project_domain_id=scope["project_domain_id"],
            **project,
        )

    # Authentication

    @property
    def session(self) -> KeystoneSession:
        """The Keystone session this driver's token comes from (shared)."""
        if self._session is None:
            self._session = keystone_session(
                self.credentials,
                reactor=self.reactor,
                agent=self._agent,
                tls=self._tls,
                proxy=self._proxy,
                timeout=self.timeout,
            )
        return self._session

    def _default_host(self) -> str:
        return urlsplit(self.credentials.auth_url).netloc

    def _sign(self, request: Request) -> Deferred[Request]:
        return self.session.get().addCallback(
            lambda token: request.with_headers({"X-Auth-Token": token.token})
        )

    def ex_get_catalog(self) -> Deferred[ServiceCatalog]:
        """The service catalog of the current token (fetched first if need be)."""
        return self.session.get().addCallback(lambda token: ServiceCatalog(token.catalog))

    def _service_url(self, token: KeystoneToken, service: str) -> str:
        catalog = ServiceCatalog(token.catalog)
        if service == "volume":
            base = catalog.url_of_any(
                BLOCK_STORAGE_TYPES, region=self.region, interface=self.ex_interface
            )
            # Catalogs give Cinder's URL with the project (``/v3/{project_id}``)
            # or, as microversion 3.67 allows, without; requests here name it.
            project = token.project.get("id")
            return f"{base}/{project}" if base.endswith("/v3") and project else base
        if service == "compute":
            if self.ex_force_base_url is not None:
                return self.ex_force_base_url
            return catalog.url(
                self.ex_force_service_type or "compute",
                region=self.region,
                interface=self.ex_interface,
                name=self.ex_force_service_name,
            )
        base = catalog.url(service, region=self.region, interface=self.ex_interface)
        # Glance's catalog URL names no version, or (on some clouds) /v2.
        return base if re.search(r"/v2(\.\d+)?$", base) else f"{base}/v2"

    def _zone(self, location: NodeLocation | None, zone: str | None) -> str | None:
        """
        The availability zone *location* (or *zone*, its name) names:
        ``None`` for this driver's region, which lets the cloud choose.
        """
        if location is None:
            return check_text(zone, "ex_availability_zone") if zone is not None else None
        if not isinstance(location, NodeLocation):
            raise InvalidArgumentError(
                f"location must be a NodeLocation, not {type(location).__name__}", self
            )
        if zone is not None:
            raise InvalidArgumentError("give location or ex_availability_zone, not both", self)
        if location.extra.get("availability_zone"):
            return location.id
        if location.id != self.region:
            raise InvalidArgumentError(
                f"this driver works in region {self.region!r}, not {location.id!r}: "
                "use a driver of that region",
                self,
            )
        return None

    # Errors

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        default = default_error_mapper(response)
        code, message = _fault(response.body)
        request_id = next(
            (response.headers[name] for name in _REQUEST_ID_HEADERS if name in response.headers),
            default.request_id,
        )
        fields: dict[str, Any] = {
            "status": response.status,
            "code": code or default.code,
            "request_id": request_id,
        }
        text = response.describe(message) if message else default.message
        path = urlsplit(response.request.url).path.rstrip("/")
        status = response.status
        quota = "quota" in (message or "").lower()
        cls: type[ProviderError]
        if status == 429 or (status == 413 and response.retry_after is not None):
            return RateLimitReached(text, self, retry_after=response.retry_after, **fields)
        if status == 404 and _SERVER_PATH.search(path):
            cls = NodeNotFoundError  # type: ignore[assignment]
        elif status == 404 and _ATTACHMENT_PATH.search(path):
            # Nova says which is missing: "Instance ... could not be found."
            missing_server = (message or "").startswith("Instance")
            cls = NodeNotFoundError if missing_server else VolumeNotFoundError  # type: ignore[assignment]
        elif status == 404 and _VOLUME_PATH.search(path):
            cls = VolumeNotFoundError  # type: ignore[assignment]
        elif status == 404 and _KEY_PATH.search(path):
            cls = KeyPairDoesNotExistError  # type: ignore[assignment]
        elif status == 409 and path.endswith("/os-keypairs"):
            cls = KeyPairAlreadyExistsError  # type: ignore[assignment]
        elif status == 409:
            cls = ResourceConflictError
        elif status in (400, 413) or (status == 403 and quota):
            # 413 without Retry-After, or 403 saying so: a quota is used up.
            cls = InvalidRequestError
        elif status == 403:
            cls = PermissionDeniedError
        elif status == 401:
            cls = InvalidCredsError
        else:
            default.message, default.code, default.request_id = text, fields["code"], request_id
            return default
        return cls(text, self, **fields)

    # Requests

    async def _call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """
        Send one request to *service* (``"compute"``, ``"image"`` or
        ``"volume"``) and read
        its JSON answer.  A ``401`` drops the token and the request is sent
        once more with a new one.

        :returns: the answer's object, or ``None`` for an empty answer.
        """
        headers, data = json_parts(body)
        for attempt in range(2):
            token = await self.session.get()
            url = self._service_url(token, service) + path
            request = Request(method, url, headers=headers, params=params, body=data)
            try:
                response = await self.http.send(request)
            except InvalidCredsError as error:
                if error.status != 401 or attempt:
                    raise
                self.log.info("{driver}: the token was refused; fetching another", driver=self.name)
                self.session.invalidate(token)
                continue
            if not (await response.content()).strip():
                return None
            return await response.json_object(f"the answer to {method} {path} is not a JSON object")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_object(self, service: str, path: str, key: str) -> dict[str, Any]:
        """``GET path`` and the object under *key* of its answer."""
        document = await self._call("GET", service, path)
        return self._object(document, key, f"GET {path}")

    def _object(self, document: dict[str, Any] | None, key: str, what: str) -> dict[str, Any]:
        value = document.get(key) if document is not None else None
        if not isinstance(value, dict):
            raise MalformedResponseError(f"the answer to {what} has no {key!r} object", self)
        return value

    async def _items(
        self, service: str, path: str, key: str, params: Params | None = None
    ) -> AsyncIterator[Any]:
        """
        The items of the list *key* of every page of ``GET path``, following
        the next-page marker.  Only the marker is taken from the link: pages
        are asked of the catalog's endpoint, so the token never goes to a
        host an answer names.
        """
        query = dict(params or {})
        if self.ex_page_size is not None:
            query["limit"] = str(self.ex_page_size)
        seen: set[str] = set()
        while True:
            document = await self._call("GET", service, path, params=query)
            items = document.get(key) if document is not None else None
            if not isinstance(items, list):
                raise MalformedResponseError(f"the answer to GET {path} has no {key!r} list", self)
            for item in items:
                yield item
            marker = _next_marker(document or {}, key)
            if marker is None or not items:
                return
            if marker in seen:
                raise MalformedResponseError(f"GET {path} pages back to marker {marker!r}", self)
            seen.add(marker)
            query = dict(query, marker=marker)

    async def _parsed(
        self,
        service: str,
        path: str,
        key: str,
        params: Params,
        parse: Callable[[Any, Any], _T],
    ) -> AsyncIterator[_T]:
        async for item in self._items(service, path, key, params):
            yield parse(item, self)
