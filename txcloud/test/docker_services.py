"""
A private Docker engine and Docker registries for integration tests,
started once per test run (see :mod:`txcloud.test.emulators`):

* :data:`dockerd`: ``dockerd`` serving its Unix socket and TCP with TLS
  (client certificates required), its own data root and exec root in a
  scratch folder, no bridge network and no iptables rules (so containers
  need ``network_mode="none"``); certificates made here with
  ``cryptography``;
* :data:`registry`: ``docker-registry`` (Docker Distribution) without
  authentication, and :data:`auth_registry` behind htpasswd (basic)
  authentication as :data:`REGISTRY_USER` / :data:`REGISTRY_PASSWORD`.

:func:`seed` imports a busybox image (``/bin/busybox`` from Debian's
``busybox-static``, with ``sh``, ``echo``, ``sleep`` and ``cat`` links) into
the engine through the Engine API and pushes it to :data:`registry` as
``busybox:1`` and ``busybox:2`` and ``busybox-copy:1``.
"""

from __future__ import annotations

import datetime
import io
import ipaddress
import os
import shutil
import tarfile
from collections.abc import Sequence
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.task import deferLater

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.http import HTTPTransport, Request, RetryPolicy, UNIXSocketAgent
from txcloud.test.emulators import (
    REQUIRE_ENV,
    EmulatorUnavailable,
    LocalService,
    emulators_required,
    reactor,
)

__all__ = [
    "REGISTRY_PASSWORD",
    "REGISTRY_USER",
    "Certificates",
    "Seed",
    "auth_registry",
    "dockerd",
    "make_certificates",
    "registry",
    "seed",
    "unavailable",
]

#: The user and password :data:`auth_registry` accepts.
REGISTRY_USER = "txcloud"
REGISTRY_PASSWORD = "registry-test-password"
# bcrypt (cost 4) of REGISTRY_PASSWORD: the registry's htpasswd takes only bcrypt.
_HTPASSWD = f"{REGISTRY_USER}:$2b$04$sRejTk8LnNtrVCVKqInI1.gkc4RUVusf4sFsofqeQP2a6.FwJuJK6\n"
_BUSYBOX = "/bin/busybox"
_BUSYBOX_LINKS = ("sh", "echo", "sleep", "cat")


def unavailable(reason: str) -> None:
    """Skip the test because *reason*, or fail it when emulators are required."""
    from twisted.trial.unittest import SkipTest

    if emulators_required():
        raise AssertionError(f"{reason} ({REQUIRE_ENV} is set)")
    raise SkipTest(reason)


# Certificates


@attrs.frozen
class Certificates:
    """PEM files of a test CA, a server certificate and client certificates."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    #: A client certificate signed by another CA, which the server refuses.
    stranger_cert: str
    stranger_key: str


def _write(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    usage: Any = None,
    names: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer is not None else (name, key)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates(folder: str) -> Certificates:
    """
    Write a CA, a server certificate for ``127.0.0.1``/``localhost`` and
    client certificates into *folder*.
    """
    os.makedirs(folder, exist_ok=True)
    pem = serialization.Encoding.PEM

    def ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        return _certificate(name, key, None), key

    def leaf(
        name: str, authority: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], **kw: Any
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, key, (authority[0].subject, authority[1]), **kw)
        return cert.public_bytes(pem), _key_pem(key)

    authority = ca("txcloud test CA")
    server = leaf(
        "dockerd",
        authority,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client = leaf("client", authority, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = leaf("stranger", ca("another CA"), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    path = os.path.join
    return Certificates(
        ca=_write(path(folder, "ca.pem"), authority[0].public_bytes(pem)),
        server_cert=_write(path(folder, "server-cert.pem"), server[0]),
        server_key=_write(path(folder, "server-key.pem"), server[1]),
        client_cert=_write(path(folder, "cert.pem"), client[0]),
        client_key=_write(path(folder, "key.pem"), client[1]),
        stranger_cert=_write(path(folder, "stranger-cert.pem"), stranger[0]),
        stranger_key=_write(path(folder, "stranger-key.pem"), stranger[1]),
    )


# The engine


def _dockerd_program() -> list[str] | None:
    program = shutil.which("dockerd")
    if program is None:
        return None
    if os.geteuid() != 0:
        raise EmulatorUnavailable("dockerd needs root")
    return [program]


class DockerDaemon(LocalService):
    """
    A private ``dockerd``: its Unix socket at :attr:`socket_path`, TCP with
    TLS (client certificates verified against :attr:`certificates`' CA) on
    :attr:`port`.
    """

    def __init__(self) -> None:
        super().__init__("dockerd", _dockerd_program, self._command_line, ready_path="/_ping")
        self.folder = ""
        self.certificates: Certificates | None = None

    @property
    def socket_path(self) -> str:
        """The engine's Unix socket."""
        return os.path.join(self.folder, "docker.sock")

    def _command_line(self, port: int, folder: str) -> list[str]:
        # Called with the scratch folder just made: the certificates go in it.
        self.folder = folder
        self.certificates = certs = make_certificates(os.path.join(folder, "certs"))
        return [
            f"--host=unix://{self.socket_path}",
            f"--host=tcp://127.0.0.1:{port}",
            "--tlsverify",
            f"--tlscacert={certs.ca}",
            f"--tlscert={certs.server_cert}",
            f"--tlskey={certs.server_key}",
            f"--data-root={os.path.join(folder, 'data')}",
            f"--exec-root={os.path.join(folder, 'exec')}",
            f"--pidfile={os.path.join(folder, 'docker.pid')}",
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--shutdown-timeout=1",
            "--log-level=warn",
        ]

    async def _wait_until_ready(self) -> None:
        # The TCP port wants a client certificate: ask the socket instead.
        deadline = reactor.seconds() + self._startup_timeout
        agent = UNIXSocketAgent(self.socket_path, reactor=reactor, connect_timeout=2)
        transport = HTTPTransport(
            reactor=reactor, agent=agent, timeout=2, retry=RetryPolicy(max_attempts=1)
        )
        try:
            while reactor.seconds() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise EmulatorUnavailable(
                        f"exited with {self._process.returncode}; see {self.folder}/output.log"
                    )
                try:
                    response = await transport.send(Request("GET", "http://docker/_ping"))
                    await response.content()
                    return
                except Exception:
                    await deferLater(reactor, 0.1)
        finally:
            await transport.close()
            await agent.close()
        self.stop()
        raise EmulatorUnavailable(f"not ready after {self._startup_timeout} seconds")


#: The private Docker engine.
dockerd = DockerDaemon()


# Registries


def _registry_program() -> list[str] | None:
    program = shutil.which("docker-registry")
    return [program] if program else None


def _registry_config(port: int, folder: str, auth: str = "") -> list[str]:
    config = os.path.join(folder, "config.yml")
    with open(config, "w") as f:
        f.write(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {os.path.join(folder, 'data')}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n" + auth
        )
    return ["serve", config]


def _htpasswd_config(port: int, folder: str) -> list[str]:
    htpasswd = _write(os.path.join(folder, "htpasswd"), _HTPASSWD.encode())
    auth = f"auth:\n  htpasswd:\n    realm: txcloud-test\n    path: {htpasswd}\n"
    return _registry_config(port, folder, auth)


#: A registry without authentication.
registry = LocalService("docker-registry", _registry_program, _registry_config, "/v2/")


class _AuthRegistry(LocalService):
    """A registry behind htpasswd: ready once ``/v2/`` asks for credentials."""

    async def _wait_until_ready(self) -> None:
        deadline = reactor.seconds() + self._startup_timeout
        transport = HTTPTransport(reactor=reactor, timeout=2, retry=RetryPolicy(max_attempts=1))
        try:
            while reactor.seconds() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise EmulatorUnavailable(f"exited with {self._process.returncode}")
                try:
                    request = Request("GET", self.url + "/v2/", ok_statuses={401})
                    response = await transport.send(request)
                    await response.content()
                    if response.status == 401:
                        return
                except Exception:
                    pass
                await deferLater(reactor, 0.1)
        finally:
            await transport.close()
        self.stop()
        raise EmulatorUnavailable(f"not ready after {self._startup_timeout} seconds")


#: A registry asking for :data:`REGISTRY_USER` and :data:`REGISTRY_PASSWORD`.
auth_registry = _AuthRegistry(
    "docker-registry (htpasswd)", _registry_program, _htpasswd_config, "/v2/"
)


# The seeded image


def busybox_tarball() -> bytes:
    """A root file system tarball with busybox and a few of its commands."""
    if not os.path.exists(_BUSYBOX):
        raise EmulatorUnavailable(f"{_BUSYBOX} missing (install busybox-static)")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo("bin")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        tar.add(_BUSYBOX, arcname="bin/busybox")
        for name in _BUSYBOX_LINKS:
            link = tarfile.TarInfo(f"bin/{name}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buffer.getvalue()


@attrs.frozen
class Seed:
    """What :func:`seed` put where."""

    #: The image's id in the engine.
    image_id: str
    #: ``127.0.0.1:PORT/busybox:1`` in :data:`registry`.
    reference: str
    #: The manifest digest the registry gave ``busybox:1``.
    digest: str | None
    #: The registry, as image references name it (``127.0.0.1:PORT``).
    registry: str


_seed_lock = DeferredLock()
_seeded: Seed | None = None


def seed() -> Deferred[Seed]:
    """
    Start the engine and :data:`registry` and push busybox to it, once per run.

    :returns: a Deferred firing with the :class:`Seed`; the test is skipped
        (or failed when emulators are required) if a program is missing.
    """
    return Deferred.fromCoroutine(_seed())


async def _seed() -> Seed:
    global _seeded
    await dockerd.ensure_started()
    await registry.ensure_started()
    await _seed_lock.acquire()
    try:
        if _seeded is None:
            try:
                tarball = busybox_tarball()
            except EmulatorUnavailable as e:
                unavailable(str(e))
            _seeded = await _push_busybox(tarball)
        return _seeded
    finally:
        _seed_lock.release()


async def _push_busybox(tarball: bytes) -> Seed:
    driver = DockerContainerDriver(host=f"unix://{dockerd.socket_path}", reactor=reactor)
    try:
        image = await driver.ex_import_image(tarball, "local/busybox", "1")
        where = f"127.0.0.1:{registry.port}"
        digest = None
        for repository, tag in (("busybox", "1"), ("busybox", "2"), ("busybox-copy", "1")):
            tagged = await driver.ex_tag_image(image, f"{where}/{repository}", tag)
            pushed = await driver.ex_push_image(tagged)
            digest = digest or pushed
        return Seed(
            image_id=str(image.id),
            reference=f"{where}/busybox:1",
            digest=digest,
            registry=where,
        )
    finally:
        await driver.close()
