"""Tests for txcloud.http.uri."""

from __future__ import annotations

from hyperlink import EncodedURL
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http.uri import prepared_url


class PreparedURLTests(SynchronousTestCase):
    def test_url_is_converted_as_treq_converts_it(self) -> None:
        for url in (
            "https://ec2.eu-west-1.amazonaws.com/",
            "http://127.0.0.1:8000/a%20b/c+d",
            "https://bücher.example/p/ä ö?x=é é",
            "https://h.example/a;b/c%2F?x==y&&z#frag",
        ):
            expected = EncodedURL.from_text(url).to_uri().to_text()
            self.assertEqual(prepared_url(url).to_uri().to_text(), expected)

    def test_host_is_idna_encoded(self) -> None:
        self.assertEqual(
            prepared_url("https://bücher.example/").to_text(), "https://xn--bcher-kva.example/"
        )

    def test_converting_again_gives_the_same_url(self) -> None:
        url = prepared_url("https://h.example/x")
        self.assertIs(url.to_uri(), url)

    def test_url_without_query_is_converted_once(self) -> None:
        self.assertIs(
            prepared_url("https://h.example/once"), prepared_url("https://h.example/once")
        )

    def test_url_with_query_is_not_kept(self) -> None:
        url = "https://h.example/o?X-Amz-Signature=abc"
        self.assertIsNot(prepared_url(url), prepared_url(url))


class PreparedTextTests(SynchronousTestCase):
    def test_text_is_the_uri_form_and_kept(self) -> None:
        url = prepared_url("https://bücher.example/a b")
        self.assertEqual(url.to_text(), "https://xn--bcher-kva.example/a%20b")
        self.assertIs(url.to_text(), url.to_text())
