"""
Docker Engine API documents as txcloud models, and image references taken
apart.

``extra`` keys follow Libcloud's Docker driver where it has them (``status``,
``created``, ``image``, ``ports``, ``command``, ``sizerw``, ``sizerootfs`` for
containers; ``created``, ``size``, ``virtual_size`` for images); ``created``
is ISO-8601 text whichever form the engine used.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from txcloud.container.base import Container, ContainerDriver, ContainerImage
from txcloud.container.drivers import images
from txcloud.container.types import ContainerState
from txcloud.errors import InvalidArgumentError, MalformedResponseError

__all__ = [
    "ImageReference",
    "container_state",
    "parse_reference",
    "to_container",
    "to_image",
    "to_search_result",
]

# A container's State (Status when inspected) in the engine's words.  A
# "created" container waits for start_container (it is not on its way to
# running, as PENDING would say), so it reads as stopped, as in Libcloud.
_STATES = {
    "created": ContainerState.STOPPED,
    "running": ContainerState.RUNNING,
    "paused": ContainerState.PAUSED,
    "restarting": ContainerState.REBOOTING,
    "removing": ContainerState.TERMINATED,
    "exited": ContainerState.STOPPED,
    "dead": ContainerState.ERROR,
}

# The grammar of github.com/distribution/reference: an optional registry
# host, lower-case path components, an optional tag and an optional digest.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<repository>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?\Z"
)
_COMPONENT_ONLY = re.compile(rf"{_COMPONENT}\Z")
_NO_TAG = "<none>:<none>"


@attrs.frozen
class ImageReference:
    """
    An image reference taken apart: ``registry:5000/team/web:2@sha256:...``.

    :ivar repository: everything before the tag (registry host included).
    :ivar tag: the tag, if the reference names one.
    :ivar digest: the digest, if the reference pins one.
    """

    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def pull_tag(self) -> str:
        """What the engine's ``tag`` parameter takes: the digest, the tag, or ``latest``."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _named_right(repository: str) -> bool:
    # The first component is a registry host only if it looks like one;
    # otherwise it is a path component, in lower case like the others.
    first, _, rest = repository.partition("/")
    is_host = bool(rest) and ("." in first or ":" in first or first == "localhost")
    return is_host or _COMPONENT_ONLY.match(first) is not None


def parse_reference(reference: object) -> ImageReference:
    """
    Take an image reference apart.

    :raises InvalidArgumentError: if it is not a valid reference.
    """
    if isinstance(reference, str) and len(reference) <= 512:
        match = _REFERENCE.match(reference)
        if match and _named_right(match["repository"]):
            return ImageReference(match["repository"], match["tag"], match["digest"])
    raise InvalidArgumentError(
        f"not an image reference (like 'busybox:1.36' or 'registry:5000/team/web'): {reference!r}"
    )


def container_state(state: object) -> ContainerState:
    """The :class:`ContainerState` for the engine's state word (``"exited"``...)."""
    if not isinstance(state, str):
        return ContainerState.UNKNOWN
    return _STATES.get(state.lower(), ContainerState.UNKNOWN)


def _created(value: object) -> str | None:
    # Listings give seconds since the epoch; inspections RFC 3339 text.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc).isoformat().replace("+00:00", "Z")
    return value if isinstance(value, str) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _document(document: object, what: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping) or not isinstance(document.get("Id"), str):
        raise MalformedResponseError(f"the Docker engine described {what} without an Id")
    return document


def to_image(driver: ContainerDriver, document: object, name: str | None = None) -> ContainerImage:
    """
    An image, from an image listing or inspection.

    :param name: the reference the image was asked for by; by default the
        image's first tag, or its id when it has none.
    """
    doc = _document(document, "an image")
    tags = [t for t in doc.get("RepoTags") or () if isinstance(t, str) and t != _NO_TAG]
    digests = [d for d in doc.get("RepoDigests") or () if isinstance(d, str)]
    return images.to_image(
        driver,
        name or (tags[0] if tags else doc["Id"]),
        doc["Id"],
        extra={
            "created": _created(doc.get("Created")),
            "size": doc.get("Size"),
            "virtual_size": doc.get("VirtualSize"),
            "repo_tags": tags,
            "repo_digests": digests,
            "labels": dict(
                _mapping(doc.get("Labels") or _mapping(doc.get("Config")).get("Labels"))
            ),
        },
    )


def _ip_addresses(network_settings: Mapping[str, Any]) -> list[str]:
    addresses: list[str] = []
    for network in _mapping(network_settings.get("Networks")).values():
        for key in ("IPAddress", "GlobalIPv6Address"):
            address = _mapping(network).get(key)
            if isinstance(address, str) and address and address not in addresses:
                addresses.append(address)
    return addresses


def _name(doc: Mapping[str, Any]) -> str:
    name = doc.get("Name")
    if not isinstance(name, str):
        names = doc.get("Names")
        name = names[0] if isinstance(names, list) and names else doc["Id"]
    return str(name).lstrip("/")


def to_container(driver: ContainerDriver, document: object) -> Container:
    """
    A container, from a container listing (``GET /containers/json``) or
    inspection (``GET /containers/{id}/json``).

    ``extra`` holds Libcloud's keys plus ``state`` (the engine's word),
    ``labels``, ``network_mode``, ``exit_code``, ``started_at``,
    ``finished_at`` and ``tty`` when the engine gave them.
    """
    doc = _document(document, "a container")
    state = doc.get("State")
    if isinstance(state, Mapping):
        # Inspection: State is an object, Image the image's id, Config.Image its name.
        config = _mapping(doc.get("Config"))
        word = state.get("Status")
        image_name = config.get("Image") or doc.get("Image")
        image_id = doc.get("Image")
        status = word
        path, args = doc.get("Path"), doc.get("Args") or []
        command = shlex.join([path, *args]) if isinstance(path, str) and path else None
        labels = config.get("Labels")
        network_mode = _mapping(doc.get("HostConfig")).get("NetworkMode")
        details = {
            "exit_code": state.get("ExitCode"),
            "started_at": state.get("StartedAt"),
            "finished_at": state.get("FinishedAt"),
            "tty": config.get("Tty"),
        }
    else:
        word = state
        image_name = doc.get("Image")
        image_id = doc.get("ImageID")
        status = doc.get("Status")
        command = doc.get("Command")
        labels = doc.get("Labels")
        network_mode = _mapping(doc.get("HostConfig")).get("NetworkMode")
        details = {}
    image_name = image_name if isinstance(image_name, str) else ""
    image = images.to_image(driver, image_name, image_id if isinstance(image_id, str) else None)
    return Container(
        id=doc["Id"],
        name=_name(doc),
        image=image,
        state=container_state(word),
        ip_addresses=_ip_addresses(_mapping(doc.get("NetworkSettings"))),
        driver=driver,
        extra={
            "id": doc["Id"],
            "status": status,
            "state": word,
            "created": _created(doc.get("Created")),
            "image": image_name,
            "ports": doc.get("Ports") or [],
            "command": command,
            "sizerw": doc.get("SizeRw"),
            "sizerootfs": doc.get("SizeRootFs"),
            "labels": dict(_mapping(labels)),
            "network_mode": network_mode,
            **{key: value for key, value in details.items() if value is not None},
        },
    )


def to_search_result(driver: ContainerDriver, document: object) -> ContainerImage:
    """An image found by ``GET /images/search`` (a repository, not an installed image)."""
    doc = _mapping(document)
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedResponseError("the Docker engine found an image without a name")
    return ContainerImage(
        id=name,
        name=name,
        path=name,
        version=None,
        driver=driver,
        extra={
            "description": doc.get("description"),
            "is_official": doc.get("is_official"),
            "is_trusted": doc.get("is_automated", doc.get("is_trusted")),
            "star_count": doc.get("star_count"),
        },
    )
