"""
The image endpoints of the Docker fake: list, inspect, pull (and import)
with streamed progress lines, tag, push, remove and search.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from twisted.web.server import Request as ServerRequest

from txcloud.testing._http import Reply
from txcloud.testing.docker._models import (
    DockerCall,
    FakeContainer,
    FakeDockerImage,
    FakeRegistryImage,
    digest_of,
    engine_error,
    json_reply,
    normalized,
)

__all__ = ["ImageEndpoints", "progress_line"]


def progress_line(document: dict[str, Any]) -> bytes:
    """One line of a progress stream."""
    return json.dumps(document).encode() + b"\r\n"


def _error_line(message: str) -> bytes:
    return progress_line({"errorDetail": {"message": message}, "error": message})


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _sent_credentials(call: DockerCall) -> tuple[str, str] | None:
    header = call.received.header("x-registry-auth") or ""
    try:
        document = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(document, dict) or "username" not in document:
        return None
    return str(document.get("username")), str(document.get("password"))


class ImageEndpoints:
    """The image endpoints of :class:`~txcloud.testing.docker.FakeDocker`."""

    clock: Any
    images: dict[str, FakeDockerImage]
    registry: dict[str, FakeRegistryImage]
    containers: dict[str, FakeContainer]
    #: Seconds a pull takes on the clock, between its first and last lines.
    pull_seconds: float
    _pull_failures: list[tuple[str, str, int | None]]

    # Provided by the fake this is part of.

    def flush(self) -> None:
        raise NotImplementedError

    def find_image(self, name: str) -> FakeDockerImage | None:
        """The local image *name* (a reference, an id or a unique id prefix) is, if any."""
        if "@" in name:
            return next((i for i in self.images.values() if name in i.digests), None)
        tagged = normalized(name)
        for image in self.images.values():
            if tagged in image.tags:
                return image
        bare = name.removeprefix("sha256:")
        if len(bare) >= 4 and all(c in "0123456789abcdef" for c in bare):
            matching = [i for i in self.images.values() if i.id[len("sha256:") :].startswith(bare)]
            if len(matching) == 1:
                return matching[0]
        return None

    def _image(self, name: str) -> FakeDockerImage:
        image = self.find_image(name)
        if image is None:
            raise engine_error(404, f"No such image: {name}")
        return image

    def _list_images(self, call: DockerCall) -> Reply:
        def users(image: FakeDockerImage) -> int:
            return sum(1 for c in self.containers.values() if c.image_id == image.id)

        listed = [image.listing(users(image)) for image in self.images.values()]
        return json_reply(sorted(listed, key=lambda d: -d["Created"]))

    def _inspect_image(self, call: DockerCall) -> Reply:
        return json_reply(self._image(call.groups[0]).inspection())

    def _create_image(self, call: DockerCall) -> Reply:
        source = call.arg("fromSrc")
        if source is not None:
            return self._import_image(call, source)
        repository = call.arg("fromImage")
        if not repository:
            raise engine_error(400, "fromImage or fromSrc is required")
        tag = call.arg("tag") or ""
        if tag.startswith("sha256:"):
            wanted = f"{repository}@{tag}"
            pulled = next(
                (r for r in self.registry.values() if f"{r.repository}@{r.digest}" == wanted),
                None,
            )
        else:
            wanted = normalized(f"{repository}:{tag}" if tag else repository)
            pulled = self.registry.get(wanted)
        if pulled is None:
            known = any(r.repository == repository for r in self.registry.values())
            message = (
                f"manifest for {wanted} not found: manifest unknown: manifest unknown"
                if known
                else f"pull access denied for {repository}, repository does not exist or may "
                "require 'docker login': denied: requested access to the resource is denied"
            )
            raise engine_error(404, message)
        lines = [progress_line({"status": f"Pulling from {repository}", "id": tag or "latest"})]
        failure = self._take_pull_failure(wanted)
        if failure is None and pulled.credentials not in (None, _sent_credentials(call)):
            failure = "unauthorized: authentication required"
        if failure is None:
            lines += self._layer_lines(pulled)
        return Reply(
            200,
            {"Content-Type": "application/json"},
            stream=self._progress(lines, lambda: self._finish_pull(pulled, wanted), failure),
        )

    def _layer_lines(self, pulled: FakeRegistryImage) -> list[bytes]:
        lines = []
        share = max(pulled.size // pulled.layers, 1)
        for number in range(pulled.layers):
            layer = _short(digest_of("layer", pulled.id, number))
            detail = {"current": share, "total": share}
            lines += [
                progress_line({"status": "Pulling fs layer", "progressDetail": {}, "id": layer}),
                progress_line({"status": "Downloading", "progressDetail": detail, "id": layer}),
                progress_line({"status": "Download complete", "progressDetail": {}, "id": layer}),
                progress_line({"status": "Pull complete", "progressDetail": {}, "id": layer}),
            ]
        return lines

    def _take_pull_failure(self, reference: str) -> str | None:
        for index, (wanted, message, times) in enumerate(self._pull_failures):
            if wanted == reference:
                if times is None or times > 1:
                    remaining = None if times is None else times - 1
                    self._pull_failures[index] = (wanted, message, remaining)
                else:
                    del self._pull_failures[index]
                return message
        return None

    def _finish_pull(self, pulled: FakeRegistryImage, wanted: str) -> list[bytes]:
        existing = self.images.get(pulled.id)
        fresh = existing is None or wanted not in existing.tags + existing.digests
        image = existing or FakeDockerImage(
            pulled.id,
            [],
            self.clock.seconds(),
            size=pulled.size,
            labels=dict(pulled.labels),
            cmd=list(pulled.cmd),
        )
        self.images[image.id] = image
        repo_digest = f"{pulled.repository}@{pulled.digest}"
        if repo_digest not in image.digests:
            image.digests.append(repo_digest)
        if "@" not in wanted and wanted not in image.tags:
            self._untag_elsewhere(wanted)
            image.tags.append(wanted)
        status = "Downloaded newer image for" if fresh else "Image is up to date for"
        return [
            progress_line({"status": f"Digest: {pulled.digest}"}),
            progress_line({"status": f"Status: {status} {wanted}"}),
        ]

    def _untag_elsewhere(self, tag: str) -> None:
        for image in self.images.values():
            if tag in image.tags:
                image.tags.remove(tag)

    def _progress(
        self, lines: list[bytes], finish: Callable[[], list[bytes]], failure: str | None
    ) -> Callable[[ServerRequest], None]:
        """
        Write *lines*, then, after :attr:`pull_seconds` on the clock, the
        error line for *failure* or the lines *finish* gives.
        """

        def stream(request: ServerRequest) -> None:
            for line in lines:
                request.write(line)

            def end() -> None:
                request.write(_error_line(failure) if failure else b"".join(finish()))
                request.finish()

            def end_later() -> None:
                end()
                self.flush()

            if not self.pull_seconds:
                end()
                return
            call = self.clock.callLater(self.pull_seconds, end_later)
            request.notifyFinish().addErrback(lambda _: call.active() and call.cancel())

        return stream

    def _import_image(self, call: DockerCall, source: str) -> Reply:
        if source != "-":
            raise engine_error(400, "this fake imports from the request body only (fromSrc=-)")
        repository = call.arg("repo")
        tag = normalized(f"{repository}:{call.arg('tag') or 'latest'}") if repository else None
        image = FakeDockerImage(
            digest_of("import", call.received.body),
            [],
            self.clock.seconds(),
            size=len(call.received.body),
            cmd=[],
        )
        self.images.setdefault(image.id, image)
        if tag is not None:
            self._untag_elsewhere(tag)
            self.images[image.id].tags.append(tag)
        lines = [progress_line({"status": image.id})]
        return Reply(200, {"Content-Type": "application/json"}, b"".join(lines))

    def _tag_image(self, call: DockerCall) -> Reply:
        image = self._image(call.groups[0])
        repository = call.arg("repo")
        if not repository:
            raise engine_error(400, "repository name must have at least one component")
        tag = normalized(f"{repository}:{call.arg('tag') or 'latest'}")
        if tag not in image.tags:
            self._untag_elsewhere(tag)
            image.tags.append(tag)
        return Reply(201)

    def _push_image(self, call: DockerCall) -> Reply:
        repository = call.groups[0]
        tag = call.arg("tag") or "latest"
        reference = f"{repository}:{tag}"
        lines = [progress_line({"status": f"The push refers to repository [{repository}]"})]
        image = self.find_image(reference)
        if image is None:
            message = f"An image does not exist locally with the tag: {repository}"
            return Reply(
                200, {"Content-Type": "application/json"}, b"".join(lines) + _error_line(message)
            )
        digest = digest_of("manifest", image.id, reference)
        self.registry[reference] = FakeRegistryImage(
            reference, image.id, digest, size=image.size, labels=dict(image.labels)
        )
        if f"{repository}@{digest}" not in image.digests:
            image.digests.append(f"{repository}@{digest}")
        layer = _short(digest_of("layer", image.id, 0))
        lines += [
            progress_line({"status": "Pushed", "progressDetail": {}, "id": layer}),
            progress_line({"status": f"{tag}: digest: {digest} size: 527"}),
            progress_line(
                {"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": 527}}
            ),
        ]
        return Reply(200, {"Content-Type": "application/json"}, b"".join(lines))

    def _delete_image(self, call: DockerCall) -> Reply:
        name = call.groups[0]
        image = self._image(name)
        tagged = normalized(name)
        if tagged in image.tags and len(image.tags) > 1:
            image.tags.remove(tagged)
            return json_reply([{"Untagged": tagged}])
        users = [c for c in self.containers.values() if c.image_id == image.id]
        running = [c for c in users if c.running]
        if running or (users and not call.flag("force")):
            kind = "running" if running else "stopped"
            forced = "cannot be forced" if running else "must be forced"
            raise engine_error(
                409,
                f"conflict: unable to delete {_short(image.id)} ({forced}) - image is being used "
                f"by {kind} container {(running or users)[0].id[:12]}",
            )
        del self.images[image.id]
        removed: list[dict[str, str]] = [{"Untagged": tag} for tag in image.tags]
        return json_reply([*removed, {"Deleted": image.id}])

    def _search_images(self, call: DockerCall) -> Reply:
        term = call.arg("term")
        if not term:
            raise engine_error(400, "term is required")
        found: dict[str, FakeRegistryImage] = {}
        for pulled in self.registry.values():
            if term.lower() in pulled.repository.lower():
                found.setdefault(pulled.repository, pulled)
        return json_reply(
            [
                {
                    "name": name,
                    "description": pulled.description,
                    "is_official": pulled.official,
                    "is_automated": False,
                    "star_count": pulled.stars,
                }
                for name, pulled in sorted(found.items())
            ]
        )
