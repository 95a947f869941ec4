"""
Unit tests of the Amazon ECS driver against an in-memory ECS (a twisted.web
resource behind treq's RequestTraversalAgent) on a Clock.

The documents the fake answers with follow the shapes of the ECS API
reference (ListClusters, DescribeClusters, ListTasks, DescribeTasks,
RegisterTaskDefinition, RunTask, StopTask and the JSON error body).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest

from txcloud.auth.aws.sigv4 import sha256_hex, sign_headers
from txcloud.container.base import Container, ContainerCluster, ContainerImage
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.container.drivers.ecs.parse import (
    container_state,
    image_version,
    to_cluster,
    to_containers,
)
from txcloud.container.providers import get_driver
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import (
    ClusterNotFoundError,
    ContainerNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    ProviderError,
    RateLimitReached,
    ServiceUnavailableError,
)
from txcloud.http import RetryPolicy

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-1"
ACCOUNT = "210987654321"
TARGET = "AmazonEC2ContainerServiceV20141113"
IMAGE = "registry.example:5000/team/web:2.1"


def arn(resource: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:{resource}"


def cluster_doc(name: str, status: str = "ACTIVE", running: int = 0) -> dict[str, Any]:
    return {
        "clusterArn": arn(f"cluster/{name}"),
        "clusterName": name,
        "status": status,
        "registeredContainerInstancesCount": 2,
        "runningTasksCount": running,
        "pendingTasksCount": 1,
        "activeServicesCount": 0,
        "statistics": [],
        "tags": [],
    }


def task_arn(task_id: str, cluster: str = "builds") -> str:
    return arn(f"task/{cluster}/{task_id}")


def container_arn(task_id: str, number: int = 1, cluster: str = "builds") -> str:
    return arn(f"container/{cluster}/{task_id}/c0ffee00-0000-4000-8000-00000000000{number}")


def container_doc(
    task_id: str,
    name: str = "web",
    image: str = IMAGE,
    last: str = "RUNNING",
    number: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "containerArn": container_arn(task_id, number),
        "taskArn": task_arn(task_id),
        "name": name,
        "image": image,
        "lastStatus": last,
        "networkBindings": [],
        "networkInterfaces": [],
        **fields,
    }


def task_doc(
    task_id: str,
    last: str = "RUNNING",
    desired: str = "RUNNING",
    containers: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "taskArn": task_arn(task_id),
        "taskDefinitionArn": arn("task-definition/web:7"),
        "clusterArn": arn("cluster/builds"),
        "launchType": "EC2",
        "lastStatus": last,
        "desiredStatus": desired,
        "createdAt": 1700000000.5,
        "attachments": [],
        "containers": [container_doc(task_id)] if containers is None else containers,
        **fields,
    }


def error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"__type": code, "message": message}


@attrs.frozen
class Call:
    """One request as the fake ECS saw it."""

    operation: str
    body: dict[str, Any]
    raw_body: bytes
    headers: dict[str, str]
    method: str
    path: str


Answer = dict[str, Any] | tuple[int, dict[str, Any]]


class FakeECS(Resource):
    """
    Answers each ECS operation with the answers scripted for it, in order,
    and records every request.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, list[Answer]] = {}
        self.calls: list[Call] = []

    def script(self, operation: str, *answers: Answer) -> None:
        self.answers.setdefault(operation, []).extend(answers)

    def render(self, request: ServerRequest) -> bytes:
        raw = request.content.read() if request.content else b""
        headers = {
            name.decode().lower(): values[0].decode()
            for name, values in request.requestHeaders.getAllRawHeaders()
        }
        operation = headers.get("x-amz-target", "").rpartition(".")[2]
        self.calls.append(
            Call(
                operation=operation,
                body=json.loads(raw) if raw else {},
                raw_body=raw,
                headers=headers,
                method=request.method.decode(),
                path=request.uri.decode(),
            )
        )
        queue = self.answers.get(operation)
        if not queue:
            request.setResponseCode(418)
            return b'{"__type": "NothingScripted", "message": "no answer scripted"}'
        answer = queue.pop(0)
        status, document = answer if isinstance(answer, tuple) else (200, answer)
        request.setResponseCode(status)
        request.setHeader("Content-Type", "application/x-amz-json-1.1")
        request.setHeader("x-amzn-RequestId", "a1b2c3d4-request")
        return json.dumps(document).encode()


async def _gather(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


async def _first(items: AsyncIterator[Any]) -> Any:
    return await items.__anext__()


class ECSTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.ecs = FakeECS()
        self.driver = self.make_driver()

    def make_driver(self, **options: Any) -> ElasticContainerDriver:
        options.setdefault("region", REGION)
        driver = ElasticContainerDriver(
            KEY,
            SECRET,
            reactor=self.clock,
            ex_agent=RequestTraversalAgent(self.ecs),
            ex_retry=RetryPolicy(max_attempts=3, base_delay=1.0, jitter=lambda cap: cap),
            **options,
        )
        self.addCleanup(driver.close)
        return driver

    def operations(self) -> list[str]:
        return [call.operation for call in self.ecs.calls]

    def bodies(self, operation: str) -> list[dict[str, Any]]:
        return [call.body for call in self.ecs.calls if call.operation == operation]

    def failure_of(self, d: Deferred[Any], kind: type[Exception]) -> Any:
        return self.failureResultOf(d, kind).value

    def sample_container(self, task_id: str = "t1") -> Container:
        return to_containers(self.driver, task_doc(task_id))[0]


class ProtocolTests(ECSTestCase):
    def test_request_is_a_signed_json_post_naming_the_operation(self) -> None:
        self.ecs.script("ListClusters", {"clusterArns": []})
        self.successResultOf(self.driver.list_clusters())
        [call] = self.ecs.calls
        self.assertEqual((call.method, call.path), ("POST", "/"))
        self.assertEqual(call.headers["x-amz-target"], f"{TARGET}.ListClusters")
        self.assertEqual(call.headers["content-type"], "application/x-amz-json-1.1")
        self.assertEqual(call.headers["host"], f"ecs.{REGION}.amazonaws.com")
        self.assertEqual(call.body, {})
        self.assertTrue(
            call.headers["authorization"].startswith(
                f"AWS4-HMAC-SHA256 Credential={KEY}/20231114/{REGION}/ecs/aws4_request, "
            )
        )
        self.assertEqual(call.headers["x-amz-date"], "20231114T221320Z")

    def test_payload_hash_is_of_the_json_body(self) -> None:
        self.ecs.script("CreateCluster", {"cluster": cluster_doc("builds")})
        self.successResultOf(self.driver.create_cluster("builds"))
        [call] = self.ecs.calls
        self.assertEqual(json.loads(call.raw_body), {"clusterName": "builds"})
        self.assertEqual(call.headers["x-amz-content-sha256"], sha256_hex(call.raw_body))
        # The signature covers that hash: signing the received request anew
        # gives the same Authorization header.
        credentials = self.driver.credentials
        assert credentials is not None
        expected = sign_headers(
            "POST",
            f"https://ecs.{REGION}.amazonaws.com/",
            {name: call.headers[name] for name in ("content-type", "x-amz-target")},
            sha256_hex(call.raw_body),
            credentials,
            REGION,
            "ecs",
            self.clock.seconds(),
        )
        self.assertEqual(call.headers["authorization"], expected["Authorization"])

    def test_session_token_is_sent(self) -> None:
        driver = self.make_driver(ex_token="session-token-value")
        self.ecs.script("ListClusters", {"clusterArns": []})
        self.successResultOf(driver.list_clusters())
        self.assertEqual(self.ecs.calls[0].headers["x-amz-security-token"], "session-token-value")

    def test_region_picks_the_endpoint_and_the_signing_scope(self) -> None:
        driver = self.make_driver(region="ap-southeast-2")
        self.ecs.script("ListClusters", {"clusterArns": []})
        self.successResultOf(driver.list_clusters())
        headers = self.ecs.calls[0].headers
        self.assertEqual(headers["host"], "ecs.ap-southeast-2.amazonaws.com")
        self.assertIn("/ap-southeast-2/ecs/aws4_request", headers["authorization"])

    def test_read_only_operations_are_retried(self) -> None:
        self.ecs.script(
            "ListClusters",
            error(500, "ServerException", "internal failure"),
            {"clusterArns": [arn("cluster/builds")]},
        )
        self.ecs.script(
            "DescribeClusters",
            error(400, "ThrottlingException", "Rate exceeded"),
            {"clusters": [cluster_doc("builds")], "failures": []},
        )
        d = self.driver.list_clusters()
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual([c.name for c in self.successResultOf(d)], ["builds"])
        self.assertEqual(
            self.operations(),
            ["ListClusters", "ListClusters", "DescribeClusters", "DescribeClusters"],
        )

    def test_operations_that_change_things_are_not_retried(self) -> None:
        self.ecs.script("RunTask", error(500, "ServerException", "internal failure"))
        d = self.driver.ex_start_task("web:7")
        self.failure_of(d, ServiceUnavailableError)
        self.assertEqual(self.operations(), ["RunTask"])

    def test_non_object_answer_is_malformed(self) -> None:
        self.ecs.script("ListClusters", {"clusterArns": "not a list"})
        self.failure_of(self.driver.list_clusters(), MalformedResponseError)


class ErrorMappingTests(ECSTestCase):
    def test_missing_cluster_is_cluster_not_found(self) -> None:
        self.ecs.script("ListTasks", error(400, "ClusterNotFoundException", "Cluster not found."))
        exc = self.failure_of(self.driver.list_containers(cluster="gone"), ClusterNotFoundError)
        self.assertEqual((exc.status, exc.code), (400, "ClusterNotFoundException"))
        self.assertEqual(exc.request_id, "a1b2c3d4-request")
        self.assertIn("Cluster not found.", exc.message)
        self.assertEqual(exc.driver_name, "Amazon Elastic Container Service")

    def test_namespaced_error_type_is_understood(self) -> None:
        self.ecs.script(
            "DeleteCluster",
            error(400, "com.amazonaws.ecs#ClusterNotFoundException", "Cluster not found."),
        )
        exc = self.failure_of(self.driver.destroy_cluster("gone"), ClusterNotFoundError)
        self.assertEqual(exc.code, "ClusterNotFoundException")

    def test_client_and_parameter_errors_are_invalid_requests(self) -> None:
        for code in ("ClientException", "InvalidParameterException"):
            self.ecs.script("RegisterTaskDefinition", error(400, code, "Container.image is bad"))
            exc = self.failure_of(self.driver.deploy_container("web", "x"), InvalidRequestError)
            self.assertEqual(exc.code, code)

    def test_cluster_in_use_is_an_invalid_request(self) -> None:
        self.ecs.script(
            "DeleteCluster",
            error(400, "ClusterContainsTasksException", "The Cluster cannot be deleted"),
        )
        self.failure_of(self.driver.destroy_cluster("builds"), InvalidRequestError)

    def test_stopping_an_unknown_task_is_container_not_found(self) -> None:
        self.ecs.script(
            "StopTask",
            error(400, "InvalidParameterException", "The referenced task was not found."),
        )
        exc = self.failure_of(
            self.driver.stop_container(self.sample_container()), ContainerNotFoundError
        )
        self.assertEqual((exc.status, exc.code), (400, "InvalidParameterException"))

    def test_refused_credentials_are_invalid_creds_and_not_retried(self) -> None:
        for code in (
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "AccessDeniedException",
        ):
            self.ecs.calls.clear()
            self.ecs.script("ListClusters", error(400, code, "The security token is invalid."))
            exc = self.failure_of(self.driver.list_clusters(), InvalidCredsError)
            self.assertEqual(exc.code, code)
            self.assertEqual(len(self.ecs.calls), 1)

    def test_throttling_is_retried_then_rate_limit_reached(self) -> None:
        throttled = error(400, "ThrottlingException", "Rate exceeded")
        self.ecs.script("ListTasks", throttled, throttled, throttled)
        d = self.driver.list_containers()
        self.clock.advance(1)
        self.clock.advance(2)
        exc = self.failure_of(d, RateLimitReached)
        self.assertEqual(exc.code, "ThrottlingException")
        self.assertEqual(self.operations(), ["ListTasks"] * 3)

    def test_errors_never_show_the_secret(self) -> None:
        self.ecs.script("ListClusters", error(400, "UnrecognizedClientException", "bad token"))
        exc = self.failure_of(self.driver.list_clusters(), InvalidCredsError)
        for text in (str(exc), repr(exc)):
            self.assertNotIn(SECRET, text)
            self.assertNotIn("Signature=", text)


class ClusterTests(ECSTestCase):
    def test_list_clusters_describes_each_page(self) -> None:
        first = [arn(f"cluster/c{n}") for n in range(2)]
        self.ecs.script("ListClusters", {"clusterArns": first, "nextToken": "page-2"})
        self.ecs.script("ListClusters", {"clusterArns": [arn("cluster/c2")]})
        self.ecs.script(
            "DescribeClusters",
            {"clusters": [cluster_doc("c0"), cluster_doc("c1")], "failures": []},
            {"clusters": [cluster_doc("c2")], "failures": []},
        )
        clusters = self.successResultOf(self.driver.list_clusters(ex_page_size=2))
        self.assertEqual([c.name for c in clusters], ["c0", "c1", "c2"])
        self.assertEqual(
            self.bodies("ListClusters"),
            [{"maxResults": 2}, {"maxResults": 2, "nextToken": "page-2"}],
        )
        self.assertEqual(
            self.bodies("DescribeClusters"),
            [{"clusters": first}, {"clusters": [arn("cluster/c2")]}],
        )

    def test_iterate_clusters_fetches_pages_lazily(self) -> None:
        self.ecs.script("ListClusters", {"clusterArns": [arn("cluster/c0")], "nextToken": "t"})
        self.ecs.script("DescribeClusters", {"clusters": [cluster_doc("c0")]})
        clusters = self.driver.iterate_clusters()
        first = self.successResultOf(Deferred.fromCoroutine(_first(clusters)))
        self.assertEqual(first.name, "c0")
        self.assertEqual(self.operations(), ["ListClusters", "DescribeClusters"])

    def test_empty_page_describes_nothing(self) -> None:
        self.ecs.script("ListClusters", {"clusterArns": []})
        self.assertEqual(self.successResultOf(self.driver.list_clusters()), [])
        self.assertEqual(self.operations(), ["ListClusters"])

    def test_more_than_a_hundred_clusters_are_described_in_batches(self) -> None:
        names = [f"c{n}" for n in range(150)]
        self.ecs.script("ListClusters", {"clusterArns": [arn(f"cluster/{n}") for n in names]})
        self.ecs.script(
            "DescribeClusters",
            {"clusters": [cluster_doc(n) for n in names[:100]]},
            {"clusters": [cluster_doc(n) for n in names[100:]]},
        )
        clusters = self.successResultOf(self.driver.list_clusters())
        self.assertEqual(len(clusters), 150)
        self.assertEqual([len(b["clusters"]) for b in self.bodies("DescribeClusters")], [100, 50])

    def test_cluster_model(self) -> None:
        self.ecs.script("DescribeClusters", {"clusters": [cluster_doc("builds", running=3)]})
        cluster = self.successResultOf(self.driver.get_cluster("builds"))
        self.assertEqual(cluster.id, arn("cluster/builds"))
        self.assertEqual(cluster.name, "builds")
        self.assertIs(cluster.driver, self.driver)
        self.assertEqual(
            cluster.extra,
            {
                "status": "ACTIVE",
                "runningTasksCount": 3,
                "pendingTasksCount": 1,
                "activeServicesCount": 0,
                "registeredContainerInstancesCount": 2,
            },
        )
        self.assertEqual(self.bodies("DescribeClusters"), [{"clusters": ["builds"]}])

    def test_get_missing_cluster_is_cluster_not_found(self) -> None:
        self.ecs.script(
            "DescribeClusters",
            {"clusters": [], "failures": [{"arn": arn("cluster/gone"), "reason": "MISSING"}]},
        )
        exc = self.failure_of(self.driver.get_cluster("gone"), ClusterNotFoundError)
        self.assertIn("'gone'", exc.message)

    def test_create_cluster(self) -> None:
        self.ecs.script("CreateCluster", {"cluster": cluster_doc("builds")})
        cluster = self.successResultOf(self.driver.create_cluster("builds"))
        self.assertEqual((cluster.id, cluster.name), (arn("cluster/builds"), "builds"))

    def test_destroy_cluster_is_true_once_inactive(self) -> None:
        self.ecs.script("DeleteCluster", {"cluster": cluster_doc("builds", status="INACTIVE")})
        cluster = ContainerCluster(arn("cluster/builds"), "builds", self.driver)
        self.assertIs(self.successResultOf(self.driver.destroy_cluster(cluster)), True)
        self.assertEqual(self.bodies("DeleteCluster"), [{"cluster": arn("cluster/builds")}])

    def test_destroy_cluster_still_deprovisioning_is_false(self) -> None:
        self.ecs.script("DeleteCluster", {"cluster": cluster_doc("b", status="DEPROVISIONING")})
        self.assertIs(self.successResultOf(self.driver.destroy_cluster("b")), False)

    def test_model_methods_delegate(self) -> None:
        cluster = ContainerCluster(arn("cluster/builds"), "builds", self.driver)
        self.ecs.script("ListTasks", {"taskArns": []}, {"taskArns": []})
        self.assertEqual(self.successResultOf(cluster.list_containers()), [])
        self.assertEqual(self.bodies("ListTasks")[0]["cluster"], arn("cluster/builds"))


class ListContainersTests(ECSTestCase):
    def test_running_then_stopped_tasks_are_listed_page_by_page(self) -> None:
        self.ecs.script(
            "ListTasks",
            {"taskArns": [task_arn("t1"), task_arn("t2")], "nextToken": "more"},
            {"taskArns": [task_arn("t3")]},
            {"taskArns": [task_arn("t4")]},
        )
        self.ecs.script(
            "DescribeTasks",
            {"tasks": [task_doc("t1"), task_doc("t2")], "failures": []},
            {"tasks": [task_doc("t3")]},
            {"tasks": [task_doc("t4", last="STOPPED", desired="STOPPED")]},
        )
        containers = self.successResultOf(
            self.driver.list_containers(cluster="builds", ex_page_size=2)
        )
        self.assertEqual(
            [c.extra["taskArn"] for c in containers], [task_arn(f"t{n}") for n in (1, 2, 3, 4)]
        )
        self.assertEqual(
            self.bodies("ListTasks"),
            [
                {"cluster": "builds", "desiredStatus": "RUNNING", "maxResults": 2},
                {
                    "cluster": "builds",
                    "desiredStatus": "RUNNING",
                    "maxResults": 2,
                    "nextToken": "more",
                },
                {"cluster": "builds", "desiredStatus": "STOPPED", "maxResults": 2},
            ],
        )
        self.assertEqual(
            self.bodies("DescribeTasks")[0],
            {"cluster": "builds", "tasks": [task_arn("t1"), task_arn("t2")]},
        )

    def test_not_all_lists_only_tasks_meant_to_run(self) -> None:
        self.ecs.script("ListTasks", {"taskArns": [task_arn("t1")]})
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        containers = self.successResultOf(self.driver.list_containers(all=False))
        self.assertEqual(len(containers), 1)
        self.assertEqual(self.bodies("ListTasks"), [{"desiredStatus": "RUNNING"}])

    def test_task_listed_twice_is_described_once(self) -> None:
        self.ecs.script("ListTasks", {"taskArns": [task_arn("t1")]}, {"taskArns": [task_arn("t1")]})
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        containers = self.successResultOf(self.driver.list_containers())
        self.assertEqual(len(containers), 1)
        self.assertEqual(self.operations(), ["ListTasks", "DescribeTasks", "ListTasks"])

    def test_image_filter_keeps_containers_of_that_image(self) -> None:
        other = container_doc("t2", image="nginx:1.25")
        self.ecs.script(
            "ListTasks", {"taskArns": [task_arn("t1"), task_arn("t2")]}, {"taskArns": []}
        )
        self.ecs.script(
            "DescribeTasks", {"tasks": [task_doc("t1"), task_doc("t2", containers=[other])]}
        )
        image = self.successResultOf(self.driver.install_image("nginx:1.25"))
        containers = self.successResultOf(self.driver.list_containers(image=image))
        self.assertEqual([c.extra["taskArn"] for c in containers], [task_arn("t2")])

    def test_a_task_gives_one_container_per_container(self) -> None:
        sidecar = container_doc("t1", name="log", image="fluentbit:3", number=2)
        task = task_doc("t1", containers=[container_doc("t1"), sidecar])
        self.ecs.script("ListTasks", {"taskArns": [task_arn("t1")]}, {"taskArns": []})
        self.ecs.script("DescribeTasks", {"tasks": [task]})
        containers = self.successResultOf(self.driver.list_containers())
        self.assertEqual([c.name for c in containers], ["web", "log"])
        self.assertEqual({c.extra["taskArn"] for c in containers}, {task_arn("t1")})

    def test_more_than_a_hundred_tasks_are_described_in_batches(self) -> None:
        ids = [f"t{n}" for n in range(130)]
        self.ecs.script("ListTasks", {"taskArns": [task_arn(i) for i in ids]}, {"taskArns": []})
        self.ecs.script(
            "DescribeTasks",
            {"tasks": [task_doc(i) for i in ids[:100]]},
            {"tasks": [task_doc(i) for i in ids[100:]]},
        )
        containers = self.successResultOf(self.driver.list_containers())
        self.assertEqual(len(containers), 130)
        self.assertEqual([len(b["tasks"]) for b in self.bodies("DescribeTasks")], [100, 30])

    def test_iterate_containers_fetches_lazily(self) -> None:
        self.ecs.script("ListTasks", {"taskArns": [task_arn("t1")], "nextToken": "more"})
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        containers = self.driver.iterate_containers()
        first = self.successResultOf(Deferred.fromCoroutine(_first(containers)))
        self.assertEqual(first.extra["taskArn"], task_arn("t1"))
        self.assertEqual(self.operations(), ["ListTasks", "DescribeTasks"])


class ContainerModelTests(ECSTestCase):
    def test_container_fields(self) -> None:
        doc = container_doc(
            "t1",
            imageDigest="sha256:" + "ab" * 32,
            exitCode=None,
            networkInterfaces=[
                {"attachmentId": "a1", "privateIpv4Address": "10.0.1.7"},
                {"attachmentId": "a1", "ipv6Address": "2001:db8::7"},
            ],
        )
        [container] = to_containers(self.driver, task_doc("t1", containers=[doc]))
        self.assertEqual(container.id, container_arn("t1"))
        self.assertEqual(container.name, "web")
        self.assertEqual(container.state, ContainerState.RUNNING)
        self.assertEqual(container.ip_addresses, ["10.0.1.7", "2001:db8::7"])
        self.assertIs(container.driver, self.driver)
        image = container.image
        self.assertEqual((image.name, image.path, image.version), (IMAGE, IMAGE, "2.1"))
        self.assertEqual(image.id, "sha256:" + "ab" * 32)
        self.assertEqual(
            container.extra,
            {
                "taskArn": task_arn("t1"),
                "taskDefinitionArn": arn("task-definition/web:7"),
                "clusterArn": arn("cluster/builds"),
                "launchType": "EC2",
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "stoppedReason": None,
                "createdAt": 1700000000.5,
                "exitCode": None,
            },
        )

    def test_addresses_come_from_the_network_attachment_otherwise(self) -> None:
        attachment = {
            "id": "eni-attachment",
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": "subnet-0a1b"},
                {"name": "privateIPv4Address", "value": "172.31.4.9"},
            ],
        }
        [container] = to_containers(self.driver, task_doc("t1", attachments=[attachment]))
        self.assertEqual(container.ip_addresses, ["172.31.4.9"])

    def test_states_follow_the_task_lifecycle(self) -> None:
        expected = {
            "PROVISIONING": ContainerState.PENDING,
            "PENDING": ContainerState.PENDING,
            "ACTIVATING": ContainerState.PENDING,
            "RUNNING": ContainerState.RUNNING,
            "DEACTIVATING": ContainerState.STOPPED,
            "STOPPING": ContainerState.STOPPED,
            "DEPROVISIONING": ContainerState.STOPPED,
            "STOPPED": ContainerState.STOPPED,
            "DELETED": ContainerState.TERMINATED,
            "SOMETHING_NEW": ContainerState.UNKNOWN,
        }
        self.assertEqual({s: container_state(s, "PENDING") for s in expected}, expected)

    def test_a_stopped_container_of_a_running_task_is_stopped(self) -> None:
        self.assertEqual(container_state("RUNNING", "STOPPED"), ContainerState.STOPPED)
        self.assertEqual(container_state("RUNNING", None), ContainerState.RUNNING)

    def test_image_version_is_the_tag(self) -> None:
        cases = {
            "nginx": None,
            "nginx:1.25": "1.25",
            "registry.example:5000/team/web": None,
            "registry.example:5000/team/web:2.1": "2.1",
            "web:2.1@sha256:" + "0" * 64: "2.1",
            "web@sha256:" + "0" * 64: None,
        }
        self.assertEqual({path: image_version(path) for path in cases}, cases)

    def test_task_without_arn_is_malformed(self) -> None:
        task = task_doc("t1")
        del task["taskArn"]
        self.assertRaises(MalformedResponseError, to_containers, self.driver, task)

    def test_container_without_arn_is_malformed(self) -> None:
        doc = container_doc("t1")
        del doc["containerArn"]
        task = task_doc("t1", containers=[doc])
        self.assertRaises(MalformedResponseError, to_containers, self.driver, task)

    def test_cluster_without_name_is_malformed(self) -> None:
        doc = cluster_doc("b")
        del doc["clusterName"]
        self.assertRaises(MalformedResponseError, to_cluster, self.driver, doc)

    def test_repr_shows_identity_not_extra(self) -> None:
        container = self.sample_container()
        self.assertEqual(
            repr(container),
            f"<Container: id={container_arn('t1')!r}, name='web', state='running', provider='ecs'>",
        )


class GetContainerTests(ECSTestCase):
    def test_by_task_arn_describes_the_task_in_its_cluster(self) -> None:
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        container = self.successResultOf(self.driver.get_container(task_arn("t1")))
        self.assertEqual(container.id, container_arn("t1"))
        self.assertEqual(
            self.bodies("DescribeTasks"), [{"cluster": "builds", "tasks": [task_arn("t1")]}]
        )

    def test_by_task_id_uses_the_given_cluster(self) -> None:
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        self.successResultOf(self.driver.get_container("t1", ex_cluster="builds"))
        self.assertEqual(self.bodies("DescribeTasks"), [{"cluster": "builds", "tasks": ["t1"]}])

    def test_by_long_container_arn_describes_its_task(self) -> None:
        sidecar = container_doc("t1", name="log", number=2)
        self.ecs.script(
            "DescribeTasks", {"tasks": [task_doc("t1", containers=[container_doc("t1"), sidecar])]}
        )
        container = self.successResultOf(self.driver.get_container(container_arn("t1", 2)))
        self.assertEqual(container.name, "log")
        self.assertEqual(self.bodies("DescribeTasks"), [{"cluster": "builds", "tasks": ["t1"]}])

    def test_by_other_container_arn_searches_the_cluster(self) -> None:
        short_arn = arn("container/0c6a2f1e-5d0b-4a4e-9b7c-3f2d1e0a9b8c")
        doc = container_doc("t2", containerArn=short_arn)
        self.ecs.script("ListTasks", {"taskArns": [task_arn("t1")]}, {"taskArns": [task_arn("t2")]})
        self.ecs.script(
            "DescribeTasks",
            {"tasks": [task_doc("t1")]},
            {"tasks": [task_doc("t2", containers=[doc])]},
        )
        container = self.successResultOf(self.driver.get_container(short_arn, ex_cluster="b"))
        self.assertEqual(container.extra["taskArn"], task_arn("t2"))
        self.assertEqual([b["cluster"] for b in self.bodies("ListTasks")], ["b", "b"])

    def test_missing_task_is_container_not_found(self) -> None:
        self.ecs.script(
            "DescribeTasks",
            {"tasks": [], "failures": [{"arn": task_arn("t9"), "reason": "MISSING"}]},
        )
        d = self.driver.get_container(task_arn("t9"))
        self.assertIn(task_arn("t9"), self.failure_of(d, ContainerNotFoundError).message)

    def test_missing_container_of_an_existing_task_is_container_not_found(self) -> None:
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1")]})
        d = self.driver.get_container(container_arn("t1", 5))
        self.failure_of(d, ContainerNotFoundError)

    def test_container_found_nowhere_is_container_not_found(self) -> None:
        self.ecs.script("ListTasks", {"taskArns": []}, {"taskArns": []})
        d = self.driver.get_container(arn("container/unknown"))
        self.failure_of(d, ContainerNotFoundError)


class DeployTests(ECSTestCase):
    def script_deploy(self, family: str = "web", revision: int = 7) -> str:
        definition = arn(f"task-definition/{family}:{revision}")
        self.ecs.script(
            "RegisterTaskDefinition",
            {"taskDefinition": {"taskDefinitionArn": definition, "family": family}},
        )
        self.ecs.script("RunTask", {"tasks": [task_doc("t1")], "failures": []})
        return definition

    def test_deploy_registers_a_definition_and_runs_a_task(self) -> None:
        definition = self.script_deploy()
        image = ContainerImage(None, IMAGE, IMAGE, "2.1", self.driver)
        container = self.successResultOf(self.driver.deploy_container("web", image))
        self.assertEqual(container.id, container_arn("t1"))
        self.assertEqual(container.state, ContainerState.RUNNING)
        self.assertEqual(
            self.bodies("RegisterTaskDefinition"),
            [
                {
                    "family": "web",
                    "containerDefinitions": [
                        {
                            "name": "web",
                            "image": IMAGE,
                            "cpu": 10,
                            "memory": 500,
                            "essential": True,
                            "portMappings": [],
                            "environment": [],
                        }
                    ],
                }
            ],
        )
        self.assertEqual(self.bodies("RunTask"), [{"taskDefinition": definition, "count": 1}])

    def test_deploy_options_shape_the_definition_and_the_run(self) -> None:
        definition = self.script_deploy()
        network = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b"], "assignPublicIp": "ENABLED"}}
        container = self.successResultOf(
            self.driver.deploy_container(
                "web",
                "nginx:1.25",
                cluster=ContainerCluster(arn("cluster/builds"), "builds", self.driver),
                parameters="nginx -g 'daemon off;'",
                ex_cpu=256,
                ex_memory=512,
                ex_container_port=80,
                ex_host_port=80,
                ex_launch_type="FARGATE",
                ex_network_configuration=network,
                ex_environment={"MODE": "test"},
            )
        )
        [registered] = self.bodies("RegisterTaskDefinition")
        [spec] = registered.pop("containerDefinitions")
        self.assertEqual(
            registered,
            {
                "family": "web",
                "requiresCompatibilities": ["FARGATE"],
                "networkMode": "awsvpc",
                "cpu": "256",
                "memory": "512",
            },
        )
        self.assertEqual(spec["command"], ["nginx", "-g", "daemon off;"])
        self.assertEqual(spec["portMappings"], [{"containerPort": 80, "hostPort": 80}])
        self.assertEqual(spec["environment"], [{"name": "MODE", "value": "test"}])
        self.assertEqual((spec["cpu"], spec["memory"], spec["image"]), (256, 512, "nginx:1.25"))
        self.assertEqual(
            self.bodies("RunTask"),
            [
                {
                    "cluster": arn("cluster/builds"),
                    "launchType": "FARGATE",
                    "networkConfiguration": network,
                    "taskDefinition": definition,
                    "count": 1,
                }
            ],
        )
        self.assertEqual(container.extra["networkConfiguration"], network)

    def test_container_port_alone_lets_ecs_pick_the_host_port(self) -> None:
        self.script_deploy()
        self.successResultOf(self.driver.deploy_container("web", IMAGE, ex_container_port=8080))
        [spec] = self.bodies("RegisterTaskDefinition")[0]["containerDefinitions"]
        self.assertEqual(spec["portMappings"], [{"containerPort": 8080}])

    def test_deploy_without_start_only_registers(self) -> None:
        definition = self.script_deploy()
        container = self.successResultOf(
            self.driver.deploy_container("web", IMAGE, cluster="builds", start=False)
        )
        self.assertEqual(self.operations(), ["RegisterTaskDefinition"])
        self.assertEqual(container.id, definition)
        self.assertEqual(container.state, ContainerState.STOPPED)
        self.assertEqual(container.image.path, IMAGE)
        self.assertEqual(container.extra["taskArn"], None)
        self.assertEqual(container.extra["clusterArn"], "builds")

    def test_starting_a_deployed_definition_runs_it_in_its_cluster(self) -> None:
        definition = self.script_deploy()
        pending = self.successResultOf(
            self.driver.deploy_container("web", IMAGE, cluster="builds", start=False)
        )
        started = self.successResultOf(self.driver.start_container(pending))
        self.assertEqual(started.id, container_arn("t1"))
        self.assertEqual(
            self.bodies("RunTask"),
            [{"cluster": "builds", "taskDefinition": definition, "count": 1}],
        )

    def test_image_model_deploy_delegates(self) -> None:
        self.script_deploy()
        image = self.successResultOf(self.driver.install_image(IMAGE))
        container = self.successResultOf(image.deploy("web"))
        self.assertEqual(container.id, container_arn("t1"))

    def test_run_task_placing_nothing_is_a_provider_error(self) -> None:
        self.ecs.script(
            "RegisterTaskDefinition", {"taskDefinition": {"taskDefinitionArn": arn("td/web:1")}}
        )
        self.ecs.script(
            "RunTask",
            {
                "tasks": [],
                "failures": [{"arn": arn("container-instance/i1"), "reason": "RESOURCE:MEMORY"}],
            },
        )
        exc = self.failure_of(self.driver.deploy_container("web", IMAGE), ProviderError)
        self.assertEqual(exc.code, "RESOURCE:MEMORY")
        self.assertIn("RESOURCE:MEMORY", exc.message)

    def test_ex_start_task_runs_several(self) -> None:
        self.ecs.script("RunTask", {"tasks": [task_doc("t1"), task_doc("t2")]})
        containers = self.successResultOf(
            self.driver.ex_start_task("web:7", count=2, cluster="builds", launch_type="EC2")
        )
        self.assertEqual(len(containers), 2)
        self.assertEqual(
            self.bodies("RunTask"),
            [{"cluster": "builds", "launchType": "EC2", "taskDefinition": "web:7", "count": 2}],
        )

    def test_definition_without_arn_is_malformed(self) -> None:
        self.ecs.script("RegisterTaskDefinition", {"taskDefinition": {"family": "web"}})
        self.failure_of(self.driver.deploy_container("web", IMAGE), MalformedResponseError)


class LifecycleTests(ECSTestCase):
    def test_stop_container_stops_its_task(self) -> None:
        container = self.sample_container()
        self.ecs.script("StopTask", {"task": task_doc("t1", last="RUNNING", desired="STOPPED")})
        stopped = self.successResultOf(self.driver.stop_container(container))
        self.assertEqual(
            self.bodies("StopTask"), [{"cluster": arn("cluster/builds"), "task": task_arn("t1")}]
        )
        self.assertEqual(stopped.id, container.id)
        self.assertEqual(stopped.extra["desiredStatus"], "STOPPED")

    def test_destroy_container_stops_its_task(self) -> None:
        self.ecs.script("StopTask", {"task": task_doc("t1", last="STOPPED", desired="STOPPED")})
        self.assertIs(self.successResultOf(self.sample_container().destroy()), True)
        self.assertEqual(self.operations(), ["StopTask"])

    def test_restart_stops_then_runs_the_definition_again(self) -> None:
        self.ecs.script("StopTask", {"task": task_doc("t1", last="STOPPED", desired="STOPPED")})
        self.ecs.script("RunTask", {"tasks": [task_doc("t2")]})
        restarted = self.successResultOf(self.sample_container().restart())
        self.assertEqual(restarted.extra["taskArn"], task_arn("t2"))
        self.assertEqual(self.operations(), ["StopTask", "RunTask"])
        self.assertEqual(
            self.bodies("RunTask"),
            [
                {
                    "cluster": arn("cluster/builds"),
                    "launchType": "EC2",
                    "taskDefinition": arn("task-definition/web:7"),
                    "count": 1,
                }
            ],
        )

    def test_start_container_takes_a_network_configuration(self) -> None:
        network = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b"]}}
        self.ecs.script("RunTask", {"tasks": [task_doc("t2")]})
        self.successResultOf(
            self.driver.start_container(self.sample_container(), ex_network_configuration=network)
        )
        self.assertEqual(self.bodies("RunTask")[0]["networkConfiguration"], network)


class ImageTests(ECSTestCase):
    def test_install_image_names_the_image_without_a_request(self) -> None:
        image = self.successResultOf(self.driver.install_image("nginx:1.25"))
        self.assertEqual(
            (image.id, image.name, image.path, image.version),
            (None, "nginx:1.25", "nginx:1.25", "1.25"),
        )
        self.assertIs(image.driver, self.driver)
        self.assertEqual(self.ecs.calls, [])

    def test_list_images_is_not_supported(self) -> None:
        with self.assertRaises(NotImplementedError) as raised:
            self.driver.list_images()
        self.assertIn("ECR", str(raised.exception))


class InvalidArgumentTests(ECSTestCase):
    def assert_refused(self, call: Any, *args: Any, **kwargs: Any) -> None:
        self.assertRaises(InvalidArgumentError, call, *args, **kwargs)
        self.assertEqual(self.ecs.calls, [])

    def test_bad_cluster_names_are_refused(self) -> None:
        for name in ("", "has space", "a/b", "x" * 256, None, 7):
            self.assert_refused(self.driver.create_cluster, name)

    def test_bad_cluster_references_are_refused(self) -> None:
        self.assert_refused(self.driver.get_cluster, "")
        self.assert_refused(self.driver.destroy_cluster, None)
        self.assert_refused(self.driver.destroy_cluster, 42)
        self.assert_refused(self.driver.list_containers, cluster=" builds")

    def test_bad_page_sizes_are_refused(self) -> None:
        for size in (0, 101, 2.5, True, "10"):
            self.assert_refused(self.driver.list_clusters, ex_page_size=size)
            self.assert_refused(self.driver.list_containers, ex_page_size=size)

    def test_bad_list_arguments_are_refused(self) -> None:
        self.assert_refused(self.driver.list_containers, image=42)
        self.assert_refused(self.driver.list_containers, all="yes")

    def test_bad_deploy_arguments_are_refused(self) -> None:
        bad: list[dict[str, Any]] = [
            {"name": "web/1"},
            {"image": ""},
            {"image": 5},
            {"cluster": 3},
            {"parameters": "echo 'unclosed"},
            {"parameters": ""},
            {"start": "yes"},
            {"ex_cpu": -1},
            {"ex_memory": 0},
            {"ex_memory": "512"},
            {"ex_container_port": 0},
            {"ex_container_port": 70000},
            {"ex_host_port": 80},
            {"ex_container_port": 80, "ex_host_port": -1},
            {"ex_launch_type": "LAMBDA"},
            {"ex_network_configuration": ["subnet-1"]},
            {"ex_environment": {"A": 1}},
            {"ex_environment": {"": "x"}},
        ]
        for change in bad:
            arguments: dict[str, Any] = {"name": "web", "image": IMAGE, **change}
            with self.subTest(change=change):
                self.assert_refused(self.driver.deploy_container, **arguments)

    def test_bad_lifecycle_arguments_are_refused(self) -> None:
        never_started = Container(
            arn("task-definition/web:1"),
            "web",
            ContainerImage(None, IMAGE, IMAGE, None, self.driver),
            ContainerState.STOPPED,
            [],
            self.driver,
            {"taskArn": None, "taskDefinitionArn": arn("task-definition/web:1")},
        )
        for method in (
            self.driver.stop_container,
            self.driver.destroy_container,
            self.driver.restart_container,
        ):
            self.assert_refused(method, never_started)
            self.assert_refused(method, "not a container")
        self.assert_refused(self.driver.start_container, object())

    def test_bad_run_arguments_are_refused(self) -> None:
        self.assert_refused(self.driver.ex_start_task, "")
        self.assert_refused(self.driver.ex_start_task, "web:1", count=0)
        self.assert_refused(self.driver.ex_start_task, "web:1", count=11)
        self.assert_refused(self.driver.ex_list_containers_for_task, task_arn("t1"))
        self.assert_refused(self.driver.ex_list_containers_for_task, [""])

    def test_bad_get_container_ids_are_refused(self) -> None:
        for value in ("", None, 12):
            self.assert_refused(self.driver.get_container, value)

    def test_bad_image_paths_are_refused(self) -> None:
        for value in ("", " nginx", None):
            self.assert_refused(self.driver.install_image, value)

    def test_bad_region_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.make_driver, region="Europe")


class DriverTests(ECSTestCase):
    def test_registry_gives_the_driver(self) -> None:
        self.assertIs(get_driver(Provider.ECS), ElasticContainerDriver)
        self.assertIs(get_driver("ecs"), ElasticContainerDriver)

    def test_driver_attributes(self) -> None:
        self.assertEqual(self.driver.type, Provider.ECS)
        self.assertEqual(self.driver.name, "Amazon Elastic Container Service")
        self.assertEqual(self.driver.service_name, "ecs")
        self.assertIs(self.driver.supports_clusters, True)
        self.assertEqual(self.driver.region, REGION)

    def test_repr_shows_no_secret(self) -> None:
        driver = self.make_driver(ex_token="session-token-value")
        for text in (repr(driver), repr(driver.credentials)):
            self.assertNotIn(SECRET, text)
            self.assertNotIn("session-token-value", text)
        self.assertEqual(repr(driver), "<ElasticContainerDriver provider='ecs' region='eu-west-1'>")

    def test_emulator_endpoint(self) -> None:
        driver = self.make_driver(host="127.0.0.1", port=5000, secure=False)
        self.assertEqual(driver.endpoint, "http://127.0.0.1:5000")
        self.ecs.script("ListClusters", {"clusterArns": []})
        self.successResultOf(driver.list_clusters())
        self.assertEqual(self.ecs.calls[0].headers["host"], "127.0.0.1:5000")

    def test_ex_list_containers_for_task(self) -> None:
        self.ecs.script("DescribeTasks", {"tasks": [task_doc("t1"), task_doc("t2")]})
        containers = self.successResultOf(
            self.driver.ex_list_containers_for_task([task_arn("t1"), "t2"], cluster="builds")
        )
        self.assertEqual(len(containers), 2)
        self.assertEqual(
            self.bodies("DescribeTasks"), [{"cluster": "builds", "tasks": [task_arn("t1"), "t2"]}]
        )

    def test_iterators_gather_in_coroutines(self) -> None:
        self.ecs.script("ListClusters", {"clusterArns": [arn("cluster/c0")]})
        self.ecs.script("DescribeClusters", {"clusters": [cluster_doc("c0")]})
        clusters = self.successResultOf(
            Deferred.fromCoroutine(_gather(self.driver.iterate_clusters(ex_page_size=100)))
        )
        self.assertEqual([c.name for c in clusters], ["c0"])
