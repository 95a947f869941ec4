"""Tests for txcloud.http.request."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import InvalidArgumentError
from txcloud.http.body import BytesProducer
from txcloud.http.request import Request


class RequestValidationTests(SynchronousTestCase):
    def test_method_is_upper_cased(self) -> None:
        self.assertEqual(Request("get", "http://h/").method, "GET")

    def test_invalid_method_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GE T", "http://h/")

    def test_non_http_url_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GET", "ftp://h/")

    def test_relative_url_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GET", "/bucket/key")

    def test_bad_port_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GET", "http://h:99999/")

    def test_credentials_in_url_are_refused_without_echoing_them(self) -> None:
        error = self.assertRaises(InvalidArgumentError, Request, "GET", "http://u:pw123@h/")
        self.assertNotIn("pw123", str(error))

    def test_text_body_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "PUT", "http://h/", body="text")

    def test_missing_file_body_is_refused_before_sending(self) -> None:
        missing = Path(self.mktemp())
        self.assertRaises(InvalidArgumentError, Request, "PUT", "http://h/", body=missing)

    def test_status_outside_http_range_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GET", "http://h/", ok_statuses={42})

    def test_non_positive_timeout_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, Request, "GET", "http://h/", timeout=0)

    def test_copy_with_headers_keeps_every_other_field(self) -> None:
        request = Request(
            "POST", "http://h/x", {"A": "1"}, params={"p": "v"}, body=b"abc", ok_statuses={404}
        )
        copy = request.with_headers({"B": "2"})
        self.assertEqual(copy.full_url, "http://h/x?p=v")
        self.assertEqual(copy.headers.pairs(), (("A", "1"), ("B", "2")))
        self.assertIs(copy.body, request.body)
        self.assertEqual(copy.ok_statuses, frozenset({404}))
        self.assertEqual(request.headers.pairs(), (("A", "1"),))


class RequestURLTests(SynchronousTestCase):
    def test_params_are_rfc3986_encoded_in_order(self) -> None:
        request = Request("GET", "http://h/b", params=[("prefix", "a b/c"), ("list-type", 2)])
        self.assertEqual(request.full_url, "http://h/b?prefix=a%20b%2Fc&list-type=2")

    def test_params_extend_an_existing_query(self) -> None:
        request = Request("GET", "http://h/?Action=X", params={"Filter.1.Value": ["a", "b"]})
        self.assertEqual(request.full_url, "http://h/?Action=X&Filter.1.Value=a&Filter.1.Value=b")

    def test_without_params_full_url_is_url(self) -> None:
        self.assertEqual(Request("GET", "http://h/x?y=1").full_url, "http://h/x?y=1")

    def test_with_params_appends(self) -> None:
        request = Request("GET", "http://h/", params={"a": "1"}).with_params({"b": "2"})
        self.assertEqual(request.full_url, "http://h/?a=1&b=2")


class RequestRetryabilityTests(SynchronousTestCase):
    def test_safe_methods_are_idempotent_by_default(self) -> None:
        for method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"):
            self.assertTrue(Request(method, "http://h/").is_idempotent, method)

    def test_post_is_not_idempotent_unless_marked(self) -> None:
        self.assertFalse(Request("POST", "http://h/").is_idempotent)
        self.assertTrue(Request("POST", "http://h/", idempotent=True).is_idempotent)

    def test_bytes_body_is_retryable(self) -> None:
        self.assertTrue(Request("PUT", "http://h/", body=b"x").retryable)

    def test_iterator_body_is_not_retryable(self) -> None:
        self.assertFalse(Request("PUT", "http://h/", body=iter([b"x"])).retryable)

    def test_producer_body_is_not_retryable(self) -> None:
        self.assertFalse(Request("PUT", "http://h/", body=BytesProducer(b"x")).retryable)

    def test_producer_factory_body_is_retryable(self) -> None:
        request = Request("PUT", "http://h/", body=lambda: BytesProducer(b"x"))
        self.assertTrue(request.retryable)


class RequestReprTests(SynchronousTestCase):
    def test_repr_hides_secret_headers_query_and_body(self) -> None:
        request = Request(
            "POST",
            "https://h/token?X-Amz-Signature=sig123",
            headers={"Authorization": "Bearer tok456", "Content-Type": "application/json"},
            body=b'{"client_secret": "cs789"}',
        )
        text = repr(request)
        for secret in ("sig123", "tok456", "cs789"):
            self.assertNotIn(secret, text)
        self.assertIn("application/json", text)
        self.assertIn("POST https://h/token", text)

    def test_copy_with_headers_checks_the_new_headers(self) -> None:
        request = Request("GET", "http://h/")
        self.assertRaises(InvalidArgumentError, request.with_headers, {"X": "a\r\nB: c"})
        self.assertRaises(InvalidArgumentError, request.with_headers, {"bad name": "1"})

    def test_copy_with_headers_equals_a_rebuilt_request(self) -> None:
        request = Request("put", "http://h/x", {"A": "1"}, body=b"abc", idempotent=False, timeout=3)
        copy = request.with_headers({"B": "2"})
        rebuilt = request.replace(headers=copy.headers)
        fields = ("method", "url", "params", "idempotent", "timeout")
        self.assertEqual(
            [getattr(copy, name) for name in fields], [getattr(rebuilt, name) for name in fields]
        )
        self.assertEqual(copy.headers, rebuilt.headers)

    def test_with_headers_keeps_the_rest(self) -> None:
        request = Request("GET", "http://h/", headers={"A": "1", "B": "2"})
        changed = request.with_headers({"b": "3"})
        self.assertEqual(dict(changed.headers), {"A": "1", "b": "3"})
        self.assertEqual(changed.url, request.url)
