"""Tests of txcloud.container.drivers.images: images named by their reference."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.container.base import ContainerImage
from txcloud.container.drivers.images import image_path, image_version, to_image
from txcloud.errors import InvalidArgumentError

DIGEST = "sha256:" + "0" * 64


class ImageVersionTests(SynchronousTestCase):
    def test_version_is_the_tag_of_the_last_component(self) -> None:
        cases = {
            "nginx": None,
            "nginx:1.25": "1.25",
            "registry.example:5000/team/web": None,
            "registry.example:5000/team/web:2.1": "2.1",
            f"web:2.1@{DIGEST}": "2.1",
            f"web@{DIGEST}": None,
        }
        self.assertEqual({path: image_version(path) for path in cases}, cases)

    def test_an_image_id_or_an_empty_tag_has_no_version(self) -> None:
        self.assertEqual([image_version(DIGEST), image_version("nginx:")], [None, None])


class ToImageTests(SynchronousTestCase):
    def test_image_is_named_by_its_reference(self) -> None:
        image = to_image(None, "web:2", DIGEST, extra={"size": 3})  # type: ignore[arg-type]
        self.assertEqual(
            (image.id, image.name, image.path, image.version, image.extra),
            (DIGEST, "web:2", "web:2", "2", {"size": 3}),
        )

    def test_without_digest_or_extra(self) -> None:
        image = to_image(None, "web")  # type: ignore[arg-type]
        self.assertEqual((image.id, image.version, image.extra), (None, None, {}))


class ImagePathTests(SynchronousTestCase):
    def test_a_reference_or_an_image_gives_the_reference(self) -> None:
        image = ContainerImage(id=None, name="n", path="web:2", version="2", driver=None)  # type: ignore[arg-type]
        self.assertEqual((image_path("web:1"), image_path(image)), ("web:1", "web:2"))

    def test_anything_else_is_refused(self) -> None:
        for value in (None, 3, "", " web"):
            self.assertRaises(InvalidArgumentError, image_path, value)
