"""
Integration tests of the Amazon ECS driver against moto server, on the real
reactor.

Tasks run with the Fargate launch type in a default subnet of moto's EC2
(found with a signed EC2 Query request), or with the EC2 launch type on a
container instance backed by a moto EC2 instance.  moto moves a task one
step along its lifecycle each time it is described; the tests pin it to
RUNNING until it is stopped, as a real task would stay.

moto answers every ``List*`` call in one page, so paging itself is tested
by the unit tests; here listings use a small page size and must still be
complete.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import treq
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.common.aws import AWSDriver
from txcloud.container.base import Container, ContainerCluster
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.container.types import ContainerState
from txcloud.errors import (
    ClusterNotFoundError,
    ContainerNotFoundError,
    InvalidArgumentError,
    InvalidRequestError,
    ProviderError,
)
from txcloud.http import findall_local, findtext_local
from txcloud.test.emulators import moto, reset_moto

REGION = "eu-west-1"
OTHER_REGION = "us-west-2"
FARGATE: dict[str, Any] = {"ex_launch_type": "FARGATE", "ex_cpu": 256, "ex_memory": 512}


async def _moto_api(path: str, document: dict[str, Any]) -> None:
    response = await treq.post(moto.url + path, json.dumps(document).encode(), persistent=False)
    await response.content()


class _EC2Query(AWSDriver):
    """Just enough of EC2's Query API to give ECS a subnet and an instance."""

    service_name = "ec2"

    async def call(self, action: str, **params: str) -> Any:
        body = urlencode({"Action": action, "Version": "2016-11-15", **params}).encode()
        request = self._aws_request(
            "POST",
            self.endpoint + "/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=body,
        )
        response = await self.http.send(request)
        return await response.xml()


class ECSMotoTestCase(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        await moto.ensure_started()
        await reset_moto()
        await _moto_api(
            "/moto-api/state-manager/set-transition",
            {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}},
        )
        self.addCleanup(
            lambda: Deferred.fromCoroutine(
                _moto_api("/moto-api/state-manager/unset-transition", {"model_name": "ecs::task"})
            )
        )

    def _options(self, region: str) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": moto.port, "secure": False, "region": region}

    def driver(self, region: str = REGION) -> ElasticContainerDriver:
        driver = ElasticContainerDriver("AKIDEXAMPLE", "secret", **self._options(region))
        self.addCleanup(driver.close)
        return driver

    async def network(self, region: str = REGION) -> dict[str, Any]:
        """A network configuration for Fargate tasks in a default subnet."""
        ec2 = _EC2Query("AKIDEXAMPLE", "secret", **self._options(region))
        self.addCleanup(ec2.close)
        root = await ec2.call("DescribeSubnets")
        subnet = findtext_local(findall_local(root, "subnetSet/item")[0], "subnetId")
        return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}}

    async def container_instance(self, driver: ElasticContainerDriver, cluster: str) -> None:
        """Register a moto EC2 instance in *cluster*, as the ECS agent would."""
        ec2 = _EC2Query("AKIDEXAMPLE", "secret", **self._options(driver.region or REGION))
        self.addCleanup(ec2.close)
        root = await ec2.call("RunInstances", ImageId="ami-12c6146b", MinCount="1", MaxCount="1")
        instance = findtext_local(findall_local(root, "instancesSet/item")[0], "instanceId")
        # Registering is the agent's call, not a user's: the driver has no method for it.
        await driver._call(
            "RegisterContainerInstance",
            {"cluster": cluster, "instanceIdentityDocument": json.dumps({"instanceId": instance})},
        )

    async def deploy_fargate(
        self, driver: ElasticContainerDriver, name: str, image: str, cluster: str
    ) -> Container:
        return await driver.deploy_container(
            name,
            image,
            cluster=cluster,
            ex_network_configuration=await self.network(driver.region or REGION),
            **FARGATE,
        )


class ClusterTests(ECSMotoTestCase):
    async def test_cluster_lifecycle(self) -> None:
        driver = self.driver()
        created = await driver.create_cluster("builds")
        self.assertEqual(created.name, "builds")
        self.assertTrue(created.id.startswith(f"arn:aws:ecs:{REGION}:"))
        self.assertTrue(created.id.endswith(":cluster/builds"))
        self.assertEqual(created.extra["status"], "ACTIVE")

        by_name = await driver.get_cluster("builds")
        by_arn = await driver.get_cluster(created.id)
        self.assertEqual((by_name.id, by_arn.id), (created.id, created.id))
        self.assertEqual(by_name, created)

        await driver.create_cluster("tests")
        listed = await driver.list_clusters(ex_page_size=1)
        self.assertEqual(sorted(c.name for c in listed), ["builds", "tests"])

        self.assertIs(await created.destroy(), True)
        self.assertEqual((await driver.get_cluster("builds")).extra["status"], "INACTIVE")

    async def test_clusters_are_regional(self) -> None:
        here, there = self.driver(REGION), self.driver(OTHER_REGION)
        await here.create_cluster("builds")
        self.assertEqual(await there.list_clusters(), [])
        with self.assertRaises(ClusterNotFoundError):
            await there.get_cluster("builds")
        twin = await there.create_cluster("builds")
        self.assertIn(f":{OTHER_REGION}:", twin.id)
        self.assertEqual(
            [c.id for c in await here.list_clusters()], [(await here.get_cluster("builds")).id]
        )

    async def test_missing_cluster_is_cluster_not_found(self) -> None:
        driver = self.driver()
        with self.assertRaises(ClusterNotFoundError):
            await driver.get_cluster("nowhere")
        with self.assertRaises(ClusterNotFoundError) as raised:
            await driver.destroy_cluster("nowhere")
        self.assertEqual(raised.exception.code, "ClusterNotFoundException")
        with self.assertRaises(ClusterNotFoundError):
            await driver.list_containers(cluster="nowhere")
        with self.assertRaises(ClusterNotFoundError):
            await self.deploy_fargate(driver, "web", "nginx:1.25", "nowhere")

    async def test_bad_cluster_name_is_refused_before_any_request(self) -> None:
        driver = self.driver()
        with self.assertRaises(InvalidArgumentError):
            driver.create_cluster("not a name")
        self.assertEqual(await driver.list_clusters(), [])


class DeployTests(ECSMotoTestCase):
    async def test_deploy_fargate_task(self) -> None:
        driver = self.driver()
        cluster = await driver.create_cluster("builds")
        container = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        self.assertEqual(container.name, "web")
        self.assertEqual(container.state, ContainerState.RUNNING)
        self.assertEqual((container.image.path, container.image.version), ("nginx:1.25", "1.25"))
        self.assertEqual(len(container.ip_addresses), 1)
        self.assertEqual(container.extra["clusterArn"], cluster.id)
        self.assertEqual(container.extra["launchType"], "FARGATE")
        self.assertTrue(container.extra["taskDefinitionArn"].endswith(":task-definition/web:1"))
        self.assertIn(f":{REGION}:", container.extra["taskArn"])

    async def test_deploy_onto_a_container_instance(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        await self.container_instance(driver, "builds")
        container = await driver.deploy_container(
            "web",
            "nginx:1.25",
            cluster="builds",
            parameters="nginx -g 'daemon off;'",
            ex_container_port=80,
            ex_host_port=8080,
        )
        self.assertEqual(container.state, ContainerState.RUNNING)
        # The host port is taken now: ECS cannot place a second copy.
        more = driver.ex_start_task(container.extra["taskDefinitionArn"], cluster="builds")
        with self.assertRaises(ProviderError) as raised:
            await more
        self.assertIs(type(raised.exception), ProviderError)
        self.assertIn("started no task", raised.exception.message)

    async def test_deploy_without_start_then_start(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        pending = await driver.deploy_container(
            "idle",
            "busybox:1.36",
            cluster="builds",
            start=False,
            ex_network_configuration=await self.network(),
            **FARGATE,
        )
        self.assertEqual(pending.state, ContainerState.STOPPED)
        self.assertEqual(await driver.list_containers(cluster="builds"), [])
        started = await pending.start()
        self.assertEqual(started.state, ContainerState.RUNNING)
        self.assertEqual(started.extra["taskDefinitionArn"], pending.id)
        listed = await driver.list_containers(cluster="builds")
        self.assertEqual([c.id for c in listed], [started.id])

    async def test_awsvpc_task_without_network_is_an_invalid_request(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        with self.assertRaises(InvalidRequestError) as raised:
            await driver.deploy_container("web", "nginx:1.25", cluster="builds", **FARGATE)
        self.assertEqual(raised.exception.code, "InvalidParameterException")

    async def test_unknown_task_definition_is_an_invalid_request(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        with self.assertRaises(InvalidRequestError) as raised:
            await driver.ex_start_task("never-registered:1", cluster="builds")
        self.assertEqual(raised.exception.code, "ClientException")

    async def test_bad_deploy_arguments_are_refused_before_any_request(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        for arguments in ({"ex_memory": 0}, {"ex_launch_type": "LAMBDA"}, {"ex_host_port": 80}):
            with self.assertRaises(InvalidArgumentError):
                driver.deploy_container("web", "nginx:1.25", cluster="builds", **arguments)
        self.assertEqual(await driver.list_containers(cluster="builds"), [])


class ContainerTests(ECSMotoTestCase):
    async def test_list_containers_sees_every_task(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        network = await self.network()
        deployed = []
        for n in range(5):
            image = "nginx:1.25" if n % 2 else "redis:7"
            deployed.append(
                await driver.deploy_container(
                    f"app{n}", image, cluster="builds", ex_network_configuration=network, **FARGATE
                )
            )
        listed = await driver.list_containers(cluster="builds", ex_page_size=2)
        self.assertEqual(sorted(c.id for c in listed), sorted(c.id for c in deployed))
        self.assertEqual({c.state for c in listed}, {ContainerState.RUNNING})

        nginx = await driver.install_image("nginx:1.25")
        only_nginx = await driver.list_containers(image=nginx, cluster="builds")
        self.assertEqual(sorted(c.name for c in only_nginx), ["app1", "app3"])

        cluster = await driver.get_cluster("builds")
        self.assertEqual(len(await cluster.list_containers()), 5)

    async def test_containers_are_regional(self) -> None:
        here, there = self.driver(REGION), self.driver(OTHER_REGION)
        await here.create_cluster("builds")
        await there.create_cluster("builds")
        mine = await self.deploy_fargate(here, "web", "nginx:1.25", "builds")
        self.assertEqual(await there.list_containers(cluster="builds"), [])
        with self.assertRaises(ContainerNotFoundError):
            await there.get_container(mine.extra["taskArn"])
        self.assertEqual([c.id for c in await here.list_containers(cluster="builds")], [mine.id])

    async def test_get_container_by_its_id_or_its_task(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        await driver.create_cluster("other")
        await self.deploy_fargate(driver, "decoy", "redis:7", "other")
        deployed = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        by_id = await driver.get_container(deployed.id, ex_cluster="builds")
        by_task = await driver.get_container(deployed.extra["taskArn"])
        for found in (by_id, by_task):
            self.assertEqual(found.id, deployed.id)
            self.assertEqual(found.name, "web")
            self.assertEqual(found.state, ContainerState.RUNNING)

    async def test_missing_container_is_container_not_found(self) -> None:
        driver = self.driver()
        cluster = await driver.create_cluster("builds")
        deployed = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        missing_task = deployed.extra["taskArn"].rsplit("/", 1)[0] + "/0123456789abcdef"
        with self.assertRaises(ContainerNotFoundError):
            await driver.get_container(missing_task)
        with self.assertRaises(ContainerNotFoundError):
            await driver.get_container(deployed.id + "0", ex_cluster=cluster)

    async def test_stop_container(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        kept = await self.deploy_fargate(driver, "kept", "redis:7", "builds")
        deployed = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        stopped = await deployed.stop()
        self.assertEqual(stopped.id, deployed.id)
        self.assertEqual(stopped.extra["desiredStatus"], "STOPPED")
        self.assertEqual(
            (await driver.get_container(deployed.extra["taskArn"])).state, ContainerState.STOPPED
        )
        running = await driver.list_containers(cluster="builds", all=False)
        self.assertEqual([c.id for c in running], [kept.id])
        everything = await driver.list_containers(cluster="builds")
        self.assertEqual(
            {c.id: c.state for c in everything},
            {kept.id: ContainerState.RUNNING, deployed.id: ContainerState.STOPPED},
        )

    async def test_destroy_container(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        deployed = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        self.assertIs(await driver.destroy_container(deployed), True)
        self.assertEqual(await driver.list_containers(cluster="builds", all=False), [])

    async def test_restart_container_runs_a_new_task(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        deployed = await self.deploy_fargate(driver, "web", "nginx:1.25", "builds")
        restarted = await deployed.restart()
        self.assertNotEqual(restarted.extra["taskArn"], deployed.extra["taskArn"])
        self.assertEqual(restarted.extra["taskDefinitionArn"], deployed.extra["taskDefinitionArn"])
        self.assertEqual(restarted.state, ContainerState.RUNNING)
        states = {c.id: c.state for c in await driver.list_containers(cluster="builds")}
        self.assertEqual(
            states, {deployed.id: ContainerState.STOPPED, restarted.id: ContainerState.RUNNING}
        )

    async def test_cluster_counts_running_tasks(self) -> None:
        driver = self.driver()
        await driver.create_cluster("builds")
        await self.container_instance(driver, "builds")
        await driver.ex_start_task(
            (await driver.deploy_container("web", "nginx:1.25", cluster="builds", start=False)).id,
            count=3,
            cluster="builds",
        )
        cluster: ContainerCluster = await driver.get_cluster("builds")
        self.assertEqual(cluster.extra["registeredContainerInstancesCount"], 1)
        self.assertEqual(cluster.extra["runningTasksCount"], 3)
        self.assertEqual(len(await driver.list_containers(cluster="builds", ex_page_size=1)), 3)
