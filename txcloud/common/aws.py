"""
What every Amazon Web Services driver shares: regions and endpoints (as the
AWS SDKs resolve them), credentials (a provider, shared by the drivers of
one source), SigV4 signing of each request, and the mapping of AWS error
codes to txcloud's errors.  EC2, S3 and ECS drivers subclass :class:`AWSDriver`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from twisted.internet.defer import Deferred

from txcloud.auth.aws.chain import credentials_for
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.endpoints import (
    DEFAULT_REGION,
    ca_bundle,
    configured_endpoint,
    resolve_region,
)
from txcloud.auth.aws.providers import CredentialsProvider, RefreshingProvider
from txcloud.auth.aws.shared_config import load_shared_config, profile_name
from txcloud.auth.aws.sigv4 import EMPTY_SHA256, sha256_hex, sign_headers
from txcloud.common.http_driver import HTTPDriver
from txcloud.errors import InvalidArgumentError, InvalidCredsError, TxCloudError
from txcloud.http import ErrorResponse, Request, default_error_mapper, error_details

__all__ = ["AWS_REGIONS", "CREDENTIAL_ERROR_CODES", "DEFAULT_REGION", "AWSDriver"]

#: The commercial AWS regions; ``txcloud.multi`` fans out over these.
AWS_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
)

#: AWS error codes that mean the credentials (or the signature made with
#: them) were refused.
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)

# Region names look like "eu-west-1", "us-gov-west-1", "cn-north-1".
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")

_CONTENT_SHA256 = "x-amz-content-sha256"
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


class AWSDriver(HTTPDriver):
    """
    Base class of Amazon Web Services drivers.

    :param key: the access key id; with *secret* (and *ex_token*) they are
        the credentials.  Given none of these and no *ex_credentials*, the
        driver finds credentials in the default chain
        (:func:`~txcloud.auth.aws.chain.default_credentials`).
    :param secret: the secret access key.
    :param secure: HTTPS (the default) or plain HTTP; with no *host*, a
        configured endpoint URL decides.
    :param host: the endpoint's host; ``None``: a configured endpoint
        (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the profile's
        ``services`` section or ``endpoint_url``), else the service's own.
    :param port: the endpoint's port.
    :param region: the region; ``None``: ``AWS_REGION``,
        ``AWS_DEFAULT_REGION``, the profile's ``region``, else ``us-east-1``.
    :param ex_token: a session token (temporary credentials).
    :param ex_profile: the shared files' profile to use (its credentials,
        region, endpoints and CA bundle); else ``AWS_PROFILE``, else
        ``default``.
    :param ex_credentials: a credentials provider
        (:class:`~txcloud.auth.aws.providers.CredentialsProvider`: an
        :class:`~txcloud.auth.aws.sts.AssumeRole`, an
        :class:`~txcloud.auth.aws.metadata.InstanceMetadataCredentials`...)
        or fixed :class:`~txcloud.auth.aws.credentials.AWSCredentials`;
        drivers given equal providers share one.
    :param ex_environ: the environment to read instead of :data:`os.environ`
        (``HOME`` locates ``~/.aws``).
    :raises InvalidArgumentError: for a bad region name, a bad configured
        endpoint, or *ex_credentials* together with keys.
    :raises InvalidCredsError: for credentials that are incomplete or
        inconsistently configured (a missing profile, a loop of
        ``source_profile``...), before any request.

    Other arguments are :class:`~txcloud.common.http_driver.HTTPDriver`'s;
    ``ex_ca_file`` defaults to ``AWS_CA_BUNDLE`` or the profile's
    ``ca_bundle``.  Requests are signed when sent, with the credentials the
    provider has at that moment: temporary ones are refreshed before they
    expire.  Subclasses set :attr:`service_name` (and :attr:`service_id`
    when it is not its upper case) and, for their own error codes,
    :attr:`error_codes`; they build requests with :meth:`_aws_request`.
    """

    #: The service's name in endpoints and in the SigV4 credential scope.
    service_name: ClassVar[str] = ""
    #: The service's id in ``AWS_ENDPOINT_URL_<SERVICE>`` (``service_name`` upper-cased if empty).
    service_id: ClassVar[str] = ""
    #: Provider error codes this service maps to finer txcloud errors.
    error_codes: ClassVar[Mapping[str, type[TxCloudError]]] = {}
    #: Whether AWS's endpoint and CA bundle settings apply (not for another
    #: provider speaking an AWS protocol).
    follows_aws_configuration: ClassVar[bool] = True

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = None,
        ex_token: str | None = None,
        ex_profile: str | None = None,
        ex_credentials: CredentialsProvider | AWSCredentials | None = None,
        ex_environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        environ = os.environ if ex_environ is None else ex_environ
        config = load_shared_config(environ)
        profile = config.profile(profile_name(environ, ex_profile))
        region = resolve_region(region, environ, profile)
        if not (isinstance(region, str) and _REGION.fullmatch(region)):
            raise InvalidArgumentError(f"not an AWS region name: {region!r}", self.name)
        if host is None and self.follows_aws_configuration:
            configured = configured_endpoint(
                self.service_id or self.service_name.upper(), environ, config, profile
            )
            if configured is not None:
                secure, host = configured.secure, configured.host
                port = configured.port if port is None else port
        if self.follows_aws_configuration and kwargs.get("ex_ca_file") is None:
            kwargs["ex_ca_file"] = ca_bundle(environ, profile)
        super().__init__(None, None, secure, host, port, region=region, **kwargs)
        self.credentials_provider: CredentialsProvider = credentials_for(
            key,
            secret,
            ex_token,
            profile=ex_profile,
            credentials=ex_credentials,
            environ=environ,
            config=config,
            reactor=self.reactor,
            agent=kwargs.get("ex_agent"),
        )
        self.key = key

    @property
    def credentials(self) -> AWSCredentials | None:
        """
        The credentials requests are signed with now (their repr hides
        secrets): always for fixed keys; ``None`` while temporary ones are
        still to be fetched (``await driver.credentials_provider.get()``).
        """
        return self.credentials_provider.fresh()

    def _default_host(self) -> str:
        return f"{self.service_name}.{self.region}.amazonaws.com"

    def _aws_request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        payload_hash: str | None = None,
        **kwargs: Any,
    ) -> Request:
        """
        A request whose payload hash the signer will sign.

        :param body: bytes are hashed here; other bodies need *payload_hash*
            (``UNSIGNED_PAYLOAD`` where the service allows it).
        """
        if payload_hash is None:
            if body is None or isinstance(body, bytes):
                payload_hash = sha256_hex(body) if body else EMPTY_SHA256
            else:
                raise InvalidArgumentError("a streamed AWS request body needs a payload hash")
        all_headers = dict(headers or {})
        all_headers[_CONTENT_SHA256] = payload_hash
        return Request(method, url, headers=all_headers, params=params, body=body, **kwargs)

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        # Credentials at hand (fixed ones, or temporary ones outside their
        # refresh window) sign at once: no Deferred, no extra CPU per call.
        credentials = self.credentials_provider.fresh()
        if credentials is not None:
            return self._sign_with(request, credentials)
        return self.credentials_provider.get().addCallback(
            lambda fetched: self._sign_with(request, fetched)
        )

    def _sign_with(self, request: Request, credentials: AWSCredentials) -> Request:
        payload_hash = request.headers.get(_CONTENT_SHA256) or EMPTY_SHA256
        signed = sign_headers(
            request.method,
            request.full_url,
            request.headers,
            payload_hash,
            credentials,
            self.region or DEFAULT_REGION,
            self.service_name,
            self.reactor.seconds(),
        )
        return request.with_headers(signed)

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        details = error_details(response)
        # AWS JSON protocols prefix codes with a namespace: "ns#ClusterNotFoundException".
        code = (details.code or "").rsplit("#", 1)[-1]
        if code in _EXPIRED_CODES and isinstance(self.credentials_provider, RefreshingProvider):
            # The service says the session is over before its stated expiry
            # (clock skew, a revoked session): fetch new credentials next time.
            self.credentials_provider.invalidate()
        message = response.describe(details.message)
        cls = InvalidCredsError if code in CREDENTIAL_ERROR_CODES else self.error_codes.get(code)
        if cls is None:
            return default_error_mapper(response)
        return cls(
            message,
            response.driver,
            status=response.status,
            code=code,
            request_id=details.request_id,
        )
