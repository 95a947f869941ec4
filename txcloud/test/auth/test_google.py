"""
Unit tests of the Google service account flow (txcloud.auth.google): keys
loaded from their forms, JWT assertions checked with the public half of a
throwaway RSA key made here, and the token cache driven by a Clock against
a scripted token endpoint reached through treq's in-memory agent.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import parse_qs

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import NOT_DONE_YET
from twisted.web.server import Request as ServerRequest

from txcloud.auth.google import (
    DEFAULT_TOKEN_URI,
    JWT_BEARER_GRANT,
    STORAGE_FULL_CONTROL,
    AccessToken,
    ServiceAccountTokens,
    jwt_assertion,
    load_service_account_key,
    token_error_mapper,
)
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    MalformedResponseError,
    ServiceUnavailableError,
)
from txcloud.http import HTTPTransport, RetryPolicy
from txcloud.test.http._support import Answer, ScriptedResource, capture_logs

EMAIL = "uploader@project-1.iam.gserviceaccount.com"
TOKEN_URI = "https://oauth2.example.test/token"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PRIVATE_KEY = _rsa_key()
PEM = PRIVATE_KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()


def key_document(**changes: Any) -> dict[str, Any]:
    document = {
        "type": "service_account",
        "project_id": "project-1",
        "private_key_id": "kid-1",
        "private_key": PEM,
        "client_email": EMAIL,
        "token_uri": TOKEN_URI,
    }
    document.update(changes)
    return document


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of *assertion*, after checking its signature."""
    header, claims, signature = assertion.split(".")
    PRIVATE_KEY.public_key().verify(
        _unb64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return json.loads(_unb64(header)), json.loads(_unb64(claims))


def token_answer(token: str, expires_in: Any = 3600) -> Answer:
    body = json.dumps({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})
    return (200, {"Content-Type": "application/json"}, body.encode())


class KeyLoadingTests(SynchronousTestCase):
    def test_a_parsed_json_key_is_read(self) -> None:
        key = load_service_account_key(key_document())
        self.assertEqual(
            (key.client_email, key.token_uri, key.project_id, key.private_key_id),
            (EMAIL, TOKEN_URI, "project-1", "kid-1"),
        )

    def test_a_json_file_and_json_text_give_the_same_key(self) -> None:
        path = self.mktemp()
        with open(path, "w") as file:
            json.dump(key_document(), file)
        self.assertEqual(load_service_account_key(path), load_service_account_key(key_document()))
        self.assertEqual(
            load_service_account_key(json.dumps(key_document())),
            load_service_account_key(key_document()),
        )

    def test_a_bare_pem_key_needs_the_account_address(self) -> None:
        key = load_service_account_key(PEM, client_email=EMAIL)
        self.assertEqual((key.client_email, key.token_uri), (EMAIL, DEFAULT_TOKEN_URI))
        with self.assertRaises(InvalidArgumentError):
            load_service_account_key(PEM)

    def test_the_given_address_takes_precedence(self) -> None:
        key = load_service_account_key(
            key_document(), client_email="other@x.iam.gserviceaccount.com"
        )
        self.assertEqual(key.client_email, "other@x.iam.gserviceaccount.com")

    def test_unusable_keys_are_refused(self) -> None:
        ec_pem = (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
        for source in (
            key_document(private_key="-----BEGIN PRIVATE KEY-----\nnot a key\n"),
            key_document(private_key=ec_pem),
            key_document(private_key=None),
            key_document(client_email=None),
            key_document(type="authorized_user"),
            "[1, 2]",
            os.path.join(self.mktemp(), "missing.json"),
        ):
            with self.assertRaises(InvalidArgumentError) as caught:
                load_service_account_key(source)
            self.assertNotIn("not a key", str(caught.exception))

    def test_a_key_repr_shows_only_the_account(self) -> None:
        key = load_service_account_key(key_document())
        self.assertEqual(repr(key), f"<ServiceAccountKey {EMAIL!r}>")
        self.assertNotIn("PRIVATE", repr(key))


class AssertionTests(SynchronousTestCase):
    def test_the_assertion_is_an_rs256_jwt_for_the_token_uri(self) -> None:
        key = load_service_account_key(key_document())
        assertion = jwt_assertion(key, [STORAGE_FULL_CONTROL, "openid"], 1_700_000_000.7)
        header, claims = decode_jwt(assertion)
        self.assertEqual(header, {"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        self.assertEqual(
            claims,
            {
                "iss": EMAIL,
                "scope": f"{STORAGE_FULL_CONTROL} openid",
                "aud": TOKEN_URI,
                "iat": 1_700_000_000,
                "exp": 1_700_003_600,
            },
        )
        self.assertNotIn("=", assertion)

    def test_a_tampered_assertion_does_not_verify(self) -> None:
        key = load_service_account_key(key_document())
        header, _, signature = jwt_assertion(key, [STORAGE_FULL_CONTROL], 0).split(".")
        other = jwt_assertion(attrs.evolve(key, client_email="x@y"), [STORAGE_FULL_CONTROL], 0)
        with self.assertRaises(InvalidSignature):
            decode_jwt(f"{header}.{other.split('.')[1]}.{signature}")


class TokenTests(SynchronousTestCase):
    def make(
        self,
        *answers: Answer,
        margin: float = 300.0,
        advisory: float | None = None,
        attempts: int = 1,
    ) -> ServiceAccountTokens:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.server = ScriptedResource(*answers)
        self.agent = RequestTraversalAgent(self.server)
        transport = HTTPTransport(
            reactor=self.clock,
            agent=self.agent,
            retry=RetryPolicy(max_attempts=attempts, jitter=lambda cap: 0.0),
            error_mapper=token_error_mapper,
        )
        self.tokens = ServiceAccountTokens(
            load_service_account_key(key_document()),
            transport,
            self.clock,
            refresh_margin=margin,
            advisory_margin=advisory,
        )
        return self.tokens

    def resolve(self, *pending: Deferred[Any]) -> None:
        for _ in range(100):
            if all(d.called for d in pending):
                return
            self.agent.flush()
            self.clock.advance(0)

    def token(self) -> str:
        pending = self.tokens.token()
        self.resolve(pending)
        value: str = self.successResultOf(pending)
        return value

    def test_the_first_token_comes_from_a_signed_assertion(self) -> None:
        self.make(token_answer("ya29.first"))
        self.assertEqual(self.token(), "ya29.first")
        [request] = self.server.received
        self.assertEqual((request.method, request.uri), ("POST", "/token"))
        self.assertEqual(request.header("content-type"), "application/x-www-form-urlencoded")
        form = parse_qs(request.body.decode())
        self.assertEqual(form["grant_type"], [JWT_BEARER_GRANT])
        _, claims = decode_jwt(form["assertion"][0])
        self.assertEqual((claims["iss"], claims["iat"]), (EMAIL, 1_700_000_000))

    def test_a_token_is_cached_until_shortly_before_it_expires(self) -> None:
        self.make(token_answer("ya29.first"), token_answer("ya29.second"), advisory=300.0)
        self.assertEqual(self.token(), "ya29.first")
        self.clock.advance(3600 - 300 - 1)
        self.assertEqual(self.token(), "ya29.first")
        self.assertEqual(len(self.server.received), 1)
        self.clock.advance(1)
        self.assertEqual(self.token(), "ya29.second")
        self.assertEqual(len(self.server.received), 2)
        _, claims = decode_jwt(parse_qs(self.server.received[1].body.decode())["assertion"][0])
        self.assertEqual(claims["iat"], 1_700_000_000 + 3300)

    def test_a_string_lifetime_is_understood(self) -> None:
        self.make(token_answer("ya29.first", "600"), token_answer("ya29.second"))
        self.token()
        self.clock.advance(301)
        self.assertEqual(self.token(), "ya29.second")

    def test_callers_share_one_exchange_in_flight(self) -> None:
        finish: list[ServerRequest] = []

        def slow(request: ServerRequest) -> Any:
            finish.append(request)
            return NOT_DONE_YET

        self.make(slow)
        waiting = [self.tokens.token() for _ in range(3)]
        self.agent.flush()
        self.assertEqual([d.called for d in waiting], [False, False, False])
        self.assertEqual(len(self.server.received), 1)
        request = finish[0]
        request.setHeader("Content-Type", "application/json")
        request.write(json.dumps({"access_token": "ya29.shared", "expires_in": 3600}).encode())
        request.finish()
        self.resolve(*waiting)
        self.assertEqual([self.successResultOf(d) for d in waiting], ["ya29.shared"] * 3)
        self.assertEqual(self.token(), "ya29.shared")
        self.assertEqual(len(self.server.received), 1)

    def test_cancelling_one_caller_leaves_the_exchange_to_the_others(self) -> None:
        finish: list[ServerRequest] = []

        def slow(request: ServerRequest) -> Any:
            finish.append(request)
            return NOT_DONE_YET

        self.make(slow)
        first, second = self.tokens.token(), self.tokens.token()
        self.agent.flush()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        finish[0].write(json.dumps({"access_token": "ya29.kept", "expires_in": 60}).encode())
        finish[0].finish()
        self.resolve(second)
        self.assertEqual(self.successResultOf(second), "ya29.kept")

    def test_a_refused_account_gives_invalid_creds_to_every_caller(self) -> None:
        refused = json.dumps(
            {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        )
        self.make((400, {"Content-Type": "application/json"}, refused.encode()))
        waiting = [self.tokens.token(), self.tokens.token()]
        self.resolve(*waiting)
        for pending in waiting:
            error = self.failureResultOf(pending, InvalidCredsError).value
            self.assertEqual((error.status, error.code), (400, "invalid_grant"))
            self.assertIn("Invalid JWT Signature.", str(error))
            self.assertNotIn("assertion", str(error))

    def test_server_failures_are_retried_then_typed(self) -> None:
        failing: Answer = (503, {"Content-Type": "application/json"}, b'{"error": "unavailable"}')
        self.make(failing, failing, token_answer("ya29.after"), attempts=3)
        self.assertEqual(self.token(), "ya29.after")
        self.make(failing, attempts=2)
        pending = self.tokens.token()
        self.resolve(pending)
        self.failureResultOf(pending, ServiceUnavailableError)

    def test_answers_without_a_token_or_lifetime_are_malformed(self) -> None:
        for body in (
            {"expires_in": 3600},
            {"access_token": "ya29.x"},
            {"access_token": "ya29.x", "expires_in": -5},
            ["not", "an", "object"],
        ):
            self.make((200, {"Content-Type": "application/json"}, json.dumps(body).encode()))
            pending = self.tokens.token()
            self.resolve(pending)
            self.failureResultOf(pending, MalformedResponseError)

    def test_a_token_is_refreshed_in_the_background_before_the_margin(self) -> None:
        self.make(token_answer("ya29.first"), token_answer("ya29.second"))
        self.token()
        self.clock.advance(3600 - 900)
        self.assertEqual(self.token(), "ya29.first")
        self.agent.flush()
        self.assertEqual(len(self.server.received), 2)
        self.assertEqual(self.token(), "ya29.second")

    def test_a_failed_background_refresh_keeps_using_the_unexpired_token(self) -> None:
        failing: Answer = (500, {}, b"oops")
        self.make(token_answer("ya29.first"), failing, token_answer("ya29.second"))
        logs = capture_logs(self)
        self.token()
        self.clock.advance(3000)
        self.assertEqual(self.token(), "ya29.first")
        self.agent.flush()
        self.assertTrue(any("using the current one" in formatEvent(e) for e in logs))
        self.assertEqual(self.token(), "ya29.first")
        self.clock.advance(300)
        self.assertEqual(self.token(), "ya29.second")

    def test_a_failed_refresh_inside_the_margin_fails_the_callers(self) -> None:
        self.make(token_answer("ya29.first"), (500, {}, b"oops"), token_answer("ya29.second"))
        self.token()
        self.clock.advance(3400)
        pending = self.tokens.token()
        self.resolve(pending)
        self.failureResultOf(pending, ServiceUnavailableError)
        self.assertEqual(self.token(), "ya29.second")

    def test_an_expired_token_is_not_used_when_the_refresh_fails(self) -> None:
        self.make(token_answer("ya29.first"), (500, {}, b"oops"))
        self.token()
        self.clock.advance(3600)
        pending = self.tokens.token()
        self.resolve(pending)
        self.failureResultOf(pending, ServiceUnavailableError)

    def test_an_invalidated_token_is_fetched_again(self) -> None:
        self.make(token_answer("ya29.first"), token_answer("ya29.second"))
        self.token()
        self.tokens.invalidate()
        self.assertEqual(self.token(), "ya29.second")

    def test_no_secret_reaches_logs_or_reprs(self) -> None:
        logs = capture_logs(self)
        self.make(token_answer("ya29.secret-token"))
        self.token()
        assertion = parse_qs(self.server.received[0].body.decode())["assertion"][0]
        shown = [formatEvent(event) for event in logs] + [
            repr(self.tokens),
            repr(self.tokens.key),
            repr(AccessToken("ya29.secret-token", 5.0)),
        ]
        self.assertTrue(any(EMAIL in text for text in shown))
        for text in shown:
            for secret in ("ya29.secret-token", assertion, assertion.split(".")[2], "PRIVATE KEY"):
                self.assertNotIn(secret, text)

    def test_bad_settings_are_refused(self) -> None:
        key = load_service_account_key(key_document())
        transport = HTTPTransport(reactor=Clock(), agent=RequestTraversalAgent(ScriptedResource()))
        refused: list[dict[str, Any]] = [
            {"scopes": []},
            {"scopes": "one-string"},
            {"refresh_margin": -1},
        ]
        for options in refused:
            with self.assertRaises(InvalidArgumentError):
                ServiceAccountTokens(key, transport, Clock(), **options)
