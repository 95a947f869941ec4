"""
Azure AD tokens found as ``DefaultAzureCredential`` finds them, in its order:

1. the environment: ``AZURE_TENANT_ID`` and ``AZURE_CLIENT_ID`` with
   ``AZURE_CLIENT_SECRET``, or with ``AZURE_CLIENT_CERTIFICATE_PATH`` (and
   ``AZURE_CLIENT_CERTIFICATE_PASSWORD``, ``AZURE_CLIENT_SEND_CERTIFICATE_CHAIN``);
2. workload identity: ``AZURE_FEDERATED_TOKEN_FILE`` with ``AZURE_TENANT_ID``
   and ``AZURE_CLIENT_ID``;
3. managed identity: ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``, else
   the instance metadata service.

``AZURE_AUTHORITY_HOST`` names the authority of the first two.  The
developer tools ``DefaultAzureCredential`` tries after these (Azure CLI,
PowerShell, azd, Visual Studio Code) are not read.  The first two are
decided from the environment (a certificate that cannot be read is
refused at once); managed identity is the last resort, and its failure
names what was looked at first.  Equal sources are shared between drivers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from txcloud.auth.azure.certificate import load_client_certificate
from txcloud.auth.azure.entra import (
    STORAGE_SCOPE,
    ClientCertificateTokens,
    ClientSecretTokens,
    WorkloadIdentityTokens,
    authority_host,
)
from txcloud.auth.azure.managed_identity import ManagedIdentityTokens
from txcloud.auth.sources import shared_source
from txcloud.auth.tokens import RefreshingTokens
from txcloud.http import proxy_settings

__all__ = ["default_azure_tokens"]

_ENVIRONMENT = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or _CERTIFICATE_PATH"


def default_azure_tokens(
    scope: str = STORAGE_SCOPE,
    *,
    environ: Mapping[str, str] | None = None,
    reactor: Any = None,
    agent: Any = None,
) -> RefreshingTokens:
    """
    The first source of Azure AD tokens the environment configures.

    :param scope: the scope asked for (Azure Storage's).
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for token requests instead of the network (tests).
    :returns: a (shared) source; when it is the managed identity, its first
        token fails with :class:`~txcloud.errors.InvalidCredsError` naming
        every place looked at if no endpoint answers.
    :raises InvalidCredsError: for a client certificate that cannot be used.
    """
    env = os.environ if environ is None else environ
    if reactor is None:
        from twisted.internet import reactor
    tenant, client = env.get("AZURE_TENANT_ID"), env.get("AZURE_CLIENT_ID")
    options: dict[str, Any] = {"scope": scope, "reactor": reactor, "agent": agent, "environ": env}
    if tenant and client:
        options["authority"] = authority_host(env)
        secret = env.get("AZURE_CLIENT_SECRET")
        certificate_path = env.get("AZURE_CLIENT_CERTIFICATE_PATH")
        token_file = env.get("AZURE_FEDERATED_TOKEN_FILE")
        # Sources through different proxies are different sources.
        proxy = proxy_settings(None, env)
        key: tuple[Any, ...] = (tenant, client, scope, options["authority"], reactor, agent, proxy)
        if secret:
            return shared_source(
                ("secret", secret, *key),
                lambda: ClientSecretTokens(tenant, client, secret, **options),
            )
        if certificate_path:
            certificate = load_client_certificate(
                certificate_path, env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
            )
            send_chain = env.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "").lower() in ("1", "true")
            return shared_source(
                ("certificate", certificate, send_chain, *key),
                lambda: ClientCertificateTokens(
                    tenant, client, certificate, send_chain=send_chain, **options
                ),
            )
        if token_file:
            return shared_source(
                ("workload", token_file, *key),
                lambda: WorkloadIdentityTokens(tenant, client, token_file, **options),
            )
    looked = f"the environment ({_ENVIRONMENT}; AZURE_FEDERATED_TOKEN_FILE)"
    return shared_source(
        (
            "managed",
            scope,
            client,
            env.get("IDENTITY_ENDPOINT"),
            env.get("IDENTITY_HEADER"),
            env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST"),
            reactor,
            agent,
        ),
        lambda: ManagedIdentityTokens(scope, environ=env, reactor=reactor, agent=agent).last_resort(
            looked
        ),
    )
