"""
Google's Application Default Credentials: where Google's own client
libraries and ``gcloud`` find credentials, in their order.

1. The file named by ``GOOGLE_APPLICATION_CREDENTIALS``: a service account
   key (``"type": "service_account"``) or user credentials
   (``"authorized_user"``).
2. gcloud's file, ``application_default_credentials.json`` in
   ``CLOUDSDK_CONFIG`` (``~/.config/gcloud`` by default), written by
   ``gcloud auth application-default login``.
3. The metadata server of the machine (GCE, GKE, Cloud Run...).

Files are read when the credentials are looked for, so a malformed file or
an unsupported type is refused before any request; the metadata server is
asked only when a token is first needed, and when it does not answer the
error names every place looked at.  Sources are shared (see
:func:`~txcloud.auth.sources.shared_source`): drivers finding the same
credentials share one cache of tokens.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed

from txcloud.auth.google.authorized_user import AuthorizedUserTokens, authorized_user_from_document
from txcloud.auth.google.metadata import MetadataServerTokens, metadata_host
from txcloud.auth.google.service_account import (
    ServiceAccountTokens,
    load_service_account_key,
    token_error_mapper,
)
from txcloud.auth.sources import one_shot_transport, shared_source
from txcloud.auth.tokens import RefreshingTokens, TokenSource
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.http import proxy_settings

__all__ = [
    "ADC_FILE_NAME",
    "SUPPORTED_TYPES",
    "GoogleCredentials",
    "application_default_credentials",
    "credentials_from_file",
    "gcloud_adc_path",
]

#: The name of gcloud's Application Default Credentials file.
ADC_FILE_NAME = "application_default_credentials.json"

#: The credential file types txcloud reads.
SUPPORTED_TYPES = ("service_account", "authorized_user")


@attrs.frozen
class GoogleCredentials:
    """
    Credentials found for Google Cloud.

    :ivar tokens: the source of access tokens.
    :ivar description: where they were found (never a secret).
    :ivar project: the project the credentials name, if any.
    """

    tokens: TokenSource = attrs.field(eq=False)
    description: str
    project: str | None = None

    def project_id(self) -> Deferred[str | None]:
        """
        The credentials' project, else the metadata server's (when the
        tokens come from it).

        :returns: a Deferred firing with the project id or ``None``.
        """
        if self.project is None and isinstance(self.tokens, MetadataServerTokens):
            return self.tokens.project()
        return succeed(self.project)


def gcloud_adc_path(environ: Mapping[str, str]) -> str:
    """gcloud's credentials file, in ``CLOUDSDK_CONFIG`` (``~/.config/gcloud``)."""
    folder = environ.get("CLOUDSDK_CONFIG")
    if not folder:
        home = environ.get("HOME") or os.path.expanduser("~")
        folder = os.path.join(home, ".config", "gcloud")
    return os.path.join(folder, ADC_FILE_NAME)


def _read_document(path: str, where: str) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise InvalidCredsError(f"cannot read {where}: {reason}") from None
    try:
        document = json.loads(text)
    except ValueError:
        # The text is not quoted: it may be a key.
        raise InvalidCredsError(f"{where} is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidCredsError(f"{where} is not a JSON object")
    return document


def credentials_from_file(
    path: str,
    scopes: Sequence[str],
    *,
    where: str | None = None,
    reactor: Any = None,
    agent: Any = None,
    environ: Mapping[str, str] | None = None,
) -> GoogleCredentials:
    """
    The credentials of a JSON credentials file (a service account key or
    ``authorized_user`` credentials).

    :param path: the file.
    :param scopes: the OAuth2 scopes tokens are asked for.
    :param where: how to name the file in messages (by default its path).
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for the token requests instead of the network (tests).
    :param environ: where the proxy variables are read; :data:`os.environ` when ``None``.
    :raises InvalidCredsError: for an unreadable or malformed file, or an
        unsupported type.
    """
    if reactor is None:
        from twisted.internet import reactor
    where = where or f"the credentials file {path}"
    document = _read_document(path, where)
    kind = document.get("type")
    scopes = tuple(scopes)
    # Sources through different proxies are different sources.
    proxy = proxy_settings(None, os.environ if environ is None else environ)
    if kind == "service_account":
        try:
            key = load_service_account_key(document)
        except InvalidArgumentError as error:
            raise InvalidCredsError(f"{where}: {error.message}") from None

        def make_service_account() -> ServiceAccountTokens:
            transport = one_shot_transport(
                reactor,
                f"the token endpoint of {key.client_email}",
                timeout=30.0,
                agent=agent,
                error_mapper=token_error_mapper,
                environ=environ,
            )
            return ServiceAccountTokens(key, transport, reactor, scopes)

        identity = (kind, key.client_email, key.private_key_id, key.token_uri, scopes)
        tokens: TokenSource = shared_source(
            (*identity, reactor, agent, proxy), make_service_account
        )
        return GoogleCredentials(tokens, where, key.project_id)
    if kind == "authorized_user":
        user = authorized_user_from_document(document, where)
        user_tokens = shared_source(
            (kind, user, scopes, reactor, agent, proxy),
            lambda: AuthorizedUserTokens(
                user, where, reactor=reactor, agent=agent, environ=environ
            ),
        )
        return GoogleCredentials(user_tokens, where)
    shown = repr(kind) if isinstance(kind, str) else "missing"
    raise InvalidCredsError(
        f"{where} holds credentials of type {shown}; txcloud reads {' and '.join(SUPPORTED_TYPES)}"
    )


def application_default_credentials(
    scopes: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    reactor: Any = None,
    agent: Any = None,
) -> GoogleCredentials:
    """
    Find credentials as Google's client libraries do (see the module's
    description for the order).

    :param scopes: the OAuth2 scopes tokens are asked for.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for token requests instead of the network (tests).
    :returns: the credentials; when they come from the metadata server,
        their first token fails with :class:`~txcloud.errors.InvalidCredsError`
        naming every place looked at if the server does not answer.
    :raises InvalidCredsError: for a named file that is missing, unreadable,
        malformed or of an unsupported type.
    """
    env = os.environ if environ is None else environ
    if reactor is None:
        from twisted.internet import reactor
    named = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if named:
        where = f"the file {named} named by GOOGLE_APPLICATION_CREDENTIALS"
        return credentials_from_file(
            named, scopes, where=where, reactor=reactor, agent=agent, environ=env
        )
    gcloud_file = gcloud_adc_path(env)
    if os.path.isfile(gcloud_file):
        where = f"gcloud's application default credentials {gcloud_file}"
        return credentials_from_file(
            gcloud_file, scopes, where=where, reactor=reactor, agent=agent, environ=env
        )
    looked = f"GOOGLE_APPLICATION_CREDENTIALS (unset), {gcloud_file} (missing)"
    host = metadata_host(env)
    tokens: RefreshingTokens = shared_source(
        ("metadata", host, tuple(scopes), reactor, agent),
        lambda: MetadataServerTokens(scopes, environ=env, reactor=reactor, agent=agent).last_resort(
            looked
        ),
    )
    return GoogleCredentials(tokens, tokens.description)
