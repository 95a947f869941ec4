"""Tests for txcloud.http.no_proxy: which hosts skip the proxy."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import InvalidArgumentError
from txcloud.http.no_proxy import NEVER_PROXIED, parse_no_proxy


class NoProxyTests(SynchronousTestCase):
    def assertMatches(self, rules: str, host: str, port: int = 443) -> None:
        self.assertTrue(parse_no_proxy(rules).matches(host, port), (rules, host, port))

    def assertNotMatches(self, rules: str, host: str, port: int = 443) -> None:
        self.assertFalse(parse_no_proxy(rules).matches(host, port), (rules, host, port))

    def test_empty_or_none_matches_nothing(self) -> None:
        for text in (None, "", " , ,"):
            self.assertFalse(parse_no_proxy(text).matches("example.com", 443))

    def test_star_matches_everything(self) -> None:
        self.assertMatches("*", "anything.example")
        self.assertMatches("a.example, *", "10.1.2.3", 80)

    def test_host_name_matches_itself_and_subdomains(self) -> None:
        self.assertMatches("corp.example", "corp.example")
        self.assertMatches("corp.example", "s3.eu.corp.example")
        self.assertNotMatches("corp.example", "notcorp.example")
        self.assertNotMatches("corp.example", "corp.example.org")

    def test_leading_dot_or_star_dot_matches_the_domain_and_subdomains(self) -> None:
        for rule in (".corp.example", "*.corp.example"):
            self.assertMatches(rule, "corp.example")
            self.assertMatches(rule, "api.corp.example")
            self.assertNotMatches(rule, "xcorp.example")

    def test_names_compare_without_case_or_final_dot(self) -> None:
        self.assertMatches("Corp.Example.", "API.corp.example")
        self.assertMatches("corp.example", "api.CORP.example.")

    def test_entries_are_trimmed(self) -> None:
        self.assertMatches(" a.example ,  b.example ", "b.example")

    def test_ip_address_matches_only_that_address(self) -> None:
        self.assertMatches("10.1.2.3", "10.1.2.3")
        self.assertNotMatches("10.1.2.3", "10.1.2.4")
        self.assertMatches("::1", "::1")
        self.assertMatches("[::1]", "0:0::1")

    def test_address_rules_never_match_names(self) -> None:
        self.assertNotMatches("127.0.0.1", "localhost")

    def test_cidr_blocks(self) -> None:
        self.assertMatches("10.0.0.0/8", "10.200.3.4")
        self.assertNotMatches("10.0.0.0/8", "11.0.0.1")
        self.assertMatches("192.168.1.7/24", "192.168.1.200")
        self.assertMatches("fd00::/8", "fd12:3456::1")
        self.assertNotMatches("fd00::/8", "fe80::1")

    def test_host_port_matches_only_that_port(self) -> None:
        self.assertMatches("registry.example:5000", "registry.example", 5000)
        self.assertNotMatches("registry.example:5000", "registry.example", 443)
        self.assertMatches("10.0.0.1:8080", "10.0.0.1", 8080)
        self.assertNotMatches("10.0.0.1:8080", "10.0.0.1", 80)
        self.assertMatches("[::1]:8443", "::1", 8443)
        self.assertNotMatches("[::1]:8443", "::1", 443)

    def test_bad_entries_are_refused_naming_the_variable(self) -> None:
        for text in ("a.example:http", "a.example:0", "10.0.0.0/33", "[::1", "a b", "x@y", "."):
            with self.assertRaises(InvalidArgumentError) as caught:
                parse_no_proxy(text, "no_proxy")
            self.assertIn("no_proxy", str(caught.exception))

    def test_metadata_endpoints_are_never_proxied(self) -> None:
        for host in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "fe80::1"):
            self.assertTrue(NEVER_PROXIED.matches(host, 80), host)
        self.assertTrue(NEVER_PROXIED.matches("metadata.google.internal", 80))
        self.assertFalse(NEVER_PROXIED.matches("169.255.0.1", 80))
        self.assertFalse(NEVER_PROXIED.matches("s3.amazonaws.com", 443))
