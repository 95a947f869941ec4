"""
Credentials of the machine or container the code runs in.

* :class:`InstanceMetadataCredentials`: the EC2 instance profile's role,
  from the instance metadata service with IMDSv2 (a session token ``PUT``
  first, then ``GET`` requests carrying it), with short timeouts so that
  code off EC2 learns it quickly;
* :class:`ContainerCredentials`: the task role of ECS or EKS Pod Identity,
  from ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (on 169.254.170.2) or
  ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (loopback or HTTPS only), with
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` or
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN``.

Both refresh their credentials as every temporary credential is refreshed
(see :mod:`txcloud.auth.refresh`): credentials inside the mandatory window
are fetched again before use, never stretched past their expiry.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Hashable, Mapping
from typing import Any
from urllib.parse import urlsplit

from txcloud.auth.aws._fetching import (
    credentials_from_document,
    read_secret_file,
)
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.providers import RefreshingProvider
from txcloud.auth.refresh import DEFAULT_ADVISORY_WINDOW, DEFAULT_MANDATORY_WINDOW
from txcloud.auth.sources import one_shot_transport
from txcloud.errors import InvalidArgumentError, InvalidCredsError, TxCloudError
from txcloud.http import Request, redact_url

__all__ = [
    "CONTAINER_HOST",
    "IMDS_ENDPOINT",
    "IMDS_IPV6_ENDPOINT",
    "ContainerCredentials",
    "InstanceMetadataCredentials",
    "imds_disabled",
]

#: Where the instance metadata service answers.
IMDS_ENDPOINT = "http://169.254.169.254"
#: Its IPv6 address (``AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6``).
IMDS_IPV6_ENDPOINT = "http://[fd00:ec2::254]"
#: Where ECS serves ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``.
CONTAINER_HOST = "http://169.254.170.2"

_TOKEN_PATH = "/latest/api/token"
_ROLES_PATH = "/latest/meta-data/iam/security-credentials/"
_TOKEN_TTL = "21600"
# Addresses of the ECS and EKS agents, besides loopback ones.
_CONTAINER_AGENT_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})


def imds_disabled(environ: Mapping[str, str]) -> bool:
    """Whether ``AWS_EC2_METADATA_DISABLED`` turns the instance metadata service off."""
    return environ.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() == "true"


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be a number") from None
    if value <= 0:
        raise InvalidArgumentError(f"{name} must be positive")
    return value


class InstanceMetadataCredentials(RefreshingProvider):
    """
    The EC2 instance profile's credentials, through IMDSv2.

    :param endpoint: the metadata service's URL; by default
        ``AWS_EC2_METADATA_SERVICE_ENDPOINT``, else the IPv6 or IPv4 address
        by ``AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE``.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param timeout: seconds per request (``AWS_METADATA_SERVICE_TIMEOUT``, else 1).
    :param attempts: tries per request (``AWS_METADATA_SERVICE_NUM_ATTEMPTS``, else 1).
    :param agent: an ``IAgent`` to send through instead (tests).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        timeout: float | None = None,
        attempts: int | None = None,
        agent: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        super().__init__(reactor, advisory_window, mandatory_window)
        env = os.environ if environ is None else environ
        if endpoint is None:
            endpoint = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or (
                IMDS_IPV6_ENDPOINT
                if env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "").lower() == "ipv6"
                else IMDS_ENDPOINT
            )
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout or _number(env, "AWS_METADATA_SERVICE_TIMEOUT", 1.0)
        self.attempts = attempts or int(_number(env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1))
        self._agent = agent
        self.transport = one_shot_transport(
            self.reactor,
            "the EC2 instance metadata service",
            timeout=self.timeout,
            attempts=self.attempts,
            agent=agent,
            environ=env,
        )
        self.description = f"the EC2 instance metadata service at {self.endpoint}"

    def _identity(self) -> Hashable:
        return (self.endpoint, self.timeout, self.attempts, id(self._agent))

    async def _text(self, request: Request) -> str:
        response = await self.transport.send(request)
        return (await response.content()).decode("utf-8", "replace").strip()

    async def _fetch(self) -> AWSCredentials:
        try:
            token = await self._text(
                Request(
                    "PUT",
                    self.endpoint + _TOKEN_PATH,
                    headers={"X-aws-ec2-metadata-token-ttl-seconds": _TOKEN_TTL},
                    idempotent=True,
                )
            )
            headers = {"X-aws-ec2-metadata-token": token}
            roles = await self._text(Request("GET", self.endpoint + _ROLES_PATH, headers=headers))
            role = roles.splitlines()[0].strip() if roles else ""
            if not role:
                raise InvalidCredsError(f"{self.description} names no instance profile role")
            document = await (
                await self.transport.send(
                    Request("GET", self.endpoint + _ROLES_PATH + role, headers=headers)
                )
            ).json()
        except InvalidCredsError:
            raise
        except TxCloudError as error:
            raise InvalidCredsError(f"no credentials from {self.description}: {error}") from None
        if isinstance(document, Mapping) and document.get("Code", "Success") != "Success":
            raise InvalidCredsError(
                f"{self.description} reports {document.get('Code')!r} for role {role}"
            )
        return credentials_from_document(document, self.description)


def _allowed_full_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http" or not parts.hostname:
        return False
    host = parts.hostname
    if host == "localhost" or host in _CONTAINER_AGENT_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ContainerCredentials(RefreshingProvider):
    """
    The container's role credentials (ECS task roles, EKS Pod Identity).

    :param uri: the credentials URL; by default
        ``AWS_CONTAINER_CREDENTIALS_FULL_URI``, else 169.254.170.2 with
        ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``.
    :param authorization_token_file: a file holding the ``Authorization``
        value, read at each refresh (``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``).
    :param authorization_token: the ``Authorization`` value
        (``AWS_CONTAINER_AUTHORIZATION_TOKEN``); the file wins.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param timeout: seconds per request.
    :param agent: an ``IAgent`` to send through instead (tests).
    :raises InvalidArgumentError: when no URL is configured, or a full URL is
        neither HTTPS nor on a loopback or container-agent address.
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        authorization_token_file: str | None = None,
        authorization_token: str | None = None,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        timeout: float = 2.0,
        agent: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        super().__init__(reactor, advisory_window, mandatory_window)
        env = os.environ if environ is None else environ
        if uri is None:
            relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            uri = (
                CONTAINER_HOST + relative
                if relative
                else env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            )
            if not relative and uri and not _allowed_full_uri(uri):
                raise InvalidArgumentError(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI must use HTTPS, or a loopback "
                    "or container agent address"
                )
        if not uri:
            raise InvalidArgumentError("no container credentials URL is configured")
        if authorization_token_file is None and authorization_token is None:
            authorization_token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") or None
            authorization_token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") or None
        self.uri = uri
        self.authorization_token_file = authorization_token_file
        self._authorization_token = authorization_token
        self.timeout = timeout
        self._agent = agent
        self.transport = one_shot_transport(
            self.reactor,
            "the container credentials endpoint",
            timeout=timeout,
            agent=agent,
            environ=env,
        )
        self.description = f"the container credentials endpoint {redact_url(uri)}"

    def _identity(self) -> Hashable:
        return (
            self.uri,
            self.authorization_token_file,
            self._authorization_token,
            self.timeout,
            id(self._agent),
        )

    def _authorization(self) -> str | None:
        token = self._authorization_token
        if self.authorization_token_file is not None:
            token = read_secret_file(
                self.authorization_token_file, "the container authorization token file"
            )
        if token is not None and ("\r" in token or "\n" in token):
            raise InvalidCredsError("the container authorization token contains a line break")
        return token

    async def _fetch(self) -> AWSCredentials:
        token = self._authorization()
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = token
        try:
            response = await self.transport.send(Request("GET", self.uri, headers=headers))
            document = await response.json()
        except TxCloudError as error:
            raise InvalidCredsError(f"no credentials from {self.description}: {error}") from None
        return credentials_from_document(document, self.description)
