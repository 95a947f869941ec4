"""
A fake of Azure's managed identity endpoints: App Service's (for
``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``) and the instance metadata
service's ``/metadata/identity/oauth2/token``.
"""

from __future__ import annotations

import secrets
from typing import Any

from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing._tokens import json_reply, oauth_error_reply
from txcloud.testing.azure._tokens import AzureTokenIssuer
from txcloud.testing.azure.entra import DEFAULT_TENANT

__all__ = ["IMDS_TOKEN_PATH", "FakeManagedIdentity"]

#: Where the instance metadata service hands out tokens.
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"


class FakeManagedIdentity(FakeService):
    """
    The managed identity of a machine or an app.

    ``GET IMDS_TOKEN_PATH`` with ``Metadata: true`` answers as the instance
    metadata service (API version 2018-02-01); ``GET`` of any other path with
    ``X-IDENTITY-HEADER`` set to :attr:`identity_header` answers as App
    Service (API version 2019-08-01).  Both need ``resource`` and may name a
    user-assigned identity by ``client_id``.

    :param clock: the clock tokens expire on; the global reactor by default.
    :param tenant: the tenant in the tokens' issuer.
    :param client_id: the system-assigned identity's client id.
    :ivar identity_header: the secret App Service gives in ``IDENTITY_HEADER``.
    :ivar tokens: the issuer (``tokens.is_valid(token)``, ``tokens.lifetime``).
    :ivar requests: ``(kind, resource, client_id)`` of each token request,
        ``kind`` being ``"imds"`` or ``"app-service"``.
    """

    def __init__(
        self,
        clock: Any = None,
        *,
        tenant: str = DEFAULT_TENANT,
        client_id: str = "00000000-0000-4000-8000-0000000051d1",
    ) -> None:
        super().__init__(clock)
        self.client_id = client_id
        self.identity_header = secrets.token_hex(16)
        self.tokens = AzureTokenIssuer(self.clock, tenant)
        self.requests: list[tuple[str, str, str | None]] = []

    def _handle(self, received: Received) -> Reply:
        if received.method != "GET":
            raise Refused(405, "invalid_request", "Method not allowed")
        if received.path == IMDS_TOKEN_PATH:
            kind, version = "imds", "2018-02-01"
            if received.header("Metadata") != "true":
                raise Refused(400, "invalid_request", "Required metadata header not specified")
        else:
            kind, version = "app-service", "2019-08-01"
            if received.header("X-IDENTITY-HEADER") != self.identity_header:
                raise Refused(401, "invalid_request", "The identity header is missing or wrong")
        if received.arg("api-version") != version:
            raise Refused(400, "invalid_request", "Invalid or missing api-version")
        resource = received.arg("resource")
        if not resource:
            raise Refused(400, "invalid_request", "Required query variable 'resource' is missing")
        client_id = received.arg("client_id")
        self.requests.append((kind, resource, client_id))
        token = self.tokens.issue_for(resource, client_id or self.client_id)
        expires_on = int(self.clock.seconds()) + self.tokens.lifetime
        document = {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id or self.client_id,
        }
        if kind == "imds":
            document["expires_in"] = str(self.tokens.lifetime)
        return json_reply(document)

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return oauth_error_reply(refused)
