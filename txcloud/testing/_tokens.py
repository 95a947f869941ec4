"""
What the fake token endpoints share: issuing access tokens that expire on
the fake's clock, telling whether a token is one of theirs and still valid,
and reading and checking RS256 JWTs (client assertions).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from txcloud.testing._http import Refused, Reply

__all__ = ["TokenIssuer", "json_reply", "oauth_error_reply", "verified_jwt"]


class TokenIssuer:
    """
    Access tokens handed out by a fake, each valid for :attr:`lifetime`
    seconds on *clock*.

    :ivar lifetime: seconds each new token is valid for.
    :ivar issued: every token handed out, in order.
    """

    def __init__(self, clock: Any, prefix: str, lifetime: int = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.issued: list[str] = []
        self._prefix = prefix
        self._expiry: dict[str, float] = {}

    def issue(self, token: str | None = None) -> str:
        """Record a new token (by default ``PREFIX-N``) and return it."""
        if token is None:
            token = f"{self._prefix}-{len(self.issued) + 1}"
        self.issued.append(token)
        self._expiry[token] = self.clock.seconds() + self.lifetime
        return token

    def is_valid(self, token: str) -> bool:
        """Whether *token* was issued here and has not expired."""
        expiry = self._expiry.get(token)
        return expiry is not None and self.clock.seconds() < expiry

    def revoke_all(self) -> None:
        """Make every issued token invalid."""
        self._expiry.clear()


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verified_jwt(token: str, key_for: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """
    The header and claims of an RS256 JWT whose signature checks out.

    :param key_for: called with the header and the claims, returns the
        :class:`~cryptography.hazmat.primitives.asymmetric.rsa.RSAPublicKey`
        to check the signature with, or ``None`` for an unknown signer.
    :raises ValueError: for anything but a well-formed, correctly signed JWT.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise ValueError("not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    if header.get("alg") != "RS256":
        raise ValueError("the JWT is not signed with RS256")
    key = key_for(header, claims)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the JWT's signer is unknown")
    message = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ValueError("the JWT's signature does not verify") from None
    return header, claims


def json_reply(document: Any, status: int = 200) -> Reply:
    """An answer carrying *document* as JSON."""
    return Reply(
        status=status,
        headers={"Content-Type": "application/json"},
        body=json.dumps(document).encode(),
    )


def oauth_error_reply(refused: Refused) -> Reply:
    """An OAuth 2.0 error answer (RFC 6749, section 5.2): ``error`` and its description."""
    return json_reply({"error": refused.code, "error_description": refused.message}, refused.status)
