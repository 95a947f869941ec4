"""Tests for txcloud.http.errors: mapping responses and failures to typed errors."""

from __future__ import annotations

import json

from OpenSSL import SSL
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.error import TimeoutError as ConnectTimeoutError
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import RequestGenerationFailed, ResponseNeverReceived

from txcloud.errors import (
    InvalidCredsError,
    NetworkError,
    ProviderError,
    RateLimitReached,
    RequestTimeoutError,
    ServiceUnavailableError,
    TLSVerificationError,
)
from txcloud.http.errors import (
    ErrorResponse,
    connection_error,
    default_error_mapper,
    error_details,
)
from txcloud.http.headers import HeaderMap
from txcloud.http.request import Request

SIGNED_URL = "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIDSECRET"


def error_response(
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    retry_after: float | None = None,
) -> ErrorResponse:
    return ErrorResponse(
        status=status,
        reason="Reason",
        headers=HeaderMap(headers),
        body=body,
        request=Request("GET", SIGNED_URL, headers={"Authorization": "AWS4 Signature=s3cr3t"}),
        driver="s3",
        retry_after=retry_after,
    )


class DefaultErrorMapperTests(SynchronousTestCase):
    def test_statuses_map_to_typed_errors(self) -> None:
        expected = {
            400: ProviderError,
            401: InvalidCredsError,
            403: InvalidCredsError,
            404: ProviderError,
            409: ProviderError,
            429: RateLimitReached,
            500: ServiceUnavailableError,
            501: ProviderError,
            502: ServiceUnavailableError,
            503: ServiceUnavailableError,
            504: ServiceUnavailableError,
        }
        for status, error_type in expected.items():
            error = default_error_mapper(error_response(status))
            self.assertIs(type(error), error_type, status)
            self.assertEqual(error.status, status)
            self.assertEqual(error.driver_name, "s3")

    def test_rate_limit_carries_retry_after(self) -> None:
        error = default_error_mapper(error_response(429, retry_after=12.0))
        assert isinstance(error, RateLimitReached)
        self.assertEqual(error.retry_after, 12.0)

    def test_throttling_code_is_a_rate_limit_whatever_the_status(self) -> None:
        ec2 = (
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            b"<Message>Request limit exceeded.</Message></Error></Errors>"
            b"<RequestID>ea966190</RequestID></Response>"
        )
        google = json.dumps(
            {"error": {"code": 403, "message": "Rate", "errors": [{"reason": "rateLimitExceeded"}]}}
        ).encode()
        for status, body in ((400, ec2), (403, google)):
            error = default_error_mapper(error_response(status, body))
            self.assertIsInstance(error, RateLimitReached, status)

    def test_s3_error_document_gives_code_message_and_request_id(self) -> None:
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
            b"<Message>The specified key does not exist.</Message><Key>k</Key>"
            b"<RequestId>4442587FB7D0A2F9</RequestId></Error>"
        )
        error = default_error_mapper(error_response(404, body))
        self.assertEqual(error.code, "NoSuchKey")
        self.assertEqual(error.request_id, "4442587FB7D0A2F9")
        self.assertIn("The specified key does not exist.", error.message)

    def test_request_id_header_wins_over_the_body(self) -> None:
        body = b"<Error><Code>AccessDenied</Code><RequestId>from-body</RequestId></Error>"
        response = error_response(403, body, headers={"x-amz-request-id": "from-header"})
        self.assertEqual(default_error_mapper(response).request_id, "from-header")

    def test_json_error_shapes(self) -> None:
        cases = [
            ({"id": "not_found", "message": "The resource was not found."}, "not_found"),
            ({"kind": "Status", "reason": "NotFound", "message": "pods not found"}, "NotFound"),
            ({"__type": "ClusterNotFoundException", "message": "nope"}, "ClusterNotFoundException"),
            ({"error": "invalid_grant", "error_description": "Bad token"}, "invalid_grant"),
        ]
        for document, code in cases:
            details = error_details(error_response(404, json.dumps(document).encode()))
            self.assertEqual(details.code, code, document)
            self.assertIsNotNone(details.message, document)

    def test_unparsable_body_leaves_only_the_status(self) -> None:
        html = b"<!DOCTYPE html><html><body>Bad Gateway</body></html>"
        error = default_error_mapper(error_response(502, html))
        self.assertIsInstance(error, ServiceUnavailableError)
        self.assertIsNone(error.code)

    def test_long_provider_message_is_cut(self) -> None:
        body = json.dumps({"message": "x" * 5000}).encode()
        self.assertLessEqual(len(default_error_mapper(error_response(400, body)).message), 700)

    def test_message_names_the_request_without_secrets(self) -> None:
        error = default_error_mapper(error_response(403))
        for text in (str(error), repr(error), error.message):
            self.assertIn("GET https://b.s3.amazonaws.com/k?", text)
            for secret in ("deadbeef", "AKIDSECRET", "s3cr3t"):
                self.assertNotIn(secret, text)


def never_received(exc: BaseException) -> ResponseNeverReceived:
    return ResponseNeverReceived([Failure(exc)])


class ConnectionErrorTests(SynchronousTestCase):
    request = Request("GET", SIGNED_URL)

    def test_refused_connection_is_a_network_error(self) -> None:
        error = connection_error(never_received(ConnectionRefusedError()), self.request, "s3")
        self.assertIs(type(error), NetworkError)
        self.assertIn("ConnectionRefusedError", str(error))

    def test_dns_failure_is_a_network_error(self) -> None:
        error = connection_error(DNSLookupError("b.s3.amazonaws.com"), self.request, None)
        self.assertIs(type(error), NetworkError)

    def test_connect_timeout_is_a_request_timeout(self) -> None:
        error = connection_error(ConnectTimeoutError(), self.request, None)
        self.assertIsInstance(error, RequestTimeoutError)

    def test_certificate_failure_is_a_tls_verification_error(self) -> None:
        ssl_error = SSL.Error([("SSL routines", "", "certificate verify failed")])
        error = connection_error(never_received(ssl_error), self.request, None)
        self.assertIsInstance(error, TLSVerificationError)

    def test_other_tls_failure_is_a_plain_network_error(self) -> None:
        ssl_error = SSL.Error([("SSL routines", "", "wrong version number")])
        error = connection_error(never_received(ssl_error), self.request, None)
        self.assertIs(type(error), NetworkError)

    def test_body_failure_gives_back_the_body_exception(self) -> None:
        cause = ValueError("iterator broke")
        error = connection_error(RequestGenerationFailed([Failure(cause)]), self.request, None)
        self.assertIs(error, cause)

    def test_message_hides_signed_url_parts(self) -> None:
        error = connection_error(never_received(ConnectionRefusedError()), self.request, None)
        self.assertNotIn("deadbeef", str(error))
        self.assertNotIn("AKIDSECRET", str(error))
