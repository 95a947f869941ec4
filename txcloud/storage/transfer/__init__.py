"""
The transfer engine: moving object data between storage drivers and local
files, written once for every provider and parameterised by small
per-provider hooks.

* :mod:`~txcloud.storage.transfer.config`: how transfers are cut (part and
  range sizes, thresholds, concurrency);
* :mod:`~txcloud.storage.transfer.digest`: MD5, CRC32 and CRC32C, multipart
  ETags and composite checksums, what a download is checked against;
* :mod:`~txcloud.storage.transfer.files`: atomic files, chunked reads,
  blocking work kept off the reactor thread;
* :mod:`~txcloud.storage.transfer.fanout`: bounded parallel requests and
  ordered thread-pool work;
* :mod:`~txcloud.storage.transfer.multipart`: uploads in parts, through a
  provider's :class:`~txcloud.storage.transfer.multipart.MultipartTarget`;
* :mod:`~txcloud.storage.transfer.ranged`: downloads to files, in parallel
  ranges for large objects;
* :mod:`~txcloud.storage.transfer.mixins`: the download and upload methods
  the HTTP storage drivers share.

The engine depends on no driver and not on :mod:`txcloud.storage.base`
(which uses it for downloads): it sees drivers and objects only through the
methods and attributes it calls.  This package gives the names of its
``files`` and ``ranged`` modules that drivers and tools use most.
"""

from txcloud.storage.transfer import files
from txcloud.storage.transfer.files import *  # noqa: F403
from txcloud.storage.transfer.ranged import download_to_file

__all__ = [*files.__all__, "download_to_file"]
