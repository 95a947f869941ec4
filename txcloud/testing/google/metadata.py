"""
A fake of Google's metadata server: tokens of the default service account
and the project, answered only to requests carrying ``Metadata-Flavor:
Google``, each answer carrying it back.
"""

from __future__ import annotations

from typing import Any

from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing._tokens import TokenIssuer, json_reply

__all__ = ["FakeMetadataServer"]

_ACCOUNT = "/computeMetadata/v1/instance/service-accounts/default/"


class FakeMetadataServer(FakeService):
    """
    Google's metadata server, for ``GCE_METADATA_HOST``.

    It answers ``GET`` of ``/computeMetadata/v1/instance/service-accounts/default/token``
    (a new token each time, valid :attr:`tokens.lifetime <TokenIssuer.lifetime>`
    seconds, the ``scopes`` asked for recorded in :attr:`scopes_asked`),
    ``.../default/email``, ``/computeMetadata/v1/project/project-id`` and ``/``.

    :param clock: the clock tokens expire on; the global reactor by default.
    :param project: the project id it reports.
    :param email: the service account's address.
    :ivar tokens: the :class:`~txcloud.testing._tokens.TokenIssuer`:
        ``tokens.is_valid(token)`` tells whether a token is current.
    :ivar scopes_asked: the scopes of each token request, in order.
    """

    def __init__(
        self,
        clock: Any = None,
        *,
        project: str = "fake-project",
        email: str = "default@fake-project.iam.gserviceaccount.com",
    ) -> None:
        super().__init__(clock)
        self.project = project
        self.email = email
        self.tokens = TokenIssuer(self.clock, "ya29.metadata")
        self.scopes_asked: list[list[str]] = []

    def _authenticate(self, received: Received) -> None:
        if received.header("Metadata-Flavor") != "Google":
            raise Refused(403, "Forbidden", "Missing Metadata-Flavor: Google header")

    def _common_headers(self, received: Received) -> dict[str, str]:
        return {"Metadata-Flavor": "Google"}

    def _handle(self, received: Received) -> Reply:
        if received.method != "GET":
            raise Refused(405, "MethodNotAllowed", "Method not allowed")
        text = {
            "/": "computeMetadata/\n",
            _ACCOUNT + "email": self.email,
            "/computeMetadata/v1/project/project-id": self.project,
        }.get(received.path)
        if text is not None:
            return Reply(headers={"Content-Type": "application/text"}, body=text.encode())
        if received.path != _ACCOUNT + "token":
            raise Refused(404, "NotFound", "Not Found")
        scopes = received.arg("scopes")
        self.scopes_asked.append(scopes.split(",") if scopes else [])
        document = {
            "access_token": self.tokens.issue(),
            "expires_in": self.tokens.lifetime,
            "token_type": "Bearer",
        }
        return json_reply(document)

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return Reply(
            status=refused.status,
            headers={"Content-Type": "text/plain"},
            body=refused.message.encode(),
        )
