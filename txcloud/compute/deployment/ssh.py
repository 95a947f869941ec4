"""
Commands over SSH with twisted.conch's client endpoint, without threads.

Each command gets a connection of its own from
:class:`~twisted.conch.endpoints.SSHCommandClientEndpoint` (the endpoint
closes its connection when its command ends), so a failed or timed-out
command never leaves a half-used session behind.  Input is written to the
command's standard input and ended with EOF; files are written the same way
(``cat > file``), which needs nothing on the server but a shell, where SFTP
would need its subsystem enabled and a second client protocol.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import attrs
from twisted.conch.endpoints import SSHCommandClientEndpoint
from twisted.conch.ssh.keys import BadKeyError, EncryptedKeyError, Key
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone, ProcessTerminated
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from txcloud.compute.deployment.hostkeys import HostKeyPolicy
from txcloud.errors import InvalidArgumentError

__all__ = ["CommandResult", "CommandTimeout", "SSHClient", "load_private_keys"]


class CommandTimeout(Exception):
    """
    A command ran longer than its timeout and its connection was closed.

    :ivar output: what it wrote until then (``exit_status`` -1), if it started.
    """

    def __init__(self, message: str, output: CommandResult | None = None) -> None:
        super().__init__(message)
        self.output = output


@attrs.frozen
class CommandResult:
    """What a command wrote and how it ended (``exit_status`` -1 for a signal)."""

    stdout: bytes
    stderr: bytes
    exit_status: int


def load_private_keys(paths: str | Sequence[str]) -> list[Key]:
    """
    Read SSH private keys (OpenSSH or PEM files without a passphrase).

    :raises InvalidArgumentError: naming the file (never its content) when
        one is missing, unreadable, encrypted or not a private key.
    """
    wanted = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not wanted:
        raise InvalidArgumentError("ssh_key needs at least one key file")
    keys = []
    for path in wanted:
        if not os.path.isfile(path):
            raise InvalidArgumentError(f"SSH key file {path!r} does not exist")
        try:
            key = Key.fromFile(os.fspath(path))
        except EncryptedKeyError:
            raise InvalidArgumentError(f"SSH key file {path!r} needs a passphrase") from None
        except (BadKeyError, OSError, ValueError):
            raise InvalidArgumentError(f"SSH key file {path!r} holds no private key") from None
        if key.isPublic():
            raise InvalidArgumentError(f"SSH key file {path!r} holds a public key only")
        keys.append(key)
    return keys


class _CommandProtocol(Protocol):
    """Collects a command's output and ends its input once written."""

    def __init__(self, stdin: bytes) -> None:
        self._stdin = stdin
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self.ended: Deferred[CommandResult] = Deferred()
        self._eof_sent = False

    def connectionMade(self) -> None:
        channel: Any = self.transport
        # conch's command channel drops standard error and gives no hook for
        # the end of buffered input, so this command's channel gets both.
        channel.extReceived = self._extended_data_received
        window_added = channel.addWindowBytes

        def add_window_bytes(data: int) -> None:
            window_added(data)
            self._end_input_once_flushed()

        channel.addWindowBytes = add_window_bytes
        if self._stdin:
            channel.write(self._stdin)
        self._end_input_once_flushed()

    def _end_input_once_flushed(self) -> None:
        channel: Any = self.transport
        if not self._eof_sent and not channel.buf:
            self._eof_sent = True
            channel.conn.sendEOF(channel)

    def dataReceived(self, data: bytes) -> None:
        self._stdout.append(data)

    def _extended_data_received(self, data_type: int, data: bytes) -> None:
        self._stderr.append(data)

    def _output(self, status: int) -> CommandResult:
        return CommandResult(b"".join(self._stdout), b"".join(self._stderr), status)

    def connectionLost(self, reason: Failure = ConnectionDone) -> None:  # type: ignore[assignment]
        if self.ended.called:
            return
        status = 0
        if reason.check(ProcessTerminated):
            code = reason.value.exitCode  # type: ignore[union-attr]
            status = -1 if code is None else code
        self.ended.callback(self._output(status))

    def abort(self, message: str) -> None:
        """Close the whole connection under a command that takes too long."""
        channel: Any = self.transport
        # The endpoint's transport does not close its channels when the
        # connection goes, so the command is ended here.
        self.ended.errback(CommandTimeout(message, self._output(-1)))
        channel.conn.transport.transport.abortConnection()


@attrs.define(repr=False)
class SSHClient:
    """
    Runs commands on one SSH server as one user.

    :param reactor: the reactor to connect with and time commands on.
    :param host: the server's address.
    :param port: its SSH port.
    :param username: the user to log in as.
    :param keys: private keys to offer (see :func:`load_private_keys`).
    :param known_hosts: a ``known_hosts`` file, or ``None`` to trust the
        server's key on first use (see :class:`HostKeyPolicy`).
    :param connect_timeout: seconds to connect, secure and log in.
    """

    reactor: Any
    host: str
    port: int
    username: str
    keys: list[Key]
    known_hosts: str | None
    connect_timeout: float

    def __repr__(self) -> str:
        return f"<SSHClient {self.username}@{self.host}:{self.port}>"

    def execute(
        self, command: str, stdin: bytes = b"", timeout: float | None = None
    ) -> Deferred[CommandResult]:
        """
        Run *command*, write *stdin* to it, and wait for it to end.

        :param timeout: seconds the command may run once connected.
        :returns: a Deferred firing with a :class:`CommandResult`, or failing
            with :class:`CommandTimeout` or the connection's error.
        """
        return Deferred.fromCoroutine(self._execute(command, stdin, timeout))

    async def _execute(self, command: str, stdin: bytes, timeout: float | None) -> CommandResult:
        endpoint = SSHCommandClientEndpoint.newConnection(
            self.reactor,
            command.encode(),
            self.username.encode(),
            self.host.encode(),
            port=self.port,
            keys=self.keys,
            knownHosts=HostKeyPolicy(self.known_hosts, self.port),  # type: ignore[arg-type]
        )
        protocol = _CommandProtocol(stdin)
        connecting = endpoint.connect(Factory.forProtocol(lambda: protocol))
        give_up = self.reactor.callLater(self.connect_timeout, connecting.cancel)
        try:
            await connecting
        except CancelledError:
            if give_up.called:
                raise CommandTimeout(
                    f"could not connect and log in within {self.connect_timeout} seconds"
                ) from None
            raise
        finally:
            if give_up.active():
                give_up.cancel()
        if timeout is None:
            return await protocol.ended
        stop = self.reactor.callLater(
            timeout, protocol.abort, f"still running after {timeout} seconds"
        )
        try:
            return await protocol.ended
        finally:
            if stop.active():
                stop.cancel()
