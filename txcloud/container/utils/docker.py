"""
Look images up before deploying them anywhere: :class:`HubClient` speaks
Docker Hub's repository and tag API, :class:`RegistryClient` any registry
speaking the Distribution (v2) API: a catalog, tags and manifest digests,
behind a bearer-token challenge, HTTP basic authentication, or nothing.

Images found here belong to no driver (``driver`` is ``None``); their
``path`` is a reference a container driver's ``install_image`` or
``deploy_container`` takes::

    image = await RegistryClient("registry.example.com").get_image("team/web", "2.1")
    await docker.install_image(image.path)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from twisted.internet.defer import Deferred

from txcloud.common.base import DEFAULT_TIMEOUT
from txcloud.common.http_driver import HTTPDriver
from txcloud.common.paging import collect
from txcloud.container.base import ContainerImage
from txcloud.container.drivers.docker.parse import parse_reference
from txcloud.errors import (
    ContainerImageNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    MalformedResponseError,
    ProviderError,
    TxCloudError,
)
from txcloud.http import ErrorResponse, Request, Response, RetryPolicy, default_error_mapper

__all__ = ["MANIFEST_TYPES", "HubClient", "RegistryClient"]

#: The manifest media types asked for: Docker's image manifest and manifest
#: list, and their OCI equivalents.
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
#: Docker Hub's API host.
HUB_HOST = "hub.docker.com"
#: The namespace of Docker Hub's official images.
OFFICIAL_NAMESPACE = "library"
#: Seconds a Hub access token is used for (Docker says it lasts 10 minutes).
HUB_TOKEN_LIFETIME = 540.0
#: Seconds a registry token lasts when the token server does not say (the spec's default).
DEFAULT_TOKEN_LIFETIME = 60.0

# Registry images found here belong to no container driver.
_NO_DRIVER: Any = None
_HUB_NAME = re.compile(r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*\Z")
_AUTH_PARAM = re.compile(r'([A-Za-z][\w-]*)=("(?:[^"\\]|\\.)*"|[^,\s]*)')
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _page_size(value: object, most: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= most:
        raise InvalidArgumentError(f"ex_page_size must be an integer in 1..{most}, not {value!r}")
    return value


def _same_origin(base: str, link: str, what: str) -> str:
    """*link* resolved against *base*, refused if it leaves *base*'s server."""
    url = urljoin(base + "/", link)
    if urlsplit(url)[:2] != urlsplit(base)[:2]:
        raise MalformedResponseError(f"{what} points to another server: refused")
    return url


def _check_login(username: str | None, password: str | None) -> None:
    """Refuse a username without a password, or the other way round."""
    if (username is None) != (password is None):
        raise InvalidArgumentError("give both username and password, or neither")


class HubClient(HTTPDriver):
    """
    Docker Hub's repositories and tags.

    :param username: a Docker Hub user name, with *password*, to see private
        repositories; anonymous when ``None``.
    :param password: the password or personal access token.
    :param host: another Hub API host (a test fake); ``hub.docker.com`` by default.
    :param port: its port.
    :param secure: HTTPS (the default) or HTTP.
    :param reactor: the reactor; the global one when ``None``.

    Also takes :class:`~txcloud.common.http_driver.HTTPDriver`'s ``timeout``
    and ``ex_`` arguments.
    """

    name = "Docker Hub"
    website = "https://hub.docker.com/"

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        secure: bool = True,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_ca_file: str | None = None,
        ex_verify_tls: bool = True,
        ex_proxy: str | None = None,
        ex_retry: RetryPolicy | None = None,
        ex_pool: Any = None,
        ex_agent: Any = None,
    ) -> None:
        _check_login(username, password)
        super().__init__(
            username,
            password,
            secure,
            host,
            port,
            reactor=reactor,
            timeout=timeout,
            ex_ca_file=ex_ca_file,
            ex_verify_tls=ex_verify_tls,
            ex_proxy=ex_proxy,
            ex_retry=ex_retry,
            ex_pool=ex_pool,
            ex_agent=ex_agent,
        )
        self._token: tuple[str, float] | None = None

    def _default_host(self) -> str:
        return HUB_HOST

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        # The token request itself goes out unsigned.
        if self.key is None or request.url == self.endpoint + "/v2/auth/token":
            return request
        return Deferred.fromCoroutine(self._with_token(request))

    async def _with_token(self, request: Request) -> Request:
        return request.with_headers({"Authorization": f"Bearer {await self._access_token()}"})

    async def _access_token(self) -> str:
        if self._token is not None and self._token[1] > self.reactor.seconds():
            return self._token[0]
        body = json.dumps({"identifier": self.key, "secret": self._secret}).encode()
        request = Request(
            "POST",
            self.endpoint + "/v2/auth/token",
            headers={"Content-Type": "application/json"},
            body=body,
        )
        response = await self.http.send(request)
        document = await response.json_object("Docker Hub's token is not a JSON object")
        token = document.get("access_token")
        if not isinstance(token, str) or not token:
            raise MalformedResponseError("Docker Hub answered without an access token", self)
        self._token = (token, self.reactor.seconds() + HUB_TOKEN_LIFETIME)
        return token

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        error = default_error_mapper(response)
        if response.status == 404:
            return ContainerImageNotFoundError(
                error.message, response.driver, status=404, code=error.code
            )
        return error

    @staticmethod
    def _repository(name: str, namespace: str | None) -> tuple[str, str]:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"a repository name must be text, not {name!r}")
        owner, _, repository = name.rpartition("/")
        if owner and namespace is not None and owner != namespace:
            raise InvalidArgumentError(f"{name!r} is not in namespace {namespace!r}")
        owner = owner or namespace or OFFICIAL_NAMESPACE
        for part in (owner, repository):
            if not _HUB_NAME.match(part):
                raise InvalidArgumentError(f"not a Docker Hub repository: {name!r}")
        return owner, repository

    def _url(self, namespace: str, repository: str, *rest: str) -> str:
        parts = ["v2", "namespaces", namespace, "repositories", repository, *rest]
        return self.endpoint + "/" + "/".join(quote(p, safe="") for p in parts)

    def _to_image(self, namespace: str, repository: str, tag: object) -> ContainerImage:
        if not isinstance(tag, Mapping) or not isinstance(tag.get("name"), str):
            raise MalformedResponseError("Docker Hub described a tag without a name", self)
        name = repository if namespace == OFFICIAL_NAMESPACE else f"{namespace}/{repository}"
        path = f"{name}:{tag['name']}"
        return ContainerImage(
            id=tag.get("digest") or str(tag.get("id")),
            name=path,
            path=path,
            version=tag["name"],
            driver=_NO_DRIVER,
            extra={
                "full_size": tag.get("full_size"),
                "digest": tag.get("digest"),
                "last_updated": tag.get("last_updated"),
                "tag_status": tag.get("tag_status"),
                "images": tag.get("images") or [],
            },
        )

    def get_repository(self, name: str, namespace: str | None = None) -> Deferred[dict[str, Any]]:
        """
        A repository's description.

        :param name: ``"ubuntu"`` (an official image) or ``"bitnami/redis"``.
        :param namespace: the namespace, if *name* does not say it.
        :returns: a Deferred firing with Docker Hub's document (``name``,
            ``namespace``, ``description``, ``star_count``, ``pull_count``,
            ``last_updated``...), or failing with
            :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        url = self._url(*self._repository(name, namespace))
        return Deferred.fromCoroutine(self._get(url, f"repository {name}"))

    async def _get(self, url: str, what: str) -> dict[str, Any]:
        response = await self.http.send(Request("GET", url))
        return await response.json_object(f"Docker Hub's {what} is not a JSON object")

    async def _tag_documents(
        self, namespace: str, repository: str, page_size: int, most: int | None
    ) -> AsyncIterator[Mapping[str, Any]]:
        url: str | None = self._url(namespace, repository, "tags") + f"?page_size={page_size}"
        seen = 0
        while url is not None:
            page = await self._get(url, f"tags of {namespace}/{repository}")
            results = page.get("results")
            if not isinstance(results, list):
                raise MalformedResponseError("Docker Hub listed tags without results", self)
            for tag in results:
                if most is not None and seen >= most:
                    return
                seen += 1
                yield tag
            following = page.get("next")
            if following is not None and not isinstance(following, str):
                raise MalformedResponseError("Docker Hub gave a bad next page", self)
            url = (
                _same_origin(self.endpoint, following, "Docker Hub's next page")
                if following
                else None
            )

    def get_tags(
        self, name: str, namespace: str | None = None, ex_page_size: int = 100
    ) -> Deferred[list[str]]:
        """
        Every tag of a repository (following the pages).

        :param ex_page_size: tags per request (1..100).
        :returns: a Deferred firing with the tag names, newest first.
        """
        owner, repository = self._repository(name, namespace)
        size = _page_size(ex_page_size, 100) or 100
        return Deferred.fromCoroutine(self._tag_names(owner, repository, size))

    async def _tag_names(self, namespace: str, repository: str, page_size: int) -> list[str]:
        tags = _images(
            self, namespace, repository, self._tag_documents(namespace, repository, page_size, None)
        )
        return [str(image.version) async for image in tags]

    def list_images(
        self, repository_name: str, namespace: str = OFFICIAL_NAMESPACE, max_count: int = 100
    ) -> Deferred[list[ContainerImage]]:
        """
        The images (tags) of a repository, as Libcloud's ``HubClient`` lists them.

        :param max_count: the most images to return.
        :returns: a Deferred firing with a list of :class:`ContainerImage`.
        """
        owner, repository = self._repository(repository_name, namespace)
        most = _page_size(max_count, 10**6) or 100
        tags = self._tag_documents(owner, repository, min(most, 100), most)
        return collect(_images(self, owner, repository, tags))

    def get_image(
        self, repository: str, tag: str = "latest", namespace: str | None = None
    ) -> Deferred[ContainerImage]:
        """
        One tag of a repository, as an image.

        :param repository: ``"ubuntu"`` or ``"bitnami/redis"``.
        :param tag: the tag.
        :returns: a Deferred firing with a :class:`ContainerImage` (``path``
            ``"ubuntu:24.04"``, ``id`` the tag's digest, ``extra`` with
            ``full_size``, ``digest``, ``last_updated``, ``images``), or
            failing with :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        owner, name = self._repository(repository, namespace)
        parse_reference(f"{name}:{tag}")
        url = self._url(owner, name, "tags", tag)
        return Deferred.fromCoroutine(self._get(url, f"tag {tag} of {repository}")).addCallback(
            lambda document: self._to_image(owner, name, document)
        )


async def _images(
    hub: HubClient, namespace: str, repository: str, tags: AsyncIterator[Mapping[str, Any]]
) -> AsyncIterator[ContainerImage]:
    async for tag in tags:
        yield hub._to_image(namespace, repository, tag)


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """The scheme and parameters of a ``WWW-Authenticate`` header."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for key, value in _AUTH_PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return scheme.lower(), params


class RegistryClient(HTTPDriver):
    """
    A registry speaking the Distribution (v2) API.

    :param host: the registry: ``"registry.example.com"``,
        ``"127.0.0.1:5000"``, or with a scheme (``"http://127.0.0.1:5000"``).
    :param username: the user name, for registries that authenticate (by
        basic authentication, or for their token server).
    :param password: its password.
    :param port: the port, if *host* does not say it.
    :param secure: HTTPS (the default) unless *host* says ``http://``.
    :param reactor: the reactor; the global one when ``None``.

    Also takes :class:`~txcloud.common.http_driver.HTTPDriver`'s ``timeout``
    and ``ex_`` arguments.
    """

    name = "Docker Registry"

    def __init__(
        self,
        host: str,
        username: str | None = None,
        password: str | None = None,
        *,
        port: int | None = None,
        secure: bool = True,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_ca_file: str | None = None,
        ex_verify_tls: bool = True,
        ex_proxy: str | None = None,
        ex_retry: RetryPolicy | None = None,
        ex_pool: Any = None,
        ex_agent: Any = None,
    ) -> None:
        _check_login(username, password)
        if not isinstance(host, str) or not host:
            raise InvalidArgumentError(f"host must name a registry, not {host!r}")
        parts = urlsplit(host if "://" in host else "//" + host)
        try:
            port = parts.port if port is None else port
        except ValueError:
            raise InvalidArgumentError(f"invalid registry host {host!r}") from None
        if parts.scheme not in ("", "http", "https") or not parts.hostname:
            raise InvalidArgumentError(f"invalid registry host {host!r}")
        if parts.path not in ("", "/") or "@" in parts.netloc:
            raise InvalidArgumentError(f"invalid registry host {host!r}")
        secure = parts.scheme == "https" or (secure and parts.scheme != "http")
        super().__init__(
            username,
            password,
            secure,
            parts.hostname,
            port,
            reactor=reactor,
            timeout=timeout,
            ex_ca_file=ex_ca_file,
            ex_verify_tls=ex_verify_tls,
            ex_proxy=ex_proxy,
            ex_retry=ex_retry,
            ex_pool=ex_pool,
            ex_agent=ex_agent,
        )
        self._tokens: dict[str, tuple[str, float]] = {}
        self._basic = False

    @property
    def registry(self) -> str:
        """The registry as image references name it (``"127.0.0.1:5000"``)."""
        return self.endpoint.partition("://")[2]

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        # Errors come as {"errors": [{"code": "MANIFEST_UNKNOWN", "message": ...}]}.
        code = message = None
        try:
            first = json.loads(response.body)["errors"][0]
            code, message = str(first["code"]), str(first.get("message") or "")
        except (ValueError, KeyError, IndexError, TypeError):
            pass
        if response.status == 404 or code in ("NAME_UNKNOWN", "MANIFEST_UNKNOWN"):
            text = response.describe(message)
            return ContainerImageNotFoundError(text, response.driver, status=404, code=code)
        error = default_error_mapper(response)
        if code is not None:
            error.code = code
            error.message += f": {message}" if message else ""
        return error

    def _basic_header(self) -> dict[str, str]:
        pair = f"{self.key}:{self._secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def _credentials(self, scope: str) -> dict[str, str]:
        token = self._tokens.get(scope)
        if token is not None and token[1] > self.reactor.seconds():
            return {"Authorization": f"Bearer {token[0]}"}
        if self._basic:
            return self._basic_header()
        return {}

    async def _send_authorized(
        self, method: str, url: str, scope: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send a request, answering the registry's authentication challenge once."""
        request = Request(method, url, headers=headers, ok_statuses={401})
        for attempt in (1, 2):
            response = await self.http.send(request.with_headers(self._credentials(scope)))
            if response.status != 401:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            await response.content()
            if attempt == 2 or not challenge:
                break
            await self._answer(challenge, scope)
        raise InvalidCredsError(
            f"the registry at {self.registry} refused "
            + ("the credentials" if self.key else "anonymous access"),
            self,
            status=401,
        )

    async def _answer(self, challenge: str, scope: str) -> None:
        scheme, params = _challenge(challenge)
        if scheme == "basic":
            if self.key is None:
                raise InvalidCredsError(f"the registry at {self.registry} needs a username", self)
            self._basic = True
        elif scheme == "bearer" and params.get("realm"):
            self._tokens[scope] = await self._fetch_token(params, scope)
        else:
            raise MalformedResponseError(f"unusable authentication challenge: {scheme}", self)

    async def _fetch_token(self, params: Mapping[str, str], scope: str) -> tuple[str, float]:
        realm = params["realm"]
        if urlsplit(realm).scheme != "https" and (self.secure or urlsplit(realm).scheme != "http"):
            # Credentials (and tokens) go only where TLS protects them,
            # or in the clear to a plain-HTTP registry's own token server.
            raise MalformedResponseError(f"refused token server {realm!r}: not HTTPS", self)
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        if self.key is not None:
            query["account"] = self.key
        headers = self._basic_header() if self.key is not None else {}
        request = Request("GET", realm, headers=headers, params=query)
        try:
            response = await self.http.send(request)
            document = await response.json_object("the registry's token is not a JSON object")
        except ProviderError as e:
            if e.status in (401, 403):
                raise InvalidCredsError(
                    f"the token server for {self.registry} refused the credentials",
                    self,
                    status=e.status,
                ) from None
            raise
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise MalformedResponseError("the token server answered without a token", self)
        lifetime = document.get("expires_in")
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, self.reactor.seconds() + lifetime

    async def _pages(self, path: str, key: str, scope: str, page_size: int | None) -> list[str]:
        url: str | None = self.endpoint + path + (f"?n={page_size}" if page_size else "")
        found: list[str] = []
        while url is not None:
            response = await self._send_authorized("GET", url, scope)
            document = await response.json_object(f"the registry's {key} is not a JSON object")
            items = document.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise MalformedResponseError(f"the registry listed {key} as a non-list", self)
            found.extend(items)
            link = _NEXT_LINK.search(response.headers.get("Link", ""))
            url = _same_origin(self.endpoint, link.group(1), "the next page") if link else None
        return found

    @staticmethod
    def _repository(name: str) -> str:
        reference = parse_reference(name)
        if str(reference) != name or reference.tag or reference.digest:
            raise InvalidArgumentError(f"not a repository name: {name!r}")
        return name

    def get_catalog(self, ex_page_size: int | None = None) -> Deferred[list[str]]:
        """
        The registry's repositories (following ``Link`` pages).

        :param ex_page_size: repositories per request; the registry's choice
            when ``None``.
        :returns: a Deferred firing with the repository names.
        """
        size = _page_size(ex_page_size, 10**5)
        return Deferred.fromCoroutine(
            self._pages("/v2/_catalog", "repositories", "registry:catalog:*", size)
        )

    def get_tags(self, name: str, ex_page_size: int | None = None) -> Deferred[list[str]]:
        """
        A repository's tags (following ``Link`` pages).

        :param name: the repository (``"team/web"``).
        :returns: a Deferred firing with the tag names, or failing with
            :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        path = f"/v2/{self._repository(name)}/tags/list"
        size = _page_size(ex_page_size, 10**5)
        return Deferred.fromCoroutine(self._pages(path, "tags", f"repository:{name}:pull", size))

    def get_manifest_digest(self, name: str, tag: str = "latest") -> Deferred[str]:
        """
        The digest of the manifest a tag points at (what ``name@digest`` pins).

        :param name: the repository.
        :param tag: the tag (or a digest).
        :returns: a Deferred firing with ``"sha256:..."``, from the
            ``Docker-Content-Digest`` header (or the manifest's own hash), or
            failing with :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        url = self._manifest_url(name, tag)
        return Deferred.fromCoroutine(self._manifest(name, url)).addCallback(lambda m: m[0])

    def _manifest_url(self, name: str, tag: str) -> str:
        pinned = isinstance(tag, str) and ":" in tag
        reference = parse_reference(f"{self._repository(name)}{'@' if pinned else ':'}{tag}")
        return f"{self.endpoint}/v2/{name}/manifests/{quote(reference.pull_tag, safe=':')}"

    async def _manifest(self, name: str, url: str) -> tuple[str, str | None]:
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        scope = f"repository:{name}:pull"
        for method in ("HEAD", "GET"):
            response = await self._send_authorized(method, url, scope, headers)
            body = await response.content()
            digest = response.headers.get("Docker-Content-Digest")
            kind = response.headers.get("Content-Type")
            if digest:
                return digest, kind
            if method == "GET":
                return "sha256:" + hashlib.sha256(body).hexdigest(), kind
        raise AssertionError("unreachable")

    def get_image(self, name: str, tag: str = "latest") -> Deferred[ContainerImage]:
        """
        One tag of a repository, as an image to install.

        :returns: a Deferred firing with a :class:`ContainerImage` whose
            ``path`` is ``"REGISTRY/NAME:TAG"`` and ``id`` the manifest
            digest (``extra``: ``digest``, ``registry``, ``repository``,
            ``media_type``), or failing with
            :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        url = self._manifest_url(name, tag)
        return Deferred.fromCoroutine(self._get_image(name, tag, url))

    async def _get_image(self, name: str, tag: str, url: str) -> ContainerImage:
        digest, media_type = await self._manifest(name, url)
        path = f"{self.registry}/{name}:{tag}"
        return ContainerImage(
            id=digest,
            name=path,
            path=path,
            version=tag,
            driver=_NO_DRIVER,
            extra={
                "digest": digest,
                "registry": self.registry,
                "repository": name,
                "media_type": media_type,
            },
        )
