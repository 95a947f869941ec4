"""
Running deployments: on an existing node (:func:`run_deployment`), or on a
node created for it (:func:`deploy_node`, behind ``NodeDriver.deploy_node``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.logger import Logger

from txcloud.compute.deployment.ssh import SSHClient, load_private_keys
from txcloud.compute.deployment.steps import Deployment
from txcloud.errors import DeploymentError, InvalidArgumentError, RequestTimeoutError

if TYPE_CHECKING:
    from txcloud.compute.base import Node, NodeDriver

__all__ = ["DEFAULT_SSH_TIMEOUT", "SSHOptions", "deploy_node", "run_deployment", "run_steps"]

#: Seconds to connect, secure and log in, unless told otherwise.
DEFAULT_SSH_TIMEOUT = 10.0

_log = Logger()


def _check_deployment(deployment: object) -> None:
    if not isinstance(deployment, Deployment):
        raise InvalidArgumentError(f"Not a deployment step: {deployment!r}")


@attrs.frozen(repr=False)
class SSHOptions:
    """
    How to reach nodes over SSH, checked when made (files included), so bad
    options are refused before any node is created or any connection made.

    :param ssh_username: the user to log in as.
    :param ssh_port: the nodes' SSH port.
    :param ssh_key: the path of a private key file (or a list of paths).
    :param ssh_timeout: seconds each connection may take to log in.
    :param ssh_interface: ``"public_ips"`` or ``"private_ips"``: which
        address (the first) to connect to.
    :param known_hosts: an OpenSSH ``known_hosts`` file the host keys must
        be listed in; ``None`` trusts them on first use and logs their
        fingerprints.
    :raises InvalidArgumentError: for a bad option, a missing or unusable
        key file, or a missing ``known_hosts`` file.
    """

    ssh_username: str = "root"
    ssh_port: int = 22
    ssh_key: str | Sequence[str] | None = None
    ssh_timeout: float = DEFAULT_SSH_TIMEOUT
    ssh_interface: str = "public_ips"
    known_hosts: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.ssh_interface not in ("public_ips", "private_ips"):
            raise InvalidArgumentError(
                f"ssh_interface must be 'public_ips' or 'private_ips', not {self.ssh_interface!r}"
            )
        port = self.ssh_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidArgumentError(f"ssh_port must be a TCP port, not {port!r}")
        if not self.ssh_timeout > 0:
            raise InvalidArgumentError(f"ssh_timeout must be positive, not {self.ssh_timeout!r}")
        if self.ssh_key is None:
            raise InvalidArgumentError("ssh_key needs the path of a private key file")
        load_private_keys(self.ssh_key)
        if self.known_hosts is not None and not os.path.isfile(self.known_hosts):
            raise InvalidArgumentError(f"known_hosts file {self.known_hosts!r} does not exist")

    def __repr__(self) -> str:
        return f"<SSHOptions {self.ssh_username}@*:{self.ssh_port} via {self.ssh_interface}>"

    def client(self, node: Node, reactor: Any = None) -> SSHClient:
        """
        A client for *node*'s first address on the chosen interface.

        :param reactor: the node's driver's when ``None``.
        :raises InvalidArgumentError: when the node has no such address.
        """
        addresses = getattr(node, self.ssh_interface)
        if not addresses:
            raise InvalidArgumentError(f"Node {node.name} ({node.id}) has no {self.ssh_interface}")
        assert self.ssh_key is not None  # checked when made
        return SSHClient(
            reactor=node.driver.reactor if reactor is None else reactor,
            host=addresses[0],
            port=self.ssh_port,
            username=self.ssh_username,
            keys=load_private_keys(self.ssh_key),
            known_hosts=self.known_hosts,
            connect_timeout=self.ssh_timeout,
        )


def run_deployment(
    node: Node, deployment: Deployment, reactor: Any = None, **ssh: Any
) -> Deferred[Node]:
    """
    Run *deployment*'s steps on an existing node, in order, over SSH.

    :param node: the node.
    :param deployment: a step, or a
        :class:`~txcloud.compute.deployment.MultiStepDeployment`.
    :param reactor: the reactor to connect with; the node's driver's when ``None``.
    :param ssh: :class:`SSHOptions`: ``ssh_username="root"``, ``ssh_port=22``,
        ``ssh_key`` (required), ``ssh_timeout=10``,
        ``ssh_interface="public_ips"``, ``known_hosts=None``.
    :returns: a Deferred firing with *node* once every step succeeded, or
        failing with :class:`~txcloud.errors.DeploymentError` for the first
        step that failed (later steps do not run).
    :raises InvalidArgumentError: for a missing key or ``known_hosts`` file,
        a node without an address, or another bad argument, before connecting.
    """
    _check_deployment(deployment)
    return run_steps(node, deployment, SSHOptions(**ssh).client(node, reactor))


def run_steps(node: Node, deployment: Deployment, client: SSHClient) -> Deferred[Node]:
    """
    Run *deployment*'s single steps on *node* through *client*, in order.

    :returns: a Deferred firing with *node*, or failing with
        :class:`~txcloud.errors.DeploymentError` for the first failed step.
    """
    return Deferred.fromCoroutine(_run_steps(node, deployment, client))


async def _run_steps(node: Node, deployment: Deployment, client: SSHClient) -> Node:
    for step in deployment.leaves():
        _log.info(
            "Deploying {step!r} to {node!r} via {client!r}", step=step, node=node, client=client
        )
        try:
            await step.run(node, client)
        except Exception as e:
            reason = str(e) or type(e).__name__
            raise DeploymentError(
                f"Deployment to node {node.name} ({node.id}) failed at step {step!r}: {reason}",
                node.driver,
                node=node,
                step=step,
                reason=reason,
            ) from e
    return node


def deploy_node(
    driver: NodeDriver,
    deploy: Deployment,
    ssh: SSHOptions,
    timeout: float,
    wait_period: float,
    create_node_args: dict[str, Any],
) -> Deferred[Node]:
    """
    Create a node, wait until it runs and its SSH port answers, then deploy.

    See :meth:`txcloud.compute.base.NodeDriver.deploy_node`.
    """
    _check_deployment(deploy)

    async def create_and_deploy() -> Node:
        deadline = driver.reactor.seconds() + timeout
        node = await driver.create_node(**create_node_args)
        [(node, addresses)] = await driver.wait_until_running(
            [node], wait_period=wait_period, timeout=timeout, ssh_interface=ssh.ssh_interface
        )
        await _wait_until_reachable(driver, addresses[0], ssh.ssh_port, deadline, wait_period)
        return await run_steps(node, deploy, ssh.client(node))

    return Deferred.fromCoroutine(create_and_deploy())


async def _wait_until_reachable(
    driver: NodeDriver, host: str, port: int, deadline: float, wait_period: float
) -> None:
    reactor = driver.reactor
    while True:
        remaining = deadline - reactor.seconds()
        try:
            connected = connectProtocol(
                HostnameEndpoint(reactor, host.encode(), port, timeout=max(1, int(remaining))),
                Protocol(),
            )
            protocol = await connected
        except Exception:
            if reactor.seconds() + wait_period > deadline:
                raise RequestTimeoutError(
                    f"{host}:{port} did not accept connections before the deadline", driver
                ) from None
            await deferLater(reactor, wait_period)
        else:
            assert protocol.transport is not None
            protocol.transport.loseConnection()
            return
