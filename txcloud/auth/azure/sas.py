"""
Azure Storage shared access signatures (SAS), as pure functions of plain values.

:func:`blob_service_sas` and :func:`account_sas` make SAS tokens from the
account key, in the form of version 2020-12-06 and later;
:func:`parse_sas_token` checks a token given by a user and
:func:`apply_sas_token` puts it on a :class:`~txcloud.http.Request` instead
of a signature.  Time is a POSIX timestamp (``reactor.seconds()``).  Keys and
tokens never appear in errors.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlencode

from txcloud.auth.azure.shared_key import STORAGE_API_VERSION, hmac_base64
from txcloud.errors import InvalidArgumentError
from txcloud.http import Request

__all__ = [
    "ACCOUNT_SAS_PERMISSIONS",
    "BLOB_SAS_PERMISSIONS",
    "account_sas",
    "apply_sas_token",
    "blob_service_sas",
    "parse_sas_token",
    "sas_time",
]

#: Permissions of a blob or container SAS, in the order Azure requires.
BLOB_SAS_PERMISSIONS = "racwdxyltmeopi"
#: Permissions of an account SAS, in the order Azure requires.
ACCOUNT_SAS_PERMISSIONS = "rwdxylacuptfi"

_SAS_TIME = "%Y-%m-%dT%H:%M:%SZ"
_PROTOCOLS = ("https", "https,http")
# A SAS token carries at least its version, its signature and what it grants.
_REQUIRED_SAS_PARAMS = ("sv", "sig", "sp")


def sas_time(seconds: float) -> str:
    """*seconds* as a SAS start or expiry time (``2009-10-11T21:49:13Z``)."""
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime(_SAS_TIME)


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
    return _encode([*params, ("sig", hmac_base64(key, signed))])


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
    return _encode([*params, ("sig", hmac_base64(key, signed))])


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
