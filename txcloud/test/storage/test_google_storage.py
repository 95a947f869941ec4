"""
Unit tests of the Google Cloud Storage driver (Provider.GOOGLE_STORAGE)
against scripted answers written from the JSON API reference, sent through
treq's in-memory RequestTraversalAgent, with time from a Clock and the
thread pool replaced by one that runs work at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import Request as ServerRequest

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidCredsError,
    InvalidObjectNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
    ProviderError,
    RateLimitReached,
)
from txcloud.http import RetryPolicy
from txcloud.storage.base import Object
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.storage.drivers.google_storage.upload import TEMPORARY_PREFIX, reframe
from txcloud.storage.drivers.google_storage.xml_api import GoogleStorageXMLDriver
from txcloud.storage.providers import get_driver
from txcloud.storage.transfer.digest import CRC32CHash
from txcloud.storage.types import Provider
from txcloud.test.auth.test_google import EMAIL, key_document, token_answer
from txcloud.test.http._support import Answer, Received, RecordingConsumer
from txcloud.test.storage._scripted import ScriptedDriverTestCase, path_of, query_of

KiB = 1024
MiB = 1024 * KiB
ENDPOINT = "https://storage.googleapis.com"


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(document).encode(),
    )


def _error(status: int, reason: str, message: str = "refused") -> Answer:
    return _json(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"reason": reason, "message": message}],
            }
        },
        status,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _crc32c(data: bytes) -> str:
    digest = CRC32CHash()
    digest.update(data)
    return _b64(digest.digest())


def resource(name: str, data: bytes, **fields: Any) -> dict[str, Any]:
    """An object resource for *data*, as the JSON API shows it."""
    document = {
        "kind": "storage#object",
        "name": name,
        "bucket": "photos",
        "size": str(len(data)),
        "md5Hash": _b64(hashlib.md5(data).digest()),
        "crc32c": _crc32c(data),
        "etag": "CKih16GjycICEAE=",
        "generation": "1700000000000001",
        "metageneration": "1",
        "contentType": "application/octet-stream",
        "updated": "2026-11-28T01:45:32.817453Z",
        "storageClass": "STANDARD",
    }
    document.update(fields)
    return {k: v for k, v in document.items() if v is not None}


def _multipart(received: Received) -> tuple[dict[str, Any], bytes]:
    """The object resource and the data of a ``multipart/related`` upload."""
    head = f"Content-Type: {received.header('content-type')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + received.body)
    metadata, media = [part.get_payload(decode=True) for part in message.iter_parts()]
    assert isinstance(metadata, bytes) and isinstance(media, bytes)
    return json.loads(metadata), media


class GCSTestCase(ScriptedDriverTestCase[GoogleStorageDriver]):
    def make(self, *answers: Answer, **options: Any) -> GoogleStorageDriver:
        options.setdefault("ex_project", "project-1")
        key, secret = options.pop("credentials", ("", None))
        return self.connect(GoogleStorageDriver, answers, key, secret, **options)

    def stored(self, name: str, data: bytes, **fields: Any) -> Object:
        from txcloud.storage.drivers.google_storage.parse import object_from_resource

        return object_from_resource(resource(name, data, **fields), self.container())


class ConstructionTests(GCSTestCase):
    def test_get_driver_returns_the_json_api_driver(self) -> None:
        self.assertIs(get_driver(Provider.GOOGLE_STORAGE), GoogleStorageDriver)
        driver = self.make()
        self.assertEqual(
            (driver.name, driver.type, driver.hash_is_md5),
            ("Google Cloud Storage", Provider.GOOGLE_STORAGE, True),
        )
        self.assertIsNone(driver.tokens)

    def test_a_service_account_key_sets_the_account_and_project(self) -> None:
        driver = self.make(credentials=(None, key_document()), ex_project=None)
        self.assertEqual((driver.key, driver.project), (EMAIL, "project-1"))
        self.assertIsNotNone(driver.tokens)
        self.assertEqual(
            repr(driver), f"<GoogleStorageDriver provider='google_storage' account={EMAIL!r}>"
        )
        self.assertNotIn("PRIVATE", repr(driver.__dict__.get("_secret")))
        self.assertEqual(
            self.make(credentials=(None, key_document()), ex_project=None, project="other").project,
            "other",
        )

    def test_an_hmac_key_gives_the_xml_api_driver(self) -> None:
        driver = GoogleStorageDriver("GOOG1EXAMPLEACCESSID", "hmac-secret", ex_project="p")
        self.assertIsInstance(driver, GoogleStorageXMLDriver)
        self.assertEqual(
            (driver.region, driver.project, driver.key), ("auto", "p", "GOOG1EXAMPLEACCESSID")
        )
        forced = GoogleStorageDriver("AKIDEXAMPLE", "secret", ex_use_xml_api=True)
        self.assertIsInstance(forced, GoogleStorageXMLDriver)

    def test_a_key_without_secret_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.make(credentials=(EMAIL, None))

    def test_bad_upload_methods_are_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.make(ex_upload_method="parallel")
        driver = self.make(_json({}))
        self.failure(
            driver.upload_object_via_stream(
                iter([b"x"]), self.container(), "k", ex_upload_method="fast"
            ),
            InvalidArgumentError,
        )
        self.assertEqual(self.received, [])


class AuthenticationTests(GCSTestCase):
    def test_requests_carry_a_bearer_token_from_the_service_account(self) -> None:
        self.make(
            token_answer("ya29.first"),
            _json({"items": [{"name": "photos"}]}),
            _json({"items": []}),
            credentials=(None, key_document()),
        )
        self.result(self.driver.list_containers())
        self.result(self.driver.list_containers())
        token, first, second = self.received
        self.assertEqual(path_of(token), "/token")
        self.assertIsNone(token.header("authorization"))
        self.assertEqual(
            [first.header("authorization"), second.header("authorization")],
            ["Bearer ya29.first"] * 2,
        )

    def test_a_refused_token_is_dropped_and_fetched_again(self) -> None:
        self.make(
            token_answer("ya29.revoked"),
            _error(401, "authError", "Invalid Credentials"),
            token_answer("ya29.fresh"),
            _json({"name": "photos"}),
            credentials=(None, key_document()),
        )
        self.failure(self.driver.get_container("photos"), InvalidCredsError)
        self.result(self.driver.get_container("photos"))
        self.assertEqual(self.received[-1].header("authorization"), "Bearer ya29.fresh")

    def test_an_anonymous_driver_sends_no_authorization(self) -> None:
        self.make(_json({"name": "photos"}))
        self.result(self.driver.get_container("photos"))
        self.assertIsNone(self.received[0].header("authorization"))


class ContainerTests(GCSTestCase):
    def test_buckets_are_listed_in_the_project_over_pages(self) -> None:
        self.make(
            _json({"items": [{"name": "a", "location": "EU"}], "nextPageToken": "t1"}),
            _json({"items": [{"name": "b"}]}),
        )
        containers = self.result(self.driver.list_containers())
        self.assertEqual(
            [(c.name, c.extra.get("location")) for c in containers], [("a", "EU"), ("b", None)]
        )
        self.assertEqual(
            [query_of(r) for r in self.received],
            [
                {"project": "project-1", "maxResults": "1000"},
                {"project": "project-1", "maxResults": "1000", "pageToken": "t1"},
            ],
        )

    def test_listing_or_creating_buckets_needs_a_project(self) -> None:
        self.make(_json({}), ex_project=None)
        self.failure(self.driver.list_containers(), InvalidArgumentError)
        self.failure(self.driver.create_container("new-bucket"), InvalidArgumentError)
        self.assertEqual(self.received, [])

    def test_create_container_posts_the_bucket_resource(self) -> None:
        self.make(_json({"name": "new-bucket", "location": "EU", "storageClass": "NEARLINE"}))
        created = self.result(
            self.driver.create_container(
                "new-bucket", ex_location="EU", ex_storage_class="NEARLINE"
            )
        )
        self.assertEqual((created.name, created.extra["location"]), ("new-bucket", "EU"))
        [request] = self.received
        self.assertEqual(
            (request.method, path_of(request), query_of(request)),
            ("POST", "/storage/v1/b", {"project": "project-1"}),
        )
        self.assertEqual(
            json.loads(request.body),
            {"name": "new-bucket", "location": "EU", "storageClass": "NEARLINE"},
        )

    def test_bad_bucket_names_are_refused_before_any_request(self) -> None:
        self.make(_json({"name": "my_bucket.with-dots"}))
        for name in (
            "ab",
            "Upper",
            "under_score_",
            "a" * 64,
            "x..y",
            "192.168.5.4",
            "-dash",
            "a.b." + "c" * 64,
        ):
            self.failure(self.driver.get_container(name), InvalidContainerNameError)
        for name in ("goog-bucket", "my-google-data", "g00gle"):
            self.failure(self.driver.create_container(name), InvalidContainerNameError)
        self.result(self.driver.get_container("my_bucket.with-dots"))
        self.assertEqual(len(self.received), 1)

    def test_an_existing_bucket_gives_container_already_exists(self) -> None:
        self.make(
            _error(409, "conflict", "Your previous request to create the named bucket succeeded")
        )
        error = self.failure(self.driver.create_container("taken"), ContainerAlreadyExistsError)
        self.assertEqual(
            (error.container_name, error.status, error.code), ("taken", 409, "conflict")
        )

    def test_a_non_empty_bucket_gives_container_is_not_empty(self) -> None:
        for status in (409, 412):
            self.make(_error(status, "conflict", "The bucket you tried to delete is not empty."))
            error = self.failure(
                self.driver.delete_container(self.container()), ContainerIsNotEmptyError
            )
            self.assertEqual(error.container_name, "photos")

    def test_a_missing_bucket_gives_container_does_not_exist(self) -> None:
        self.make(_error(404, "notFound", "The specified bucket does not exist."))
        error = self.failure(self.driver.get_container("photos"), ContainerDoesNotExistError)
        self.assertEqual((error.container_name, error.code), ("photos", "notFound"))
        error = self.failure(self.driver.get_object("photos", "a.txt"), ContainerDoesNotExistError)
        self.assertEqual(error.container_name, "photos")

    def test_throttling_and_refusals_are_typed(self) -> None:
        self.make(_error(429, "rateLimitExceeded"), _error(403, "forbidden", "no access"))
        self.failure(self.driver.get_container("photos"), RateLimitReached)
        self.failure(self.driver.get_container("photos"), InvalidCredsError)


class ObjectTests(GCSTestCase):
    def test_objects_are_listed_over_pages_with_a_prefix(self) -> None:
        self.make(
            _json({"items": [resource("p/a", b"a")], "nextPageToken": "n1"}),
            _json({"items": [resource("p/b", b"bb", md5Hash=None, componentCount=2)]}),
        )
        objects = self.result(
            self.driver.list_container_objects(self.container(), "p/", ex_page_size=1)
        )
        self.assertEqual([(o.name, o.size) for o in objects], [("p/a", 1), ("p/b", 2)])
        self.assertEqual(objects[0].hash, hashlib.md5(b"a").hexdigest())
        self.assertEqual((objects[1].hash, objects[1].extra["component_count"]), (None, 2))
        self.assertEqual(
            [(path_of(r), query_of(r)) for r in self.received],
            [
                ("/storage/v1/b/photos/o", {"maxResults": "1", "prefix": "p/"}),
                ("/storage/v1/b/photos/o", {"maxResults": "1", "prefix": "p/", "pageToken": "n1"}),
            ],
        )

    def test_page_sizes_out_of_range_are_refused(self) -> None:
        self.make(_json({}))
        sizes: list[Any] = [0, 1001, "10", True]
        for size in sizes:
            self.failure(
                self.driver.list_container_objects(self.container(), ex_page_size=size),
                InvalidArgumentError,
            )
        self.assertEqual(self.received, [])

    def test_get_object_reads_the_resource(self) -> None:
        self.make(
            _json(resource("dir/a b.txt", b"hello", metadata={"k": "v"}, contentType="text/plain"))
        )
        obj = self.result(self.driver.get_object("photos", "dir/a b.txt"))
        self.assertEqual(self.received[0].uri, "/storage/v1/b/photos/o/dir%2Fa%20b.txt")
        self.assertEqual(
            (obj.name, obj.size, obj.hash, obj.meta_data),
            ("dir/a b.txt", 5, hashlib.md5(b"hello").hexdigest(), {"k": "v"}),
        )
        self.assertEqual(
            {
                k: obj.extra[k]
                for k in (
                    "generation",
                    "content_type",
                    "crc32c",
                    "md5",
                    "storage_class",
                    "last_modified",
                )
            },
            {
                "generation": "1700000000000001",
                "content_type": "text/plain",
                "crc32c": _crc32c(b"hello"),
                "md5": hashlib.md5(b"hello").hexdigest(),
                "storage_class": "STANDARD",
                "last_modified": "2026-11-28T01:45:32.817453Z",
            },
        )

    def test_a_missing_object_gives_object_does_not_exist(self) -> None:
        self.make(_error(404, "notFound", "No such object: photos/a.txt"))
        error = self.failure(self.driver.get_object("photos", "a.txt"), ObjectDoesNotExistError)
        self.assertEqual((error.object_name, error.status), ("a.txt", 404))
        error = self.failure(
            self.driver.delete_object(self.stored("a.txt", b"")), ObjectDoesNotExistError
        )
        self.assertEqual(self.received[-1].method, "DELETE")

    def test_bad_object_names_are_refused_before_any_request(self) -> None:
        self.make(_json({}))
        for name in ("", "a\nb", "carriage\r", ".", "..", "x" * 1025, "é" * 513):
            self.failure(self.driver.get_object("photos", name), InvalidObjectNameError)
            self.failure(
                self.driver.upload_object_via_stream(iter([b"x"]), self.container(), name),
                InvalidObjectNameError,
            )
        self.assertEqual(self.received, [])


class SmallUploadTests(GCSTestCase):
    def test_a_small_stream_goes_in_one_multipart_request(self) -> None:
        data = b"id,name\n1,alpha\n"
        self.make(_json(resource("r/x.csv", data, contentType="text/csv")))
        extra = {"meta_data": {"owner": "ops"}, "cache_control": "no-cache", "acl": "public-read"}
        obj = self.result(
            self.driver.upload_object_via_stream(
                iter([data[:5], data[5:]]), self.container(), "r/x.csv", extra
            )
        )
        [request] = self.received
        self.assertEqual(
            (request.method, path_of(request)), ("POST", "/upload/storage/v1/b/photos/o")
        )
        self.assertEqual(
            query_of(request), {"uploadType": "multipart", "predefinedAcl": "publicRead"}
        )
        metadata, media = _multipart(request)
        self.assertEqual(media, data)
        self.assertEqual(
            metadata,
            {
                "name": "r/x.csv",
                "contentType": "text/csv",
                "cacheControl": "no-cache",
                "metadata": {"owner": "ops"},
                "crc32c": _crc32c(data),
            },
        )
        self.assertEqual((obj.hash, obj.size), (hashlib.md5(data).hexdigest(), len(data)))

    def test_a_small_file_is_sent_from_the_file(self) -> None:
        path = self.mktemp()
        data = os.urandom(300 * KiB)
        with open(path, "wb") as file:
            file.write(data)
        self.make(_json(resource("f.bin", data)))
        self.result(self.driver.upload_object(path, self.container(), "f.bin"))
        metadata, media = _multipart(self.received[0])
        self.assertEqual((media, metadata["crc32c"]), (data, _crc32c(data)))
        self.assertNotIn("md5Hash", metadata)

    def test_md5_takes_the_place_of_crc32c_without_its_fast_implementation(self) -> None:
        data = b"some data"
        self.make(_json(resource("k", data)))
        self.patch(self.driver, "_crc32c_fast", False)
        self.result(self.driver.upload_object_via_stream(iter([data]), self.container(), "k"))
        metadata, _ = _multipart(self.received[0])
        self.assertEqual(metadata["md5Hash"], _b64(hashlib.md5(data).digest()))
        self.assertNotIn("crc32c", metadata)

    def test_a_stored_crc32c_that_does_not_match_deletes_the_object(self) -> None:
        self.make(_json(resource("k", b"data", crc32c=_crc32c(b"atad"))), (204, {}, b""))
        error = self.failure(
            self.driver.upload_object_via_stream(iter([b"data"]), self.container(), "k"),
            ObjectHashMismatchError,
        )
        self.assertIn("crc32c", str(error))
        self.assertEqual(
            (self.received[-1].method, path_of(self.received[-1])),
            ("DELETE", "/storage/v1/b/photos/o/k"),
        )

    def test_a_stored_md5_that_does_not_match_deletes_the_object(self) -> None:
        self.make(_json(resource("k", b"other data", size="4")), (204, {}, b""))
        self.patch(self.driver, "_crc32c_fast", False)
        error = self.failure(
            self.driver.upload_object_via_stream(iter([b"data"]), self.container(), "k"),
            ObjectHashMismatchError,
        )
        self.assertEqual(error.object_name, "k")
        self.assertEqual(
            (self.received[-1].method, path_of(self.received[-1])),
            ("DELETE", "/storage/v1/b/photos/o/k"),
        )

    def test_no_check_without_verify_hash(self) -> None:
        self.make(_json(resource("k", b"other data", size="4")))
        self.result(
            self.driver.upload_object_via_stream(
                iter([b"data"]), self.container(), "k", verify_hash=False
            )
        )

    def test_unknown_options_are_refused_before_any_request(self) -> None:
        self.make(_json({}))
        for extra in (
            {"colour": "red"},
            {"acl": "everyone"},
            {"meta_data": {"k": 1}},
            {"content_type": ""},
        ):
            self.failure(
                self.driver.upload_object_via_stream(iter([b"x"]), self.container(), "k", extra),
                InvalidArgumentError,
            )
        with self.assertRaises(InvalidArgumentError):
            self.driver.upload_object_via_stream(iter([b"x"]), self.container(), "k", ex_bogus=1)
        self.assertEqual(self.received, [])


SESSION = "https://storage.googleapis.com/upload/storage/v1/b/photos/o?uploadType=resumable&upload_id=SESSION-1"


def _opened() -> Answer:
    return _json({}, headers={"Location": SESSION})


def _persisted(last: int | None) -> Answer:
    headers = {} if last is None else {"Range": f"bytes=0-{last}"}
    return (308, headers, b"")


class ResumableUploadTests(GCSTestCase):
    def stream(self, data: bytes, **kwargs: Any) -> Deferred[Object]:
        return self.driver.upload_object_via_stream(
            iter([data]), self.container(), "big.bin", ex_part_size=256 * KiB, **kwargs
        )

    def test_parts_go_one_after_another_and_the_last_says_the_total(self) -> None:
        data = os.urandom(600 * KiB)
        self.make(
            _opened(),
            _persisted(256 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
        )
        obj = self.result(self.stream(data))
        opened, *chunks = self.received
        self.assertEqual((opened.method, query_of(opened)), ("POST", {"uploadType": "resumable"}))
        self.assertEqual(json.loads(opened.body)["name"], "big.bin")
        self.assertEqual(opened.header("x-upload-content-type"), "application/octet-stream")
        self.assertEqual(
            [c.header("content-range") for c in chunks],
            [
                "bytes 0-262143/*",
                "bytes 262144-524287/*",
                f"bytes 524288-{600 * KiB - 1}/{600 * KiB}",
            ],
        )
        self.assertEqual(b"".join(c.body for c in chunks), data)
        self.assertEqual(
            {c.uri for c in chunks},
            {"/upload/storage/v1/b/photos/o?uploadType=resumable&upload_id=SESSION-1"},
        )
        self.assertEqual(obj.size, len(data))

    def test_a_stream_ending_on_a_whole_part_is_closed_with_its_total(self) -> None:
        data = os.urandom(512 * KiB)
        self.make(
            _opened(),
            _persisted(256 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
        )
        self.result(self.stream(data))
        last = self.received[-1]
        self.assertEqual((last.header("content-range"), last.body), (f"bytes */{512 * KiB}", b""))

    def test_bytes_the_server_did_not_persist_are_sent_again(self) -> None:
        data = os.urandom(600 * KiB)
        self.make(
            _opened(),
            _persisted(100 * KiB - 1),
            _persisted(256 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
        )
        self.result(self.stream(data))
        again = self.received[2]
        self.assertEqual(again.header("content-range"), f"bytes {100 * KiB}-{256 * KiB - 1}/*")
        self.assertEqual(again.body, data[100 * KiB : 256 * KiB])

    def test_a_failed_chunk_resumes_from_the_persisted_offset(self) -> None:
        data = os.urandom(600 * KiB)
        self.make(
            _opened(),
            _persisted(256 * KiB - 1),
            _error(503, "backendError"),
            _persisted(300 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
            ex_retry=RetryPolicy(max_attempts=3, jitter=lambda cap: 0.0),
        )
        obj = self.result(self.stream(data))
        failed, status, resumed = self.received[2:5]
        self.assertEqual(failed.header("content-range"), "bytes 262144-524287/*")
        self.assertEqual(
            (status.method, status.header("content-range"), status.body), ("PUT", "bytes */*", b"")
        )
        self.assertEqual(resumed.header("content-range"), f"bytes {300 * KiB}-{512 * KiB - 1}/*")
        self.assertEqual(resumed.body, data[300 * KiB : 512 * KiB])
        self.assertEqual(obj.size, len(data))

    def test_a_file_part_is_resumed_from_the_middle_of_the_file(self) -> None:
        path = self.mktemp()
        data = os.urandom(600 * KiB)
        with open(path, "wb") as file:
            file.write(data)
        self.make(
            _opened(),
            _error(503, "backendError"),
            _persisted(10 * KiB - 1),
            _persisted(256 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
            ex_retry=RetryPolicy(max_attempts=2, jitter=lambda cap: 0.0),
        )
        self.result(
            self.driver.upload_object(
                path,
                self.container(),
                "big.bin",
                ex_part_size=256 * KiB,
                ex_multipart_threshold=256 * KiB,
            )
        )
        resumed = self.received[3]
        self.assertEqual(resumed.header("content-range"), f"bytes {10 * KiB}-{256 * KiB - 1}/*")
        self.assertEqual(resumed.body, data[10 * KiB : 256 * KiB])

    def test_a_chunk_failing_too_often_cancels_the_session(self) -> None:
        self.make(
            _opened(),
            _error(503, "backendError"),
            _persisted(None),
            _error(503, "backendError"),
            (499, {}, b""),
            ex_retry=RetryPolicy(max_attempts=2, jitter=lambda cap: 0.0),
        )
        error = self.failure(self.stream(os.urandom(600 * KiB)), ProviderError)
        self.assertNotIn("SESSION-1", str(error))
        cancel = self.received[-1]
        self.assertEqual((cancel.method, query_of(cancel)["upload_id"]), ("DELETE", "SESSION-1"))

    def test_a_file_sends_its_crc32c_when_the_session_opens(self) -> None:
        path = self.mktemp()
        data = os.urandom(300 * KiB)
        with open(path, "wb") as file:
            file.write(data)
        self.make(_opened(), _persisted(256 * KiB - 1), _json(resource("big.bin", data)))
        self.result(
            self.driver.upload_object(
                path,
                self.container(),
                "big.bin",
                ex_part_size=256 * KiB,
                ex_multipart_threshold=256 * KiB,
            )
        )
        opened = json.loads(self.received[0].body)
        self.assertEqual(opened["crc32c"], _crc32c(data))
        self.assertNotIn("md5Hash", opened)

    def test_a_file_stored_with_another_crc32c_is_deleted(self) -> None:
        path = self.mktemp()
        data = os.urandom(300 * KiB)
        with open(path, "wb") as file:
            file.write(data)
        wrong = resource("big.bin", data, crc32c=_crc32c(b"x"))
        self.make(
            _opened(), _persisted(256 * KiB - 1), _json(wrong), (204, {}, b""), (499, {}, b"")
        )
        upload = self.driver.upload_object(
            path, self.container(), "big.bin", ex_part_size=256 * KiB, ex_multipart_threshold=1
        )
        self.failure(upload, ObjectHashMismatchError)
        self.assertIn(
            ("DELETE", "/storage/v1/b/photos/o/big.bin"),
            [(r.method, path_of(r)) for r in self.received],
        )

    def test_parts_are_not_hashed_by_the_engine(self) -> None:
        from txcloud.storage.transfer import multipart

        def refuse(*args: Any) -> None:
            raise AssertionError("a part was hashed")

        self.patch(multipart, "digests_of", refuse)
        data = os.urandom(600 * KiB)
        self.make(
            _opened(),
            _persisted(256 * KiB - 1),
            _persisted(512 * KiB - 1),
            _json(resource("big.bin", data)),
        )
        self.assertEqual(self.result(self.stream(data)).size, len(data))

    def test_a_result_with_another_checksum_is_deleted(self) -> None:
        data = os.urandom(300 * KiB)
        wrong = resource(
            "big.bin", data, md5Hash=_b64(hashlib.md5(b"x").digest()), crc32c=_crc32c(b"x")
        )
        self.make(
            _opened(), _persisted(256 * KiB - 1), _json(wrong), (204, {}, b""), (499, {}, b"")
        )
        self.failure(self.stream(data), ObjectHashMismatchError)
        self.assertIn(
            ("DELETE", "/storage/v1/b/photos/o/big.bin"),
            [(r.method, path_of(r)) for r in self.received],
        )


class CompositeUploadTests(GCSTestCase):
    def upload(self, data: bytes) -> Deferred[Object]:
        return self.driver.upload_object_via_stream(
            iter([data]),
            self.container(),
            "big.bin",
            {"meta_data": {"k": "v"}, "acl": "projectPrivate"},
            ex_upload_method="composite",
            ex_part_size=256 * KiB,
            ex_max_concurrency=1,
        )

    def part_answer(self) -> Callable[[ServerRequest], bytes]:
        def answer(request: ServerRequest) -> bytes:
            received = self.received[-1]
            metadata, media = _multipart(received)
            request.setHeader("Content-Type", "application/json")
            return json.dumps(
                resource(metadata["name"], media, generation=str(len(self.received)))
            ).encode()

        return answer

    def test_parts_are_temporaries_composed_then_deleted(self) -> None:
        data = os.urandom(600 * KiB)
        part = self.part_answer()
        self.make(
            part,
            part,
            part,
            _json(resource("big.bin", data, md5Hash=None, componentCount=3)),
            (204, {}, b""),
        )
        obj = self.result(self.upload(data))
        parts, compose, deletes = self.received[:3], self.received[3], self.received[4:]
        names = [_multipart(p)[0]["name"] for p in parts]
        self.assertEqual(
            [_multipart(p)[0]["crc32c"] for p in parts],
            [_crc32c(data[i : i + 256 * KiB]) for i in range(0, len(data), 256 * KiB)],
        )
        self.assertTrue(all(name.startswith(TEMPORARY_PREFIX) for name in names))
        self.assertEqual(b"".join(_multipart(p)[1] for p in parts), data)
        self.assertEqual([query_of(p) for p in parts], [{"uploadType": "multipart"}] * 3)
        self.assertEqual(
            (compose.method, path_of(compose), query_of(compose)),
            (
                "POST",
                "/storage/v1/b/photos/o/big.bin/compose",
                {"destinationPredefinedAcl": "projectPrivate"},
            ),
        )
        document = json.loads(compose.body)
        self.assertEqual(
            document["sourceObjects"],
            [{"name": n, "generation": str(i)} for i, n in enumerate(names, 1)],
        )
        self.assertEqual(
            document["destination"],
            {"contentType": "application/octet-stream", "metadata": {"k": "v"}},
        )
        self.assertEqual(
            sorted(urlsplit(d.uri).path.rsplit("/", 1)[1] for d in deletes),
            sorted(n.replace("/", "%2F") for n in names),
        )
        self.assertEqual((obj.hash, obj.extra["component_count"]), (None, 3))

    def test_more_than_32_parts_are_composed_through_intermediates(self) -> None:
        data = os.urandom(33 * 256 * KiB + 1)
        part = self.part_answer()

        def composed(request: ServerRequest) -> bytes:
            name = path_of(self.received[-1]).split("/o/")[1].rsplit("/compose", 1)[0]
            name = name.replace("%2F", "/")
            content = data if name == "big.bin" else b""
            request.setHeader("Content-Type", "application/json")
            return json.dumps(resource(name, content, generation="900")).encode()

        self.make(*[part] * 34, composed, composed, composed, (204, {}, b""))
        self.result(self.upload(data))
        composes = [
            (path_of(r), json.loads(r.body)["sourceObjects"])
            for r in self.received
            if path_of(r).endswith("/compose")
        ]
        self.assertEqual([len(sources) for _, sources in composes], [32, 2, 2])
        final_path, final_sources = composes[2]
        self.assertEqual(final_path, "/storage/v1/b/photos/o/big.bin/compose")
        intermediates = [path.split("/o/")[1][: -len("/compose")] for path, _ in composes[:2]]
        self.assertEqual(
            [source["name"].replace("/", "%2F") for source in final_sources], intermediates
        )
        self.assertEqual([s["generation"] for s in final_sources], ["900", "900"])
        deleted = [r for r in self.received if r.method == "DELETE"]
        self.assertEqual(len(deleted), 36)

    def test_a_failed_compose_deletes_every_temporary(self) -> None:
        part = self.part_answer()
        self.make(part, part, part, _error(403, "forbidden"), (204, {}, b""))
        self.failure(self.upload(os.urandom(600 * KiB)), InvalidCredsError)
        deleted = [r for r in self.received if r.method == "DELETE"]
        self.assertEqual(len(deleted), 3)
        self.assertTrue(all(TEMPORARY_PREFIX.replace("/", "%2F") in r.uri for r in deleted))

    def test_a_composed_object_with_another_crc32c_is_deleted(self) -> None:
        data = os.urandom(600 * KiB)
        part = self.part_answer()
        composed = resource("big.bin", data[1:] + b"!", md5Hash=None, componentCount=3)
        self.make(part, part, part, _json(composed), (204, {}, b""))
        error = self.failure(self.upload(data), ObjectHashMismatchError)
        self.assertIn("crc32c", str(error))
        deleted = sorted(path_of(r) for r in self.received if r.method == "DELETE")
        self.assertEqual(len(deleted), 4)
        self.assertIn("/storage/v1/b/photos/o/big.bin", deleted)

    def test_a_part_stored_with_another_checksum_fails_the_upload(self) -> None:
        def corrupted(request: ServerRequest) -> bytes:
            metadata, media = _multipart(self.received[-1])
            stored = resource(metadata["name"], b"other", size=str(len(media)))
            request.setHeader("Content-Type", "application/json")
            return json.dumps(stored).encode()

        self.make(corrupted, (204, {}, b""))
        error = self.failure(self.upload(os.urandom(600 * KiB)), ObjectHashMismatchError)
        self.assertIn("part 1 of", str(error))
        self.assertEqual([r.method for r in self.received[1:]], ["DELETE", "DELETE"])


class DownloadTests(GCSTestCase):
    def test_a_range_is_asked_with_an_inclusive_end_as_stored(self) -> None:
        self.make((206, {}, b"lo w"))
        obj = self.stored("a.txt", b"hello world")
        chunks = self.result(self.collect(self.driver.download_object_range_as_stream(obj, 3, 7)))
        self.assertEqual(b"".join(chunks), b"lo w")
        [request] = self.received
        self.assertEqual(
            (path_of(request), query_of(request)),
            ("/storage/v1/b/photos/o/a.txt", {"alt": "media"}),
        )
        self.assertEqual(
            (request.header("range"), request.header("accept-encoding")), ("bytes=3-6", "gzip")
        )

    def test_a_server_ignoring_the_range_still_yields_only_the_range(self) -> None:
        self.make((200, {}, b"hello world"))
        obj = self.stored("a.txt", b"hello world")
        chunks = self.result(self.collect(self.driver.download_object_range_as_stream(obj, 3, 7)))
        self.assertEqual(b"".join(chunks), b"lo w")

    def test_download_object_reads_the_generation_and_checks_the_content(self) -> None:
        data = b"hello world"
        self.make((200, {}, data))
        target = self.mktemp()
        self.assertIs(
            self.result(self.driver.download_object(self.stored("a.txt", data), target)), True
        )
        self.assertEqual(
            query_of(self.received[0]), {"alt": "media", "generation": "1700000000000001"}
        )
        with open(target, "rb") as file:
            self.assertEqual(file.read(), data)

    def test_content_that_does_not_match_leaves_no_file(self) -> None:
        self.make((200, {}, b"hello there"))
        target = self.mktemp()
        error = self.failure(
            self.driver.download_object(self.stored("a.txt", b"hello world"), target),
            ObjectHashMismatchError,
        )
        self.assertIn("crc32c", str(error))
        self.assertFalse(os.path.exists(target))

    def test_downloads_are_checked_with_the_crc32c_not_the_md5(self) -> None:
        data = b"hello world"
        self.make((200, {}, data), (200, {}, data))
        good_crc32c = self.stored("a.txt", data, md5Hash=_b64(hashlib.md5(b"x").digest()))
        self.result(self.driver.download_object(good_crc32c, self.mktemp()))
        bad_crc32c = self.stored("a.txt", data, crc32c=_crc32c(b"x"))
        target = self.mktemp()
        self.failure(self.driver.download_object(bad_crc32c, target), ObjectHashMismatchError)
        self.assertFalse(os.path.exists(target))

    def test_no_check_without_verification(self) -> None:
        self.make((200, {}, b"hello there"))
        target = self.mktemp()
        self.result(
            self.driver.download_object(
                self.stored("a.txt", b"hello world"), target, ex_verify_hash=False
            )
        )
        with open(target, "rb") as file:
            self.assertEqual(file.read(), b"hello there")

    def test_large_objects_come_in_parallel_ranges(self) -> None:
        data = os.urandom(3 * MiB)

        def ranged(request: ServerRequest) -> bytes:
            first, last = (request.getHeader("range") or "").split("=")[1].split("-")
            request.setResponseCode(206)
            return data[int(first) : int(last) + 1]

        self.make(ranged)
        target = self.mktemp()
        self.result(
            self.driver.download_object(
                self.stored("big.bin", data), target, ex_download_threshold=MiB, ex_range_size=MiB
            )
        )
        self.assertEqual(
            sorted(r.header("range") for r in self.received),
            [
                "bytes=0-1048575",
                "bytes=1048576-2097151",
                "bytes=2097152-3145727",
            ],
        )
        with open(target, "rb") as file:
            self.assertEqual(file.read(), data)


class ReframeTests(SynchronousTestCase):
    def _sent(self, body: Any) -> tuple[bytes, int]:
        producer = body()
        consumer = RecordingConsumer()
        consumer.attach(producer)
        self.successResultOf(producer.startProducing(consumer))
        return consumer.data, producer.length

    def test_bytes_are_framed_as_they_are_sent_and_can_be_sent_again(self) -> None:
        data = os.urandom(200 * 1024)
        body = reframe(data, prefix=b"<head>", suffix=b"<tail>")
        expected = b"<head>" + data + b"<tail>"
        self.assertEqual(self._sent(body), (expected, len(expected)))
        self.assertEqual(self._sent(body), (expected, len(expected)))

    def test_bytes_sent_again_skip_what_was_stored(self) -> None:
        data = os.urandom(100 * 1024)
        body = reframe(data, skip=70 * 1024)
        self.assertEqual(self._sent(body), (data[70 * 1024 :], 30 * 1024))

    def test_nothing_to_add_or_skip_leaves_the_body_as_it_is(self) -> None:
        self.assertIs(reframe(b"data"), b"data")
