"""
Key pairs as EC2 makes them: new RSA or ED25519 keys, imported OpenSSH
public keys, and the fingerprints EC2 shows for each kind.
"""

from __future__ import annotations

import base64
import hashlib

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

__all__ = ["KEY_TYPES", "NewKey", "generate", "parse_public_key"]

#: The key types CreateKeyPair and ImportKeyPair take.
KEY_TYPES = ("rsa", "ed25519")


@attrs.frozen
class NewKey:
    """A key pair's type, OpenSSH public key, fingerprint and (when made here) private key."""

    key_type: str
    public_key: str
    fingerprint: str
    private_key: str | None = None


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def _sha256_fingerprint(openssh: bytes) -> str:
    # ED25519 keys: the SHA-256 of the key blob, in base64, as ssh-keygen shows it.
    blob = base64.b64decode(openssh.split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")


def generate(key_type: str) -> NewKey:
    """A new key pair of *key_type* (``"rsa"`` or ``"ed25519"``), as CreateKeyPair makes it."""
    openssh = serialization.PublicFormat.OpenSSH
    if key_type == "ed25519":
        ed_key = ed25519.Ed25519PrivateKey.generate()
        public = ed_key.public_key().public_bytes(serialization.Encoding.OpenSSH, openssh)
        private = ed_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        return NewKey(key_type, public.decode(), _sha256_fingerprint(public), private.decode())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = rsa_key.public_key().public_bytes(serialization.Encoding.OpenSSH, openssh)
    pkcs8 = rsa_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    # EC2 fingerprints the RSA keys it makes by the SHA-1 of their private key.
    fingerprint = _colons(hashlib.sha1(pkcs8).digest())
    return NewKey("rsa", public.decode(), fingerprint, private.decode())


def parse_public_key(text: str) -> NewKey:
    """
    An OpenSSH public key given to ImportKeyPair.

    :raises ValueError: unless it is an RSA or ED25519 OpenSSH public key.
    """
    try:
        loaded = serialization.load_ssh_public_key(text.strip().encode("ascii"))
    except UnsupportedAlgorithm:
        raise ValueError("not a key type EC2 imports") from None
    openssh = loaded.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    if isinstance(loaded, ed25519.Ed25519PublicKey):
        return NewKey("ed25519", text.strip(), _sha256_fingerprint(openssh))
    if isinstance(loaded, rsa.RSAPublicKey):
        der = loaded.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Imported RSA keys: the MD5 of the public key.
        return NewKey("rsa", text.strip(), _colons(hashlib.md5(der).digest()))
    raise ValueError("only RSA and ED25519 keys can be imported")
