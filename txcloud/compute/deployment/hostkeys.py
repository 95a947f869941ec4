"""
Which SSH host keys a deployment trusts.

With a ``known_hosts`` file (OpenSSH's format, plain or hashed names), a
server's key must be listed for it: under ``[host]:port`` when the port is
not 22 (as OpenSSH writes it), else, or when no such entry exists, under
``host``.  A missing or different key is refused.  Without a file the key
is trusted on first use and logged with the host and its fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from twisted.conch.client.knownhosts import KnownHostsFile
from twisted.conch.ssh.keys import Key
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from twisted.python.filepath import FilePath

__all__ = ["HostKeyPolicy", "HostKeyRefusedError", "fingerprint"]


class HostKeyRefusedError(Exception):
    """The ``known_hosts`` file lists no key, or another key, for the server."""


def fingerprint(key: Key) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key."""
    digest = base64.b64encode(hashlib.sha256(key.blob()).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


class HostKeyPolicy(KnownHostsFile):
    """
    Decides whether to trust the key an SSH server presents.

    It is a :class:`~twisted.conch.client.knownhosts.KnownHostsFile` only
    so that conch's client endpoint accepts it; it never writes the file.

    :param known_hosts: a ``known_hosts`` file to check keys against, or
        ``None`` to trust on first use.
    :param port: the server's port, for ``[host]:port`` entries.
    """

    _log = Logger()

    def __init__(self, known_hosts: str | None, port: int) -> None:
        path = None if known_hosts is None else FilePath(known_hosts)
        super().__init__(path)  # type: ignore[arg-type]
        # Read once, when the connection is made.
        self._entries = [] if path is None else list(KnownHostsFile.fromPath(path).iterentries())
        self._known_hosts = known_hosts
        self._port = port

    def _names(self, hostname: str) -> list[bytes]:
        if self._port == 22:
            return [hostname.encode()]
        return [f"[{hostname}]:{self._port}".encode(), hostname.encode()]

    def verifyHostKey(self, ui: object, hostname: bytes, ip: bytes, key: Key) -> Deferred[bool]:
        """Fire with ``True`` for a trusted key, or fail with why it is refused."""
        host = hostname.decode()
        shown = host if self._port == 22 else f"[{host}]:{self._port}"
        if self._known_hosts is None:
            self._log.info(
                "Trusting the {key_type} host key of {host} on first use: {fingerprint}",
                key_type=key.sshType().decode(),
                host=shown,
                fingerprint=fingerprint(key),
            )
            return succeed(True)
        for name in self._names(host):
            entries: list[Any] = [entry for entry in self._entries if _matches_host(entry, name)]
            if not entries:
                continue
            if any(entry.matchesKey(key) for entry in entries):
                return succeed(True)
            return fail(self._refused(f"lists another host key for {shown}", key))
        return fail(self._refused(f"lists no host key for {shown}", key))

    def _refused(self, problem: str, key: Key) -> HostKeyRefusedError:
        return HostKeyRefusedError(
            f"{self._known_hosts} {problem} (the server presented "
            f"{key.sshType().decode()} {fingerprint(key)})"
        )


def _matches_host(entry: Any, name: bytes) -> bool:
    return bool(entry.matchesHost(name))
