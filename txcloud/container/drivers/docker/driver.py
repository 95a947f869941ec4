"""
The :class:`DockerContainerDriver` class; :mod:`txcloud.container.drivers.docker`
describes the driver.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload
from urllib.parse import quote

from twisted.internet.defer import Deferred

from txcloud.container.base import Container, ContainerDriver, ContainerImage
from txcloud.container.drivers.docker.config import container_body, container_name
from txcloud.container.drivers.docker.engine import DockerEngineBase, registry_auth
from txcloud.container.drivers.docker.parse import (
    ImageReference,
    parse_reference,
    to_container,
    to_image,
    to_search_result,
)
from txcloud.container.drivers.docker.stream import LogStream, Progress, follow_progress
from txcloud.container.types import Provider
from txcloud.errors import InvalidArgumentError, MalformedResponseError
from txcloud.http import RequestBody, Response

__all__ = ["DockerContainerDriver"]

#: Seconds a followed log may stay quiet: a year, in effect no limit.
FOLLOW_TIMEOUT = 365 * 24 * 3600.0
#: Seconds the engine waits for a container to stop before killing it, by default.
ENGINE_STOP_WAIT = 10
#: Log Content-Types of Engine API 1.42 and later (1.41 sends none).
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
_RAW = "application/vnd.docker.raw-stream"

ImageLike = ContainerImage | str
ContainerLike = Container | str


def _container_id(container: object) -> str:
    value = container.id if isinstance(container, Container) else container
    if not isinstance(value, str) or value in ("", ".", "..") or "/" in value:
        raise InvalidArgumentError(f"expected a Container or a container id, not {container!r}")
    return value


def _image_name(image: object) -> str:
    """What the engine calls *image* by: its reference, or its id."""
    value: object = image
    if isinstance(image, ContainerImage):
        value = image.path or image.name or image.id
    if not isinstance(value, str) or not value or value != value.strip():
        raise InvalidArgumentError(
            f"expected a ContainerImage or an image reference, not {image!r}"
        )
    return value


def _path_part(value: str) -> str:
    # Image names keep their slashes: the engine's routes take them as they are.
    return quote(value, safe="/:@")


def _stop_wait(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"ex_timeout must be a number of seconds >= 0, not {value!r}")
    return value


class DockerContainerDriver(DockerEngineBase, ContainerDriver):
    """
    The containers and images of one Docker engine.

    Takes :class:`~txcloud.container.drivers.docker.engine.DockerEngineBase`'s
    arguments: ``DockerContainerDriver()`` reaches the engine named by
    ``DOCKER_HOST``, else ``unix:///var/run/docker.sock``;
    ``DockerContainerDriver(host="127.0.0.1", port=2375)`` one on plain TCP;
    ``DockerContainerDriver(host="engine.example", key_file=..., cert_file=...,
    ca_cert=...)`` one on TCP with TLS client certificates.
    """

    name = "Docker"
    type = Provider.DOCKER
    website = "https://www.docker.com/"
    supports_clusters = False

    # Images

    def install_image(
        self, path: str, ex_registry_auth: Mapping[str, str] | None = None
    ) -> Deferred[ContainerImage]:
        """
        Pull an image, following the engine's progress until it is complete.

        :param path: the image reference (``"busybox:1.36"``,
            ``"registry:5000/team/web@sha256:..."``); tag ``latest`` when
            it names none.
        :param ex_registry_auth: credentials for the registry, as the engine
            takes them (``{"username": ..., "password": ...,
            "serveraddress": ...}`` or ``{"identitytoken": ...}``).
        :returns: a Deferred firing with the installed
            :class:`ContainerImage` (``name`` and ``path`` are *path*), or
            failing with :class:`~txcloud.errors.ContainerImageNotFoundError`,
            :class:`~txcloud.errors.InvalidCredsError` or
            :class:`~txcloud.errors.ProviderError` when the pull fails, even
            midway.
        :raises InvalidArgumentError: for a bad reference.
        """
        reference = parse_reference(path)
        headers = registry_auth(ex_registry_auth)
        return Deferred.fromCoroutine(self._install_image(path, reference, headers))

    async def _install_image(
        self, path: str, reference: ImageReference, headers: Mapping[str, str]
    ) -> ContainerImage:
        response = await self._send(
            "POST",
            "/images/create",
            params={"fromImage": reference.repository, "tag": reference.pull_tag},
            headers=headers,
            idempotent=True,
        )
        await follow_progress(response, self._stream_error(f"pull of {path}"))
        pulled = ImageReference(
            reference.repository,
            None if reference.digest else reference.tag or "latest",
            reference.digest,
        )
        return await self._inspect_image(str(pulled), path)

    async def _inspect_image(self, name: str, shown: str | None = None) -> ContainerImage:
        document = await self._json("GET", f"/images/{_path_part(name)}/json")
        return to_image(self, document, shown or name)

    def ex_get_image(self, name: str) -> Deferred[ContainerImage]:
        """
        Fetch one installed image.

        :param name: its reference or id.
        :returns: a Deferred firing with the :class:`ContainerImage`, or
            failing with :class:`~txcloud.errors.ContainerImageNotFoundError`.
        """
        return Deferred.fromCoroutine(self._inspect_image(_image_name(name)))

    def list_images(self) -> Deferred[list[ContainerImage]]:
        """
        List the installed images.

        :returns: a Deferred firing with a list of :class:`ContainerImage`,
            named after their first tag (their id when untagged).
        """
        return Deferred.fromCoroutine(self._list_images())

    async def _list_images(self) -> list[ContainerImage]:
        documents = await self._json("GET", "/images/json")
        if not isinstance(documents, list):
            raise MalformedResponseError("the Docker engine listed images as a non-list", self)
        return [to_image(self, document) for document in documents]

    def ex_search_images(self, term: str) -> Deferred[list[ContainerImage]]:
        """
        Search the engine's default registry (Docker Hub) for repositories.

        :param term: what to look for.
        :returns: a Deferred firing with a list of :class:`ContainerImage`
            (repositories: ``extra`` has ``description``, ``is_official``,
            ``is_trusted``, ``star_count``), or failing with the engine's
            error, such as :class:`~txcloud.errors.ProviderError` when it
            cannot reach the registry.
        """
        if not isinstance(term, str) or not term.strip():
            raise InvalidArgumentError(f"term must be non-empty text, not {term!r}")
        return Deferred.fromCoroutine(self._search_images(term))

    async def _search_images(self, term: str) -> list[ContainerImage]:
        documents = await self._json("GET", "/images/search", params={"term": term})
        if not isinstance(documents, list):
            raise MalformedResponseError(
                "the Docker engine answered a search with a non-list", self
            )
        return [to_search_result(self, document) for document in documents]

    def ex_import_image(
        self, source: Any, repository: str, tag: str = "latest"
    ) -> Deferred[ContainerImage]:
        """
        Make an image from a tarball of a root file system (``docker import``).

        :param source: the tarball: a file path, bytes, or a binary file
            object or iterator of bytes (sent once).
        :param repository: the new image's repository (``"local/busybox"``).
        :param tag: its tag.
        :returns: a Deferred firing with the new :class:`ContainerImage`.
        :raises InvalidArgumentError: for a bad name or source.
        """
        reference = parse_reference(f"{repository}:{tag}")
        if reference.repository != repository or reference.digest:
            raise InvalidArgumentError(f"not a repository and tag: {repository!r}, {tag!r}")
        body = RequestBody.of(Path(source) if isinstance(source, str) else source)
        return Deferred.fromCoroutine(self._import_image(body, reference))

    async def _import_image(self, body: RequestBody, reference: ImageReference) -> ContainerImage:
        response = await self._send(
            "POST",
            "/images/create",
            params={"fromSrc": "-", "repo": reference.repository, "tag": reference.pull_tag},
            headers={"Content-Type": "application/x-tar"},
            body=body,
        )
        await follow_progress(response, self._stream_error(f"import of {reference}"))
        return await self._inspect_image(str(reference))

    def ex_tag_image(
        self, image: ImageLike, repository: str, tag: str = "latest"
    ) -> Deferred[ContainerImage]:
        """
        Give an installed image another name (``docker tag``).

        :param image: a :class:`ContainerImage`, or an image's reference or id.
        :param repository: the new name's repository (``"127.0.0.1:5000/busybox"``).
        :param tag: the new name's tag.
        :returns: a Deferred firing with the image under its new name.
        """
        reference = parse_reference(f"{repository}:{tag}")
        if reference.repository != repository or reference.digest:
            raise InvalidArgumentError(f"not a repository and tag: {repository!r}, {tag!r}")
        return Deferred.fromCoroutine(self._tag_image(_image_name(image), reference))

    async def _tag_image(self, name: str, reference: ImageReference) -> ContainerImage:
        await self._no_body(
            "POST",
            f"/images/{_path_part(name)}/tag",
            params={"repo": reference.repository, "tag": reference.pull_tag},
        )
        return await self._inspect_image(str(reference))

    def ex_push_image(
        self, image: ImageLike, ex_registry_auth: Mapping[str, str] | None = None
    ) -> Deferred[str | None]:
        """
        Push an image to the registry its name points at (``docker push``).

        :param image: a :class:`ContainerImage` named with a registry
            (``"127.0.0.1:5000/busybox:1"``), or such a reference.
        :param ex_registry_auth: credentials, as for :meth:`install_image`.
        :returns: a Deferred firing with the pushed manifest's digest (when
            the engine reports it), or failing as :meth:`install_image` does.
        """
        reference = parse_reference(_image_name(image))
        headers = registry_auth(ex_registry_auth)
        return Deferred.fromCoroutine(self._push_image(reference, headers))

    async def _push_image(
        self, reference: ImageReference, headers: Mapping[str, str]
    ) -> str | None:
        response = await self._send(
            "POST",
            f"/images/{_path_part(reference.repository)}/push",
            params={"tag": reference.tag or "latest"},
            headers=headers,
            idempotent=True,
        )
        progress: Progress = await follow_progress(
            response, self._stream_error(f"push of {reference}")
        )
        digests = [aux["Digest"] for aux in progress.aux if isinstance(aux.get("Digest"), str)]
        return digests[-1] if digests else None

    def ex_delete_image(self, image: ImageLike, ex_force: bool = False) -> Deferred[bool]:
        """
        Remove an image (or one of its names) from the engine.

        :param image: a :class:`ContainerImage`, or an image's reference or id.
        :param ex_force: remove it even if stopped containers use it.
        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.ContainerImageNotFoundError` or
            :class:`~txcloud.errors.ResourceConflictError` (in use).
        """
        path = f"/images/{_path_part(_image_name(image))}"
        params = {"force": "1"} if ex_force else None
        return Deferred.fromCoroutine(self._json("DELETE", path, params=params)).addCallback(
            lambda _: True
        )

    # Containers

    def list_containers(
        self, image: ImageLike | None = None, all: bool = True, **kwargs: Any
    ) -> Deferred[list[Container]]:
        """
        List containers.

        :param image: only the containers of this image (or of images built
            on it: the engine's ``ancestor`` filter).
        :param all: stopped containers too; only running ones when ``False``.
        :returns: a Deferred firing with a list of :class:`Container`.
        """
        if kwargs:
            raise InvalidArgumentError(f"unexpected arguments: {sorted(kwargs)!r}")
        if not isinstance(all, bool):
            raise InvalidArgumentError(f"all must be True or False, not {all!r}")
        params: dict[str, str] = {"all": "1"} if all else {}
        if image is not None:
            name = _image_name(image)
            if isinstance(image, ContainerImage) and (image.id or "").startswith("sha256:"):
                name = image.id or name
            params["filters"] = json.dumps({"ancestor": [name]})
        return Deferred.fromCoroutine(self._list_containers(params))

    async def _list_containers(self, params: Mapping[str, str]) -> list[Container]:
        documents = await self._json("GET", "/containers/json", params=params)
        if not isinstance(documents, list):
            raise MalformedResponseError("the Docker engine listed containers as a non-list", self)
        return [to_container(self, document) for document in documents]

    def get_container(self, id: str) -> Deferred[Container]:
        """
        Fetch one container.

        :param id: the container's id (or a unique prefix) or name.
        :returns: a Deferred firing with the :class:`Container` (``extra``
            also has ``tty``, ``exit_code``, ``started_at``,
            ``finished_at``), or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        return Deferred.fromCoroutine(self._inspect(_container_id(id)))

    async def _inspect(self, container_id: str) -> Container:
        document = await self._json("GET", f"/containers/{quote(container_id, safe='')}/json")
        return to_container(self, document)

    def deploy_container(  # type: ignore[override]  # Libcloud's keyword arguments
        self,
        name: str,
        image: ImageLike,
        parameters: str | None = None,
        start: bool = True,
        command: str | Sequence[str] | None = None,
        hostname: str | None = None,
        user: str | None = None,
        stdin_open: bool = True,
        tty: bool = True,
        mem_limit: int = 0,
        ports: Any = None,
        environment: Mapping[str, str] | Sequence[str] | None = None,
        dns: Sequence[str] | None = None,
        volumes: Any = None,
        volumes_from: Sequence[str] | None = None,
        network_disabled: bool = False,
        entrypoint: str | Sequence[str] | None = None,
        cpu_shares: int | None = None,
        working_dir: str = "",
        domainname: str | None = None,
        memswap_limit: int = 0,
        port_bindings: Mapping[Any, Any] | None = None,
        network_mode: str = "bridge",
        labels: Mapping[str, str] | None = None,
    ) -> Deferred[Container]:
        """
        Create a container from an installed image and, when *start*, start it.

        :param name: the container's name (two or more letters, digits,
            ``_``, ``.`` or ``-``).
        :param image: a :class:`ContainerImage` or an image reference.
        :param parameters: the command, when *command* is not given.
        :param start: start the container once created.
        :param command: the command, split as a shell would (``"sh -c 'echo
            hi'"``) or already split; the image's own when ``None``.
        :param hostname: the container's host name.
        :param user: the user to run as.
        :param stdin_open: keep stdin open.
        :param tty: give the container a terminal (its log is then not
            split into stdout and stderr).
        :param mem_limit: bytes of memory (0: no limit).
        :param ports: container ports to expose: ``[80, "53/udp"]`` or the
            engine's ``{"80/tcp": {}}``.
        :param environment: ``{"NAME": "value"}`` or ``["NAME=value"]``.
        :param dns: DNS servers.
        :param volumes: anonymous volumes: container paths, or the engine's
            ``{"/data": {}}``.
        :param volumes_from: containers to take volumes from.
        :param network_disabled: run without networking.
        :param entrypoint: the entry point, split as *command*.
        :param cpu_shares: relative CPU weight.
        :param working_dir: the working directory.
        :param domainname: the container's domain name.
        :param memswap_limit: bytes of memory plus swap (-1: no limit).
        :param port_bindings: container ports to publish on the host:
            ``{80: 8080}``, ``{"80/tcp": ("127.0.0.1", 8080)}`` or the
            engine's ``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}``.
            Unlike Libcloud, nothing else is published.
        :param network_mode: ``"bridge"``, ``"host"``, ``"none"``,
            ``"container:ID"`` or a network's name.
        :param labels: labels to set.
        :returns: a Deferred firing with the :class:`Container`, or failing
            with :class:`~txcloud.errors.ContainerImageNotFoundError` when
            the image is not installed, or
            :class:`~txcloud.errors.ResourceConflictError` when the name is
            taken.
        :raises InvalidArgumentError: for a bad argument, before any request.
        """
        if parameters is not None and command is not None:
            raise InvalidArgumentError("give the command as command or parameters, not both")
        body = container_body(
            _image_name(image),
            command=command if command is not None else parameters,
            hostname=hostname,
            user=user,
            stdin_open=stdin_open,
            tty=tty,
            mem_limit=mem_limit,
            ports=ports,
            environment=environment,
            dns=dns,
            volumes=volumes,
            volumes_from=volumes_from,
            network_disabled=network_disabled,
            entrypoint=entrypoint,
            cpu_shares=cpu_shares,
            working_dir=working_dir,
            domainname=domainname,
            memswap_limit=memswap_limit,
            port_bindings=port_bindings,
            network_mode=network_mode,
            labels=labels,
        )
        if not isinstance(start, bool):
            raise InvalidArgumentError(f"start must be True or False, not {start!r}")
        return Deferred.fromCoroutine(self._deploy(container_name(name), body, start))

    async def _deploy(self, name: str, body: Mapping[str, Any], start: bool) -> Container:
        created = await self._json(
            "POST", "/containers/create", params={"name": name}, document=body
        )
        if not isinstance(created, dict) or not isinstance(created.get("Id"), str):
            raise MalformedResponseError("the Docker engine created a container without an Id")
        if start:
            await self._no_body("POST", f"/containers/{created['Id']}/start", ok_statuses={304})
        return await self._inspect(created["Id"])

    async def _act(
        self, container_id: str, action: str, *, then_inspect: str | None = None, **options: Any
    ) -> Container:
        # 304: already in the state asked for, which is what the caller wants.
        path = f"/containers/{quote(container_id, safe='')}/{action}"
        await self._no_body("POST", path, ok_statuses={304}, **options)
        return await self._inspect(then_inspect or container_id)

    def _wait_options(self, wait: int | None) -> dict[str, Any]:
        # The engine answers once the container stopped, which may take the wait.
        seconds = ENGINE_STOP_WAIT if wait is None else wait
        options: dict[str, Any] = {"timeout": self.timeout + seconds}
        if wait is not None:
            options["params"] = {"t": str(wait)}
        return options

    def start_container(self, container: ContainerLike) -> Deferred[Container]:
        """
        Start a container.

        :param container: a :class:`Container` or a container's id or name.
        :returns: a Deferred firing with the container as it now is.
        """
        return Deferred.fromCoroutine(self._act(_container_id(container), "start"))

    def stop_container(
        self, container: ContainerLike, ex_timeout: int | None = None
    ) -> Deferred[Container]:
        """
        Stop a container: signal it, and kill it if it has not stopped in time.

        :param container: a :class:`Container` or a container's id or name.
        :param ex_timeout: seconds to wait before killing it; the
            container's own setting (10 by default) when ``None``.
        :returns: a Deferred firing with the container as it now is.
        """
        options = self._wait_options(_stop_wait(ex_timeout))
        return Deferred.fromCoroutine(self._act(_container_id(container), "stop", **options))

    def restart_container(
        self, container: ContainerLike, ex_timeout: int | None = None
    ) -> Deferred[Container]:
        """
        Restart a container (stopping it as :meth:`stop_container` does).

        :returns: a Deferred firing with the container as it now is.
        """
        options = self._wait_options(_stop_wait(ex_timeout))
        return Deferred.fromCoroutine(self._act(_container_id(container), "restart", **options))

    def destroy_container(self, container: ContainerLike) -> Deferred[bool]:
        """
        Remove a container, killing it first if it runs.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.ContainerNotFoundError`.
        """
        path = f"/containers/{quote(_container_id(container), safe='')}"
        return Deferred.fromCoroutine(
            self._no_body("DELETE", path, params={"force": "1"})
        ).addCallback(lambda _: True)

    def ex_rename_container(self, container: ContainerLike, name: str) -> Deferred[Container]:
        """
        Rename a container.

        :returns: a Deferred firing with the renamed container, or failing
            with :class:`~txcloud.errors.ResourceConflictError` if the name
            is taken.
        """
        new_name = container_name(name)
        # Given by its old name, the container is found afterwards by its new one.
        return Deferred.fromCoroutine(
            self._act(
                _container_id(container),
                "rename",
                then_inspect=new_name,
                params={"name": new_name},
            )
        )

    def ex_list_processes(self, container: ContainerLike) -> Deferred[dict[str, Any]]:
        """
        The processes running in a container, as the engine lists them.

        :returns: a Deferred firing with ``{"Titles": [...], "Processes": [[...], ...]}``.
        """
        path = f"/containers/{quote(_container_id(container), safe='')}/top"
        return Deferred.fromCoroutine(self._json("GET", path))

    @overload
    def ex_get_logs(
        self, container: ContainerLike, stream: Literal[False] = False
    ) -> Deferred[str]: ...

    @overload
    def ex_get_logs(self, container: ContainerLike, stream: Literal[True]) -> LogStream: ...

    def ex_get_logs(
        self, container: ContainerLike, stream: bool = False
    ) -> Deferred[str] | LogStream:
        """
        A container's output (stdout and stderr, as written).

        :param container: a :class:`Container` or a container's id or name.
        :param stream: follow the log as the container writes it.
        :returns: when not *stream*, a Deferred firing with the log so far
            as text; when *stream*, a :class:`LogStream`: an async iterator
            of text chunks (``async with driver.ex_get_logs(c, stream=True)
            as log: async for text in log: ...``) that ends when the
            container stops.
        """
        container_id = _container_id(container)
        tty = container.extra.get("tty") if isinstance(container, Container) else None
        params = {"stdout": "1", "stderr": "1", "follow": "1" if stream else "0"}

        async def open_log() -> tuple[Response, bool]:
            response = await self._send(
                "GET",
                f"/containers/{quote(container_id, safe='')}/logs",
                params=params,
                timeout=FOLLOW_TIMEOUT if stream else None,
            )
            kind = response.headers.get("Content-Type", "")
            if kind in (_MULTIPLEXED, _RAW):
                return response, kind == _MULTIPLEXED
            known = tty if isinstance(tty, bool) else None
            if known is None:
                known = (await self._inspect(container_id)).extra.get("tty") is True
            return response, not known

        log = LogStream(open_log)
        if stream:
            return log
        return Deferred.fromCoroutine(_read_all(log))


async def _read_all(log: LogStream) -> str:
    return "".join([text async for text in log])
