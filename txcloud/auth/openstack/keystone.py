"""
Keystone v3 (OpenStack Identity): what a driver authenticates with
(:class:`KeystoneCredentials`), the token and service catalog it gets back
(:class:`KeystoneToken`), and :class:`KeystoneSession`, which keeps the
token until shortly before its ``expires_at`` and fetches the next one,
one request in flight, shared by the drivers built from the same
credentials.

``POST {auth_url}/auth/tokens`` answers ``201`` with the token in the
``X-Subject-Token`` header and ``{"token": {"expires_at", "catalog",
"project", "user"...}}`` in the body.  Passwords, tokens and application
credential secrets never appear in a ``repr``, a log line or an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.client import HTTPConnectionPool

from txcloud.auth.refresh import Expiring, Refreshing
from txcloud.auth.sources import shared_source
from txcloud.common.timestamps import parse_rfc3339
from txcloud.errors import InvalidArgumentError, InvalidCredsError, MalformedResponseError
from txcloud.http import (
    ErrorResponse,
    HTTPTransport,
    ProxySettings,
    Request,
    RetryPolicy,
    TLSOptions,
    default_error_mapper,
)

__all__ = [
    "AUTH_METHODS",
    "KeystoneCredentials",
    "KeystoneSession",
    "KeystoneToken",
    "keystone_error_mapper",
    "keystone_session",
    "normalise_auth_url",
    "token_from_answer",
]

#: The Keystone v3 authentication methods txcloud speaks.
AUTH_METHODS = ("password", "token", "application_credential")

#: Seconds before expiry from which a token is renewed in the background.
ADVISORY_WINDOW = 300.0
#: Seconds before expiry from which requests wait for the new token.
MANDATORY_WINDOW = 60.0


def normalise_auth_url(url: object) -> str:
    """
    The Keystone v3 base URL of *url*: ``https://keystone:5000``,
    ``https://keystone:5000/v3`` and ``.../v3/auth/tokens`` all give
    ``https://keystone:5000/v3``.

    :raises InvalidArgumentError: for no URL, another scheme, or Keystone v2.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"the Keystone auth URL must be an http:// or https:// URL, not {url!r}"
        )
    base = url.split("?", 1)[0].rstrip("/")
    base = base.removesuffix("/auth/tokens").rstrip("/")
    if base.endswith(("/v2.0", "/v2")):
        raise InvalidArgumentError("only Keystone v3 is supported; the auth URL names v2.0")
    return base if base.endswith("/v3") else f"{base}/v3"


def _digest(*values: str | None) -> str:
    # What tells two sets of credentials apart in the shared-session table,
    # without keeping the secrets themselves as a key.
    text = json.dumps(values)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen
class KeystoneCredentials:
    """
    How to authenticate to Keystone v3.

    :ivar auth_url: the identity endpoint (normalised to end in ``/v3``).
    :ivar method: ``"password"``, ``"token"`` or ``"application_credential"``.
    :ivar user_name: the user's name (with ``user_domain_name`` or
        ``user_domain_id``), or ``user_id``.
    :ivar password: the user's password (never shown).
    :ivar project_name: the project to scope the token to (with
        ``project_domain_name`` or ``project_domain_id``), or ``project_id``.
    :ivar token: an existing token to trade for a scoped one (never shown).
    :ivar application_credential_id: the application credential's id, or
        its ``application_credential_name`` with the user.
    :ivar application_credential_secret: its secret (never shown).
    """

    auth_url: str = attrs.field(converter=normalise_auth_url)
    method: str = "password"
    user_name: str | None = None
    user_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    project_name: str | None = None
    project_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    application_credential_id: str | None = None
    application_credential_name: str | None = None
    application_credential_secret: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.method not in AUTH_METHODS:
            raise InvalidArgumentError(
                f"the Keystone method must be one of {', '.join(AUTH_METHODS)}, not {self.method!r}"
            )
        for name in attrs.fields_dict(type(self)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value):
                # The value is not quoted: it may be a secret.
                raise InvalidArgumentError(f"the Keystone {name} must be a non-empty string")
        getattr(self, f"_check_{self.method}")()

    def _check_password(self) -> None:
        if self.password is None:
            raise InvalidArgumentError("password authentication needs a password (secret)")
        if self.user_id is None and self.user_name is None:
            raise InvalidArgumentError("password authentication needs a user name (key) or id")
        self._check_project()

    def _check_token(self) -> None:
        if self.token is None:
            raise InvalidArgumentError("token authentication needs a token")
        self._check_project()

    def _check_application_credential(self) -> None:
        if self.application_credential_secret is None:
            raise InvalidArgumentError("an application credential needs its secret")
        if self.application_credential_id is None:
            if self.application_credential_name is None:
                raise InvalidArgumentError("an application credential needs its id (key) or name")
            if self.user_id is None and self.user_name is None:
                raise InvalidArgumentError(
                    "an application credential given by name needs its user's name or id"
                )
        if self.project_name is not None or self.project_id is not None:
            raise InvalidArgumentError(
                "an application credential belongs to one project: give no project"
            )

    def _check_project(self) -> None:
        # A token without a project scope has no service catalog to use.
        if self.project_id is None and self.project_name is None:
            raise InvalidArgumentError(
                "Keystone needs the project to scope the token to: "
                "ex_tenant_name (OS_PROJECT_NAME) or ex_tenant_id (OS_PROJECT_ID)"
            )

    @staticmethod
    def _domain(name: str | None, domain_id: str | None, default: str) -> dict[str, str]:
        if domain_id is not None:
            return {"id": domain_id}
        if name is not None:
            return {"name": name}
        return {"id": default}

    def _user(self) -> dict[str, Any]:
        if self.user_id is not None:
            return {"id": self.user_id}
        domain = self._domain(self.user_domain_name, self.user_domain_id, "default")
        return {"name": self.user_name, "domain": domain}

    def request_body(self) -> dict[str, Any]:
        """The JSON body of ``POST /v3/auth/tokens`` for these credentials (holds secrets)."""
        identity: dict[str, Any] = {"methods": [self.method]}
        if self.method == "password":
            identity["password"] = {"user": {**self._user(), "password": self.password}}
        elif self.method == "token":
            identity["token"] = {"id": self.token}
        else:
            credential: dict[str, Any] = {"secret": self.application_credential_secret}
            if self.application_credential_id is not None:
                credential["id"] = self.application_credential_id
            else:
                credential.update(name=self.application_credential_name, user=self._user())
            identity["application_credential"] = credential
        auth: dict[str, Any] = {"identity": identity}
        if self.method != "application_credential":
            if self.project_id is not None:
                project: dict[str, Any] = {"id": self.project_id}
            else:
                domain = self._domain(self.project_domain_name, self.project_domain_id, "default")
                project = {"name": self.project_name, "domain": domain}
            auth["scope"] = {"project": project}
        return {"auth": auth}

    def identity(self) -> str:
        """A digest telling these credentials apart from others (no secret can be read back)."""
        return _digest(*(getattr(self, name) for name in attrs.fields_dict(type(self))))

    def describe(self) -> str:
        """Who authenticates where, for messages (no secret)."""
        who = (
            self.application_credential_id
            or self.application_credential_name
            or self.user_name
            or self.user_id
            or "a token"
        )
        return f"Keystone at {self.auth_url} ({self.method} of {who})"


@attrs.frozen(repr=False)
class KeystoneToken:
    """
    A scoped token and what came with it.

    :ivar token: the ``X-Subject-Token`` value (never shown).
    :ivar expires_at: its expiry, POSIX seconds.
    :ivar catalog: the service catalog, as Keystone wrote it.
    :ivar project: the project the token is scoped to (``id``, ``name``...).
    :ivar user: the user it was issued to.
    """

    token: str
    expires_at: float
    catalog: list[dict[str, Any]]
    project: dict[str, Any]
    user: dict[str, Any]

    def __repr__(self) -> str:
        return f"<KeystoneToken project={self.project.get('name')!r} expires_at={self.expires_at}>"


def _posix(value: object, what: str) -> float:
    if not isinstance(value, str):
        raise MalformedResponseError(f"{what} answered without a token expires_at")
    moment = parse_rfc3339(value)
    if moment is None:
        raise MalformedResponseError(f"{what} answered an unreadable expires_at")
    if moment.tzinfo is None:
        raise MalformedResponseError(f"{what} answered an expires_at without a time zone")
    return moment.timestamp()


def token_from_answer(headers: Mapping[str, str], document: Any, what: str) -> KeystoneToken:
    """
    The token of an answer to ``POST /v3/auth/tokens``.

    :param what: the endpoint, named in errors (which never quote the answer).
    :raises MalformedResponseError: without a token, an expiry or a catalog.
    """
    value = headers.get("X-Subject-Token")
    if not value:
        raise MalformedResponseError(f"{what} answered without an X-Subject-Token header")
    body = document.get("token") if isinstance(document, dict) else None
    if not isinstance(body, dict):
        raise MalformedResponseError(f"{what} answered without a token object")
    catalog = body.get("catalog")
    if not isinstance(catalog, list):
        raise MalformedResponseError(f"{what} answered a token without a service catalog")
    project = body.get("project")
    user = body.get("user")
    return KeystoneToken(
        token=value,
        expires_at=_posix(body.get("expires_at"), what),
        catalog=[entry for entry in catalog if isinstance(entry, dict)],
        project=project if isinstance(project, dict) else {},
        user=user if isinstance(user, dict) else {},
    )


def keystone_error_mapper(response: ErrorResponse) -> Any:
    """
    Keystone's errors, ``{"error": {"code", "title", "message"}}``: 401
    (and 403, 404 of the project) mean the credentials were refused.
    """
    error = default_error_mapper(response)
    try:
        document = json.loads(response.body)
        title = document["error"]["title"]
    except (ValueError, KeyError, TypeError):
        title = None
    if isinstance(title, str):
        error.code = title
    if response.status in (401, 403, 404) and not isinstance(error, InvalidCredsError):
        return InvalidCredsError(
            error.message, error.driver_name, status=error.status, code=error.code
        )
    return error


class KeystoneSession:
    """
    The current token of one set of credentials, renewed before it expires
    (see :class:`~txcloud.auth.refresh.Refreshing`) or once a service
    refused it.

    :param credentials: the :class:`KeystoneCredentials`.
    :param transport: what the authentication requests go through.
    :param clock: the reactor whose ``seconds()`` decides when to renew.
    """

    log = Logger()

    def __init__(
        self, credentials: KeystoneCredentials, transport: HTTPTransport, clock: Any
    ) -> None:
        self.credentials = credentials
        self.description = credentials.describe()
        self._transport = transport
        self._clock = clock
        self._tokens: Refreshing[KeystoneToken] = Refreshing(
            self._fetch,
            clock,
            description=f"the token from {self.description}",
            advisory_window=ADVISORY_WINDOW,
            mandatory_window=MANDATORY_WINDOW,
        )
        #: How many tokens were fetched (for tests and logs).
        self.fetched = 0

    def get(self) -> Deferred[KeystoneToken]:
        """
        The current token, fetched first if there is none or it (nearly) expired.

        :returns: a Deferred firing with the :class:`KeystoneToken`, or
            failing with :class:`~txcloud.errors.InvalidCredsError`.
        """
        return self._tokens.get()

    def invalidate(self, refused: KeystoneToken | None = None) -> None:
        """
        Forget the token a service refused (``401``); the next :meth:`get`
        fetches another.  A token already replaced is left alone.
        """
        current = self._tokens.current
        if current is not None and (refused is None or current.value is refused):
            self._tokens.invalidate()

    async def _fetch(self) -> Expiring[KeystoneToken]:
        request = Request(
            "POST",
            f"{self.credentials.auth_url}/auth/tokens",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            body=json.dumps(self.credentials.request_body()).encode("utf-8"),
            idempotent=True,
        )
        try:
            response = await self._transport.send(request)
        except InvalidCredsError as error:
            raise InvalidCredsError(
                f"{self.description} refused the credentials: {error.message}",
                status=error.status,
                code=error.code,
            ) from None
        document = await response.json()
        token = token_from_answer(response.headers, document, self.description)
        self.fetched += 1
        self.log.info(
            "Fetched a token from {source}, valid until {expires_at}",
            source=self.description,
            expires_at=token.expires_at,
        )
        return Expiring(token, token.expires_at)

    def __repr__(self) -> str:
        return f"<KeystoneSession {self.description}>"


def keystone_session(
    credentials: KeystoneCredentials,
    *,
    reactor: Any,
    agent: Any = None,
    tls: TLSOptions | None = None,
    proxy: ProxySettings | None = None,
    timeout: float = 30.0,
) -> KeystoneSession:
    """
    The session of *credentials*, shared by every driver built with the
    same credentials on the same reactor (and agent): regional drivers of
    one project make one authentication request.  Its connections to
    Keystone close after each answer (a token an hour needs none kept
    open), so closing the drivers leaves nothing behind.

    :param agent: an ``IAgent`` to send through instead (tests).
    :param tls: the drivers' TLS settings (a private cloud's CA...).
    :param proxy: the drivers' proxies.
    """
    key = ("openstack", credentials.identity(), reactor, agent, tls, proxy)

    def make() -> KeystoneSession:
        transport = HTTPTransport(
            reactor=reactor,
            agent=agent,
            pool=None if agent is not None else HTTPConnectionPool(reactor, persistent=False),
            timeout=timeout,
            retry=RetryPolicy(max_attempts=3),
            tls=tls,
            proxy=proxy,
            error_mapper=keystone_error_mapper,
            driver=f"Keystone at {credentials.auth_url}",
        )
        return KeystoneSession(credentials, transport, reactor)

    return shared_source(key, make)
