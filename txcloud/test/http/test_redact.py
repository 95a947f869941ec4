"""Tests for txcloud.http.redact."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.http.redact import (
    REDACTED,
    is_secret_header,
    is_secret_param,
    redact_headers,
    redact_url,
)


class RedactURLTests(SynchronousTestCase):
    def test_aws_presigned_query_parameters_are_hidden(self) -> None:
        url = (
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            "&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE"
        )
        self.assertEqual(
            redact_url(url),
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={REDACTED}&X-Amz-Signature={REDACTED}"
            f"&X-Amz-Security-Token={REDACTED}",
        )

    def test_azure_sas_signature_hidden_and_other_fields_kept(self) -> None:
        url = "https://a.blob.core.windows.net/c/b?sv=2021-08-06&se=2030-01-01&sig=abc%2Bdef%3D"
        self.assertEqual(
            redact_url(url),
            f"https://a.blob.core.windows.net/c/b?sv=2021-08-06&se=2030-01-01&sig={REDACTED}",
        )

    def test_generic_secret_names_are_hidden_case_insensitively(self) -> None:
        url = "http://h/p?Token=t1&access_token=t2&KEY=k&password=p&signature=s&prefix=a%20b"
        self.assertEqual(
            redact_url(url),
            f"http://h/p?Token={REDACTED}&access_token={REDACTED}&KEY={REDACTED}"
            f"&password={REDACTED}&signature={REDACTED}&prefix=a%20b",
        )

    def test_user_information_is_hidden(self) -> None:
        self.assertEqual(
            redact_url("https://user:hunter2@registry.example/v2/"),
            f"https://{REDACTED}@registry.example/v2/",
        )

    def test_url_without_secrets_is_unchanged(self) -> None:
        url = "https://ec2.eu-west-1.amazonaws.com/?Action=DescribeInstances&Version=2016-11-15"
        self.assertEqual(redact_url(url), url)

    def test_unparsable_url_is_not_echoed(self) -> None:
        self.assertEqual(redact_url("http://[::1/?sig=secret"), "<unparsable URL>")


class RedactHeadersTests(SynchronousTestCase):
    def test_secret_headers_are_hidden(self) -> None:
        headers = {
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/..., Signature=abc",
            "X-Amz-Security-Token": "tok",
            "x-ms-copy-source-authorization": "Bearer x",
            "Cookie": "session=1",
            "x-amz-server-side-encryption-customer-key": "base64key",
            "X-Registry-Auth": "eyJ1c2VybmFtZSI6ImEifQ==",
            "Content-Type": "application/xml",
            "x-amz-date": "20150830T123600Z",
        }
        self.assertEqual(
            redact_headers(headers),
            {
                "Authorization": REDACTED,
                "X-Amz-Security-Token": REDACTED,
                "x-ms-copy-source-authorization": REDACTED,
                "Cookie": REDACTED,
                "x-amz-server-side-encryption-customer-key": REDACTED,
                "X-Registry-Auth": REDACTED,
                "Content-Type": "application/xml",
                "x-amz-date": "20150830T123600Z",
            },
        )

    def test_azure_signature_header_pattern_is_secret(self) -> None:
        self.assertTrue(is_secret_header("x-ms-blob-signature-v2"))

    def test_ordinary_names_are_not_secret(self) -> None:
        self.assertFalse(is_secret_header("Keep-Alive"))
        self.assertFalse(is_secret_param("prefix"))
        self.assertFalse(is_secret_param("max-keys"))
