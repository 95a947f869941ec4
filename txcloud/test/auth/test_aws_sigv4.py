"""
Tests for txcloud.auth.aws.sigv4.

The expected signatures are the published ones: the worked examples of the
IAM User Guide ("Signature Version 4 signing process", ListUsers), of the
Amazon S3 API Reference ("sig-v4-header-based-auth", "sigv4-query-string-auth",
"sigv4-streaming") and cases of AWS's SigV4 test suite (aws-sig-v4-test-suite),
whose requests use service ``service`` and ``example.amazonaws.com``.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.aws import sigv4 as aws_sigv4
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.sigv4 import (
    EMPTY_SHA256,
    STREAMING_PAYLOAD,
    UNSIGNED_PAYLOAD,
    ChunkSigner,
    canonical_request,
    chunk_signature,
    presign_url,
    sha256_hex,
    sign_headers,
    streaming_content_length,
)
from txcloud.errors import InvalidArgumentError

# IAM User Guide and AWS SigV4 test suite: 2015-08-30T12:36:00Z.
SUITE_CREDENTIALS = AWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_TIME = 1440938160
SUITE_SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
SUITE_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
    "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
    "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
    "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)

# Amazon S3 API Reference: 2013-05-24T00:00:00Z, bucket examplebucket.
S3_CREDENTIALS = AWSCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
S3_TIME = 1369353600
S3_BUCKET_URL = "https://examplebucket.s3.amazonaws.com"
S3_SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"


def signature_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].rpartition("Signature=")[2]


def suite_sign(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    include_content_sha256: bool | None = None,
    normalize_path: bool | None = None,
) -> dict[str, str]:
    return sign_headers(
        "GET",
        url,
        headers or {},
        EMPTY_SHA256,
        SUITE_CREDENTIALS,
        "us-east-1",
        "service",
        SUITE_TIME,
        include_content_sha256=include_content_sha256,
        normalize_path=normalize_path,
    )


def s3_sign(method: str, path: str, headers: dict[str, str], payload_hash: str) -> dict[str, str]:
    return sign_headers(
        method,
        S3_BUCKET_URL + path,
        headers,
        payload_hash,
        S3_CREDENTIALS,
        "us-east-1",
        "s3",
        S3_TIME,
    )


class IAMExampleTests(SynchronousTestCase):
    """The IAM User Guide's ListUsers example."""

    def setUp(self) -> None:
        self.url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
        self.headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def test_list_users_authorization_is_the_published_one(self) -> None:
        signed = sign_headers(
            "GET",
            self.url,
            self.headers,
            EMPTY_SHA256,
            SUITE_CREDENTIALS,
            "us-east-1",
            "iam",
            SUITE_TIME,
        )
        self.assertEqual(
            signed,
            {
                "X-Amz-Date": "20150830T123600Z",
                "Authorization": (
                    "AWS4-HMAC-SHA256 "
                    "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                    "SignedHeaders=content-type;host;x-amz-date, "
                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                ),
            },
        )

    def test_list_users_canonical_request_hash_is_the_published_one(self) -> None:
        text = canonical_request(
            "GET", self.url, {**self.headers, "X-Amz-Date": "20150830T123600Z"}, EMPTY_SHA256
        )
        self.assertEqual(
            sha256_hex(text.encode()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
        )


class S3HeaderExampleTests(SynchronousTestCase):
    """The S3 API Reference's Authorization-header examples."""

    def test_get_object_with_range_canonical_request_is_the_published_one(self) -> None:
        headers = {
            "Range": "bytes=0-9",
            "x-amz-content-sha256": EMPTY_SHA256,
            "x-amz-date": "20130524T000000Z",
        }
        self.assertEqual(
            canonical_request(
                "GET",
                S3_BUCKET_URL + "/test.txt",
                headers,
                EMPTY_SHA256,
                double_encode=False,
                normalize_path=False,
            ),
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            f"x-amz-content-sha256:{EMPTY_SHA256}\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            f"{EMPTY_SHA256}",
        )

    def test_get_object_with_range_is_signed_as_published(self) -> None:
        signed = s3_sign("GET", "/test.txt", {"Range": "bytes=0-9"}, EMPTY_SHA256)
        self.assertEqual(
            signed,
            {
                "X-Amz-Date": "20130524T000000Z",
                "X-Amz-Content-Sha256": EMPTY_SHA256,
                "Authorization": (
                    f"AWS4-HMAC-SHA256 Credential={S3_SCOPE}, "
                    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
                ),
            },
        )

    def test_put_object_payload_hash_is_the_published_one(self) -> None:
        self.assertEqual(
            sha256_hex(b"Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        )

    def test_put_object_with_dollar_in_key_is_signed_as_published(self) -> None:
        signed = s3_sign(
            "PUT",
            "/test$file.text",
            {"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
            sha256_hex(b"Welcome to Amazon S3."),
        )
        self.assertIn(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, ",
            signed["Authorization"],
        )
        self.assertEqual(
            signature_of(signed),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        )

    def test_get_bucket_lifecycle_subresource_is_signed_as_published(self) -> None:
        signed = s3_sign("GET", "/?lifecycle", {}, EMPTY_SHA256)
        self.assertEqual(
            signature_of(signed),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        )

    def test_list_objects_is_signed_as_published_whatever_the_query_order(self) -> None:
        expected = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        for query in ("?max-keys=2&prefix=J", "?prefix=J&max-keys=2"):
            self.assertEqual(signature_of(s3_sign("GET", "/" + query, {}, EMPTY_SHA256)), expected)


class S3PresignedURLExampleTests(SynchronousTestCase):
    """The S3 API Reference's presigned URL example, and presigning rules."""

    def test_presigned_get_object_url_is_the_published_one(self) -> None:
        url = presign_url(
            "GET",
            S3_BUCKET_URL + "/test.txt",
            S3_CREDENTIALS,
            "us-east-1",
            "s3",
            S3_TIME,
            expires=86400,
        )
        self.assertEqual(
            url,
            S3_BUCKET_URL + "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        )

    def test_expires_defaults_to_one_hour(self) -> None:
        url = presign_url("GET", S3_BUCKET_URL + "/a", S3_CREDENTIALS, "us-east-1", "s3", S3_TIME)
        self.assertIn("&X-Amz-Expires=3600&", url)

    def test_expires_outside_one_second_to_seven_days_is_refused(self) -> None:
        for expires in (0, -1, 604801):
            with self.assertRaises(InvalidArgumentError):
                presign_url(
                    "GET", S3_BUCKET_URL + "/a", S3_CREDENTIALS, "us-east-1", "s3", S3_TIME, expires
                )

    def test_expires_of_seven_days_is_accepted(self) -> None:
        url = presign_url(
            "GET", S3_BUCKET_URL + "/a", S3_CREDENTIALS, "us-east-1", "s3", S3_TIME, 604800
        )
        self.assertIn("&X-Amz-Expires=604800&", url)

    def test_expires_that_is_not_an_integer_is_refused(self) -> None:
        for expires in (True, 60.0, "60"):
            with self.assertRaises(InvalidArgumentError):
                presign_url(
                    "GET",
                    S3_BUCKET_URL + "/a",
                    S3_CREDENTIALS,
                    "us-east-1",
                    "s3",
                    S3_TIME,
                    expires,  # type: ignore[arg-type]
                )

    def test_extra_and_existing_parameters_are_kept_sorted_and_signed(self) -> None:
        url = presign_url(
            "GET",
            S3_BUCKET_URL + "/test.txt?versionId=3",
            S3_CREDENTIALS,
            "us-east-1",
            "s3",
            S3_TIME,
            expires=86400,
            extra_params={"response-content-type": "text/plain; charset=utf-8"},
        )
        query = url.partition("?")[2]
        self.assertTrue(
            query.startswith("X-Amz-Algorithm=AWS4-HMAC-SHA256&"),
        )
        self.assertIn(
            "&X-Amz-SignedHeaders=host"
            "&response-content-type=text%2Fplain%3B%20charset%3Dutf-8&versionId=3"
            "&X-Amz-Signature=",
            query,
        )
        plain = presign_url(
            "GET",
            S3_BUCKET_URL + "/test.txt",
            S3_CREDENTIALS,
            "us-east-1",
            "s3",
            S3_TIME,
            expires=86400,
        )
        self.assertNotEqual(url.rpartition("=")[2], plain.rpartition("=")[2])

    def test_session_token_is_a_signed_query_parameter(self) -> None:
        temporary = AWSCredentials("ASIAEXAMPLE", "secret", "token/with+chars=")
        with_token = presign_url("GET", S3_BUCKET_URL + "/a", temporary, "us-east-1", "s3", S3_TIME)
        # Everything before X-Amz-Signature is the signed canonical query.
        self.assertIn(
            "&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=",
            with_token,
        )

    def test_parameters_that_the_signature_sets_are_refused(self) -> None:
        for url, extra in (
            (S3_BUCKET_URL + "/a?X-Amz-Signature=abc", None),
            (S3_BUCKET_URL + "/a", {"X-Amz-Credential": "someone-else"}),
        ):
            with self.assertRaises(InvalidArgumentError):
                presign_url(
                    "GET",
                    url,
                    S3_CREDENTIALS,
                    "us-east-1",
                    "s3",
                    S3_TIME,
                    extra_params=extra,
                )

    def test_s3_url_carries_the_key_encoded_once(self) -> None:
        url = presign_url(
            "GET", S3_BUCKET_URL + "/my photos/café.jpg", S3_CREDENTIALS, "us-east-1", "s3", S3_TIME
        )
        self.assertTrue(url.startswith(S3_BUCKET_URL + "/my%20photos/caf%C3%A9.jpg?"))

    def test_other_services_get_the_path_as_given(self) -> None:
        url = presign_url(
            "GET",
            "https://example.amazonaws.com/a%20b/",
            SUITE_CREDENTIALS,
            "us-east-1",
            "service",
            SUITE_TIME,
        )
        self.assertTrue(url.startswith("https://example.amazonaws.com/a%20b/?X-Amz-Algorithm="))


class S3StreamingExampleTests(SynchronousTestCase):
    """The S3 API Reference's chunked upload example (64 KiB + 1 KiB of 'a')."""

    SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    CHUNK_SIGNATURES = (
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    )

    def sign_request(self) -> dict[str, str]:
        return sign_headers(
            "PUT",
            "https://s3.amazonaws.com/examplebucket/chunkObject.txt",
            {
                "x-amz-storage-class": "REDUCED_REDUNDANCY",
                "Content-Encoding": "aws-chunked",
                "x-amz-decoded-content-length": "66560",
                "Content-Length": "66824",
            },
            STREAMING_PAYLOAD,
            S3_CREDENTIALS,
            "us-east-1",
            "s3",
            S3_TIME,
        )

    def test_seed_signature_is_the_published_one(self) -> None:
        signed = self.sign_request()
        self.assertEqual(signed["X-Amz-Content-Sha256"], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        self.assertEqual(
            signed["Authorization"],
            f"AWS4-HMAC-SHA256 Credential={S3_SCOPE}, SignedHeaders=content-encoding;"
            "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            f"x-amz-storage-class, Signature={self.SEED}",
        )

    def test_chunks_are_framed_with_the_published_signatures(self) -> None:
        signer = ChunkSigner.from_signed_headers(self.sign_request(), S3_CREDENTIALS)
        first, second, last = self.CHUNK_SIGNATURES
        self.assertEqual(
            signer.sign_chunk(b"a" * 65536),
            f"10000;chunk-signature={first}\r\n".encode() + b"a" * 65536 + b"\r\n",
        )
        self.assertEqual(
            signer.sign_chunk(b"a" * 1024),
            f"400;chunk-signature={second}\r\n".encode() + b"a" * 1024 + b"\r\n",
        )
        self.assertEqual(signer.final_chunk(), f"0;chunk-signature={last}\r\n\r\n".encode())

    def test_chunk_signer_built_from_the_seed_signs_the_same(self) -> None:
        signer = ChunkSigner(self.SEED, S3_CREDENTIALS, "us-east-1", "s3", S3_TIME)
        signer.sign_chunk(b"a" * 65536)
        self.assertEqual(signer.previous_signature, self.CHUNK_SIGNATURES[0])

    def test_chunk_signature_chains_from_the_previous_signature(self) -> None:
        first = chunk_signature(S3_CREDENTIALS, "us-east-1", "s3", S3_TIME, self.SEED, b"a" * 65536)
        second = chunk_signature(S3_CREDENTIALS, "us-east-1", "s3", S3_TIME, first, b"a" * 1024)
        last = chunk_signature(S3_CREDENTIALS, "us-east-1", "s3", S3_TIME, second, b"")
        self.assertEqual((first, second, last), self.CHUNK_SIGNATURES)

    def test_content_length_of_the_example_is_the_published_one(self) -> None:
        self.assertEqual(streaming_content_length(66560, 65536), 66824)

    def test_content_length_of_whole_chunks_has_no_partial_chunk(self) -> None:
        # Two 0x10000 chunks (5 hex digits) and the final "0" chunk.
        framing = len(";chunk-signature=") + 64 + 4
        self.assertEqual(
            streaming_content_length(2 * 65536, 65536),
            2 * (5 + framing + 65536) + (1 + framing),
        )

    def test_content_length_with_chunks_below_8_kib_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            streaming_content_length(66560, 8191)

    def test_empty_chunk_before_the_end_is_refused(self) -> None:
        signer = ChunkSigner(self.SEED, S3_CREDENTIALS, "us-east-1", "s3", S3_TIME)
        with self.assertRaises(InvalidArgumentError):
            signer.sign_chunk(b"")
        self.assertEqual(signer.previous_signature, self.SEED)

    def test_no_chunk_is_signed_after_the_final_one(self) -> None:
        signer = ChunkSigner(self.SEED, S3_CREDENTIALS, "us-east-1", "s3", S3_TIME)
        signer.final_chunk()
        with self.assertRaises(InvalidArgumentError):
            signer.sign_chunk(b"late")
        with self.assertRaises(InvalidArgumentError):
            signer.final_chunk()

    def test_headers_not_signed_for_streaming_are_refused(self) -> None:
        signed = s3_sign("PUT", "/a", {}, EMPTY_SHA256)
        with self.assertRaises(InvalidArgumentError):
            ChunkSigner.from_signed_headers(signed, S3_CREDENTIALS)

    def test_malformed_seed_signature_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            ChunkSigner("not-a-signature", S3_CREDENTIALS, "us-east-1", "s3", S3_TIME)


class TestSuiteVectorTests(SynchronousTestCase):
    """Cases of AWS's SigV4 test suite."""

    def assertSuiteSignature(self, signed: dict[str, str], signed_headers: str, sig: str) -> None:
        self.assertEqual(
            signed["Authorization"],
            f"AWS4-HMAC-SHA256 Credential={SUITE_SCOPE}, "
            f"SignedHeaders={signed_headers}, Signature={sig}",
        )

    def test_get_vanilla_query_order_key_case_sorts_parameters(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com/?Param2=value2&Param1=value1"),
            "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        )

    def test_get_vanilla_query_order_value_sorts_repeated_names_by_value(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com/?Param1=value2&Param1=value1"),
            "host;x-amz-date",
            "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
        )

    def test_get_vanilla_query_order_encoded_sorts_by_encoded_name(self) -> None:
        self.assertSuiteSignature(
            suite_sign(
                "https://example.amazonaws.com/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1"
            ),
            "host;x-amz-date",
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
        )

    def test_get_vanilla_query_unreserved_leaves_unreserved_characters(self) -> None:
        unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        self.assertSuiteSignature(
            suite_sign(f"https://example.amazonaws.com/?{unreserved}={unreserved}"),
            "host;x-amz-date",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        )

    def test_get_vanilla_utf8_query_encodes_the_name_as_utf8(self) -> None:
        for url in (
            "https://example.amazonaws.com/?ሴ=bar",
            "https://example.amazonaws.com/?%E1%88%B4=bar",
        ):
            self.assertSuiteSignature(
                suite_sign(url),
                "host;x-amz-date",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            )

    def test_get_utf8_encodes_a_raw_unicode_path(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com/ሴ"),
            "host;x-amz-date",
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        )

    def test_get_space_encodes_a_raw_space_in_the_path(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com/example space/"),
            "host;x-amz-date",
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        )

    def test_get_slashes_collapses_empty_segments_when_normalizing(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com//example//"),
            "host;x-amz-date",
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        )

    def test_get_slashes_keeps_empty_segments_when_not_normalizing(self) -> None:
        self.assertSuiteSignature(
            suite_sign("https://example.amazonaws.com//example//", normalize_path=False),
            "host;x-amz-date",
            "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5",
        )

    def test_get_header_value_trim_trims_and_collapses_spaces(self) -> None:
        self.assertSuiteSignature(
            suite_sign(
                "https://example.amazonaws.com/",
                {"My-Header1": " value1", "My-Header2": ' "a   b   c"'},
            ),
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        )

    def test_post_sts_header_before_signs_the_session_token(self) -> None:
        temporary = AWSCredentials(
            SUITE_CREDENTIALS.access_key, SUITE_CREDENTIALS.secret_key, SUITE_TOKEN
        )
        signed = sign_headers(
            "POST",
            "https://example.amazonaws.com/",
            {},
            EMPTY_SHA256,
            temporary,
            "us-east-1",
            "service",
            SUITE_TIME,
        )
        self.assertEqual(signed["X-Amz-Security-Token"], SUITE_TOKEN)
        self.assertSuiteSignature(
            signed,
            "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        )


class CanonicalRequestTests(SynchronousTestCase):
    """How the URL and headers become the canonical request."""

    def canonical_lines(self, url: str, **kw: bool) -> list[str]:
        return canonical_request("GET", url, {}, EMPTY_SHA256, **kw).split("\n")

    def test_default_https_port_is_left_out_of_host(self) -> None:
        self.assertEqual(self.canonical_lines("https://h.example:443/")[3], "host:h.example")

    def test_default_http_port_is_left_out_of_host(self) -> None:
        self.assertEqual(self.canonical_lines("http://h.example:80/")[3], "host:h.example")

    def test_other_ports_are_kept_in_host(self) -> None:
        self.assertEqual(self.canonical_lines("https://h.example:8443/")[3], "host:h.example:8443")
        self.assertEqual(self.canonical_lines("http://h.example:443/")[3], "host:h.example:443")

    def test_default_port_does_not_change_the_signature(self) -> None:
        self.assertEqual(
            signature_of(suite_sign("https://example.amazonaws.com:443/")),
            signature_of(suite_sign("https://example.amazonaws.com/")),
        )

    def test_given_host_header_is_signed_instead_of_the_url_host(self) -> None:
        text = canonical_request(
            "GET", "http://127.0.0.1:5000/", {"Host": "bucket.localhost"}, EMPTY_SHA256
        )
        self.assertEqual(text.split("\n")[3], "host:bucket.localhost")

    def test_query_is_sorted_by_name_then_value_and_encoded(self) -> None:
        lines = self.canonical_lines("https://h.example/?b=2&a=z&a=y%20x&c&a=y x+1&d=%7E~")
        self.assertEqual(lines[2], "a=y%20x&a=y%20x%2B1&a=z&b=2&c=&d=~~")

    def test_query_with_invalid_utf8_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            canonical_request("GET", "https://h.example/?a=%FF", {}, EMPTY_SHA256)

    def test_empty_path_is_a_slash(self) -> None:
        self.assertEqual(self.canonical_lines("https://h.example")[1], "/")

    def test_s3_path_is_encoded_once_whether_given_raw_or_encoded(self) -> None:
        for path in ("/photos/café 1+2.jpg", "/photos/caf%C3%A9%201%2B2.jpg"):
            lines = self.canonical_lines(
                "https://b.example" + path, double_encode=False, normalize_path=False
            )
            self.assertEqual(lines[1], "/photos/caf%C3%A9%201%2B2.jpg")

    def test_s3_path_keeps_an_encoded_slash_inside_a_key_segment(self) -> None:
        lines = self.canonical_lines(
            "https://b.example/a%2Fb//c/../d", double_encode=False, normalize_path=False
        )
        self.assertEqual(lines[1], "/a%2Fb//c/../d")

    def test_other_services_encode_the_sent_path_a_second_time(self) -> None:
        lines = self.canonical_lines("https://h.example/caf%C3%A9/a%20b")
        self.assertEqual(lines[1], "/caf%25C3%25A9/a%2520b")

    def test_normalization_removes_dot_segments(self) -> None:
        self.assertEqual(self.canonical_lines("https://h.example/a/./b/../c/")[1], "/a/c/")
        self.assertEqual(self.canonical_lines("https://h.example/a/..")[1], "/")

    def test_repeated_header_names_in_other_cases_are_joined_by_commas(self) -> None:
        text = canonical_request(
            "GET", "https://h.example/", {"X-Thing": "one", "x-thing": " two  too "}, EMPTY_SHA256
        )
        self.assertIn("\nx-thing:one,two too\n", text)

    def test_method_is_upper_cased(self) -> None:
        self.assertEqual(
            canonical_request("get", "https://h.example/", {}, EMPTY_SHA256)[:4], "GET\n"
        )


class SignHeadersTests(SynchronousTestCase):
    """What sign_headers adds, replaces and refuses."""

    def test_content_sha256_is_only_sent_to_s3_unless_asked(self) -> None:
        self.assertNotIn("X-Amz-Content-Sha256", suite_sign("https://example.amazonaws.com/"))
        asked = suite_sign("https://example.amazonaws.com/", include_content_sha256=True)
        self.assertEqual(asked["X-Amz-Content-Sha256"], EMPTY_SHA256)
        self.assertIn("SignedHeaders=host;x-amz-content-sha256;x-amz-date,", asked["Authorization"])

    def test_unsigned_payload_is_sent_as_the_content_sha256(self) -> None:
        signed = s3_sign("GET", "/test.txt", {}, UNSIGNED_PAYLOAD)
        self.assertEqual(signed["X-Amz-Content-Sha256"], "UNSIGNED-PAYLOAD")

    def test_callers_copies_of_signer_headers_are_replaced(self) -> None:
        stale = {
            "X-Amz-Date": "19990101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 stale",
            "x-amz-security-token": "stale",
        }
        self.assertEqual(
            suite_sign("https://example.amazonaws.com/?Param2=value2&Param1=value1", stale),
            suite_sign("https://example.amazonaws.com/?Param2=value2&Param1=value1"),
        )

    def test_headers_that_proxies_rewrite_are_not_signed(self) -> None:
        signed = suite_sign(
            "https://example.amazonaws.com/", {"User-Agent": "txcloud", "Expect": "100-continue"}
        )
        self.assertIn("SignedHeaders=host;x-amz-date,", signed["Authorization"])

    def test_no_session_token_header_without_a_token(self) -> None:
        self.assertNotIn("X-Amz-Security-Token", suite_sign("https://example.amazonaws.com/"))

    def test_fractional_timestamp_is_truncated_to_the_second(self) -> None:
        self.assertEqual(
            sign_headers(
                "GET",
                "https://example.amazonaws.com/",
                {},
                EMPTY_SHA256,
                SUITE_CREDENTIALS,
                "us-east-1",
                "service",
                SUITE_TIME + 0.999,
            ),
            suite_sign("https://example.amazonaws.com/"),
        )

    def test_header_value_with_a_line_break_is_refused_without_quoting_it(self) -> None:
        with self.assertRaises(InvalidArgumentError) as caught:
            suite_sign("https://example.amazonaws.com/", {"X-Token": "hunter2\r\nEvil: yes"})
        self.assertNotIn("hunter2", str(caught.exception))
        self.assertIn("X-Token", str(caught.exception))

    def test_malformed_arguments_are_refused(self) -> None:
        good: dict[str, object] = {
            "method": "GET",
            "url": "https://example.amazonaws.com/",
            "headers": {},
            "payload_hash": EMPTY_SHA256,
            "credentials": SUITE_CREDENTIALS,
            "region": "us-east-1",
            "service": "service",
            "timestamp": SUITE_TIME,
        }
        for name, bad in (
            ("method", "GE T"),
            ("url", "ftp://example.amazonaws.com/"),
            ("url", "/relative/path"),
            ("url", "https://user:pass@example.amazonaws.com/"),
            ("url", "https://example.amazonaws.com:99999/"),
            ("headers", {"Bad Name": "x"}),
            ("payload_hash", "E3B0C442"),
            ("payload_hash", b"body"),
            ("credentials", ("AKIDEXAMPLE", "secret")),
            ("region", "us-east-1/evil"),
            ("service", ""),
            ("timestamp", float("nan")),
            ("timestamp", -1),
            ("timestamp", True),
            ("timestamp", "1440938160"),
        ):
            with self.subTest(argument=name, value=bad), self.assertRaises(InvalidArgumentError):
                sign_headers(**{**good, name: bad})  # type: ignore[arg-type]


class SigningKeyCacheTests(SynchronousTestCase):
    """The cache of derived signing keys."""

    def test_cache_never_holds_the_secret(self) -> None:
        suite_sign("https://example.amazonaws.com/")
        cache = aws_sigv4._signing_keys._keys
        self.assertTrue(cache)
        secret = SUITE_CREDENTIALS.secret_key
        for cache_key, signing_key in cache.items():
            self.assertNotIn(secret, cache_key)
            self.assertNotIn(secret.encode(), signing_key)

    def test_cache_is_bounded(self) -> None:
        for day in range(100):
            sign_headers(
                "GET",
                "https://example.amazonaws.com/",
                {},
                EMPTY_SHA256,
                SUITE_CREDENTIALS,
                "us-east-1",
                "service",
                SUITE_TIME + day * 86400,
            )
        self.assertLessEqual(len(aws_sigv4._signing_keys._keys), 64)
