"""
Which HTTP proxy a request goes through: proxy URLs, the ``HTTP_PROXY``,
``HTTPS_PROXY`` and ``NO_PROXY`` environment variables, and a driver's
``ex_proxy`` argument.

A proxy URL is ``http://[user:password@]host[:port]`` (the scheme may be
left out; the port is 80 by default).  Its user name and password are
percent-decoded and sent as ``Proxy-Authorization: Basic``; they never
appear in a repr, a log or an error message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import attrs

from txcloud.errors import InvalidArgumentError
from txcloud.http.no_proxy import NEVER_PROXIED, NoProxy, parse_no_proxy
from txcloud.http.redact import redact_url

__all__ = ["ProxySettings", "ProxyURL", "parse_proxy_url", "proxy_settings"]

# Routes a settings object remembers (S3 virtual-host buckets make one host each).
_MAX_ROUTES = 256


@attrs.frozen
class ProxyURL:
    """
    An HTTP proxy.

    :ivar host: its host name or IP address (without brackets).
    :ivar port: its port.
    :ivar username: the user name to authenticate with, if any.
    :ivar password: its password (never shown).
    """

    host: str
    port: int
    username: str | None = attrs.field(default=None, repr=False)
    password: str | None = attrs.field(default=None, repr=False)

    @property
    def address(self) -> str:
        """``host:port`` (``[v6]:port``), as errors and logs name the proxy."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def authorization(self) -> str | None:
        """The ``Proxy-Authorization`` header's value, or ``None`` without credentials."""
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def __str__(self) -> str:
        return f"http://{self.address}"


def parse_proxy_url(text: str, what: str = "the proxy URL") -> ProxyURL:
    """
    Read a proxy URL.

    :param text: ``http://[user:password@]host[:port]``; ``host:port`` alone
        means ``http://``.
    :param what: where the URL came from, for error messages (which show it
        without its credentials).
    :raises InvalidArgumentError: for another scheme, no host, a bad port, a
        path, or text that is not a URL.
    """
    if not isinstance(text, str):
        raise InvalidArgumentError(f"{what} must be text, not {type(text).__name__}")
    shown = redact_url(text)
    try:
        parts = urlsplit(text if "://" in text else "http://" + text)
        port = parts.port
    except ValueError:
        raise InvalidArgumentError(f"{what} is not a valid URL: {shown!r}") from None
    if parts.scheme.lower() != "http":
        raise InvalidArgumentError(
            f"{what} must be an http:// proxy URL (the proxy is spoken to in clear, "
            f"https:// targets through a CONNECT tunnel), not {shown!r}"
        )
    if not parts.hostname:
        raise InvalidArgumentError(f"{what} names no host: {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidArgumentError(f"{what} must not have a path or query: {shown!r}")
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return ProxyURL(parts.hostname, 80 if port is None else port, username, password)


@attrs.frozen
class ProxySettings:
    """
    The proxies of one driver.

    :ivar http: the proxy for ``http://`` URLs, or ``None``.
    :ivar https: the proxy for ``https://`` URLs, or ``None``.
    :ivar no_proxy: the hosts reached directly; metadata endpoints
        (:data:`~txcloud.http.no_proxy.NEVER_PROXIED`) always are.
    """

    http: ProxyURL | None = None
    https: ProxyURL | None = None
    no_proxy: NoProxy = attrs.field(factory=NoProxy)
    # Routes are asked for on every request; a driver talks to a few hosts.
    _routes: dict[tuple[str, str, int], ProxyURL | None] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

    def proxy_for(self, scheme: str, host: str, port: int) -> ProxyURL | None:
        """
        The proxy for a URL, or ``None`` to connect directly.

        :param scheme: ``"http"`` or ``"https"``.
        :param host: the URL's host, without brackets.
        :param port: the URL's port.
        """
        key = (scheme, host, port)
        if key not in self._routes:
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            self._routes[key] = self._route(scheme, host, port)
        return self._routes[key]

    def _route(self, scheme: str, host: str, port: int) -> ProxyURL | None:
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        if proxy is None or NEVER_PROXIED.matches(host, port) or self.no_proxy.matches(host, port):
            return None
        return proxy

    @classmethod
    def from_url(cls, url: str, what: str = "ex_proxy") -> ProxySettings:
        """
        One proxy for every URL (but the metadata endpoints).

        :raises InvalidArgumentError: for a bad URL.
        """
        proxy = parse_proxy_url(url, what)
        return cls(http=proxy, https=proxy)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ProxySettings:
        """
        The settings ``http_proxy``, ``https_proxy`` and ``no_proxy`` give,
        or their upper-case forms; the lower-case form wins when both are
        set, even when empty.  ``HTTP_PROXY`` is ignored when
        ``REQUEST_METHOD`` is set: in a CGI script a client's ``Proxy:``
        header sets it.

        :raises InvalidArgumentError: for a bad value, naming its variable.
        """

        def proxy(name: str) -> ProxyURL | None:
            found = _variable(environ, name)
            if found is None or not found[1]:
                return None
            variable, value = found
            if variable == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
                return None
            return parse_proxy_url(value, variable)

        no_proxy = _variable(environ, "no_proxy")
        return cls(
            http=proxy("http_proxy"),
            https=proxy("https_proxy"),
            no_proxy=NoProxy() if no_proxy is None else parse_no_proxy(no_proxy[1], no_proxy[0]),
        )

    @property
    def proxied(self) -> bool:
        """Whether any URL goes through a proxy."""
        return (self.http is not None or self.https is not None) and not self.no_proxy.everything


def _variable(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for variable in (name, name.upper()):
        if variable in environ:
            return variable, environ[variable]
    return None


def proxy_settings(ex_proxy: str | None, environ: Mapping[str, str]) -> ProxySettings | None:
    """
    A driver's proxies, from its ``ex_proxy`` argument.

    :param ex_proxy: ``None`` for the environment's settings, ``""`` for no
        proxy, or a proxy URL for every request.
    :param environ: the environment (``os.environ``).
    :returns: the settings, or ``None`` when every request goes direct.
    :raises InvalidArgumentError: for a bad URL or ``NO_PROXY`` entry.
    """
    if ex_proxy == "":
        return None
    if ex_proxy is None:
        settings = ProxySettings.from_environment(environ)
    else:
        settings = ProxySettings.from_url(ex_proxy)
    return settings if settings.proxied else None
