"""
Managed identity: tokens of the identity Azure gives the machine or the
service the code runs in.

* App Service, Azure Functions, Container Apps and Arc set
  ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``: a ``GET`` of the endpoint
  (API version 2019-08-01) with the header ``X-IDENTITY-HEADER``;
* virtual machines and AKS nodes answer at the instance metadata service,
  ``http://169.254.169.254/metadata/identity/oauth2/token`` (API version
  2018-02-01) with the header ``Metadata: true``;
  ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` names another host for it.

A user-assigned identity is chosen by its client id (``AZURE_CLIENT_ID``).
The token is asked for the resource of the scope (the scope without
``/.default``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from txcloud.auth.azure.entra import STORAGE_SCOPE
from txcloud.auth.refresh import Expiring
from txcloud.auth.tokens import RefreshingTokens
from txcloud.http import Request

__all__ = ["IMDS_ENDPOINT", "ManagedIdentityTokens"]

#: The instance metadata service.
IMDS_ENDPOINT = "http://169.254.169.254"

_IMDS_PATH = "/metadata/identity/oauth2/token"


class ManagedIdentityTokens(RefreshingTokens):
    """
    Tokens of the managed identity, from the endpoint the environment
    names, else from the instance metadata service.

    :param scope: the scope asked for (Azure Storage's).
    :param client_id: a user-assigned identity's client id; by default
        ``AZURE_CLIENT_ID`` if set, else the system-assigned identity.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` to send through instead (tests).
    """

    def __init__(
        self,
        scope: str = STORAGE_SCOPE,
        *,
        client_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        agent: Any = None,
    ) -> None:
        env = os.environ if environ is None else environ
        endpoint, secret = env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER")
        # Off Azure nothing answers at the instance metadata service: give up soon.
        super().__init__(
            reactor, agent=agent, environ=env, timeout=30.0 if endpoint else 3.0, attempts=2
        )
        self.resource = scope.removesuffix("/.default")
        self.client_id = client_id or env.get("AZURE_CLIENT_ID") or None
        query: dict[str, str] = {"resource": self.resource}
        if self.client_id:
            query["client_id"] = self.client_id
        if endpoint and secret:
            query["api-version"] = "2019-08-01"
            self.url = endpoint
            self._headers = {"X-IDENTITY-HEADER": secret}
            self.description = f"the managed identity endpoint {endpoint}"
        else:
            host = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_ENDPOINT
            query["api-version"] = "2018-02-01"
            self.url = host.rstrip("/") + _IMDS_PATH
            self._headers = {"Metadata": "true"}
            self.description = f"the instance metadata service at {host}"
        self._query = urlencode(sorted(query.items()))

    async def _fetch(self) -> Expiring[str]:
        separator = "&" if "?" in self.url else "?"
        url = f"{self.url}{separator}{self._query}"
        return await self._send(Request("GET", url, headers=dict(self._headers)))
