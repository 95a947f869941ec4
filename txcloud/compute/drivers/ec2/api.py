"""
The EC2 Query API as the driver speaks it: form-encoded ``Action=...``
posts signed with SigV4 (through :class:`~txcloud.common.aws.AWSDriver`),
XML answers, and ``nextToken`` paging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from lxml import etree

from txcloud.common.aws import AWSDriver
from txcloud.compute.base import NodeDriver
from txcloud.compute.drivers.ec2.parse import Fields
from txcloud.compute.drivers.ec2.query import Params
from txcloud.compute.types import Provider
from txcloud.errors import (
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    MalformedResponseError,
    NodeNotFoundError,
    TxCloudError,
    VolumeNotFoundError,
)
from txcloud.http import findtext_local

__all__ = ["API_VERSION", "ERROR_CODES", "EC2QueryDriver"]

_T = TypeVar("_T")

#: The EC2 Query API version every request names.
API_VERSION = "2016-11-15"

#: EC2 error codes with a finer txcloud error than the HTTP status gives.
ERROR_CODES: Mapping[str, type[TxCloudError]] = {
    "InvalidInstanceID.NotFound": NodeNotFoundError,
    "InvalidInstanceID.Malformed": NodeNotFoundError,
    "InvalidKeyPair.NotFound": KeyPairDoesNotExistError,
    "InvalidKeyPair.Duplicate": KeyPairAlreadyExistsError,
    "InvalidVolume.NotFound": VolumeNotFoundError,
    "InvalidSnapshot.NotFound": VolumeNotFoundError,
    "InvalidAMIID.NotFound": ImageNotFoundError,
}

_FORM = "application/x-www-form-urlencoded; charset=utf-8"


class EC2QueryDriver(AWSDriver, NodeDriver):
    """
    What every part of the EC2 driver sends requests with; see
    :class:`~txcloud.compute.drivers.ec2.EC2NodeDriver`.
    """

    name = "Amazon EC2"
    type = Provider.EC2
    website = "https://aws.amazon.com/ec2/"
    service_name = "ec2"
    error_codes = ERROR_CODES

    async def _call(self, action: str, params: Params, *, idempotent: bool) -> etree._Element:
        """
        Send one call and parse its answer.

        :param idempotent: whether the transport may send it again after a
            throttling or server error.
        :returns: the answer's root element.
        """
        form = {"Action": action, "Version": API_VERSION, **params}
        request = self._aws_request(
            "POST",
            self.endpoint + "/",
            headers={"Content-Type": _FORM},
            body=urlencode(form, quote_via=quote).encode("ascii"),
            idempotent=idempotent,
        )
        response = await self.http.send(request)
        return await response.xml()

    async def _call_returning(self, action: str, params: Params, idempotent: bool = False) -> bool:
        """Send a call whose answer is ``<return>true</return>``; fire with it."""
        root = await self._call(action, params, idempotent=idempotent)
        # EC2 reports failures as HTTP errors; its <return> element only
        # repeats the success (and moto leaves it out of some answers).
        return findtext_local(root, "return") != "false"

    async def _pages(self, action: str, params: Params) -> AsyncIterator[Fields]:
        """The top-level fields of each page of a ``Describe*`` call, following ``nextToken``."""
        seen: set[str] = set()
        token: str | None = None
        while True:
            page = dict(params, NextToken=token) if token else params
            fields = Fields(await self._call(action, page, idempotent=True))
            yield fields
            token = fields.text("nextToken")
            if not token:
                return
            if token in seen:
                raise MalformedResponseError(f"EC2 repeated a page token for {action}", self)
            seen.add(token)

    async def _iterate(
        self,
        action: str,
        params: Params,
        list_name: str,
        parse: Callable[[etree._Element, Any], _T],
    ) -> AsyncIterator[_T]:
        """``parse(item, self)`` for each item of the list *list_name* of every page."""
        async for page in self._pages(action, params):
            for item in page.items(list_name):
                yield parse(item, self)
