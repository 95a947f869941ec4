"""
Google Cloud Storage's JSON API data, without I/O: bucket and object name
rules, the object resource an upload sends for its ``extra`` options, and
the parsing of bucket and object resources into txcloud's models.

``Object.hash`` is the MD5 hex digest of the content, from the resource's
``md5Hash``; objects made by ``compose`` (and XML multipart uploads) have
no MD5, so their ``hash`` is ``None`` and only ``extra["crc32c"]`` describes
their content.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from txcloud.errors import (
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidObjectNameError,
    MalformedResponseError,
)
from txcloud.storage.base import Container, Object
from txcloud.storage.names import is_ipv4_address, utf8_size
from txcloud.storage.transfer.digest import CRC32C, MD5, ExpectedDigest

if TYPE_CHECKING:
    from txcloud.storage.base import StorageDriver

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "MAX_OBJECT_NAME_BYTES",
    "check_bucket_name",
    "check_object_name",
    "container_from_resource",
    "crc32c_of",
    "expected_digest",
    "md5_of",
    "object_from_resource",
    "object_resource",
    "predefined_acl",
]

#: The content type of an upload whose name suggests none.
DEFAULT_CONTENT_TYPE = "application/octet-stream"

#: The longest object name Cloud Storage accepts, in bytes of UTF-8.
MAX_OBJECT_NAME_BYTES = 1024

# Lower case letters, digits, '-', '_' and '.', starting and ending with a
# letter or digit; 3 to 63 characters, or up to 222 with dots (each
# dot-separated part then at most 63).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
# "google" and look-alikes Cloud Storage refuses in new bucket names.
_GOOGLE_LIKE = re.compile(r"g[o0][o0]gle")

# extra keys an upload accepts, and the object resource field each sets.
_EXTRA_FIELDS = {
    "content_type": "contentType",
    "content_encoding": "contentEncoding",
    "content_disposition": "contentDisposition",
    "content_language": "contentLanguage",
    "cache_control": "cacheControl",
    "storage_class": "storageClass",
}

# Libcloud's (S3's) canned ACL names, and Cloud Storage's own.
_PREDEFINED_ACLS = {
    "private": "private",
    "public-read": "publicRead",
    "project-private": "projectPrivate",
    "authenticated-read": "authenticatedRead",
    "bucket-owner-read": "bucketOwnerRead",
    "bucket-owner-full-control": "bucketOwnerFullControl",
}
_PREDEFINED_ACL_VALUES = frozenset(_PREDEFINED_ACLS.values())

# Object resource fields kept in Object.extra, under Libcloud-style names.
_OBJECT_EXTRA = {
    "generation": "generation",
    "metageneration": "metageneration",
    "etag": "etag",
    "crc32c": "crc32c",
    "updated": "last_modified",
    "timeCreated": "created",
    "storageClass": "storage_class",
    "contentType": "content_type",
    "contentEncoding": "content_encoding",
    "contentDisposition": "content_disposition",
    "contentLanguage": "content_language",
    "cacheControl": "cache_control",
    "componentCount": "component_count",
    "selfLink": "self_link",
    "mediaLink": "media_link",
}

_BUCKET_EXTRA = {
    "id": "id",
    "location": "location",
    "locationType": "location_type",
    "storageClass": "storage_class",
    "timeCreated": "created",
    "updated": "updated",
    "etag": "etag",
    "metageneration": "metageneration",
    "projectNumber": "project_number",
    "selfLink": "self_link",
}


def check_bucket_name(name: object, *, new: bool = False) -> str:
    """
    Refuse a bucket name Cloud Storage would refuse, before any request.

    :param new: also refuse what only new buckets may not have (``goog``
        prefixes, ``google`` and look-alikes).
    :raises InvalidContainerNameError: unless the name has 3 to 63 (222 with
        dots, 63 per dot-separated part) lower case letters, digits, ``-``,
        ``_`` or ``.``, starts and ends with a letter or digit, and is not an
        IP address.
    """
    problem = None
    if not isinstance(name, str) or not _BUCKET.fullmatch(name):
        problem = (
            "3 to 63 lower case letters, digits, '-', '_' or '.' (222 with dots), "
            "starting and ending with a letter or digit"
        )
    elif ("." not in name and len(name) > 63) or any(len(part) > 63 for part in name.split(".")):
        problem = "at most 63 characters between dots"
    elif ".." in name:
        problem = "free of '..'"
    elif is_ipv4_address(name):
        problem = "something else than an IP address"
    elif new and (name.startswith("goog") or _GOOGLE_LIKE.search(name)):
        problem = "free of a 'goog' prefix and of 'google'"
    if problem is not None:
        raise InvalidContainerNameError(
            f"Invalid bucket name {name!r}: it must be {problem}", container_name=str(name)
        )
    return str(name)


def check_object_name(name: object) -> str:
    """
    Refuse an object name Cloud Storage cannot store, before any request.

    :raises InvalidObjectNameError: unless the name is 1 to 1024 bytes of
        UTF-8 without carriage returns or line feeds, and not ``.`` or ``..``.
    """
    size = utf8_size(name)
    problem = None
    if not 0 < size <= MAX_OBJECT_NAME_BYTES:
        problem = f"1 to {MAX_OBJECT_NAME_BYTES} bytes of UTF-8"
    elif "\r" in str(name) or "\n" in str(name):
        problem = "free of carriage returns and line feeds"
    elif name in (".", ".."):
        problem = "something else than '.' or '..'"
    if problem is not None:
        raise InvalidObjectNameError(
            f"Invalid object name {name!r}: it must be {problem}", object_name=str(name)
        )
    return str(name)


def predefined_acl(extra: Mapping[str, Any] | None) -> str | None:
    """
    The ``predefinedAcl`` an upload's ``extra["acl"]`` asks for: a Cloud
    Storage name (``"publicRead"``) or Libcloud's (``"public-read"``).

    :raises InvalidArgumentError: for an unknown ACL.
    """
    acl = (extra or {}).get("acl")
    if acl is None or acl in _PREDEFINED_ACL_VALUES:
        return acl
    if acl in _PREDEFINED_ACLS:
        return _PREDEFINED_ACLS[acl]
    known = ", ".join(sorted(_PREDEFINED_ACL_VALUES | set(_PREDEFINED_ACLS)))
    raise InvalidArgumentError(f"unknown acl {acl!r}; known: {known}")


def object_resource(
    object_name: str, extra: Mapping[str, Any] | None, file_path: str | None = None
) -> dict[str, Any]:
    """
    The object resource an upload sends: name, content type (guessed from
    the object's name, then the file's, when ``extra`` gives none), metadata
    and the other ``extra`` options.

    :param extra: ``meta_data``, ``content_type``, ``content_encoding``,
        ``content_disposition``, ``content_language``, ``cache_control``,
        ``storage_class`` and ``acl`` (see :func:`predefined_acl`, sent as a
        query parameter).
    :raises InvalidArgumentError: for an unknown key or a bad value.
    """
    extra = dict(extra or {})
    unknown = set(extra) - set(_EXTRA_FIELDS) - {"meta_data", "acl"}
    if unknown:
        raise InvalidArgumentError(f"unknown upload options in extra: {', '.join(sorted(unknown))}")
    predefined_acl(extra)
    resource: dict[str, Any] = {"name": object_name}
    for key, field in _EXTRA_FIELDS.items():
        value = extra.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise InvalidArgumentError(f"extra[{key!r}] must be a non-empty string")
        resource[field] = value
    if "contentType" not in resource:
        guessed = mimetypes.guess_type(object_name)[0]
        if guessed is None and file_path is not None:
            guessed = mimetypes.guess_type(file_path)[0]
        resource["contentType"] = guessed or DEFAULT_CONTENT_TYPE
    meta_data = extra.get("meta_data")
    if meta_data:
        if not isinstance(meta_data, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in meta_data.items()
        ):
            raise InvalidArgumentError("extra['meta_data'] must map non-empty strings to strings")
        resource["metadata"] = dict(meta_data)
    return resource


def _decoded(value: Any, size: int, field: str) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedResponseError(f"{field} is not base64: {value!r}") from None
    if len(raw) != size:
        raise MalformedResponseError(f"{field} is not {size} bytes: {value!r}")
    return raw


def md5_of(resource: Mapping[str, Any]) -> bytes | None:
    """The MD5 digest of an object resource (``md5Hash``), if it has one."""
    return _decoded(resource.get("md5Hash"), 16, "md5Hash")


def crc32c_of(resource: Mapping[str, Any]) -> bytes | None:
    """The CRC32C of an object resource (4 bytes, big-endian), if it has one."""
    return _decoded(resource.get("crc32c"), 4, "crc32c")


def _size(resource: Mapping[str, Any]) -> int:
    value = resource.get("size", "0")
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise MalformedResponseError(f"an object's size is not a number: {value!r}") from None
    if size < 0:
        raise MalformedResponseError(f"an object's size is negative: {size}")
    return size


def object_from_resource(resource: Any, container: Container) -> Object:
    """
    An :class:`Object` from a JSON API object resource.

    ``hash`` is the MD5 hex digest (``None`` for composite objects),
    ``meta_data`` the custom ``metadata``, and ``extra`` holds
    ``generation``, ``metageneration``, ``etag``, ``crc32c`` (base64, as
    Google shows it), ``md5`` (hex or ``None``), ``last_modified``
    (``updated``), ``created``, ``storage_class``, ``content_type`` and the
    other content headers, ``component_count``, ``self_link`` and
    ``media_link``, where the resource has them.

    :raises MalformedResponseError: for a resource without a name or with
        unreadable sizes or hashes.
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
        raise MalformedResponseError("an object resource has no name")
    md5 = md5_of(resource)
    crc32c_of(resource)
    extra: dict[str, Any] = {
        name: resource[field] for field, name in _OBJECT_EXTRA.items() if field in resource
    }
    extra["md5"] = None if md5 is None else md5.hex()
    if "component_count" in extra:
        extra["component_count"] = int(extra["component_count"])
    metadata = resource.get("metadata")
    meta_data = {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
    return Object(
        name=resource["name"],
        size=_size(resource),
        hash=extra["md5"],
        extra=extra,
        meta_data=meta_data,
        container=container,
        driver=container.driver,
    )


def container_from_resource(resource: Any, driver: StorageDriver) -> Container:
    """
    A :class:`Container` from a JSON API bucket resource; ``extra`` holds
    ``location``, ``location_type``, ``storage_class``, ``created``,
    ``updated``, ``etag``, ``metageneration``, ``project_number``, ``id`` and
    ``self_link``, where the resource has them.
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
        raise MalformedResponseError("a bucket resource has no name")
    extra = {name: resource[field] for field, name in _BUCKET_EXTRA.items() if field in resource}
    return Container(name=resource["name"], extra=extra, driver=driver)


def expected_digest(obj: Object, crc32c_fast: bool) -> ExpectedDigest | None:
    """
    What *obj*'s content must hash to: its CRC32C when that can be computed
    fast (many times cheaper than MD5, and the only checksum of composite
    objects), else its MD5 when it has one.

    :param crc32c_fast: whether ``google-crc32c``'s C extension is there.
    """
    crc32c = obj.extra.get("crc32c")
    if crc32c_fast and crc32c:
        raw = _decoded(crc32c, 4, "crc32c")
        assert raw is not None
        return ExpectedDigest(CRC32C, whole=raw, label=f"crc32c={crc32c}")
    md5 = obj.extra.get("md5") or obj.hash
    if md5:
        return ExpectedDigest(MD5, whole=bytes.fromhex(md5), label=f"md5={md5}")
    return None
