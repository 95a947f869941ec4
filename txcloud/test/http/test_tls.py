"""
Tests for TLS verification, against real TLS servers on 127.0.0.1 whose
certificates are made here by a throwaway CA.  These are the only transport
tests that use the reactor and sockets (loopback only).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from twisted.internet import reactor, ssl
from twisted.internet.defer import Deferred, gatherResults
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.server import Site

from txcloud.errors import InvalidArgumentError, NetworkError, TLSVerificationError
from txcloud.http import HTTPTransport, Request, RetryPolicy, TLSOptions
from txcloud.http.tls import TLSPolicy, policy_for
from txcloud.test.http._support import ScriptedResource, capture_logs, notify_when_lost


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class ThrowawayCA:
    """A certificate authority that lives for one test."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "txcloud test CA")])
        now = datetime.now(timezone.utc)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, *names: str, client: bool = False) -> tuple[bytes, bytes]:
        """A certificate for *names* (DNS names or IP addresses) and its key, as PEM."""
        key = ec.generate_private_key(ec.SECP256R1())
        alternatives: list[x509.GeneralName] = []
        for name in names:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternatives.append(x509.DNSName(name))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM), _pem(key)


class TrackingSite(Site):
    """A Site that can tell when every connection it accepted has closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lost: list[Deferred[None]] = []

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        self._lost.append(notify_when_lost(protocol))
        return protocol

    @property
    def connections(self) -> int:
        return len(self._lost)

    def all_closed(self) -> Deferred[list[None]]:
        return gatherResults(self._lost)


def inline(
    test: Callable[[Any], Coroutine[Any, Any, None]],
) -> Callable[[Any], Deferred[None]]:
    """Run an ``async def`` test method as a Deferred (trial waits for it)."""

    @functools.wraps(test)
    def run(self: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(test(self))

    return run


class TLSServerTests(TestCase):
    def setUp(self) -> None:
        self.ca = ThrowawayCA()
        self.ca_file = self.write("ca.pem", self.ca.pem)

    def write(self, name: str, data: bytes) -> str:
        folder = Path(self.mktemp())
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(data)
        return str(path)

    def serve(self, *names: str, client_ca: ThrowawayCA | None = None) -> str:
        """Start an HTTPS server for a certificate of *names*; returns its URL."""
        certificate, key = self.ca.issue(*names)
        private = ssl.PrivateCertificate.loadPEM(certificate + key)
        extra: dict[str, Any] = {}
        if client_ca is not None:
            extra["trustRoot"] = ssl.Certificate.loadPEM(client_ca.pem)
        options = ssl.CertificateOptions(
            privateKey=private.privateKey.original, certificate=private.original, **extra
        )
        self.site = TrackingSite(ScriptedResource((200, {}, b"over TLS")))
        port = reactor.listenSSL(0, self.site, options, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(self.site.all_closed)
        return f"https://127.0.0.1:{port.getHost().port}/"

    def transport(self, tls: TLSOptions) -> HTTPTransport:
        transport = HTTPTransport(
            reactor=reactor, tls=tls, timeout=10.0, retry=RetryPolicy(max_attempts=3)
        )
        self.addCleanup(transport.close)
        return transport

    @inline
    async def test_certificate_for_another_host_is_refused(self) -> None:
        url = self.serve("example.invalid")
        transport = self.transport(TLSOptions(ca_file=self.ca_file))
        with self.assertRaises(TLSVerificationError):
            await transport.send(Request("GET", url))
        # A verification failure is not retried.
        self.assertEqual(self.site.connections, 1)

    @inline
    async def test_certificate_for_the_address_from_a_trusted_ca_is_accepted(self) -> None:
        url = self.serve("127.0.0.1", "localhost")
        transport = self.transport(TLSOptions(ca_file=self.ca_file))
        response = await transport.send(Request("GET", url))
        self.assertEqual(await response.content(), b"over TLS")

    @inline
    async def test_ca_outside_the_trust_store_is_refused(self) -> None:
        url = self.serve("127.0.0.1")
        transport = self.transport(TLSOptions())
        with self.assertRaises(TLSVerificationError):
            await transport.send(Request("GET", url))

    @inline
    async def test_disabled_verification_accepts_any_certificate(self) -> None:
        url = self.serve("example.invalid")
        events = capture_logs(self)
        transport = self.transport(TLSOptions(verify=False))
        response = await transport.send(Request("GET", url))
        self.assertEqual(await response.content(), b"over TLS")
        warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(len(warnings), 1)

    @inline
    async def test_client_certificate_is_presented(self) -> None:
        client_ca = ThrowawayCA()
        url = self.serve("127.0.0.1", client_ca=client_ca)
        certificate, key = client_ca.issue("txcloud client", client=True)
        options = TLSOptions(
            ca_file=self.ca_file,
            client_cert=self.write("client.pem", certificate),
            client_key=self.write("client.key", key),
        )
        response = await self.transport(options).send(Request("GET", url))
        self.assertEqual(await response.content(), b"over TLS")

    @inline
    async def test_server_requiring_a_client_certificate_refuses_a_client_without(self) -> None:
        url = self.serve("127.0.0.1", client_ca=ThrowawayCA())
        transport = self.transport(TLSOptions(ca_file=self.ca_file))
        with self.assertRaises(NetworkError):
            await transport.send(Request("GET", url, idempotent=False))

    @inline
    async def test_close_closes_the_pooled_connection(self) -> None:
        url = self.serve("127.0.0.1")
        transport = HTTPTransport(reactor=reactor, tls=TLSOptions(ca_file=self.ca_file))
        response = await transport.send(Request("GET", url))
        await response.content()
        closed = self.site.all_closed()
        self.assertNoResult(closed)
        await transport.close()
        await closed

    @inline
    async def test_transports_with_equal_settings_share_a_connection(self) -> None:
        url = self.serve("127.0.0.1")
        for _ in range(2):
            transport = self.transport(TLSOptions(ca_file=self.ca_file))
            response = await transport.send(Request("GET", url))
            await response.content()
        self.assertEqual(self.site.connections, 1)

    @inline
    async def test_a_connection_made_without_verification_is_never_lent_to_a_verifying_one(
        self,
    ) -> None:
        url = self.serve("127.0.0.1")
        unverified = self.transport(TLSOptions(verify=False))
        await (await unverified.send(Request("GET", url))).content()
        verifying = self.transport(TLSOptions())
        with self.assertRaises(TLSVerificationError):
            await verifying.send(Request("GET", url))
        self.assertEqual(self.site.connections, 2)

    @inline
    async def test_closing_one_transport_leaves_the_others_connection_open(self) -> None:
        url = self.serve("127.0.0.1")
        first = HTTPTransport(reactor=reactor, tls=TLSOptions(ca_file=self.ca_file))
        second = HTTPTransport(reactor=reactor, tls=TLSOptions(ca_file=self.ca_file))
        await (await first.send(Request("GET", url))).content()
        closed = self.site.all_closed()
        await first.close()
        self.assertNoResult(closed)
        await (await second.send(Request("GET", url))).content()
        self.assertEqual(self.site.connections, 1)
        await second.close()
        await closed


class TLSPolicyTests(SynchronousTestCase):
    def write(self, data: bytes) -> str:
        path = Path(self.mktemp())
        path.write_bytes(data)
        return str(path)

    def test_missing_ca_file_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, TLSPolicy, TLSOptions(ca_file=self.mktemp()))

    def test_ca_file_without_certificate_is_refused(self) -> None:
        options = TLSOptions(ca_file=self.write(b"not a certificate"))
        self.assertRaises(InvalidArgumentError, TLSPolicy, options)

    def test_ca_bundle_with_several_certificates_is_accepted(self) -> None:
        bundle = ThrowawayCA().pem + ThrowawayCA().pem
        TLSPolicy(TLSOptions(ca_file=self.write(bundle)))

    def test_ca_file_with_verification_off_is_refused(self) -> None:
        options = TLSOptions(verify=False, ca_file=self.write(ThrowawayCA().pem))
        self.assertRaises(InvalidArgumentError, TLSPolicy, options)

    def test_client_key_without_certificate_is_refused(self) -> None:
        options = TLSOptions(client_key=self.write(b"key"))
        self.assertRaises(InvalidArgumentError, TLSPolicy, options)

    def test_unloadable_client_key_is_refused_without_quoting_it(self) -> None:
        ca = ThrowawayCA()
        certificate, _ = ca.issue("client", client=True)
        options = TLSOptions(
            client_cert=self.write(certificate), client_key=self.write(b"SECRETKEYMATERIAL")
        )
        error = self.assertRaises(InvalidArgumentError, TLSPolicy, options)
        self.assertNotIn("SECRETKEYMATERIAL", str(error))

    def test_equal_settings_share_one_policy_and_one_context_per_host(self) -> None:
        options = TLSOptions(ca_file=self.write(ThrowawayCA().pem))
        policy = policy_for(options)
        self.assertIs(policy_for(TLSOptions(ca_file=options.ca_file)), policy)
        self.assertIs(
            policy.creatorForNetloc(b"example.com", 443),
            policy.creatorForNetloc(b"example.com", 443),
        )
        self.assertIsNot(
            policy.creatorForNetloc(b"example.com", 443),
            policy.creatorForNetloc(b"example.org", 443),
        )

    def test_other_settings_get_another_policy(self) -> None:
        ca_file = self.write(ThrowawayCA().pem)
        policies = {
            id(policy_for(options))
            for options in (
                TLSOptions(),
                TLSOptions(verify=False),
                TLSOptions(ca_file=ca_file),
                TLSOptions(ca_file=self.write(ThrowawayCA().pem)),
            )
        }
        self.assertEqual(len(policies), 4)

    def test_a_rewritten_ca_file_is_read_again(self) -> None:
        ca_file = self.write(ThrowawayCA().pem)
        before = policy_for(TLSOptions(ca_file=ca_file))
        Path(ca_file).write_bytes(ThrowawayCA().pem + ThrowawayCA().pem)
        self.assertIsNot(policy_for(TLSOptions(ca_file=ca_file)), before)
