"""
IAM Identity Center (SSO) credentials: the access token ``aws sso login``
cached under ``~/.aws/sso/cache`` is exchanged for a role's credentials by
the portal's ``GetRoleCredentials``.

txcloud reads the cached token; it does not log in or renew the token
itself (run ``aws sso login`` again once it has expired: the error says
so).  The token travels only in the ``x-amz-sso_bearer_token`` header,
which logs redact.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable, Mapping
from typing import Any

from txcloud.auth.aws._fetching import parse_timestamp
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.providers import RefreshingProvider
from txcloud.auth.aws.shared_config import home_folder
from txcloud.auth.refresh import DEFAULT_ADVISORY_WINDOW, DEFAULT_MANDATORY_WINDOW
from txcloud.auth.sources import one_shot_transport
from txcloud.errors import InvalidCredsError, TxCloudError
from txcloud.http import Request

__all__ = ["SSOCredentials", "sso_cache_file"]


def sso_cache_file(key: str, environ: Mapping[str, str]) -> str:
    """
    Where ``aws sso login`` caches the token for *key* (the ``sso_session``
    name, or the start URL of a legacy profile).
    """
    name = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return os.path.join(home_folder(environ), ".aws", "sso", "cache", name + ".json")


class SSOCredentials(RefreshingProvider):
    """
    A role's credentials through IAM Identity Center.

    :param start_url: the portal's start URL.
    :param sso_region: the region of the Identity Center instance.
    :param account_id: the account of the role.
    :param role_name: the permission set's role name.
    :param session_name: the ``sso_session`` the token was cached under
        (``None`` for a legacy profile, cached under the start URL).
    :param endpoint: the portal's URL; ``https://portal.sso.REGION.amazonaws.com``
        by default.
    :param environ: the environment (``HOME`` locates the cache).
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` to send through instead (tests).
    """

    def __init__(
        self,
        start_url: str,
        sso_region: str,
        account_id: str,
        role_name: str,
        *,
        session_name: str | None = None,
        endpoint: str | None = None,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        agent: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        super().__init__(reactor, advisory_window, mandatory_window)
        env = os.environ if environ is None else environ
        self.start_url = start_url
        self.sso_region = sso_region
        self.account_id = account_id
        self.role_name = role_name
        self.session_name = session_name
        self.endpoint = (endpoint or f"https://portal.sso.{sso_region}.amazonaws.com").rstrip("/")
        self.cache_file = sso_cache_file(session_name or start_url, env)
        self._agent = agent
        self.transport = one_shot_transport(
            self.reactor, "the IAM Identity Center portal", timeout=10.0, agent=agent, environ=env
        )
        self.description = f"SSO role {role_name} in account {account_id} ({start_url})"

    def _identity(self) -> Hashable:
        return (
            self.start_url,
            self.sso_region,
            self.account_id,
            self.role_name,
            self.endpoint,
            self.cache_file,
            id(self._agent),
        )

    def _cached_token(self) -> str:
        login = f"run `aws sso login` for {self.start_url}"
        try:
            with open(self.cache_file, encoding="utf-8") as file:
                document = json.load(file)
        except (OSError, ValueError):
            raise InvalidCredsError(f"no cached SSO token in {self.cache_file}: {login}") from None
        token = document.get("accessToken") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise InvalidCredsError(f"the SSO token cache {self.cache_file} holds no token")
        expires_at = parse_timestamp(
            document.get("expiresAt"), f"the SSO token cache {self.cache_file}"
        )
        if expires_at <= self.reactor.seconds():
            raise InvalidCredsError(f"the cached SSO token has expired: {login}")
        return token

    async def _fetch(self) -> AWSCredentials:
        token = self._cached_token()
        request = Request(
            "GET",
            self.endpoint + "/federation/credentials",
            params={"role_name": self.role_name, "account_id": self.account_id},
            headers={"x-amz-sso_bearer_token": token},
        )
        try:
            response = await self.transport.send(request)
            document = await response.json()
        except TxCloudError as error:
            raise InvalidCredsError(f"no credentials for {self.description}: {error}") from None
        found = document.get("roleCredentials") if isinstance(document, dict) else None
        if not isinstance(found, dict):
            raise InvalidCredsError(f"the SSO portal gave no credentials for {self.description}")
        expiration = found.get("expiration")
        try:
            return AWSCredentials(
                found["accessKeyId"],
                found["secretAccessKey"],
                found.get("sessionToken") or None,
                expires_at=None if expiration is None else float(expiration) / 1000.0,
            )
        except (TxCloudError, KeyError, TypeError, ValueError):
            raise InvalidCredsError(
                f"the SSO portal gave unusable credentials for {self.description}"
            ) from None
