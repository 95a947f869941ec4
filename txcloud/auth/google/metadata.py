"""
The metadata server of Google Compute Engine (and GKE, Cloud Run, Cloud
Functions, App Engine): access tokens of the attached service account and
the project the code runs in.

Requests go to ``GCE_METADATA_HOST`` (``169.254.169.254`` by default) with
the header ``Metadata-Flavor: Google``, and an answer counts only when it
carries that header back.  Off Google Cloud nothing answers there, so the
timeout is short (``GCE_METADATA_TIMEOUT``, 3 seconds by default) and a
request is tried once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from twisted.internet.defer import Deferred

from txcloud.auth.refresh import Expiring
from txcloud.auth.tokens import RefreshingTokens, token_from_document
from txcloud.errors import InvalidArgumentError, InvalidCredsError, TxCloudError
from txcloud.http import Request, Response

__all__ = [
    "DEFAULT_METADATA_HOST",
    "DEFAULT_METADATA_TIMEOUT",
    "METADATA_FLAVOR",
    "MetadataServerTokens",
    "metadata_host",
]

#: Where the metadata server answers unless ``GCE_METADATA_HOST`` says otherwise.
DEFAULT_METADATA_HOST = "169.254.169.254"

#: Seconds to wait for the metadata server (``GCE_METADATA_TIMEOUT`` overrides it).
DEFAULT_METADATA_TIMEOUT = 3.0

#: The header every request to the metadata server, and every answer, carries.
METADATA_FLAVOR = ("Metadata-Flavor", "Google")

_ACCOUNT_PATH = "/computeMetadata/v1/instance/service-accounts/default/"
_PROJECT_PATH = "/computeMetadata/v1/project/project-id"


def metadata_host(environ: Mapping[str, str]) -> str:
    """The metadata server's ``host[:port]``: ``GCE_METADATA_HOST`` or the default."""
    return environ.get("GCE_METADATA_HOST") or DEFAULT_METADATA_HOST


def _timeout(environ: Mapping[str, str]) -> float:
    text = environ.get("GCE_METADATA_TIMEOUT")
    if not text:
        return DEFAULT_METADATA_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise InvalidArgumentError("GCE_METADATA_TIMEOUT must be a positive number of seconds")
    return value


class MetadataServerTokens(RefreshingTokens):
    """
    Access tokens of the default service account of the machine, from the
    metadata server, and the project it runs in.

    :param scopes: the OAuth2 scopes to ask for.
    :param environ: the environment (``GCE_METADATA_HOST``,
        ``GCE_METADATA_TIMEOUT``); :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` to send through instead (tests).
    """

    def __init__(
        self,
        scopes: Sequence[str],
        *,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        agent: Any = None,
    ) -> None:
        env = os.environ if environ is None else environ
        super().__init__(reactor, agent=agent, environ=env, timeout=_timeout(env), attempts=1)
        self.scopes = tuple(scopes)
        self.url = f"http://{metadata_host(env)}"
        self.description = f"the Google metadata server at {self.url}"
        self._project: str | None = None

    async def _get(self, path: str, query: str = "") -> Response:
        url = self.url + path + (f"?{query}" if query else "")
        response = await self.transport.send(Request("GET", url, headers=dict([METADATA_FLAVOR])))
        if response.headers.get(METADATA_FLAVOR[0]) != METADATA_FLAVOR[1]:
            await response.content()
            raise InvalidCredsError(f"{self.description} answered without Metadata-Flavor: Google")
        return response

    async def _fetch(self) -> Expiring[str]:
        sent_at = self.reactor.seconds()
        query = urlencode({"scopes": ",".join(self.scopes)})
        response = await self._get(_ACCOUNT_PATH + "token", query)
        return token_from_document(await response.json(), self.description, sent_at)

    def project(self) -> Deferred[str | None]:
        """
        The project the machine belongs to (asked until it is known).

        :returns: a Deferred firing with the project id, or ``None`` when the
            metadata server cannot tell.
        """
        return Deferred.fromCoroutine(self._fetch_project())

    async def _fetch_project(self) -> str | None:
        if self._project is None:
            try:
                response = await self._get(_PROJECT_PATH)
                text = (await response.content()).decode("utf-8", "replace").strip()
            except TxCloudError:
                return None
            self._project = text or None
        return self._project
