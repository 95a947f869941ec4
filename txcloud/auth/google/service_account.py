"""
Google OAuth2 for service accounts: a JSON key signs a JWT (RS256, with
``cryptography``), the JWT is exchanged at the key's token URI for an access
token, and :class:`ServiceAccountTokens` caches that token and fetches the
next one before it expires (with :mod:`txcloud.auth.refresh`).

Signing is pure (:func:`jwt_assertion`, easy to test against a known key);
the exchange is one HTTP request through a
:class:`~txcloud.http.HTTPTransport`, so nothing blocks the reactor, and
every caller asking while it is under way waits for that same request.
Neither the private key, the assertion nor a token ever appears in a
``repr``, a log line or an error message.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from txcloud.auth.refresh import DEFAULT_ADVISORY_WINDOW, Expiring, Refreshing
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    MalformedResponseError,
    TxCloudError,
)
from txcloud.http import (
    ErrorResponse,
    HTTPTransport,
    Request,
    default_error_mapper,
    error_details,
)

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "DEFAULT_TOKEN_URI",
    "JWT_BEARER_GRANT",
    "STORAGE_FULL_CONTROL",
    "AccessToken",
    "ServiceAccountKey",
    "ServiceAccountTokens",
    "jwt_assertion",
    "load_service_account_key",
    "token_error_mapper",
]

#: Where Google exchanges assertions for tokens, unless a key names another.
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"

#: The scope that lets a token read, write and administer Cloud Storage.
STORAGE_FULL_CONTROL = "https://www.googleapis.com/auth/devstorage.full_control"

#: The OAuth2 grant type of a signed JWT (RFC 7523).
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

#: Seconds before its expiry that a cached token is replaced.
DEFAULT_REFRESH_MARGIN = 300.0

#: Seconds an assertion is valid for (Google accepts at most an hour).
ASSERTION_LIFETIME = 3600

# OAuth2 error codes (RFC 6749, section 5.2) that mean the key was refused.
_REFUSED_CODES = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "invalid_scope"}
)


@attrs.frozen(repr=False)
class ServiceAccountKey:
    """
    A service account's credentials, as its JSON key file holds them.

    :ivar client_email: the account's e-mail address (the JWT issuer).
    :ivar private_key: the PEM-encoded RSA key; never shown.
    :ivar token_uri: where assertions are exchanged for tokens.
    :ivar project_id: the account's project, if the key names one.
    :ivar private_key_id: the key's id, sent as the JWT's ``kid``.
    """

    client_email: str
    private_key: str
    token_uri: str = DEFAULT_TOKEN_URI
    project_id: str | None = None
    private_key_id: str | None = None

    def __repr__(self) -> str:
        return f"<ServiceAccountKey {self.client_email!r}>"


def _read_text(source: str | os.PathLike[str]) -> str:
    path = os.path.expanduser(os.fspath(source))
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as e:
        raise InvalidArgumentError(
            f"cannot read the service account key {path!r}: {e.strerror}"
        ) from None


def _document(source: str | os.PathLike[str] | Mapping[str, Any]) -> Mapping[str, Any] | str:
    """The parsed JSON key, or the PEM text of a bare private key."""
    if isinstance(source, Mapping):
        return source
    if isinstance(source, os.PathLike) or not source.lstrip().startswith(("{", "-----")):
        text = _read_text(source)
    else:
        text = source
    if text.lstrip().startswith("-----"):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidArgumentError("the service account key is neither JSON nor PEM") from None
    if not isinstance(document, dict):
        raise InvalidArgumentError("the service account key must be a JSON object")
    return document


def load_service_account_key(
    source: str | os.PathLike[str] | Mapping[str, Any], client_email: str | None = None
) -> ServiceAccountKey:
    """
    Read a service account key, as Libcloud's Google drivers accept it.

    :param source: the path of the JSON key file (or of a PEM private key),
        the JSON text itself, or the parsed JSON as a mapping.
    :param client_email: the account's address; required for a bare PEM
        key, and it takes precedence over the JSON's ``client_email``.
    :returns: the key, its PEM checked to be an RSA private key.
    :raises InvalidArgumentError: for an unreadable file, a document that is
        not a service account key, or a key ``cryptography`` cannot load.
    """
    if not isinstance(source, (str, os.PathLike, Mapping)):
        raise InvalidArgumentError(
            f"a service account key is a path, JSON text or a dict, not {type(source).__name__}"
        )
    document = _document(source)
    fields: dict[str, Any]
    if isinstance(document, str):
        fields = {"private_key": document}
    else:
        if document.get("type", "service_account") != "service_account":
            raise InvalidArgumentError(f"not a service account key (type {document.get('type')!r})")
        fields = {
            name: document.get(name)
            for name in ("client_email", "private_key", "token_uri", "project_id", "private_key_id")
        }
    email = client_email or fields.get("client_email")
    if not isinstance(email, str) or not email:
        raise InvalidArgumentError("the service account key names no client_email")
    pem = fields.get("private_key")
    if not isinstance(pem, str) or not pem:
        raise InvalidArgumentError("the service account key has no private_key")
    _load_rsa_key(pem)
    return ServiceAccountKey(
        client_email=email,
        private_key=pem,
        token_uri=fields.get("token_uri") or DEFAULT_TOKEN_URI,
        project_id=fields.get("project_id") or None,
        private_key_id=fields.get("private_key_id") or None,
    )


def _load_rsa_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography's message may quote the key's bytes: not repeated here.
        raise InvalidArgumentError("the service account's private_key is not a PEM key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidArgumentError("the service account's private_key is not an RSA key")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def jwt_assertion(
    key: ServiceAccountKey,
    scopes: Sequence[str],
    issued_at: float,
    *,
    signing_key: rsa.RSAPrivateKey | None = None,
    lifetime: int = ASSERTION_LIFETIME,
) -> str:
    """
    The signed JWT a service account exchanges for an access token
    (RS256: RSASSA-PKCS1-v1_5 with SHA-256).

    :param key: the service account.
    :param scopes: the OAuth2 scopes to ask for.
    :param issued_at: the POSIX time of issue (the reactor's ``seconds()``).
    :param signing_key: *key*'s private key, already loaded.
    :param lifetime: seconds until the assertion expires.
    :returns: ``header.claims.signature``, each part base64url without padding.
    """
    header = {"alg": "RS256", "typ": "JWT"}
    if key.private_key_id:
        header["kid"] = key.private_key_id
    now = int(issued_at)
    claims = {
        "iss": key.client_email,
        "scope": " ".join(scopes),
        "aud": key.token_uri,
        "iat": now,
        "exp": now + lifetime,
    }
    message = f"{_b64url_json(header)}.{_b64url_json(claims)}"
    signer = signing_key if signing_key is not None else _load_rsa_key(key.private_key)
    signature = signer.sign(message.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{message}.{_b64url(signature)}"


@attrs.frozen(repr=False)
class AccessToken(Expiring[str]):
    """
    An OAuth2 access token and when it expires.

    :ivar value: the bearer token; never shown.
    :ivar expires_at: its expiry, in the reactor's POSIX seconds.
    """

    def __repr__(self) -> str:
        return f"<AccessToken expires_at={self.expires_at!r}>"


def token_error_mapper(response: ErrorResponse) -> TxCloudError:
    """
    The error for a refused token exchange: OAuth2's refusal codes (an
    unknown or disabled account, a revoked key, a bad signature, a clock too
    far off) give :class:`~txcloud.errors.InvalidCredsError`; throttling and
    server failures keep the default (retryable) types.
    """
    details = error_details(response)
    if response.status in (400, 401, 403) or details.code in _REFUSED_CODES:
        message = "the token endpoint refused the service account: "
        message += response.describe(details.message)
        return InvalidCredsError(
            message,
            response.driver,
            status=response.status,
            code=details.code,
            request_id=details.request_id,
        )
    return default_error_mapper(response)


class ServiceAccountTokens:
    """
    Access tokens for one service account: cached, and fetched again
    before the cached one expires (through :class:`~txcloud.auth.refresh.Refreshing`).

    :meth:`token` fires at once while the cached token is fresh.  From
    *advisory_margin* seconds before its expiry a new token is fetched in
    the background while the cached one is still handed out (a failure is
    logged, and tried again later); from *refresh_margin* seconds before
    expiry callers wait for the new token, and a failure fails them.  A
    fetch signs a new assertion (a millisecond of work) and sends the
    exchange through *transport*; callers asking meanwhile share that one
    request.

    :param key: the service account.
    :param transport: sends the exchange; it should not sign requests (the
        token is what signing needs).  :meth:`close` closes it.
    :param clock: the reactor (its ``seconds()`` tells the time).
    :param scopes: the OAuth2 scopes to ask for.
    :param refresh_margin: seconds before expiry from which callers wait
        for a new token.
    :param advisory_margin: seconds before expiry from which a new token is
        fetched in the background; at least *refresh_margin* (by default
        the larger of it and
        :data:`~txcloud.auth.refresh.DEFAULT_ADVISORY_WINDOW`).
    """

    log = Logger()

    def __init__(
        self,
        key: ServiceAccountKey,
        transport: HTTPTransport,
        clock: Any,
        scopes: Sequence[str] = (STORAGE_FULL_CONTROL,),
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        advisory_margin: float | None = None,
    ) -> None:
        if isinstance(scopes, str) or not scopes or not all(isinstance(s, str) for s in scopes):
            raise InvalidArgumentError("scopes must be a non-empty list of scope URLs")
        if not (isinstance(refresh_margin, (int, float)) and refresh_margin >= 0):
            raise InvalidArgumentError(f"refresh_margin must be >= 0, not {refresh_margin!r}")
        if advisory_margin is None:
            advisory_margin = max(DEFAULT_ADVISORY_WINDOW, refresh_margin)
        self.key = key
        self.scopes = tuple(scopes)
        self._transport = transport
        self._clock = clock
        self._signing_key = _load_rsa_key(key.private_key)
        self._tokens: Refreshing[str] = Refreshing(
            self._exchange,
            clock,
            description=f"the access token of {key.client_email}",
            advisory_window=advisory_margin,
            mandatory_window=refresh_margin,
        )

    def token(self) -> Deferred[str]:
        """
        A valid access token.

        :returns: a Deferred firing with the bearer token, or failing with
            :class:`~txcloud.errors.InvalidCredsError` when the account is
            refused (and the transport's errors for network failures).
            Cancelling it leaves a shared exchange running for the others.
        """
        return self._tokens.get()

    def invalidate(self) -> None:
        """Forget the cached token (the service refused it): the next call fetches one."""
        self._tokens.invalidate()

    async def _exchange(self) -> AccessToken:
        issued_at = self._clock.seconds()
        assertion = jwt_assertion(self.key, self.scopes, issued_at, signing_key=self._signing_key)
        body = urlencode({"grant_type": JWT_BEARER_GRANT, "assertion": assertion}).encode("ascii")
        # Asking again for a token is harmless, so failed attempts are retried.
        request = Request(
            "POST",
            self.key.token_uri,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=body,
            idempotent=True,
        )
        response = await self._transport.send(request)
        document = await response.json()
        value = document.get("access_token") if isinstance(document, dict) else None
        lifetime = document.get("expires_in") if isinstance(document, dict) else None
        if not isinstance(value, str) or not value:
            raise MalformedResponseError("the token endpoint answered without an access_token")
        if isinstance(lifetime, str) and lifetime.isdigit():
            lifetime = int(lifetime)
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            raise MalformedResponseError("the token endpoint answered without a valid expires_in")
        self.log.info(
            "Fetched an access token for {account}, valid {lifetime}s",
            account=self.key.client_email,
            lifetime=lifetime,
        )
        return AccessToken(value, issued_at + float(lifetime))

    def close(self) -> Deferred[None]:
        """Close the transport's connections."""
        return self._transport.close()

    def __repr__(self) -> str:
        return f"<ServiceAccountTokens {self.key.client_email!r}>"
