"""
A fake of Azure AD's (Entra ID's) token endpoint: the OAuth 2.0
client-credentials grant at ``/{tenant}/oauth2/v2.0/token``, with a client
secret, a certificate's signed client assertion, or a federated token.
"""

from __future__ import annotations

import base64
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing._tokens import json_reply, oauth_error_reply, verified_jwt
from txcloud.testing.azure._tokens import AzureTokenIssuer

__all__ = ["DEFAULT_TENANT", "FakeAzureAD", "TokenGrant"]

#: The tenant the fakes answer for unless told otherwise.
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000feed"

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@attrs.frozen
class TokenGrant:
    """
    One token handed out.

    :ivar client_id: the application.
    :ivar scope: the scope asked for.
    :ivar proof: ``"secret"``, ``"certificate"`` or ``"federated"``.
    :ivar token: the access token.
    """

    client_id: str
    scope: str
    proof: str
    token: str = attrs.field(repr=False)


def _thumbprint(certificate: x509.Certificate) -> str:
    digest = certificate.fingerprint(hashes.SHA1())
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeAzureAD(FakeService):
    """
    Azure AD's token endpoint for one tenant (point ``AZURE_AUTHORITY_HOST``
    at it: it must be served over HTTPS, as the real one is).

    Tokens are JWTs whose audience is the scope's resource (the scope
    without ``/.default``) and whose issuer is ``https://sts.windows.net/TENANT/``,
    which Azurite accepts with ``--oauth basic``.

    :param clock: the clock tokens and assertions are checked on; the global
        reactor by default.
    :param tenant: the tenant id.
    :ivar tokens: the issuer (``tokens.is_valid(token)``, ``tokens.lifetime``).
    :ivar grants: every :class:`TokenGrant`, in order.
    """

    def __init__(self, clock: Any = None, *, tenant: str = DEFAULT_TENANT) -> None:
        super().__init__(clock)
        self.tenant = tenant
        self.tokens = AzureTokenIssuer(self.clock, tenant)
        self.grants: list[TokenGrant] = []
        self._secrets: dict[str, str] = {}
        self._certificates: dict[str, x509.Certificate] = {}
        self._federated: dict[str, str] = {}

    def add_client_secret(self, client_id: str, secret: str) -> None:
        """Accept *secret* from the application *client_id*."""
        self._secrets[client_id] = secret

    def add_client_certificate(self, client_id: str, certificate: x509.Certificate) -> None:
        """Accept assertions of *client_id* signed with *certificate*'s key."""
        self._certificates[client_id] = certificate

    def add_federated_token(self, client_id: str, token: str) -> None:
        """Accept the federated token *token* for *client_id*."""
        self._federated[client_id] = token

    @property
    def token_path(self) -> str:
        """The path of the token endpoint."""
        return f"/{self.tenant}/oauth2/v2.0/token"

    def _handle(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != self.token_path:
            raise Refused(404, "invalid_request", "AADSTS90002: Tenant or path not found.")
        form = received.form()
        if form.get("grant_type") != "client_credentials":
            raise Refused(400, "unsupported_grant_type", "AADSTS70003: Unsupported grant type.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            raise Refused(400, "invalid_scope", "AADSTS1002012: The scope is not valid.")
        client_id = form.get("client_id", "")
        proof = self._proof(client_id, form)
        token = self.tokens.issue_for(scope.removesuffix("/.default"), client_id)
        self.grants.append(TokenGrant(client_id, scope, proof, token))
        document = {
            "token_type": "Bearer",
            "expires_in": self.tokens.lifetime,
            "ext_expires_in": self.tokens.lifetime,
            "access_token": token,
        }
        return json_reply(document)

    def _proof(self, client_id: str, form: dict[str, str]) -> str:
        if "client_secret" in form:
            if self._secrets.get(client_id) != form["client_secret"]:
                raise Refused(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
            return "secret"
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != _ASSERTION_TYPE or not assertion:
            raise Refused(400, "invalid_request", "AADSTS900144: No client credentials.")
        if client_id in self._federated:
            if assertion != self._federated[client_id]:
                raise Refused(400, "invalid_client", "AADSTS700211: Bad federated token.")
            return "federated"
        certificate = self._certificates.get(client_id)
        if certificate is None:
            raise Refused(400, "unauthorized_client", "AADSTS700016: Unknown application.")
        try:
            header, claims = verified_jwt(assertion, lambda h, c: certificate.public_key())
        except ValueError as error:
            raise Refused(401, "invalid_client", f"AADSTS7000274: {error}.") from None
        now = self.clock.seconds()
        if (
            header.get("x5t") != _thumbprint(certificate)
            or claims.get("iss") != client_id
            or claims.get("sub") != client_id
            or not str(claims.get("aud", "")).endswith(self.token_path)
            or not claims.get("nbf", now + 1) <= now + 60 < claims.get("exp", 0) + 60
        ):
            raise Refused(401, "invalid_client", "AADSTS700027: Invalid client assertion.")
        return "certificate"

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return oauth_error_reply(refused)
