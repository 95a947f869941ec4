"""
AMIs: fetch one, make one from a node, deregister one, copy one from
another region, in the argument order of Libcloud's EC2 driver
(``copy_image(image, source_region, ...)``, where Libcloud's base class
puts the region first: pass keywords to be safe with both).
"""

from __future__ import annotations

from twisted.internet.defer import Deferred

from txcloud.compute.base import Node, NodeImage
from txcloud.compute.drivers.ec2.api import EC2QueryDriver
from txcloud.compute.drivers.ec2.parse import parse_image
from txcloud.compute.drivers.ec2.query import Params, check_text, indexed
from txcloud.errors import ImageNotFoundError, InvalidArgumentError, MalformedResponseError
from txcloud.http import findtext_local

__all__ = ["EC2ImagesMixin"]


def _image_id(image: object) -> str:
    if isinstance(image, NodeImage):
        image = image.id
    return check_text(image, "an image or its id")


class EC2ImagesMixin(EC2QueryDriver):
    """The image methods of :class:`~txcloud.compute.drivers.ec2.EC2NodeDriver`."""

    def get_image(self, image_id: str) -> Deferred[NodeImage]:
        """
        Fetch one AMI by id (DescribeImages).

        :returns: a Deferred firing with its
            :class:`~txcloud.compute.base.NodeImage`, or failing with
            :class:`~txcloud.errors.ImageNotFoundError`.
        """
        return Deferred.fromCoroutine(self._get_image(_image_id(image_id)))

    async def _get_image(self, image_id: str) -> NodeImage:
        params = indexed("ImageId", [image_id])
        async for image in self._iterate("DescribeImages", params, "imagesSet", parse_image):
            return image
        raise ImageNotFoundError(f"No image with id {image_id!r}", self)

    def create_image(
        self,
        node: Node,
        name: str,
        description: str | None = None,
        reboot: bool = False,
        **kwargs: object,
    ) -> Deferred[NodeImage]:
        """
        Make an AMI of *node* (CreateImage).

        :param name: the image's name (unique in the region and account).
        :param description: its description.
        :param reboot: let EC2 reboot the node for a consistent image
            (Libcloud's default, ``False``, snapshots it running).
        :returns: a Deferred firing with the new image (``pending`` at first).
        """
        if kwargs:
            raise InvalidArgumentError(f"Unknown arguments: {', '.join(sorted(kwargs))}", self)
        if not isinstance(node, Node):
            raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}", self)
        params: Params = {
            "InstanceId": check_text(node.id, "the node's id"),
            "Name": check_text(name, "name"),
            "NoReboot": "false" if reboot else "true",
        }
        if description is not None:
            params["Description"] = check_text(description, "description")
        return Deferred.fromCoroutine(self._new_image("CreateImage", params))

    async def _new_image(self, action: str, params: Params) -> NodeImage:
        root = await self._call(action, params, idempotent=False)
        image_id = findtext_local(root, "imageId")
        if not image_id:
            raise MalformedResponseError(f"{action} answered without an image id", self)
        return await self._get_image(image_id)

    def delete_image(self, image: NodeImage) -> Deferred[bool]:
        """Deregister *image* (DeregisterImage); fires with ``True``."""
        params = {"ImageId": _image_id(image)}
        return Deferred.fromCoroutine(self._call_returning("DeregisterImage", params))

    def copy_image(
        self,
        image: NodeImage | str,
        source_region: str,
        name: str | None = None,
        description: str | None = None,
    ) -> Deferred[NodeImage]:
        """
        Copy an AMI of *source_region* into this driver's region (CopyImage).

        :param image: the image in *source_region* (or its id).
        :param source_region: where it is, ``"us-east-1"``.
        :param name: the copy's name; EC2 keeps the original's when ``None``.
        :param description: the copy's description.
        :returns: a Deferred firing with the copy, in this region.
        """
        region = check_text(source_region, "source_region")
        params: Params = {"SourceImageId": _image_id(image), "SourceRegion": region}
        if name is not None:
            params["Name"] = check_text(name, "name")
        if description is not None:
            params["Description"] = check_text(description, "description")
        return Deferred.fromCoroutine(self._new_image("CopyImage", params))
