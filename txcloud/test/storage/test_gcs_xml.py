"""
Tests of Google Cloud Storage through the XML API with an HMAC key
(GoogleStorageXMLDriver, the S3 driver's signing and parsing) against a
local fake of the XML API that checks every SigV4 signature with botocore,
on the real reactor.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase
from twisted.web.server import Site

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidContainerNameError,
    InvalidCredsError,
    ObjectDoesNotExistError,
)
from txcloud.storage.base import Object
from txcloud.storage.drivers.google_storage.xml_api import GoogleStorageXMLDriver
from txcloud.storage.providers import get_driver
from txcloud.storage.types import Provider
from txcloud.test.gcs_xml_fake import ACCESS_ID, SECRET, FakeGCSXML

MiB = 1024 * 1024


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


class GCSXMLTests(TestCase):
    timeout = 60

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        self.fake = FakeGCSXML()
        reactor: Any = global_reactor
        self.port = reactor.listenTCP(0, Site(self.fake), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.driver = self.make_driver()
        return Deferred.fromCoroutine(self._bucket())

    async def _bucket(self) -> None:
        self.bucket = await self.driver.create_container("photos", ex_location="EU")

    def make_driver(self, key: str = ACCESS_ID, secret: str = SECRET, **options: Any) -> Any:
        cls: Any = get_driver(Provider.GOOGLE_STORAGE)
        driver = cls(
            key,
            secret,
            host="127.0.0.1",
            port=self.port.getHost().port,
            secure=False,
            ex_project="project-1",
            **options,
        )
        self.addCleanup(driver.close)
        return driver

    def test_an_hmac_key_gives_the_xml_driver_signing_for_region_auto(self) -> None:
        self.assertIsInstance(self.driver, GoogleStorageXMLDriver)
        self.assertEqual((self.driver.region, self.driver.name), ("auto", "Google Cloud Storage"))

    async def test_buckets_are_created_in_a_location_listed_and_deleted(self) -> None:
        self.assertEqual(self.fake.locations, {"photos": "EU"})
        await self.driver.create_container("second_bucket")
        self.assertEqual(self.fake.locations["second_bucket"], "US")
        names = [c.name for c in await self.driver.list_containers()]
        self.assertEqual(names, ["photos", "second_bucket"])
        self.assertEqual((await self.driver.get_container("photos")).name, "photos")
        self.assertIs(await self.driver.delete_container(self.bucket), True)
        self.assertEqual(set(self.fake.projects_seen), {"project-1"})

    async def test_errors_are_typed(self) -> None:
        with self.assertRaises(ContainerAlreadyExistsError):
            await self.driver.create_container("photos")
        with self.assertRaises(ContainerDoesNotExistError):
            await self.driver.get_container("missing-bucket")
        with self.assertRaises(InvalidContainerNameError):
            await self.driver.create_container("google-things")
        await self.driver.upload_object_via_stream(iter([b"x"]), self.bucket, "keep")
        with self.assertRaises(ContainerIsNotEmptyError):
            await self.driver.delete_container(self.bucket)
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.get_object("photos", "missing")
        missing = Object("missing", 0, None, {}, {}, self.bucket, self.driver)
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.delete_object(missing)

    async def test_a_wrong_secret_is_refused(self) -> None:
        wrong = self.make_driver(secret="not-the-secret")
        with self.assertRaises(InvalidCredsError) as caught:
            await wrong.list_containers()
        self.assertEqual(caught.exception.code, "SignatureDoesNotMatch")

    async def test_an_object_round_trips_with_its_metadata(self) -> None:
        data = b"a,b\n1,2\n"
        name = "reports/q1 +é.csv"
        uploaded = await self.driver.upload_object_via_stream(
            iter([data]), self.bucket, name, extra={"meta_data": {"owner": "ops"}}
        )
        self.assertEqual(uploaded.hash, hashlib.md5(data).hexdigest())
        fetched = await self.driver.get_object("photos", name)
        self.assertEqual((fetched.size, fetched.meta_data), (len(data), {"owner": "ops"}))
        self.assertEqual(fetched.extra["content_type"], "text/csv")
        [listed] = await self.driver.list_container_objects(self.bucket, prefix="reports/")
        self.assertEqual((listed.name, listed.hash), (name, uploaded.hash))
        content = b"".join(await _collect(self.driver.download_object_as_stream(listed)))
        self.assertEqual(content, data)
        part = b"".join(await _collect(self.driver.download_object_range_as_stream(listed, 2, 5)))
        self.assertEqual(part, data[2:5])
        self.assertIs(await self.driver.delete_object(listed), True)

    async def test_listings_follow_continuation_tokens(self) -> None:
        names = [f"k/{i:03d}" for i in range(7)]
        for name in names:
            await self.driver.upload_object_via_stream(iter([name.encode()]), self.bucket, name)
        listed = await self.driver.list_container_objects(self.bucket, ex_page_size=3)
        self.assertEqual([obj.name for obj in listed], names)

    async def test_a_large_file_goes_up_in_parts_without_s3_checksums(self) -> None:
        path = self.mktemp()
        data = os.urandom(12 * MiB + 5)
        with open(path, "wb") as file:
            file.write(data)
        obj = await self.driver.upload_object(path, self.bucket, "big.bin", ex_part_size=5 * MiB)
        self.assertEqual(obj.size, len(data))
        self.assertEqual(self.fake.buckets["photos"]["big.bin"].data, data)
        self.assertIsNone(self.fake.buckets["photos"]["big.bin"].md5)
        sent = set().union(*self.fake.headers_seen)
        self.assertEqual({h for h in sent if "checksum" in h}, set())
        self.assertIn("content-md5", sent)
        target = self.mktemp()
        await self.driver.download_object(obj, target)
        with open(target, "rb") as file:
            self.assertEqual(hashlib.md5(file.read()).digest(), hashlib.md5(data).digest())

    async def test_a_failing_stream_leaves_no_upload_behind(self) -> None:
        def broken() -> Any:
            yield os.urandom(6 * MiB)
            raise ValueError("source broke")

        with self.assertRaises(ValueError):
            await self.driver.upload_object_via_stream(
                broken(), self.bucket, "broken", ex_part_size=5 * MiB
            )
        self.assertEqual((self.fake.uploads, self.fake.buckets["photos"]), ({}, {}))
