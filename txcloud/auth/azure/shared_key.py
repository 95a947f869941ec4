"""
Azure Storage Shared Key signatures, as pure functions of plain values.

:func:`shared_key_authorization` computes the ``Authorization: SharedKey
account:signature`` header of a request (the "Shared Key" scheme of Blob,
Queue and File services, version 2009-09-19 and later); :func:`sign_request`
adds it, with ``x-ms-date`` and ``x-ms-version``, to a
:class:`~txcloud.http.Request`.

``url`` arguments are the URL as it is sent: scheme, host, optional port,
path and query, percent-encoded.  The path is signed as sent (for Azurite's
path-style URLs the account name appears twice in the canonicalized
resource: once for the account, once as the first path segment).  Time is a
POSIX timestamp (``reactor.seconds()``).  Keys never appear in errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qsl, urlsplit

from txcloud.errors import InvalidArgumentError
from txcloud.http import Request

__all__ = [
    "STORAGE_API_VERSION",
    "canonicalized_headers",
    "canonicalized_resource",
    "check_account_name",
    "decode_account_key",
    "hmac_base64",
    "http_date",
    "shared_key_authorization",
    "sign_request",
    "string_to_sign",
]

#: The REST API version txcloud speaks (``x-ms-version``) and signs SAS
#: tokens for: recent, served by Azure and by Azurite 3.34 and later.
STORAGE_API_VERSION = "2025-01-05"


# The standard headers of the string to sign, in order, after the verb.
_SIGNED_HEADERS = (
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-MD5",
    "Content-Type",
    "Date",
    "If-Modified-Since",
    "If-Match",
    "If-None-Match",
    "If-Unmodified-Since",
    "Range",
)
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")
# Sorts "_" before every other character of a header name (see canonicalized_headers).
_UNDERSCORE_FIRST = str.maketrans({"_": "\x00"})


def decode_account_key(secret: object) -> bytes:
    """
    Decode an account key as the Azure portal shows it (base64).

    :raises InvalidArgumentError: if *secret* is not base64 text; the
        message never quotes it.
    """
    if not isinstance(secret, str) or not secret:
        raise InvalidArgumentError("the account key must be a non-empty base64 string")
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("the account key is not valid base64") from None


def check_account_name(account: object) -> str:
    """
    Refuse a storage account name Azure cannot have.

    :raises InvalidArgumentError: unless it is 3 to 24 lower case letters
        and digits.
    """
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise InvalidArgumentError(
            f"Invalid storage account name {account!r}: it must be 3 to 24 lower case "
            "letters and digits"
        )
    return account


def http_date(seconds: float) -> str:
    """*seconds* as an HTTP date (``Sun, 11 Oct 2009 21:49:13 GMT``), for ``x-ms-date``."""
    return formatdate(seconds, usegmt=True)


def _header_order(pair: tuple[str, str]) -> str:
    return pair[0].translate(_UNDERSCORE_FIRST)


def canonicalized_headers(headers: Mapping[str, str]) -> str:
    """
    The ``x-ms-*`` headers as they are signed: names in lower case, sorted
    as Azure sorts them, each ``name:value`` (value without surrounding
    whitespace) and a newline.

    Azure compares names as .NET's culture-aware comparison does (and
    Azurite as JavaScript's ``localeCompare``): for the characters header
    names have, that is code-point order except that ``_`` comes before
    digits (``x-ms-meta-a_b`` before ``x-ms-meta-a1``).
    """
    signed = sorted(
        (
            (name.lower(), value.strip())
            for name, value in headers.items()
            if name.lower().startswith("x-ms-")
        ),
        key=_header_order,
    )
    return "".join(f"{name}:{value}\n" for name, value in signed)


def canonicalized_resource(url: str, account: str) -> str:
    """
    The resource a request is signed for: ``/account`` and the URL's path as
    sent, then each query parameter on its own line as ``name:value`` (names
    in lower case and sorted, values decoded, several values sorted and
    joined with commas).
    """
    parts = urlsplit(url)
    resource = f"/{account}{parts.path or '/'}"
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        values.setdefault(name.lower(), []).append(value)
    return resource + "".join(
        f"\n{name}:{','.join(sorted(values[name]))}" for name in sorted(values)
    )


def string_to_sign(method: str, url: str, headers: Mapping[str, str], account: str) -> str:
    """
    The Shared Key string to sign for a request.

    :param headers: the request's headers as they will be sent (a
        case-insensitive mapping such as :class:`~txcloud.http.HeaderMap`,
        or a dict with the names Azure uses), including ``Content-Length``
        when there is a body; a length of ``0`` is signed as empty.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = [method.upper()]
    for name in _SIGNED_HEADERS:
        value = lowered.get(name.lower(), "").strip()
        if name == "Content-Length" and value == "0":
            value = ""
        lines.append(value)
    return (
        "\n".join(lines)
        + "\n"
        + canonicalized_headers(headers)
        + canonicalized_resource(url, account)
    )


def hmac_base64(key: bytes, text: str) -> str:
    """The base64 HMAC-SHA256 of *text* under *key*: how Azure signs every string."""
    digest = hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def shared_key_authorization(
    method: str, url: str, headers: Mapping[str, str], account: str, key: bytes
) -> str:
    """
    The ``Authorization`` header value of a request signed with Shared Key.

    :param key: the decoded account key (see :func:`decode_account_key`).
    :returns: ``"SharedKey account:signature"``.
    """
    signature = hmac_base64(key, string_to_sign(method, url, headers, account))
    return f"SharedKey {account}:{signature}"


def sign_request(
    request: Request,
    account: str,
    key: bytes,
    now: float,
    version: str = STORAGE_API_VERSION,
) -> Request:
    """
    Sign *request* with Shared Key, setting ``x-ms-date`` (from *now*),
    ``x-ms-version`` and ``Authorization``.

    The request must carry its ``Content-Length`` header when it has a body
    (the transport sends the length the body producer gives).
    """
    dated = request.with_headers({"x-ms-date": http_date(now), "x-ms-version": version})
    authorization = shared_key_authorization(
        dated.method, dated.full_url, dated.headers, account, key
    )
    return dated.with_headers({"Authorization": authorization})
