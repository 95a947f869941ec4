"""
Amazon S3, and S3-compatible stores reached through ``host``/``port``/``secure``.

Requests to AWS use virtual-hosted URLs (``https://BUCKET.s3.REGION.amazonaws.com/KEY``)
except for bucket names that cannot be host names (dots, legacy upper case);
with ``host`` given, every request uses path-style URLs
(``http://HOST:PORT/BUCKET/KEY``), as emulators and most compatible stores expect.

Large uploads and downloads go through the shared transfer engine
(:mod:`txcloud.storage.transfer.multipart`, :mod:`txcloud.storage.transfer.ranged`),
sized by a :class:`~txcloud.storage.transfer.config.TransferConfig` that the
constructor's ``ex_*`` arguments adjust and each call may adjust further.
Uploads go multipart from 8 MiB (8 MiB parts, 10 at once) everywhere;
downloads use parallel ranges from 64 MiB against AWS, and one streaming GET
against a custom ``host`` unless ``ex_download_threshold`` says otherwise.

The package's modules:

* :mod:`~txcloud.storage.drivers.s3.driver`: S3StorageDriver: buckets, objects, listings and
  transfers;
* :mod:`~txcloud.storage.drivers.s3.parse`: bucket and key rules, XML listings, upload options and
  response headers;
* :mod:`~txcloud.storage.drivers.s3.upload`: single and multipart uploads (the transfer engine's
  target);
* :mod:`~txcloud.storage.drivers.s3.download`: what a download is checked against (CRC32C,
  CRC32, MD5, multipart ETags).
"""

from txcloud.storage.drivers.s3.driver import S3StorageDriver

__all__ = ["S3StorageDriver"]
