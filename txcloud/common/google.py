"""
What the Google Cloud drivers share (Cloud Storage's JSON API, Compute
Engine): where their access tokens come from (a service account key given
to the driver, Application Default Credentials, a source given by the
caller, or none for an emulator), signing requests with them, and dropping
a token the service refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, succeed

from txcloud.auth.google.adc import GoogleCredentials, application_default_credentials
from txcloud.auth.google.service_account import (
    ServiceAccountKey,
    ServiceAccountTokens,
    load_service_account_key,
    token_error_mapper,
)
from txcloud.auth.tokens import TokenSource
from txcloud.common.http_driver import HTTPDriver
from txcloud.http import Request

__all__ = ["GoogleAuth"]

#: A service account key as drivers take it: a path, JSON text or the parsed dict.
KeySource = str | os.PathLike[str] | Mapping[str, Any]


class GoogleAuth:
    """
    The credentials of one Google driver.

    :param driver: the :class:`~txcloud.common.http_driver.HTTPDriver`; a
        service account key given to it gets its token requests sent through
        a transport of the driver's settings (its ``_new_transport``).
    :param scopes: the OAuth2 scopes tokens are asked for.
    :param key: a service account key (see
        :func:`~txcloud.auth.google.service_account.load_service_account_key`).
    :param client_email: the account's address, for a bare PEM *key*.
    :param credentials: a :class:`~txcloud.auth.google.adc.GoogleCredentials`
        or a :class:`~txcloud.auth.tokens.TokenSource` to use instead.
    :param use_adc: with neither *key* nor *credentials*, find Application
        Default Credentials in *environ*; else send no credentials.
    :param environ: the environment ADC is read from.
    :raises InvalidArgumentError: for a key that cannot be read.
    :raises InvalidCredsError: for ADC files that cannot be used.
    """

    def __init__(
        self,
        driver: HTTPDriver,
        scopes: Sequence[str],
        *,
        key: KeySource | None = None,
        client_email: str | None = None,
        credentials: GoogleCredentials | TokenSource | None = None,
        use_adc: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._driver = driver
        self.scopes = tuple(scopes)
        self.account: ServiceAccountKey | None = None
        self.credentials: GoogleCredentials | None = None
        self._source: TokenSource | None = None
        if credentials is not None:
            if isinstance(credentials, GoogleCredentials):
                self.credentials = credentials
            else:
                self._source = credentials
        elif key is not None:
            self.account = load_service_account_key(key, client_email=client_email)
        elif use_adc:
            self.credentials = application_default_credentials(
                self.scopes, environ=environ, reactor=driver.reactor
            )
        if self.credentials is not None:
            self._source = self.credentials.tokens

    @property
    def project(self) -> str | None:
        """The project the key or the credentials name, if any (no request made)."""
        if self.account is not None:
            return self.account.project_id
        return self.credentials.project if self.credentials is not None else None

    def project_id(self) -> Deferred[str | None]:
        """
        The credentials' project, asking the metadata server when the tokens
        come from it.

        :returns: a Deferred firing with the project id or ``None``.
        """
        if self.credentials is not None:
            return self.credentials.project_id()
        return succeed(self.project)

    @property
    def tokens(self) -> TokenSource | None:
        """Where access tokens come from; ``None`` when no credentials are sent."""
        if self._source is None and self.account is not None:
            # Its own transport: the token exchange itself is not signed.
            transport = self._driver._new_transport(None, token_error_mapper)
            self._source = ServiceAccountTokens(
                self.account, transport, self._driver.reactor, self.scopes
            )
        return self._source

    def sign(self, request: Request) -> Request | Deferred[Request]:
        """*request* with ``Authorization: Bearer <token>`` (unchanged without credentials)."""
        tokens = self.tokens
        if tokens is None:
            return request
        return tokens.token().addCallback(
            lambda token: request.with_headers({"Authorization": f"Bearer {token}"})
        )

    def refused(self, status: int) -> None:
        """Note an error answer: after a 401 (a revoked token) the next request fetches another."""
        if status == 401 and self._source is not None:
            self._source.invalidate()

    def describe(self) -> str:
        """The account or where the credentials were found, for a ``repr`` (never a secret)."""
        if self.account is not None:
            return f" account={self.account.client_email!r}"
        if self.credentials is not None:
            return f" credentials={self.credentials.description!r}"
        return ""

    def close(self) -> Deferred[None]:
        """Close the token source of a key given to the driver (shared sources stay open)."""
        if self.account is None or not isinstance(self._source, ServiceAccountTokens):
            return succeed(None)
        tokens, self._source = self._source, None
        return tokens.close()
