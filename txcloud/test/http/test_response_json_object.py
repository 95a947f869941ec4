"""Tests of txcloud.http.Response.json_object: a body that must be a JSON object."""

from __future__ import annotations

from txcloud.errors import MalformedResponseError
from txcloud.test.http.test_response import ResponseTestCase


class JSONObjectTests(ResponseTestCase):
    def answer(self, body: bytes) -> None:
        self.raw.send(body)
        self.raw.finish()

    def test_an_object_is_returned(self) -> None:
        read = self.response.json_object("not an object")
        self.answer(b'{"a": 1}')
        self.assertEqual(self.successResultOf(read), {"a": 1})

    def test_another_document_fails_with_the_message_and_the_driver(self) -> None:
        read = self.response.json_object("the answer is not an object")
        self.answer(b"[1, 2]")
        error = self.failureResultOf(read, MalformedResponseError).value
        self.assertEqual(error.message, "the answer is not an object")
        self.assertEqual(error.driver_name, "test")
