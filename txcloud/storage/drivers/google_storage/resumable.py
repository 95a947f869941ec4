"""
Resumable uploads to Google Cloud Storage (``uploadType=resumable``), as
a :class:`~txcloud.storage.transfer.multipart.MultipartTarget` the transfer
engine drives one part at a time.

A session is opened with the object resource; each part then goes with one
``PUT`` to the session URI, ``Content-Range: bytes START-END/*`` (the total
once the last part is known: a part that is not a multiple of 256 KiB is
the last one, and a stream ending on a whole part is closed with an empty
``bytes */TOTAL``).  Cloud Storage answers ``308`` with the bytes it has
persisted, which may be fewer than were sent: the rest is sent again.  When
a chunk fails (network failure, throttling, a server error) the session's
status is asked (``Content-Range: bytes */*``) and the upload goes on from
the offset Cloud Storage persisted, after a backoff.  The session URI
authorises uploads by itself, so it is never logged.

A file's checksum is computed before the session is opened and sent in its
object resource, so Cloud Storage validates the object before it stores it;
a stream's parts are hashed in order as they go, and the checksum Cloud
Storage reports at the end is compared with theirs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from twisted.internet.task import deferLater

from txcloud.errors import MalformedResponseError, RateLimitReached, TxCloudError
from txcloud.http import RetryPolicy
from txcloud.storage.base import Object
from txcloud.storage.drivers.google_storage.parse import object_from_resource
from txcloud.storage.drivers.google_storage.upload import (
    MAX_OBJECT_SIZE,
    ObjectUploader,
    check_stored,
    reframe,
)
from txcloud.storage.transfer.digest import PartDigests, new_hash
from txcloud.storage.transfer.files import run_blocking
from txcloud.storage.transfer.multipart import PartBody, UploadedPart

__all__ = ["CHUNK_GRANULARITY", "ResumableUpload"]

#: Every chunk of a resumable upload but the last is a multiple of this.
CHUNK_GRANULARITY = 256 * 1024

# "bytes=0-262143": the persisted bytes, in a 308 answer.
_RANGE = re.compile(r"bytes=0-([0-9]+)")

# Status of an unfinished session.
_INCOMPLETE = 308


class ResumableUpload(ObjectUploader):
    """
    One resumable upload session.

    :param retry: how often and how patiently a failed chunk is resumed.

    Other parameters are :class:`~txcloud.storage.drivers.google_storage.upload.ObjectUploader`'s.
    """

    min_part_size = CHUNK_GRANULARITY
    max_part_size = MAX_OBJECT_SIZE
    # Parts go one after another in one session: their count is not limited.
    max_parts = 2**62
    # The whole data is hashed here (a file once, a stream part by part).
    part_checksums: frozenset[str] = frozenset()

    def __init__(self, *args: Any, retry: RetryPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retry = retry
        self._digest = new_hash(self.algorithm) if self.file_digest is None else None
        self._sent: bytes | None = None
        self._offset = 0
        self._stored: dict[str, Any] | None = None

    async def start(self) -> str:
        resource = self.resource
        if self.file_digest is not None:
            self._sent = await self.file_digest()
            resource = self.with_digest(resource, self._sent)
        response = await self.driver._send_json(
            "POST",
            self.driver._upload_url(self.container.name),
            resource,
            params=self.params("resumable"),
            headers={"X-Upload-Content-Type": self.resource["contentType"]},
            # Opening a session stores nothing: a retry is harmless.
            idempotent=True,
        )
        await response.content()
        session = response.headers.get("Location")
        if not session or not session.startswith(("http://", "https://")):
            raise MalformedResponseError("a resumable upload was opened without a session URI")
        return session

    async def upload_part(
        self, upload_id: str, number: int, body: PartBody, size: int, digests: PartDigests
    ) -> str:
        if self._digest is not None:
            if not isinstance(body, bytes):
                raise TypeError("a resumable upload hashes parts given as bytes only")
            await run_blocking(self.driver.reactor, self._digest.update, body)
        start, end = self._offset, self._offset + size
        total = end if size % CHUNK_GRANULARITY else None
        await self._send_chunk(upload_id, body, start, end, total)
        self._offset = end
        return str(number)

    async def _send_chunk(
        self, session: str, body: PartBody, start: int, end: int, total: int | None
    ) -> None:
        """
        Send bytes ``[start, end)`` (the last ones when *total* is given),
        going on from where Cloud Storage stopped until it has them all.
        """
        persisted, failures, ask_status = start, 0, False
        while True:
            sent_from = persisted
            try:
                if ask_status:
                    persisted = sent_from = await self._session_put(session, b"", "bytes */*")
                    ask_status = False
                if self._stored is None:
                    if persisted < start:
                        raise MalformedResponseError(
                            f"the upload session of {self.name!r} lost acknowledged bytes"
                        )
                    rest = reframe(body, skip=persisted - start)
                    persisted = await self._session_put(
                        session, rest, _content_range(persisted, end, total)
                    )
            except TxCloudError as e:
                failures += 1
                if failures >= self._retry.max_attempts or not self._retry.is_retryable(e):
                    raise
                retry_after = e.retry_after if isinstance(e, RateLimitReached) else None
                await deferLater(
                    self.driver.reactor, self._retry.delay(failures, retry_after), lambda: None
                )
                ask_status = True
                continue
            if self._stored is not None:
                if total is None:
                    raise MalformedResponseError(
                        f"the upload session of {self.name!r} finished before its last part"
                    )
                return
            if total is None and persisted >= end:
                return
            if persisted <= sent_from:
                failures += 1
                if failures >= self._retry.max_attempts:
                    raise MalformedResponseError(
                        f"the upload session of {self.name!r} persisted nothing more "
                        f"after {failures} attempts"
                    )

    async def _session_put(self, session: str, body: PartBody, content_range: str) -> int:
        """One ``PUT`` to the session; returns the number of bytes it has persisted."""
        response = await self.driver._send(
            "PUT",
            session,
            headers={"Content-Range": content_range, "Content-Type": self.resource["contentType"]},
            body=body,
            ok_statuses={_INCOMPLETE},
            # A chunk sent again must start where the session stopped: _send_chunk retries.
            idempotent=False,
        )
        if response.status != _INCOMPLETE:
            stored: dict[str, Any] = await response.json()
            self._stored = stored
            try:
                return int(stored.get("size", 0))
            except (TypeError, ValueError):
                raise MalformedResponseError("a finished upload has no valid size") from None
        await response.content()
        match = _RANGE.fullmatch(response.headers.get("Range", "").strip())
        return int(match.group(1)) + 1 if match else 0

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Object:
        if self._stored is None:
            # The stream ended on a whole part: say the total, with no data.
            await self._send_chunk(upload_id, b"", self._offset, self._offset, self._offset)
        assert self._stored is not None
        check_stored(self._stored, self.name, self._offset)
        obj = object_from_resource(self._stored, self.container)
        sent = self._sent if self._digest is None else self._digest.digest()
        assert sent is not None
        await self.check_digest(obj, sent)
        return obj

    async def abort(self, upload_id: str) -> None:
        # Cloud Storage answers a cancelled session with 499.
        response = await self.driver._send("DELETE", upload_id, ok_statuses={499})
        await response.content()


def _content_range(start: int, end: int, total: int | None) -> str:
    """``bytes START-LAST/TOTAL`` (``*`` for an unknown total; ``*/TOTAL`` with no bytes)."""
    length = "*" if total is None else str(total)
    if end > start:
        return f"bytes {start}-{end - 1}/{length}"
    return f"bytes */{length}"
