"""
Images as container drivers report them: named by their reference
(``"registry:5000/team/web:2@sha256:..."``), as Libcloud does, with the
reference's tag as the version.  Docker, ECS and Kubernetes read a
reference's tag the same way.
"""

from __future__ import annotations

from typing import Any

from txcloud.common.checks import check_trimmed_text
from txcloud.container.base import ContainerDriver, ContainerImage
from txcloud.errors import InvalidArgumentError

__all__ = ["image_path", "image_version", "to_image"]


def image_path(image: object) -> str:
    """
    The reference to deploy or look for: *image* itself, or a
    :class:`ContainerImage`'s ``path``.

    :raises InvalidArgumentError: for anything else, or an empty or padded reference.
    """
    if isinstance(image, ContainerImage):
        return check_trimmed_text(image.path, "image.path")
    if isinstance(image, str):
        return check_trimmed_text(image, "image")
    raise InvalidArgumentError(f"image must be a ContainerImage or a reference, not {image!r}")


def image_version(path: str) -> str | None:
    """
    The tag of an image reference: ``"1.25"`` for ``"nginx:1.25"`` or
    ``"host:5000/web:1.25@sha256:..."``; ``None`` when it names no tag, or
    is an image id (``"sha256:..."``).
    """
    name = path.partition("@")[0]
    if name.startswith("sha256:"):
        return None
    # The tag follows the last path component's colon; one before that
    # separates a registry's port.
    colon = name.rfind(":")
    return (name[colon + 1 :] or None) if colon > name.rfind("/") else None


def to_image(
    driver: ContainerDriver,
    path: str,
    digest: str | None = None,
    extra: dict[str, Any] | None = None,
) -> ContainerImage:
    """
    The :class:`ContainerImage` for an image reference, named by the
    reference as Libcloud does.

    :param digest: the image's id: its resolved digest (``"sha256:..."``).
    :param extra: the image's ``extra``; empty by default.
    """
    return ContainerImage(
        id=digest,
        name=path,
        path=path,
        version=image_version(path),
        driver=driver,
        extra={} if extra is None else extra,
    )
