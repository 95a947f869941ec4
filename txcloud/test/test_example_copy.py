"""
The cross-cloud copy example and ``txcloud cp -r`` against real emulators:
every object under an S3 prefix (moto) streamed to Azure (Azurite) and to
Google Cloud Storage (fake-gcs-server) at once, with bounded memory.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.test.azure_services import ACCOUNT, ACCOUNT_KEY, azurite
from txcloud.test.cli.helpers import SOURCE_ROOT, child_environment, run_python
from txcloud.test.emulators import moto, reset_moto
from txcloud.test.gcs_services import PROJECT, fake_gcs

_EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "copy_across_clouds.py")
_MiB = 1024 * 1024


def _endpoint(service: Any) -> str:
    return f"127.0.0.1:{service.port}"


class CopyAcrossCloudsTests(TestCase):
    timeout = 300

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        for service in (moto, azurite, fake_gcs):
            await service.ensure_started()
        await reset_moto()
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)
        self.environ = child_environment(
            self.home,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AZURE_STORAGE_ACCOUNT=ACCOUNT,
            AZURE_STORAGE_KEY=ACCOUNT_KEY,
        )
        self.azure = AzureBlobsStorageDriver(
            ACCOUNT, ACCOUNT_KEY, host="127.0.0.1", port=azurite.port, secure=False
        )
        self.gcs = GoogleStorageDriver(
            "", None, host="127.0.0.1", port=fake_gcs.port, secure=False, ex_project=PROJECT
        )
        self.addCleanup(self.azure.close)
        self.addCleanup(self.gcs.close)

    async def _objects(self, driver: Any, container: str) -> dict[str, int]:
        bucket = await driver.get_container(container)
        return {obj.name: obj.size for obj in await driver.list_container_objects(bucket)}

    async def test_example_copies_a_prefix_to_azure_and_gcs_with_bounded_memory(self) -> None:
        seeded, size_mib = 8, 24
        out, err, code = await run_python(
            [
                _EXAMPLE,
                "--s3",
                _endpoint(moto),
                "--azure",
                _endpoint(azurite),
                "--gcs",
                _endpoint(fake_gcs),
                "--gcs-project",
                PROJECT,
                "--seed",
                str(seeded),
                "--seed-mib",
                str(size_mib),
            ],
            self.environ,
        )
        self.assertEqual(code, 0, err)
        copied = [line for line in out.splitlines() if line.startswith("copied ")]
        self.assertEqual(len(copied), 2 * seeded)
        self.assertIn(
            "copied reports/2026/part-000.bin -> azure_blobs:archive/2026/part-000.bin "
            f"({size_mib * _MiB} bytes)",
            copied,
        )
        expected = {f"2026/part-{i:03}.bin": size_mib * _MiB for i in range(seeded)}
        self.assertEqual(await self._objects(self.azure, "archive"), expected)
        self.assertEqual(await self._objects(self.gcs, "archive"), expected)
        # 384 MiB went through the process; its memory stayed well below that.
        match = re.search(r"^peak memory (\d+) MiB$", out, re.M)
        assert match is not None, out
        self.assertLess(int(match[1]), 256)

    async def test_cp_recursive_streams_to_both_with_a_progress_bar(self) -> None:
        marker = secrets.token_hex(4)
        config = os.path.join(self.home, "txcloud.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(
                f"""
[[storage]]
name = "s3"
provider = "s3"
key = "testing"
secret = "testing"
host = "127.0.0.1"
port = {moto.port}
secure = false

[[storage]]
name = "azure"
provider = "azure_blobs"
key = "{ACCOUNT}"
secret = "{ACCOUNT_KEY}"
host = "127.0.0.1"
port = {azurite.port}
secure = false

[[storage]]
name = "gcs"
provider = "google_storage"
key = ""
host = "127.0.0.1"
port = {fake_gcs.port}
secure = false
options = {{ ex_project = "{PROJECT}" }}
"""
            )
        source = os.path.join(self.home, "source.bin")
        with open(source, "wb") as f:
            f.write(os.urandom(3 * _MiB))
        for name in ("a.bin", "deep/b.bin"):
            _, err, code = await run_python(
                [
                    "-m",
                    "txcloud",
                    "--config",
                    config,
                    "cp",
                    "--create-container",
                    "--no-progress",
                    source,
                    f"s3:src-{marker}/logs/{name}",
                ],
                self.environ,
            )
            self.assertEqual(code, 0, err)
        out, err, code = await run_python(
            [
                "-m",
                "txcloud",
                "--config",
                config,
                "cp",
                "-r",
                "--create-container",
                f"s3:src-{marker}/logs/",
                f"azure:dst-{marker}/",
                f"gcs:dst-{marker}/",
            ],
            self.environ,
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(
            sorted(out.splitlines()),
            [
                f"copied  logs/a.bin -> azure:dst-{marker}/a.bin",
                f"copied  logs/a.bin -> gcs:dst-{marker}/a.bin",
                f"copied  logs/deep/b.bin -> azure:dst-{marker}/deep/b.bin",
                f"copied  logs/deep/b.bin -> gcs:dst-{marker}/deep/b.bin",
            ],
        )
        # Not a terminal: the bar prints its final line only, with the total.
        self.assertIn("100%  12.0 MiB / 12.0 MiB", err)
        expected = {"a.bin": 3 * _MiB, "deep/b.bin": 3 * _MiB}
        self.assertEqual(await self._objects(self.azure, f"dst-{marker}"), expected)
        self.assertEqual(await self._objects(self.gcs, f"dst-{marker}"), expected)
