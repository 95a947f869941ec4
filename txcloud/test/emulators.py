"""
Real local services for integration tests, started once per test run on
free ports of 127.0.0.1 and stopped by process id when the run ends.

A test case asks for a service in ``setUp`` (``await moto.ensure_started()``
through a Deferred); when the service's program is missing the test skips
with the reason, or fails when ``TXCLOUD_REQUIRE_EMULATORS=1`` (CI).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import treq
from twisted.internet import reactor as _global_reactor
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest

#: The real reactor; integration tests run on it.
reactor: Any = _global_reactor

__all__ = [
    "EmulatorUnavailable",
    "LocalService",
    "TinyProxy",
    "checking_moto",
    "free_port",
    "iam_moto",
    "moto",
]

REQUIRE_ENV = "TXCLOUD_REQUIRE_EMULATORS"


class EmulatorUnavailable(Exception):
    """A required emulator could not be found or started."""


def emulators_required() -> bool:
    """Whether a missing emulator fails the test instead of skipping it."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Probe(Protocol):
    """A connection made only to see that a service accepts them."""

    def __init__(self) -> None:
        self.closed: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed.callback(None)


class LocalService:
    """
    One emulator process shared by every test that needs it.

    :param name: what to call it in messages.
    :param find_program: returns the argv prefix to run, or ``None`` when
        the program is not installed.
    :param arguments: the rest of the command line, given the port and a
        scratch folder.
    :param ready_path: a path answering 200 once the service is up; ``None``
        for a service that is up once it accepts connections (a proxy).
    :param startup_timeout: seconds to wait for readiness.
    """

    def __init__(
        self,
        name: str,
        find_program: Callable[[], list[str] | None],
        arguments: Callable[[int, str], Sequence[str]],
        ready_path: str | None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self._find_program = find_program
        self._arguments = arguments
        self._ready_path = ready_path
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None
        self._lock = DeferredLock()
        self._broken: str | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running service."""
        return f"http://127.0.0.1:{self.port}"

    def ensure_started(self) -> Deferred[None]:
        """Start the service unless it runs; skip or fail the test if it cannot."""
        return Deferred.fromCoroutine(self._ensure()).addErrback(self._unavailable)

    async def _ensure(self) -> None:
        await self._lock.acquire()
        try:
            if self._broken is not None:
                raise EmulatorUnavailable(self._broken)
            if self._process is None or self._process.poll() is not None:
                try:
                    await self._start()
                except EmulatorUnavailable as e:
                    self._broken = str(e)
                    raise
        finally:
            self._lock.release()

    def _unavailable(self, failure: Failure) -> None:
        failure.trap(EmulatorUnavailable)
        reason = f"{self.name} unavailable: {failure.value}"
        if emulators_required():
            raise AssertionError(f"{reason} ({REQUIRE_ENV} is set)")
        raise SkipTest(reason)

    async def _start(self) -> None:
        program = self._find_program()
        if program is None:
            raise EmulatorUnavailable("program not installed")
        self.stop()
        self._folder = tempfile.mkdtemp(prefix=f"txcloud-{self.name.replace(' ', '-')}-")
        self.port = free_port()
        with open(os.path.join(self._folder, "output.log"), "wb") as log:
            self._process = subprocess.Popen(
                [*program, *self._arguments(self.port, self._folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        atexit.register(self.stop)
        await self._wait_until_ready()

    async def _wait_until_ready(self) -> None:
        deadline = reactor.seconds() + self._startup_timeout
        while reactor.seconds() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmulatorUnavailable(f"exited with {self._process.returncode}")
            try:
                if await self._answers():
                    return
            except Exception:
                pass
            await deferLater(reactor, 0.1)
        self.stop()
        raise EmulatorUnavailable(f"not ready after {self._startup_timeout} seconds")

    async def _answers(self) -> bool:
        """
        Whether the service is up: :attr:`url` with the ready path answers 200
        or, with no ready path, its port accepts a connection.
        """
        if self._ready_path is None:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port, timeout=2)
            probe = await connectProtocol(endpoint, _Probe())
            probe.transport.loseConnection()
            await probe.closed
            return True
        response = await treq.get(self.url + self._ready_path, timeout=2, persistent=False)
        await response.content()
        return bool(response.code == 200)

    def stop(self) -> None:
        """Stop the process (by its id) and remove its scratch folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _moto_program() -> list[str] | None:
    program = shutil.which("moto_server")
    return [program] if program else None


def _checking_moto_program() -> list[str] | None:
    program = shutil.which("moto_server")
    env = shutil.which("env")
    return [env, "INITIAL_NO_AUTH_ACTION_COUNT=0", program] if program and env else None


def _moto_arguments(port: int, folder: str) -> list[str]:
    return ["-H", "127.0.0.1", "-p", str(port)]


#: moto server: EC2, S3, ECS and the other AWS services, any credentials.
moto = LocalService("moto server", _moto_program, _moto_arguments, ready_path="/moto-api/")

#: A second moto that checks credentials against its IAM users (it has none).
checking_moto = LocalService(
    "moto server checking credentials",
    _checking_moto_program,
    _moto_arguments,
    ready_path="/moto-api/",
)


#: A third moto whose IAM set-up and authentication switch tests own
#: (``POST /moto-api/reset-auth``), so they never disturb the others.
iam_moto = LocalService(
    "moto server for IAM", _moto_program, _moto_arguments, ready_path="/moto-api/"
)


async def reset_moto() -> None:
    """Forget every resource moto holds (between tests)."""
    response = await treq.post(moto.url + "/moto-api/reset", persistent=False)
    await response.content()


def _tinyproxy_program() -> list[str] | None:
    program = shutil.which("tinyproxy")
    return [program] if program else None


class TinyProxy(LocalService):
    """
    tinyproxy in the foreground with a configuration of its own, logging
    every request and ``CONNECT`` (:meth:`log` reads it).

    :param connect_ports: the ports ``CONNECT`` may reach (asked at start).
    :param basic_auth: the user name and password it requires, if any.
    """

    def __init__(
        self,
        name: str,
        connect_ports: Callable[[], Sequence[int]],
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(name, _tinyproxy_program, self._command_line, ready_path=None)
        self._connect_ports = connect_ports
        self._basic_auth = basic_auth
        self._log_path = ""

    def _command_line(self, port: int, folder: str) -> list[str]:
        self._log_path = os.path.join(folder, "tinyproxy.log")
        lines = [
            f"Port {port}",
            "Listen 127.0.0.1",
            "Allow 127.0.0.1",
            "Timeout 60",
            f'LogFile "{self._log_path}"',
            "LogLevel Connect",
            *(f"ConnectPort {connect_port}" for connect_port in self._connect_ports()),
        ]
        if self._basic_auth is not None:
            lines.append("BasicAuth {} {}".format(*self._basic_auth))
        config = os.path.join(folder, "tinyproxy.conf")
        with open(config, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        return ["-d", "-c", config]

    def log(self) -> str:
        """What the proxy has logged so far."""
        with open(self._log_path, encoding="utf-8", errors="replace") as file:
            return file.read()


class SSHServer(LocalService):
    """
    Debian's OpenSSH server on a free port of 127.0.0.1, key-only, with a
    throwaway host key and client key.

    It runs as root in a private mount namespace whose ``/root`` is a scratch
    folder (:attr:`home`), so what a deployment writes there, ``~/.ssh``
    included, never reaches the machine's own accounts.
    """

    def __init__(self) -> None:
        super().__init__("OpenSSH server", self._program, self._configure, ready_path="")

    @staticmethod
    def _program() -> list[str] | None:
        unshare = shutil.which("unshare")
        if not (os.path.exists("/usr/sbin/sshd") and unshare and shutil.which("ssh-keygen")):
            return None
        if os.geteuid() != 0:
            return None
        return [unshare, "--mount", "--propagation", "private", "sh", "-c"]

    @property
    def folder(self) -> str:
        """The scratch folder holding the keys and configuration."""
        assert self._folder is not None
        return self._folder

    @property
    def home(self) -> str:
        """The login user's home as the server sees it (``/root`` inside)."""
        return os.path.join(self.folder, "home")

    @property
    def client_key(self) -> str:
        """The path of the client's private key (Ed25519, OpenSSH format)."""
        return os.path.join(self.folder, "client_key")

    @property
    def known_hosts(self) -> str:
        """A ``known_hosts`` file listing the server's key as ``[host]:port``."""
        return os.path.join(self.folder, "known_hosts")

    @property
    def host_public_key(self) -> str:
        """The server's public host key line."""
        with open(os.path.join(self.folder, "host_key.pub"), encoding="ascii") as key:
            return key.read().strip()

    def _configure(self, port: int, folder: str) -> list[str]:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
            PublicFormat,
        )

        home = os.path.join(folder, "home")
        os.makedirs(home, mode=0o700)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{folder}/host_key"],
            check=True,
            capture_output=True,
        )
        client = Ed25519PrivateKey.generate()
        with open(f"{folder}/client_key", "wb") as key:
            key.write(client.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
        os.chmod(f"{folder}/client_key", 0o600)
        public = client.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
        with open(f"{folder}/authorized_keys", "wb") as authorized:
            authorized.write(public + b" txcloud-tests\n")
        with open(f"{folder}/host_key.pub", encoding="ascii") as host_key:
            key_type, blob = host_key.read().split()[:2]
        with open(f"{folder}/known_hosts", "w", encoding="ascii") as known:
            known.write(f"[127.0.0.1]:{port} {key_type} {blob}\n")
        config = f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {folder}/host_key
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
"""
        with open(f"{folder}/sshd_config", "w", encoding="ascii") as sshd_config:
            sshd_config.write(config)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        return [f"mount --bind {home} /root && exec /usr/sbin/sshd -D -e -f {folder}/sshd_config"]

    async def _answers(self) -> bool:
        """Whether the server greets with its SSH banner."""
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
        from twisted.internet.protocol import Protocol

        greeted: Deferred[bytes] = Deferred()

        class Banner(Protocol):
            def dataReceived(self, data: bytes) -> None:
                if not greeted.called:
                    greeted.callback(data)

        protocol = await connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", self.port), Banner()
        )
        try:
            return (await greeted).startswith(b"SSH-2.0-")
        finally:
            protocol.transport.loseConnection()


#: The OpenSSH server deployment tests log in to.
sshd = SSHServer()
