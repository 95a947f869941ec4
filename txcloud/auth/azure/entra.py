"""
Azure AD (Microsoft Entra ID) tokens for an application, from the OAuth 2.0
client-credentials grant at ``{authority}/{tenant}/oauth2/v2.0/token``:

* :class:`ClientSecretTokens`: the application's client secret;
* :class:`ClientCertificateTokens`: a client assertion (a JWT) signed with
  the key of the application's certificate;
* :class:`WorkloadIdentityTokens`: a federated token (Kubernetes workload
  identity) read from a file at each refresh, sent as the client assertion.

The authority is ``AZURE_AUTHORITY_HOST`` or :data:`DEFAULT_AUTHORITY`,
reached over HTTPS verified against the platform's trust store.  Tokens
are refreshed as :mod:`txcloud.auth.refresh` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from txcloud.auth.azure.certificate import ClientCertificate, client_assertion
from txcloud.auth.refresh import Expiring
from txcloud.auth.tokens import RefreshingTokens, form_request
from txcloud.errors import InvalidArgumentError, InvalidCredsError

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "DEFAULT_AUTHORITY",
    "MANAGEMENT_SCOPE",
    "STORAGE_SCOPE",
    "ClientCertificateTokens",
    "ClientSecretTokens",
    "WorkloadIdentityTokens",
    "authority_host",
]

#: Azure AD's public cloud authority.
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"

#: The scope of tokens for Azure Storage.
STORAGE_SCOPE = "https://storage.azure.com/.default"

#: The scope of tokens for Azure Resource Manager.
MANAGEMENT_SCOPE = "https://management.azure.com/.default"

#: How a JWT client assertion is announced (RFC 7523).
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def authority_host(environ: Mapping[str, str]) -> str:
    """
    The authority: ``AZURE_AUTHORITY_HOST`` (a host name or an HTTPS URL),
    else :data:`DEFAULT_AUTHORITY`.

    :raises InvalidArgumentError: for a URL that is not HTTPS.
    """
    value = environ.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY
    if "://" not in value:
        value = f"https://{value}"
    if urlsplit(value).scheme != "https":
        raise InvalidArgumentError("AZURE_AUTHORITY_HOST must be an https:// URL")
    return value.rstrip("/")


class _ClientCredentialsTokens(RefreshingTokens):
    """What the three grants share: the endpoint, the form, the answer."""

    #: How the application proves itself, for messages.
    proof = "credentials"

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        *,
        authority: str = DEFAULT_AUTHORITY,
        scope: str = STORAGE_SCOPE,
        reactor: Any = None,
        agent: Any = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reactor, agent=agent, environ=environ)
        for name, value in (("tenant_id", tenant_id), ("client_id", client_id)):
            if not isinstance(value, str) or not value or "/" in value:
                raise InvalidArgumentError(f"{name} must be a non-empty id")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.scope = scope
        self.token_url = f"{authority.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self.description = f"Azure AD at {self.token_url} for client {client_id} ({self.proof})"

    def _proof(self) -> dict[str, str]:
        raise NotImplementedError

    async def _fetch(self) -> Expiring[str]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "scope": self.scope,
            **self._proof(),
        }
        return await self._send(form_request(self.token_url, form))


class ClientSecretTokens(_ClientCredentialsTokens):
    """
    Tokens for an application with a client secret.

    :param tenant_id: the directory (tenant) id.
    :param client_id: the application (client) id.
    :param client_secret: its secret; never shown.
    :param authority: the authority's URL.
    :param scope: the scope asked for (Azure Storage's).
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` to send through instead (tests).
    """

    proof = "a client secret"

    def __init__(self, tenant_id: str, client_id: str, client_secret: str, **options: Any) -> None:
        super().__init__(tenant_id, client_id, **options)
        if not client_secret:
            raise InvalidArgumentError("the client secret is empty")
        self._secret = client_secret

    def _proof(self) -> dict[str, str]:
        return {"client_secret": self._secret}


class ClientCertificateTokens(_ClientCredentialsTokens):
    """
    Tokens for an application with a certificate: each request carries a
    new client assertion signed with the certificate's key.

    :param certificate: the certificate and its key.
    :param send_chain: also send the certificate itself (``x5c``), for
        subject name/issuer authentication.

    Other parameters are :class:`ClientSecretTokens`'.
    """

    proof = "a client certificate"

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        certificate: ClientCertificate,
        *,
        send_chain: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(tenant_id, client_id, **options)
        self.certificate = certificate
        self.send_chain = send_chain

    def _proof(self) -> dict[str, str]:
        assertion = client_assertion(
            self.certificate,
            self.client_id,
            self.token_url,
            self.reactor.seconds(),
            send_chain=self.send_chain,
        )
        return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": assertion}


class WorkloadIdentityTokens(_ClientCredentialsTokens):
    """
    Tokens for a workload with a federated identity: the token in
    *token_file* (projected by Kubernetes, rotated by it) is read at each
    refresh and sent as the client assertion.

    :param token_file: the federated token's file (``AZURE_FEDERATED_TOKEN_FILE``).

    Other parameters are :class:`ClientSecretTokens`'.
    """

    proof = "a federated token"

    def __init__(self, tenant_id: str, client_id: str, token_file: str, **options: Any) -> None:
        super().__init__(tenant_id, client_id, **options)
        self.token_file = token_file
        self.description += f" from {token_file}"

    def _proof(self) -> dict[str, str]:
        try:
            with open(self.token_file, encoding="utf-8") as file:
                assertion = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise InvalidCredsError(
                f"cannot read the federated token file {self.token_file}: {reason}"
            ) from None
        if not assertion:
            raise InvalidCredsError(f"the federated token file {self.token_file} is empty")
        return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": assertion}
