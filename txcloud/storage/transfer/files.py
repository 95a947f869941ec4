"""
Moving object data between drivers and local files, written once for every provider.

Everything here keeps memory bounded (data moves in chunks, never a whole
object at once) and keeps blocking file work off the reactor thread: reads,
writes, ``fsync`` and hashing run in the reactor's thread pool through
:func:`run_blocking`.  Files are written by :class:`AtomicFileWriter`, so a
destination holds either the whole new content or what it held before.

The transfer engine builds on this module: :mod:`~txcloud.storage.transfer.config`
(how transfers are cut), :mod:`~txcloud.storage.transfer.digest` (MD5, CRC32,
multipart ETags), :mod:`~txcloud.storage.transfer.fanout` (bounded parallel
requests, ordered thread-pool work), :mod:`~txcloud.storage.transfer.multipart`
(uploads in parts, through a provider's small
:class:`~txcloud.storage.transfer.multipart.MultipartTarget`) and
:mod:`~txcloud.storage.transfer.ranged` (downloads, in parallel ranges for
large objects, behind :func:`download_to_file`).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO, ParamSpec, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool

from txcloud.errors import InvalidArgumentError
from txcloud.storage.transfer.config import DEFAULT_CHUNK_SIZE
from txcloud.storage.transfer.digest import new_md5

if TYPE_CHECKING:
    from txcloud.storage.base import ProgressCallback

__all__ = [
    "TEMPORARY_SUFFIX",
    "AtomicFileWriter",
    "as_chunk_stream",
    "check_destination",
    "chunk_size_or_default",
    "closing_iterator",
    "destination_file",
    "is_temporary_name",
    "read_file_chunks",
    "run_blocking",
    "stat_and_md5",
    "write_atomically",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: Ends the name of every temporary file :class:`AtomicFileWriter` creates.
TEMPORARY_SUFFIX = ".txcloud-part"

# Keeps temporary names under common 255-byte file name limits.
_MAX_NAME_IN_TEMPORARY = 64


def run_blocking(
    reactor: Any, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> Deferred[_T]:
    """
    Call blocking *func* in the reactor's thread pool.

    :returns: a Deferred firing, in the reactor thread, with what *func* returned.
    """
    return deferToThreadPool(reactor, reactor.getThreadPool(), func, *args, **kwargs)


def stat_and_md5(path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[os.stat_result, str]:
    """
    Hash the file at *path* in chunks (blocking: run it with :func:`run_blocking`).

    The stat is taken from the same open file as the digest, so the two
    describe the same file even if *path* is replaced meanwhile.

    :returns: the file's stat and the MD5 hex digest of its content.
    """
    with open(path, "rb") as file:
        stat = os.fstat(file.fileno())
        digest = new_md5()
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return stat, digest.hexdigest()


def chunk_size_or_default(chunk_size: int | None) -> int:
    """
    Check a caller's chunk size.

    :returns: *chunk_size*, or the default when it is ``None``.
    :raises InvalidArgumentError: if it is not a positive integer.
    """
    if chunk_size is None:
        return DEFAULT_CHUNK_SIZE
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
        raise InvalidArgumentError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    return chunk_size


def _open_for_reading(path: str) -> BinaryIO:
    return open(path, "rb")


@asynccontextmanager
async def closing_iterator(chunks: AsyncIterable[_T]) -> AsyncIterator[AsyncIterator[_T]]:
    """
    Iterate *chunks* and close the iterator (``aclose``, when it has one) on the way out.

    Closing at once releases what a half-consumed stream holds (an open
    file, a connection) instead of leaving it to the garbage collector.
    """
    iterator = aiter(chunks)
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def read_file_chunks(
    reactor: Any,
    path: str,
    start_bytes: int = 0,
    end_bytes: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncIterator[bytes]:
    """
    Yield bytes ``[start_bytes, end_bytes)`` of the file at *path*, read in a thread.

    The file is opened on the first iteration and closed when the iterator
    ends or is closed.  It stops early at the end of the file.
    """
    file = await run_blocking(reactor, _open_for_reading, path)
    try:
        await run_blocking(reactor, file.seek, start_bytes)
        remaining = None if end_bytes is None else end_bytes - start_bytes
        while remaining is None or remaining > 0:
            size = chunk_size if remaining is None else min(chunk_size, remaining)
            chunk = await run_blocking(reactor, file.read, size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        # Synchronous on purpose: a finally clause of an async generator
        # cannot await when the generator is closed by garbage collection.
        file.close()


def as_chunk_stream(source: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """
    Adapt a sync iterable or an async iterable of byte chunks to an async iterator.

    :raises InvalidArgumentError: at once if *source* is not iterable or is a
        single ``bytes``/``str`` value, and during iteration if a chunk is
        not bytes-like.
    """
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        raise InvalidArgumentError(
            "Expected an iterable of byte chunks (for one bytes value, pass iter([data]))"
        )
    if isinstance(source, AsyncIterable):
        return _checked_async_chunks(source)
    if isinstance(source, Iterable):
        return _checked_sync_chunks(source)
    raise InvalidArgumentError(f"Expected an iterable of byte chunks, not {type(source).__name__}")


def _checked_chunk(chunk: object) -> bytes:
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(f"Chunks must be bytes, not {type(chunk).__name__}")
    return bytes(chunk)


async def _checked_sync_chunks(source: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in source:
        yield _checked_chunk(chunk)


async def _checked_async_chunks(source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async with closing_iterator(source) as chunks:
        async for chunk in chunks:
            yield _checked_chunk(chunk)


def is_temporary_name(file_name: str) -> bool:
    """Whether *file_name* (one path component) is an :class:`AtomicFileWriter` temporary file."""
    return file_name.startswith(".") and file_name.endswith(TEMPORARY_SUFFIX)


def _destination_exists(destination_path: str) -> InvalidArgumentError:
    # Libcloud's wording, so messages match for users migrating from it.
    return InvalidArgumentError(
        f"Overwrite existing is False and the destination path exists: {destination_path}"
    )


def check_destination(destination_path: str, overwrite_existing: bool) -> None:
    """
    Refuse a destination file before any data is requested.

    :raises InvalidArgumentError: if *destination_path* is a directory, its
        folder does not exist, or it exists and *overwrite_existing* is false.
    """
    if os.path.isdir(destination_path):
        raise InvalidArgumentError(f"The destination path is a directory: {destination_path}")
    folder = os.path.dirname(os.path.abspath(destination_path))
    if not os.path.isdir(folder):
        raise InvalidArgumentError(f"The destination's folder does not exist: {folder}")
    if not overwrite_existing and os.path.lexists(destination_path):
        raise _destination_exists(destination_path)


def destination_file(destination_path: str, object_name: str, overwrite_existing: bool) -> str:
    """
    The file a download of *object_name* writes, checked before any request.

    As in Libcloud, a *destination_path* ending with a path separator names
    an existing folder, where the object is saved under its name:
    ``"downloads/"`` and ``"photos/a.jpg"`` give ``"downloads/photos/a.jpg"``
    (the folders the name passes through must exist too).  Any other path
    is the file itself.

    :raises InvalidArgumentError: as :func:`check_destination` does, and for
        a folder that does not exist or an object name that would leave it
        (absolute, or with empty, ``.`` or ``..`` components).
    """
    if os.path.basename(destination_path):
        check_destination(destination_path, overwrite_existing)
        return destination_path
    if not os.path.isdir(destination_path):
        # Libcloud's wording.
        raise InvalidArgumentError(f"Path {destination_path} does not exist")
    parts = object_name.split("/")
    # Object names use "/"; a platform's other separators would split them again.
    forbidden = {"\0", os.sep, os.altsep or "/"} - {"/"}
    if any(part in ("", ".", "..") for part in parts) or any(
        character in object_name for character in forbidden
    ):
        raise InvalidArgumentError(
            f"the object name {object_name!r} cannot be a file name under {destination_path}"
        )
    path = os.path.join(destination_path, *parts)
    check_destination(path, overwrite_existing)
    return path


class AtomicFileWriter:
    """
    Write a file that appears whole or not at all.

    Data goes to a temporary file in the destination's directory;
    :meth:`commit` flushes and ``fsync``-s it and renames it into place,
    :meth:`abort` removes it.  The methods block: call them with
    :func:`run_blocking`.  They hold a lock, so an :meth:`abort` issued after
    a cancellation waits for a write still running in another thread, and
    nothing can be opened or written once the writer is finished.

    :param destination_path: where the file appears on :meth:`commit`.
    :param overwrite_existing: replace an existing file; otherwise
        :meth:`commit` refuses to, atomically.
    """

    def __init__(self, destination_path: str, overwrite_existing: bool = False) -> None:
        self.destination_path = os.path.abspath(destination_path)
        self.overwrite_existing = overwrite_existing
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._temporary_path: str | None = None
        self._finished = False

    def open(self) -> None:
        """Create the temporary file (mode ``0o666`` less the umask, like a new file)."""
        with self._lock:
            if self._finished or self._file is not None:
                raise RuntimeError("This writer was already opened or finished")
            directory, name = os.path.split(self.destination_path)
            temporary_name = (
                f".{name[:_MAX_NAME_IN_TEMPORARY]}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"
            )
            temporary_path = os.path.join(directory, temporary_name)
            # O_EXCL: a name collision fails instead of writing into someone else's file.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            descriptor = os.open(temporary_path, flags, 0o666)
            self._temporary_path = temporary_path
            self._file = os.fdopen(descriptor, "wb")

    def write(self, data: bytes) -> None:
        """Append *data* to the temporary file."""
        with self._lock:
            self._open_file().write(data)

    def write_at(self, offset: int, chunks: Sequence[bytes]) -> None:
        """
        Write *chunks*, one after the other, from *offset* of the temporary
        file, for parts that arrive out of order; do not mix with :meth:`write`.
        """
        with self._lock:
            descriptor = self._open_file().fileno()
            views = [memoryview(chunk) for chunk in chunks if chunk]
            while views:
                # Few system calls where the platform has pwritev (which
                # takes at most IOV_MAX buffers, 1024 on Linux).
                if hasattr(os, "pwritev"):
                    written = os.pwritev(descriptor, views[:512], offset)
                else:
                    written = os.pwrite(descriptor, views[0], offset)
                offset += written
                while views and written >= len(views[0]):
                    written -= len(views.pop(0))
                if views and written:
                    views[0] = views[0][written:]

    def sync(self) -> None:
        """
        Flush what was written so far to the disk, so that :meth:`commit`
        has less left to wait for (the data still appears only on commit).
        """
        with self._lock:
            file = self._open_file()
            file.flush()
            # fdatasync skips metadata the commit's fsync writes anyway.
            getattr(os, "fdatasync", os.fsync)(file.fileno())

    @property
    def temporary_path(self) -> str | None:
        """The temporary file being written, while there is one."""
        return self._temporary_path

    def commit(self) -> os.stat_result:
        """
        Make the file durable and move it to the destination.

        :returns: the stat of the written file (its inode, size and mtime are
            those of the file now at the destination).
        :raises InvalidArgumentError: if the destination exists and
            ``overwrite_existing`` is false; the temporary file stays for
            :meth:`abort` to remove.
        """
        with self._lock:
            file = self._open_file()
            file.flush()
            os.fsync(file.fileno())
            stat = os.fstat(file.fileno())
            file.close()
            self._file = None
            assert self._temporary_path is not None
            if self.overwrite_existing:
                os.replace(self._temporary_path, self.destination_path)
            else:
                _rename_without_replacing(self._temporary_path, self.destination_path)
            self._temporary_path = None
            self._finished = True
            _fsync_directory(os.path.dirname(self.destination_path))
            return stat

    def abort(self) -> None:
        """Close and remove the temporary file, if any; safe to call more than once."""
        with self._lock:
            self._finished = True
            file, self._file = self._file, None
            temporary_path, self._temporary_path = self._temporary_path, None
            try:
                if file is not None:
                    file.close()
            finally:
                if temporary_path is not None:
                    try:
                        os.unlink(temporary_path)
                    except FileNotFoundError:
                        pass

    def _open_file(self) -> IO[bytes]:
        if self._file is None:
            raise RuntimeError("This writer is not open")
        return self._file


def _rename_without_replacing(source: str, destination: str) -> None:
    try:
        # A hard link fails atomically if the destination exists.
        os.link(source, destination)
    except FileExistsError:
        raise _destination_exists(destination) from None
    except OSError:
        # Some file systems (FAT, some network mounts) have no hard links;
        # there a last check before the rename is the best available.
        if os.path.lexists(destination):
            raise _destination_exists(destination) from None
        os.replace(source, destination)
        return
    os.unlink(source)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself survive a crash.  Windows cannot open directories.
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_and_hash(writer: AtomicFileWriter, digest: Any, chunk: bytes) -> None:
    writer.write(chunk)
    digest.update(chunk)


async def write_atomically(
    reactor: Any,
    chunks: AsyncIterable[bytes],
    destination_path: str,
    *,
    overwrite_existing: bool = False,
    progress: ProgressCallback | None = None,
    verify: Callable[[str], None] | None = None,
) -> tuple[os.stat_result, str]:
    """
    Write *chunks* to *destination_path* through an :class:`AtomicFileWriter`.

    On any failure (the iterator raising, cancellation, *verify* refusing)
    the temporary file is removed and the destination is left as it was.

    :param progress: called with the number of bytes written so far.
    :param verify: called with the MD5 hex digest of the data before the
        file is moved into place; raise to refuse it.
    :returns: the stat of the written file and the MD5 hex digest of its content.
    """
    writer = AtomicFileWriter(destination_path, overwrite_existing)
    digest = new_md5()
    try:
        await run_blocking(reactor, writer.open)
        written = 0
        async with closing_iterator(chunks) as stream:
            async for chunk in stream:
                if not chunk:
                    continue
                await run_blocking(reactor, _write_and_hash, writer, digest, chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written)
        md5 = digest.hexdigest()
        if verify is not None:
            verify(md5)
        stat = await run_blocking(reactor, writer.commit)
    except Exception:
        await run_blocking(reactor, writer.abort)
        raise
    return stat, md5
