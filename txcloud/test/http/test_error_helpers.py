"""Tests of the helpers of txcloud.http.errors that drivers' error mappers share."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import ContainerNotFoundError, ProviderError
from txcloud.http.errors import ErrorResponse, retyped_error
from txcloud.http.headers import HeaderMap
from txcloud.http.request import Request


def not_found() -> ErrorResponse:
    request = Request("GET", "https://api.example/v1/things/1?token=SECRET")
    return ErrorResponse(404, "Not Found", HeaderMap(), b"", request, "Example")


class DescribeTests(SynchronousTestCase):
    def test_the_request_is_named_with_its_url_redacted(self) -> None:
        self.assertEqual(
            not_found().describe(),
            "HTTP 404 Not Found for GET https://api.example/v1/things/1?token=<redacted>",
        )

    def test_a_detail_follows_a_colon_unless_empty(self) -> None:
        response = not_found()
        self.assertEqual(
            [response.describe("no such thing"), response.describe(""), response.describe(None)],
            [response.describe() + ": no such thing", response.describe(), response.describe()],
        )


class RetypedErrorTests(SynchronousTestCase):
    def test_the_new_type_keeps_every_field(self) -> None:
        error = ProviderError("gone", "Example", status=404, code="NotFound", request_id="r1")
        new = retyped_error(error, ContainerNotFoundError)
        self.assertIsInstance(new, ContainerNotFoundError)
        self.assertEqual(
            (new.message, new.driver_name, new.status, new.code, new.request_id),
            ("gone", "Example", 404, "NotFound", "r1"),
        )
