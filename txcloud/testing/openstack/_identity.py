"""
The fake's Keystone v3: ``POST /v3/auth/tokens`` with the password, token
and application credential methods, project scopes, tokens that expire
on the clock or are revoked, and a catalog pointing back at the fake.
"""

from __future__ import annotations

from typing import Any

import attrs

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing.openstack._models import FakeAppCredential, FakeUser, iso_time
from txcloud.testing.openstack._paging import json_answer

__all__ = ["Grant", "IdentityActions", "keystone_error"]

_UNAUTHORIZED = "The request you have made requires authentication."


def keystone_error(status: int, message: str = _UNAUTHORIZED) -> Refused:
    """Keystone's refusal, written ``{"error": {"code", "title", "message"}}``."""
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    return Refused(status, titles.get(status, "Error"), message, details={"style": "keystone"})


@attrs.frozen
class Grant:
    """
    One token the fake issued.

    :ivar token: the ``X-Subject-Token`` value.
    :ivar user: the user's name.
    :ivar project: the project's name.
    :ivar method: ``password``, ``token`` or ``application_credential``.
    :ivar expires_at: POSIX seconds on the fake's clock.
    """

    token: str = attrs.field(repr=False)
    user: str
    project: str
    method: str
    expires_at: float


class IdentityActions:
    """Keystone's part of :class:`~txcloud.testing.openstack.FakeOpenStack`."""

    clock: Any
    users: dict[str, FakeUser]
    projects: dict[str, str]
    app_credentials: dict[str, FakeAppCredential]
    grants: list[Grant]
    token_lifetime: float
    _revoked: set[str]

    def _catalog(self, base: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def revoke_tokens(self) -> None:
        """Revoke every token issued so far (services answer 401 to them)."""
        self._revoked.update(grant.token for grant in self.grants)

    def grant_for(self, token: str | None) -> Grant:
        """
        The grant of a valid *token*.

        :raises Refused: 401 for an unknown, expired or revoked token.
        """
        found = next((g for g in self.grants if g.token == token), None)
        if found is None or token in self._revoked or self.clock.seconds() >= found.expires_at:
            raise keystone_error(401)
        return found

    def _user(self, spec: Any) -> FakeUser:
        if not isinstance(spec, dict):
            raise keystone_error(400, "Expecting to find user in identity.")
        if "id" in spec:
            found = next((u for u in self.users.values() if u.id == spec["id"]), None)
        else:
            domain = spec.get("domain") or {}
            found = self.users.get(str(spec.get("name")))
            if found is not None and domain not in ({"id": "default"}, {"name": found.domain}):
                found = None
        if found is None:
            raise keystone_error(401)
        return found

    def _scope(self, auth: dict[str, Any], user: str) -> str:
        project = (auth.get("scope") or {}).get("project")
        if not isinstance(project, dict):
            # An unscoped token has no catalog: the fake insists on a scope.
            raise keystone_error(400, "The fake issues project-scoped tokens only.")
        if "id" in project:
            name = next((n for n, i in self.projects.items() if i == project["id"]), None)
        else:
            name = project.get("name") if project.get("domain") else None
        if name is None or name not in self.users[user].projects:
            raise keystone_error(401)
        return name

    def _authenticate_identity(self, identity: dict[str, Any], auth: dict[str, Any]) -> Grant:
        methods = identity.get("methods")
        if not isinstance(methods, list) or len(methods) != 1:
            raise keystone_error(400, "Expecting one authentication method.")
        [method] = methods
        detail = identity.get(method)
        if not isinstance(detail, dict):
            raise keystone_error(400, f"Expecting to find {method} in identity.")
        if method == "password":
            user = self._user(detail.get("user"))
            if detail["user"].get("password") != user.password:
                raise keystone_error(401)
            project = self._scope(auth, user.name)
        elif method == "token":
            previous = self.grant_for(detail.get("id"))
            user, project = self.users[previous.user], self._scope(auth, previous.user)
        elif method == "application_credential":
            credential = self._app_credential(detail)
            if auth.get("scope"):
                raise keystone_error(401)
            user, project = self.users[credential.user], credential.project
        else:
            raise keystone_error(401, f"Unsupported authentication method: {method}")
        token = f"gAAAAAB{len(self.grants) + 1:08d}fake"
        expires = self.clock.seconds() + self.token_lifetime
        grant = Grant(token, user.name, project, method, expires)
        self.grants.append(grant)
        return grant

    def _app_credential(self, detail: dict[str, Any]) -> FakeAppCredential:
        if "id" in detail:
            found = self.app_credentials.get(detail["id"])
        else:
            owner = self._user(detail.get("user"))
            found = next(
                (
                    c
                    for c in self.app_credentials.values()
                    if c.name == detail.get("name") and c.user == owner.name
                ),
                None,
            )
        if found is None or detail.get("secret") != found.secret:
            raise keystone_error(401)
        return found

    def _issue_token(self, received: Received, base: str) -> Reply:
        try:
            document = received.json()
            auth = document["auth"]
            identity = auth["identity"]
        except (ValueError, KeyError, TypeError):
            raise keystone_error(400, "Expecting to find auth in request body.") from None
        grant = self._authenticate_identity(identity, auth)
        user = self.users[grant.user]
        now = self.clock.seconds()
        token = {
            "methods": [grant.method],
            "expires_at": iso_time(grant.expires_at, fraction=True),
            "issued_at": iso_time(now, fraction=True),
            "audit_ids": [f"audit{len(self.grants):04d}"],
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": "default", "name": user.domain},
                "password_expires_at": None,
            },
            "project": {
                "id": self.projects[grant.project],
                "name": grant.project,
                "domain": {"id": "default", "name": "Default"},
            },
            "roles": [{"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"}],
            "catalog": self._catalog(base),
            "is_domain": False,
        }
        return json_answer({"token": token}, 201, {"X-Subject-Token": grant.token})
