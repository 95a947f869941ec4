"""
What the providers of temporary credentials share: a transport for the few
requests they send (no persistent connections: one call an hour needs
none, and nothing is left open), reading the credentials documents of
IMDS, container endpoints and ``credential_process``, and times.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from twisted.web.client import HTTPConnectionPool

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.errors import InvalidCredsError, TxCloudError
from txcloud.http import ErrorMapper, HTTPTransport, RetryPolicy, TLSOptions


def one_shot_transport(
    reactor: Any,
    description: str,
    *,
    timeout: float,
    attempts: int = 3,
    ca_file: str | None = None,
    agent: Any = None,
    error_mapper: ErrorMapper | None = None,
) -> HTTPTransport:
    """
    A transport whose connections close after each response.

    :param description: what it talks to, named in logs and errors.
    :param agent: an ``IAgent`` to send through instead (tests).
    """
    if agent is not None:
        return HTTPTransport(
            reactor=reactor,
            agent=agent,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=attempts),
            error_mapper=error_mapper,
            driver=description,
        )
    return HTTPTransport(
        reactor=reactor,
        pool=HTTPConnectionPool(reactor, persistent=False),
        timeout=timeout,
        retry=RetryPolicy(max_attempts=attempts),
        tls=TLSOptions(ca_file=ca_file),
        error_mapper=error_mapper,
        driver=description,
    )


def parse_timestamp(text: Any, what: str) -> float:
    """
    An ISO 8601 time (``2026-01-02T03:04:05Z``) as a POSIX time.

    :raises InvalidCredsError: naming *what* when *text* is no such time.
    """
    if not isinstance(text, str):
        raise InvalidCredsError(f"{what} gave no valid expiration time")
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.10 reads at most six fractional digits.
    head, dot, rest = value.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCredsError(f"{what} gave no valid expiration time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def credentials_from_document(
    document: Any, what: str, token_field: str = "Token", required_version: int | None = None
) -> AWSCredentials:
    """
    Credentials from the JSON document IMDS, container endpoints and
    ``credential_process`` share (``AccessKeyId``, ``SecretAccessKey``, the
    token under *token_field*, an optional ISO 8601 ``Expiration``).

    :param what: the source, named in errors (which never quote the document).
    :param required_version: the ``Version`` the document must state.
    :raises InvalidCredsError: when the document is not such credentials.
    """
    if not isinstance(document, Mapping):
        raise InvalidCredsError(f"{what} gave something other than a JSON object")
    if required_version is not None and document.get("Version") != required_version:
        raise InvalidCredsError(f'{what} gave a document without "Version": {required_version}')
    key, secret = document.get("AccessKeyId"), document.get("SecretAccessKey")
    if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
        raise InvalidCredsError(f"{what} gave no AccessKeyId and SecretAccessKey")
    token = document.get(token_field) or None
    if token is not None and not isinstance(token, str):
        raise InvalidCredsError(f"{what} gave a {token_field} that is not a string")
    expiration = document.get("Expiration")
    expires_at = None if expiration is None else parse_timestamp(expiration, what)
    try:
        return AWSCredentials(key, secret, token, expires_at=expires_at)
    except TxCloudError as error:
        raise InvalidCredsError(f"{what} gave unusable credentials: {error.message}") from None


def read_secret_file(path: str, what: str) -> str:
    """
    The stripped text of a small file holding a token.

    :raises InvalidCredsError: naming *what* and the path (never the
        content) when it cannot be read or is empty.
    """
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as file:
            text = file.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise InvalidCredsError(f"cannot read {what} {path}: {reason}") from None
    if not text:
        raise InvalidCredsError(f"{what} {path} is empty")
    return text
