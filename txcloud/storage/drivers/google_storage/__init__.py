"""
Google Cloud Storage through its JSON API (``/storage/v1``).

Credentials are a service account's JSON key (OAuth2 tokens from
:mod:`txcloud.auth.google`); with ``key=None`` they are found as Google's
own libraries find them (Application Default Credentials:
``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's file, the metadata server);
for an emulator there are none: a driver made with an empty ``key`` and no
``secret``, or with ``STORAGE_EMULATOR_HOST`` set, sends no ``Authorization``.
HMAC keys (``GOOG...``) go through the XML API instead: constructing this
class with one gives a
:class:`~txcloud.storage.drivers.google_storage.xml_api.GoogleStorageXMLDriver`, as
Libcloud's driver switches by the key's form.

Uploads below ``ex_multipart_threshold`` (8 MiB) go with one request (the
object resource and the data together).  Larger files and streams go, by
default, through a resumable upload session (one part after another, each
resumed from the offset Cloud Storage persisted if it fails): the stored
object is an ordinary one, with an MD5, and the upload needs no permission
beyond creating objects.  ``ex_upload_method='composite'`` uploads the parts
in parallel as temporary objects and joins them with ``compose``: faster,
but the object then has no MD5 (only a CRC32C), the upload also needs to
delete objects, and on storage classes with a minimum storage duration the
short-lived temporaries are billed for it.  See
:mod:`~txcloud.storage.drivers.google_storage.resumable` and
:mod:`~txcloud.storage.drivers.google_storage.upload`.

Downloads of large objects come in parallel ranged GETs (from 64 MiB; with a
custom ``host``, one streaming GET unless ``ex_download_threshold`` says
otherwise), pinned to the object's generation, and are checked against the
object's CRC32C (every object has one).  Uploads send the CRC32C of their
data in the object resource, for Cloud Storage to validate, and compare the
one it reports; composite parts each carry their own.  CRC32C comes from
``google-crc32c`` (a dependency); on a platform where it has no C extension,
MD5 takes its place both ways (composite objects then go unchecked).
``Object.hash`` stays what Cloud Storage reports as the MD5 (``md5Hash``,
hex), ``None`` for composite objects; ``extra["crc32c"]`` is the CRC32C.

The package's modules:

* :mod:`~txcloud.storage.drivers.google_storage.driver`: GoogleStorageDriver over the JSON API;
* :mod:`~txcloud.storage.drivers.google_storage.connection`: credentials, URLs, Google's errors,
  sending requests;
* :mod:`~txcloud.storage.drivers.google_storage.parse`: bucket and object rules, JSON resources,
  upload options;
* :mod:`~txcloud.storage.drivers.google_storage.upload`: single-request and composite uploads;
* :mod:`~txcloud.storage.drivers.google_storage.resumable`: resumable upload sessions;
* :mod:`~txcloud.storage.drivers.google_storage.xml_api`: GoogleStorageXMLDriver: the S3-compatible
  XML API with HMAC keys.
"""

from txcloud.storage.drivers.google_storage.driver import (
    DEFAULT_HOST,
    UPLOAD_METHODS,
    GoogleStorageDriver,
)

__all__ = ["DEFAULT_HOST", "UPLOAD_METHODS", "GoogleStorageDriver"]
