"""Tests for txcloud.http.proxy: proxy URLs, the environment and ``ex_proxy``."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import InvalidArgumentError
from txcloud.http.proxy import ProxySettings, ProxyURL, parse_proxy_url, proxy_settings

SECRET = "pa:ss@wo/rd"


class ParseProxyURLTests(SynchronousTestCase):
    def test_host_and_port(self) -> None:
        self.assertEqual(parse_proxy_url("http://proxy.corp:3128"), ProxyURL("proxy.corp", 3128))

    def test_port_80_by_default_and_scheme_optional(self) -> None:
        self.assertEqual(parse_proxy_url("http://proxy.corp"), ProxyURL("proxy.corp", 80))
        self.assertEqual(parse_proxy_url("proxy.corp:8080"), ProxyURL("proxy.corp", 8080))
        self.assertEqual(parse_proxy_url("HTTP://proxy.corp/"), ProxyURL("proxy.corp", 80))

    def test_ipv6_host(self) -> None:
        proxy = parse_proxy_url("http://[::1]:3128")
        self.assertEqual((proxy.host, proxy.address), ("::1", "[::1]:3128"))

    def test_credentials_are_percent_decoded_and_sent_as_basic(self) -> None:
        proxy = parse_proxy_url("http://us%40er:pa%3Ass%40wo%2Frd@proxy:3128")
        self.assertEqual((proxy.username, proxy.password), ("us@er", SECRET))
        # base64 of "us@er:pa:ss@wo/rd"
        self.assertEqual(proxy.authorization, "Basic dXNAZXI6cGE6c3NAd28vcmQ=")

    def test_user_without_password(self) -> None:
        self.assertEqual(parse_proxy_url("http://user@proxy:1").authorization, "Basic dXNlcjo=")

    def test_no_credentials_no_authorization(self) -> None:
        self.assertIsNone(parse_proxy_url("http://proxy:1").authorization)

    def test_repr_and_str_hide_credentials(self) -> None:
        proxy = parse_proxy_url("http://user:pa%3Ass@proxy:3128")
        for text in (repr(proxy), str(proxy), repr(ProxySettings(https=proxy))):
            self.assertNotIn("pa:ss", text)
            self.assertNotIn("user", text)
        self.assertEqual(str(proxy), "http://proxy:3128")

    def test_bad_urls_are_refused_without_the_password(self) -> None:
        for text in (
            "https://u:hunter2@proxy:443",
            "socks5://u:hunter2@proxy:1080",
            "http://u:hunter2@:3128",
            "http://u:hunter2@proxy:99999",
            "http://u:hunter2@proxy:3128/path",
            "http://u:hunter2@proxy:3128?q=1",
        ):
            with self.assertRaises(InvalidArgumentError) as caught:
                parse_proxy_url(text, "HTTPS_PROXY")
            self.assertIn("HTTPS_PROXY", str(caught.exception))
            self.assertNotIn("hunter2", str(caught.exception))

    def test_not_text_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, parse_proxy_url, b"http://proxy:1")


class EnvironmentTests(SynchronousTestCase):
    def test_each_scheme_has_its_variable(self) -> None:
        settings = ProxySettings.from_environment(
            {"HTTP_PROXY": "http://p1:1", "HTTPS_PROXY": "http://p2:2"}
        )
        self.assertEqual(settings.http, ProxyURL("p1", 1))
        self.assertEqual(settings.https, ProxyURL("p2", 2))

    def test_lower_case_wins(self) -> None:
        settings = ProxySettings.from_environment(
            {
                "HTTPS_PROXY": "http://upper:1",
                "https_proxy": "http://lower:2",
                "NO_PROXY": "upper.example",
                "no_proxy": "lower.example",
            }
        )
        self.assertEqual(settings.https, ProxyURL("lower", 2))
        self.assertTrue(settings.no_proxy.matches("lower.example", 443))
        self.assertFalse(settings.no_proxy.matches("upper.example", 443))

    def test_empty_lower_case_turns_the_upper_case_off(self) -> None:
        settings = ProxySettings.from_environment({"HTTPS_PROXY": "http://p:1", "https_proxy": ""})
        self.assertIsNone(settings.https)

    def test_http_proxy_is_ignored_in_a_cgi_script(self) -> None:
        environ = {"HTTP_PROXY": "http://from-a-header:1", "REQUEST_METHOD": "GET"}
        self.assertIsNone(ProxySettings.from_environment(environ).http)
        environ["http_proxy"] = "http://set-by-the-admin:1"
        self.assertEqual(
            ProxySettings.from_environment(environ).http, ProxyURL("set-by-the-admin", 1)
        )

    def test_bad_value_names_its_variable(self) -> None:
        with self.assertRaises(InvalidArgumentError) as caught:
            ProxySettings.from_environment({"https_proxy": "ftp://u:hunter2@p"})
        self.assertIn("https_proxy", str(caught.exception))
        self.assertNotIn("hunter2", str(caught.exception))
        with self.assertRaises(InvalidArgumentError) as caught:
            ProxySettings.from_environment({"NO_PROXY": "a b"})
        self.assertIn("NO_PROXY", str(caught.exception))


class ProxyForTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.settings = ProxySettings(
            http=ProxyURL("plain", 1),
            https=ProxyURL("tunnel", 2),
            no_proxy=ProxySettings.from_environment({"no_proxy": ".corp.example"}).no_proxy,
        )

    def test_by_scheme(self) -> None:
        self.assertEqual(self.settings.proxy_for("http", "a.example", 80), ProxyURL("plain", 1))
        self.assertEqual(self.settings.proxy_for("https", "a.example", 443), ProxyURL("tunnel", 2))

    def test_no_proxy_goes_direct(self) -> None:
        self.assertIsNone(self.settings.proxy_for("https", "s3.corp.example", 443))

    def test_metadata_endpoints_go_direct(self) -> None:
        self.assertIsNone(self.settings.proxy_for("http", "169.254.169.254", 80))
        self.assertIsNone(self.settings.proxy_for("http", "fd00:ec2::254", 80))

    def test_routes_are_remembered_and_bounded(self) -> None:
        for n in range(600):
            self.settings.proxy_for("https", f"b{n}.example", 443)
        self.assertLessEqual(len(self.settings._routes), 256)


class ProxySettingsTests(SynchronousTestCase):
    def test_empty_string_means_no_proxy_whatever_the_environment(self) -> None:
        self.assertIsNone(proxy_settings("", {"HTTPS_PROXY": "http://p:1"}))

    def test_none_reads_the_environment(self) -> None:
        settings = proxy_settings(None, {"HTTPS_PROXY": "http://p:1"})
        assert settings is not None
        self.assertEqual(settings.https, ProxyURL("p", 1))
        self.assertIsNone(settings.http)

    def test_no_variables_means_no_proxy(self) -> None:
        self.assertIsNone(proxy_settings(None, {"PATH": "/bin"}))

    def test_no_proxy_star_means_no_proxy(self) -> None:
        self.assertIsNone(proxy_settings(None, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}))

    def test_a_url_is_the_proxy_for_both_schemes_and_ignores_the_environment(self) -> None:
        settings = proxy_settings("http://p:3128", {"NO_PROXY": "*", "HTTPS_PROXY": "http://q:1"})
        assert settings is not None
        self.assertEqual((settings.http, settings.https), (ProxyURL("p", 3128),) * 2)
        self.assertEqual(settings.proxy_for("https", "anything.example", 443), ProxyURL("p", 3128))

    def test_a_bad_url_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, proxy_settings, "socks5://p:1", {})
