"""
Tests of Keystone v3 authentication (txcloud.auth.openstack.keystone):
request bodies, checks before any request, and the token session on a
Clock against txcloud.testing.openstack's Keystone.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.openstack import KeystoneCredentials, keystone_session
from txcloud.auth.openstack.keystone import normalise_auth_url
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.test.http._support import capture_logs
from txcloud.testing.openstack import DEFAULT_PASSWORD, DEFAULT_PROJECT, DEFAULT_USER, FakeOpenStack

AUTH_URL = "http://keystone.test/v3"


def password_credentials(**changes: Any) -> KeystoneCredentials:
    fields: dict[str, Any] = {
        "user_name": DEFAULT_USER,
        "password": DEFAULT_PASSWORD,
        "project_name": DEFAULT_PROJECT,
    }
    fields.update(changes)
    return KeystoneCredentials(AUTH_URL, "password", **fields)


class AuthURLTests(SynchronousTestCase):
    def test_the_v3_base_is_found_in_each_spelling(self) -> None:
        for url in (
            "https://k:5000",
            "https://k:5000/",
            "https://k:5000/v3",
            "https://k:5000/v3/",
            "https://k:5000/v3/auth/tokens",
        ):
            self.assertEqual(normalise_auth_url(url), "https://k:5000/v3")
        self.assertEqual(normalise_auth_url("https://k/identity"), "https://k/identity/v3")

    def test_v2_and_other_schemes_are_refused(self) -> None:
        for url in ("https://k:5000/v2.0", "ftp://k", "", None):
            self.assertRaises(InvalidArgumentError, normalise_auth_url, url)


class RequestBodyTests(SynchronousTestCase):
    def test_a_user_id_and_a_project_id_need_no_domains(self) -> None:
        body = password_credentials(
            user_name=None, user_id="u1", project_name=None, project_id="p1"
        )
        self.assertEqual(
            body.request_body(),
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"id": "u1", "password": DEFAULT_PASSWORD}},
                    },
                    "scope": {"project": {"id": "p1"}},
                }
            },
        )

    def test_domains_by_name_or_id(self) -> None:
        auth = password_credentials(
            user_domain_name="Users", project_domain_id="d-42"
        ).request_body()["auth"]
        self.assertEqual(auth["identity"]["password"]["user"]["domain"], {"name": "Users"})
        self.assertEqual(auth["scope"]["project"]["domain"], {"id": "d-42"})

    def test_an_application_credential_by_name_names_its_user(self) -> None:
        credentials = KeystoneCredentials(
            AUTH_URL,
            "application_credential",
            user_name="alice",
            application_credential_name="ci",
            application_credential_secret="s3",
        )
        identity = credentials.request_body()["auth"]["identity"]
        self.assertEqual(
            identity["application_credential"],
            {"name": "ci", "secret": "s3", "user": {"name": "alice", "domain": {"id": "default"}}},
        )

    def test_missing_parts_are_refused(self) -> None:
        for method, fields in (
            ("password", {"user_name": "a", "project_name": "p"}),
            ("password", {"password": "x", "project_name": "p"}),
            ("password", {"user_name": "a", "password": "x"}),
            ("token", {"project_name": "p"}),
            ("token", {"token": "t"}),
            ("application_credential", {"application_credential_id": "i"}),
            (
                "application_credential",
                {"application_credential_name": "n", "application_credential_secret": "s"},
            ),
            (
                "application_credential",
                {
                    "application_credential_id": "i",
                    "application_credential_secret": "s",
                    "project_name": "p",
                },
            ),
            ("kerberos", {}),
            ("password", {"user_name": "a", "password": "", "project_name": "p"}),
        ):
            self.assertRaises(InvalidArgumentError, KeystoneCredentials, AUTH_URL, method, **fields)

    def test_secrets_stay_out_of_reprs_and_identities(self) -> None:
        credentials = password_credentials()
        self.assertNotIn(DEFAULT_PASSWORD, repr(credentials))
        self.assertNotIn(DEFAULT_PASSWORD, credentials.identity())
        self.assertNotEqual(
            credentials.identity(), password_credentials(password="other").identity()
        )


class SessionTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.cloud = FakeOpenStack(clock=self.clock)
        self.agent = self.cloud.agent()

    def session(self, **changes: Any) -> Any:
        return keystone_session(
            password_credentials(**changes), reactor=self.clock, agent=self.agent
        )

    def test_callers_waiting_together_share_one_request(self) -> None:
        self.cloud.latency = 1.0
        session = self.session()
        first, second = session.get(), session.get()
        self.clock.advance(1)
        self.cloud.flush()
        self.assertIs(self.successResultOf(first), self.successResultOf(second))
        self.assertEqual(len(self.cloud.grants), 1)

    def test_equal_credentials_share_a_session_and_others_do_not(self) -> None:
        self.assertIs(self.session(), self.session())
        self.assertIsNot(self.session(), self.session(project_name="other"))

    def test_the_token_is_kept_until_the_last_minute_before_expiry(self) -> None:
        session = self.session()
        token = self.successResultOf(session.get())
        self.assertEqual(token.expires_at, 1_700_000_000 + 3600)
        self.clock.advance(3600 - 301)
        self.assertIs(self.successResultOf(session.get()), token)
        self.assertEqual(session.fetched, 1)
        self.clock.advance(250)  # 51 seconds left: callers wait for a new one.
        renewed = self.successResultOf(session.get())
        self.assertIsNot(renewed, token)
        self.assertEqual(renewed.expires_at, self.clock.seconds() + 3600)

    def test_invalidating_drops_only_the_refused_token(self) -> None:
        session = self.session()
        old = self.successResultOf(session.get())
        session.invalidate(old)
        new = self.successResultOf(session.get())
        session.invalidate(old)  # Another driver reports the old one: kept.
        self.assertIs(self.successResultOf(session.get()), new)
        self.assertEqual(session.fetched, 2)

    def test_refused_credentials_name_keystone_and_not_the_password(self) -> None:
        events = capture_logs(self)
        error = self.failureResultOf(self.session(password="nope-nope").get(), InvalidCredsError)
        text = str(error.value)
        self.assertIn(f"Keystone at {AUTH_URL} (password of alice)", text)
        self.assertEqual((error.value.status, error.value.code), (401, "Unauthorized"))
        self.assertNotIn("nope-nope", text)
        self.assertFalse([e for e in events if "nope-nope" in repr(e)])

    def test_a_project_the_user_has_no_role_in_is_refused(self) -> None:
        self.failureResultOf(self.session(project_name="admin").get(), InvalidCredsError)
