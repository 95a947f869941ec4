"""
Unit tests of the Azure Blobs storage driver (Provider.AZURE_BLOBS) against
scripted answers written from the Blob service REST reference, sent through
treq's in-memory RequestTraversalAgent, with time from a Clock and the
thread pool replaced by one that runs work at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twisted.internet.defer import Deferred
from twisted.web.server import Request as ServerRequest

from txcloud.auth.azure import (
    STORAGE_API_VERSION,
    decode_account_key,
    shared_key_authorization,
)
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
    PermissionDeniedError,
    RateLimitReached,
    ResourceConflictError,
)
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.azure_blobs import DEFAULT_TRANSFER, AzureBlobsStorageDriver
from txcloud.storage.providers import get_driver
from txcloud.storage.transfer.multipart import PREHASH_LIMIT
from txcloud.storage.types import Provider
from txcloud.test.http._support import Answer
from txcloud.test.storage._scripted import ScriptedDriverTestCase, path_of, query_of, xml_answer

ACCOUNT = "myaccount"
# A made-up key (64 bytes, base64) for these tests only.
KEY = base64.b64encode(bytes(range(64))).decode()
MiB = 1024 * 1024


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _error(status: int, code: str, message: str = "refused", head: bool = False) -> Answer:
    headers = {"x-ms-error-code": code, "x-ms-request-id": "req-1"}
    if head:
        return (status, headers, b"")
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return (status, {**headers, "Content-Type": "application/xml"}, body.encode())


def _created(**headers: str) -> Answer:
    return (
        201,
        {"ETag": '"0x8D1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", **headers},
        b"",
    )


def _blob_answer(request: ServerRequest) -> bytes:
    """Answers Put Blob with the MD5 of what it got, Put Block and Put Block List with 201."""
    body = b""
    if request.content is not None:
        request.content.seek(0)
        body = request.content.read()
    request.setResponseCode(201)
    request.setHeader("ETag", '"0x8DBLOB"')
    if b"comp" not in request.args:
        request.setHeader("Content-MD5", _b64md5(body))
    return b""


async def _failing_after(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise ValueError("the source broke")


class AzureTestCase(ScriptedDriverTestCase[AzureBlobsStorageDriver]):
    def make(self, *answers: Answer, **options: Any) -> AzureBlobsStorageDriver:
        options.setdefault("secret", KEY)
        return self.connect(AzureBlobsStorageDriver, answers, ACCOUNT, **options)

    def object(
        self, name: str = "a.txt", size: int = 10, md5: str | None = None, etag: str = "0x8D1"
    ) -> Object:
        extra = {"etag": f'"{etag}"', "md5_hash": md5}
        return Object(name, size, etag, extra, {}, self.container(), self.driver)


class ConstructionTests(AzureTestCase):
    def test_get_driver_returns_the_azure_blobs_driver(self) -> None:
        self.assertIs(get_driver(Provider.AZURE_BLOBS), AzureBlobsStorageDriver)
        self.assertEqual(
            (AzureBlobsStorageDriver.name, AzureBlobsStorageDriver.type),
            ("Microsoft Azure (blobs)", Provider.AZURE_BLOBS),
        )

    def test_the_account_name_picks_the_azure_host(self) -> None:
        self.make(_created())
        self.result(self.driver.create_container("photos"))
        [received] = self.received
        self.assertEqual(received.header("Host"), "myaccount.blob.core.windows.net")
        self.assertEqual(received.uri, "/photos?restype=container")
        self.assertEqual(self.driver.account_url, "https://myaccount.blob.core.windows.net")

    def test_a_sovereign_cloud_endpoint_gets_the_account_in_front(self) -> None:
        self.make(_created(), host="blob.core.chinacloudapi.cn")
        self.assertEqual(self.driver.account_url, "https://myaccount.blob.core.chinacloudapi.cn")

    def test_a_custom_host_uses_path_style_urls(self) -> None:
        self.make(_created(), host="127.0.0.1", port=10000, secure=False)
        self.result(self.driver.create_container("photos"))
        [received] = self.received
        self.assertEqual(received.header("Host"), "127.0.0.1:10000")
        self.assertEqual(received.uri, "/myaccount/photos?restype=container")

    def test_bad_credentials_are_refused_without_showing_them(self) -> None:
        for options in (
            {"secret": "not base64!"},
            {"ex_sas_token": "sv=2025-01-05&sig=abc&sp=r"},
            {"secret": None, "ex_sas_token": "se=2030-01-01&sp=r"},
        ):
            with self.assertRaises(InvalidArgumentError) as caught:
                self.make(_created(), **options)
            for value in options.values():
                if value:
                    self.assertNotIn(value, str(caught.exception))

    def test_a_bad_account_name_is_refused(self) -> None:
        for name in ("My-Account", "ab", "a" * 25, ""):
            with self.assertRaises(InvalidArgumentError):
                AzureBlobsStorageDriver(name, KEY)

    def test_transfer_settings_come_from_the_ex_arguments(self) -> None:
        driver = self.make(ex_part_size=4 * MiB, ex_download_concurrency=3)
        self.assertEqual(driver.transfer_config.part_size, 4 * MiB)
        self.assertEqual(driver.transfer_config.download_concurrency, 3)
        self.assertEqual(
            driver.transfer_config.multipart_threshold, DEFAULT_TRANSFER.multipart_threshold
        )

    def test_the_repr_shows_no_secret(self) -> None:
        self.make()
        self.assertNotIn(KEY, repr(self.driver))


class SigningTests(AzureTestCase):
    def test_requests_carry_a_shared_key_signature_of_what_was_sent(self) -> None:
        self.make(_blob_answer, host="127.0.0.1", port=10000, secure=False)
        self.result(
            self.driver.upload_object_via_stream(
                iter([b"hello"]), self.container(), "a b.txt", extra={"meta_data": {"k": "v"}}
            )
        )
        [received] = self.received
        headers = {name: values[0] for name, values in received.headers.items()}
        self.assertEqual(headers["x-ms-version"], STORAGE_API_VERSION)
        self.assertEqual(headers["x-ms-date"], "Thu, 01 Jan 1970 00:00:00 GMT")
        self.assertEqual(headers["content-length"], "5")
        expected = shared_key_authorization(
            "PUT",
            f"http://127.0.0.1:10000{received.uri}",
            headers,
            ACCOUNT,
            decode_account_key(KEY),
        )
        self.assertEqual(headers["authorization"], expected)
        self.assertTrue(expected.startswith("SharedKey myaccount:"))

    def test_a_sas_token_goes_in_the_query_instead_of_a_signature(self) -> None:
        token = "?sv=2025-01-05&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=c2ln%2Bx%3D"
        self.make(
            xml_answer("<EnumerationResults><Containers/></EnumerationResults>"),
            secret=None,
            ex_sas_token=token,
        )
        self.assertEqual(self.result(self.driver.list_containers()), [])
        [received] = self.received
        self.assertIsNone(received.header("Authorization"))
        query = query_of(received)
        self.assertEqual((query["sig"], query["sp"], query["comp"]), ("c2ln+x=", "rl", "list"))
        self.assertEqual(received.header("x-ms-version"), STORAGE_API_VERSION)


CONTAINERS_PAGE_1 = """<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://myaccount.blob.core.windows.net/">
  <MaxResults>2</MaxResults>
  <Containers>
    <Container><Name>alpha</Name>
      <Properties><Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified>
        <Etag>"0x8DA"</Etag><LeaseStatus>unlocked</LeaseStatus>
        <LeaseState>available</LeaseState></Properties>
      <Metadata><Team>ops</Team></Metadata></Container>
    <Container><Name>beta</Name><Properties><Etag>"0x8DB"</Etag></Properties></Container>
  </Containers>
  <NextMarker>/myaccount/gamma</NextMarker>
</EnumerationResults>"""

CONTAINERS_PAGE_2 = """<EnumerationResults>
  <Containers><Container><Name>gamma</Name><Properties/></Container></Containers>
  <NextMarker/>
</EnumerationResults>"""


class ContainerTests(AzureTestCase):
    def test_list_containers_follows_next_markers(self) -> None:
        self.make(xml_answer(CONTAINERS_PAGE_1), xml_answer(CONTAINERS_PAGE_2))
        containers = self.result(self.driver.list_containers())
        self.assertEqual([c.name for c in containers], ["alpha", "beta", "gamma"])
        first, second = self.received
        self.assertEqual(
            query_of(first), {"comp": "list", "maxresults": "5000", "include": "metadata"}
        )
        self.assertEqual(query_of(second)["marker"], "/myaccount/gamma")
        alpha = containers[0]
        self.assertEqual(alpha.extra["etag"], "0x8DA")
        self.assertEqual(alpha.extra["meta_data"], {"team": "ops"})
        self.assertEqual(alpha.extra["lease"]["state"], "available")
        self.assertEqual(alpha.extra["url"], "https://myaccount.blob.core.windows.net/alpha")

    def test_containers_are_fetched_lazily(self) -> None:
        self.make(xml_answer(CONTAINERS_PAGE_1), xml_answer(CONTAINERS_PAGE_2))

        async def first() -> Container:
            return await anext(self.driver.iterate_containers())

        self.assertEqual(self.result(Deferred.fromCoroutine(first())).name, "alpha")
        self.assertEqual(len(self.received), 1)

    def test_create_container_reads_the_new_container(self) -> None:
        self.make(_created())
        created = self.result(self.driver.create_container("new-photos"))
        self.assertEqual((created.name, created.extra["etag"]), ("new-photos", "0x8D1"))
        self.assertEqual(self.received[0].method, "PUT")

    def test_bad_container_names_are_refused_before_any_request(self) -> None:
        self.make(_created())
        for name in ("ab", "a" * 64, "Photos", "a--b", "-ab", "ab-", "a_b", "a.b", 7):
            self.failure(self.driver.create_container(name), InvalidContainerNameError)  # type: ignore[arg-type]
        self.assertEqual(self.received, [])
        for name in ("abc", "a-b-c", "0" * 63, "$root"):
            self.result(self.driver.create_container(name))

    def test_an_existing_container_gives_container_already_exists(self) -> None:
        self.make(_error(409, "ContainerAlreadyExists"))
        error = self.failure(self.driver.create_container("photos"), ContainerAlreadyExistsError)
        self.assertEqual((error.container_name, error.status), ("photos", 409))
        self.assertEqual((error.code, error.request_id), ("ContainerAlreadyExists", "req-1"))

    def test_a_container_being_deleted_cannot_be_created_or_used(self) -> None:
        self.make(_error(409, "ContainerBeingDeleted"))
        self.failure(self.driver.create_container("photos"), ContainerAlreadyExistsError)
        self.failure(
            self.driver.upload_object_via_stream(iter([b"x"]), self.container(), "a"),
            ContainerDoesNotExistError,
        )

    def test_a_missing_container_on_head_gives_container_does_not_exist(self) -> None:
        self.make(_error(404, "ContainerNotFound", head=True))
        error = self.failure(self.driver.get_container("photos"), ContainerDoesNotExistError)
        self.assertEqual((error.code, error.container_name), ("ContainerNotFound", "photos"))
        self.assertEqual(self.received[0].method, "HEAD")

    def test_a_non_empty_container_is_not_deleted(self) -> None:
        self.make(
            xml_answer(
                "<EnumerationResults><Blobs><Blob><Name>a</Name></Blob></Blobs></EnumerationResults>"
            )
        )
        error = self.failure(
            self.driver.delete_container(self.container()), ContainerIsNotEmptyError
        )
        self.assertEqual(error.container_name, "photos")
        [listing] = self.received
        self.assertEqual(listing.method, "GET")
        self.assertEqual(query_of(listing)["maxresults"], "1")

    def test_an_empty_container_is_deleted(self) -> None:
        self.make(xml_answer("<EnumerationResults><Blobs/></EnumerationResults>"), (202, {}, b""))
        self.assertIs(self.result(self.driver.delete_container(self.container())), True)
        delete = self.received[-1]
        self.assertEqual((delete.method, query_of(delete)), ("DELETE", {"restype": "container"}))


BLOBS_PAGE_1 = """<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ContainerName="photos">
  <Blobs>
    <Blob><Name>2024/cat.jpg</Name>
      <Properties><Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified>
        <Etag>0x8DCAT</Etag><Content-Length>11</Content-Length>
        <Content-Type>image/jpeg</Content-Type><Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5>
        <BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus></Properties>
      <Metadata><Camera>x100</Camera></Metadata></Blob>
    <Blob><Name Encoded="true">2024/%EF%BF%BE.txt</Name>
      <Properties><Etag>0x8DODD</Etag><Content-Length>0</Content-Length></Properties></Blob>
  </Blobs>
  <NextMarker>2!88!next</NextMarker>
</EnumerationResults>"""

BLOBS_PAGE_2 = """<EnumerationResults><Blobs><Blob><Name>2024/dog.jpg</Name>
  <Properties><Etag>0x8DDOG</Etag><Content-Length>3</Content-Length></Properties></Blob>
  </Blobs><NextMarker/></EnumerationResults>"""


class ObjectListingTests(AzureTestCase):
    def test_pages_are_fetched_with_markers_and_parsed(self) -> None:
        self.make(xml_answer(BLOBS_PAGE_1), xml_answer(BLOBS_PAGE_2))
        listed = self.result(
            self.driver.list_container_objects(self.container(), prefix="2024/", ex_page_size=2)
        )
        self.assertEqual(
            [obj.name for obj in listed], ["2024/cat.jpg", "2024/\ufffe.txt", "2024/dog.jpg"]
        )
        first, second = self.received
        self.assertEqual(
            query_of(first),
            {
                "restype": "container",
                "comp": "list",
                "maxresults": "2",
                "include": "metadata",
                "prefix": "2024/",
            },
        )
        self.assertEqual(query_of(second)["marker"], "2!88!next")
        cat = listed[0]
        self.assertEqual((cat.size, cat.hash, cat.meta_data), (11, "0x8DCAT", {"camera": "x100"}))
        self.assertEqual(cat.extra["md5_hash"], _md5(b"hello world"))
        self.assertEqual(
            (cat.extra["content_type"], cat.extra["blob_type"], cat.extra["lease"]["status"]),
            ("image/jpeg", "BlockBlob", "unlocked"),
        )
        self.assertEqual(
            cat.extra["url"], "https://myaccount.blob.core.windows.net/photos/2024/cat.jpg"
        )
        self.assertIsNone(listed[2].extra["md5_hash"])

    def test_a_bad_page_size_is_refused_before_any_request(self) -> None:
        self.make(xml_answer(BLOBS_PAGE_2))
        for size in (0, 5001, "10", True):
            self.failure(
                self.collect(self.driver.iterate_container_objects(self.container(), None, size)),  # type: ignore[arg-type]
                InvalidArgumentError,
            )
        self.assertEqual(self.received, [])

    def test_listing_a_missing_container_gives_container_does_not_exist(self) -> None:
        self.make(_error(404, "ContainerNotFound"))
        error = self.failure(
            self.driver.list_container_objects(self.container()), ContainerDoesNotExistError
        )
        self.assertEqual(error.container_name, "photos")


class ObjectTests(AzureTestCase):
    def test_get_object_reads_the_blob_properties(self) -> None:
        headers = {
            "Content-Length": "11",
            "Content-Type": "text/plain",
            "Content-MD5": "XrY7u+Ae7tCTyyK7j1rNww==",
            "ETag": '"0x8DHELLO"',
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            "x-ms-blob-type": "BlockBlob",
            "x-ms-meta-Owner": "ops",
            "x-ms-lease-state": "available",
        }
        self.make((200, headers, b""))
        obj = self.result(self.driver.get_object("photos", "dir/hello world.txt"))
        self.assertEqual(path_of(self.received[0]), "/photos/dir/hello%20world.txt")
        self.assertEqual((obj.name, obj.size, obj.hash), ("dir/hello world.txt", 11, "0x8DHELLO"))
        self.assertEqual(obj.meta_data, {"owner": "ops"})
        self.assertEqual(obj.extra["md5_hash"], _md5(b"hello world"))
        self.assertEqual(obj.extra["etag"], '"0x8DHELLO"')
        self.assertEqual(
            (obj.extra["content_type"], obj.extra["blob_type"], obj.extra["lease"]["state"]),
            ("text/plain", "BlockBlob", "available"),
        )

    def test_head_answers_are_told_apart_by_their_error_code_header(self) -> None:
        self.make(
            _error(404, "BlobNotFound", head=True), _error(404, "ContainerNotFound", head=True)
        )
        error = self.failure(self.driver.get_object("photos", "a.txt"), ObjectDoesNotExistError)
        self.assertEqual((error.object_name, error.code), ("a.txt", "BlobNotFound"))
        self.failure(self.driver.get_object("photos", "a.txt"), ContainerDoesNotExistError)

    def test_bad_blob_names_are_refused_before_any_request(self) -> None:
        self.make((200, {}, b""))
        for name in ("", "a" * 1025, "a/../b", "./a", "tab\there", "/".join("a" * 255), None):
            self.failure(self.driver.get_object("photos", name), InvalidObjectNameError)  # type: ignore[arg-type]
        self.assertEqual(self.received, [])

    def test_credential_errors_are_typed(self) -> None:
        self.make(
            _error(403, "AuthenticationFailed"), _error(403, "AuthorizationPermissionMismatch")
        )
        error = self.failure(self.driver.list_containers(), InvalidCredsError)
        self.assertNotIsInstance(error, PermissionDeniedError)
        self.assertNotIn(KEY, str(error))
        self.failure(self.driver.list_containers(), PermissionDeniedError)

    def test_server_busy_gives_rate_limit_reached_even_on_head(self) -> None:
        self.make(_error(503, "ServerBusy", head=True))
        error = self.failure(self.driver.get_object("photos", "a"), RateLimitReached)
        self.assertEqual((error.status, error.code), (503, "ServerBusy"))

    def test_delete_object_fires_true_and_a_missing_one_fails(self) -> None:
        self.make((202, {}, b""), _error(404, "BlobNotFound"))
        self.assertIs(self.result(self.driver.delete_object(self.object())), True)
        self.assertEqual(self.received[0].method, "DELETE")
        self.failure(self.driver.delete_object(self.object()), ObjectDoesNotExistError)


class UploadTests(AzureTestCase):
    def test_a_small_stream_goes_in_one_put_blob_with_its_md5_and_options(self) -> None:
        self.make(_blob_answer)
        extra = {
            "meta_data": {"Owner": "ops"},
            "content_type": "text/csv",
            "cache_control": "no-cache",
        }
        obj = self.result(
            self.driver.upload_object_via_stream(
                iter([b"a,b\n", b"1,2\n"]), self.container(), "r.csv", extra=extra
            )
        )
        [put] = self.received
        self.assertEqual(
            (put.method, path_of(put), put.body), ("PUT", "/photos/r.csv", b"a,b\n1,2\n")
        )
        self.assertEqual(put.header("x-ms-blob-type"), "BlockBlob")
        self.assertEqual(put.header("Content-MD5"), _b64md5(b"a,b\n1,2\n"))
        self.assertEqual(put.header("x-ms-blob-content-type"), "text/csv")
        self.assertEqual(put.header("x-ms-blob-cache-control"), "no-cache")
        self.assertEqual(put.header("x-ms-meta-owner"), "ops")
        self.assertEqual((obj.size, obj.hash, obj.meta_data), (8, "0x8DBLOB", {"owner": "ops"}))
        self.assertEqual(obj.extra["md5_hash"], _md5(b"a,b\n1,2\n"))
        self.assertEqual(obj.extra["content_type"], "text/csv")

    def test_the_content_type_is_guessed_from_the_name(self) -> None:
        self.make(_blob_answer)
        self.result(self.driver.upload_object_via_stream(iter([b"{}"]), self.container(), "a.json"))
        self.assertEqual(self.received[0].header("x-ms-blob-content-type"), "application/json")

    def test_an_md5_refused_by_azure_gives_a_hash_mismatch(self) -> None:
        self.make(_error(400, "Md5Mismatch"))
        error = self.failure(
            self.driver.upload_object_via_stream(iter([b"x"]), self.container(), "a"),
            ObjectHashMismatchError,
        )
        self.assertEqual(error.object_name, "a")

    def test_bad_upload_options_are_refused_before_any_request(self) -> None:
        self.make(_blob_answer)
        for extra in (
            {"acl": "public-read"},
            {"meta_data": {"1st": "x"}},
            {"meta_data": {"has-dash": "x"}},
            {"meta_data": {"k": "caf\u00e9"}},
            {"meta_data": {"Name": "x", "name": "y"}},
            {"content_type": 3},
        ):
            self.failure(
                self.driver.upload_object_via_stream(iter([b"x"]), self.container(), "a", extra),
                InvalidArgumentError,
            )
        self.assertEqual(self.received, [])

    def test_a_long_stream_goes_in_blocks_without_md5s_committed_with_its_md5(self) -> None:
        self.make(_blob_answer, ex_part_size=MiB)
        data = os.urandom(2 * MiB + 10)
        chunks = [data[offset : offset + 300_000] for offset in range(0, len(data), 300_000)]
        obj = self.result(
            self.driver.upload_object_via_stream(
                iter(chunks), self.container(), "big.bin", {"meta_data": {"k": "v"}}
            )
        )
        *blocks, commit = self.received
        self.assertEqual([query_of(block)["comp"] for block in blocks], ["block"] * 3)
        ids = [query_of(block)["blockid"] for block in blocks]
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual({len(block_id) for block_id in ids}, {len(ids[0])})
        self.assertEqual(b"".join(block.body for block in blocks), data)
        for block in blocks:
            self.assertIsNone(block.header("Content-MD5"))
            self.assertIsNone(block.header("x-ms-meta-k"))
        self.assertEqual((commit.method, query_of(commit)), ("PUT", {"comp": "blocklist"}))
        self.assertEqual(
            commit.body,
            (
                '<?xml version="1.0" encoding="utf-8"?><BlockList>'
                + "".join(f"<Latest>{block_id}</Latest>" for block_id in ids)
                + "</BlockList>"
            ).encode(),
        )
        self.assertEqual(commit.header("x-ms-blob-content-md5"), _b64md5(data))
        self.assertEqual(commit.header("Content-MD5"), _b64md5(commit.body))
        self.assertEqual(commit.header("x-ms-meta-k"), "v")
        self.assertEqual((obj.size, obj.extra["md5_hash"]), (len(data), _md5(data)))

    def test_transactional_md5_sends_each_blocks_md5(self) -> None:
        data = os.urandom(2 * MiB + 10)
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(data)
        for driver_option, call_option in ((True, None), (False, True)):
            self.make(_blob_answer, ex_part_size=MiB, ex_transactional_md5=driver_option)
            self.result(
                self.driver.upload_object_via_stream(
                    iter([data]), self.container(), "s.bin", ex_transactional_md5=call_option
                )
            )
            self.result(
                self.driver.upload_object(
                    path,
                    self.container(),
                    "f.bin",
                    ex_multipart_threshold=MiB,
                    ex_transactional_md5=call_option,
                )
            )
            blocks = [r for r in self.received if query_of(r).get("comp") == "block"]
            self.assertEqual(len(blocks), 6)
            for block in blocks:
                self.assertEqual(block.header("Content-MD5"), _b64md5(block.body))

    def test_a_block_refused_for_its_md5_commits_nothing(self) -> None:
        self.make(
            _error(400, "Md5Mismatch"),
            ex_part_size=MiB,
            ex_max_concurrency=1,
            ex_transactional_md5=True,
        )
        error = self.failure(
            self.driver.upload_object_via_stream(
                iter([os.urandom(3 * MiB)]), self.container(), "big.bin"
            ),
            ObjectHashMismatchError,
        )
        self.assertEqual(error.object_name, "big.bin")
        self.assertEqual({query_of(r).get("comp") for r in self.received}, {"block"})

    def test_a_call_can_turn_transactional_md5_off(self) -> None:
        self.make(_blob_answer, ex_part_size=MiB, ex_transactional_md5=True)
        self.result(
            self.driver.upload_object_via_stream(
                iter([os.urandom(2 * MiB)]),
                self.container(),
                "s.bin",
                ex_transactional_md5=False,
            )
        )
        blocks = [r for r in self.received if query_of(r).get("comp") == "block"]
        self.assertEqual([block.header("Content-MD5") for block in blocks], [None, None])

    def test_without_verify_hash_no_md5_is_computed_or_committed(self) -> None:
        from txcloud.storage.drivers.azure_blobs import driver

        def refuse(*args: Any) -> None:
            raise AssertionError("the blob's MD5 was computed")

        self.patch(driver, "FileMD5", refuse)
        self.patch(driver, "StreamMD5", refuse)
        self.make(_blob_answer, ex_part_size=MiB, ex_multipart_threshold=MiB)
        path = self.mktemp()
        data = os.urandom(2 * MiB + 1)
        with open(path, "wb") as file:
            file.write(data)
        by_file = self.result(
            self.driver.upload_object(path, self.container(), "f.bin", verify_hash=False)
        )
        by_stream = self.result(
            self.driver.upload_object_via_stream(
                iter([data]), self.container(), "s.bin", verify_hash=False
            )
        )
        commits = [r for r in self.received if query_of(r).get("comp") == "blocklist"]
        self.assertEqual([c.header("x-ms-blob-content-md5") for c in commits], [None, None])
        blocks = [r for r in self.received if query_of(r).get("comp") == "block"]
        self.assertEqual({block.header("Content-MD5") for block in blocks}, {None})
        self.assertEqual((by_file.extra["md5_hash"], by_stream.extra["md5_hash"]), (None, None))

    def test_a_put_blob_without_verify_hash_keeps_the_md5_azure_computed(self) -> None:
        self.make(_blob_answer)
        obj = self.result(
            self.driver.upload_object_via_stream(
                iter([b"small"]), self.container(), "s.txt", verify_hash=False
            )
        )
        [put] = self.received
        self.assertIsNone(put.header("Content-MD5"))
        self.assertEqual(obj.extra["md5_hash"], _md5(b"small"))

    def test_a_failing_stream_commits_nothing_and_fails_with_its_error(self) -> None:
        self.make(_blob_answer, ex_part_size=MiB)
        source = _failing_after([os.urandom(MiB), os.urandom(MiB)])
        self.failure(
            self.driver.upload_object_via_stream(source, self.container(), "big.bin"), ValueError
        )
        self.assertTrue(self.received)
        self.assertEqual({query_of(r).get("comp") for r in self.received}, {"block"})

    def test_a_refused_block_stops_and_closes_the_source(self) -> None:
        self.make(_error(403, "AuthorizationPermissionMismatch"), ex_part_size=MiB)
        closed: list[bool] = []

        async def source() -> AsyncIterator[bytes]:
            try:
                for _ in range(10):
                    yield os.urandom(MiB)
            finally:
                closed.append(True)

        self.failure(
            self.driver.upload_object_via_stream(source(), self.container(), "big.bin"),
            PermissionDeniedError,
        )
        self.assertEqual(closed, [True])
        self.assertNotIn("blocklist", [query_of(r).get("comp") for r in self.received])

    def test_a_large_file_goes_in_blocks_committed_with_the_file_md5(self) -> None:
        self.make(_blob_answer, ex_part_size=MiB, ex_multipart_threshold=MiB)
        path = self.mktemp()
        data = os.urandom(3 * MiB - 1)
        with open(path, "wb") as file:
            file.write(data)
        obj = self.result(self.driver.upload_object(path, self.container(), "f.bin"))
        *blocks, commit = self.received
        self.assertEqual(len(blocks), 3)
        self.assertEqual(commit.header("x-ms-blob-content-md5"), _b64md5(data))
        self.assertEqual(obj.extra["md5_hash"], _md5(data))

    def test_a_single_put_whose_stored_md5_differs_is_deleted(self) -> None:
        def wrong_md5(request: ServerRequest) -> bytes:
            request.setResponseCode(201)
            request.setHeader("ETag", '"0x8D2"')
            request.setHeader("Content-MD5", _b64md5(b"something else"))
            return b""

        self.make(wrong_md5, (202, {}, b""))
        path = self.mktemp()
        with open(path, "wb") as file:
            # Above the size hashed before sending: the MD5 is checked afterwards.
            file.write(os.urandom(PREHASH_LIMIT + 1))
        self.failure(
            self.driver.upload_object(path, self.container(), "f.bin"), ObjectHashMismatchError
        )
        put, delete = self.received
        self.assertIsNone(put.header("Content-MD5"))
        self.assertEqual((delete.method, path_of(delete)), ("DELETE", "/photos/f.bin"))


class DownloadTests(AzureTestCase):
    def test_a_range_is_asked_with_an_inclusive_end(self) -> None:
        self.make((206, {}, b"llo"))
        chunks = self.result(
            self.collect(self.driver.download_object_range_as_stream(self.object(), 2, 5))
        )
        self.assertEqual(chunks, [b"llo"])
        self.assertEqual(self.received[0].header("x-ms-range"), "bytes=2-4")
        self.assertIsNone(self.received[0].header("If-Match"))

    def test_a_server_ignoring_the_range_is_cut_to_it(self) -> None:
        self.make((200, {}, b"hello world"))
        chunks = self.result(
            self.collect(self.driver.download_object_range_as_stream(self.object(), 6))
        )
        self.assertEqual(b"".join(chunks), b"world")
        self.assertEqual(self.received[0].header("x-ms-range"), "bytes=6-")

    def test_download_object_is_pinned_and_checked_against_the_md5(self) -> None:
        self.make((200, {}, b"hello world"))
        destination = self.mktemp()
        obj = self.object(size=11, md5=_md5(b"hello world"))
        self.assertIs(self.result(self.driver.download_object(obj, destination)), True)
        with open(destination, "rb") as file:
            self.assertEqual(file.read(), b"hello world")
        self.assertEqual(self.received[0].header("If-Match"), '"0x8D1"')

    def test_download_object_refuses_data_that_does_not_match(self) -> None:
        self.make((200, {}, b"hello there"))
        destination = self.mktemp()
        obj = self.object(size=11, md5=_md5(b"hello world"))
        self.failure(self.driver.download_object(obj, destination), ObjectHashMismatchError)
        self.assertFalse(os.path.exists(destination))

    def test_an_object_without_its_md5_is_asked_for_it_first(self) -> None:
        head = (200, {"Content-Length": "11", "Content-MD5": _b64md5(b"hello world")}, b"")
        self.make(head, (200, {}, b"hello there"))
        obj = Object("a.txt", 11, "0x8D1", {}, {}, self.container(), self.driver)
        self.failure(self.driver.download_object(obj, self.mktemp()), ObjectHashMismatchError)
        self.assertEqual([r.method for r in self.received], ["HEAD", "GET"])

    def test_a_changed_blob_fails_the_pinned_download(self) -> None:
        self.make(_error(412, "ConditionNotMet"))
        obj = self.object(size=11, md5=_md5(b"hello world"))
        error = self.failure(self.driver.download_object(obj, self.mktemp()), ResourceConflictError)
        self.assertEqual(error.code, "ConditionNotMet")

    def test_large_objects_come_in_parallel_ranges(self) -> None:
        data = os.urandom(3 * MiB)

        def ranged(request: ServerRequest) -> bytes:
            spec = request.getHeader("x-ms-range") or ""
            start, end = (int(value) for value in spec.removeprefix("bytes=").split("-"))
            request.setResponseCode(206)
            return data[start : end + 1]

        self.make(ranged, ex_download_threshold=MiB, ex_range_size=MiB)
        destination = self.mktemp()
        obj = self.object(size=len(data), md5=_md5(data))
        self.result(self.driver.download_object(obj, destination))
        with open(destination, "rb") as file:
            self.assertEqual(file.read(), data)
        self.assertEqual(
            sorted(r.header("x-ms-range") for r in self.received),
            [f"bytes={n * MiB}-{(n + 1) * MiB - 1}" for n in range(3)],
        )


class SASTests(AzureTestCase):
    def test_a_blob_sas_grants_the_permissions_until_the_expiry(self) -> None:
        self.make()
        self.reactor.advance(1_700_000_000)
        token = dict(parse_qsl(self.driver.ex_generate_sas(self.object(), "wr", 3600)))
        self.assertEqual(
            {name: token[name] for name in ("sv", "sr", "sp", "se", "spr")},
            {
                "sv": STORAGE_API_VERSION,
                "sr": "b",
                "sp": "rw",
                "se": "2023-11-14T23:13:20Z",
                "spr": "https",
            },
        )
        self.assertEqual(len(base64.b64decode(token["sig"])), 32)

    def test_container_and_account_tokens_name_their_scope(self) -> None:
        self.make(host="127.0.0.1", port=10000, secure=False)
        container = dict(parse_qsl(self.driver.ex_generate_sas(self.container(), "rl")))
        self.assertEqual(
            (container["sr"], container["sp"], container["spr"]), ("c", "rl", "https,http")
        )
        account = dict(parse_qsl(self.driver.ex_generate_sas(None, "rwl")))
        self.assertEqual((account["ss"], account["srt"], account["sp"]), ("b", "sco", "rwl"))

    def test_a_presigned_url_points_at_the_blob(self) -> None:
        self.make()
        url = self.driver.ex_presigned_url(("photos", "a b.txt"), "PUT", 60)
        parts = urlsplit(url)
        self.assertEqual(
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            "https://myaccount.blob.core.windows.net/photos/a%20b.txt",
        )
        self.assertEqual(dict(parse_qsl(parts.query))["sp"], "cw")
        cdn = urlsplit(self.driver.get_object_cdn_url(self.object(), ex_expiry=1))
        self.assertEqual(dict(parse_qsl(cdn.query))["se"], "1970-01-01T01:00:00Z")

    def test_bad_sas_requests_are_refused(self) -> None:
        self.make()
        for call in (
            lambda: self.driver.ex_generate_sas(self.object(), "rz"),
            lambda: self.driver.ex_generate_sas(self.object(), "r", 0),
            lambda: self.driver.ex_presigned_url(self.object(), "POST"),
            lambda: self.driver.ex_presigned_url(("photos", "")),
        ):
            self.assertRaises(InvalidArgumentError, call)
        token = "sv=2025-01-05&sp=r&sig=abc"
        sas_only = AzureBlobsStorageDriver(ACCOUNT, ex_sas_token=token)
        self.assertRaises(InvalidArgumentError, sas_only.ex_generate_sas, None)
