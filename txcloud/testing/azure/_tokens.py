"""Access tokens shaped as Azure AD's: JWTs naming their audience, issuer and times."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from typing import Any

from txcloud.testing._tokens import TokenIssuer

__all__ = ["AzureTokenIssuer"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AzureTokenIssuer(TokenIssuer):
    """
    Issues JWT access tokens with the claims Azure Storage (and Azurite)
    read: ``aud``, ``iss`` (``https://sts.windows.net/TENANT/``), ``iat``,
    ``nbf``, ``exp``, ``tid``, ``oid`` and ``appid``.  They are signed with
    a key of the fake's own (HS256): nothing outside the fake can check
    them, which is all a test needs.
    """

    def __init__(self, clock: Any, tenant: str, lifetime: int = 3600) -> None:
        super().__init__(clock, "azure", lifetime)
        self.tenant = tenant
        self._key = os.urandom(32)

    def issue_for(self, audience: str, client_id: str) -> str:
        """A new token for *audience*, issued to the application *client_id*."""
        now = int(self.clock.seconds())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "tid": self.tenant,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "appid": client_id,
            "jti": str(uuid.uuid4()),
        }
        message = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = hmac.new(self._key, message.encode("ascii"), hashlib.sha256).digest()
        return self.issue(f"{message}.{_b64url(signature)}")
