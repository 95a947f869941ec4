"""
Tests for txcloud.http.transport, against an in-memory twisted.web server
(treq's RequestTraversalAgent) with time driven by a Clock.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import HTTPConnectionPool, ResponseNeverReceived
from twisted.web.iweb import IAgent
from twisted.web.server import NOT_DONE_YET
from twisted.web.server import Request as ServerRequest
from zope.interface import implementer

from txcloud.errors import (
    ContainerDoesNotExistError,
    InvalidArgumentError,
    NetworkError,
    ProviderError,
    RateLimitReached,
    RequestTimeoutError,
    ServiceUnavailableError,
    TxCloudError,
)
from txcloud.http import (
    ErrorResponse,
    FileProducer,
    HTTPTransport,
    Request,
    Response,
    RetryPolicy,
    TLSOptions,
    default_error_mapper,
)
from txcloud.test.http._support import Answer, CountingPool, ScriptedResource, capture_logs

OK: Answer = (200, {"Content-Type": "text/plain"}, b"fine")
UNAVAILABLE: Answer = (503, {}, b"<Error><Code>ServiceUnavailable</Code></Error>")


def no_jitter(cap: float) -> float:
    return cap


@implementer(IAgent)
class FlakyAgent:
    """Fails the first requests with connection errors, then delegates."""

    def __init__(self, agent: Any, failures: list[BaseException]) -> None:
        self._agent = agent
        self._failures = failures
        self.calls = 0

    def request(
        self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None
    ) -> Deferred[Any]:
        self.calls += 1
        if self._failures:
            return fail(ResponseNeverReceived([Failure(self._failures.pop(0))]))
        return self._agent.request(method, uri, headers, bodyProducer)


class TransportTestCase(SynchronousTestCase):
    def make(self, *answers: Any, agent: Any = None, **options: Any) -> HTTPTransport:
        """A transport on a Clock in front of a server answering *answers*."""
        self.clock = Clock()
        self.server = ScriptedResource(*answers)
        self.agent = RequestTraversalAgent(self.server)
        options.setdefault(
            "retry", RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, jitter=no_jitter)
        )
        return HTTPTransport(
            reactor=self.clock,
            agent=agent or self.agent,
            timeout=30.0,
            driver="test",
            **options,
        )

    def requests_seen(self) -> int:
        return len(self.server.received)


class SendTests(TransportTestCase):
    def test_success_fires_with_the_response(self) -> None:
        transport = self.make(OK)
        d = transport.send(Request("GET", "http://h/b", params={"prefix": "a b"}))
        response = self.successResultOf(d)
        self.assertIsInstance(response, Response)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["content-type"], "text/plain")
        self.assertEqual(self.successResultOf(response.content()), b"fine")
        self.assertEqual(self.server.received[0].uri, "/b?prefix=a%20b")

    def test_cookies_a_server_sets_are_never_sent_back(self) -> None:
        transport = self.make((200, {"Set-Cookie": "session=abc; Path=/"}, b"ok"))
        for _ in range(2):
            response = self.successResultOf(transport.send(Request("GET", "http://h/")))
            self.successResultOf(response.content())
        self.assertEqual([r.header("cookie") for r in self.server.received], [None, None])

    def test_a_url_is_sent_in_uri_form(self) -> None:
        transport = self.make(OK)
        self.successResultOf(transport.send(Request("GET", "http://h/a%20b/c")))
        self.successResultOf(transport.send(Request("GET", "http://h/a%20b/c?x=%C3%A9")))
        self.assertEqual([r.uri for r in self.server.received], ["/a%20b/c", "/a%20b/c?x=%C3%A9"])

    def test_user_agent_is_sent_unless_the_request_has_one(self) -> None:
        transport = self.make(OK)
        self.successResultOf(transport.send(Request("GET", "http://h/")))
        self.successResultOf(transport.send(Request("GET", "http://h/", {"User-Agent": "me"})))
        agents = [r.header("user-agent") for r in self.server.received]
        self.assertTrue((agents[0] or "").startswith("txcloud/"))
        self.assertEqual(agents[1], "me")

    def test_framing_headers_come_from_the_body(self) -> None:
        transport = self.make(OK)
        request = Request("PUT", "http://h/k", {"Content-Length": "999"}, body=b"abc")
        self.successResultOf(transport.send(request))
        received = self.server.received[0]
        self.assertEqual(received.headers["content-length"], ["3"])
        self.assertEqual(received.body, b"abc")

    def test_signer_runs_before_every_attempt(self) -> None:
        def signer(request: Request) -> Request:
            return request.with_headers({"X-Signed-At": f"{self.clock.seconds():g}"})

        transport = self.make(UNAVAILABLE, OK, signer=signer)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(1)
        self.successResultOf(d)
        self.assertEqual([r.header("x-signed-at") for r in self.server.received], ["0", "1"])

    def test_signer_may_answer_later(self) -> None:
        signed: Deferred[Request] = Deferred()
        transport = self.make(OK, signer=lambda request: signed)
        d = transport.send(Request("GET", "http://h/"))
        self.assertEqual(self.requests_seen(), 0)
        signed.callback(Request("GET", "http://h/signed"))
        self.successResultOf(d)
        self.assertEqual(self.server.received[0].uri, "/signed")

    def test_signer_returning_something_else_is_refused(self) -> None:
        transport = self.make(OK, signer=lambda request: "nope")
        self.failureResultOf(transport.send(Request("GET", "http://h/")), InvalidArgumentError)
        self.assertEqual(self.requests_seen(), 0)

    def test_ok_statuses_come_back_as_responses(self) -> None:
        transport = self.make((404, {}, b""))
        response = self.successResultOf(
            transport.send(Request("HEAD", "http://h/k", ok_statuses={404}))
        )
        self.assertEqual(response.status, 404)

    def test_redirects_are_not_followed(self) -> None:
        transport = self.make((302, {"Location": "http://elsewhere/"}, b""), OK)
        failure = self.failureResultOf(transport.send(Request("GET", "http://h/")), ProviderError)
        self.assertEqual(failure.value.status, 302)
        self.assertEqual(self.requests_seen(), 1)

    def test_send_refuses_anything_but_a_request(self) -> None:
        transport = self.make(OK)
        self.assertRaises(InvalidArgumentError, transport.send, "http://h/")

    def test_custom_error_mapper_decides_the_error(self) -> None:
        def mapper(response: ErrorResponse) -> TxCloudError:
            if response.status == 404:
                return ContainerDoesNotExistError("gone", response.driver, container_name="c")
            return default_error_mapper(response)

        transport = self.make(
            (404, {}, b"<Error><Code>NoSuchBucket</Code></Error>"), error_mapper=mapper
        )
        failure = self.failureResultOf(
            transport.send(Request("GET", "http://h/c")), ContainerDoesNotExistError
        )
        self.assertEqual(failure.value.container_name, "c")

    def test_error_body_given_to_the_mapper_is_capped(self) -> None:
        seen: list[ErrorResponse] = []

        def mapper(response: ErrorResponse) -> TxCloudError:
            seen.append(response)
            return default_error_mapper(response)

        transport = self.make((400, {}, b"x" * 1000), error_mapper=mapper, max_error_body=10)
        self.failureResultOf(transport.send(Request("GET", "http://h/")), ProviderError)
        self.assertEqual(seen[0].body, b"x" * 10)


class RetryTests(TransportTestCase):
    def test_retry_then_success(self) -> None:
        transport = self.make(UNAVAILABLE, UNAVAILABLE, OK)
        d = transport.send(Request("GET", "http://h/"))
        self.assertEqual(self.requests_seen(), 1)
        self.clock.advance(1)
        self.assertEqual(self.requests_seen(), 2)
        self.assertNoResult(d)
        self.clock.advance(2)
        self.assertEqual(self.successResultOf(d).status, 200)
        self.assertEqual(self.requests_seen(), 3)

    def test_exhausted_budget_raises_the_last_typed_error(self) -> None:
        transport = self.make(UNAVAILABLE, UNAVAILABLE, (429, {}, b""))
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(1)
        self.clock.advance(2)
        failure = self.failureResultOf(d, RateLimitReached)
        self.assertEqual(failure.value.status, 429)
        self.assertEqual(self.requests_seen(), 3)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_backoff_doubles_between_attempts(self) -> None:
        sent_at: list[float] = []

        def unavailable(request: ServerRequest) -> bytes:
            sent_at.append(self.clock.seconds())
            request.setResponseCode(503)
            return b""

        retry = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=10.0, jitter=no_jitter)
        transport = self.make(unavailable, retry=retry)
        d = transport.send(Request("GET", "http://h/"))
        for _ in range(20):
            self.clock.advance(0.5)
        self.failureResultOf(d, ServiceUnavailableError)
        self.assertEqual(sent_at, [0.0, 1.0, 3.0, 7.0])

    def test_post_is_not_retried(self) -> None:
        transport = self.make(UNAVAILABLE, OK)
        d = transport.send(Request("POST", "http://h/", body=b"x"))
        self.failureResultOf(d, ServiceUnavailableError)
        self.assertEqual(self.requests_seen(), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_post_marked_idempotent_is_retried(self) -> None:
        transport = self.make(UNAVAILABLE, OK)
        d = transport.send(Request("POST", "http://h/", body=b"x", idempotent=True))
        self.clock.advance(1)
        self.successResultOf(d)
        self.assertEqual([r.body for r in self.server.received], [b"x", b"x"])

    def test_client_error_is_not_retried(self) -> None:
        transport = self.make((400, {}, b""), OK)
        self.failureResultOf(transport.send(Request("GET", "http://h/")), ProviderError)
        self.assertEqual(self.requests_seen(), 1)

    def test_retry_after_seconds_are_honoured(self) -> None:
        transport = self.make((429, {"Retry-After": "7"}, b""), OK)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(6.9)
        self.assertEqual(self.requests_seen(), 1)
        self.clock.advance(0.1)
        self.assertEqual(self.requests_seen(), 2)
        self.successResultOf(d)

    def test_retry_after_date_is_honoured(self) -> None:
        transport = self.make(
            (503, {"Retry-After": formatdate(1_700_000_005, usegmt=True)}, b""), OK
        )
        self.clock.advance(1_700_000_000)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(4.9)
        self.assertEqual(self.requests_seen(), 1)
        self.clock.advance(0.1)
        self.successResultOf(d)

    def test_retry_after_is_capped_by_max_delay(self) -> None:
        transport = self.make((429, {"Retry-After": "3600"}, b""), OK)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(10)
        self.successResultOf(d)
        self.assertEqual(self.requests_seen(), 2)

    def test_connection_error_is_retried(self) -> None:
        self.make(OK)
        flaky = FlakyAgent(self.agent, [ConnectionRefusedError()])
        transport = HTTPTransport(
            reactor=self.clock, agent=flaky, retry=RetryPolicy(base_delay=1.0, jitter=no_jitter)
        )
        d = transport.send(Request("GET", "http://h/"))
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d).status, 200)
        self.assertEqual(flaky.calls, 2)

    def test_connection_errors_exhaust_into_a_network_error(self) -> None:
        self.make(OK)
        flaky = FlakyAgent(self.agent, [ConnectionRefusedError() for _ in range(3)])
        retry = RetryPolicy(max_attempts=3, base_delay=1.0, jitter=no_jitter)
        transport = HTTPTransport(reactor=self.clock, agent=flaky, retry=retry)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(1)
        self.clock.advance(2)
        failure = self.failureResultOf(d, NetworkError)
        self.assertIn("ConnectionRefusedError", str(failure.value))
        self.assertEqual(flaky.calls, 3)

    def test_iterator_body_is_not_retried(self) -> None:
        transport = self.make(UNAVAILABLE, OK)
        d = transport.send(Request("PUT", "http://h/", body=iter([b"a", b"b"])))
        self.failureResultOf(d, ServiceUnavailableError)
        self.assertEqual(self.requests_seen(), 1)

    def test_body_factory_is_resent_intact(self) -> None:
        path = Path(self.mktemp())
        path.write_bytes(os.urandom(100_000))
        transport = self.make(UNAVAILABLE, OK)
        d = transport.send(Request("PUT", "http://h/k", body=lambda: FileProducer(path)))
        self.clock.advance(1)
        self.successResultOf(d)
        self.assertEqual([r.body for r in self.server.received], [path.read_bytes()] * 2)

    def test_cancelling_during_backoff_stops_retrying(self) -> None:
        transport = self.make(UNAVAILABLE, OK)
        d = transport.send(Request("GET", "http://h/"))
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.clock.advance(60)
        self.assertEqual(self.requests_seen(), 1)


def hang(requests: list[ServerRequest]) -> Any:
    """An answer that never completes, keeping the server request."""

    def render(request: ServerRequest) -> Any:
        requests.append(request)
        return NOT_DONE_YET

    return render


class TimeoutAndCancellationTests(TransportTestCase):
    def test_no_response_within_timeout_aborts_the_request(self) -> None:
        hung: list[ServerRequest] = []
        transport = self.make(hang(hung), retry=RetryPolicy(max_attempts=1))
        d = transport.send(Request("GET", "http://h/slow?sig=s3cr3t"))
        lost: list[Failure] = []
        hung[0].notifyFinish().addErrback(lost.append)
        self.clock.advance(29.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        failure = self.failureResultOf(d, RequestTimeoutError)
        self.assertEqual(
            str(failure.value),
            "no response to GET http://h/slow?sig=<redacted> within 30s (driver=test)",
        )
        self.agent.flush()
        self.assertEqual(len(lost), 1)

    def test_request_timeout_overrides_the_transport_timeout(self) -> None:
        transport = self.make(hang([]), retry=RetryPolicy(max_attempts=1))
        d = transport.send(Request("GET", "http://h/", timeout=5))
        self.clock.advance(5)
        self.failureResultOf(d, RequestTimeoutError)

    def test_timed_out_request_is_retried(self) -> None:
        transport = self.make(hang([]), OK)
        d = transport.send(Request("GET", "http://h/"))
        self.clock.advance(30)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d).status, 200)

    def test_cancelling_aborts_the_request(self) -> None:
        hung: list[ServerRequest] = []
        transport = self.make(hang(hung))
        d = transport.send(Request("GET", "http://h/"))
        lost: list[Failure] = []
        hung[0].notifyFinish().addErrback(lost.append)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.agent.flush()
        self.assertEqual(len(lost), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class StreamingUploadTests(TransportTestCase):
    def test_iterator_body_arrives_intact_with_chunked_encoding(self) -> None:
        transport = self.make(OK)
        chunks = [b"a" * 10, b"b" * 70_000, b"c"]
        self.successResultOf(transport.send(Request("PUT", "http://h/k", body=iter(chunks))))
        received = self.server.received[0]
        self.assertEqual(received.body, b"".join(chunks))
        self.assertEqual(received.header("transfer-encoding"), "chunked")

    def test_file_body_arrives_intact_with_its_length(self) -> None:
        path = Path(self.mktemp())
        path.write_bytes(os.urandom(300_000))
        transport = self.make(OK)
        self.successResultOf(transport.send(Request("PUT", "http://h/k", body=path)))
        received = self.server.received[0]
        self.assertEqual(received.body, path.read_bytes())
        self.assertEqual(received.header("content-length"), "300000")

    def test_async_iterator_body_arrives_intact(self) -> None:
        gates: list[Deferred[bytes]] = [Deferred() for _ in range(3)]

        async def chunks() -> AsyncIterator[bytes]:
            for gate in gates:
                yield await gate

        transport = self.make(OK)
        d = transport.send(Request("PUT", "http://h/k", body=chunks()))
        for n, gate in enumerate(gates):
            gate.callback(f"part{n};".encode())
            self.agent.flush()
        self.successResultOf(d)
        self.assertEqual(self.server.received[0].body, b"part0;part1;part2;")

    def test_iterator_raising_midway_fails_the_request_with_its_exception(self) -> None:
        def chunks() -> Iterator[bytes]:
            yield b"first"
            raise OSError("source went away")

        transport = self.make(OK)
        d = transport.send(Request("PUT", "http://h/k", body=chunks()))
        failure = self.failureResultOf(d, OSError)
        self.assertEqual(str(failure.value), "source went away")
        self.agent.flush()
        self.assertEqual(self.requests_seen(), 0)


class StreamingDownloadTests(TransportTestCase):
    def test_body_chunks_arrive_as_the_server_writes_them(self) -> None:
        writing: list[ServerRequest] = []

        def render(request: ServerRequest) -> Any:
            writing.append(request)
            request.write(b"first;")
            return NOT_DONE_YET

        transport = self.make(render)
        response = self.successResultOf(transport.send(Request("GET", "http://h/big")))
        chunks: list[bytes] = []

        async def read() -> None:
            async for chunk in response.iter_body():
                chunks.append(chunk)

        done = Deferred.fromCoroutine(read())
        self.agent.flush()
        self.assertEqual(chunks, [b"first;"])
        writing[0].write(b"second;")
        self.agent.flush()
        self.assertEqual(chunks, [b"first;", b"second;"])
        self.assertNoResult(done)
        writing[0].finish()
        self.agent.flush()
        self.successResultOf(done)


class LoggingAndSecretsTests(TransportTestCase):
    SECRETS = ("TOPSECRETTOKEN", "SIGSECRET", "CREDSECRET")

    def signed_request(self) -> Request:
        return Request("GET", "http://h/o?X-Amz-Signature=SIGSECRET&X-Amz-Credential=CREDSECRET")

    def signer(self, request: Request) -> Request:
        return request.with_headers({"Authorization": "Bearer TOPSECRETTOKEN"})

    def assert_no_secret(self, text: str) -> None:
        for secret in self.SECRETS:
            self.assertNotIn(secret, text)

    def test_attempts_and_retries_are_logged_with_redacted_urls(self) -> None:
        events = capture_logs(self)
        transport = self.make(UNAVAILABLE, OK, signer=self.signer)
        d = transport.send(self.signed_request())
        self.clock.advance(1)
        self.successResultOf(d)
        messages = [(e["log_level"], formatEvent(e)) for e in events]
        url = "http://h/o?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>"
        self.assertEqual(
            messages,
            [
                (LogLevel.debug, f"GET {url} -> 503 in 0.000s (attempt 1)"),
                (
                    LogLevel.info,
                    f"Retrying GET {url} in 1.00s; attempt 1 of 3 failed: HTTP 503 "
                    f"Service Unavailable for GET {url} "
                    "(driver=test, status=503, code=ServiceUnavailable)",
                ),
                (LogLevel.debug, f"GET {url} -> 200 in 0.000s (attempt 2)"),
            ],
        )

    def test_a_first_attempt_that_succeeds_logs_nothing(self) -> None:
        events = capture_logs(self)
        transport = self.make(OK, signer=self.signer)
        self.successResultOf(transport.send(self.signed_request()))
        self.assertEqual(events, [])

    def test_giving_up_is_logged_as_a_warning(self) -> None:
        events = capture_logs(self)
        transport = self.make(UNAVAILABLE)
        d = transport.send(self.signed_request())
        self.clock.advance(1)
        self.clock.advance(2)
        self.failureResultOf(d, ServiceUnavailableError)
        warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertTrue(warnings[0].startswith("Giving up on GET http://h/o?"))
        self.assertIn("after 3 attempts", warnings[0])

    def test_secrets_are_absent_from_logs_reprs_and_errors(self) -> None:
        events = capture_logs(self)
        transport = self.make(
            UNAVAILABLE, (403, {}, b"<Error><Code>AccessDenied</Code></Error>"), signer=self.signer
        )
        d = transport.send(self.signed_request())
        self.clock.advance(1)
        failure = self.failureResultOf(d, ProviderError)
        self.assertEqual(failure.value.status, 403)
        self.assertTrue(events)
        for event in events:
            self.assert_no_secret(formatEvent(event))
            self.assert_no_secret(repr(event))
        for text in (str(failure.value), repr(failure.value), failure.getTraceback()):
            self.assert_no_secret(text)
        self.assert_no_secret(repr(transport))

    def test_network_error_messages_have_no_secrets(self) -> None:
        self.make(OK)
        flaky = FlakyAgent(self.agent, [ConnectionRefusedError()])
        transport = HTTPTransport(
            reactor=self.clock, agent=flaky, signer=self.signer, retry=RetryPolicy(max_attempts=1)
        )
        failure = self.failureResultOf(transport.send(self.signed_request()), NetworkError)
        self.assert_no_secret(str(failure.value))


class ConstructionTests(SynchronousTestCase):
    def test_disabled_verification_is_logged_as_a_warning(self) -> None:
        events = capture_logs(self)
        HTTPTransport(reactor=MemoryReactorClock(), tls=TLSOptions(verify=False), driver="docker")
        warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertIn("TLS certificate verification is disabled for docker", warnings[0])

    def test_verified_transport_logs_no_warning(self) -> None:
        events = capture_logs(self)
        HTTPTransport(reactor=MemoryReactorClock())
        self.assertEqual([e for e in events if e["log_level"] == LogLevel.warn], [])

    def test_agent_excludes_pool_and_tls(self) -> None:
        reactor = MemoryReactorClock()
        agent = RequestTraversalAgent(ScriptedResource(OK))
        pool = HTTPConnectionPool(reactor)
        self.assertRaises(
            InvalidArgumentError, HTTPTransport, reactor=reactor, agent=agent, pool=pool
        )
        self.assertRaises(
            InvalidArgumentError, HTTPTransport, reactor=reactor, agent=agent, tls=TLSOptions()
        )

    def test_non_positive_timeout_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, HTTPTransport, reactor=Clock(), timeout=0)

    def test_close_leaves_a_pool_it_does_not_own_alone(self) -> None:
        pool = CountingPool(MemoryReactorClock())
        transport = HTTPTransport(reactor=MemoryReactorClock(), pool=pool)
        self.successResultOf(transport.close())
        self.assertEqual(pool.closes, 0)
