"""
How HTTPS connections are verified: the platform's trust store or a CA
bundle, ``service_identity`` hostname (or IP address) checks, an optional
client certificate, and verification turned off only when asked.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

import attrs
from twisted.internet import ssl
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from txcloud.errors import InvalidArgumentError

#: Hosts whose connection settings a policy keeps.
_MAX_CREATORS = 256

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


@attrs.frozen
class TLSOptions:
    """
    TLS settings of a transport.

    :param verify: verify the server's certificate and name (the default).
        ``False`` accepts any server, so anyone on the path can read and
        change the traffic; the transport logs a warning when it is used.
    :param ca_file: a PEM file of one or more CA certificates to trust
        instead of the platform's trust store.
    :param client_cert: a PEM file with the client certificate to present
        (Docker's TLS, Kubernetes); it may also hold the private key.
    :param client_key: a PEM file with the client certificate's private key,
        when it is not in *client_cert*.
    """

    verify: bool = True
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidArgumentError(f"cannot read the {what} {path!r}: {e.strerror}") from None


def _trust_root(ca_file: str) -> Any:
    blocks = _PEM_CERTIFICATE.findall(_read(ca_file, "CA file"))
    if not blocks:
        raise InvalidArgumentError(f"no PEM certificate in the CA file {ca_file!r}")
    try:
        certificates = [ssl.Certificate.loadPEM(block) for block in blocks]
    except Exception:
        raise InvalidArgumentError(f"unreadable certificate in the CA file {ca_file!r}") from None
    return ssl.trustRootFromCertificates(certificates)


def _client_certificate(cert_file: str, key_file: str | None) -> ssl.PrivateCertificate:
    pem = _read(cert_file, "client certificate")
    if key_file is not None:
        pem += b"\n" + _read(key_file, "client key")
    try:
        return ssl.PrivateCertificate.loadPEM(pem)
    except Exception:
        # The exception text may quote the key material: say nothing of it.
        raise InvalidArgumentError(
            f"cannot load the client certificate and key from {cert_file!r}"
            + (f" and {key_file!r}" if key_file else "")
        ) from None


@implementer(IOpenSSLClientConnectionCreator)
class _UnverifiedCreator:
    """Connections that accept any certificate but still send the server name."""

    def __init__(self, options: ssl.CertificateOptions, hostname: str) -> None:
        self._options = options
        self._hostname = hostname

    def clientConnectionForTLS(self, tls_protocol: Any) -> Any:
        connection = self._options.clientConnectionForTLS(tls_protocol)
        if not (isIPAddress(self._hostname) or isIPv6Address(self._hostname)):
            connection.set_tlsext_host_name(self._hostname.encode("idna"))
        return connection


@implementer(IPolicyForHTTPS)
class TLSPolicy:
    """
    The :class:`~twisted.web.iweb.IPolicyForHTTPS` an Agent uses to make
    each HTTPS connection, built from :class:`TLSOptions`.

    Files are read once, here, so a missing or bad file is refused before
    any request.

    :raises InvalidArgumentError: for an unreadable file, a file without a
        certificate, or ``verify=False`` together with ``ca_file``.
    """

    def __init__(self, options: TLSOptions) -> None:
        if not options.verify and options.ca_file is not None:
            raise InvalidArgumentError("ca_file has no effect when verify is False")
        if options.client_key is not None and options.client_cert is None:
            raise InvalidArgumentError("client_key needs client_cert")
        self.options = options
        self._trust_root = _trust_root(options.ca_file) if options.ca_file else None
        self._client = (
            _client_certificate(options.client_cert, options.client_key)
            if options.client_cert
            else None
        )
        self._creators: dict[bytes, Any] = {}
        self._unverified: ssl.CertificateOptions | None = None
        if not options.verify:
            extra: dict[str, Any] = {}
            if self._client is not None:
                extra = {
                    "privateKey": self._client.privateKey.original,
                    "certificate": self._client.original,
                }
            self._unverified = ssl.CertificateOptions(verify=False, **extra)

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        """
        Connection settings for *hostname*, made once per host (with its
        OpenSSL context) and shared by every connection to it; see
        :meth:`~twisted.web.iweb.IPolicyForHTTPS.creatorForNetloc`.
        """
        creator = self._creators.get(hostname)
        if creator is None:
            if len(self._creators) >= _MAX_CREATORS:
                self._creators.pop(next(iter(self._creators)))
            creator = self._creators[hostname] = self._creator(hostname.decode("ascii"))
        return creator

    def _creator(self, host: str) -> Any:
        if self._unverified is not None:
            return _UnverifiedCreator(self._unverified, host)
        return ssl.optionsForClientTLS(
            host, trustRoot=self._trust_root, clientCertificate=self._client
        )


def _stamp(path: str | None) -> tuple[int, int] | None:
    # A file replaced or rewritten gets a new policy.
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=64)
def _cached_policy(options: TLSOptions, stamps: tuple[Any, ...]) -> TLSPolicy:
    return TLSPolicy(options)


def policy_for(options: TLSOptions) -> TLSPolicy:
    """
    The :class:`TLSPolicy` of *options*, shared by every transport with
    equal options while their files are unchanged: the CA bundle and
    client certificate are read once, and each host's OpenSSL context is
    made once, however many drivers use them.  Different options never
    share a policy, nor do the platform's trust stores named by different
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` values.

    :raises InvalidArgumentError: as :class:`TLSPolicy` does.
    """
    stamps: tuple[Any, ...] = (
        _stamp(options.ca_file),
        _stamp(options.client_cert),
        _stamp(options.client_key),
    )
    if options.ca_file is None:
        # The platform's trust store is where OpenSSL's variables say.
        file, folder = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
        stamps += (file, _stamp(file), folder)
    return _cached_policy(options, stamps)
