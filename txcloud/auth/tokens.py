"""
OAuth2 bearer tokens, whatever the cloud: the contract of a source of
tokens, a base for sources that fetch them over HTTP and refresh them with
:mod:`txcloud.auth.refresh`, and
reading a token endpoint's JSON answer.

Google's metadata server and ``authorized_user`` files
(:mod:`txcloud.auth.google`) and Azure AD's endpoints and managed identity
(:mod:`txcloud.auth.azure`) are built on it.  Tokens never appear in a
``repr``, a log line or an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlencode

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from txcloud.auth.refresh import (
    DEFAULT_ADVISORY_WINDOW,
    DEFAULT_MANDATORY_WINDOW,
    Expiring,
    Refreshing,
)
from txcloud.auth.sources import one_shot_transport
from txcloud.errors import InvalidCredsError, TxCloudError
from txcloud.http import HTTPTransport, Request

__all__ = [
    "RefreshingTokens",
    "TokenSource",
    "bearer_authorized",
    "form_request",
    "token_from_document",
]

_S = TypeVar("_S")


@runtime_checkable
class TokenSource(Protocol):
    """Where a driver gets the bearer tokens it sends."""

    def token(self) -> Deferred[str]:
        """
        A valid access token, fetched or refreshed first if need be.

        :returns: a Deferred firing with the token, or failing with
            :class:`~txcloud.errors.InvalidCredsError` naming the source.
        """

    def invalidate(self) -> None:
        """Forget the cached token (the service refused it)."""


def bearer_authorized(tokens: TokenSource, request: Request) -> Deferred[Request]:
    """
    *request* with ``Authorization: Bearer`` and a current token of *tokens*.

    :returns: a Deferred firing with the new request, or failing as
        :meth:`TokenSource.token` does.
    """
    return tokens.token().addCallback(
        lambda token: request.with_headers({"Authorization": f"Bearer {token}"})
    )


def form_request(url: str, fields: Mapping[str, str]) -> Request:
    """
    A ``POST`` of *fields* as a form to a token endpoint; marked safe to
    retry, as asking for a token again is harmless.
    """
    return Request(
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode("ascii"),
        idempotent=True,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, str) and value.strip().isdigit():
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def token_from_document(document: Any, what: str, now: float) -> Expiring[str]:
    """
    The token of a token endpoint's JSON answer: ``access_token`` with
    ``expires_in`` (seconds from *now*) or ``expires_on`` (POSIX seconds),
    either a number or a string of digits.

    :param what: the source, named in errors (which never quote the answer).
    :raises InvalidCredsError: when the answer holds no token or no lifetime.
    """
    value = document.get("access_token") if isinstance(document, Mapping) else None
    if not isinstance(value, str) or not value:
        raise InvalidCredsError(f"{what} answered without an access_token")
    lifetime = _number(document.get("expires_in"))
    if lifetime is not None and lifetime > 0:
        return Expiring(value, now + lifetime)
    expires_on = _number(document.get("expires_on"))
    if expires_on is not None:
        return Expiring(value, expires_on)
    raise InvalidCredsError(f"{what} answered without a valid expires_in")


class RefreshingTokens:
    """
    Base of token sources that fetch tokens over HTTP.

    A subclass sets :attr:`description` and gives :meth:`_fetch` (one
    request for a new token, raising typed errors without secrets).
    :meth:`token` hands out the cached token and fetches the next one before
    it expires, one fetch in flight (see :class:`~txcloud.auth.refresh.Refreshing`);
    a failure becomes :class:`~txcloud.errors.InvalidCredsError` naming the
    source.

    :param reactor: the reactor: its clock decides when to refresh.
    :param agent: an ``IAgent`` to send through instead of the network (tests).
    :param environ: where the proxy variables are read, when the source is
        made; :data:`os.environ` when ``None``.
    :param timeout: seconds per request.
    :param attempts: tries per request.
    :param advisory_window: seconds before expiry from which tokens are
        refreshed in the background.
    :param mandatory_window: seconds before expiry from which callers wait
        for a new token.
    """

    #: Where the tokens come from, for messages (never a secret).
    description = "an OAuth2 token endpoint"
    log = Logger()

    def __init__(
        self,
        reactor: Any = None,
        *,
        agent: Any = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self._agent = agent
        # Proxies are those of when the source is made, as for drivers.
        self._environ = dict(os.environ if environ is None else environ)
        self._timeout = timeout
        self._attempts = attempts
        self._transport: HTTPTransport | None = None
        self._windows = (advisory_window, mandatory_window)
        self._cache: Refreshing[str] | None = None
        self._looked_first: str | None = None

    def last_resort(self, looked_first: str) -> RefreshingTokens:
        """
        Mark this source as the last one a chain tried: its failures then
        say no credentials were found, naming *looked_first* (the places
        tried before) too.

        :returns: the source itself.
        """
        self._looked_first = looked_first
        return self

    @property
    def transport(self) -> HTTPTransport:
        """The transport token requests go through."""
        if self._transport is None:
            self._transport = one_shot_transport(
                self.reactor,
                self.description,
                timeout=self._timeout,
                attempts=self._attempts,
                agent=self._agent,
                environ=self._environ,
            )
        return self._transport

    @property
    def _tokens(self) -> Refreshing[str]:
        if self._cache is None:
            advisory, mandatory = self._windows
            self._cache = Refreshing(
                self._checked_fetch,
                self.reactor,
                description=f"the access token from {self.description}",
                advisory_window=advisory,
                mandatory_window=mandatory,
            )
        return self._cache

    def token(self) -> Deferred[str]:
        """
        A valid access token.

        :returns: a Deferred firing with the token, or failing with
            :class:`~txcloud.errors.InvalidCredsError` naming the source.
        """
        return self._tokens.get()

    def invalidate(self) -> None:
        """Forget the cached token: the next :meth:`token` fetches one."""
        self._tokens.invalidate()

    async def _checked_fetch(self) -> Expiring[str]:
        try:
            try:
                token = await self._fetch()
            except TxCloudError as error:
                if isinstance(error, InvalidCredsError) and error.status is None:
                    raise  # Raised here, naming the source already.
                raise InvalidCredsError(
                    f"no access token from {self.description}: {error}", status=error.status
                ) from None
        except InvalidCredsError as error:
            if self._looked_first is None:
                raise
            raise InvalidCredsError(
                f"no credentials found: looked at {self._looked_first} and "
                f"{self.description}, which failed: {error.message}",
                status=error.status,
            ) from None
        self.log.info(
            "Fetched an access token from {source}, valid until {expires_at}",
            source=self.description,
            expires_at=token.expires_at,
        )
        return token

    async def _fetch(self) -> Expiring[str]:
        raise NotImplementedError

    async def _send(self, request: Request) -> Expiring[str]:
        """Send *request* and read the token from its JSON answer."""
        sent_at = self.reactor.seconds()
        response = await self.transport.send(request)
        return token_from_document(await response.json(), self.description, sent_at)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"
