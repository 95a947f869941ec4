"""
Exec credential plugins (``client.authentication.k8s.io/v1`` and
``v1beta1``): the programs a kubeconfig user names under ``exec`` (``aws
eks get-token``, ``gke-gcloud-auth-plugin``, ``kubelogin``...) to print a
token or a client certificate.

:class:`ExecPlugin` runs the program as kubectl does, without blocking the
reactor (``reactor.spawnProcess``): with the process's environment plus
the kubeconfig's ``env``, the kubeconfig's ``args``, and
``KUBERNETES_EXEC_INFO`` holding the ``ExecCredential`` request (with the
cluster's details when ``provideClusterInfo`` is set).  The plugin's
standard error is the process's own, so its messages reach the user as
with kubectl; its standard input is the terminal only when it may be
interactive (``interactiveMode`` is not ``Never`` and standard input is a
terminal), and ``Always`` is refused without one.

The credentials it prints are cached until their
``expirationTimestamp`` (for as long as the source lives when there is
none) and fetched again on a ``401``.  One run is in flight at a time,
shared by every request waiting for it.  A failure to start, a non-zero
exit, output that is not an ``ExecCredential`` of the configured version:
each is an :class:`ExecPluginError` naming the kubeconfig file, context
and user, never the plugin's output.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from txcloud.container.drivers.kubernetes.config import ExecConfig, KubernetesCredentialsError
from txcloud.container.drivers.kubernetes.credentials import (
    KubernetesCredentials,
    check_token,
)

__all__ = ["MAX_OUTPUT", "ExecPlugin", "ExecPluginError", "parse_exec_credential"]

#: Bytes of standard output a plugin may print (an ExecCredential is a few KiB).
MAX_OUTPUT = 1024 * 1024


class ExecPluginError(KubernetesCredentialsError):
    """An exec credential plugin could not be run, failed, or printed no usable credential."""


def _error(config: ExecConfig, problem: str) -> ExecPluginError:
    return ExecPluginError(
        f"the exec plugin {os.path.basename(config.command)!r} {problem}", source=config.where
    )


def _pem(value: object, config: ExecConfig, name: str) -> bytes:
    if not isinstance(value, str) or "-----BEGIN " not in value:
        raise _error(config, f"gave a status.{name} that is not PEM text")
    return value.encode("ascii", "replace")


def _timestamp(value: object, config: ExecConfig) -> float | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError(value)
    except ValueError:
        raise _error(config, "gave a status.expirationTimestamp that is not RFC 3339") from None
    return moment.timestamp()


def parse_exec_credential(output: bytes, config: ExecConfig) -> KubernetesCredentials:
    """
    The credentials in a plugin's output.

    :param output: what the plugin printed: an ``ExecCredential`` document.
    :param config: the plugin's settings (its ``apiVersion``, where it is configured).
    :raises ExecPluginError: for output that is not JSON, not an
        ``ExecCredential`` of *config*'s version, or whose status holds
        neither a token nor a client certificate and key.  The output is
        never quoted.
    """
    try:
        document = json.loads(output)
    except ValueError:
        raise _error(config, "printed something that is not JSON") from None
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        raise _error(config, "printed something that is not an ExecCredential")
    if document.get("apiVersion") != config.api_version:
        raise _error(config, f"answered with another apiVersion than {config.api_version}")
    status = document.get("status")
    if not isinstance(status, dict):
        raise _error(config, "gave an ExecCredential without a status")
    token = status.get("token")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if (cert is None) != (key is None):
        raise _error(config, "gave only one of clientCertificateData and clientKeyData")
    if token is None and cert is None:
        raise _error(config, "gave neither a token nor a client certificate and key")
    if token is not None:
        try:
            check_token(token, config.where)
        except KubernetesCredentialsError:
            raise _error(config, "gave a status.token that cannot be sent") from None
    return KubernetesCredentials(
        token=token,
        client_cert=None if cert is None else _pem(cert, config, "clientCertificateData"),
        client_key=None if key is None else _pem(key, config, "clientKeyData"),
        expires=_timestamp(status.get("expirationTimestamp"), config),
    )


class _Collector(ProcessProtocol):
    """Gathers a plugin's standard output (up to a limit) and how it ended."""

    def __init__(self, keep_stdin: bool) -> None:
        self.done: Deferred[tuple[bytes, bool, Failure]] = Deferred()
        self._keep_stdin = keep_stdin
        self._chunks: list[bytes] = []
        self._size = 0

    def connectionMade(self) -> None:
        if not self._keep_stdin:
            # The plugin reads end-of-file at once instead of waiting for input.
            self.transport.closeStdin()  # type: ignore[union-attr, misc]

    def outReceived(self, data: bytes) -> None:
        self._size += len(data)
        if self._size <= MAX_OUTPUT:
            self._chunks.append(data)

    def processEnded(self, reason: Failure) -> None:
        self.done.callback((b"".join(self._chunks), self._size > MAX_OUTPUT, reason))


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class ExecPlugin:
    """
    Credentials from an exec plugin, cached until they expire (see the
    module's documentation).

    :param config: the plugin's settings, from
        :func:`~txcloud.container.drivers.kubernetes.config.load_kubeconfig`.
    :param reactor: runs the process and tells the time; the global
        reactor when ``None``.
    :param environ: the environment the plugin inherits (and whose ``PATH``
        finds it); ``os.environ`` when ``None``.
    :param interactive: whether standard input is a terminal the plugin may
        use; found out when ``None``.
    """

    log = Logger()

    def __init__(
        self,
        config: ExecConfig,
        *,
        reactor: Any = None,
        environ: Mapping[str, str] | None = None,
        interactive: bool | None = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.config = config
        self._reactor = reactor
        self._environ = dict(os.environ if environ is None else environ)
        terminal = _stdin_is_terminal() if interactive is None else interactive
        self._interactive = terminal and config.interactive_mode != "Never"
        self._credentials: KubernetesCredentials | None = None
        self._waiters: list[Deferred[KubernetesCredentials]] = []
        #: How many times the plugin was started.
        self.runs = 0

    def get(self) -> Deferred[KubernetesCredentials]:
        """The credentials, run the plugin first if none are cached or they expired."""
        cached = self._credentials
        if cached is not None and (
            cached.expires is None or self._reactor.seconds() < cached.expires
        ):
            return succeed(cached)
        waiter: Deferred[KubernetesCredentials] = Deferred()
        self._waiters.append(waiter)
        if len(self._waiters) == 1:
            Deferred.fromCoroutine(self._run()).addBoth(self._deliver)
        return waiter

    def rejected(self, credentials: KubernetesCredentials) -> None:
        """Forget *credentials* if they are the cached ones: the next get runs the plugin."""
        if credentials == self._credentials:
            self._credentials = None

    def _deliver(self, result: KubernetesCredentials | Failure) -> None:
        waiters, self._waiters = self._waiters, []
        if isinstance(result, Failure):
            for waiter in waiters:
                waiter.errback(result)
            return
        self._credentials = result
        for waiter in waiters:
            waiter.callback(result)

    def _executable(self) -> str:
        command = self.config.command
        if os.sep in command:
            found: str | None = command if os.access(command, os.X_OK) else None
        else:
            found = shutil.which(command, path=self._environ.get("PATH", os.defpath))
        if found is None:
            hint = f"; {self.config.install_hint}" if self.config.install_hint else ""
            raise _error(self.config, f"cannot be found or run{hint}")
        return found

    def _exec_info(self) -> str:
        spec: dict[str, Any] = {"interactive": self._interactive}
        if self.config.cluster is not None:
            spec["cluster"] = dict(self.config.cluster)
        request = {"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec}
        return json.dumps(request, separators=(",", ":"))

    async def _run(self) -> KubernetesCredentials:
        config = self.config
        if config.interactive_mode == "Always" and not self._interactive:
            raise _error(config, "needs a terminal (interactiveMode Always) and there is none")
        executable = self._executable()
        env = {**self._environ, **dict(config.env), "KUBERNETES_EXEC_INFO": self._exec_info()}
        collector = _Collector(keep_stdin=self._interactive)
        self.runs += 1
        self.log.info("Running the exec credential plugin for {where}", where=config.where)
        try:
            self._reactor.spawnProcess(
                collector,
                executable,
                [config.command, *config.args],
                env=env,
                childFDs={0: 0 if self._interactive else "w", 1: "r", 2: 2},
            )
        except OSError as e:
            raise _error(config, f"cannot be started: {e.strerror}") from None
        output, too_long, reason = await collector.done
        if isinstance(reason.value, ProcessTerminated):
            if reason.value.signal is not None:
                raise _error(config, f"was killed by signal {reason.value.signal}")
            raise _error(config, f"exited with status {reason.value.exitCode}")
        if not isinstance(reason.value, ProcessDone):
            raise _error(config, "ended abnormally")
        if too_long:
            raise _error(config, f"printed more than {MAX_OUTPUT} bytes")
        return parse_exec_credential(output, config)

    def __repr__(self) -> str:
        return f"<ExecPlugin {os.path.basename(self.config.command)!r} for {self.config.where}>"
