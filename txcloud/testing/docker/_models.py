"""
What the Docker fake keeps (local images, registry images, containers and
their output) and the Engine API documents it shows for them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
from twisted.web.server import Request as ServerRequest

from txcloud.testing._http import Received, Refused, Reply

__all__ = [
    "STDERR",
    "STDOUT",
    "DockerCall",
    "FakeContainer",
    "FakeDockerImage",
    "FakeRegistryImage",
    "digest_of",
    "engine_error",
    "json_reply",
    "normalized",
    "rfc3339",
]

#: Stream numbers of multiplexed log frames.
STDOUT = 1
STDERR = 2


def digest_of(*seed: object) -> str:
    """A ``sha256:`` digest, the same for the same seed."""
    return "sha256:" + hashlib.sha256(":".join(map(str, seed)).encode()).hexdigest()


def rfc3339(seconds: float) -> str:
    """A POSIX time as the engine writes it in inspections."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


def normalized(reference: str) -> str:
    """*reference* as the engine keeps it: tagged ``latest`` when it names no tag or digest."""
    if "@" in reference:
        return reference
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"


def engine_error(status: int, message: str) -> Refused:
    """An error answer, as the engine writes them: ``{"message": ...}``."""
    return Refused(status, "", message)


def json_reply(document: Any, status: int = 200) -> Reply:
    """A JSON answer."""
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(document).encode())


@attrs.frozen
class DockerCall:
    """
    A request for one route: the path's captured parts and the API version
    the path named (``None`` for an unversioned path).
    """

    received: Received
    groups: tuple[str, ...]
    version: tuple[int, int] | None

    def arg(self, name: str) -> str | None:
        """The first value of query parameter *name*."""
        return self.received.arg(name)

    def flag(self, name: str) -> bool:
        """Whether boolean query parameter *name* is set (``1`` or ``true``)."""
        return (self.arg(name) or "").lower() in ("1", "true")

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or a ``400`` answer."""
        try:
            document = self.received.json() if self.received.body else {}
        except ValueError:
            raise engine_error(400, "invalid JSON in the request body") from None
        if not isinstance(document, dict):
            raise engine_error(400, "the request body must be a JSON object")
        return document


@attrs.define
class FakeDockerImage:
    """
    An image on the engine.

    :ivar id: its id (``sha256:...``).
    :ivar tags: its names (``busybox:1.36``).
    :ivar digests: its repository digests (``busybox@sha256:...``).
    """

    id: str
    tags: list[str]
    created: float
    size: int = 4_261_550
    digests: list[str] = attrs.field(factory=list)
    labels: dict[str, str] = attrs.field(factory=dict)
    cmd: list[str] = attrs.field(factory=lambda: ["sh"])
    env: list[str] = attrs.field(
        factory=lambda: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    )

    def listing(self, containers: int) -> dict[str, Any]:
        """Its entry in ``GET /images/json``."""
        return {
            "Id": self.id,
            "ParentId": "",
            "RepoTags": list(self.tags),
            "RepoDigests": list(self.digests),
            "Created": int(self.created),
            "Size": self.size,
            "SharedSize": -1,
            "VirtualSize": self.size,
            "Labels": dict(self.labels) or None,
            "Containers": containers,
        }

    def inspection(self) -> dict[str, Any]:
        """Its ``GET /images/{name}/json``."""
        return {
            "Id": self.id,
            "RepoTags": list(self.tags),
            "RepoDigests": list(self.digests),
            "Parent": "",
            "Comment": "",
            "Created": rfc3339(self.created),
            "Config": {
                "Env": list(self.env),
                "Cmd": list(self.cmd),
                "Labels": dict(self.labels) or None,
            },
            "Architecture": "amd64",
            "Os": "linux",
            "Size": self.size,
            "VirtualSize": self.size,
            "RootFS": {"Type": "layers", "Layers": [digest_of("layer", self.id)]},
        }


@attrs.define
class FakeRegistryImage:
    """
    An image a registry holds, which the engine can pull.

    :ivar reference: its name and tag (``registry.example/team/web:2``).
    :ivar credentials: ``(username, password)`` a pull must send, if private.
    """

    reference: str
    id: str
    digest: str
    size: int = 4_261_550
    layers: int = 1
    credentials: tuple[str, str] | None = None
    description: str = ""
    stars: int = 0
    official: bool = False
    labels: dict[str, str] = attrs.field(factory=dict)
    cmd: list[str] = attrs.field(factory=lambda: ["sh"])

    @property
    def repository(self) -> str:
        """Its name without the tag."""
        return self.reference.rsplit(":", 1)[0]


@attrs.define
class FakeContainer:
    """
    A container.

    :ivar output: what it wrote, as ``(stream, bytes)`` (``STDOUT`` or ``STDERR``).
    :ivar followers: requests following its log, answered as it writes.
    """

    id: str
    name: str
    image: str
    image_id: str
    command: list[str]
    created: float
    state: str = "created"
    exit_code: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    tty: bool = False
    open_stdin: bool = False
    labels: dict[str, str] = attrs.field(factory=dict)
    env: list[str] = attrs.field(factory=list)
    working_dir: str = ""
    hostname: str = ""
    network_mode: str = "bridge"
    exposed_ports: list[str] = attrs.field(factory=list)
    port_bindings: dict[str, list[dict[str, str]]] = attrs.field(factory=dict)
    host_config: dict[str, Any] = attrs.field(factory=dict)
    ip_address: str = ""
    output: list[tuple[int, bytes]] = attrs.field(factory=list)
    followers: list[tuple[ServerRequest, frozenset[int]]] = attrs.field(factory=list)

    @property
    def running(self) -> bool:
        """Whether it runs."""
        return self.state == "running"

    def status(self, now: float) -> str:
        """The ``Status`` text of a listing (``Up 2 minutes``, ``Exited (0) 3 hours ago``)."""
        if self.state == "running":
            return f"Up {_ago(now - (self.started_at or now))}"
        if self.state == "exited":
            return f"Exited ({self.exit_code}) {_ago(now - (self.finished_at or now))} ago"
        return self.state.capitalize()

    def ports(self) -> list[dict[str, Any]]:
        """The ``Ports`` of a listing: published ports while it runs, and exposed ones."""
        ports: list[dict[str, Any]] = []
        for exposed in sorted(set(self.exposed_ports) | set(self.port_bindings)):
            number, _, protocol = exposed.partition("/")
            bindings = self.port_bindings.get(exposed) if self.running else None
            for binding in bindings or [{}]:
                entry: dict[str, Any] = {"PrivatePort": int(number), "Type": protocol or "tcp"}
                if binding:
                    entry["IP"] = binding.get("HostIp") or "0.0.0.0"
                    entry["PublicPort"] = int(binding.get("HostPort") or 0)
                ports.append(entry)
        return ports

    def _networks(self) -> dict[str, Any]:
        if self.network_mode in ("none", "host") or self.network_mode.startswith("container:"):
            return {self.network_mode: {"IPAddress": ""}}
        gateway = "172.17.0.1" if self.ip_address else ""
        return {
            "bridge": {
                "IPAddress": self.ip_address,
                "Gateway": gateway,
                "IPPrefixLen": 16 if self.ip_address else 0,
                "GlobalIPv6Address": "",
                "MacAddress": "02:42:ac:11:00:02" if self.ip_address else "",
            }
        }

    def listing(self, now: float) -> dict[str, Any]:
        """Its entry in ``GET /containers/json``."""
        return {
            "Id": self.id,
            "Names": [f"/{self.name}"],
            "Image": self.image,
            "ImageID": self.image_id,
            "Command": " ".join(self.command),
            "Created": int(self.created),
            "Ports": self.ports(),
            "Labels": dict(self.labels),
            "State": self.state,
            "Status": self.status(now),
            "HostConfig": {"NetworkMode": self.network_mode},
            "NetworkSettings": {"Networks": self._networks()},
            "Mounts": [],
        }

    def inspection(self) -> dict[str, Any]:
        """Its ``GET /containers/{id}/json``."""
        never = "0001-01-01T00:00:00Z"
        path, *args = self.command or [""]
        return {
            "Id": self.id,
            "Created": rfc3339(self.created),
            "Path": path,
            "Args": args,
            "State": {
                "Status": self.state,
                "Running": self.running,
                "Paused": False,
                "Restarting": False,
                "OOMKilled": False,
                "Dead": False,
                "Pid": 4242 if self.running else 0,
                "ExitCode": self.exit_code,
                "Error": "",
                "StartedAt": never if self.started_at is None else rfc3339(self.started_at),
                "FinishedAt": never if self.finished_at is None else rfc3339(self.finished_at),
            },
            "Image": self.image_id,
            "Name": f"/{self.name}",
            "RestartCount": 0,
            "Config": {
                "Hostname": self.hostname or self.id[:12],
                "Image": self.image,
                "Cmd": list(self.command),
                "Env": list(self.env),
                "Labels": dict(self.labels),
                "Tty": self.tty,
                "OpenStdin": self.open_stdin,
                "WorkingDir": self.working_dir,
                "ExposedPorts": {port: {} for port in self.exposed_ports} or None,
            },
            "HostConfig": {
                "NetworkMode": self.network_mode,
                "PortBindings": dict(self.port_bindings),
                **self.host_config,
            },
            "NetworkSettings": {"Networks": self._networks()},
            "Mounts": [],
        }

    def log_bytes(self, streams: frozenset[int], entries: Sequence[tuple[int, bytes]]) -> bytes:
        """*entries* of its output on *streams*, raw with a TTY, else in frames."""
        if self.tty:
            return b"".join(data for _, data in entries)
        return b"".join(
            bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data
            for stream, data in entries
            if stream in streams
        )


def _ago(seconds: float) -> str:
    # The engine's "human duration".
    seconds = int(seconds)
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def labels_match(labels: Mapping[str, str], wanted: str) -> bool:
    """Whether *labels* pass a ``label`` filter (``name`` or ``name=value``)."""
    name, equals, value = wanted.partition("=")
    return name in labels and (not equals or labels[name] == value)
