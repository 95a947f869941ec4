"""
Look an image up in a registry, run it on Docker, Kubernetes and Amazon ECS,
list the containers of all three at once, then remove everything it made.

Every option may also come from the environment variable ``--help`` names.
AWS credentials come from where the AWS SDKs look (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, or ``~/.aws/credentials``).  A provider that
fails does not stop the others; the program then exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater, react

from txcloud import multi
from txcloud.container.base import Container, ContainerCluster, ContainerDriver, ContainerImage
from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.types import Provider
from txcloud.container.utils.docker import RegistryClient
from txcloud.errors import InvalidRequestError, TxCloudError

#: What every container runs: it lives until the clean-up removes it.
COMMAND = "sleep 3600"
#: Seconds each provider may take to deploy (Docker pulls the image first).
DEPLOY_TIMEOUT = 300.0
#: Seconds each provider may take to list its containers.
LIST_TIMEOUT = 60.0
#: Seconds to keep asking ECS to delete a cluster whose tasks are stopping.
ECS_DRAIN_TIMEOUT = 180.0


def parse_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    """The endpoints and names, from *argv*, else from *environ*."""
    parser = argparse.ArgumentParser(
        description="Run a registry's image on Docker, Kubernetes and ECS, list, clean up."
    )

    def option(flag: str, variable: str, help: str, default: str | None = None) -> None:
        value = environ.get(variable, default)
        parser.add_argument(flag, default=value, help=f"{help} [${variable}]")

    option("--registry", "REGISTRY_URL", "the registry: http://127.0.0.1:5000, registry.example")
    option("--image", "IMAGE", "the repository in the registry", "busybox")
    option("--tag", "IMAGE_TAG", "the tag to run", "latest")
    parser.add_argument(
        "--docker-host",
        help="the engine: unix:///PATH or tcp://HOST:PORT; by default the driver's "
        "(DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, else /var/run/docker.sock)",
    )
    option("--kubernetes", "KUBERNETES_URL", "the API server: https://HOST:6443")
    option("--kubernetes-token", "KUBERNETES_TOKEN", "a bearer token for the API server")
    parser.add_argument(
        "--kubernetes-insecure",
        action="store_true",
        default=environ.get("KUBERNETES_INSECURE", "") not in ("", "0"),
        help="accept any API server certificate [$KUBERNETES_INSECURE]",
    )
    option("--ecs-endpoint", "ECS_ENDPOINT", "HOST:PORT of an emulator (HTTP); AWS's by default")
    option("--ecs-region", "AWS_DEFAULT_REGION", "the AWS region", "us-east-1")
    option("--ecs-subnet", "ECS_SUBNET", "the VPC subnet the Fargate task runs in")
    option("--ecs-security-group", "ECS_SECURITY_GROUP", "its security group; the VPC's default")
    option("--name", "EXAMPLE_NAME", "the name of everything made; random by default")
    options = parser.parse_args(argv)
    for required in ("registry", "kubernetes", "ecs_subnet"):
        if not getattr(options, required):
            parser.error(f"--{required.replace('_', '-')} is required")
    options.name = options.name or f"txcloud-example-{uuid.uuid4().hex[:8]}"
    return options


async def look_up_image(reactor: Any, options: argparse.Namespace) -> ContainerImage:
    """The image the registry holds under the repository and tag asked for."""
    registry = RegistryClient(options.registry, reactor=reactor)
    try:
        image = await registry.get_image(options.image, options.tag)
    finally:
        await registry.close()
    print(f"image {image.path} digest {image.extra['digest']}")
    return image


def make_drivers(reactor: Any, options: argparse.Namespace) -> list[ContainerDriver]:
    """A driver for each provider (making one sends nothing)."""
    docker = DockerContainerDriver(host=options.docker_host, reactor=reactor)
    kubernetes = KubernetesContainerDriver(
        host=options.kubernetes,
        ex_token=options.kubernetes_token,
        ex_verify_tls=not options.kubernetes_insecure,
        reactor=reactor,
    )
    emulator: dict[str, Any] = {}
    if options.ecs_endpoint:
        where = urlsplit(f"//{options.ecs_endpoint}")
        emulator = {"host": where.hostname, "port": where.port, "secure": False}
    ecs = ElasticContainerDriver(region=options.ecs_region, reactor=reactor, **emulator)
    return [docker, kubernetes, ecs]


@dataclass(eq=False)
class Deployment:
    """
    One provider's part of the scenario: its driver, and what was made
    there, to be removed at the end.  Compared by identity, so that it can
    key a fan-out's results.
    """

    driver: ContainerDriver
    cluster: ContainerCluster | None = None
    container: Container | None = None

    @property
    def provider(self) -> str:
        return str(self.driver.type)


async def deploy_on_docker(
    deployment: Deployment, image: ContainerImage, options: argparse.Namespace
) -> Container:
    docker = deployment.driver
    # The engine runs only images it holds: pull this one from the registry.
    await docker.install_image(image.path)
    deployment.container = await docker.deploy_container(
        options.name, image, command=COMMAND, network_mode="none"
    )
    return deployment.container


async def deploy_on_kubernetes(
    deployment: Deployment, image: ContainerImage, options: argparse.Namespace
) -> Container:
    kubernetes = deployment.driver
    # A cluster is a namespace.  The node the pod lands on pulls the image.
    deployment.cluster = await kubernetes.create_cluster(options.name)
    deployment.container = await kubernetes.deploy_container(
        options.name, image, cluster=deployment.cluster, ex_command=shlex.split(COMMAND)
    )
    return deployment.container


async def deploy_on_ecs(
    deployment: Deployment, image: ContainerImage, options: argparse.Namespace
) -> Container:
    ecs = deployment.driver
    deployment.cluster = await ecs.create_cluster(options.name)
    # A Fargate task needs no instance of ours to run on, only a subnet.
    groups = [options.ecs_security_group] if options.ecs_security_group else []
    network = {"awsvpcConfiguration": {"subnets": [options.ecs_subnet], "securityGroups": groups}}
    deployment.container = await ecs.deploy_container(
        options.name,
        image,
        cluster=deployment.cluster,
        parameters=COMMAND,
        ex_launch_type="FARGATE",
        ex_cpu=256,
        ex_memory=512,
        ex_network_configuration=network,
    )
    return deployment.container


Deploy = Callable[[Deployment, ContainerImage, argparse.Namespace], Coroutine[Any, Any, Container]]

#: How to deploy on each provider.
DEPLOY: dict[str, Deploy] = {
    Provider.DOCKER: deploy_on_docker,
    Provider.KUBERNETES: deploy_on_kubernetes,
    Provider.ECS: deploy_on_ecs,
}


def list_containers(deployment: Deployment) -> Deferred[list[Container]]:
    """Every container the driver sees; ECS sees one cluster per call."""
    driver = deployment.driver
    if driver.type == Provider.ECS:
        return driver.list_containers(cluster=deployment.cluster)
    return driver.list_containers()


def print_table(listed: multi.FanOutResult[Deployment, list[Container]]) -> None:
    rows = [("DRIVER", "NAME", "STATE", "IMAGE")]
    for deployment, containers in listed.results.items():
        rows += [(deployment.provider, c.name, str(c.state), c.image.path) for c in containers]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


async def destroy_cluster(driver: ContainerDriver, cluster: ContainerCluster) -> None:
    reactor = driver.reactor
    deadline = reactor.seconds() + ECS_DRAIN_TIMEOUT
    while True:
        try:
            await driver.destroy_cluster(cluster)
            return
        except InvalidRequestError as e:
            # ECS deletes no cluster while it holds tasks, stopping ones too.
            if e.code != "ClusterContainsTasksException" or reactor.seconds() > deadline:
                raise
        await deferLater(reactor, 5, lambda: None)


async def clean_up(deployment: Deployment) -> None:
    """Remove the container, then the cluster, that the deployment made."""
    if deployment.container is not None:
        await deployment.driver.destroy_container(deployment.container)
        print(f"{deployment.provider}: destroyed container {deployment.container.name}")
    if deployment.cluster is not None:
        await destroy_cluster(deployment.driver, deployment.cluster)
        print(f"{deployment.provider}: destroyed cluster {deployment.cluster.name}")


def report_failures(step: str, outcome: multi.FanOutResult[Deployment, Any]) -> bool:
    """Print each provider's failure at *step*; whether any failed."""
    for deployment, failure in outcome.failures.items():
        print(f"{deployment.provider}: {step} failed: {failure.getErrorMessage()}")
    return not outcome.ok


async def main(reactor: Any, argv: Sequence[str]) -> None:
    options = parse_arguments(argv, os.environ)
    try:
        image = await look_up_image(reactor, options)
        deployments = [Deployment(driver) for driver in make_drivers(reactor, options)]
    except TxCloudError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None

    async def deploy(deployment: Deployment) -> Container:
        return await DEPLOY[deployment.driver.type](deployment, image, options)

    failed = False
    try:
        deployed = await multi.fan_out(deploy, deployments, timeout=DEPLOY_TIMEOUT)
        for deployment, container in deployed.results.items():
            print(f"{deployment.provider}: deployed {container.name} as {container.id}")
        failed |= report_failures("deploy", deployed)

        listed = await multi.fan_out(list_containers, deployments, timeout=LIST_TIMEOUT)
        print_table(listed)
        failed |= report_failures("list", listed)
    finally:
        cleaned = await multi.fan_out(clean_up, deployments)
        failed |= report_failures("clean-up", cleaned)
        for deployment in deployments:
            await deployment.driver.close()
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor, sys.argv[1:])))
