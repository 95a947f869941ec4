"""
The Azure Blob protocol's data, without I/O: container and blob name
rules, the headers an upload sends for its ``extra`` options, block ids and
block lists, and the parsing of listings and response headers into
txcloud's models (with Libcloud's ``extra`` names).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from lxml import etree

from txcloud.errors import InvalidArgumentError, InvalidContainerNameError, InvalidObjectNameError
from txcloud.http import find_local, findtext_local, local_name
from txcloud.storage.base import Container, Object
from txcloud.storage.upload_options import (
    DEFAULT_CONTENT_TYPE,
    guess_content_type,
    header_value,
    upload_extra_headers,
)

if TYPE_CHECKING:
    from txcloud.storage.base import StorageDriver

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "META_PREFIX",
    "block_id",
    "block_list_xml",
    "check_blob_name",
    "check_container_name",
    "container_from_headers",
    "container_from_listing",
    "md5_hex",
    "object_from_headers",
    "object_from_listing",
    "strip_quotes",
    "upload_headers",
]

#: What Azure stores when an upload names no content type.
#: Prefix of user metadata headers.
META_PREFIX = "x-ms-meta-"
#: The longest blob name, in characters.
MAX_BLOB_NAME = 1024
#: The most ``/``-separated segments a blob name may have.
MAX_BLOB_SEGMENTS = 254

# 3 to 63 lower case letters, digits and single hyphens, not at either end.
_CONTAINER = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")
# Containers Azure names itself: the root container, static websites, logs.
_SPECIAL_CONTAINERS = frozenset({"$root", "$web", "$logs"})
# Control characters cannot travel in XML listings, and Azure refuses them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Metadata names are C# identifiers; values travel as printable ASCII headers.
_META_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# extra keys an upload accepts, and the blob property header each sets.
_EXTRA_HEADERS = {
    "content_type": "x-ms-blob-content-type",
    "content_encoding": "x-ms-blob-content-encoding",
    "content_language": "x-ms-blob-content-language",
    "content_disposition": "x-ms-blob-content-disposition",
    "cache_control": "x-ms-blob-cache-control",
}
# Response headers (and listing properties) kept in Object.extra.
_OBJECT_HEADERS = {
    "content_type": "Content-Type",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "content_disposition": "Content-Disposition",
    "cache_control": "Cache-Control",
    "last_modified": "Last-Modified",
    "creation_time": "x-ms-creation-time",
    "blob_type": "x-ms-blob-type",
    "access_tier": "x-ms-access-tier",
}
_LISTING_PROPERTIES = {
    "content_type": "Content-Type",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "content_disposition": "Content-Disposition",
    "cache_control": "Cache-Control",
    "last_modified": "Last-Modified",
    "creation_time": "Creation-Time",
    "blob_type": "BlobType",
    "access_tier": "AccessTier",
}


def check_container_name(name: object) -> str:
    """
    Refuse a name Azure does not allow for a container, before any request.

    :raises InvalidContainerNameError: unless the name is 3 to 63 lower case
        letters, digits and hyphens, starting and ending with a letter or
        digit, without two hyphens in a row (or ``$root``, ``$web``,
        ``$logs``).
    """
    if isinstance(name, str) and (name in _SPECIAL_CONTAINERS or _CONTAINER.fullmatch(name)):
        return name
    raise InvalidContainerNameError(
        f"Invalid container name {name!r}: it must be 3 to 63 lower case letters, digits "
        "and single hyphens, starting and ending with a letter or digit",
        container_name=str(name),
    )


def check_blob_name(name: object) -> str:
    """
    Refuse a blob name Azure cannot store or a URL cannot carry, before any
    request.

    :raises InvalidObjectNameError: unless the name is 1 to 1024 characters
        of at most 254 ``/``-separated segments, without control characters
        and without ``.`` or ``..`` segments (which URLs collapse).
    """
    problem = None
    if not isinstance(name, str) or not 0 < len(name) <= MAX_BLOB_NAME:
        problem = f"1 to {MAX_BLOB_NAME} characters"
    elif _CONTROL.search(name):
        problem = "free of control characters"
    elif name.count("/") >= MAX_BLOB_SEGMENTS:
        problem = f"at most {MAX_BLOB_SEGMENTS} '/'-separated segments"
    elif any(segment in (".", "..") for segment in name.split("/")):
        problem = "free of '.' and '..' segments"
    else:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            problem = "valid Unicode"
    if problem is not None:
        raise InvalidObjectNameError(
            f"Invalid blob name {name!r}: it must be {problem}", object_name=str(name)
        )
    assert isinstance(name, str)
    return name


def upload_headers(
    extra: Mapping[str, Any] | None, object_name: str, file_path: str | None = None
) -> dict[str, str]:
    """
    The blob property and metadata headers for an upload's *extra* options
    (sent with Put Blob or Put Block List).

    :param extra: ``meta_data`` (a dict of names that are C# identifiers to
        ASCII text, sent as ``x-ms-meta-*``), ``content_type`` (guessed from
        the object name, then the file name, when absent),
        ``content_encoding``, ``content_language``, ``content_disposition``
        and ``cache_control``.
    :raises InvalidArgumentError: for an unknown key or a value that cannot
        be sent.
    """
    headers, meta_data = upload_extra_headers(extra, _EXTRA_HEADERS)
    if "x-ms-blob-content-type" not in headers:
        headers["x-ms-blob-content-type"] = guess_content_type(object_name, file_path)
    for key, value in meta_data.items():
        if not isinstance(key, str) or not _META_NAME.fullmatch(key):
            raise InvalidArgumentError(
                f"metadata name {key!r} must be letters, digits and '_', not starting with a digit"
            )
        header = META_PREFIX + key.lower()
        if header in headers:
            # Azure keeps metadata names without regard to case.
            raise InvalidArgumentError(f"metadata name {key!r} is given twice (case aside)")
        headers[header] = header_value(f"meta_data[{key!r}]", value)
    return headers


def block_id(upload_token: str, number: int) -> str:
    """
    The id of block *number* of one upload: base64 of the upload's token and
    the number, so ids have the same length (as Azure requires for a blob)
    and never collide with another upload's.
    """
    return base64.b64encode(f"{upload_token}-{number:06d}".encode("ascii")).decode("ascii")


def block_list_xml(block_ids: Iterable[str]) -> bytes:
    """The Put Block List document committing *block_ids*, in order."""
    listed = "".join(f"<Latest>{escape(block)}</Latest>" for block in block_ids)
    return f'<?xml version="1.0" encoding="utf-8"?><BlockList>{listed}</BlockList>'.encode()


def md5_hex(value: str | None) -> str | None:
    """A base64 ``Content-MD5`` as a hex digest; ``None`` for none or a malformed one."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 16 else None


def strip_quotes(etag: str | None) -> str | None:
    """An ETag without its quotes (Azure quotes them in headers, not in listings)."""
    return etag.strip('"') if etag else None


def _lease(status: str | None, state: str | None, duration: str | None) -> dict[str, Any]:
    return {"status": status, "state": state, "duration": duration}


def _metadata_of(element: etree._Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {local_name(child).lower(): child.text or "" for child in element}


def _metadata_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower()[len(META_PREFIX) :]: headers[name]
        for name in headers
        if name.lower().startswith(META_PREFIX)
    }


def container_from_listing(
    element: etree._Element, driver: StorageDriver, url_of: Callable[[str], str]
) -> Container:
    """
    A :class:`Container` from an ``EnumerationResults/Containers/Container``
    element; *url_of* gives a container's URL from its name.
    """
    name = findtext_local(element, "Name") or ""
    properties = find_local(element, "Properties")

    def prop(field: str) -> str | None:
        return None if properties is None else findtext_local(properties, field)

    extra = {
        "url": url_of(name),
        "last_modified": prop("Last-Modified"),
        "etag": strip_quotes(prop("Etag")),
        "lease": _lease(prop("LeaseStatus"), prop("LeaseState"), prop("LeaseDuration")),
        "meta_data": _metadata_of(find_local(element, "Metadata")),
    }
    return Container(name=name, extra=extra, driver=driver)


def container_from_headers(
    name: str, headers: Mapping[str, str], driver: StorageDriver, url: str
) -> Container:
    """A :class:`Container` from the headers of a Get Container Properties or Create Container."""
    extra = {
        "url": url,
        "last_modified": headers.get("Last-Modified"),
        "etag": strip_quotes(headers.get("ETag")),
        "lease": _lease(
            headers.get("x-ms-lease-status"),
            headers.get("x-ms-lease-state"),
            headers.get("x-ms-lease-duration"),
        ),
        "meta_data": _metadata_headers(headers),
    }
    return Container(name=name, extra=extra, driver=driver)


def _blob_name(element: etree._Element) -> str:
    name = find_local(element, "Name")
    if name is None:
        return ""
    # Names with characters XML cannot carry come percent-encoded.
    if name.get("Encoded") == "true":
        return unquote(name.text or "")
    return name.text or ""


def object_from_listing(
    element: etree._Element, container: Container, url_of: Callable[[str], str]
) -> Object:
    """
    An :class:`Object` from an ``EnumerationResults/Blobs/Blob`` element
    listed with ``include=metadata``; *url_of* gives a blob's URL from its
    name.
    """
    name = _blob_name(element)
    properties = find_local(element, "Properties")

    def prop(field: str) -> str | None:
        return None if properties is None else findtext_local(properties, field)

    etag = prop("Etag")
    extra: dict[str, Any] = {
        "url": url_of(name),
        "etag": etag,
        "md5_hash": md5_hex(prop("Content-MD5")),
        "lease": _lease(prop("LeaseStatus"), prop("LeaseState"), prop("LeaseDuration")),
    }
    extra.update({key: prop(field) for key, field in _LISTING_PROPERTIES.items()})
    return Object(
        name=name,
        size=int(prop("Content-Length") or 0),
        hash=strip_quotes(etag),
        extra=extra,
        meta_data=_metadata_of(find_local(element, "Metadata")),
        container=container,
        driver=container.driver,
    )


def object_from_headers(
    name: str,
    headers: Mapping[str, str],
    container: Container,
    url: str,
    size: int | None = None,
) -> Object:
    """
    An :class:`Object` from the headers of a Get Blob Properties (``HEAD``).

    :param size: the blob's size when the headers do not give it (upload
        responses).
    """
    etag = headers.get("ETag")
    # A ranged GET reports the whole blob's MD5 in its own header.
    md5 = headers.get("Content-MD5") or headers.get("x-ms-blob-content-md5")
    extra: dict[str, Any] = {
        "url": url,
        "etag": etag,
        "md5_hash": md5_hex(md5),
        "lease": _lease(
            headers.get("x-ms-lease-status"),
            headers.get("x-ms-lease-state"),
            headers.get("x-ms-lease-duration"),
        ),
    }
    extra.update({key: headers.get(header) for key, header in _OBJECT_HEADERS.items()})
    if size is None:
        size = int(headers.get("Content-Length") or 0)
    return Object(
        name=name,
        size=size,
        hash=strip_quotes(etag),
        extra=extra,
        meta_data=_metadata_headers(headers),
        container=container,
        driver=container.driver,
    )
