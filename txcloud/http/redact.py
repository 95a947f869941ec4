"""
Hide secrets in headers and URLs before they reach logs, reprs or error
messages.

The rules err on the side of hiding: a header or query parameter whose name
looks like it carries a credential, a signature or a token is replaced by
:data:`REDACTED`, as is any user information in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_plus, urlsplit, urlunsplit

#: What a secret value is replaced with.
REDACTED = "<redacted>"

_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "x-api-key",
        "x-auth-token",
        # Docker sends registry credentials as base64 JSON in these.
        "x-registry-auth",
        "x-registry-config",
    }
)
# Customer-supplied encryption keys (S3 SSE-C, GCS CSEK, Azure CPK) are secrets too.
_SECRET_HEADER_WORDS = (
    "signature",
    "token",
    "secret",
    "password",
    "credential",
    "authorization",
    "encryption-key",
    "customer-key",
)

_SECRET_PARAMS = frozenset(
    {
        "sig",
        "key",
        "apikey",
        "api_key",
        "access_key",
        "secret_key",
        "awsaccesskeyid",
        # A Google resumable upload session's id authorises uploads by itself.
        "upload_id",
    }
)
_SECRET_PARAM_WORDS = ("signature", "token", "secret", "password", "credential")


def is_secret_header(name: str) -> bool:
    """
    Whether a header of this name may carry a secret.

    :param name: the header name, in any case.
    """
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or any(word in lowered for word in _SECRET_HEADER_WORDS)


def is_secret_param(name: str) -> bool:
    """
    Whether a query parameter of this name may carry a secret.

    :param name: the decoded parameter name, in any case.
    """
    lowered = name.lower()
    return lowered in _SECRET_PARAMS or any(word in lowered for word in _SECRET_PARAM_WORDS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """
    Copy *headers* with the value of every secret header replaced.

    :param headers: header names to values.
    :returns: a new dict, safe to log.
    """
    return {name: REDACTED if is_secret_header(name) else value for name, value in headers.items()}


def _redact_query(query: str) -> str:
    pieces = []
    for piece in query.split("&"):
        raw_name, equals, _ = piece.partition("=")
        if equals and is_secret_param(unquote_plus(raw_name)):
            piece = f"{raw_name}={REDACTED}"
        pieces.append(piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """
    Copy *url* with user information and secret query parameters replaced.

    Parameters are matched on their decoded names; everything else is kept
    exactly as given, so the result still points at the same resource.

    :param url: an absolute or relative URL.
    :returns: the URL, safe to log.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _redact_query(parts.query),
            _redact_query(parts.fragment),
        )
    )
