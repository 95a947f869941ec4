"""Tests for txcloud.http.headers."""

from __future__ import annotations

import gc

from twisted.trial.unittest import SynchronousTestCase
from twisted.web.http_headers import Headers

from txcloud.errors import InvalidArgumentError
from txcloud.http.headers import HeaderMap


class HeaderMapTests(SynchronousTestCase):
    def test_lookup_ignores_case(self) -> None:
        headers = HeaderMap({"Content-Type": "text/plain"})
        self.assertEqual(headers["content-type"], "text/plain")
        self.assertIn("CONTENT-TYPE", headers)

    def test_repeated_header_joins_values_and_lists_them(self) -> None:
        headers = HeaderMap([("x-amz-meta-a", "1"), ("X-Amz-Meta-A", "2")])
        self.assertEqual(headers["X-AMZ-META-A"], "1, 2")
        self.assertEqual(headers.get_all("x-amz-meta-a"), ["1", "2"])
        self.assertEqual(len(headers), 1)

    def test_list_values_become_repeated_headers(self) -> None:
        headers = HeaderMap({"Accept": ["a/b", "c/d"]})
        self.assertEqual(headers.pairs(), (("Accept", "a/b"), ("Accept", "c/d")))

    def test_integer_value_becomes_text(self) -> None:
        self.assertEqual(HeaderMap({"x-count": 3})["x-count"], "3")

    def test_replace_overrides_same_name_in_any_case(self) -> None:
        headers = HeaderMap({"Date": "old", "Host": "h"}).replace({"date": "new"})
        self.assertEqual(headers.pairs(), (("Host", "h"), ("date", "new")))

    def test_without_drops_names(self) -> None:
        headers = HeaderMap({"Content-Length": "3", "A": "b"}).without("content-length")
        self.assertEqual(dict(headers), {"A": "b"})

    def test_without_names_absent_gives_equal_headers(self) -> None:
        headers = HeaderMap({"A": "b"})
        self.assertEqual(headers.without("Content-Length").pairs(), (("A", "b"),))

    def test_replace_with_a_header_map_keeps_every_value(self) -> None:
        update = HeaderMap([("X-A", "1"), ("x-a", "2")])
        headers = HeaderMap({"x-a": "0", "B": "c"}).replace(update)
        self.assertEqual(headers.pairs(), (("B", "c"), ("X-A", "1"), ("x-a", "2")))
        self.assertEqual(headers.get_all("X-A"), ["1", "2"])

    def test_replace_refuses_an_invalid_new_header(self) -> None:
        headers = HeaderMap({"A": "b"})
        self.assertRaises(InvalidArgumentError, headers.replace, {"bad name": "v"})

    def test_line_break_in_value_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, HeaderMap, {"X-A": "v\r\nX-Injected: 1"})

    def test_invalid_name_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, HeaderMap, {"Bad Name": "v"})

    def test_non_text_value_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, HeaderMap, {"X-A": b"bytes"})

    def test_round_trip_through_twisted_headers(self) -> None:
        twisted = Headers({b"X-Meta": [b"caf\xc3\xa9", b"\xe9"]})
        headers = HeaderMap.from_twisted(twisted)
        # UTF-8 where valid, Latin-1 otherwise.
        self.assertEqual(headers.get_all("x-meta"), ["café", "é"])
        self.assertEqual(
            headers.to_twisted().getRawHeaders(b"x-meta"), [b"caf\xc3\xa9", b"\xc3\xa9"]
        )

    def test_equality_ignores_name_case(self) -> None:
        self.assertEqual(HeaderMap({"A": "1"}), HeaderMap({"a": "1"}))
        self.assertNotEqual(HeaderMap({"A": "1"}), HeaderMap({"a": "2"}))

    def test_repr_hides_secret_values(self) -> None:
        text = repr(HeaderMap({"Authorization": "Bearer s3cr3t", "Accept": "x"}))
        self.assertNotIn("s3cr3t", text)
        self.assertIn("'Accept': 'x'", text)

    def test_values_are_kept_in_objects_the_collector_stops_tracking(self) -> None:
        # Requests in flight by the thousand hold headers: only the map
        # itself should be left for the garbage collector to walk.
        headers = HeaderMap([("A", "1"), ("B", "2"), ("a", "3")])
        gc.collect()
        self.assertEqual(
            [gc.is_tracked(values) for values in headers._index.values()], [False, False]
        )
        self.assertEqual(headers.get_all("a"), ["1", "3"])
