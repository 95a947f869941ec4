"""
What the providers of temporary credentials share: reading the credentials
documents of IMDS, container endpoints and ``credential_process``, secret
files, and times.  Their transport is
:func:`txcloud.auth.sources.one_shot_transport`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.errors import InvalidCredsError, TxCloudError


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
