"""
AWS credentials, and the names they go by in the environment and the shared
files.

:class:`AWSCredentials` holds an access key pair, plus a session token for
temporary credentials, and never shows the secret parts in its ``repr``.
Where they are found is the providers' business (:mod:`txcloud.auth.aws.chain`
gives the AWS SDKs' order).  Error messages say where txcloud looked, never
what it found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from txcloud.errors import InvalidCredsError

ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENV_PROFILE = "AWS_PROFILE"
ENV_CREDENTIALS_FILE = "AWS_SHARED_CREDENTIALS_FILE"
DEFAULT_PROFILE = "default"

FILE_ACCESS_KEY_ID = "aws_access_key_id"
FILE_SECRET_ACCESS_KEY = "aws_secret_access_key"
FILE_SESSION_TOKEN = "aws_session_token"


def _check_access_key(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidCredsError("the AWS access key id is missing or empty")
    # The access key id is copied into the signature's credential scope,
    # where "/" and whitespace would change its meaning.
    if "/" in value or any(c.isspace() for c in value):
        raise InvalidCredsError("the AWS access key id contains '/' or whitespace")


def _check_secret_key(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidCredsError("the AWS secret access key is missing or empty")


def _check_session_token(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value:
        raise InvalidCredsError("the AWS session token is empty; pass None for none")
    # The token travels in a header: a line break would split the request.
    if "\r" in value or "\n" in value:
        raise InvalidCredsError("the AWS session token contains a line break")


@attrs.frozen(repr=False)
class AWSCredentials:
    """
    An AWS access key pair, with a session token for temporary credentials.

    ``repr`` shows only the first four characters of the access key id and
    whether a session token is set.

    :param access_key: the access key id (``AKIA...`` or ``ASIA...``).
    :param secret_key: the secret access key.
    :param session_token: the session token of temporary credentials.
    :param expires_at: when temporary credentials expire (POSIX time), or
        ``None`` for credentials that do not.
    :raises txcloud.errors.InvalidCredsError: if a value is missing or malformed.
    """

    access_key: str = attrs.field(validator=_check_access_key)
    secret_key: str = attrs.field(validator=_check_secret_key)
    session_token: str | None = attrs.field(default=None, validator=_check_session_token)
    expires_at: float | None = attrs.field(default=None, kw_only=True)

    def __repr__(self) -> str:
        token = ", session_token=<hidden>" if self.session_token is not None else ""
        expiry = f", expires_at={self.expires_at!r}" if self.expires_at is not None else ""
        return f"AWSCredentials(access_key={self.access_key[:4] + '…'!r}{token}{expiry})"


def key_pair(
    values: Mapping[str, str], key_name: str, secret_name: str, where: str
) -> tuple[str, str] | None:
    """
    The access key id and secret under *key_name* and *secret_name*.

    :param where: the place *values* come from, for the error.
    :returns: both, or ``None`` when neither is set (empty counts as unset).
    :raises InvalidCredsError: naming the missing one (never a value) when
        only one is set.
    """
    key, secret = values.get(key_name) or None, values.get(secret_name) or None
    if key is None and secret is None:
        return None
    if key is None or secret is None:
        missing = key_name if key is None else secret_name
        raise InvalidCredsError(f"incomplete AWS credentials in {where}: {missing} is not set")
    return key, secret


def environment_keys(env: Mapping[str, str]) -> AWSCredentials | None:
    """
    The credentials of ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
    ``AWS_SESSION_TOKEN``, or ``None`` when neither key is set.

    :raises InvalidCredsError: when only one of the two keys is set.
    """
    pair = key_pair(env, ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY, "the environment")
    if pair is None:
        return None
    return AWSCredentials(*pair, env.get(ENV_SESSION_TOKEN) or None)
