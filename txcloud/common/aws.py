"""
What every Amazon Web Services driver shares: regions and endpoints,
credentials (arguments, environment, shared credentials file), SigV4
signing of each request, and the mapping of AWS error codes to txcloud's
errors.  EC2, S3 and ECS drivers subclass :class:`AWSDriver`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from txcloud.auth.aws.credentials import AWSCredentials, resolve_credentials
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

DEFAULT_REGION = "us-east-1"

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


class AWSDriver(HTTPDriver):
    """
    Base class of Amazon Web Services drivers.

    :param key: the access key id; from the environment or the shared
        credentials file when ``None``.
    :param secret: the secret access key.
    :param region: the region, ``"us-east-1"`` by default.
    :param ex_token: a session token (temporary credentials).
    :param ex_profile: the shared credentials file's profile to read.

    Other arguments are :class:`~txcloud.common.http_driver.HTTPDriver`'s.
    Subclasses set :attr:`service_name` and, for their own error codes,
    :attr:`error_codes`; they build requests with :meth:`_aws_request`.
    """

    #: The service's name in endpoints and in the SigV4 credential scope.
    service_name: ClassVar[str] = ""
    #: Provider error codes this service maps to finer txcloud errors.
    error_codes: ClassVar[Mapping[str, type[TxCloudError]]] = {}

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = DEFAULT_REGION,
        ex_token: str | None = None,
        ex_profile: str | None = None,
        **kwargs: Any,
    ) -> None:
        region = DEFAULT_REGION if region is None else region
        if not (isinstance(region, str) and _REGION.fullmatch(region)):
            raise InvalidArgumentError(f"not an AWS region name: {region!r}", self.name)
        super().__init__(key, secret, secure, host, port, region=region, **kwargs)
        self._credentials: AWSCredentials = resolve_credentials(
            key=key, secret=secret, token=ex_token, profile=ex_profile
        )
        self.key = self._credentials.access_key
        self._secret = None

    @property
    def credentials(self) -> AWSCredentials:
        """The credentials requests are signed with (their repr hides secrets)."""
        return self._credentials

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

    def _sign(self, request: Request) -> Request:
        payload_hash = request.headers.get(_CONTENT_SHA256) or EMPTY_SHA256
        signed = sign_headers(
            request.method,
            request.full_url,
            request.headers,
            payload_hash,
            self._credentials,
            self.region or DEFAULT_REGION,
            self.service_name,
            self.reactor.seconds(),
        )
        return request.with_headers(signed)

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        details = error_details(response)
        # AWS JSON protocols prefix codes with a namespace: "ns#ClusterNotFoundException".
        code = (details.code or "").rsplit("#", 1)[-1]
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
