"""
Google user credentials, as ``gcloud auth application-default login``
writes them: an ``authorized_user`` JSON file holding an OAuth2 client and
a refresh token, exchanged at Google's token endpoint for access tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from txcloud.auth.google.service_account import DEFAULT_TOKEN_URI
from txcloud.auth.refresh import Expiring
from txcloud.auth.tokens import RefreshingTokens, form_request
from txcloud.errors import InvalidCredsError

__all__ = ["AuthorizedUser", "AuthorizedUserTokens", "authorized_user_from_document"]


@attrs.frozen(repr=False)
class AuthorizedUser:
    """
    A user's OAuth2 client and refresh token.

    :ivar client_id: the OAuth2 client's id.
    :ivar client_secret: the client's secret; never shown.
    :ivar refresh_token: the user's refresh token; never shown.
    :ivar token_uri: where refresh tokens are exchanged.
    :ivar quota_project_id: the project billed for quota, if set.
    """

    client_id: str
    client_secret: str
    refresh_token: str
    token_uri: str = DEFAULT_TOKEN_URI
    quota_project_id: str | None = None

    def __repr__(self) -> str:
        return f"<AuthorizedUser client_id={self.client_id!r}>"


def authorized_user_from_document(document: Mapping[str, Any], where: str) -> AuthorizedUser:
    """
    The credentials of an ``authorized_user`` document.

    :param where: the file it came from, named in errors.
    :raises InvalidCredsError: when a field is missing (its value is never quoted).
    """
    fields = {}
    for name in ("client_id", "client_secret", "refresh_token"):
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidCredsError(f"the authorized_user credentials in {where} have no {name}")
        fields[name] = value
    token_uri = document.get("token_uri")
    quota = document.get("quota_project_id")
    return AuthorizedUser(
        **fields,
        token_uri=token_uri if isinstance(token_uri, str) and token_uri else DEFAULT_TOKEN_URI,
        quota_project_id=quota if isinstance(quota, str) and quota else None,
    )


class AuthorizedUserTokens(RefreshingTokens):
    """
    Access tokens for a user, from a refresh token.

    :param user: the user's credentials.
    :param where: where they were read, for messages.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` to send through instead (tests).
    :param environ: where the proxy variables are read; :data:`os.environ` when ``None``.
    """

    def __init__(
        self,
        user: AuthorizedUser,
        where: str,
        *,
        reactor: Any = None,
        agent: Any = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reactor, agent=agent, environ=environ)
        self.user = user
        self.description = f"the authorized_user credentials in {where}"

    async def _fetch(self) -> Expiring[str]:
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.user.client_id,
            "client_secret": self.user.client_secret,
            "refresh_token": self.user.refresh_token,
        }
        return await self._send(form_request(self.user.token_uri, fields))
