"""
A fake of Google's OAuth2 token endpoint: it exchanges service accounts'
signed JWTs (checking signature, issuer, audience, scope and times) and
users' refresh tokens for access tokens.
"""

from __future__ import annotations

from typing import Any

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing._tokens import TokenIssuer, json_reply, oauth_error_reply, verified_jwt

__all__ = ["FakeGoogleTokenEndpoint", "TokenGrant"]

_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@attrs.frozen
class TokenGrant:
    """
    One token handed out.

    :ivar subject: the service account's address or the OAuth2 client id.
    :ivar scopes: the scopes the assertion asked for (none for a refresh).
    :ivar token: the access token.
    """

    subject: str
    scopes: tuple[str, ...]
    token: str = attrs.field(repr=False)


class FakeGoogleTokenEndpoint(FakeService):
    """
    Google's token endpoint (``POST`` of a form to any path).

    :param clock: the clock tokens and assertions are checked on; the
        global reactor by default.
    :param token_uri: the audience assertions must name (the ``token_uri``
        of the key files); set it once the fake listens.  ``None`` accepts
        any audience.
    :param required_scopes: scopes an assertion must ask for.
    :ivar tokens: the :class:`~txcloud.testing._tokens.TokenIssuer`.
    :ivar grants: every :class:`TokenGrant`, in order.
    """

    def __init__(
        self,
        clock: Any = None,
        *,
        token_uri: str | None = None,
        required_scopes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(clock)
        self.token_uri = token_uri
        self.required_scopes = required_scopes
        self.tokens = TokenIssuer(self.clock, "ya29.oauth")
        self.grants: list[TokenGrant] = []
        self._accounts: dict[str, rsa.RSAPublicKey] = {}
        self._users: dict[tuple[str, str], str] = {}

    def add_service_account(self, email: str, public_key: rsa.RSAPublicKey) -> None:
        """Accept assertions of *email* signed by *public_key*'s private key."""
        self._accounts[email] = public_key

    def add_authorized_user(self, client_id: str, client_secret: str, refresh_token: str) -> None:
        """Accept *refresh_token* from the OAuth2 client *client_id*."""
        self._users[(client_id, client_secret)] = refresh_token

    def _handle(self, received: Received) -> Reply:
        if received.method != "POST":
            raise Refused(405, "invalid_request", "POST a form")
        form = received.form()
        grant_type = form.get("grant_type")
        if grant_type == _JWT_BEARER:
            grant = self._assertion(form.get("assertion", ""))
        elif grant_type == "refresh_token":
            grant = self._refresh(form)
        else:
            raise Refused(400, "unsupported_grant_type", "Invalid grant_type")
        self.grants.append(grant)
        document = {
            "access_token": grant.token,
            "expires_in": self.tokens.lifetime,
            "token_type": "Bearer",
        }
        return json_reply(document)

    def _assertion(self, assertion: str) -> TokenGrant:
        try:
            _, claims = verified_jwt(assertion, lambda h, c: self._accounts.get(c.get("iss")))
        except ValueError as error:
            raise Refused(400, "invalid_grant", f"Invalid JWT: {error}") from None
        now = self.clock.seconds()
        if self.token_uri is not None and claims.get("aud") != self.token_uri:
            raise Refused(400, "invalid_grant", "Invalid JWT: wrong audience")
        if not claims.get("iat", now + 1) <= now + 60 < claims.get("exp", 0) + 60:
            raise Refused(400, "invalid_grant", "Invalid JWT: token must be a short-lived token")
        scopes = tuple(str(claims.get("scope", "")).split())
        if not scopes or not set(self.required_scopes) <= set(scopes):
            raise Refused(400, "invalid_scope", "Invalid OAuth scope or ID token audience")
        return TokenGrant(str(claims["iss"]), scopes, self.tokens.issue())

    def _refresh(self, form: dict[str, str]) -> TokenGrant:
        client = (form.get("client_id", ""), form.get("client_secret", ""))
        if client not in self._users:
            raise Refused(401, "invalid_client", "The OAuth client was not found.")
        if form.get("refresh_token") != self._users[client]:
            raise Refused(400, "invalid_grant", "Bad Request")
        return TokenGrant(client[0], (), self.tokens.issue())

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return oauth_error_reply(refused)
