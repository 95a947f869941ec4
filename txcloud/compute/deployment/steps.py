"""
Deployment steps, with Libcloud's names: run a script, put a file, install
a public key, or several of those in order.

A step runs on an :class:`~txcloud.compute.deployment.ssh.SSHClient`; its
:meth:`Deployment.run` fails when the command it sends fails (a non-zero
exit, a timeout), and :func:`~txcloud.compute.deployment.run.run_deployment`
turns that into a :class:`~txcloud.errors.DeploymentError` naming the step.
"""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred

from txcloud.compute.deployment.ssh import CommandResult, CommandTimeout, SSHClient
from txcloud.errors import InvalidArgumentError

if TYPE_CHECKING:
    from txcloud.compute.base import Node

__all__ = [
    "Deployment",
    "FileDeployment",
    "MultiStepDeployment",
    "SSHKeyDeployment",
    "ScriptDeployment",
    "StepFailed",
]


class StepFailed(Exception):
    """A step's command exited non-zero; the step keeps its output."""


class Deployment:
    """
    Base class of deployment steps.

    :ivar stdout: what the step's command wrote to standard output, once run.
    :ivar stderr: what it wrote to standard error.
    :ivar exit_status: how it exited (``None`` until it ran to its end).
    """

    stdout: str | None = None
    stderr: str | None = None
    exit_status: int | None = None

    def run(self, node: Node, client: SSHClient) -> Deferred[Node]:
        """Run this step on *node* through *client*; fires with *node*."""
        return Deferred.fromCoroutine(self._run(node, client))

    async def _run(self, node: Node, client: SSHClient) -> Node:
        raise NotImplementedError

    def leaves(self) -> list[Deployment]:
        """The single steps this deployment is made of, in order."""
        return [self]

    async def _execute(
        self, client: SSHClient, command: str, stdin: bytes, timeout: float | None = None
    ) -> None:
        """Run *command* and keep its output; fail unless it exits 0."""
        try:
            result = await client.execute(command, stdin, timeout)
        except CommandTimeout as e:
            if e.output is not None:
                self._keep_output(e.output)
                self.exit_status = None
            raise
        self._keep_output(result)
        if result.exit_status != 0:
            raise StepFailed(f"exited with status {result.exit_status}")

    def _keep_output(self, result: CommandResult) -> None:
        self.stdout = result.stdout.decode("utf-8", "replace")
        self.stderr = result.stderr.decode("utf-8", "replace")
        self.exit_status = result.exit_status


class ScriptDeployment(Deployment):
    """
    Upload a script, make it executable and run it (from the login user's
    home unless *name* is absolute).

    :param script: the script's text, with its ``#!`` line.
    :param args: arguments to run it with.
    :param name: the file to write it to; a random ``deployment_*.sh`` when
        ``None``.
    :param delete: remove the file once the script has run.
    :param timeout: seconds the script may run; ``None`` for no limit.
    """

    def __init__(
        self,
        script: str,
        args: Sequence[str] | None = None,
        name: str | None = None,
        delete: bool = False,
        timeout: float | None = None,
    ) -> None:
        if not isinstance(script, str) or not script:
            raise InvalidArgumentError("ScriptDeployment needs a script's text")
        if timeout is not None and not timeout > 0:
            raise InvalidArgumentError(f"timeout must be positive or None, not {timeout!r}")
        self.script = script
        self.args = list(args or [])
        self.name = name or f"deployment_{secrets.token_hex(8)}.sh"
        self.delete = delete
        self.timeout = timeout
        self._named_randomly = name is None

    def __deepcopy__(self, memo: dict[int, object]) -> ScriptDeployment:
        # A copy deployed beside the original (one per node) gets its own
        # random file name, unless the caller chose the name.
        return ScriptDeployment(
            self.script,
            self.args,
            None if self._named_randomly else self.name,
            self.delete,
            self.timeout,
        )

    def __repr__(self) -> str:
        return f"<ScriptDeployment name={self.name!r}>"

    def command(self) -> str:
        """The shell command that writes and runs the script."""
        path = shlex.quote(self.name if os.path.isabs(self.name) else "./" + self.name)
        run = " ".join([path, *(shlex.quote(arg) for arg in self.args)])
        command = f"cat > {path} && chmod +x {path} && {run}"
        if self.delete:
            command = f"{command}; status=$?; rm -f {path}; exit $status"
        return command

    async def _run(self, node: Node, client: SSHClient) -> Node:
        await self._execute(client, self.command(), self.script.encode(), self.timeout)
        return node


class FileDeployment(Deployment):
    """
    Copy a local file to the node.  The file is read whole when the step
    runs: it is meant for configuration files and scripts, not for data.

    :param source: the local file.
    :param target: where to write it (relative to the login user's home).
    :raises InvalidArgumentError: when *source* is not a file.
    """

    def __init__(self, source: str, target: str) -> None:
        if not os.path.isfile(source):
            raise InvalidArgumentError(f"FileDeployment source {source!r} is not a file")
        self.source = source
        self.target = target

    def __repr__(self) -> str:
        return f"<FileDeployment source={self.source!r} target={self.target!r}>"

    async def _run(self, node: Node, client: SSHClient) -> Node:
        with open(self.source, "rb") as source:
            content = source.read()
        await self._execute(client, f"cat > {shlex.quote(self.target)}", content)
        return node


class SSHKeyDeployment(Deployment):
    """
    Add a public key to the login user's ``~/.ssh/authorized_keys``.

    :param key: the public key line (``ssh-ed25519 AAAA... comment``).
    """

    _COMMAND = (
        "umask 077 && mkdir -p .ssh && "
        '{ if [ -s .ssh/authorized_keys ] && [ -n "$(tail -c 1 .ssh/authorized_keys)" ]; '
        "then echo; fi; cat; } >> .ssh/authorized_keys"
    )

    def __init__(self, key: str) -> None:
        if not isinstance(key, str) or len(key.split()) < 2:
            raise InvalidArgumentError("SSHKeyDeployment needs a public key line")
        self.key = key.strip()

    def __repr__(self) -> str:
        return f"<SSHKeyDeployment key={self.key.split()[0]}>"

    async def _run(self, node: Node, client: SSHClient) -> Node:
        await self._execute(client, self._COMMAND, (self.key + "\n").encode())
        return node


class MultiStepDeployment(Deployment):
    """
    Several steps run in order; a failing step stops the ones after it.

    :param add: the steps (more may be added with :meth:`add`).
    """

    def __init__(self, add: Iterable[Deployment] | None = None) -> None:
        self.steps: list[Deployment] = []
        for step in add or []:
            self.add(step)

    def __repr__(self) -> str:
        return f"<MultiStepDeployment steps={self.steps!r}>"

    def add(self, step: Deployment) -> None:
        """Append *step*."""
        if not isinstance(step, Deployment):
            raise InvalidArgumentError(f"Not a deployment step: {step!r}")
        self.steps.append(step)

    def leaves(self) -> list[Deployment]:
        """The single steps, nested multi-step deployments flattened."""
        return [leaf for step in self.steps for leaf in step.leaves()]

    async def _run(self, node: Node, client: SSHClient) -> Node:
        for step in self.leaves():
            await step.run(node, client)
        return node
