"""
AWS Signature Version 4, as pure functions of plain values.

* :func:`sign_headers` signs a request with the ``Authorization`` header;
* :func:`presign_url` signs a URL with query parameters;
* :class:`ChunkSigner` signs an S3 body sent in chunks
  (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``).

``url`` arguments are the URL as it will be sent: scheme, host, optional
port, path and query. For S3 the path may be given raw or percent-encoded,
since S3 decodes it and encodes each segment once. Other services encode the
path as received once more ("double encoding"), so their URLs must be given
exactly as sent, percent-encoded. In the query, ``+`` is a literal plus: write
a space as ``%20``. Time is a POSIX timestamp (``reactor.seconds()``).

The signing key derived from the secret is cached per (secret, date, region,
service); it is never logged and the cache never holds the secret itself.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

import attrs

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.errors import InvalidArgumentError

ALGORITHM = "AWS4-HMAC-SHA256"
#: Payload hash of a request whose body is not signed (S3 only).
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: Payload hash of an S3 body sent in signed chunks (see :class:`ChunkSigner`).
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#: Longest lifetime of a presigned URL, in seconds (seven days).
MAX_PRESIGN_EXPIRES = 604800
#: Smallest chunk S3 accepts in a chunked upload, except the last one.
MIN_CHUNK_SIZE = 8192

_CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
_CHUNK_SIGNATURE_FIELD = ";chunk-signature="
# Headers a client or proxy may rewrite in transit, and the one that holds
# the signature itself: signing them would break the signature.
_UNSIGNED_HEADERS = frozenset({"authorization", "expect", "user-agent", "x-amzn-trace-id"})
# Headers whose value the signer decides; a caller's copy is replaced.
_SIGNER_HEADERS = frozenset({"x-amz-content-sha256", "x-amz-date", "x-amz-security-token"})
_PRESIGN_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SCOPE_PART = re.compile(r"[A-Za-z0-9._-]+")
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    ALGORITHM + r" Credential=[^/]+/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=[^,]+, Signature=([0-9a-f]{64})"
)


def sha256_hex(data: bytes) -> str:
    """
    Hash a payload for signing.

    :param data: the request body (or a chunk of it).
    :returns: the lowercase hex SHA-256 digest.
    """
    return hashlib.sha256(data).hexdigest()


#: Payload hash of an empty body.
EMPTY_SHA256 = sha256_hex(b"")


def canonical_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_hash: str,
    *,
    double_encode: bool = True,
    normalize_path: bool = True,
) -> str:
    """
    Build the canonical request SigV4 signs, for debugging a refused signature.

    S3 returns its own canonical request in a ``SignatureDoesNotMatch``
    error; compare it with this. Every header given is included, and
    ``host`` is derived from the URL when absent.

    :param method: the HTTP method.
    :param url: the URL as it will be sent.
    :param headers: the headers to sign.
    :param payload_hash: the hex SHA-256 of the body, or a payload constant.
    :param double_encode: encode the path again, as every service but S3 does.
    :param normalize_path: remove ``.``/``..`` and empty path segments, as
        every service but S3 does.
    :returns: the canonical request text.
    :raises txcloud.errors.InvalidArgumentError: if an argument is malformed.
    """
    verb = _check_method(method)
    _check_payload_hash(payload_hash)
    target = _parse_url(url)
    text, _ = _canonical_request(
        verb,
        _canonical_path(target.path, double_encode, normalize_path),
        _canonical_query(target.query),
        _with_host(_header_pairs(headers), target.host),
        payload_hash,
    )
    return text


def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_hash: str,
    credentials: AWSCredentials,
    region: str,
    service: str,
    timestamp: float,
    *,
    include_content_sha256: bool | None = None,
    double_encode: bool | None = None,
    normalize_path: bool | None = None,
) -> dict[str, str]:
    """
    Sign a request with the ``Authorization`` header.

    Every header given is signed except ``Authorization``, ``Expect``,
    ``User-Agent`` and ``X-Amzn-Trace-Id``. ``Host`` is derived from the URL
    (without a default port) when absent, and must then be sent the same
    way, as Twisted's ``Agent`` does. The returned headers replace any of the
    same names given.

    :param method: the HTTP method.
    :param url: the URL as it will be sent.
    :param headers: the headers that will be sent.
    :param payload_hash: the :func:`sha256_hex` of the body,
        :data:`UNSIGNED_PAYLOAD` or :data:`STREAMING_PAYLOAD`.
    :param credentials: the credentials to sign with.
    :param region: the signing region (``us-east-1``...).
    :param service: the signing service name (``s3``, ``ec2``, ``iam``...).
    :param timestamp: the POSIX time of the request.
    :param include_content_sha256: send and sign ``X-Amz-Content-Sha256``;
        by default only for S3, which requires it.
    :param double_encode: encode the path again; by default for every
        service but S3.
    :param normalize_path: remove ``.``/``..`` and empty path segments; by
        default for every service but S3.
    :returns: the headers to add: ``Authorization``, ``X-Amz-Date``, and
        ``X-Amz-Content-Sha256`` and ``X-Amz-Security-Token`` when they apply.
    :raises txcloud.errors.InvalidArgumentError: if an argument is malformed.
    """
    verb = _check_method(method)
    _check_payload_hash(payload_hash)
    _check_credentials(credentials)
    scope = _Scope.at(timestamp, region, service)
    target = _parse_url(url)
    s3 = service == "s3"
    added = {"X-Amz-Date": scope.amz_date}
    send_content_sha256 = s3 if include_content_sha256 is None else include_content_sha256
    if send_content_sha256:
        added["X-Amz-Content-Sha256"] = payload_hash
    if credentials.session_token is not None:
        added["X-Amz-Security-Token"] = credentials.session_token
    pairs = [
        (name, value)
        for name, value in _header_pairs(headers)
        if name.lower() not in _UNSIGNED_HEADERS and name.lower() not in _SIGNER_HEADERS
    ]
    text, signed_headers = _canonical_request(
        verb,
        _canonical_path(target.path, _unless_s3(double_encode, s3), _unless_s3(normalize_path, s3)),
        _canonical_query(target.query),
        [*_with_host(pairs, target.host), *added.items()],
        payload_hash,
    )
    signature = _sign(credentials, scope, text)
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope.credential_scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return added


def presign_url(
    method: str,
    url: str,
    credentials: AWSCredentials,
    region: str,
    service: str,
    timestamp: float,
    expires: int = 3600,
    extra_params: Mapping[str, str] | None = None,
    *,
    double_encode: bool | None = None,
    normalize_path: bool | None = None,
) -> str:
    """
    Sign a URL with query parameters, so that anyone holding it may use it.

    Only ``host`` is signed. The payload is ``UNSIGNED-PAYLOAD`` for S3 and
    the hash of an empty body for other services.

    :param method: the HTTP method the URL is for.
    :param url: the URL to sign; its query parameters are kept and signed.
    :param credentials: the credentials to sign with.
    :param region: the signing region.
    :param service: the signing service name.
    :param timestamp: the POSIX time the URL becomes valid.
    :param expires: seconds the URL stays valid, 1 to 604800.
    :param extra_params: more query parameters to add and sign
        (``response-content-type``...).
    :param double_encode: as for :func:`sign_headers`.
    :param normalize_path: as for :func:`sign_headers`.
    :returns: the presigned URL.
    :raises txcloud.errors.InvalidArgumentError: if an argument is malformed,
        ``expires`` is out of range, or a parameter would override one of the
        ``X-Amz-*`` parameters the signature sets.
    """
    verb = _check_method(method)
    _check_credentials(credentials)
    scope = _Scope.at(timestamp, region, service)
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise InvalidArgumentError("expires must be an integer number of seconds")
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise InvalidArgumentError(f"expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds")
    target = _parse_url(url)
    params = [*_query_pairs(target.query), *(extra_params or {}).items()]
    for name, _ in params:
        if name in _PRESIGN_PARAMS:
            raise InvalidArgumentError(f"query parameter {name} is set by the signature")
    params += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key}/{scope.credential_scope}"),
        ("X-Amz-Date", scope.amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.session_token is not None:
        params.append(("X-Amz-Security-Token", credentials.session_token))
    s3 = service == "s3"
    double = _unless_s3(double_encode, s3)
    path = _canonical_path(target.path, double, _unless_s3(normalize_path, s3))
    query = _canonical_query_from_pairs(params)
    text, _ = _canonical_request(
        verb, path, query, [("host", target.host)], UNSIGNED_PAYLOAD if s3 else EMPTY_SHA256
    )
    # Single-encoded services get their canonical (fully encoded) path in the
    # URL; double-encoded ones must receive the path exactly as signed over.
    sent_path = (target.path or "/") if double else path
    signature = _sign(credentials, scope, text)
    return f"{target.scheme}://{target.netloc}{sent_path}?{query}&X-Amz-Signature={signature}"


def chunk_signature(
    credentials: AWSCredentials,
    region: str,
    service: str,
    timestamp: float,
    previous_signature: str,
    chunk_data: bytes,
) -> str:
    """
    Sign one chunk of an S3 chunked upload.

    :param credentials: the credentials that signed the request.
    :param region: the request's signing region.
    :param service: the request's signing service name.
    :param timestamp: the request's POSIX time (the seed signature's).
    :param previous_signature: the previous chunk's signature, or the seed
        signature (the request's) for the first chunk.
    :param chunk_data: the chunk's bytes (empty for the final chunk).
    :returns: the chunk's hex signature.
    :raises txcloud.errors.InvalidArgumentError: if an argument is malformed.
    """
    _check_credentials(credentials)
    _check_signature(previous_signature)
    return _chunk_signature(
        credentials, _Scope.at(timestamp, region, service), previous_signature, chunk_data
    )


def streaming_content_length(decoded_length: int, chunk_size: int) -> int:
    """
    Compute the ``Content-Length`` of a body sent in signed chunks.

    :param decoded_length: the object's size in bytes (the value of
        ``x-amz-decoded-content-length``).
    :param chunk_size: the size of every chunk but the last, at least
        :data:`MIN_CHUNK_SIZE`.
    :returns: the encoded body's size, chunk framing and final chunk included.
    :raises txcloud.errors.InvalidArgumentError: if a size is out of range.
    """
    if isinstance(decoded_length, bool) or not isinstance(decoded_length, int):
        raise InvalidArgumentError("decoded_length must be an integer")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise InvalidArgumentError("chunk_size must be an integer")
    if decoded_length < 0:
        raise InvalidArgumentError("decoded_length must not be negative")
    if chunk_size < MIN_CHUNK_SIZE:
        raise InvalidArgumentError(f"chunk_size must be at least {MIN_CHUNK_SIZE} bytes")
    full, rest = divmod(decoded_length, chunk_size)
    length = full * _framed_length(chunk_size) + _framed_length(0)
    return length + (_framed_length(rest) if rest else 0)


class ChunkSigner:
    """
    Sign an S3 body chunk by chunk (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``).

    Sign the request first with :func:`sign_headers` and
    ``payload_hash=STREAMING_PAYLOAD``; its signature is the seed. The
    request must also carry ``Content-Encoding: aws-chunked``, the object's
    size in ``x-amz-decoded-content-length`` (S3 requires it in every chunked
    upload) and either the encoded size in ``Content-Length`` (see
    :func:`streaming_content_length`) or a ``Transfer-Encoding``. Then send
    :meth:`sign_chunk` for each chunk (all but the last at least
    :data:`MIN_CHUNK_SIZE` bytes) and finish with :meth:`final_chunk`. Each
    chunk's signature covers the previous one, so chunks must be signed in
    the order they are sent.

    :param seed_signature: the request's signature.
    :param credentials: the credentials that signed the request.
    :param region: the request's signing region.
    :param service: the request's signing service name.
    :param timestamp: the request's POSIX time.
    :raises txcloud.errors.InvalidArgumentError: if an argument is malformed.
    """

    def __init__(
        self,
        seed_signature: str,
        credentials: AWSCredentials,
        region: str,
        service: str,
        timestamp: float,
    ) -> None:
        _check_credentials(credentials)
        _check_signature(seed_signature)
        self._credentials = credentials
        self._scope = _Scope.at(timestamp, region, service)
        self._previous = seed_signature
        self._finished = False

    @classmethod
    def from_signed_headers(
        cls, signed_headers: Mapping[str, str], credentials: AWSCredentials
    ) -> ChunkSigner:
        """
        Start signing the chunks of a request signed by :func:`sign_headers`.

        The seed signature, time, region and service are read from the
        headers, so they cannot disagree with the request's.

        :param signed_headers: the headers :func:`sign_headers` returned.
        :param credentials: the credentials that signed the request.
        :returns: a signer for the request's chunks.
        :raises txcloud.errors.InvalidArgumentError: if the headers are not
            those of a request signed for a chunked upload.
        """
        lowered = {name.lower(): value for name, value in signed_headers.items()}
        if lowered.get("x-amz-content-sha256") != STREAMING_PAYLOAD:
            raise InvalidArgumentError(f"the request was not signed with {STREAMING_PAYLOAD}")
        match = _AUTHORIZATION.fullmatch(lowered.get("authorization", ""))
        amz_date = lowered.get("x-amz-date", "")
        if match is None or not amz_date.startswith(match[1]):
            raise InvalidArgumentError("the Authorization or X-Amz-Date header is malformed")
        try:
            when = datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise InvalidArgumentError("the X-Amz-Date header is malformed") from None
        return cls(match[4], credentials, match[2], match[3], when.timestamp())

    @property
    def previous_signature(self) -> str:
        """The signature the next chunk's signature will cover."""
        return self._previous

    def sign_chunk(self, data: bytes) -> bytes:
        """
        Sign and frame one chunk of data.

        :param data: the chunk's bytes; not empty (the empty chunk ends the
            body and is sent by :meth:`final_chunk`).
        :returns: ``hex(len);chunk-signature=<signature>\\r\\n<data>\\r\\n``.
        :raises txcloud.errors.InvalidArgumentError: if ``data`` is empty or
            the final chunk was already signed.
        """
        if not data:
            raise InvalidArgumentError("an empty chunk ends the body: use final_chunk()")
        return self._frame(data)

    def final_chunk(self) -> bytes:
        """
        Sign and frame the zero-length chunk that ends the body.

        :returns: ``0;chunk-signature=<signature>\\r\\n\\r\\n``.
        :raises txcloud.errors.InvalidArgumentError: if it was already signed.
        """
        framed = self._frame(b"")
        self._finished = True
        return framed

    def _frame(self, data: bytes) -> bytes:
        if self._finished:
            raise InvalidArgumentError("the final chunk was already signed")
        self._previous = _chunk_signature(self._credentials, self._scope, self._previous, data)
        head = f"{len(data):x}{_CHUNK_SIGNATURE_FIELD}{self._previous}\r\n".encode("ascii")
        return head + data + b"\r\n"


@attrs.frozen
class _Scope:
    """When, where and for what a signature is valid."""

    amz_date: str
    region: str
    service: str

    @classmethod
    def at(cls, timestamp: float, region: str, service: str) -> _Scope:
        if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
            raise InvalidArgumentError("timestamp must be a POSIX time in seconds")
        if not math.isfinite(timestamp) or timestamp < 0:
            raise InvalidArgumentError("timestamp must be a finite, non-negative POSIX time")
        try:
            when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InvalidArgumentError("timestamp is out of range") from None
        for label, value in (("region", region), ("service", service)):
            if not isinstance(value, str) or not _SCOPE_PART.fullmatch(value):
                raise InvalidArgumentError(f"{label} must be a non-empty name like 'us-east-1'")
        return cls(when.strftime(_AMZ_DATE_FORMAT), region, service)

    @property
    def date(self) -> str:
        return self.amz_date[:8]

    @property
    def credential_scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@attrs.frozen
class _Target:
    """The parts of a URL that SigV4 reads."""

    scheme: str
    netloc: str
    host: str
    path: str
    query: str


class _SigningKeyCache:
    """A small LRU cache of derived signing keys, keyed by a digest of the secret."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[bytes, str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, secret: str, scope: _Scope) -> bytes:
        # A digest, so the cache never holds the secret itself.
        cache_key = (
            hashlib.sha256(secret.encode("utf-8")).digest(),
            scope.date,
            scope.region,
            scope.service,
        )
        with self._lock:
            key = self._keys.get(cache_key)
            if key is not None:
                self._keys.move_to_end(cache_key)
                return key
        key = _hmac(("AWS4" + secret).encode("utf-8"), scope.date)
        for part in (scope.region, scope.service, "aws4_request"):
            key = _hmac(key, part)
        with self._lock:
            self._keys[cache_key] = key
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key


_signing_keys = _SigningKeyCache(size=64)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _sign(credentials: AWSCredentials, scope: _Scope, text: str) -> str:
    string_to_sign = "\n".join(
        (ALGORITHM, scope.amz_date, scope.credential_scope, sha256_hex(text.encode("utf-8")))
    )
    key = _signing_keys.get(credentials.secret_key, scope)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _chunk_signature(
    credentials: AWSCredentials, scope: _Scope, previous_signature: str, data: bytes
) -> str:
    string_to_sign = "\n".join(
        (
            _CHUNK_ALGORITHM,
            scope.amz_date,
            scope.credential_scope,
            previous_signature,
            EMPTY_SHA256,
            sha256_hex(data),
        )
    )
    key = _signing_keys.get(credentials.secret_key, scope)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _unless_s3(flag: bool | None, s3: bool) -> bool:
    # Path encoding and normalization: S3 is the one service that skips them.
    return not s3 if flag is None else flag


def _framed_length(size: int) -> int:
    return len(f"{size:x}") + len(_CHUNK_SIGNATURE_FIELD) + 64 + 2 + size + 2


def _canonical_request(
    method: str, path: str, query: str, headers: Iterable[tuple[str, str]], payload_hash: str
) -> tuple[str, str]:
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        # Repeated headers are signed as one, their values joined by commas;
        # runs of whitespace collapse because proxies may fold them.
        merged.setdefault(name.lower(), []).append(" ".join(value.split()))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    signed_headers = ";".join(names)
    return "\n".join((method, path, query, block, signed_headers, payload_hash)), signed_headers


def _canonical_path(path: str, double_encode: bool, normalize: bool) -> str:
    if normalize:
        path = _remove_dot_segments(path)
    if double_encode:
        # The path as sent is already encoded once; this is the second time.
        return "/".join(_uri_encode(segment) for segment in (path or "/").split("/"))
    return "/".join(_uri_encode(unquote_to_bytes(segment)) for segment in (path or "/").split("/"))


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    trailing = "/" if kept and path.endswith("/") else ""
    return "/" + "/".join(kept) + trailing


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            pairs.append((unquote(name, errors="strict"), unquote(value, errors="strict")))
        except UnicodeDecodeError:
            raise InvalidArgumentError("the query string is not percent-encoded UTF-8") from None
    return pairs


def _canonical_query(query: str) -> str:
    return _canonical_query_from_pairs(_query_pairs(query))


def _canonical_query_from_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((_uri_encode(name), _uri_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _uri_encode(value: str | bytes) -> str:
    # quote() leaves exactly RFC 3986's unreserved characters alone when
    # nothing else is marked safe, and writes uppercase hex, as SigV4 wants.
    return quote(value, safe="")


def _header_pairs(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HTTP_TOKEN.fullmatch(name):
            raise InvalidArgumentError(f"header name {name!r} is not a valid HTTP token")
        # The value is never quoted: it may be a secret.
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise InvalidArgumentError(f"header {name} must be a string without line breaks")
        pairs.append((name, value))
    return pairs


def _with_host(pairs: list[tuple[str, str]], host: str) -> list[tuple[str, str]]:
    if any(name.lower() == "host" for name, _ in pairs):
        return pairs
    return [("host", host), *pairs]


def _parse_url(url: str) -> _Target:
    if not isinstance(url, str):
        raise InvalidArgumentError("url must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgumentError("url is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidArgumentError("url must be an absolute http or https URL")
    if "@" in parts.netloc:
        raise InvalidArgumentError("url must not carry user information")
    host = parts.netloc
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        host = host.rpartition(":")[0]
    return _Target(scheme, parts.netloc, host, parts.path, parts.query)


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not _HTTP_TOKEN.fullmatch(method):
        raise InvalidArgumentError("method must be an HTTP method name")
    return method.upper()


def _check_payload_hash(payload_hash: str) -> None:
    if payload_hash in (UNSIGNED_PAYLOAD, STREAMING_PAYLOAD):
        return
    if not isinstance(payload_hash, str) or not _HEX_SIGNATURE.fullmatch(payload_hash):
        raise InvalidArgumentError(
            "payload_hash must be a lowercase hex SHA-256 (see sha256_hex), "
            "UNSIGNED_PAYLOAD or STREAMING_PAYLOAD"
        )


def _check_signature(signature: str) -> None:
    if not isinstance(signature, str) or not _HEX_SIGNATURE.fullmatch(signature):
        raise InvalidArgumentError("a signature must be 64 lowercase hex characters")


def _check_credentials(credentials: AWSCredentials) -> None:
    if not isinstance(credentials, AWSCredentials):
        raise InvalidArgumentError("credentials must be an AWSCredentials")
