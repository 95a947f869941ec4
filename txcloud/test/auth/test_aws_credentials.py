"""Tests for txcloud.auth.aws.credentials."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.aws.credentials import AWSCredentials, resolve_credentials
from txcloud.errors import InvalidCredsError

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"


class AWSCredentialsTests(SynchronousTestCase):
    """The credentials value."""

    def test_repr_shows_four_characters_of_the_access_key_only(self) -> None:
        self.assertEqual(repr(AWSCredentials(KEY, SECRET)), "AWSCredentials(access_key='AKIA…')")

    def test_repr_says_a_session_token_is_set_without_showing_it(self) -> None:
        shown = repr(AWSCredentials(KEY, SECRET, TOKEN))
        self.assertEqual(shown, "AWSCredentials(access_key='AKIA…', session_token=<hidden>)")
        self.assertEqual(str(AWSCredentials(KEY, SECRET, TOKEN)), shown)

    def test_credentials_are_immutable_values(self) -> None:
        credentials = AWSCredentials(KEY, SECRET)
        self.assertEqual(credentials, AWSCredentials(KEY, SECRET))
        with self.assertRaises(AttributeError):
            credentials.secret_key = "other"  # type: ignore[misc]

    def test_missing_or_malformed_values_are_refused_without_quoting_them(self) -> None:
        for arguments in (
            ("", SECRET),
            (KEY, ""),
            (KEY, None),
            (KEY + "/x", SECRET),
            (KEY + " ", SECRET),
            (KEY, SECRET, ""),
            (KEY, SECRET, TOKEN + "\r\nX: y"),
        ):
            with self.subTest(arguments=arguments):
                with self.assertRaises(InvalidCredsError) as caught:
                    AWSCredentials(*arguments)
                self.assertNotIn(SECRET, str(caught.exception))
                self.assertNotIn(TOKEN, str(caught.exception))
                self.assertNotIn(KEY, str(caught.exception))


class ResolveCredentialsTests(SynchronousTestCase):
    """Where resolve_credentials looks, in which order, and how it fails."""

    def write_file(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as credentials:
            credentials.write(text)
        return path

    def profiles_file(self) -> str:
        return self.write_file(
            "[default]\n"
            "aws_access_key_id = AKIAFILEDEFAULT\n"
            "aws_secret_access_key = file-default-secret\n"
            "\n"
            "[prod]\n"
            "aws_access_key_id = AKIAFILEPROD\n"
            "aws_secret_access_key = file-prod-secret\n"
            "aws_session_token = file-prod-token\n"
        )

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT",
            "AWS_SECRET_ACCESS_KEY": "env-secret",
            **extra,
        }

    def test_explicit_arguments_win_over_environment_and_file(self) -> None:
        found = resolve_credentials(
            KEY, SECRET, TOKEN, environ=self.env(), credentials_file=self.profiles_file()
        )
        self.assertEqual(found, AWSCredentials(KEY, SECRET, TOKEN))

    def test_explicit_key_without_secret_is_refused(self) -> None:
        for arguments in ({"key": KEY}, {"secret": SECRET}, {"token": TOKEN}):
            with self.subTest(arguments=arguments):
                with self.assertRaises(InvalidCredsError) as caught:
                    resolve_credentials(**arguments, environ=self.env())
                self.assertNotIn(SECRET, str(caught.exception))
                self.assertNotIn(TOKEN, str(caught.exception))

    def test_environment_wins_over_the_file(self) -> None:
        found = resolve_credentials(
            environ=self.env(AWS_SESSION_TOKEN="env-token"), credentials_file=self.profiles_file()
        )
        self.assertEqual(found, AWSCredentials("AKIAENVIRONMENT", "env-secret", "env-token"))

    def test_empty_environment_token_means_no_token(self) -> None:
        found = resolve_credentials(environ=self.env(AWS_SESSION_TOKEN=""))
        self.assertIsNone(found.session_token)

    def test_environment_with_only_a_secret_is_refused_naming_the_missing_variable(self) -> None:
        with self.assertRaises(InvalidCredsError) as caught:
            resolve_credentials(environ={"AWS_SECRET_ACCESS_KEY": "env-secret"})
        self.assertIn("AWS_ACCESS_KEY_ID", str(caught.exception))
        self.assertNotIn("env-secret", str(caught.exception))

    def test_file_default_profile_is_used_without_environment(self) -> None:
        found = resolve_credentials(environ={}, credentials_file=self.profiles_file())
        self.assertEqual(found, AWSCredentials("AKIAFILEDEFAULT", "file-default-secret"))

    def test_aws_profile_selects_the_file_section_after_the_environment(self) -> None:
        path = self.profiles_file()
        self.assertEqual(
            resolve_credentials(environ={"AWS_PROFILE": "prod"}, credentials_file=path),
            AWSCredentials("AKIAFILEPROD", "file-prod-secret", "file-prod-token"),
        )
        self.assertEqual(
            resolve_credentials(environ=self.env(AWS_PROFILE="prod"), credentials_file=path),
            AWSCredentials("AKIAENVIRONMENT", "env-secret"),
        )

    def test_profile_argument_wins_over_aws_profile_and_skips_the_environment(self) -> None:
        found = resolve_credentials(
            profile="prod",
            environ=self.env(AWS_PROFILE="default"),
            credentials_file=self.profiles_file(),
        )
        self.assertEqual(found.access_key, "AKIAFILEPROD")

    def test_shared_credentials_file_variable_names_the_file(self) -> None:
        found = resolve_credentials(environ={"AWS_SHARED_CREDENTIALS_FILE": self.profiles_file()})
        self.assertEqual(found.access_key, "AKIAFILEDEFAULT")

    def test_credentials_file_argument_wins_over_the_variable(self) -> None:
        other = self.write_file(
            "[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other-secret\n"
        )
        found = resolve_credentials(
            environ={"AWS_SHARED_CREDENTIALS_FILE": self.profiles_file()}, credentials_file=other
        )
        self.assertEqual(found.access_key, "AKIAOTHER")

    def test_percent_in_a_secret_is_read_literally(self) -> None:
        path = self.write_file(
            "[default]\naws_access_key_id = AKIAPCT\naws_secret_access_key = a%(b)s%%c\n"
        )
        found = resolve_credentials(environ={}, credentials_file=path)
        self.assertEqual(found.secret_key, "a%(b)s%%c")

    def test_nothing_found_names_every_place_searched_and_no_value(self) -> None:
        missing = self.mktemp()
        with self.assertRaises(InvalidCredsError) as caught:
            resolve_credentials(environ={"AWS_SESSION_TOKEN": TOKEN}, credentials_file=missing)
        message = str(caught.exception)
        self.assertEqual(
            message,
            "no AWS credentials found; looked in the key/secret arguments, the environment "
            "variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and profile 'default' of "
            f"the shared credentials file {missing}",
        )

    def test_named_profile_missing_from_the_file_is_refused(self) -> None:
        path = self.profiles_file()
        with self.assertRaises(InvalidCredsError) as caught:
            resolve_credentials(profile="staging", environ=self.env(), credentials_file=path)
        self.assertIn("'staging'", str(caught.exception))
        self.assertIn(path, str(caught.exception))
        self.assertNotIn("environment variables", str(caught.exception))

    def test_incomplete_profile_is_refused_naming_the_missing_option(self) -> None:
        path = self.write_file("[default]\naws_secret_access_key = lonely-secret\n")
        with self.assertRaises(InvalidCredsError) as caught:
            resolve_credentials(environ={}, credentials_file=path)
        self.assertIn("aws_access_key_id", str(caught.exception))
        self.assertNotIn("lonely-secret", str(caught.exception))

    def test_unparsable_file_is_refused_without_quoting_or_chaining_its_lines(self) -> None:
        path = self.write_file("aws_secret_access_key = leaked-secret\n[default\n")
        with self.assertRaises(InvalidCredsError) as caught:
            resolve_credentials(environ={}, credentials_file=path)
        self.assertEqual(
            str(caught.exception), f"the shared credentials file {path} could not be read"
        )
        self.assertIsNone(caught.exception.__cause__)
        self.assertTrue(caught.exception.__suppress_context__)

    def test_unreadable_file_is_refused(self) -> None:
        directory = self.mktemp()
        os.mkdir(directory)
        with self.assertRaises(InvalidCredsError):
            resolve_credentials(environ={}, credentials_file=directory)
