"""
Tests of the Kubernetes driver against txcloud.testing's fake API server:
in memory (the fake behind treq's RequestTraversalAgent, on a Clock), and
over real sockets on 127.0.0.1 (plain HTTP, and TLS requiring a client
certificate made here by a throwaway CA).
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet import reactor, ssl
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import SSL4ServerEndpoint, TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest

from txcloud.container.base import Container, ContainerCluster, ContainerImage
from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.drivers.kubernetes.parse import container_state, to_pod
from txcloud.container.providers import get_driver
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import (
    ClusterAlreadyExistsError,
    ClusterNotFoundError,
    ContainerNotFoundError,
    ExpiredPageTokenError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    PermissionDeniedError,
    ProviderError,
    RequestTimeoutError,
    ResourceConflictError,
    TLSVerificationError,
)
from txcloud.http import RetryPolicy
from txcloud.test.http.test_tls import ThrowawayCA, TrackingSite, inline
from txcloud.testing.kubernetes import FakeKubernetes

SERVER = "https://kubernetes.test"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl"


class DriverTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.fake = self.make_fake()
        self.driver = self.make_driver()

    def make_fake(self) -> FakeKubernetes:
        return FakeKubernetes(clock=self.clock)

    def make_driver(self, **options: Any) -> KubernetesContainerDriver:
        options.setdefault("host", SERVER)
        options.setdefault("ex_agent", self.fake.agent())
        options.setdefault("ex_retry", RetryPolicy(max_attempts=1))
        driver = KubernetesContainerDriver(reactor=self.clock, **options)
        self.addCleanup(driver.close)
        return driver

    def result(self, d: Deferred[Any]) -> Any:
        return self.successResultOf(d)

    def failure(self, d: Deferred[Any], kind: type[Exception]) -> Any:
        return self.failureResultOf(d, kind).value

    def paths(self) -> list[tuple[str, str]]:
        return [(seen.method, seen.path) for seen in self.fake.requests]

    def stored(self, found: dict[str, Any] | None) -> dict[str, Any]:
        """An object the fake holds (a namespace or pod), which must exist."""
        self.assertIsNotNone(found)
        assert found is not None
        return found

    def body(self, index: int = -1) -> Any:
        return json.loads(self.fake.requests[index].body)


class ConstructionTests(DriverTestCase):
    def test_the_registry_gives_the_driver(self) -> None:
        cls = get_driver(Provider.KUBERNETES)
        self.assertIs(cls, KubernetesContainerDriver)
        self.assertEqual(
            (cls.name, cls.type, cls.supports_clusters), ("Kubernetes", "kubernetes", True)
        )

    def test_the_default_server_is_localhost_on_6443(self) -> None:
        driver = self.make_driver(host=None)
        self.assertEqual(driver.endpoint, "https://localhost:6443")

    def test_a_host_name_takes_the_default_port(self) -> None:
        self.assertEqual(self.make_driver(host="10.0.0.1").endpoint, "https://10.0.0.1:6443")

    def test_a_server_url_sets_the_scheme_and_port(self) -> None:
        driver = self.make_driver(host="http://127.0.0.1:8001")
        self.assertEqual((driver.endpoint, driver.secure), ("http://127.0.0.1:8001", False))
        self.assertEqual(
            self.make_driver(host="https://k8s.example").endpoint, "https://k8s.example"
        )

    def test_a_server_url_path_prefixes_every_request(self) -> None:
        driver = self.make_driver(host="https://rancher.example/k8s/clusters/c-1/")
        # The fake serves no prefix: the unknown path is a plain 404.
        error = self.failure(driver.list_clusters(), ProviderError)
        self.assertNotIsInstance(error, ClusterNotFoundError)
        self.assertEqual(self.fake.requests[0].path, "/k8s/clusters/c-1/api/v1/namespaces")

    def test_a_server_url_with_credentials_is_refused_without_quoting_them(self) -> None:
        error = self.assertRaises(
            InvalidArgumentError, self.make_driver, host="https://admin:hunter2@k8s.example"
        )
        self.assertNotIn("hunter2", str(error))

    def test_a_server_url_with_another_scheme_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.make_driver, host="ftp://k8s.example")

    def test_contradictory_credentials_are_refused(self) -> None:
        for options in (
            {"key": "user"},
            {"secret": "password"},
            {"key": "user", "secret": "pw", "ex_token": TOKEN},
            {"ex_token_bearer_auth": True},
            {"key": TOKEN, "secret": "pw", "ex_token_bearer_auth": True},
            {"ex_token": TOKEN, "ex_token_file": "/nonexistent"},
            {"ex_token": "two words"},
            {"key": "us:er", "secret": "pw"},
        ):
            with self.subTest(options=options):
                self.assertRaises(InvalidArgumentError, self.make_driver, **options)

    def test_contradictory_tls_settings_are_refused(self) -> None:
        for options in (
            {"key_file": "client.key"},
            {"cert_file": "client.pem", "host": "http://127.0.0.1:8001"},
            {"ca_cert": "ca.pem", "ex_verify_tls": False},
            {"ca_cert": "ca.pem", "ex_ca_cert_data": b"-----BEGIN CERTIFICATE-----"},
        ):
            with self.subTest(options=options):
                self.assertRaises(InvalidArgumentError, self.make_driver, **options)

    def test_inline_key_material_that_is_not_pem_is_refused_without_quoting_it(self) -> None:
        error = self.assertRaises(
            InvalidArgumentError,
            self.make_driver,
            ex_cert_data=b"-----BEGIN CERTIFICATE-----",
            ex_key_data=b"SECRETKEYMATERIAL",
        )
        self.assertNotIn("SECRETKEYMATERIAL", str(error))

    def test_a_bad_default_namespace_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.make_driver, ex_namespace="Team_A")

    def test_repr_shows_no_credentials(self) -> None:
        for driver in (
            self.make_driver(key="admin", secret="hunter2"),
            self.make_driver(ex_token=TOKEN),
        ):
            self.assertNotIn("hunter2", repr(driver))
            self.assertNotIn(TOKEN, repr(driver))
            self.assertIn("kubernetes.test", repr(driver))


class AuthenticationTests(DriverTestCase):
    def make_fake(self) -> FakeKubernetes:
        return FakeKubernetes(
            clock=self.clock, tokens={TOKEN: "alice", "n3w": "alice"}, users={"bob": "s3cret"}
        )

    def authorization(self) -> str | None:
        return self.fake.requests[-1].headers.get("authorization")

    def test_requests_ask_for_json(self) -> None:
        self.result(self.make_driver(ex_token=TOKEN).list_clusters())
        self.assertEqual(self.fake.requests[-1].headers["accept"], "application/json")

    def test_without_credentials_no_authorization_is_sent(self) -> None:
        self.failure(self.driver.list_clusters(), InvalidCredsError)
        self.assertIsNone(self.authorization())

    def test_key_and_secret_are_sent_as_basic_auth(self) -> None:
        self.result(self.make_driver(key="bob", secret="s3cret").list_clusters())
        self.assertEqual(self.authorization(), "Basic " + base64.b64encode(b"bob:s3cret").decode())
        self.assertEqual(self.fake.requests[-1].user, "bob")

    def test_ex_token_is_sent_as_a_bearer_token(self) -> None:
        self.result(self.make_driver(ex_token=TOKEN).list_clusters())
        self.assertEqual(self.authorization(), f"Bearer {TOKEN}")

    def test_key_is_the_bearer_token_with_ex_token_bearer_auth(self) -> None:
        driver = self.make_driver(key=TOKEN, ex_token_bearer_auth=True)
        self.result(driver.list_clusters())
        self.assertEqual(self.authorization(), f"Bearer {TOKEN}")
        # The token is not kept where the user name would be.
        self.assertIsNone(driver.key)

    def write_token(self, token: str, path: str | None = None) -> str:
        path = path or self.mktemp()
        with open(path, "w") as f:
            f.write(token + "\n")
        return path

    def test_a_token_file_is_read_again_after_a_minute(self) -> None:
        path = self.write_token(TOKEN)
        driver = self.make_driver(ex_token_file=path)
        self.result(driver.list_clusters())
        self.write_token("n3w", path)
        self.clock.advance(59)
        self.result(driver.list_clusters())
        self.assertEqual(self.authorization(), f"Bearer {TOKEN}")
        self.clock.advance(1)
        self.result(driver.list_clusters())
        self.assertEqual(self.authorization(), "Bearer n3w")

    def test_a_token_file_that_cannot_be_read_again_keeps_the_last_token(self) -> None:
        path = self.write_token(TOKEN)
        driver = self.make_driver(ex_token_file=path)
        os.remove(path)
        self.clock.advance(60)
        self.result(driver.list_clusters())
        self.assertEqual(self.authorization(), f"Bearer {TOKEN}")

    def test_an_unreadable_token_file_is_refused_at_once(self) -> None:
        self.assertRaises(InvalidArgumentError, self.make_driver, ex_token_file=self.mktemp())
        self.assertRaises(
            InvalidArgumentError, self.make_driver, ex_token_file=self.write_token("")
        )
        self.assertEqual(self.fake.requests, [])

    def test_a_refused_token_is_invalid_creds_without_the_token(self) -> None:
        error = self.failure(
            self.make_driver(ex_token="wrong" + TOKEN).list_clusters(), InvalidCredsError
        )
        self.assertEqual((error.status, error.code), (401, "Unauthorized"))
        self.assertNotIn(TOKEN, str(error))
        self.assertNotIn(TOKEN, repr(error))


class ClusterTests(DriverTestCase):
    def test_list_clusters_gives_every_namespace(self) -> None:
        clusters = self.result(self.driver.list_clusters())
        self.assertEqual(
            [c.id for c in clusters], ["default", "kube-node-lease", "kube-public", "kube-system"]
        )
        self.assertTrue(all(isinstance(c, ContainerCluster) for c in clusters))
        self.assertEqual(clusters[0].name, "default")
        self.assertIs(clusters[0].driver, self.driver)

    def test_a_cluster_carries_the_namespace_phase_and_metadata(self) -> None:
        self.fake.add_namespace("team-a", labels={"env": "prod"})
        cluster = self.result(self.driver.get_cluster("team-a"))
        self.assertEqual(cluster.extra["phase"], "Active")
        self.assertEqual(
            cluster.extra["labels"], {"kubernetes.io/metadata.name": "team-a", "env": "prod"}
        )
        self.assertEqual(cluster.extra["creationTimestamp"], "2023-11-14T22:13:20Z")
        self.assertEqual(
            cluster.extra["uid"], self.stored(self.fake.namespace("team-a"))["metadata"]["uid"]
        )
        self.assertEqual(self.paths(), [("GET", "/api/v1/namespaces/team-a")])

    def test_list_clusters_follows_continue_tokens_page_by_page(self) -> None:
        for index in range(7):
            self.fake.add_namespace(f"team-{index}")
        clusters = self.result(self.driver.list_clusters(ex_page_size=3))
        self.assertEqual(len(clusters), 11)
        self.assertEqual(len({c.id for c in clusters}), 11)
        queries = [seen.query for seen in self.fake.requests]
        self.assertEqual(len(queries), 4)
        self.assertEqual({q["limit"][0] for q in queries}, {"3"})
        self.assertNotIn("continue", queries[0])
        self.assertTrue(all("continue" in q for q in queries[1:]))

    def test_the_default_page_size_is_500(self) -> None:
        self.result(self.driver.list_clusters())
        self.assertEqual(self.fake.requests[0].query, {"limit": ["500"]})

    def test_a_bad_page_size_is_refused_before_any_request(self) -> None:
        for size in (0, -1, 2.5, True, "10"):
            self.assertRaises(InvalidArgumentError, self.driver.list_clusters, ex_page_size=size)
        self.assertEqual(self.fake.requests, [])

    def test_iterate_clusters_fetches_a_page_only_when_needed(self) -> None:
        async def first_two(clusters: AsyncIterator[ContainerCluster]) -> list[str]:
            return [(await clusters.__anext__()).id, (await clusters.__anext__()).id]

        clusters = self.driver.iterate_clusters(ex_page_size=2)
        self.assertEqual(self.fake.requests, [])
        self.assertEqual(
            self.result(Deferred.fromCoroutine(first_two(clusters))),
            ["default", "kube-node-lease"],
        )
        self.assertEqual(len(self.fake.requests), 1)

    def test_a_missing_cluster_is_cluster_not_found_with_the_status_message(self) -> None:
        error = self.failure(self.driver.get_cluster("nope"), ClusterNotFoundError)
        self.assertEqual((error.status, error.code), (404, "NotFound"))
        self.assertIn('namespaces "nope" not found', str(error))
        self.assertEqual(error.driver_name, "Kubernetes")

    def test_the_audit_id_is_the_request_id(self) -> None:
        error = self.failure(self.driver.get_cluster("nope"), ClusterNotFoundError)
        self.assertRegex(error.request_id, r"^[0-9a-f-]{36}$")

    def test_create_cluster_posts_a_namespace(self) -> None:
        cluster = self.result(self.driver.create_cluster("team-a"))
        self.assertEqual((cluster.id, cluster.extra["phase"]), ("team-a", "Active"))
        self.assertEqual(self.paths(), [("POST", "/api/v1/namespaces")])
        self.assertEqual(
            self.body(), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
        )
        self.assertEqual(self.fake.requests[0].headers["content-type"], "application/json")
        self.assertIsNotNone(self.fake.namespace("team-a"))

    def test_creating_an_existing_cluster_is_cluster_already_exists(self) -> None:
        error = self.failure(self.driver.create_cluster("default"), ClusterAlreadyExistsError)
        self.assertIsInstance(error, ResourceConflictError)
        self.assertEqual((error.status, error.code), (409, "AlreadyExists"))
        self.assertIn('namespaces "default" already exists', str(error))

    def test_a_bad_cluster_name_is_refused_before_any_request(self) -> None:
        for name in ("Team", "a_b", "-a", "a" * 64, "", None):
            self.assertRaises(InvalidArgumentError, self.driver.create_cluster, name)
        self.assertRaises(InvalidArgumentError, self.driver.get_cluster, "a/b")
        self.assertEqual(self.fake.requests, [])

    def test_destroy_cluster_deletes_the_namespace(self) -> None:
        self.fake.add_namespace("team-a")
        self.fake.add_pod("team-a", "web")
        cluster = self.result(self.driver.get_cluster("team-a"))
        self.assertIs(self.result(cluster.destroy()), True)
        self.assertEqual(self.paths()[-1], ("DELETE", "/api/v1/namespaces/team-a"))
        self.assertIsNone(self.fake.namespace("team-a"))
        self.assertIsNone(self.fake.pod("team-a", "web"))

    def test_destroy_cluster_takes_a_name(self) -> None:
        self.fake.add_namespace("team-a")
        self.assertIs(self.result(self.driver.destroy_cluster("team-a")), True)

    def test_destroying_a_missing_cluster_is_cluster_not_found(self) -> None:
        self.failure(self.driver.destroy_cluster("nope"), ClusterNotFoundError)

    def test_destroying_the_default_namespace_is_permission_denied(self) -> None:
        error = self.failure(self.driver.destroy_cluster("default"), PermissionDeniedError)
        self.assertIsInstance(error, InvalidCredsError)
        self.assertEqual((error.status, error.code), (403, "Forbidden"))
        self.assertIn("this namespace may not be deleted", str(error))

    def test_libcloud_namespace_names_are_the_cluster_methods(self) -> None:
        cls = KubernetesContainerDriver
        self.assertIs(cls.list_namespaces, cls.list_clusters)
        self.assertIs(cls.get_namespace, cls.get_cluster)
        self.assertIs(cls.create_namespace, cls.create_cluster)
        self.assertIs(cls.delete_namespace, cls.destroy_cluster)


class ContainerTests(DriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake.add_namespace("team-a")
        self.fake.add_pod("default", "web", {"web": "nginx:1.25", "log": "busybox:1.36"})
        self.fake.add_pod("team-a", "job", {"job": "busybox:1.36"}, phase="Succeeded")
        self.fake.add_pod("team-a", "queued", {"queued": "redis:7"}, phase="Pending")

    def test_list_containers_gives_every_container_of_every_pod(self) -> None:
        containers = self.result(self.driver.list_containers())
        self.assertEqual(
            [(c.extra["namespace"], c.extra["pod"], c.name) for c in containers],
            [
                ("default", "web", "web"),
                ("default", "web", "log"),
                ("team-a", "job", "job"),
                ("team-a", "queued", "queued"),
            ],
        )
        self.assertEqual(self.paths(), [("GET", "/api/v1/pods")])

    def test_a_running_container_is_described_from_its_status(self) -> None:
        pod = self.stored(self.fake.pod("default", "web"))
        status = pod["status"]["containerStatuses"][0]
        container = self.result(self.driver.list_containers())[0]
        self.assertIsInstance(container, Container)
        self.assertEqual(container.id, status["containerID"])
        self.assertEqual(container.state, ContainerState.RUNNING)
        self.assertEqual(container.ip_addresses, [pod["status"]["podIP"]])
        self.assertEqual(
            (container.image.name, container.image.path, container.image.version),
            ("nginx:1.25", "nginx:1.25", "1.25"),
        )
        self.assertEqual(container.image.id, status["imageID"])
        self.assertEqual(container.extra["pod_uid"], pod["metadata"]["uid"])
        self.assertEqual(container.extra["phase"], "Running")
        self.assertEqual(container.extra["node_name"], "node-1")
        self.assertEqual(container.extra["startedAt"], "2023-11-14T22:13:20Z")
        self.assertIs(container.extra["ready"], True)

    def test_a_container_not_yet_created_is_named_by_namespace_pod_and_name(self) -> None:
        container = self.result(self.driver.list_containers())[3]
        self.assertEqual(container.id, "team-a/queued/queued")
        self.assertEqual(container.state, ContainerState.PENDING)
        self.assertEqual(container.ip_addresses, [])
        self.assertIsNone(container.image.id)

    def test_a_finished_container_is_terminated_with_its_exit_code(self) -> None:
        container = self.result(self.driver.list_containers())[2]
        self.assertEqual(container.state, ContainerState.TERMINATED)
        self.assertEqual((container.extra["exitCode"], container.extra["reason"]), (0, "Completed"))

    def test_list_containers_of_one_cluster(self) -> None:
        cluster = self.result(self.driver.get_cluster("team-a"))
        by_cluster = self.result(self.driver.list_containers(cluster=cluster))
        by_name = self.result(cluster.list_containers())
        self.assertEqual([c.name for c in by_cluster], ["job", "queued"])
        self.assertEqual([c.name for c in by_name], ["job", "queued"])
        self.assertEqual(self.paths()[-1], ("GET", "/api/v1/namespaces/team-a/pods"))

    def test_list_containers_of_an_image(self) -> None:
        image = ContainerImage(None, "busybox:1.36", "busybox:1.36", "1.36", self.driver)
        by_image = self.result(self.driver.list_containers(image=image))
        by_path = self.result(self.driver.list_containers(image="busybox:1.36"))
        self.assertEqual([c.name for c in by_image], ["log", "job"])
        self.assertEqual([c.name for c in by_path], ["log", "job"])

    def test_list_containers_only_running_ones(self) -> None:
        running = self.result(self.driver.list_containers(all=False))
        self.assertEqual([c.name for c in running], ["web", "log"])

    def test_list_containers_follows_continue_tokens(self) -> None:
        for index in range(11):
            self.fake.add_pod("team-a", f"worker-{index:02}")
        containers = self.result(self.driver.list_containers(cluster="team-a", ex_page_size=5))
        self.assertEqual(len(containers), 13)
        self.assertEqual(len(self.fake.requests), 3)
        self.assertEqual(self.fake.requests[2].query["limit"], ["5"])

    def test_bad_list_arguments_are_refused_before_any_request(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver.list_containers, all="yes")
        self.assertRaises(InvalidArgumentError, self.driver.list_containers, image=42)
        self.assertRaises(InvalidArgumentError, self.driver.list_containers, cluster="No")
        self.assertEqual(self.fake.requests, [])

    def test_get_container_by_runtime_id(self) -> None:
        wanted = self.stored(self.fake.pod("default", "web"))["status"]["containerStatuses"][1][
            "containerID"
        ]
        container = self.result(self.driver.get_container(wanted))
        self.assertEqual((container.id, container.name), (wanted, "log"))

    def test_get_container_by_namespace_pod_and_name_fetches_the_pod(self) -> None:
        container = self.result(self.driver.get_container("team-a/queued/queued"))
        self.assertEqual(container.id, "team-a/queued/queued")
        self.assertEqual(self.paths(), [("GET", "/api/v1/namespaces/team-a/pods/queued")])

    def test_an_unknown_container_is_container_not_found(self) -> None:
        self.failure(self.driver.get_container("containerd://0000"), ContainerNotFoundError)
        error = self.failure(self.driver.get_container("default/gone/gone"), ContainerNotFoundError)
        self.assertEqual((error.status, error.code), (404, "NotFound"))
        self.failure(self.driver.get_container("default/web/nope"), ContainerNotFoundError)

    def test_a_malformed_container_id_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver.get_container, "Default/web/web")
        self.assertRaises(InvalidArgumentError, self.driver.get_container, "")

    def test_destroy_container_deletes_its_pod(self) -> None:
        container = self.result(self.driver.get_container("default/web/log"))
        self.assertIs(self.result(container.destroy()), True)
        self.assertEqual(self.paths()[-1], ("DELETE", "/api/v1/namespaces/default/pods/web"))
        self.assertIsNone(self.fake.pod("default", "web"))

    def test_destroying_a_deleted_container_is_container_not_found(self) -> None:
        container = self.result(self.driver.get_container("default/web/web"))
        self.result(self.driver.destroy_container(container))
        self.failure(self.driver.destroy_container(container), ContainerNotFoundError)

    def test_destroy_container_needs_a_container_of_a_pod(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver.destroy_container, "web")
        stray = Container("x", "x", None, ContainerState.RUNNING, [], self.driver)  # type: ignore[arg-type]
        self.assertRaises(InvalidArgumentError, self.driver.destroy_container, stray)

    def test_pods_cannot_be_started_stopped_or_restarted(self) -> None:
        container = self.result(self.driver.get_container("default/web/web"))
        for method in (container.start, container.stop, container.restart):
            error = self.assertRaises(NotImplementedError, method)
            self.assertIn("Kubernetes", str(error))

    def test_ex_list_pods_gives_the_pods_with_their_containers(self) -> None:
        pods = self.result(self.driver.ex_list_pods())
        self.assertEqual(
            [(p.namespace, p.name) for p in pods],
            [
                ("default", "web"),
                ("team-a", "job"),
                ("team-a", "queued"),
            ],
        )
        web = pods[0]
        self.assertEqual(web.id, self.stored(self.fake.pod("default", "web"))["metadata"]["uid"])
        self.assertEqual(web.state, "running")
        self.assertEqual([c.name for c in web.containers], ["web", "log"])
        self.assertEqual(web.node_name, "node-1")
        self.assertEqual(web.created_at.isoformat(), "2023-11-14T22:13:20+00:00")

    def test_ex_list_pods_of_one_namespace(self) -> None:
        pods = self.result(self.driver.ex_list_pods("team-a", ex_page_size=1))
        self.assertEqual([p.name for p in pods], ["job", "queued"])
        self.assertEqual(len(self.fake.requests), 2)

    def test_ex_destroy_pod(self) -> None:
        self.assertIs(self.result(self.driver.ex_destroy_pod("team-a", "job")), True)
        self.assertIsNone(self.fake.pod("team-a", "job"))
        self.failure(self.driver.ex_destroy_pod("team-a", "job"), ContainerNotFoundError)

    def test_list_images_gives_each_image_once(self) -> None:
        images = self.result(self.driver.list_images())
        self.assertEqual([i.path for i in images], ["nginx:1.25", "busybox:1.36", "redis:7"])
        self.assertRegex(images[1].id, r"^busybox@sha256:")
        self.assertIsNone(images[2].id)

    def test_install_image_names_an_image_without_a_request(self) -> None:
        image = self.result(self.driver.install_image("registry.example:5000/web:2"))
        self.assertEqual((image.path, image.version), ("registry.example:5000/web:2", "2"))
        self.assertEqual(self.fake.requests, [])

    def test_ex_get_version(self) -> None:
        self.assertEqual(self.result(self.driver.ex_get_version()), "v1.31.0")


class ContainerStateTests(SynchronousTestCase):
    def test_states_follow_the_container_status(self) -> None:
        cases = [
            ({"running": {}}, ContainerState.RUNNING),
            ({"waiting": {"reason": "ContainerCreating"}}, ContainerState.PENDING),
            ({"waiting": {"reason": "ImagePullBackOff"}}, ContainerState.ERROR),
            ({"waiting": {"reason": "CrashLoopBackOff"}}, ContainerState.ERROR),
            ({"terminated": {"exitCode": 0}}, ContainerState.TERMINATED),
            ({"terminated": {"exitCode": 137}}, ContainerState.ERROR),
        ]
        for state, expected in cases:
            with self.subTest(state=state):
                self.assertEqual(container_state("Running", {"state": state}), expected)

    def test_without_a_status_the_pod_phase_decides(self) -> None:
        for phase, expected in (
            ("Pending", ContainerState.PENDING),
            ("Succeeded", ContainerState.TERMINATED),
            ("Failed", ContainerState.ERROR),
            ("Unknown", ContainerState.UNKNOWN),
            (None, ContainerState.UNKNOWN),
        ):
            self.assertEqual(container_state(phase, None), expected)

    def test_a_pod_without_metadata_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, to_pod, None, {"spec": {"containers": []}})


class DeployTests(DriverTestCase):
    def test_deploy_container_creates_a_pod_of_one_container(self) -> None:
        container = self.result(self.driver.deploy_container("web", "nginx:1.25"))
        self.assertEqual(self.paths(), [("POST", "/api/v1/namespaces/default/pods")])
        self.assertEqual(
            self.body(),
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
            },
        )
        self.assertEqual(container.id, "default/web/web")
        self.assertEqual(container.state, ContainerState.PENDING)
        self.assertEqual((container.extra["pod"], container.extra["namespace"]), ("web", "default"))
        self.assertIsNotNone(self.fake.pod("default", "web"))

    def test_deploy_container_takes_an_image_and_a_cluster(self) -> None:
        self.fake.add_namespace("team-a")
        cluster = self.result(self.driver.get_cluster("team-a"))
        image = self.result(self.driver.install_image("redis:7"))
        container = self.result(image.deploy("cache", cluster=cluster))
        self.assertEqual(container.extra["namespace"], "team-a")
        self.assertEqual(self.body()["spec"]["containers"][0]["image"], "redis:7")

    def test_the_default_namespace_can_be_another(self) -> None:
        self.fake.add_namespace("team-a")
        driver = self.make_driver(ex_namespace="team-a")
        self.result(driver.deploy_container("web", "nginx:1.25"))
        self.assertIsNotNone(self.fake.pod("team-a", "web"))

    def test_deploy_options_shape_the_pod(self) -> None:
        self.result(
            self.driver.deploy_container(
                "batch.job-1",
                "busybox:1.36",
                parameters="-c 'echo hi'",
                ex_container_name="main",
                ex_command=["/bin/sh"],
                ex_environment={"MODE": "fast"},
                ex_labels={"app": "batch"},
                ex_ports=[8080],
                ex_restart_policy="Never",
            )
        )
        self.assertEqual(
            self.body(),
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "batch.job-1",
                    "namespace": "default",
                    "labels": {"app": "batch"},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox:1.36",
                            "command": ["/bin/sh"],
                            "args": ["-c", "echo hi"],
                            "env": [{"name": "MODE", "value": "fast"}],
                            "ports": [{"containerPort": 8080}],
                        }
                    ],
                    "restartPolicy": "Never",
                },
            },
        )

    def test_deploying_an_existing_pod_is_a_conflict(self) -> None:
        self.fake.add_pod("default", "web")
        error = self.failure(self.driver.deploy_container("web", "nginx"), ResourceConflictError)
        self.assertNotIsInstance(error, ClusterAlreadyExistsError)
        self.assertEqual((error.status, error.code), (409, "AlreadyExists"))
        self.assertIn('pods "web" already exists', str(error))

    def test_deploying_into_a_missing_namespace_is_cluster_not_found(self) -> None:
        error = self.failure(
            self.driver.deploy_container("web", "nginx", cluster="nope"), ClusterNotFoundError
        )
        self.assertIn('namespaces "nope" not found', str(error))

    def test_a_pod_cannot_be_deployed_without_starting(self) -> None:
        self.assertRaises(
            InvalidArgumentError, self.driver.deploy_container, "web", "nginx", start=False
        )

    def test_bad_deploy_arguments_are_refused_before_any_request(self) -> None:
        for arguments in (
            {"name": "Web"},
            {"name": "web.v1"},  # a pod name, but not a container name
            {"image": ""},
            {"image": None},
            {"cluster": "Team"},
            {"parameters": "'unclosed"},
            {"ex_command": "sleep 5"},
            {"ex_environment": {"A": 1}},
            {"ex_labels": ["app"]},
            {"ex_ports": [0]},
            {"ex_ports": ["80"]},
            {"ex_restart_policy": "Sometimes"},
            {"ex_container_name": "Main"},
        ):
            with self.subTest(arguments=arguments):
                call = {"name": "web", "image": "nginx", **arguments}
                self.assertRaises(InvalidArgumentError, self.driver.deploy_container, **call)
        self.assertEqual(self.fake.requests, [])


class ErrorTests(DriverTestCase):
    def test_forbidden_is_permission_denied_with_the_status_message(self) -> None:
        self.fake.fail(
            "/api/v1/pods", 403, message='pods is forbidden: User "alice" cannot list pods'
        )
        error = self.failure(self.driver.list_containers(), PermissionDeniedError)
        self.assertEqual((error.status, error.code), (403, "Forbidden"))
        self.assertIn('User "alice" cannot list pods', str(error))

    def test_an_invalid_object_is_an_invalid_request(self) -> None:
        self.fake.fail("/api/v1/namespaces", 422, message="metadata.name: Invalid value")
        error = self.failure(self.driver.create_cluster("team-a"), InvalidRequestError)
        self.assertEqual((error.status, error.code), (422, "Invalid"))

    def test_a_conflict_on_a_namespace_is_a_conflict(self) -> None:
        self.fake.fail("/api/v1/namespaces/team-a", 409, message="the object has been modified")
        error = self.failure(self.driver.destroy_cluster("team-a"), ResourceConflictError)
        self.assertNotIsInstance(error, ClusterAlreadyExistsError)

    def test_a_token_expiring_mid_list_is_expired_page_token(self) -> None:
        async def first_then_rest(clusters: AsyncIterator[ContainerCluster]) -> None:
            await clusters.__anext__()
            self.fake.expire_continue_tokens()
            async for _ in clusters:
                pass

        d = Deferred.fromCoroutine(first_then_rest(self.driver.iterate_clusters(ex_page_size=1)))
        error = self.failure(d, ExpiredPageTokenError)
        self.assertEqual((error.status, error.code), (410, "Expired"))

    def test_a_server_error_on_a_list_is_retried(self) -> None:
        self.fake.fail("/api/v1/namespaces", 503, times=1)
        driver = self.make_driver(
            ex_retry=RetryPolicy(max_attempts=2, base_delay=1.0, jitter=lambda cap: cap)
        )
        d = driver.list_clusters()
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(len(self.result(d)), 4)

    def test_a_slow_server_is_a_request_timeout(self) -> None:
        self.fake.delay("/api/v1/namespaces", 30)
        driver = self.make_driver(timeout=10)
        d = driver.list_clusters()
        self.clock.advance(10)
        self.failure(d, RequestTimeoutError)

    def test_a_delayed_answer_arrives_once_the_clock_passes(self) -> None:
        agent = self.fake.agent()
        self.fake.delay("/api/v1/namespaces", 2)
        d = self.make_driver(ex_agent=agent).list_clusters()
        self.assertNoResult(d)
        self.clock.advance(2)
        agent.flush()
        self.assertEqual(len(self.result(d)), 4)

    def test_a_list_that_is_not_a_list_is_malformed(self) -> None:
        class Garbage(Resource):
            isLeaf = True

            def render(self, request: ServerRequest) -> bytes:
                return b'{"kind": "NamespaceList", "items": {"a": 1}}'

        driver = self.make_driver(ex_agent=RequestTraversalAgent(Garbage()))
        self.failure(driver.list_clusters(), MalformedResponseError)


class RealSocketTestCase(TestCase):
    """Serves a fake on 127.0.0.1 over TCP or TLS, with the trial reactor."""

    def setUp(self) -> None:
        self.fake = FakeKubernetes()
        self.fake.add_pod("default", "web", {"web": "nginx:1.25"})

    def write(self, name: str, data: bytes) -> str:
        folder = self.mktemp()
        os.makedirs(folder)
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    async def listen(self, endpoint: Any) -> int:
        site = TrackingSite(self.fake.resource())
        port = await endpoint.listen(site)
        self.addCleanup(port.stopListening)
        self.addCleanup(site.all_closed)
        return int(port.getHost().port)

    async def serve_tls(self, require_certificate: bool = True) -> str:
        """Serve over TLS (requiring a client certificate by default); returns the server URL."""
        self.server_ca, self.client_ca = ThrowawayCA(), ThrowawayCA()
        certificate, key = self.server_ca.issue("127.0.0.1", "localhost")
        private = ssl.PrivateCertificate.loadPEM(certificate + key)
        options = ssl.CertificateOptions(
            privateKey=private.privateKey.original,
            certificate=private.original,
            verify=True,
            caCerts=[ssl.Certificate.loadPEM(self.client_ca.pem).original],
            requireCertificate=require_certificate,
        )
        port = await self.listen(SSL4ServerEndpoint(reactor, 0, options, interface="127.0.0.1"))
        return f"https://127.0.0.1:{port}"

    def driver(self, **options: Any) -> KubernetesContainerDriver:
        driver = KubernetesContainerDriver(
            reactor=reactor, timeout=10, ex_retry=RetryPolicy(max_attempts=1), **options
        )
        self.addCleanup(driver.close)
        return driver


class RealSocketTests(RealSocketTestCase):
    @inline
    async def test_over_plain_http(self) -> None:
        port = await self.listen(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"))
        driver = self.driver(host=f"http://127.0.0.1:{port}")
        cluster = await driver.create_cluster("team-a")
        container = await driver.deploy_container("web", "nginx:1.25", cluster=cluster)
        self.assertEqual(container.id, "team-a/web/web")
        containers = await driver.list_containers(ex_page_size=1)
        self.assertEqual([c.extra["namespace"] for c in containers], ["default", "team-a"])
        self.assertIs(await driver.destroy_cluster(cluster), True)

    @inline
    async def test_over_tls_with_a_client_certificate(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("alice", client=True)
        driver = self.driver(
            host=url,
            ca_cert=self.write("ca.pem", self.server_ca.pem),
            cert_file=self.write("client.pem", certificate),
            key_file=self.write("client.key", key),
        )
        [container] = await driver.list_containers()
        self.assertEqual(container.name, "web")
        self.assertEqual(self.fake.requests[-1].user, "alice")

    @inline
    async def test_over_tls_with_inline_certificates_left_on_disk_only_briefly(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("alice", client=True)
        folder = self.mktemp()
        os.makedirs(folder)
        self.patch(tempfile, "tempdir", folder)
        driver = self.driver(
            host=url,
            ex_ca_cert_data=self.server_ca.pem,
            ex_cert_data=certificate.decode(),
            ex_key_data=key,
        )
        self.assertEqual(len(await driver.list_clusters()), 4)
        self.assertEqual(self.fake.requests[-1].user, "alice")
        self.assertEqual(os.listdir(folder), [])

    @inline
    async def test_without_a_client_certificate_the_handshake_fails(self) -> None:
        url = await self.serve_tls()
        driver = self.driver(host=url, ca_cert=self.write("ca.pem", self.server_ca.pem))
        with self.assertRaises(NetworkError):
            await driver.list_clusters()
        self.assertEqual(self.fake.requests, [])

    @inline
    async def test_a_server_outside_the_trusted_cas_is_refused(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("alice", client=True)
        driver = self.driver(
            host=url,
            ca_cert=self.write("other.pem", ThrowawayCA().pem),
            cert_file=self.write("client.pem", certificate),
            key_file=self.write("client.key", key),
        )
        with self.assertRaises(TLSVerificationError):
            await driver.list_clusters()
