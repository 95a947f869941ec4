"""
Fakes of Azure's identity endpoints, for trial tests of code that uses
Azure AD (Entra ID) tokens.

* :class:`FakeAzureAD`: the token endpoint of a tenant (client secrets,
  certificates, federated tokens); point ``AZURE_AUTHORITY_HOST`` at it;
* :class:`FakeManagedIdentity`: App Service's managed identity endpoint
  (``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``) and the instance metadata
  service's (``AZURE_POD_IDENTITY_AUTHORITY_HOST``).

Their tokens are JWTs with the audience, issuer and times Azure Storage
reads, so Azurite started with ``--oauth basic`` accepts them.  Azure AD is
reached over HTTPS only: serve :class:`FakeAzureAD` with TLS, for instance
``reactor.listenSSL(0, fake.site(), context_factory, interface="127.0.0.1")``
with a certificate the client trusts (``SSL_CERT_FILE``), or in memory
through ``fake.agent()``.
"""

from txcloud.testing.azure.entra import DEFAULT_TENANT, FakeAzureAD, TokenGrant
from txcloud.testing.azure.managed_identity import IMDS_TOKEN_PATH, FakeManagedIdentity

__all__ = ["DEFAULT_TENANT", "IMDS_TOKEN_PATH", "FakeAzureAD", "FakeManagedIdentity", "TokenGrant"]
