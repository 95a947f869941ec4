"""
Credentials that change while a driver lives: the
:class:`CredentialSource` contract, the :class:`KubernetesCredentials` a
source gives, and :class:`TokenFile`, a bearer token file read again as it
rotates (a service account's projected token, a kubeconfig's
``tokenFile``).

A driver asks its source before every request, and tells it when the API
server answers ``401`` (:meth:`CredentialSource.rejected`): the next
:meth:`~CredentialSource.get` then fetches fresh credentials, and the
driver sends the refused request once more if they differ.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from txcloud.container.drivers.kubernetes.config import KubernetesCredentialsError

__all__ = [
    "TOKEN_FILE_REFRESH",
    "CredentialSource",
    "KubernetesCredentials",
    "TokenFile",
    "check_token",
]

#: Seconds a token read from a file is used before the file is read again (client-go's).
TOKEN_FILE_REFRESH = 60.0


@attrs.frozen
class KubernetesCredentials:
    """
    What a request authenticates with; nothing of it shows in its ``repr``.

    :ivar token: a bearer token.
    :ivar client_cert: a PEM client certificate (with *client_key*).
    :ivar client_key: its PEM private key.
    :ivar expires: when they expire, in seconds since the epoch, if known.
    """

    token: str | None = attrs.field(default=None, repr=False)
    client_cert: bytes | None = attrs.field(default=None, repr=False)
    client_key: bytes | None = attrs.field(default=None, repr=False)
    expires: float | None = None


@runtime_checkable
class CredentialSource(Protocol):
    """Where a Kubernetes driver gets credentials that may change."""

    def get(self) -> Deferred[KubernetesCredentials]:
        """
        The current credentials, fetched again once they expire; one fetch
        at a time, shared by every caller.

        :returns: a Deferred firing with :class:`KubernetesCredentials`, or
            failing with
            :class:`~txcloud.container.drivers.kubernetes.config.KubernetesCredentialsError`.
        """

    def rejected(self, credentials: KubernetesCredentials) -> None:
        """The API server refused *credentials* (``401``): fetch new ones on the next get."""


def check_token(value: object, where: str) -> str:
    """
    *value*, if it can be sent as a bearer token.

    :param where: what the token comes from, for the error (never the token).
    :raises KubernetesCredentialsError: for anything but printable
        characters without whitespace.
    """
    # Whitespace or control characters would break (or inject into) the header.
    if (
        not isinstance(value, str)
        or not value
        or not all(c.isprintable() and not c.isspace() for c in value)
    ):
        raise KubernetesCredentialsError(
            "does not hold a token (printable characters without whitespace)", source=where
        )
    return value


class TokenFile:
    """
    A bearer token kept in a file that is rewritten as the token rotates
    (kubelet rewrites a pod's projected service account token before it
    expires).  The file is read when the source is made, again once
    *refresh* seconds have passed since the last read, and again at once
    after a ``401``.  A file that cannot be read again keeps the last token
    (logged), as kubectl does.

    :param path: the token file.
    :param reactor: the clock; the global reactor when ``None``.
    :param refresh: seconds between reads.
    :raises KubernetesCredentialsError: if the file cannot be read now or
        holds no token.
    """

    log = Logger()

    def __init__(self, path: str, reactor: Any = None, refresh: float = TOKEN_FILE_REFRESH) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.path = path
        self._reactor = reactor
        self._refresh = refresh
        self._credentials = self._read()
        self._read_at = reactor.seconds()

    def _read(self) -> KubernetesCredentials:
        try:
            with open(self.path, encoding="utf-8") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as e:
            problem = e.strerror if isinstance(e, OSError) else "is not UTF-8 text"
            raise KubernetesCredentialsError(
                f"cannot be read: {problem}", source=self.path
            ) from None
        return KubernetesCredentials(token=check_token(token, self.path))

    def get(self) -> Deferred[KubernetesCredentials]:
        """See :meth:`CredentialSource.get`."""
        now = self._reactor.seconds()
        if now - self._read_at >= self._refresh:
            try:
                self._credentials = self._read()
            except KubernetesCredentialsError as e:
                self.log.warn("Keeping the last bearer token: {error}", error=str(e))
            self._read_at = now
        return succeed(self._credentials)

    def rejected(self, credentials: KubernetesCredentials) -> None:
        """See :meth:`CredentialSource.rejected`."""
        if credentials == self._credentials:
            self._read_at = -math.inf

    def __repr__(self) -> str:
        return f"<TokenFile {self.path!r}>"
