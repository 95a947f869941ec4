"""
Tests of txcloud.testing.kubernetes: the fake API server answers as the
Kubernetes API reference says (objects, lists with limit/continue, Status
errors), authenticates, and injects faults; in memory through treq's
StubTreq on a Clock, and over a real TLS socket with client certificates.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet import reactor, ssl
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.http import HTTPTransport, Request, RetryPolicy, TLSOptions
from txcloud.test.http.test_tls import ThrowawayCA, TrackingSite, inline
from txcloud.testing.kubernetes import DEFAULT_NAMESPACES, FakeKubernetes

BASE = "https://kubernetes.test"


class FakeTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.fake = self.make_fake()
        self.treq: Any = StubTreq(self.fake.resource())

    def make_fake(self, **options: Any) -> FakeKubernetes:
        return FakeKubernetes(clock=self.clock, **options)

    def call(
        self,
        method: str,
        path: str,
        document: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send a request and return its status and decoded JSON body."""
        body = None if document is None else json.dumps(document).encode()
        d = self.treq.request(method, BASE + path, params=params, data=body, headers=headers)
        response = self.successResultOf(d)
        return response.code, self.successResultOf(response.json())

    def get(self, path: str, **params: str) -> tuple[int, Any]:
        return self.call("GET", path, params=params)

    def names(self, document: dict[str, Any]) -> list[str]:
        return [item["metadata"]["name"] for item in document["items"]]

    def assertStatus(
        self, answer: tuple[int, Any], code: int, reason: str, message: str | None = None
    ) -> dict[str, Any]:
        status, document = answer
        self.assertEqual(status, code)
        self.assertEqual(
            {k: document[k] for k in ("kind", "apiVersion", "status", "reason", "code")},
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": reason,
                "code": code,
            },
        )
        if message is not None:
            self.assertEqual(document["message"], message)
        return document


class ServerTests(FakeTestCase):
    def test_version_reports_the_configured_git_version(self) -> None:
        status, document = self.get("/version")
        self.assertEqual(status, 200)
        self.assertEqual(
            document,
            {"major": "1", "minor": "31", "gitVersion": "v1.31.0", "platform": "linux/amd64"},
        )

    def test_unknown_path_answers_404_status(self) -> None:
        self.assertStatus(
            self.get("/apis/apps/v1/deployments"),
            404,
            "NotFound",
            "the server could not find the requested resource",
        )

    def test_an_encoded_slash_does_not_separate_segments(self) -> None:
        self.assertStatus(self.get("/%2Fapi%2Fv1/namespaces"), 404, "NotFound")

    def test_a_trailing_slash_is_accepted(self) -> None:
        status, document = self.get("/api/v1/namespaces/")
        self.assertEqual((status, document["kind"]), (200, "NamespaceList"))

    def test_unsupported_method_answers_405(self) -> None:
        self.assertStatus(self.call("PUT", "/api/v1/namespaces"), 405, "MethodNotAllowed")

    def test_unsupported_query_parameter_answers_400(self) -> None:
        document = self.assertStatus(
            self.get("/api/v1/pods", labelSelector="app=web"), 400, "BadRequest"
        )
        self.assertIn("'labelSelector'", document["message"])

    def test_answers_are_json_with_an_audit_id(self) -> None:
        response = self.successResultOf(self.treq.get(BASE + "/api/v1/namespaces"))
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        self.assertEqual(len(response.headers.getRawHeaders("audit-id")[0]), 36)

    def test_requests_are_recorded(self) -> None:
        self.get("/api/v1/pods", limit="2")
        [seen] = self.fake.requests
        self.assertEqual(
            (seen.method, seen.path, seen.query, seen.user),
            ("GET", "/api/v1/pods", {"limit": ["2"]}, "system:anonymous"),
        )
        self.assertEqual(seen.headers["host"], "kubernetes.test")


class NamespaceTests(FakeTestCase):
    def test_a_new_cluster_has_the_default_namespaces(self) -> None:
        status, document = self.get("/api/v1/namespaces")
        self.assertEqual(status, 200)
        self.assertEqual(document["kind"], "NamespaceList")
        self.assertEqual(self.names(document), sorted(DEFAULT_NAMESPACES))
        self.assertEqual(document["metadata"], {"resourceVersion": "4"})

    def test_list_items_carry_no_kind_of_their_own(self) -> None:
        _, document = self.get("/api/v1/namespaces")
        item = document["items"][0]
        self.assertNotIn("kind", item)
        self.assertEqual(item["status"], {"phase": "Active"})
        self.assertEqual(item["metadata"]["labels"], {"kubernetes.io/metadata.name": "default"})

    def test_created_namespace_is_answered_with_201_and_listed(self) -> None:
        status, created = self.call(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},
        )
        self.assertEqual(status, 201)
        self.assertEqual((created["kind"], created["metadata"]["name"]), ("Namespace", "team-a"))
        self.assertEqual(created["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z")
        self.assertEqual(created["metadata"]["resourceVersion"], "5")
        self.assertIn("team-a", self.names(self.get("/api/v1/namespaces")[1]))

    def test_creating_a_taken_namespace_answers_409_already_exists(self) -> None:
        document = self.assertStatus(
            self.call("POST", "/api/v1/namespaces", {"metadata": {"name": "default"}}),
            409,
            "AlreadyExists",
            'namespaces "default" already exists',
        )
        self.assertEqual(document["details"], {"name": "default", "kind": "namespaces"})

    def test_a_namespace_name_that_is_not_a_label_answers_422(self) -> None:
        document = self.assertStatus(
            self.call("POST", "/api/v1/namespaces", {"metadata": {"name": "Team_A"}}),
            422,
            "Invalid",
        )
        self.assertEqual(document["details"]["kind"], "Namespace")
        self.assertEqual(document["details"]["causes"][0]["field"], "metadata.name")

    def test_a_body_that_is_not_a_namespace_answers_400(self) -> None:
        self.assertStatus(
            self.call("POST", "/api/v1/namespaces", {"kind": "Pod", "metadata": {"name": "a"}}),
            400,
            "BadRequest",
        )

    def test_a_missing_namespace_answers_404_naming_it(self) -> None:
        document = self.assertStatus(
            self.get("/api/v1/namespaces/nope"), 404, "NotFound", 'namespaces "nope" not found'
        )
        self.assertEqual(document["details"], {"name": "nope", "kind": "namespaces"})

    def test_deleting_a_namespace_answers_it_terminating_and_removes_its_pods(self) -> None:
        self.fake.add_namespace("team-a")
        self.fake.add_pod("team-a", "web")
        status, document = self.call("DELETE", "/api/v1/namespaces/team-a")
        self.assertEqual(status, 200)
        self.assertEqual(document["status"]["phase"], "Terminating")
        self.assertIn("deletionTimestamp", document["metadata"])
        self.assertIsNone(self.fake.namespace("team-a"))
        self.assertIsNone(self.fake.pod("team-a", "web"))

    def test_a_terminating_namespace_refuses_new_pods_until_it_is_gone(self) -> None:
        self.fake = self.make_fake(namespace_termination_delay=5)
        self.treq = StubTreq(self.fake.resource())
        self.fake.add_namespace("team-a")
        self.call("DELETE", "/api/v1/namespaces/team-a")
        namespace = self.fake.namespace("team-a")
        self.assertEqual(namespace and namespace["status"]["phase"], "Terminating")
        pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "w", "image": "x"}]}}
        self.assertStatus(
            self.call("POST", "/api/v1/namespaces/team-a/pods", pod),
            403,
            "Forbidden",
            'pods "web" is forbidden: unable to create new content in namespace team-a '
            "because it is being terminated",
        )
        self.clock.advance(5)
        self.assertIsNone(self.fake.namespace("team-a"))

    def test_the_default_namespace_cannot_be_deleted(self) -> None:
        self.assertStatus(
            self.call("DELETE", "/api/v1/namespaces/default"),
            403,
            "Forbidden",
            'namespaces "default" is forbidden: this namespace may not be deleted',
        )

    def test_add_namespace_refuses_a_taken_name(self) -> None:
        self.assertRaises(ValueError, self.fake.add_namespace, "default")


def pod_document(name: str = "web", **spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [{"name": "web", "image": "nginx:1.25"}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


class PodTests(FakeTestCase):
    def test_a_created_pod_is_pending_without_container_statuses(self) -> None:
        status, pod = self.call("POST", "/api/v1/namespaces/default/pods", pod_document())
        self.assertEqual(status, 201)
        self.assertEqual(pod["metadata"]["namespace"], "default")
        self.assertEqual(pod["status"], {"phase": "Pending", "qosClass": "BestEffort"})
        self.assertEqual(pod["spec"]["restartPolicy"], "Always")
        self.assertEqual(
            pod["spec"]["containers"],
            [
                {
                    "name": "web",
                    "image": "nginx:1.25",
                    "resources": {},
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
        )

    def test_generate_name_makes_up_a_name(self) -> None:
        document = pod_document()
        document["metadata"] = {"generateName": "job-"}
        _, pod = self.call("POST", "/api/v1/namespaces/default/pods", document)
        self.assertRegex(pod["metadata"]["name"], r"^job-[0-9a-f]{5}$")

    def test_a_pod_in_a_missing_namespace_answers_404_naming_the_namespace(self) -> None:
        document = self.assertStatus(
            self.call("POST", "/api/v1/namespaces/nope/pods", pod_document()),
            404,
            "NotFound",
            'namespaces "nope" not found',
        )
        self.assertEqual(document["details"]["kind"], "namespaces")

    def test_a_pod_for_another_namespace_answers_400(self) -> None:
        document = pod_document()
        document["metadata"]["namespace"] = "kube-system"
        self.assertStatus(
            self.call("POST", "/api/v1/namespaces/default/pods", document), 400, "BadRequest"
        )

    def test_a_pod_without_containers_answers_422(self) -> None:
        self.assertStatus(
            self.call("POST", "/api/v1/namespaces/default/pods", pod_document(containers=[])),
            422,
            "Invalid",
            'Pod "web" is invalid: spec.containers: Required value',
        )

    def test_a_pod_with_two_containers_of_one_name_answers_422(self) -> None:
        twice = [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]
        document = self.assertStatus(
            self.call("POST", "/api/v1/namespaces/default/pods", pod_document(containers=twice)),
            422,
            "Invalid",
        )
        self.assertEqual(document["details"]["causes"][0]["field"], "spec.containers[1].name")

    def test_a_taken_pod_name_answers_409(self) -> None:
        self.fake.add_pod("default", "web")
        document = self.assertStatus(
            self.call("POST", "/api/v1/namespaces/default/pods", pod_document()),
            409,
            "AlreadyExists",
            'pods "web" already exists',
        )
        self.assertEqual(document["details"], {"name": "web", "kind": "pods"})

    def test_a_body_that_is_not_json_answers_400(self) -> None:
        d = self.treq.post(BASE + "/api/v1/namespaces/default/pods", data=b"{nope")
        self.assertEqual(self.successResultOf(d).code, 400)

    def test_listing_pods_of_a_missing_namespace_gives_an_empty_list(self) -> None:
        status, document = self.get("/api/v1/namespaces/nope/pods")
        self.assertEqual((status, document["kind"], document["items"]), (200, "PodList", []))

    def test_pods_of_every_namespace_are_ordered_by_namespace_then_name(self) -> None:
        self.fake.add_pod("kube-system", "dns")
        self.fake.add_pod("default", "web")
        self.fake.add_pod("default", "api")
        _, document = self.get("/api/v1/pods")
        self.assertEqual(
            [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in document["items"]],
            [("default", "api"), ("default", "web"), ("kube-system", "dns")],
        )

    def test_a_missing_pod_answers_404(self) -> None:
        document = self.assertStatus(
            self.get("/api/v1/namespaces/default/pods/nope"), 404, "NotFound"
        )
        self.assertEqual(document["details"], {"name": "nope", "kind": "pods"})

    def test_a_deleted_pod_is_answered_with_its_deletion_time_and_is_gone(self) -> None:
        self.fake.add_pod("default", "web")
        status, pod = self.call("DELETE", "/api/v1/namespaces/default/pods/web")
        self.assertEqual(status, 200)
        self.assertEqual(pod["metadata"]["deletionGracePeriodSeconds"], 30)
        self.assertEqual(self.get("/api/v1/namespaces/default/pods/web")[0], 404)

    def test_a_running_pod_reports_running_containers_with_ids_and_an_address(self) -> None:
        pod = self.fake.add_pod("default", "web", {"web": "nginx:1.25", "log": "busybox:1"})
        status = pod["status"]
        self.assertEqual((status["phase"], status["podIP"]), ("Running", "10.244.0.3"))
        self.assertEqual(status["podIPs"], [{"ip": "10.244.0.3"}])
        first, second = status["containerStatuses"]
        self.assertEqual((first["name"], second["name"]), ("web", "log"))
        self.assertEqual(first["state"], {"running": {"startedAt": "2023-11-14T22:13:20Z"}})
        self.assertTrue(first["ready"])
        self.assertRegex(first["containerID"], r"^containerd://[0-9a-f]{64}$")
        self.assertNotEqual(first["containerID"], second["containerID"])
        self.assertRegex(first["imageID"], r"^nginx@sha256:[0-9a-f]{64}$")

    def test_a_failed_pod_reports_exit_code_1(self) -> None:
        pod = self.fake.add_pod("default", "job", phase="Failed")
        [container] = pod["status"]["containerStatuses"]
        terminated = container["state"]["terminated"]
        self.assertEqual((terminated["exitCode"], terminated["reason"]), (1, "Error"))
        self.assertFalse(container["ready"])

    def test_back_to_pending_drops_statuses_and_address(self) -> None:
        self.fake.add_pod("default", "web")
        pod = self.fake.set_pod_phase("default", "web", "Pending")
        self.assertEqual(pod["status"], {"phase": "Pending", "qosClass": "BestEffort"})

    def test_a_waiting_container_has_no_runtime_id(self) -> None:
        self.fake.add_pod("default", "web", phase="Pending")
        pod = self.fake.set_container_state(
            "default", "web", "web", {"waiting": {"reason": "ImagePullBackOff"}}
        )
        [container] = pod["status"]["containerStatuses"]
        self.assertEqual(container["state"], {"waiting": {"reason": "ImagePullBackOff"}})
        self.assertNotIn("containerID", container)
        self.assertEqual(container["imageID"], "")

    def test_set_container_state_refuses_an_unknown_state(self) -> None:
        self.fake.add_pod("default", "web")
        self.assertRaises(
            ValueError, self.fake.set_container_state, "default", "web", "web", {"paused": {}}
        )

    def test_set_pod_phase_refuses_an_unknown_phase(self) -> None:
        self.fake.add_pod("default", "web")
        self.assertRaises(ValueError, self.fake.set_pod_phase, "default", "web", "Sleeping")

    def test_add_pod_refuses_an_unknown_namespace(self) -> None:
        self.assertRaises(ValueError, self.fake.add_pod, "nope", "web")


class ListTests(FakeTestCase):
    def setUp(self) -> None:
        super().setUp()
        for name in ("a", "b", "c", "d", "e"):
            self.fake.add_pod("default", name)

    def test_limit_cuts_a_page_with_a_continue_token_and_the_remaining_count(self) -> None:
        _, page = self.get("/api/v1/namespaces/default/pods", limit="2")
        self.assertEqual(self.names(page), ["a", "b"])
        self.assertEqual(page["metadata"]["remainingItemCount"], 3)
        _, page = self.get(
            "/api/v1/namespaces/default/pods",
            limit="2",
            **{"continue": page["metadata"]["continue"]},
        )
        self.assertEqual(self.names(page), ["c", "d"])
        _, page = self.get(
            "/api/v1/namespaces/default/pods",
            limit="2",
            **{"continue": page["metadata"]["continue"]},
        )
        self.assertEqual(self.names(page), ["e"])
        self.assertNotIn("continue", page["metadata"])
        self.assertNotIn("remainingItemCount", page["metadata"])

    def test_a_limit_of_zero_gives_everything(self) -> None:
        _, page = self.get("/api/v1/pods", limit="0")
        self.assertEqual(len(page["items"]), 5)

    def test_later_pages_come_from_the_first_pages_snapshot(self) -> None:
        _, first = self.get("/api/v1/pods", limit="2")
        self.fake.add_pod("default", "zz")
        self.call("DELETE", "/api/v1/namespaces/default/pods/e")
        _, rest = self.get("/api/v1/pods", **{"continue": first["metadata"]["continue"]})
        self.assertEqual(self.names(rest), ["c", "d", "e"])
        self.assertEqual(rest["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])

    def test_an_expired_token_answers_410_with_a_token_for_the_current_objects(self) -> None:
        _, first = self.get("/api/v1/pods", limit="2")
        self.fake.expire_continue_tokens()
        self.call("DELETE", "/api/v1/namespaces/default/pods/c")
        document = self.assertStatus(
            self.get("/api/v1/pods", limit="2", **{"continue": first["metadata"]["continue"]}),
            410,
            "Expired",
        )
        _, rest = self.get("/api/v1/pods", **{"continue": document["metadata"]["continue"]})
        self.assertEqual(self.names(rest), ["d", "e"])

    def test_an_undecodable_token_answers_400(self) -> None:
        self.assertStatus(self.get("/api/v1/pods", **{"continue": "bm9wZQ=="}), 400, "BadRequest")

    def test_a_token_of_another_list_answers_400(self) -> None:
        _, first = self.get("/api/v1/pods", limit="2")
        self.assertStatus(
            self.get("/api/v1/namespaces", **{"continue": first["metadata"]["continue"]}),
            400,
            "BadRequest",
        )

    def test_a_negative_limit_answers_400(self) -> None:
        self.assertStatus(self.get("/api/v1/pods", limit="-1"), 400, "BadRequest")


class AuthenticationTests(FakeTestCase):
    def make_fake(self, **options: Any) -> FakeKubernetes:
        return FakeKubernetes(
            clock=self.clock, tokens={"t0ken": "alice"}, users={"bob": "s3cret"}, **options
        )

    def test_a_known_bearer_token_is_served_as_its_user(self) -> None:
        status, _ = self.call("GET", "/api/v1/pods", headers={"Authorization": "Bearer t0ken"})
        self.assertEqual(status, 200)
        self.assertEqual(self.fake.requests[0].user, "alice")

    def test_a_known_user_and_password_are_served(self) -> None:
        basic = base64.b64encode(b"bob:s3cret").decode()
        status, _ = self.call("GET", "/api/v1/pods", headers={"Authorization": f"Basic {basic}"})
        self.assertEqual(status, 200)
        self.assertEqual(self.fake.requests[0].user, "bob")

    def test_a_wrong_password_answers_401(self) -> None:
        basic = base64.b64encode(b"bob:guess").decode()
        answer = self.call("GET", "/api/v1/pods", headers={"Authorization": f"Basic {basic}"})
        self.assertStatus(answer, 401, "Unauthorized", "Unauthorized")

    def test_no_credentials_answer_401_when_credentials_are_configured(self) -> None:
        self.assertStatus(self.get("/api/v1/pods"), 401, "Unauthorized")

    def test_an_unknown_token_answers_401_even_when_anonymous_calls_are_served(self) -> None:
        self.fake = self.make_fake(anonymous=True)
        self.treq = StubTreq(self.fake.resource())
        self.assertEqual(self.get("/api/v1/pods")[0], 200)
        answer = self.call("GET", "/api/v1/pods", headers={"Authorization": "Bearer nope"})
        self.assertStatus(answer, 401, "Unauthorized")

    def test_tokens_rotate_while_the_fake_runs(self) -> None:
        self.fake.add_token("n3w", "alice")
        self.fake.revoke_token("t0ken")
        answer = self.call("GET", "/api/v1/pods", headers={"Authorization": "Bearer t0ken"})
        self.assertStatus(answer, 401, "Unauthorized")
        status, _ = self.call("GET", "/api/v1/pods", headers={"Authorization": "Bearer n3w"})
        self.assertEqual(status, 200)
        self.assertEqual(self.fake.requests[-1].user, "alice")
        self.assertRaises(KeyError, self.fake.revoke_token, "t0ken")


class FaultTests(FakeTestCase):
    def test_fail_answers_the_status_for_that_path_and_method_only(self) -> None:
        self.fake.fail("/api/v1/namespaces", 403, method="POST", message="no creating")
        self.assertStatus(
            self.call("POST", "/api/v1/namespaces", {"metadata": {"name": "x"}}),
            403,
            "Forbidden",
            "no creating",
        )
        self.assertEqual(self.get("/api/v1/namespaces")[0], 200)
        self.assertEqual(self.get("/api/v1/pods")[0], 200)

    def test_fail_a_number_of_times_then_answer(self) -> None:
        self.fake.fail("/api/v1/pods", 503, times=2)
        self.assertStatus(self.get("/api/v1/pods"), 503, "ServiceUnavailable")
        self.assertStatus(self.get("/api/v1/pods"), 503, "ServiceUnavailable")
        self.assertEqual(self.get("/api/v1/pods")[0], 200)

    def test_fail_takes_a_reason(self) -> None:
        self.fake.fail("/api/v1/pods", 429, reason="TooManyRequests", message="slow down")
        self.assertStatus(self.get("/api/v1/pods"), 429, "TooManyRequests", "slow down")

    def test_an_injected_failure_comes_before_authentication(self) -> None:
        self.fake = FakeKubernetes(clock=self.clock, tokens={"t": "alice"})
        self.treq = StubTreq(self.fake.resource())
        self.fake.fail("/version", 500)
        self.assertStatus(self.get("/version"), 500, "InternalError")

    def test_delay_holds_the_answer_until_the_clock_passes(self) -> None:
        self.fake.delay("/api/v1/pods", 3, times=1)
        d = self.treq.get(BASE + "/api/v1/pods")
        self.clock.advance(2.9)
        self.treq.flush()
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.treq.flush()
        self.assertEqual(self.successResultOf(d).code, 200)
        # Only once.
        self.assertEqual(self.successResultOf(self.treq.get(BASE + "/api/v1/pods")).code, 200)

    def test_a_delayed_request_still_gets_an_injected_failure(self) -> None:
        self.fake.delay("/api/v1/pods", 1)
        self.fake.fail("/api/v1/pods", 500)
        d = self.treq.get(BASE + "/api/v1/pods")
        self.clock.advance(1)
        self.treq.flush()
        self.assertEqual(self.successResultOf(d).code, 500)


class TLSClientCertificateTests(TestCase):
    """The fake over a real TLS socket, asking for (not requiring) client certificates."""

    async def serve(self, fake: FakeKubernetes) -> tuple[str, ThrowawayCA, ThrowawayCA]:
        server_ca, client_ca = ThrowawayCA(), ThrowawayCA()
        certificate, key = server_ca.issue("127.0.0.1")
        private = ssl.PrivateCertificate.loadPEM(certificate + key)
        options = ssl.CertificateOptions(
            privateKey=private.privateKey.original,
            certificate=private.original,
            verify=True,
            caCerts=[ssl.Certificate.loadPEM(client_ca.pem).original],
            requireCertificate=False,
        )
        site = TrackingSite(fake.resource())
        endpoint = SSL4ServerEndpoint(reactor, 0, options, interface="127.0.0.1")
        port = await endpoint.listen(site)
        self.addCleanup(port.stopListening)
        self.addCleanup(site.all_closed)
        return f"https://127.0.0.1:{port.getHost().port}", server_ca, client_ca

    def write(self, data: bytes) -> str:
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(data)
        return path

    async def send(self, url: str, tls: TLSOptions) -> Any:
        transport = HTTPTransport(
            reactor=reactor, tls=tls, timeout=10.0, retry=RetryPolicy(max_attempts=1)
        )
        self.addCleanup(transport.close)
        d: Deferred[Any] = transport.send(
            Request("GET", url + "/api/v1/namespaces", ok_statuses={401})
        )
        response = await d
        return response.status, await response.json()

    @inline
    async def test_the_client_certificate_names_the_user(self) -> None:
        fake = FakeKubernetes(anonymous=False)
        url, server_ca, client_ca = await self.serve(fake)
        certificate, key = client_ca.issue("alice", client=True)
        status, document = await self.send(
            url,
            TLSOptions(
                ca_file=self.write(server_ca.pem),
                client_cert=self.write(certificate),
                client_key=self.write(key),
            ),
        )
        self.assertEqual((status, document["kind"]), (200, "NamespaceList"))
        self.assertEqual(fake.requests[-1].user, "alice")

    @inline
    async def test_without_a_client_certificate_the_caller_is_unauthorized(self) -> None:
        fake = FakeKubernetes(anonymous=False)
        url, server_ca, _ = await self.serve(fake)
        status, document = await self.send(url, TLSOptions(ca_file=self.write(server_ca.pem)))
        self.assertEqual((status, document["reason"]), (401, "Unauthorized"))
