"""
Azure Storage authorisation, as pure functions of plain values.

* :func:`shared_key_authorization` computes the ``Authorization:
  SharedKey account:signature`` header of a request (the "Shared Key"
  scheme of Blob, Queue and File services, version 2009-09-19 and later);
  :func:`sign_request` adds it, with ``x-ms-date`` and ``x-ms-version``, to
  a :class:`~txcloud.http.Request`.
* :func:`blob_service_sas` and :func:`account_sas` make shared access
  signatures (SAS tokens) from the account key, in the form of version
  2020-12-06 and later; :func:`parse_sas_token` checks a token given by a
  user and :func:`apply_sas_token` puts it on a request instead of a
  signature.

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
from datetime import datetime, timezone
from email.utils import formatdate
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from txcloud.errors import InvalidArgumentError
from txcloud.http import Request

__all__ = [
    "BLOB_SAS_PERMISSIONS",
    "STORAGE_API_VERSION",
    "account_sas",
    "apply_sas_token",
    "blob_service_sas",
    "canonicalized_headers",
    "canonicalized_resource",
    "check_account_name",
    "decode_account_key",
    "http_date",
    "parse_sas_token",
    "sas_time",
    "shared_key_authorization",
    "sign_request",
    "string_to_sign",
]

#: The REST API version txcloud speaks (``x-ms-version``) and signs SAS
#: tokens for: recent, served by Azure and by Azurite 3.34 and later.
STORAGE_API_VERSION = "2025-01-05"

#: Permissions of a blob or container SAS, in the order Azure requires.
BLOB_SAS_PERMISSIONS = "racwdxyltmeopi"
#: Permissions of an account SAS, in the order Azure requires.
ACCOUNT_SAS_PERMISSIONS = "rwdxylacuptfi"

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
_SAS_TIME = "%Y-%m-%dT%H:%M:%SZ"
_PROTOCOLS = ("https", "https,http")
# A SAS token carries at least its version, its signature and what it grants.
_REQUIRED_SAS_PARAMS = ("sv", "sig", "sp")


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


def sas_time(seconds: float) -> str:
    """*seconds* as a SAS start or expiry time (``2009-10-11T21:49:13Z``)."""
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime(_SAS_TIME)


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


def _hmac_base64(key: bytes, text: str) -> str:
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
    signature = _hmac_base64(key, string_to_sign(method, url, headers, account))
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


def _ordered_permissions(permissions: str, allowed: str) -> str:
    if not isinstance(permissions, str) or not permissions:
        raise InvalidArgumentError(f"SAS permissions must be some of {allowed!r}")
    unknown = set(permissions) - set(allowed)
    if unknown:
        raise InvalidArgumentError(
            f"unknown SAS permissions {''.join(sorted(unknown))!r} (allowed: {allowed!r})"
        )
    return "".join(letter for letter in allowed if letter in permissions)


def _check_window(start: float | None, expiry: float) -> None:
    if start is not None and start >= expiry:
        raise InvalidArgumentError("a SAS must start before it expires")


def _check_protocol(protocol: str) -> None:
    if protocol not in _PROTOCOLS:
        raise InvalidArgumentError(f"protocol must be one of {_PROTOCOLS}, not {protocol!r}")


def _encode(params: list[tuple[str, str]]) -> str:
    return urlencode([(name, value) for name, value in params if value], quote_via=quote)


def blob_service_sas(
    account: str,
    key: bytes,
    container: str,
    blob: str | None = None,
    *,
    permissions: str,
    expiry: float,
    start: float | None = None,
    ip: str | None = None,
    protocol: str = "https",
    version: str = STORAGE_API_VERSION,
    identifier: str | None = None,
) -> str:
    """
    A service SAS granting *permissions* on one blob (``sr=b``) or, without
    *blob*, on a container and its blobs (``sr=c``).

    :param container: the container's name.
    :param blob: the blob's name (not percent-encoded).
    :param permissions: letters of :data:`BLOB_SAS_PERMISSIONS`
        (``"r"``: read, ``"cw"``: create and write, ``"l"``: list...), in any
        order.
    :param expiry: when the token stops working (POSIX seconds).
    :param start: when it starts working; at once when ``None``.
    :param ip: an address or ``"from-to"`` range the requests must come from.
    :param protocol: ``"https"`` or ``"https,http"``.
    :param identifier: a stored access policy of the container to tie it to.
    :returns: the token as a query string (without ``?``).
    :raises InvalidArgumentError: for unknown permissions, a protocol other
        than those, or a start after the expiry.
    """
    ordered = _ordered_permissions(permissions, BLOB_SAS_PERMISSIONS)
    _check_window(start, expiry)
    _check_protocol(protocol)
    resource = "b" if blob else "c"
    canonical = f"/blob/{account}/{container}" + (f"/{blob}" if blob else "")
    values = {
        "sp": ordered,
        "st": "" if start is None else sas_time(start),
        "se": sas_time(expiry),
        "si": identifier or "",
        "sip": ip or "",
        "spr": protocol,
        "sv": version,
        "sr": resource,
    }
    signed = "\n".join(
        [
            values["sp"],
            values["st"],
            values["se"],
            canonical,
            values["si"],
            values["sip"],
            values["spr"],
            values["sv"],
            values["sr"],
            "",  # snapshot time
            "",  # encryption scope
            "",  # rscc: Cache-Control override
            "",  # rscd: Content-Disposition override
            "",  # rsce: Content-Encoding override
            "",  # rscl: Content-Language override
            "",  # rsct: Content-Type override
        ]
    )
    order = ("sv", "st", "se", "sr", "sp", "si", "sip", "spr")
    params = [(name, values[name]) for name in order]
    return _encode([*params, ("sig", _hmac_base64(key, signed))])


def account_sas(
    account: str,
    key: bytes,
    *,
    permissions: str,
    expiry: float,
    resource_types: str = "sco",
    services: str = "b",
    start: float | None = None,
    ip: str | None = None,
    protocol: str = "https",
    version: str = STORAGE_API_VERSION,
) -> str:
    """
    An account SAS granting *permissions* on the account's *services*.

    :param permissions: letters of ``"rwdxylacuptfi"`` (read, write,
        delete, list, add, create...), in any order.
    :param resource_types: some of ``"s"`` (service: list containers),
        ``"c"`` (containers) and ``"o"`` (objects).
    :param services: some of ``"b"`` (blobs), ``"q"``, ``"t"``, ``"f"``.
    :returns: the token as a query string (without ``?``); other arguments
        are as for :func:`blob_service_sas`.
    """
    ordered = _ordered_permissions(permissions, ACCOUNT_SAS_PERMISSIONS)
    types = _ordered_permissions(resource_types, "sco")
    chosen = _ordered_permissions(services, "bfqt")
    _check_window(start, expiry)
    _check_protocol(protocol)
    st = "" if start is None else sas_time(start)
    se = sas_time(expiry)
    # Since 2020-12-06 the encryption scope is signed, and a newline ends the string.
    signed = "\n".join(
        [account, ordered, chosen, types, st, se, ip or "", protocol, version, "", ""]
    )
    params = [
        ("sv", version),
        ("ss", chosen),
        ("srt", types),
        ("sp", ordered),
        ("st", st),
        ("se", se),
        ("sip", ip or ""),
        ("spr", protocol),
    ]
    return _encode([*params, ("sig", _hmac_base64(key, signed))])


def parse_sas_token(token: object) -> tuple[tuple[str, str], ...]:
    """
    Check a SAS token (the query string of a SAS URL, with or without ``?``).

    :returns: its parameters, decoded, in order.
    :raises InvalidArgumentError: if it is not a query string carrying a
        version (``sv``), permissions (``sp``) and a signature (``sig``);
        the message never quotes the token.
    """
    if not isinstance(token, str) or not token.strip().lstrip("?"):
        raise InvalidArgumentError("a SAS token must be a non-empty query string")
    try:
        params = tuple(
            parse_qsl(token.strip().lstrip("?"), keep_blank_values=True, strict_parsing=True)
        )
    except ValueError:
        raise InvalidArgumentError("the SAS token is not a query string") from None
    names = {name for name, _ in params}
    missing = [name for name in _REQUIRED_SAS_PARAMS if name not in names]
    if missing:
        raise InvalidArgumentError(
            f"the SAS token has no {', '.join(missing)} parameter: "
            "give the query string of a SAS URL"
        )
    return params


def apply_sas_token(
    request: Request,
    params: tuple[tuple[str, str], ...],
    version: str = STORAGE_API_VERSION,
) -> Request:
    """
    Authorise *request* with a SAS token (see :func:`parse_sas_token`)
    instead of a signature: the token's parameters go in the query, and
    ``x-ms-version`` in the headers.
    """
    return request.with_headers({"x-ms-version": version}).with_params(params)
