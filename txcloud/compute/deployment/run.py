"""
Running deployments: on an existing node (:func:`run_deployment`), or on a
node created for it (:func:`deploy_node`, behind ``NodeDriver.deploy_node``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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

__all__ = ["deploy_node", "run_deployment", "run_steps", "ssh_client"]

#: Seconds to connect, secure and log in, unless told otherwise.
DEFAULT_SSH_TIMEOUT = 10.0

_log = Logger()


def ssh_client(
    node: Node,
    ssh_username: str = "root",
    ssh_port: int = 22,
    ssh_key: str | Sequence[str] | None = None,
    ssh_timeout: float = DEFAULT_SSH_TIMEOUT,
    ssh_interface: str = "public_ips",
    known_hosts: str | None = None,
    reactor: Any = None,
) -> SSHClient:
    """
    Check SSH arguments and build a client for *node*, before any connection.

    See :func:`run_deployment` for the arguments.

    :raises InvalidArgumentError: for a bad argument or a missing file.
    """
    if ssh_interface not in ("public_ips", "private_ips"):
        raise InvalidArgumentError(
            f"ssh_interface must be 'public_ips' or 'private_ips', not {ssh_interface!r}"
        )
    if not isinstance(ssh_port, int) or not 0 < ssh_port < 65536:
        raise InvalidArgumentError(f"ssh_port must be a TCP port, not {ssh_port!r}")
    if not ssh_timeout > 0:
        raise InvalidArgumentError(f"ssh_timeout must be positive, not {ssh_timeout!r}")
    if ssh_key is None:
        raise InvalidArgumentError("ssh_key needs the path of a private key file")
    keys = load_private_keys(ssh_key)
    if known_hosts is not None and not os.path.isfile(known_hosts):
        raise InvalidArgumentError(f"known_hosts file {known_hosts!r} does not exist")
    addresses = getattr(node, ssh_interface)
    if not addresses:
        raise InvalidArgumentError(f"Node {node.name} ({node.id}) has no {ssh_interface}")
    return SSHClient(
        reactor=node.driver.reactor if reactor is None else reactor,
        host=addresses[0],
        port=ssh_port,
        username=ssh_username,
        keys=keys,
        known_hosts=known_hosts,
        connect_timeout=ssh_timeout,
    )


def run_deployment(
    node: Node,
    deployment: Deployment,
    ssh_username: str = "root",
    ssh_port: int = 22,
    ssh_key: str | Sequence[str] | None = None,
    ssh_timeout: float = DEFAULT_SSH_TIMEOUT,
    ssh_interface: str = "public_ips",
    known_hosts: str | None = None,
    reactor: Any = None,
) -> Deferred[Node]:
    """
    Run *deployment*'s steps on an existing node, in order, over SSH.

    :param node: the node, reached at the first address of *ssh_interface*.
    :param deployment: a step, or a
        :class:`~txcloud.compute.deployment.MultiStepDeployment`.
    :param ssh_username: the user to log in as.
    :param ssh_port: the node's SSH port.
    :param ssh_key: the path of a private key file (or a list of paths).
    :param ssh_timeout: seconds each connection may take to log in.
    :param ssh_interface: ``"public_ips"`` or ``"private_ips"``.
    :param known_hosts: an OpenSSH ``known_hosts`` file the node's host key
        must be listed in; ``None`` trusts the key on first use and logs its
        fingerprint.
    :param reactor: the reactor to connect with; the node's driver's when ``None``.
    :returns: a Deferred firing with *node* once every step succeeded, or
        failing with :class:`~txcloud.errors.DeploymentError` for the first
        step that failed (later steps do not run).
    :raises InvalidArgumentError: for a missing key or ``known_hosts`` file,
        a node without an address, or another bad argument, before connecting.
    """
    if not isinstance(deployment, Deployment):
        raise InvalidArgumentError(f"Not a deployment step: {deployment!r}")
    client = ssh_client(
        node, ssh_username, ssh_port, ssh_key, ssh_timeout, ssh_interface, known_hosts, reactor
    )
    return run_steps(node, deployment, client)


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
            "Deploying {step!r} to {node!r} through {client!r}", step=step, node=node, client=client
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
    ssh_username: str = "root",
    ssh_port: int = 22,
    ssh_key: str | Sequence[str] | None = None,
    ssh_timeout: float = DEFAULT_SSH_TIMEOUT,
    ssh_interface: str = "public_ips",
    known_hosts: str | None = None,
    timeout: float = 300.0,
    wait_period: float = 5.0,
    **create_node_args: Any,
) -> Deferred[Node]:
    """
    Create a node, wait until it runs and its SSH port answers, then deploy.

    See :meth:`txcloud.compute.base.NodeDriver.deploy_node`.
    """
    if not isinstance(deploy, Deployment):
        raise InvalidArgumentError(f"Not a deployment step: {deploy!r}")
    if ssh_key is None:
        raise InvalidArgumentError("ssh_key needs the path of a private key file")
    # Refuse bad SSH arguments before anything is created.
    load_private_keys(ssh_key)
    if known_hosts is not None and not os.path.isfile(known_hosts):
        raise InvalidArgumentError(f"known_hosts file {known_hosts!r} does not exist")
    return Deferred.fromCoroutine(
        _deploy_node(
            driver,
            deploy,
            dict(
                ssh_username=ssh_username,
                ssh_port=ssh_port,
                ssh_key=ssh_key,
                ssh_timeout=ssh_timeout,
                ssh_interface=ssh_interface,
                known_hosts=known_hosts,
            ),
            timeout,
            wait_period,
            create_node_args,
        )
    )


async def _deploy_node(
    driver: NodeDriver,
    deploy: Deployment,
    ssh: dict[str, Any],
    timeout: float,
    wait_period: float,
    create_node_args: dict[str, Any],
) -> Node:
    deadline = driver.reactor.seconds() + timeout
    node = await driver.create_node(**create_node_args)
    [(node, addresses)] = await driver.wait_until_running(
        [node], wait_period=wait_period, timeout=timeout, ssh_interface=ssh["ssh_interface"]
    )
    await _wait_until_reachable(driver, addresses[0], ssh["ssh_port"], deadline, wait_period)
    return await run_deployment(node, deploy, **ssh)


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
