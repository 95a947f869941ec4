"""
:class:`FakeDocker`: one in-memory Docker engine behind the Engine API
(the image endpoints are in :mod:`._images`, the container ones in
:mod:`._containers`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing.docker._containers import ContainerEndpoints
from txcloud.testing.docker._images import ImageEndpoints
from txcloud.testing.docker._models import (
    STDERR,
    STDOUT,
    DockerCall,
    FakeContainer,
    FakeDockerImage,
    FakeRegistryImage,
    digest_of,
    engine_error,
    json_reply,
    normalized,
)

__all__ = ["FakeDocker"]

# Engine releases by the API version they speak, for /version.
_ENGINE_RELEASES = {
    (1, 41): "20.10.24",
    (1, 42): "23.0.6",
    (1, 43): "24.0.9",
    (1, 44): "25.0.5",
    (1, 45): "26.1.4",
    (1, 46): "27.1.2",
    (1, 47): "27.5.1",
}
_VERSIONED = re.compile(r"/v(\d+)\.(\d+)(/.*)")


def _version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ValueError(f"not an API version: {text!r}")
    return int(major), int(minor)


class FakeDocker(FakeService, ImageEndpoints, ContainerEndpoints):
    """
    An in-memory Docker engine (see :mod:`txcloud.testing.docker`).

    :param clock: what dates containers and delays answers: a ``Clock`` in
        unit tests; the global reactor by default.
    :param api_version: the newest Engine API version it speaks (``/version``).
    :param min_api_version: the oldest it accepts in a path.
    :param credentials: ``(user, password)`` that requests must carry with
        HTTP basic authentication (an engine behind an authenticating
        proxy); none needed by default.
    :ivar images: the engine's :class:`FakeDockerImage` by id.
    :ivar registry: :class:`FakeRegistryImage` it can pull, by reference.
    :ivar containers: :class:`FakeContainer` by id.
    :ivar pull_seconds: seconds a pull (or push) takes on the clock
        between its first progress lines and its last.
    """

    def __init__(
        self,
        *,
        clock: Any = None,
        api_version: str = "1.45",
        min_api_version: str = "1.24",
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(clock)
        self.api_version = _version(api_version)
        self.min_api_version = _version(min_api_version)
        self.credentials = credentials
        self.images: dict[str, FakeDockerImage] = {}
        self.registry: dict[str, FakeRegistryImage] = {}
        self.containers: dict[str, FakeContainer] = {}
        self.pull_seconds = 0.0
        self._pull_failures: list[tuple[str, str, int | None]] = []
        self._ips = 0

    def driver(self, *, reactor: Any = None, **kwargs: Any) -> DockerContainerDriver:
        """
        A real :class:`~txcloud.container.drivers.docker.DockerContainerDriver`
        (for the engine's default socket, ignoring ``DOCKER_HOST``) whose
        requests come here through a new :meth:`agent`.

        :param reactor: the driver's reactor; this fake's clock by default.
        :param kwargs: more driver arguments (``ex_retry``, ``timeout``...).
        """
        if self.credentials is not None:
            kwargs.setdefault("key", self.credentials[0])
            kwargs.setdefault("secret", self.credentials[1])
        kwargs.setdefault("host", "unix:///var/run/docker.sock")
        kwargs.setdefault("ex_environ", {})
        return DockerContainerDriver(
            reactor=self.clock if reactor is None else reactor, ex_agent=self.agent(), **kwargs
        )

    # Seeding

    def add_image(
        self,
        *references: str,
        size: int = 4_261_550,
        labels: Mapping[str, str] | None = None,
        cmd: Sequence[str] = ("sh",),
    ) -> FakeDockerImage:
        """
        Put an image on the engine, named by *references* (``"busybox:1.36"``;
        ``latest`` when a reference names no tag).
        """
        tags = [normalized(reference) for reference in references]
        image = FakeDockerImage(
            digest_of("image", *tags, len(self.images)),
            [],
            self.clock.seconds(),
            size=size,
            labels=dict(labels or {}),
            cmd=list(cmd),
        )
        for tag in tags:
            self._untag_elsewhere(tag)
        image.tags = tags
        self.images[image.id] = image
        return image

    def add_registry_image(
        self,
        reference: str,
        *,
        size: int = 4_261_550,
        layers: int = 1,
        credentials: tuple[str, str] | None = None,
        description: str = "",
        stars: int = 0,
        official: bool = False,
        labels: Mapping[str, str] | None = None,
        cmd: Sequence[str] = ("sh",),
    ) -> FakeRegistryImage:
        """
        Make *reference* pullable (``POST /images/create``) and searchable.

        :param layers: layers to report progress for.
        :param credentials: ``(username, password)`` a pull must send in
            ``X-Registry-Auth``; anyone may pull when ``None``.
        """
        tagged = normalized(reference)
        pulled = FakeRegistryImage(
            tagged,
            digest_of("image", tagged),
            digest_of("manifest", tagged),
            size=size,
            layers=layers,
            credentials=credentials,
            description=description,
            stars=stars,
            official=official,
            labels=dict(labels or {}),
            cmd=list(cmd),
        )
        self.registry[tagged] = pulled
        return pulled

    def add_container(
        self,
        name: str,
        image: str = "busybox:latest",
        *,
        state: str = "running",
        command: Sequence[str] = ("sh",),
        tty: bool = False,
        labels: Mapping[str, str] | None = None,
        env: Sequence[str] = (),
        network_mode: str = "bridge",
        exit_code: int = 0,
        port_bindings: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
    ) -> FakeContainer:
        """
        Add a container of *image* (put on the engine if it is not there).

        :param state: ``"running"``, ``"created"`` or ``"exited"``.
        :param exit_code: its exit code, when exited.
        :param port_bindings: the engine's ``{"80/tcp": [{"HostPort": "8080"}]}``.
        :raises ValueError: for a taken name or an unknown state.
        """
        if state not in ("running", "created", "exited"):
            raise ValueError(f"state must be running, created or exited, not {state!r}")
        if self.find_container(name) is not None:
            raise ValueError(f"a container named {name!r} exists")
        found = self.find_image(image) or self.add_image(image)
        bindings = {
            port: [dict(b) for b in listed] for port, listed in (port_bindings or {}).items()
        }
        container = FakeContainer(
            id=self._new_container_id(name),
            name=name,
            image=image,
            image_id=found.id,
            command=list(command),
            created=self.clock.seconds(),
            tty=tty,
            labels=dict(labels or {}),
            env=list(env),
            network_mode=network_mode,
            exposed_ports=list(bindings),
            port_bindings=bindings,
        )
        self.containers[container.id] = container
        if state == "running":
            self._run(container)
        elif state == "exited":
            self._run(container)
            self._end(container, exit_code)
        return container

    def write_log(self, container: str, data: str | bytes, stream: str = "stdout") -> None:
        """
        Make a container write *data* (text as UTF-8) on *stream*
        (``"stdout"`` or ``"stderr"``); logs being followed get it at once.

        :raises ValueError: for an unknown container or stream.
        """
        found = self.find_container(container)
        if found is None or stream not in ("stdout", "stderr"):
            raise ValueError(f"no container {container!r}, or no stream {stream!r}")
        content = data.encode("utf-8") if isinstance(data, str) else data
        self._write_output(found, STDOUT if stream == "stdout" else STDERR, content)

    def exit_container(self, container: str, exit_code: int = 0) -> None:
        """
        Make a running container's process end with *exit_code* (logs
        being followed end too).

        :raises ValueError: for an unknown or stopped container.
        """
        found = self.find_container(container)
        if found is None or not found.running:
            raise ValueError(f"no running container {container!r}")
        self._end(found, exit_code)

    # Faults

    def fail(
        self,
        path: str,
        status: int,
        message: str | None = None,
        *,
        method: str | None = None,
        times: int | None = 1,
    ) -> None:
        """
        Answer the next *times* requests for *path* with an engine error
        ``{"message": ...}``.

        :param path: a pattern (``fnmatch``) for the path without its
            ``/vX.Y`` prefix: ``"/containers/json"``, ``"/containers/*/start"``.
        :param method: only requests with this method.
        :param times: how many requests; ``None`` for every one.
        """
        error = engine_error(status, message or f"injected failure {status}")
        self._add_fault([path], method, times, error)

    def fail_pull(self, reference: str, message: str, *, times: int | None = 1) -> None:
        """
        Make the next *times* pulls of *reference* fail midway, with an
        ``error`` line in their progress (as when the registry refuses:
        ``"toomanyrequests: You have reached your pull rate limit."``).
        """
        self._pull_failures.append((normalized(reference), message, times))

    def delay(
        self, path: str, seconds: float, *, method: str | None = None, times: int | None = None
    ) -> None:
        """Answer requests for *path* (a pattern, as for :meth:`fail`) *seconds* later."""
        self._add_fault([path], method, times, delay=seconds)

    # Requests

    def _split_version(self, received: Received) -> tuple[tuple[int, int] | None, str]:
        match = _VERSIONED.fullmatch(received.path)
        if match is None:
            return None, received.path
        return (int(match[1]), int(match[2])), match[3]

    def _target(self, received: Received) -> str:
        return self._split_version(received)[1]

    def _authenticate(self, received: Received) -> None:
        if self.credentials is None:
            return
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        if received.header("authorization") != f"Basic {expected}":
            raise engine_error(401, "Unauthorized")

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        reply = json_reply({"message": refused.message}, refused.status)
        return Reply(reply.status, {**reply.headers, **refused.headers}, reply.body)

    def _common_headers(self, received: Received) -> Mapping[str, str]:
        api = f"{self.api_version[0]}.{self.api_version[1]}"
        return {"Api-Version": api, "Docker-Experimental": "false", "Ostype": "linux"}

    def _handle(self, received: Received) -> Reply:
        version, path = self._split_version(received)
        if version is not None and version > self.api_version:
            raise engine_error(
                400,
                f"client version {version[0]}.{version[1]} is too new. Maximum supported API "
                f"version is {self.api_version[0]}.{self.api_version[1]}",
            )
        if version is not None and version < self.min_api_version:
            raise engine_error(
                400,
                f"client version {version[0]}.{version[1]} is too old. Minimum supported API "
                f"version is {self.min_api_version[0]}.{self.min_api_version[1]}, please "
                "upgrade your client to a newer version",
            )
        allowed = False
        for pattern, method, endpoint in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method == received.method:
                return endpoint(self, DockerCall(received, match.groups(), version))
            allowed = True
        if allowed:
            raise engine_error(405, "method not allowed")
        raise engine_error(404, "page not found")

    def _ping(self, call: DockerCall) -> Reply:
        return Reply(200, {"Content-Type": "text/plain; charset=utf-8"}, b"OK")

    def _engine_version(self, call: DockerCall) -> Reply:
        api = f"{self.api_version[0]}.{self.api_version[1]}"
        release = _ENGINE_RELEASES.get(self.api_version, "26.1.4")
        return json_reply(
            {
                "Platform": {"Name": "Docker Engine - Community"},
                "Version": release,
                "ApiVersion": api,
                "MinAPIVersion": f"{self.min_api_version[0]}.{self.min_api_version[1]}",
                "GitCommit": "fake",
                "GoVersion": "go1.22.5",
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": "6.1.0-fake",
                "BuildTime": "2024-06-05T11:32:04.000000000+00:00",
            }
        )


_Endpoint = Callable[[FakeDocker, DockerCall], Reply]

# (path, method, endpoint): a path that matches with another method is a 405.
_ROUTES: list[tuple[re.Pattern[str], str, _Endpoint]] = [
    (re.compile(pattern), method, endpoint)
    for pattern, method, endpoint in (
        (r"/_ping", "GET", FakeDocker._ping),
        (r"/version", "GET", FakeDocker._engine_version),
        (r"/images/json", "GET", FakeDocker._list_images),
        (r"/images/create", "POST", FakeDocker._create_image),
        (r"/images/search", "GET", FakeDocker._search_images),
        (r"/images/(.+)/json", "GET", FakeDocker._inspect_image),
        (r"/images/(.+)/tag", "POST", FakeDocker._tag_image),
        (r"/images/(.+)/push", "POST", FakeDocker._push_image),
        (r"/images/(.+)", "DELETE", FakeDocker._delete_image),
        (r"/containers/json", "GET", FakeDocker._list_containers),
        (r"/containers/create", "POST", FakeDocker._create_container),
        (r"/containers/([^/]+)/json", "GET", FakeDocker._inspect_container),
        (r"/containers/([^/]+)/(start|stop|restart|kill)", "POST", FakeDocker._act),
        (r"/containers/([^/]+)/rename", "POST", FakeDocker._rename_container),
        (r"/containers/([^/]+)/logs", "GET", FakeDocker._logs),
        (r"/containers/([^/]+)/top", "GET", FakeDocker._top),
        (r"/containers/([^/]+)", "DELETE", FakeDocker._remove_container),
    )
]
