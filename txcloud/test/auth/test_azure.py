"""
Tests for txcloud.auth.azure.

Known vectors come from two implementations other than ours, for Azurite's
published development account (``devstoreaccount1`` and its key):

* Shared Key: the string to sign and signature that Azurite 3.35's
  ``BlobSharedKeyAuthenticator`` computes for the same request (it is what
  accepts or refuses our requests in the integration tests), and Libcloud's
  ``AzureConnection`` signer;
* SAS: what Azurite's ``generateBlobSASSignature`` and
  ``generateAccountSASSignature`` compute for the same values.

The canonicalized resources are the examples of Microsoft's "Authorize with
Shared Key" page.
"""

from __future__ import annotations

import calendar
from urllib.parse import parse_qsl

from libcloud.common.azure import AzureConnection
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.azure import (
    STORAGE_API_VERSION,
    account_sas,
    apply_sas_token,
    blob_service_sas,
    canonicalized_headers,
    canonicalized_resource,
    check_account_name,
    decode_account_key,
    http_date,
    parse_sas_token,
    sas_time,
    shared_key_authorization,
    sign_request,
    string_to_sign,
)
from txcloud.errors import InvalidArgumentError
from txcloud.http import Request

ACCOUNT = "devstoreaccount1"
SECRET = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
KEY = decode_account_key(SECRET)
DATE = "Mon, 01 Jan 2024 00:00:00 GMT"
JAN_1 = calendar.timegm((2024, 1, 1, 0, 0, 0))
JAN_2 = JAN_1 + 86400
EMULATOR = "http://127.0.0.1:10000/devstoreaccount1"

PUT_BLOB_HEADERS = {
    "Content-Length": "11",
    "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
    "x-ms-blob-type": "BlockBlob",
    "x-ms-date": DATE,
    "x-ms-version": "2025-01-05",
    "x-ms-meta-Colour": "black",
    "x-ms-blob-content-type": "image/jpeg",
}


def _sig(token: str) -> str:
    return dict(parse_qsl(token))["sig"]


class SharedKeyVectorTests(SynchronousTestCase):
    def test_a_put_blob_signs_as_azurite_computes(self) -> None:
        url = f"{EMULATOR}/photos/2024/a%20cat.jpg"
        self.assertEqual(
            string_to_sign("PUT", url, PUT_BLOB_HEADERS, ACCOUNT),
            "PUT\n\n\n11\nXUFAKrxLKna5cZ2REBfFkg==\n\n\n\n\n\n\n\n"
            "x-ms-blob-content-type:image/jpeg\nx-ms-blob-type:BlockBlob\n"
            f"x-ms-date:{DATE}\nx-ms-meta-colour:black\nx-ms-version:2025-01-05\n"
            "/devstoreaccount1/devstoreaccount1/photos/2024/a%20cat.jpg",
        )
        self.assertEqual(
            shared_key_authorization("PUT", url, PUT_BLOB_HEADERS, ACCOUNT, KEY),
            "SharedKey devstoreaccount1:0JeCxwF97mk1rHd8pZhU+rO5FIdempxXk3C3uldYNtM=",
        )

    def test_a_listing_signs_its_decoded_sorted_parameters_as_azurite_computes(self) -> None:
        url = (
            f"{EMULATOR}/photos?restype=container&comp=list&maxresults=500"
            "&marker=2%2Fb%2Bc&prefix=2024%2F"
        )
        headers = {"x-ms-date": DATE, "x-ms-version": "2025-01-05"}
        self.assertEqual(
            shared_key_authorization("GET", url, headers, ACCOUNT, KEY),
            "SharedKey devstoreaccount1:Su0vT08swC1+/bnpsKpxmszQ0gAKpQt0qNO+q5ba1yQ=",
        )

    def test_a_zero_length_and_if_match_sign_as_azurite_computes(self) -> None:
        headers = {
            "Content-Length": "0",
            "x-ms-date": DATE,
            "x-ms-version": "2025-01-05",
            "If-Match": '"0x1"',
        }
        self.assertEqual(
            string_to_sign("DELETE", f"{EMULATOR}/photos?restype=container", headers, ACCOUNT),
            'DELETE\n\n\n\n\n\n\n\n"0x1"\n\n\n\n'
            f"x-ms-date:{DATE}\nx-ms-version:2025-01-05\n"
            "/devstoreaccount1/devstoreaccount1/photos\nrestype:container",
        )
        self.assertEqual(
            shared_key_authorization(
                "DELETE", f"{EMULATOR}/photos?restype=container", headers, ACCOUNT, KEY
            ),
            "SharedKey devstoreaccount1:72Y1hv4J3DHietIC5+3WQ8wGdj4gN+ixcnSDWJc5nDU=",
        )

    def test_signatures_agree_with_libcloud(self) -> None:
        headers = {"x-ms-date": DATE, "x-ms-version": "2018-11-09", "x-ms-meta-a": "1"}
        libcloud = AzureConnection("myaccount", KEY)
        expected = libcloud._get_azure_auth_signature(
            method="GET",
            headers=dict(headers),
            params={"restype": "container", "comp": "list"},
            account="myaccount",
            secret_key=KEY,
            path="/photos",
        )
        url = "https://myaccount.blob.core.windows.net/photos?restype=container&comp=list"
        self.assertEqual(shared_key_authorization("GET", url, headers, "myaccount", KEY), expected)


class CanonicalisationTests(SynchronousTestCase):
    def test_documented_canonicalized_resources(self) -> None:
        base = "https://myaccount.blob.core.windows.net"
        self.assertEqual(
            canonicalized_resource(
                f"{base}/mycontainer?restype=container&comp=metadata", "myaccount"
            ),
            "/myaccount/mycontainer\ncomp:metadata\nrestype:container",
        )
        self.assertEqual(
            canonicalized_resource(
                f"{base}/mycontainer?restype=container&comp=list&include=snapshots"
                "&include=metadata&include=uncommittedblobs",
                "myaccount",
            ),
            "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs"
            "\nrestype:container",
        )
        self.assertEqual(
            canonicalized_resource(f"{base}/mycontainer/myblob", "myaccount"),
            "/myaccount/mycontainer/myblob",
        )

    def test_the_service_root_is_a_slash(self) -> None:
        self.assertEqual(
            canonicalized_resource("https://a.blob.core.windows.net?comp=list", "acct"),
            "/acct/\ncomp:list",
        )

    def test_x_ms_headers_are_lowered_sorted_and_trimmed(self) -> None:
        self.assertEqual(
            canonicalized_headers(
                {"X-Ms-Version": "v", "x-ms-date": "  d  ", "Content-Type": "t", "x-ms-a": ""}
            ),
            "x-ms-a:\nx-ms-date:d\nx-ms-version:v\n",
        )

    def test_underscores_sort_before_digits_as_azure_sorts_them(self) -> None:
        self.assertEqual(
            canonicalized_headers({"x-ms-meta-a1": "1", "x-ms-meta-a_b": "2", "x-ms-meta-ab": "3"}),
            "x-ms-meta-a_b:2\nx-ms-meta-a1:1\nx-ms-meta-ab:3\n",
        )

    def test_standard_headers_are_found_whatever_their_case(self) -> None:
        lines = string_to_sign("PUT", "https://a/b", {"content-type": "text/plain"}, "a")
        self.assertEqual(lines.split("\n")[5], "text/plain")


class SignRequestTests(SynchronousTestCase):
    def test_the_request_gets_a_date_a_version_and_its_signature(self) -> None:
        request = Request("PUT", f"{EMULATOR}/photos/2024/a%20cat.jpg", headers=PUT_BLOB_HEADERS)
        signed = sign_request(request, ACCOUNT, KEY, JAN_1, "2025-01-05")
        self.assertEqual(signed.headers["x-ms-date"], DATE)
        self.assertEqual(signed.headers["x-ms-version"], "2025-01-05")
        self.assertEqual(
            signed.headers["Authorization"],
            "SharedKey devstoreaccount1:0JeCxwF97mk1rHd8pZhU+rO5FIdempxXk3C3uldYNtM=",
        )

    def test_the_pinned_version_is_the_default(self) -> None:
        signed = sign_request(Request("GET", f"{EMULATOR}?comp=list"), ACCOUNT, KEY, 0)
        self.assertEqual(signed.headers["x-ms-version"], STORAGE_API_VERSION)
        self.assertEqual(signed.headers["x-ms-date"], "Thu, 01 Jan 1970 00:00:00 GMT")

    def test_dates_are_formatted_as_azure_wants(self) -> None:
        self.assertEqual(http_date(JAN_1), DATE)
        self.assertEqual(sas_time(JAN_1 + 0.9), "2024-01-01T00:00:00Z")


class KeyAndAccountTests(SynchronousTestCase):
    def test_a_bad_key_is_refused_without_being_shown(self) -> None:
        for secret in ("not base64 at all!", "", None, "abc"):
            with self.assertRaises(InvalidArgumentError) as caught:
                decode_account_key(secret)
            if secret:
                self.assertNotIn(secret, str(caught.exception))

    def test_account_names_are_checked(self) -> None:
        self.assertEqual(check_account_name("devstoreaccount1"), "devstoreaccount1")
        for name in ("ab", "UPPER", "with-dash", "a" * 25, None):
            self.assertRaises(InvalidArgumentError, check_account_name, name)


class SASVectorTests(SynchronousTestCase):
    def test_a_blob_sas_signs_as_azurite_computes(self) -> None:
        token = blob_service_sas(
            ACCOUNT, KEY, "photos", "2024/cat.jpg", permissions="r", start=JAN_1, expiry=JAN_2
        )
        self.assertEqual(_sig(token), "gPzUOIh4ElxPVhKMVOKUCBMZACY6VkXJ01FHHJrFM2I=")
        self.assertEqual(
            dict(parse_qsl(token)),
            {
                "sv": STORAGE_API_VERSION,
                "st": "2024-01-01T00:00:00Z",
                "se": "2024-01-02T00:00:00Z",
                "sr": "b",
                "sp": "r",
                "spr": "https",
                "sig": "gPzUOIh4ElxPVhKMVOKUCBMZACY6VkXJ01FHHJrFM2I=",
            },
        )

    def test_a_container_sas_with_an_ip_range_signs_as_azurite_computes(self) -> None:
        token = blob_service_sas(
            ACCOUNT,
            KEY,
            "photos",
            permissions="lr",
            expiry=JAN_2,
            ip="10.0.0.1-10.0.0.9",
            protocol="https,http",
        )
        self.assertEqual(_sig(token), "ZoiyLiLBArpIrQx2ZI6NuFa4lw4l6JGZCEHag3jYSxA=")
        self.assertEqual(dict(parse_qsl(token))["sp"], "rl")
        self.assertNotIn("st", dict(parse_qsl(token)))

    def test_an_account_sas_signs_as_azurite_computes(self) -> None:
        token = account_sas(ACCOUNT, KEY, permissions="rwdlc", start=JAN_1, expiry=JAN_2)
        self.assertEqual(_sig(token), "K8AE6kbzy48MbxncAzHoFmLzyeEmkzGTnziVAkc2hMs=")
        self.assertEqual(
            {name: value for name, value in parse_qsl(token) if name != "sig"},
            {
                "sv": STORAGE_API_VERSION,
                "ss": "b",
                "srt": "sco",
                "sp": "rwdlc",
                "st": "2024-01-01T00:00:00Z",
                "se": "2024-01-02T00:00:00Z",
                "spr": "https",
            },
        )

    def test_bad_sas_values_are_refused(self) -> None:
        for call in (
            lambda: blob_service_sas(ACCOUNT, KEY, "c", permissions="rq", expiry=JAN_2),
            lambda: blob_service_sas(ACCOUNT, KEY, "c", permissions="", expiry=JAN_2),
            lambda: blob_service_sas(ACCOUNT, KEY, "c", permissions="r", expiry=JAN_1, start=JAN_2),
            lambda: blob_service_sas(ACCOUNT, KEY, "c", permissions="r", expiry=1, protocol="ftp"),
            lambda: account_sas(ACCOUNT, KEY, permissions="r", expiry=JAN_2, resource_types="x"),
            lambda: account_sas(ACCOUNT, KEY, permissions="r", expiry=JAN_2, services="z"),
        ):
            self.assertRaises(InvalidArgumentError, call)


class SASTokenTests(SynchronousTestCase):
    def test_a_token_is_read_with_or_without_its_question_mark(self) -> None:
        token = "?sv=2025-01-05&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=a%2Bb%3D"
        params = parse_sas_token(token)
        self.assertEqual(
            params,
            (("sv", "2025-01-05"), ("sp", "rl"), ("se", "2030-01-01T00:00:00Z"), ("sig", "a+b=")),
        )
        self.assertEqual(parse_sas_token(token[1:]), params)

    def test_a_token_without_its_signature_or_not_a_query_is_refused(self) -> None:
        for token in ("sv=2025-01-05&sp=r", "just-a-secret", "", "?", None, "sig=x&sv=y"):
            with self.assertRaises(InvalidArgumentError) as caught:
                parse_sas_token(token)
            if token:
                self.assertNotIn(token, str(caught.exception))

    def test_a_token_goes_into_the_query_with_the_version(self) -> None:
        params = parse_sas_token("sv=2025-01-05&sp=r&sig=a%2Bb%3D")
        request = Request("GET", f"{EMULATOR}/photos/a.txt", params={"x": "1"})
        applied = apply_sas_token(request, params)
        self.assertEqual(
            applied.full_url, f"{EMULATOR}/photos/a.txt?x=1&sv=2025-01-05&sp=r&sig=a%2Bb%3D"
        )
        self.assertEqual(applied.headers["x-ms-version"], STORAGE_API_VERSION)
        self.assertNotIn("Authorization", applied.headers)
        self.assertNotIn("a%2Bb", repr(applied))
