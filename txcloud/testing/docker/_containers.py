"""
The container endpoints of the Docker fake: list, create, inspect, start,
stop, restart, kill, rename, remove, top, and logs (whole or followed,
multiplexed or raw).
"""

from __future__ import annotations

import json
import re
from typing import Any

from twisted.web.server import Request as ServerRequest

from txcloud.testing._http import Reply
from txcloud.testing.docker._models import (
    STDERR,
    STDOUT,
    DockerCall,
    FakeContainer,
    FakeDockerImage,
    digest_of,
    engine_error,
    json_reply,
    labels_match,
)

__all__ = ["ContainerEndpoints"]

_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
_RAW = "application/vnd.docker.raw-stream"
#: Exit codes of a process ended by SIGTERM and by SIGKILL.
TERMINATED = 143
KILLED = 137


class ContainerEndpoints:
    """The container endpoints of :class:`~txcloud.testing.docker.FakeDocker`."""

    clock: Any
    containers: dict[str, FakeContainer]
    _ips: int

    # Provided by the fake this is part of.

    def flush(self) -> None:
        raise NotImplementedError

    def find_image(self, name: str) -> FakeDockerImage | None:
        raise NotImplementedError

    # Lookups and state changes

    def find_container(self, ref: str) -> FakeContainer | None:
        """The container *ref* names: its id, a unique id prefix, or its name."""
        name = ref.lstrip("/")
        found = self.containers.get(ref) or next(
            (c for c in self.containers.values() if c.name == name), None
        )
        if found is not None:
            return found
        matching = [c for c in self.containers.values() if c.id.startswith(ref)]
        return matching[0] if len(matching) == 1 and ref else None

    def _container(self, ref: str) -> FakeContainer:
        container = self.find_container(ref)
        if container is None:
            raise engine_error(404, f"No such container: {ref}")
        return container

    def _unused_name(self) -> str:
        # The engine makes up a name for a container created without one.
        number = len(self.containers) + 1
        while self.find_container(f"fake_{number}") is not None:
            number += 1
        return f"fake_{number}"

    def _check_name(self, name: str, container: FakeContainer | None = None) -> str:
        if not _NAME.fullmatch(name):
            raise engine_error(
                400, f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        name = name.lstrip("/")
        taken = next((c for c in self.containers.values() if c.name == name), None)
        if taken is not None and taken is not container:
            raise engine_error(
                409,
                f'Conflict. The container name "/{name}" is already in use by container '
                f'"{taken.id}". You have to remove (or rename) that container to be able to '
                "reuse that name.",
            )
        return name

    def _run(self, container: FakeContainer) -> None:
        """Run *container* (its address given, its clock started)."""
        container.state = "running"
        container.started_at = self.clock.seconds()
        container.exit_code = 0
        if container.network_mode in ("bridge", "default"):
            self._ips += 1
            container.ip_address = f"172.17.{self._ips // 250}.{self._ips % 250 + 2}"

    def _end(self, container: FakeContainer, exit_code: int) -> None:
        """Stop *container* with *exit_code*, ending the logs followed."""
        container.state = "exited"
        container.exit_code = exit_code
        container.finished_at = self.clock.seconds()
        container.ip_address = ""
        followers, container.followers = container.followers, []
        for request, _ in followers:
            request.finish()
        if followers:
            self.flush()

    # Endpoints

    def _list_containers(self, call: DockerCall) -> Reply:
        try:
            filters = json.loads(call.arg("filters") or "{}")
        except ValueError:
            raise engine_error(400, "invalid filter: not JSON") from None
        if not isinstance(filters, dict):
            raise engine_error(400, "invalid filter: not an object")
        show_all = call.flag("all")
        now = self.clock.seconds()
        listed = [
            container.listing(now)
            for container in sorted(self.containers.values(), key=lambda c: -c.created)
            if (show_all or container.running) and self._passes(container, filters)
        ]
        return json_reply(listed)

    def _passes(self, container: FakeContainer, filters: dict[str, Any]) -> bool:
        for name, wanted in filters.items():
            values = list(wanted) if isinstance(wanted, (list, dict)) else [wanted]
            if name == "ancestor":
                images = [self.find_image(v) for v in values]
                ok = any(i is not None and i.id == container.image_id for i in images)
            elif name == "status":
                ok = container.state in values
            elif name == "label":
                ok = all(labels_match(container.labels, v) for v in values)
            elif name == "name":
                ok = any(v.lstrip("/") in container.name for v in values)
            elif name == "id":
                ok = any(container.id.startswith(v) for v in values)
            else:
                raise engine_error(400, f"invalid filter '{name}'")
            if not ok:
                return False
        return True

    def _create_container(self, call: DockerCall) -> Reply:
        body = call.json()
        reference = body.get("Image")
        if not isinstance(reference, str) or not reference:
            raise engine_error(400, "Config cannot be empty in order to create a container")
        image = self.find_image(reference)
        if image is None:
            raise engine_error(404, f"No such image: {reference}")
        name = call.arg("name")
        name = self._check_name(name) if name else self._unused_name()
        host = body.get("HostConfig") or {}
        mode = host.get("NetworkMode") or "bridge"
        if mode not in ("bridge", "default", "none", "host") and not mode.startswith("container:"):
            raise engine_error(404, f"network {mode} not found")
        command = (body.get("Entrypoint") or []) + (body.get("Cmd") or image.cmd)
        container = FakeContainer(
            id=self._new_container_id(name),
            name=name,
            image=reference,
            image_id=image.id,
            command=list(command),
            created=self.clock.seconds(),
            tty=bool(body.get("Tty")),
            open_stdin=bool(body.get("OpenStdin")),
            labels=dict(body.get("Labels") or {}),
            env=list(image.env) + list(body.get("Env") or []),
            working_dir=body.get("WorkingDir") or "",
            hostname=body.get("Hostname") or "",
            network_mode="bridge" if mode == "default" else mode,
            exposed_ports=list(body.get("ExposedPorts") or {}),
            port_bindings=dict(host.get("PortBindings") or {}),
            host_config={k: v for k, v in host.items() if k not in ("NetworkMode", "PortBindings")},
        )
        self.containers[container.id] = container
        return json_reply({"Id": container.id, "Warnings": []}, 201)

    def _inspect_container(self, call: DockerCall) -> Reply:
        return json_reply(self._container(call.groups[0]).inspection())

    def _act(self, call: DockerCall) -> Reply:
        container = self._container(call.groups[0])
        action = call.groups[1]
        if action == "start":
            if container.running:
                return Reply(304)
            self._run(container)
        elif action == "stop":
            if not container.running:
                return Reply(304)
            self._end(container, TERMINATED)
        elif action == "restart":
            if container.running:
                self._end(container, TERMINATED)
            self._run(container)
        elif not container.running:
            raise engine_error(
                409,
                f"Cannot kill container: {call.groups[0]}: container {container.id} is not running",
            )
        else:
            self._end(container, KILLED)
        return Reply(204)

    def _rename_container(self, call: DockerCall) -> Reply:
        container = self._container(call.groups[0])
        container.name = self._check_name(call.arg("name") or "", container)
        return Reply(204)

    def _remove_container(self, call: DockerCall) -> Reply:
        container = self._container(call.groups[0])
        if container.running:
            if not call.flag("force"):
                raise engine_error(
                    409,
                    f'cannot remove container "/{container.name}": container is running: stop '
                    "the container before removing or force remove",
                )
            self._end(container, KILLED)
        del self.containers[container.id]
        return Reply(204)

    def _top(self, call: DockerCall) -> Reply:
        container = self._container(call.groups[0])
        if not container.running:
            raise engine_error(409, f"container {container.id} is not running")
        titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        process = [
            "root",
            "4242",
            "4221",
            "0",
            "12:00",
            "?",
            "00:00:00",
            " ".join(container.command),
        ]
        return json_reply({"Titles": titles, "Processes": [process]})

    def _logs(self, call: DockerCall) -> Reply:
        container = self._container(call.groups[0])
        streams = frozenset(
            stream for stream, name in ((STDOUT, "stdout"), (STDERR, "stderr")) if call.flag(name)
        )
        if not streams:
            raise engine_error(400, "Bad parameters: you must choose at least one stream")
        entries = container.output
        tail = call.arg("tail")
        if tail is not None and tail.isdigit():
            entries = entries[len(entries) - int(tail) :] if int(tail) else []
        headers = {}
        if call.version is None or call.version >= (1, 42):
            headers["Content-Type"] = _RAW if container.tty else _MULTIPLEXED
        so_far = container.log_bytes(streams, entries)
        follow = call.flag("follow") and container.running

        def stream(request: ServerRequest) -> None:
            if so_far:
                request.write(so_far)
            if follow:
                container.followers.append((request, streams))
                request.notifyFinish().addBoth(lambda _: _forget(container, request))
            else:
                request.finish()

        return Reply(200, headers, stream=stream)

    def _write_output(self, container: FakeContainer, stream: int, data: bytes) -> None:
        """Record what *container* wrote, and send it to the logs being followed."""
        container.output.append((stream, data))
        for request, streams in container.followers:
            framed = container.log_bytes(streams, [(stream, data)])
            if framed:
                request.write(framed)
        if container.followers:
            self.flush()

    def _new_container_id(self, name: str) -> str:
        return digest_of("container", name, self.clock.seconds(), len(self.containers))[7:]


def _forget(container: FakeContainer, request: ServerRequest) -> None:
    container.followers = [(r, s) for r, s in container.followers if r is not request]
