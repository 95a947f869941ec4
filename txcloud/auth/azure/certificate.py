"""
Client certificates of Azure AD applications: reading one (PEM with its
key, or PKCS #12) and signing the client assertion that proves it (an
RS256 JWT naming the certificate by its thumbprints).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from txcloud.errors import InvalidCredsError

__all__ = ["ASSERTION_LIFETIME", "ClientCertificate", "client_assertion", "load_client_certificate"]

#: Seconds a client assertion is valid for.
ASSERTION_LIFETIME = 600

_PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S)


@attrs.frozen(repr=False)
class ClientCertificate:
    """
    A certificate and its RSA private key.

    :ivar certificate: the certificate.
    :ivar private_key: its key; never shown.
    :ivar source: where it was read, for messages.
    """

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey = attrs.field(eq=False)
    source: str = "a certificate"

    def __repr__(self) -> str:
        subject = self.certificate.subject.rfc4514_string()
        return f"<ClientCertificate {subject!r} from {self.source}>"


def load_client_certificate(path: str, password: str | None = None) -> ClientCertificate:
    """
    Read a certificate and its private key from *path*: PEM holding both,
    or PKCS #12 (``.pfx``) with *password*.

    :raises InvalidCredsError: naming the file (never its content) when it
        cannot be read or holds no RSA key with a certificate.
    """
    where = f"the client certificate {path}"
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise InvalidCredsError(f"cannot read {where}: {error.strerror}") from None
    secret = password.encode("utf-8") if password else None
    certificate: x509.Certificate | None
    try:
        if b"-----BEGIN" in data:
            certificate = x509.load_pem_x509_certificates(data)[0]
            found = _PEM_KEY.search(data)
            if found is None:
                raise ValueError("no key")
            key: Any = serialization.load_pem_private_key(found.group(0), secret)
        else:
            key, certificate, _ = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError):
        # cryptography's message may quote the file: not repeated.
        raise InvalidCredsError(
            f"{where} is not a PEM or PKCS #12 certificate with its key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey) or certificate is None:
        raise InvalidCredsError(f"{where} holds no RSA key with its certificate")
    return ClientCertificate(certificate, key, where)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_assertion(
    certificate: ClientCertificate,
    client_id: str,
    audience: str,
    now: float,
    *,
    send_chain: bool = False,
    lifetime: int = ASSERTION_LIFETIME,
) -> str:
    """
    The signed JWT an application sends as ``client_assertion``.

    :param client_id: the application, its issuer and subject.
    :param audience: the token endpoint's URL.
    :param now: the POSIX time (the reactor's ``seconds()``).
    :param send_chain: include the certificate itself (``x5c``).
    :returns: ``header.claims.signature``.
    """
    der = certificate.certificate.public_bytes(serialization.Encoding.DER)
    header: dict[str, Any] = {
        "alg": "RS256",
        "typ": "JWT",
        # Azure AD names the certificate by its SHA-1 thumbprint (and SHA-256).
        "x5t": _b64url(certificate.certificate.fingerprint(hashes.SHA1())),
        "x5t#S256": _b64url(certificate.certificate.fingerprint(hashes.SHA256())),
    }
    if send_chain:
        header["x5c"] = [base64.b64encode(der).decode("ascii")]
    issued = int(now)
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
    }
    message = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = certificate.private_key.sign(
        message.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{message}.{_b64url(signature)}"
