"""
Fakes of the places AWS credentials come from, for trial tests of code
that runs on EC2, in containers, or through roles.

* :class:`FakeInstanceMetadata`: the EC2 instance metadata service with
  IMDSv2 (``PUT /latest/api/token``, then ``GET`` requests carrying the
  token), serving an instance profile's credentials;
* :class:`FakeContainerCredentials`: the ECS / EKS Pod Identity
  credentials endpoint, checking the ``Authorization`` token;
* :class:`FakeSTS`: STS ``AssumeRole`` and ``AssumeRoleWithWebIdentity``,
  issuing session credentials.  :class:`~txcloud.testing.ec2.FakeEC2` and
  :class:`~txcloud.testing.s3.FakeS3` each hold one (their ``sts``
  attribute) and answer its calls, and accept the session keys it issued
  until they expire.

Each is a ``twisted.web`` resource (``.resource``): reach it in memory with
``.agent()`` (a :class:`treq.testing.RequestTraversalAgent`, for a
provider's ``agent=``), or on a real port with
``reactor.listenTCP(0, fake.site(), interface="127.0.0.1")``::

    clock = Clock()
    imds = FakeInstanceMetadata(AWSCredentials("ASIA...", "secret", "token"), clock=clock)
    provider = InstanceMetadataCredentials(reactor=clock, agent=imds.agent())

Credentials are served with an ``Expiration`` *lifetime* seconds after the
clock's time of the request; assign :attr:`FakeInstanceMetadata.credentials`
(or the container fake's) to rotate them.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import attrs
from twisted.web.server import Site

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.sts import STSSettings
from txcloud.testing._http import FakeService, Received, Refused, Reply

__all__ = [
    "FakeContainerCredentials",
    "FakeInstanceMetadata",
    "FakeRole",
    "FakeSTS",
    "iso_time",
]

_JSON = {"Content-Type": "application/json"}
_ROLES_PATH = "/latest/meta-data/iam/security-credentials/"


def iso_time(seconds: float) -> str:
    """A POSIX time as AWS writes expirations (``2026-01-02T03:04:05Z``)."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(credentials: AWSCredentials, expires_at: float, token_field: str) -> bytes:
    document = {
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": credentials.access_key,
        "SecretAccessKey": credentials.secret_key,
        token_field: credentials.session_token or "",
        "Expiration": iso_time(expires_at),
    }
    return json.dumps(document).encode()


class _JSONErrors(FakeService):
    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        body = json.dumps({"Code": refused.code, "Message": refused.message}).encode()
        return Reply(refused.status, {**_JSON, **refused.headers}, body)

    def site(self) -> Site:
        """A ``Site`` serving this fake, to listen on a real port with."""
        return Site(self.resource)


class FakeInstanceMetadata(_JSONErrors):
    """
    The EC2 instance metadata service, IMDSv2 only.

    :param credentials: the instance profile's credentials.
    :param role_name: the instance profile's role.
    :param lifetime: seconds from each request to the credentials' expiry.
    :param clock: the clock that dates expirations; the global reactor by default.
    :ivar token_requests: how many session tokens were asked for.
    :ivar credential_requests: how many times the credentials were served.
    """

    def __init__(
        self,
        credentials: AWSCredentials,
        *,
        role_name: str = "txcloud-instance-role",
        lifetime: float = 6 * 3600.0,
        clock: Any = None,
    ) -> None:
        super().__init__(clock)
        self.credentials = credentials
        self.role_name = role_name
        self.lifetime = lifetime
        self.token_requests = 0
        self.credential_requests = 0
        self._tokens: set[str] = set()

    def _handle(self, received: Received) -> Reply:
        if received.method == "PUT" and received.path == "/latest/api/token":
            if not received.header("x-aws-ec2-metadata-token-ttl-seconds"):
                raise Refused(400, "BadRequest", "the token TTL header is missing")
            token = secrets.token_urlsafe(24)
            self._tokens.add(token)
            self.token_requests += 1
            return Reply(200, {"Content-Type": "text/plain"}, token.encode())
        if received.method != "GET":
            raise Refused(405, "MethodNotAllowed", "only GET and the token PUT are served")
        if received.header("x-aws-ec2-metadata-token") not in self._tokens:
            raise Refused(401, "Unauthorized", "IMDSv2 needs a session token")
        if received.path == _ROLES_PATH:
            return Reply(200, {"Content-Type": "text/plain"}, self.role_name.encode())
        if received.path == _ROLES_PATH + self.role_name:
            self.credential_requests += 1
            expires_at = self.clock.seconds() + self.lifetime
            return Reply(200, _JSON, _document(self.credentials, expires_at, "Token"))
        raise Refused(404, "NotFound", "no such metadata")


class FakeContainerCredentials(_JSONErrors):
    """
    A container credentials endpoint (ECS task roles, EKS Pod Identity).

    :param credentials: the task role's credentials.
    :param path: the path it serves them at (what
        ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` names).
    :param authorization_token: the ``Authorization`` value requests must
        carry; any (or none) when ``None``.
    :param lifetime: seconds from each request to the credentials' expiry.
    :param clock: the clock that dates expirations.
    :ivar credential_requests: how many times the credentials were served.
    """

    def __init__(
        self,
        credentials: AWSCredentials,
        *,
        path: str = "/v2/credentials/txcloud-task",
        authorization_token: str | None = None,
        lifetime: float = 6 * 3600.0,
        clock: Any = None,
    ) -> None:
        super().__init__(clock)
        self.credentials = credentials
        self.path = path
        self.authorization_token = authorization_token
        self.lifetime = lifetime
        self.credential_requests = 0

    def _authenticate(self, received: Received) -> None:
        expected = self.authorization_token
        if expected is not None and received.header("authorization") != expected:
            raise Refused(401, "Unauthorized", "the authorization token is wrong or missing")

    def _handle(self, received: Received) -> Reply:
        if received.method != "GET" or received.path != self.path:
            raise Refused(404, "NotFound", "no credentials here")
        self.credential_requests += 1
        expires_at = self.clock.seconds() + self.lifetime
        return Reply(200, _JSON, _document(self.credentials, expires_at, "Token"))


@attrs.define
class FakeRole:
    """
    A role :class:`FakeSTS` lets callers assume.

    :ivar arn: the role's ARN.
    :ivar trusted_keys: the access key ids whose calls may assume it
        (signed ``AssumeRole``); any when ``None``.
    :ivar external_id: the external id callers must give, if any.
    :ivar web_identity_tokens: the tokens ``AssumeRoleWithWebIdentity``
        accepts for it; none when empty.
    """

    arn: str
    trusted_keys: frozenset[str] | None = None
    external_id: str | None = None
    web_identity_tokens: frozenset[str] = frozenset()


@attrs.frozen
class _Session:
    credentials: AWSCredentials
    role_arn: str
    expires_at: float


class FakeSTS(FakeService):
    """
    STS's ``AssumeRole`` and ``AssumeRoleWithWebIdentity`` (Query API).

    :param clock: the clock that dates sessions; the global reactor by default.
    :ivar roles: :class:`FakeRole` by ARN.
    :ivar calls: each call it answered or refused, as ``(action, role ARN)``.
    """

    def __init__(self, clock: Any = None) -> None:
        super().__init__(clock)
        self.roles: dict[str, FakeRole] = {}
        self.calls: list[tuple[str, str]] = []
        self._sessions: dict[str, _Session] = {}
        self._numbers = itertools.count(1)

    def add_role(
        self,
        arn: str,
        *,
        trusted_keys: Iterable[str] | None = None,
        external_id: str | None = None,
        web_identity_tokens: Iterable[str] = (),
    ) -> FakeRole:
        """Let callers assume role *arn* (see :class:`FakeRole`)."""
        role = FakeRole(
            arn,
            None if trusted_keys is None else frozenset(trusted_keys),
            external_id,
            frozenset(web_identity_tokens),
        )
        self.roles[arn] = role
        return role

    def settings(self, region: str = "us-east-1") -> STSSettings:
        """:class:`~txcloud.auth.aws.sts.STSSettings` sending here through a new :meth:`agent`."""
        return STSSettings(f"https://sts.{region}.amazonaws.com", region, agent=self.agent())

    def session(self, access_key: str) -> AWSCredentials | None:
        """The session credentials issued under *access_key*, while unexpired."""
        found = self._sessions.get(access_key)
        if found is None or found.expires_at <= self.clock.seconds():
            return None
        return found.credentials

    def session_role(self, access_key: str) -> str | None:
        """The role a live session key belongs to, or ``None``."""
        found = self._sessions.get(access_key)
        return found.role_arn if found and self.session(access_key) else None

    def expired(self, access_key: str) -> bool:
        """Whether *access_key* is a session key this fake issued that has expired."""
        return access_key in self._sessions and self.session(access_key) is None

    @staticmethod
    def wants(received: Received) -> bool:
        """Whether *received* is an STS call."""
        if received.method != "POST":
            return False
        form = received.form()
        return form.get("Version") == "2011-06-15" and form.get("Action", "").startswith(
            "AssumeRole"
        )

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>{refused.code}</Code><Message>{refused.message}</Message>"
            "</Error><RequestId>txcloud-fake</RequestId></ErrorResponse>"
        )
        return Reply(refused.status, {"Content-Type": "text/xml"}, body.encode())

    def _handle(self, received: Received) -> Reply:
        form = received.form()
        action, arn = form.get("Action", ""), form.get("RoleArn", "")
        self.calls.append((action, arn))
        role = self.roles.get(arn)
        if action == "AssumeRole":
            key = _signing_key(received)
            if key is None:
                raise Refused(403, "MissingAuthenticationToken", "Request is missing credentials")
            if role is None or (role.trusted_keys is not None and key not in role.trusted_keys):
                raise Refused(
                    403, "AccessDenied", f"User {key} is not authorized to perform sts:AssumeRole"
                )
            if role.external_id is not None and form.get("ExternalId") != role.external_id:
                raise Refused(403, "AccessDenied", "The external id does not match")
        elif action == "AssumeRoleWithWebIdentity":
            if role is None or form.get("WebIdentityToken") not in role.web_identity_tokens:
                raise Refused(
                    403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"
                )
        else:
            raise Refused(400, "InvalidAction", f"Could not find operation {action}")
        duration = int(form.get("DurationSeconds") or 3600)
        number = next(self._numbers)
        credentials = AWSCredentials(
            f"ASIAFAKE{number:012d}", secrets.token_urlsafe(30), secrets.token_urlsafe(60)
        )
        expires_at = self.clock.seconds() + duration
        self._sessions[credentials.access_key] = _Session(credentials, arn, expires_at)
        return Reply(200, {"Content-Type": "text/xml"}, _assumed(action, credentials, expires_at))


def _signing_key(received: Received) -> str | None:
    authorization = received.header("authorization") or ""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if found else None


def _assumed(action: str, credentials: AWSCredentials, expires_at: float) -> bytes:
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<{action}Result><Credentials>"
        f"<AccessKeyId>{credentials.access_key}</AccessKeyId>"
        f"<SecretAccessKey>{credentials.secret_key}</SecretAccessKey>"
        f"<SessionToken>{credentials.session_token}</SessionToken>"
        f"<Expiration>{iso_time(expires_at)}</Expiration>"
        f"</Credentials></{action}Result>"
        "<ResponseMetadata><RequestId>txcloud-fake</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()
