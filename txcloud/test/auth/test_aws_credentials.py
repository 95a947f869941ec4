"""Tests for txcloud.auth.aws.credentials."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.aws.chain import credentials_for
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.errors import InvalidCredsError

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
ENVIRONMENT_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT", "AWS_SECRET_ACCESS_KEY": "env-secret"}


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


class StaticKeysTests(SynchronousTestCase):
    """
    Fixed keys from the arguments, the environment and the shared credentials
    file, through the default chain (the metadata service switched off, so
    nothing is sent).
    """

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

    def env(self, credentials_file: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "HOME": self.mktemp(),
            "AWS_CONFIG_FILE": self.mktemp(),
            "AWS_SHARED_CREDENTIALS_FILE": credentials_file or self.mktemp(),
            "AWS_EC2_METADATA_DISABLED": "true",
            **extra,
        }

    def keys(
        self, env: dict[str, str], *arguments: str, profile: str | None = None
    ) -> AWSCredentials:
        provider = credentials_for(*arguments, profile=profile, environ=env, reactor=Clock())
        found = provider.fresh()
        assert found is not None
        return found

    def test_explicit_arguments_win_over_environment_and_file(self) -> None:
        env = self.env(self.profiles_file(), **ENVIRONMENT_KEYS)
        self.assertEqual(self.keys(env, KEY, SECRET, TOKEN), AWSCredentials(KEY, SECRET, TOKEN))

    def test_explicit_key_without_secret_is_refused(self) -> None:
        for arguments in ((KEY,), (None, SECRET), (None, None, TOKEN)):
            with self.subTest(arguments=arguments):
                with self.assertRaises(InvalidCredsError) as caught:
                    credentials_for(*arguments, environ=self.env(), reactor=Clock())
                self.assertNotIn(SECRET, str(caught.exception))
                self.assertNotIn(TOKEN, str(caught.exception))

    def test_environment_wins_over_the_file(self) -> None:
        env = self.env(self.profiles_file(), AWS_SESSION_TOKEN="env-token", **ENVIRONMENT_KEYS)
        self.assertEqual(
            self.keys(env), AWSCredentials("AKIAENVIRONMENT", "env-secret", "env-token")
        )

    def test_empty_environment_token_means_no_token(self) -> None:
        env = self.env(AWS_SESSION_TOKEN="", **ENVIRONMENT_KEYS)
        self.assertIsNone(self.keys(env).session_token)

    def test_environment_with_only_a_secret_is_refused_naming_the_missing_variable(self) -> None:
        with self.assertRaises(InvalidCredsError) as caught:
            self.keys(self.env(AWS_SECRET_ACCESS_KEY="env-secret"))
        self.assertIn("AWS_ACCESS_KEY_ID", str(caught.exception))
        self.assertNotIn("env-secret", str(caught.exception))

    def test_file_default_profile_is_used_without_environment(self) -> None:
        found = self.keys(self.env(self.profiles_file()))
        self.assertEqual(found, AWSCredentials("AKIAFILEDEFAULT", "file-default-secret"))

    def test_aws_profile_selects_the_file_section_after_the_environment(self) -> None:
        path = self.profiles_file()
        self.assertEqual(
            self.keys(self.env(path, AWS_PROFILE="prod")),
            AWSCredentials("AKIAFILEPROD", "file-prod-secret", "file-prod-token"),
        )
        self.assertEqual(
            self.keys(self.env(path, AWS_PROFILE="prod", **ENVIRONMENT_KEYS)),
            AWSCredentials("AKIAENVIRONMENT", "env-secret"),
        )

    def test_profile_argument_wins_over_aws_profile_and_skips_the_environment(self) -> None:
        env = self.env(self.profiles_file(), AWS_PROFILE="default", **ENVIRONMENT_KEYS)
        self.assertEqual(self.keys(env, profile="prod").access_key, "AKIAFILEPROD")

    def test_percent_in_a_secret_is_read_literally(self) -> None:
        path = self.write_file(
            "[default]\naws_access_key_id = AKIAPCT\naws_secret_access_key = a%(b)s%%c\n"
        )
        self.assertEqual(self.keys(self.env(path)).secret_key, "a%(b)s%%c")

    def test_nothing_found_names_every_place_searched_and_no_value(self) -> None:
        env = self.env(AWS_SESSION_TOKEN=TOKEN)
        with self.assertRaises(InvalidCredsError) as caught:
            self.keys(env)
        message = str(caught.exception)
        for place in ("AWS_ACCESS_KEY_ID", "profile 'default'", "instance metadata"):
            self.assertIn(place, message)
        self.assertNotIn(TOKEN, message)

    def test_named_profile_missing_from_the_file_is_refused(self) -> None:
        with self.assertRaises(InvalidCredsError) as caught:
            self.keys(self.env(self.profiles_file(), **ENVIRONMENT_KEYS), profile="staging")
        self.assertIn("'staging'", str(caught.exception))

    def test_incomplete_profile_is_refused_naming_the_missing_option(self) -> None:
        path = self.write_file("[default]\naws_secret_access_key = lonely-secret\n")
        with self.assertRaises(InvalidCredsError) as caught:
            self.keys(self.env(path))
        self.assertIn("aws_access_key_id", str(caught.exception))
        self.assertNotIn("lonely-secret", str(caught.exception))

    def test_unparsable_file_is_refused_without_quoting_or_chaining_its_lines(self) -> None:
        path = self.write_file("aws_secret_access_key = leaked-secret\n[default\n")
        with self.assertRaises(InvalidCredsError) as caught:
            self.keys(self.env(path))
        self.assertIn(path, str(caught.exception))
        self.assertNotIn("leaked-secret", str(caught.exception))
        self.assertIsNone(caught.exception.__cause__)
        self.assertTrue(caught.exception.__suppress_context__)
