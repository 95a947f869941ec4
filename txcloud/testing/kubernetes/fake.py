"""The in-memory Kubernetes API server; :mod:`txcloud.testing.kubernetes` describes it."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

import attrs
from cryptography.x509.oid import NameOID
from treq.testing import RequestTraversalAgent
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site
from twisted.web.server import Request as ServerRequest

from txcloud.testing.kubernetes._api import (
    LABEL_RULE,
    SUBDOMAIN_RULE,
    APIError,
    Pager,
    container_status,
    invalid,
    is_label,
    is_subdomain,
    new_name,
    not_found,
    object_metadata,
    pod_containers,
)

__all__ = ["DEFAULT_NAMESPACES", "FakeKubernetes", "SeenRequest"]

#: The namespaces a new cluster has.
DEFAULT_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
#: Namespaces the API server refuses to delete.
PROTECTED_NAMESPACES = frozenset({"default", "kube-public", "kube-system"})
#: The states a container status may be in.
CONTAINER_STATES = frozenset({"running", "waiting", "terminated"})
#: Pod phases :meth:`FakeKubernetes.set_pod_phase` knows.
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")

_LIST_PARAMS = frozenset({"limit", "continue"})


@attrs.define
class SeenRequest:
    """
    A request as the fake received it.

    :ivar method: ``"GET"``...
    :ivar path: the path as sent (percent-encoded), without the query.
    :ivar query: each query parameter's values.
    :ivar headers: header names (lower case) to their first value.
    :ivar body: the request body.
    :ivar user: who the fake took the caller for, once it authenticated them.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    user: str | None = None


@attrs.define
class _Fault:
    """An injected error status or delay for the requests it matches."""

    path: str
    method: str | None
    remaining: int | None
    status: int | None = None
    reason: str | None = None
    message: str = ""
    delay: float = 0.0

    def take(self, method: str, path: str) -> bool:
        if self.path != path or self.method not in (None, method) or self.remaining == 0:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


class _APIResource(Resource):
    isLeaf = True

    def __init__(self, fake: FakeKubernetes) -> None:
        super().__init__()
        self._fake = fake

    def render(self, request: ServerRequest) -> Any:
        return self._fake._render(request)


class FakeKubernetes:
    """
    An in-memory Kubernetes API server (see the module's documentation).

    :param clock: the reactor or ``Clock`` that dates objects and runs
        delays; the global reactor when ``None``.
    :param tokens: bearer tokens the server accepts, each mapped to its user.
    :param users: user names the server accepts with basic authentication,
        each mapped to its password.
    :param anonymous: whether a request without credentials is served (as
        ``system:anonymous``); by default only when neither *tokens* nor
        *users* is given.
    :param namespaces: the namespaces the cluster starts with.
    :param namespace_termination_delay: seconds a deleted namespace stays
        ``Terminating`` before it and its pods are gone.
    :param version: the ``gitVersion`` that ``/version`` reports.
    """

    def __init__(
        self,
        *,
        clock: Any = None,
        tokens: Mapping[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        anonymous: bool | None = None,
        namespaces: Sequence[str] = DEFAULT_NAMESPACES,
        namespace_termination_delay: float = 0.0,
        version: str = "v1.31.0",
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        self._tokens = dict(tokens or {})
        self._users = dict(users or {})
        self._anonymous = (not self._tokens and not self._users) if anonymous is None else anonymous
        self._termination_delay = namespace_termination_delay
        self._version = version
        self._resource_version = 0
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._pods: dict[str, dict[str, Any]] = {}
        self._pager = Pager()
        self._faults: list[_Fault] = []
        self._pod_ips = 0
        #: Every request received, in order.
        self.requests: list[SeenRequest] = []
        for name in namespaces:
            self.add_namespace(name)

    # Serving

    def resource(self) -> Resource:
        """The ``twisted.web`` resource serving the API (mount it at the root)."""
        return _APIResource(self)

    def site(self) -> Site:
        """A ``Site`` serving the API, to listen on with any endpoint."""
        return Site(self.resource())

    def agent(self) -> RequestTraversalAgent:
        """
        An ``IAgent`` sending requests to this fake in memory; call its
        ``flush()`` after advancing the clock past a :meth:`delay`.
        """
        return RequestTraversalAgent(self.resource())

    # Seeding and inspecting

    def _bump(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def _now(self) -> str:
        moment = datetime.fromtimestamp(self.clock.seconds(), timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_namespace(
        self, name: str, *, labels: Mapping[str, str] | None = None, phase: str = "Active"
    ) -> dict[str, Any]:
        """
        Add a namespace.

        :returns: a copy of the namespace as the API serves it.
        :raises ValueError: if *name* is taken or not an RFC 1123 label.
        """
        if not is_label(name) or name in self._namespaces:
            raise ValueError(f"cannot add namespace {name!r}: taken or not a valid name")
        self._namespaces[name] = {
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid4()),
                "resourceVersion": self._bump(),
                "creationTimestamp": self._now(),
                "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": phase},
        }
        return copy.deepcopy(self._namespaces[name])

    def namespace(self, name: str) -> dict[str, Any] | None:
        """A copy of the namespace *name*, or ``None``."""
        found = self._namespaces.get(name)
        return None if found is None else copy.deepcopy(found)

    def add_pod(
        self,
        namespace: str,
        name: str,
        containers: Mapping[str, str] | None = None,
        *,
        phase: str = "Running",
        labels: Mapping[str, str] | None = None,
        node_name: str = "node-1",
        pod_ip: str | None = None,
    ) -> dict[str, Any]:
        """
        Add a pod, as if it had been created and scheduled.

        :param containers: container names mapped to their images; one
            container named like the pod running ``busybox:1.36`` by default.
        :param phase: see :meth:`set_pod_phase`.
        :param pod_ip: the pod's address once running; one from
            ``10.244.0.0/16`` by default.
        :returns: a copy of the pod as the API serves it.
        :raises ValueError: for an unknown namespace, a taken or bad name.
        """
        containers = containers or {name: "busybox:1.36"}
        spec = {
            "containers": [
                {"name": container, "image": image} for container, image in containers.items()
            ],
            "nodeName": node_name,
        }
        document = {"metadata": {"name": name, "labels": dict(labels or {})}, "spec": spec}
        try:
            self._create_pod(namespace, document)
        except APIError as failure:
            raise ValueError(f"cannot add pod {name!r}: {failure}") from None
        return self.set_pod_phase(namespace, name, phase, pod_ip=pod_ip)

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A copy of the pod *name* in *namespace*, or ``None``."""
        found = self._pods.get(f"{namespace}/{name}")
        return None if found is None else copy.deepcopy(found)

    def _stored_pod(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self._pods[f"{namespace}/{name}"]
        except KeyError:
            raise ValueError(f"no pod {name!r} in namespace {namespace!r}") from None

    def set_pod_phase(
        self, namespace: str, name: str, phase: str, *, pod_ip: str | None = None
    ) -> dict[str, Any]:
        """
        Move a pod to *phase*, with the container statuses the kubelet
        would report: none while ``Pending``; all running when
        ``Running``; all terminated (exit code 0, or 1 for ``Failed``) when
        ``Succeeded`` or ``Failed``; unchanged when ``Unknown``.

        :returns: a copy of the pod.
        :raises ValueError: for an unknown pod or phase.
        """
        if phase not in POD_PHASES:
            raise ValueError(f"phase must be one of {', '.join(POD_PHASES)}, not {phase!r}")
        pod = self._stored_pod(namespace, name)
        status = pod["status"]
        status["phase"] = phase
        now = self._now()
        if phase == "Pending":
            for key in ("containerStatuses", "podIP", "podIPs", "hostIP", "startTime"):
                status.pop(key, None)
        elif phase != "Unknown":
            if "podIP" not in status or pod_ip is not None:
                address = pod_ip or self._next_pod_ip()
                status.update(podIP=address, podIPs=[{"ip": address}])
            status.setdefault("hostIP", "10.0.0.10")
            status.setdefault("startTime", now)
            if phase == "Running":
                state: dict[str, Any] = {"running": {"startedAt": now}}
            else:
                failed = phase == "Failed"
                state = {
                    "terminated": {
                        "exitCode": 1 if failed else 0,
                        "reason": "Error" if failed else "Completed",
                        "startedAt": status["startTime"],
                        "finishedAt": now,
                    }
                }
            status["containerStatuses"] = [
                container_status(pod, container, state) for container in pod["spec"]["containers"]
            ]
        pod["metadata"]["resourceVersion"] = self._bump()
        return copy.deepcopy(pod)

    def set_container_state(
        self, namespace: str, pod_name: str, container: str, state: Mapping[str, Any]
    ) -> dict[str, Any]:
        """
        Set one container's state, as the kubelet reports it.

        :param state: ``{"running": {...}}``, ``{"waiting": {"reason":
            "ImagePullBackOff", ...}}`` or ``{"terminated": {"exitCode": 2,
            ...}}``.  The other containers of a pod without statuses are
            reported waiting (``ContainerCreating``).
        :returns: a copy of the pod.
        :raises ValueError: for an unknown pod or container, or a bad state.
        """
        if not (isinstance(state, Mapping) and len(state) == 1 and set(state) <= CONTAINER_STATES):
            raise ValueError(f"state must have one key of {sorted(CONTAINER_STATES)}: {state!r}")
        pod = self._stored_pod(namespace, pod_name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        if container not in names:
            raise ValueError(f"pod {pod_name!r} has no container {container!r}")
        statuses = pod["status"].setdefault(
            "containerStatuses",
            [
                container_status(pod, c, {"waiting": {"reason": "ContainerCreating"}})
                for c in pod["spec"]["containers"]
            ],
        )
        spec = pod["spec"]["containers"][names.index(container)]
        statuses[names.index(container)] = container_status(pod, spec, state)
        pod["metadata"]["resourceVersion"] = self._bump()
        return copy.deepcopy(pod)

    def _next_pod_ip(self) -> str:
        self._pod_ips += 1
        return f"10.244.{self._pod_ips // 250}.{self._pod_ips % 250 + 2}"

    # Faults

    def fail(
        self,
        path: str,
        status: int,
        *,
        reason: str | None = None,
        message: str | None = None,
        method: str | None = None,
        times: int | None = None,
    ) -> None:
        """
        Answer requests for *path* with an error ``Status`` instead.

        :param path: the request path, exactly (``"/api/v1/namespaces"``).
        :param status: the HTTP status (``403``...).
        :param reason: the ``Status`` reason; the API server's for *status*
            by default (``Forbidden``...).
        :param message: the ``Status`` message.
        :param method: only for this method; any by default.
        :param times: only this many times; every time by default.
        """
        self._faults.append(
            _Fault(
                path,
                method,
                times,
                status=status,
                reason=reason,
                message=message or f"injected failure {status}",
            )
        )

    def delay(
        self, path: str, seconds: float, *, method: str | None = None, times: int | None = None
    ) -> None:
        """
        Hold requests for *path* for *seconds* on the clock before answering
        them (an injected error for the path still applies after the delay).

        :param method: only for this method; any by default.
        :param times: only this many times; every time by default.
        """
        self._faults.append(_Fault(path, method, times, delay=seconds))

    def add_token(self, token: str, user: str) -> None:
        """Accept the bearer *token* from now on, as *user* (a token issued or rotated in)."""
        self._tokens[token] = user

    def revoke_token(self, token: str) -> None:
        """
        Refuse the bearer *token* from now on (``401``), as the API server
        does once a token expires or its service account is deleted.

        :raises KeyError: if the fake does not accept *token*.
        """
        del self._tokens[token]

    def expire_continue_tokens(self) -> None:
        """Make every ``continue`` token given so far expire (``410 Gone``)."""
        self._pager.expire()

    def _take_fault(self, method: str, path: str, delay: bool) -> _Fault | None:
        for fault in self._faults:
            if (fault.status is None) == delay and fault.take(method, path):
                return fault
        return None

    # Requests

    def _render(self, request: ServerRequest) -> Any:
        path = request.path.decode("ascii")
        query = parse_qs(request.uri.decode("ascii").partition("?")[2], keep_blank_values=True)
        seen = SeenRequest(
            method=request.method.decode("ascii"),
            path=path,
            query=query,
            headers={
                name.decode("latin-1").lower(): values[0].decode("latin-1")
                for name, values in request.requestHeaders.getAllRawHeaders()
            },
            body=request.content.read() if request.content is not None else b"",
        )
        self.requests.append(seen)
        held = self._take_fault(seen.method, path, delay=True)
        if held is None:
            return self._answer(request, seen)
        call = self.clock.callLater(held.delay, self._answer_later, request, seen)
        request.notifyFinish().addErrback(lambda _: call.cancel() if call.active() else None)
        return NOT_DONE_YET

    def _answer_later(self, request: ServerRequest, seen: SeenRequest) -> None:
        request.write(self._answer(request, seen))
        request.finish()

    def _answer(self, request: ServerRequest, seen: SeenRequest) -> bytes:
        try:
            fault = self._take_fault(seen.method, seen.path, delay=False)
            if fault is not None and fault.status is not None:
                raise APIError(fault.status, fault.message, fault.reason)
            seen.user = self._authenticate(request, seen.headers.get("authorization"))
            code, document = self._dispatch(seen)
        except APIError as failure:
            code, document = failure.code, failure.document
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Audit-Id", str(uuid.uuid4()).encode())
        return json.dumps(document).encode()

    def _authenticate(self, request: ServerRequest, authorization: str | None) -> str:
        if authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            user: str | None = None
            if scheme.lower() == "bearer":
                user = self._tokens.get(credentials)
            elif scheme.lower() == "basic":
                try:
                    name, _, password = base64.b64decode(credentials).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    name, password = "", ""
                if name in self._users and self._users[name] == password:
                    user = name
            if user is None:
                raise APIError(401, "Unauthorized")
            return user
        certificate = self._peer_certificate(request)
        if certificate is not None:
            return certificate
        if self._anonymous:
            return "system:anonymous"
        raise APIError(401, "Unauthorized")

    @staticmethod
    def _peer_certificate(request: ServerRequest) -> str | None:
        # The common name of the client's TLS certificate, if it sent one.
        transport = getattr(request.channel, "transport", None)
        get_certificate = getattr(transport, "getPeerCertificate", None)
        certificate = get_certificate() if get_certificate is not None else None
        if certificate is None:
            return None
        names = certificate.to_cryptography().subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    def _dispatch(self, seen: SeenRequest) -> tuple[int, dict[str, Any]]:
        raw = seen.path[1:-1] if seen.path.endswith("/") else seen.path[1:]
        segments = [unquote(segment) for segment in raw.split("/")]
        method = seen.method
        match segments:
            case ["version"]:
                self._allow(method, "GET")
                self._params(seen, frozenset())
                return 200, self._version_document()
            case ["api", "v1", "namespaces"]:
                if self._allow(method, "GET", "POST") == "POST":
                    self._params(seen, frozenset())
                    return 201, self._create_namespace(self._body(seen))
                return 200, self._list(seen, "Namespace", self._namespaces.items())
            case ["api", "v1", "namespaces", name]:
                self._params(seen, frozenset())
                if self._allow(method, "GET", "DELETE") == "DELETE":
                    return 200, self._delete_namespace(name)
                return 200, copy.deepcopy(self._namespace(name))
            case ["api", "v1", "pods"]:
                self._allow(method, "GET")
                return 200, self._list(seen, "Pod", self._pods.items())
            case ["api", "v1", "namespaces", namespace, "pods"]:
                if self._allow(method, "GET", "POST") == "POST":
                    self._params(seen, frozenset())
                    key = self._create_pod(namespace, self._body(seen))
                    return 201, copy.deepcopy(self._pods[key])
                prefix = f"{namespace}/"
                pods = [(k, v) for k, v in self._pods.items() if k.startswith(prefix)]
                return 200, self._list(seen, "Pod", pods)
            case ["api", "v1", "namespaces", namespace, "pods", name]:
                self._params(seen, frozenset())
                if self._allow(method, "GET", "DELETE") == "DELETE":
                    return 200, self._delete_pod(namespace, name)
                return 200, copy.deepcopy(self._pod(namespace, name))
        raise APIError(404, "the server could not find the requested resource")

    @staticmethod
    def _allow(method: str, *allowed: str) -> str:
        if method not in allowed:
            raise APIError(405, "the server does not allow this method on the requested resource")
        return method

    @staticmethod
    def _params(seen: SeenRequest, allowed: frozenset[str]) -> None:
        for name in seen.query:
            if name not in allowed:
                raise APIError(
                    400, f"txcloud's fake Kubernetes API does not support the parameter {name!r}"
                )

    @staticmethod
    def _body(seen: SeenRequest) -> dict[str, Any]:
        try:
            document = json.loads(seen.body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise APIError(400, "the request body is not a JSON object")
        return document

    def _list(
        self, seen: SeenRequest, kind: str, items: Iterable[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]:
        self._params(seen, _LIST_PARAMS)
        limit = seen.query.get("limit", ["0"])[-1]
        token = seen.query.get("continue", [""])[-1]
        return self._pager.page(kind, items, self._resource_version, limit, token)

    def _version_document(self) -> dict[str, Any]:
        major, _, rest = self._version.lstrip("v").partition(".")
        return {
            "major": major,
            "minor": rest.partition(".")[0],
            "gitVersion": self._version,
            "platform": "linux/amd64",
        }

    # Namespaces

    def _namespace(self, name: str) -> dict[str, Any]:
        try:
            return self._namespaces[name]
        except KeyError:
            raise not_found("namespaces", name) from None

    def _create_namespace(self, document: Mapping[str, Any]) -> dict[str, Any]:
        metadata = object_metadata(document, "Namespace")
        name = new_name(metadata)
        if not is_label(name):
            raise invalid("Namespace", name, "metadata.name", LABEL_RULE)
        if name in self._namespaces:
            raise APIError(
                409,
                f'namespaces "{name}" already exists',
                reason="AlreadyExists",
                details={"name": name, "kind": "namespaces"},
            )
        labels = metadata.get("labels")
        return self.add_namespace(name, labels=labels if isinstance(labels, Mapping) else None)

    def _delete_namespace(self, name: str) -> dict[str, Any]:
        namespace = self._namespace(name)
        if name in PROTECTED_NAMESPACES:
            raise APIError(
                403,
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                details={"name": name, "kind": "namespaces"},
            )
        if namespace["status"]["phase"] != "Terminating":
            namespace["status"]["phase"] = "Terminating"
            namespace["metadata"]["deletionTimestamp"] = self._now()
            namespace["metadata"]["resourceVersion"] = self._bump()
            if self._termination_delay > 0:
                self.clock.callLater(self._termination_delay, self._finalize, name)
            else:
                answer = copy.deepcopy(namespace)
                self._finalize(name)
                return answer
        return copy.deepcopy(namespace)

    def _finalize(self, name: str) -> None:
        prefix = f"{name}/"
        for key in [k for k in self._pods if k.startswith(prefix)]:
            del self._pods[key]
        self._namespaces.pop(name, None)
        self._bump()

    # Pods

    def _pod(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self._pods[f"{namespace}/{name}"]
        except KeyError:
            raise not_found("pods", name) from None

    def _create_pod(self, namespace: str, document: Mapping[str, Any]) -> str:
        """Store a new pod; returns its key (``namespace/name``)."""
        metadata = object_metadata(document, "Pod")
        name = new_name(metadata)
        if metadata.get("namespace", namespace) != namespace:
            raise APIError(
                400,
                "the namespace of the provided object does not match the namespace "
                "sent on the request",
            )
        if not is_subdomain(name):
            raise invalid("Pod", name, "metadata.name", SUBDOMAIN_RULE)
        containers = pod_containers(name, document.get("spec"))
        space = self._namespace(namespace)
        if space["status"]["phase"] == "Terminating":
            raise APIError(
                403,
                f'pods "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated",
                details={"name": name, "kind": "pods"},
            )
        key = f"{namespace}/{name}"
        if key in self._pods:
            raise APIError(
                409,
                f'pods "{name}" already exists',
                reason="AlreadyExists",
                details={"name": name, "kind": "pods"},
            )
        spec = dict(document["spec"])
        spec["containers"] = containers
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        labels = metadata.get("labels")
        self._pods[key] = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "resourceVersion": self._bump(),
                "creationTimestamp": self._now(),
                **({"labels": dict(labels)} if isinstance(labels, Mapping) and labels else {}),
            },
            "spec": spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        return key

    def _delete_pod(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self._pod(namespace, name)
        del self._pods[f"{namespace}/{name}"]
        answer = copy.deepcopy(pod)
        answer["metadata"].update(
            deletionTimestamp=self._now(),
            deletionGracePeriodSeconds=30,
            resourceVersion=self._bump(),
        )
        return answer
