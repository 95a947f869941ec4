"""
Roles: temporary credentials from AWS STS (the Query API, version
2011-06-15), refreshed before they expire.

* :class:`AssumeRole` signs ``AssumeRole`` with SigV4 using the credentials
  of its *source* (any provider, or fixed :class:`AWSCredentials`);
* :class:`AssumeRoleWithWebIdentity` exchanges an OIDC token read from a
  file (EKS service accounts, GitHub Actions...), unsigned, as AWS expects.

Both send to the STS endpoint of :class:`STSSettings`: by default the
regional one of the environment's region, or the ``AWS_ENDPOINT_URL_STS``
/ ``AWS_ENDPOINT_URL`` configured.  A refusal gives
:class:`~txcloud.errors.InvalidCredsError` naming the role and where the
source credentials came from; tokens and keys never appear in messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import attrs

from txcloud.auth.aws._fetching import parse_timestamp, read_secret_file
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.endpoints import ca_bundle, resolve_region, sts_endpoint
from txcloud.auth.aws.providers import CredentialsProvider, RefreshingProvider, as_provider
from txcloud.auth.aws.shared_config import SharedConfig, load_shared_config, profile_name
from txcloud.auth.aws.sigv4 import sha256_hex, sign_headers
from txcloud.auth.refresh import DEFAULT_ADVISORY_WINDOW, DEFAULT_MANDATORY_WINDOW
from txcloud.auth.sources import one_shot_transport
from txcloud.errors import InvalidArgumentError, InvalidCredsError, MalformedResponseError
from txcloud.http import (
    ErrorResponse,
    Request,
    default_error_mapper,
    error_details,
    findtext_local,
)

__all__ = [
    "STS_API_VERSION",
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "STSSettings",
]

STS_API_VERSION = "2011-06-15"

#: Seconds to wait for STS.
DEFAULT_STS_TIMEOUT = 10.0

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_FORM = "application/x-www-form-urlencoded; charset=utf-8"


@attrs.frozen
class STSSettings:
    """
    Where STS calls go.

    :ivar endpoint: ``scheme://host[:port]`` of STS.
    :ivar region: the region STS requests are signed for.
    :ivar ca_file: a PEM bundle of CAs to trust, if not the system's.
    :ivar agent: an ``IAgent`` to send through instead (tests).
    :ivar timeout: seconds to wait for STS.
    """

    endpoint: str
    region: str
    ca_file: str | None = None
    agent: Any = None
    timeout: float = DEFAULT_STS_TIMEOUT

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        region: str | None = None,
        profile: str | None = None,
        config: SharedConfig | None = None,
        agent: Any = None,
    ) -> STSSettings:
        """
        STS as the environment and shared config configure it: the region
        (*region*, else ``AWS_REGION``..., the profile's, us-east-1), the
        endpoint (``AWS_ENDPOINT_URL_STS``..., else regional) and
        ``AWS_CA_BUNDLE`` or the profile's ``ca_bundle``.

        :param environ: the environment; :data:`os.environ` when ``None``.
        :param profile: the profile to read (else ``AWS_PROFILE``, ``default``).
        :param config: the shared files, if already read.
        """
        env = os.environ if environ is None else environ
        shared = config if config is not None else load_shared_config(env)
        settings = shared.profile(profile_name(env, profile))
        chosen = resolve_region(region, env, settings)
        return cls(
            endpoint=sts_endpoint(chosen, env, shared, settings),
            region=chosen,
            ca_file=ca_bundle(env, settings),
            agent=agent,
        )


def _check_role(role_arn: Any, duration_seconds: Any, session_name: Any) -> None:
    if not (isinstance(role_arn, str) and _ROLE_ARN.fullmatch(role_arn)):
        raise InvalidArgumentError(f"not an IAM role ARN: {role_arn!r}")
    if duration_seconds is not None and not (
        isinstance(duration_seconds, int)
        and not isinstance(duration_seconds, bool)
        and 900 <= duration_seconds <= 43200
    ):
        raise InvalidArgumentError(
            f"duration_seconds must be an int from 900 to 43200, not {duration_seconds!r}"
        )
    if session_name is not None and not (
        isinstance(session_name, str) and _SESSION_NAME.fullmatch(session_name)
    ):
        raise InvalidArgumentError(
            f"a role session name is 2 to 64 of letters, digits and +=,.@_-, not {session_name!r}"
        )


class _STSProvider(RefreshingProvider):
    """What both STS providers share: the call, its answer and its errors."""

    action = ""
    role_arn = ""
    session_name: str | None = None

    def __init__(
        self,
        sts: STSSettings | None,
        environ: Mapping[str, str] | None,
        reactor: Any,
        advisory_window: float,
        mandatory_window: float,
    ) -> None:
        super().__init__(reactor, advisory_window, mandatory_window)
        self.sts = sts if sts is not None else STSSettings.from_environment(environ)
        self.transport = one_shot_transport(
            self.reactor,
            f"AWS STS {self.action}",
            timeout=self.sts.timeout,
            ca_file=self.sts.ca_file,
            agent=self.sts.agent,
            error_mapper=self._refused,
            environ=environ,
        )

    def _session(self) -> str:
        return self.session_name or f"txcloud-{int(self.reactor.seconds())}"

    def _body(self, form: Mapping[str, str]) -> bytes:
        fields = {"Action": self.action, "Version": STS_API_VERSION, **form}
        return urlencode(fields, quote_via=quote).encode("ascii")

    def _request(self, body: bytes) -> Request:
        return Request(
            "POST",
            self.sts.endpoint + "/",
            headers={"Content-Type": _FORM},
            body=body,
            idempotent=True,
        )

    async def _call(self, request: Request) -> AWSCredentials:
        response = await self.transport.send(request)
        root = await response.xml()
        fields = {
            name: findtext_local(root, f"{self.action}Result/Credentials/{name}")
            for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
        }
        if not (fields["AccessKeyId"] and fields["SecretAccessKey"] and fields["SessionToken"]):
            raise MalformedResponseError(f"STS {self.action} answered without credentials")
        expires_at = parse_timestamp(fields["Expiration"], f"STS {self.action}")
        self.log.info(
            "Assumed role {role} until {expires_at}", role=self.role_arn, expires_at=expires_at
        )
        return AWSCredentials(
            fields["AccessKeyId"],
            fields["SecretAccessKey"],
            fields["SessionToken"],
            expires_at=expires_at,
        )

    def _refused(self, response: ErrorResponse) -> Any:
        if not 400 <= response.status < 500 or response.status == 429:
            return default_error_mapper(response)
        details = error_details(response)
        return InvalidCredsError(
            f"cannot assume role {self.role_arn}{self._source_text()}: "
            + response.describe(details.message),
            response.driver,
            status=response.status,
            code=details.code,
            request_id=details.request_id,
        )

    def _source_text(self) -> str:
        return ""


class AssumeRole(_STSProvider):
    """
    Credentials of an IAM role, assumed with the credentials of *source*.

    :param role_arn: the role (``arn:aws:iam::123456789012:role/name``).
    :param source: the provider (or fixed credentials) that signs the
        ``AssumeRole`` call.
    :param external_id: the external id the role's trust policy asks for.
    :param session_name: the role session's name (by default
        ``txcloud-<time>``).
    :param duration_seconds: how long the credentials last (900 to 43200;
        STS's default, an hour, when ``None``).
    :param sts: where STS is; from *environ* when ``None``.
    :param environ: the environment for *sts*; :data:`os.environ` when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param advisory_window: see :class:`~txcloud.auth.refresh.Refreshing`.
    :param mandatory_window: see :class:`~txcloud.auth.refresh.Refreshing`.
    :raises InvalidArgumentError: for a malformed ARN, name, id or duration.
    """

    action = "AssumeRole"

    def __init__(
        self,
        role_arn: str,
        source: CredentialsProvider | AWSCredentials,
        external_id: str | None = None,
        session_name: str | None = None,
        duration_seconds: int | None = None,
        *,
        sts: STSSettings | None = None,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        _check_role(role_arn, duration_seconds, session_name)
        if external_id is not None and not (
            isinstance(external_id, str) and _EXTERNAL_ID.fullmatch(external_id)
        ):
            raise InvalidArgumentError(
                "an external id is 2 to 1224 of letters, digits and +=,.@:/-"
            )
        super().__init__(sts, environ, reactor, advisory_window, mandatory_window)
        self.role_arn = role_arn
        self.source = as_provider(source)
        self.external_id = external_id
        self.session_name = session_name
        self.duration_seconds = duration_seconds
        self.description = f"role {role_arn} (source: {self.source.description})"

    def _identity(self) -> Hashable:
        return (
            self.role_arn,
            self.source,
            self.external_id,
            self.session_name,
            self.duration_seconds,
            self.sts,
        )

    def _source_text(self) -> str:
        return f" with credentials from {self.source.description}"

    async def _fetch(self) -> AWSCredentials:
        try:
            source = await self.source.get()
        except InvalidCredsError as error:
            raise InvalidCredsError(
                f"cannot assume role {self.role_arn}: its source credentials from "
                f"{self.source.description} failed: {error.message}",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
            ) from None
        form = {"RoleArn": self.role_arn, "RoleSessionName": self._session()}
        if self.external_id is not None:
            form["ExternalId"] = self.external_id
        if self.duration_seconds is not None:
            form["DurationSeconds"] = str(self.duration_seconds)
        body = self._body(form)
        request = self._request(body)
        signed = sign_headers(
            "POST",
            request.full_url,
            {"Content-Type": _FORM},
            sha256_hex(body),
            source,
            self.sts.region,
            "sts",
            self.reactor.seconds(),
        )
        return await self._call(request.with_headers(signed))


class AssumeRoleWithWebIdentity(_STSProvider):
    """
    Credentials of an IAM role, for the OIDC token in *token_file* (read
    again at each refresh, since the platform rotates it).

    :param role_arn: the role to assume.
    :param token_file: the file holding the web identity token.
    :param session_name: the role session's name (``AWS_ROLE_SESSION_NAME``
        in the environment; by default ``txcloud-<time>``).
    :param duration_seconds: how long the credentials last (900 to 43200).

    The other arguments are :class:`AssumeRole`'s.  The call is not signed,
    as AWS expects.
    """

    action = "AssumeRoleWithWebIdentity"

    def __init__(
        self,
        role_arn: str,
        token_file: str,
        session_name: str | None = None,
        duration_seconds: int | None = None,
        *,
        sts: STSSettings | None = None,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        _check_role(role_arn, duration_seconds, session_name)
        if not (isinstance(token_file, str) and token_file):
            raise InvalidArgumentError("a web identity token file path is needed")
        super().__init__(sts, environ, reactor, advisory_window, mandatory_window)
        self.role_arn = role_arn
        self.token_file = token_file
        self.session_name = session_name
        self.duration_seconds = duration_seconds
        self.description = f"role {role_arn} (web identity token file {token_file})"

    def _identity(self) -> Hashable:
        return (self.role_arn, self.token_file, self.session_name, self.duration_seconds, self.sts)

    def _source_text(self) -> str:
        return f" with the web identity token of {self.token_file}"

    async def _fetch(self) -> AWSCredentials:
        token = read_secret_file(self.token_file, "the web identity token file")
        form = {
            "RoleArn": self.role_arn,
            "RoleSessionName": self._session(),
            "WebIdentityToken": token,
        }
        if self.duration_seconds is not None:
            form["DurationSeconds"] = str(self.duration_seconds)
        return await self._call(self._request(self._body(form)))
