"""
Plumbing the benchmark scripts share: free ports, stopping the servers they
start, checking files, and running each tool in a child process so its peak
memory is its own.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: The checkout's root, which the children import txcloud from.
ROOT = str(Path(__file__).resolve().parent.parent)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a server started in a session of its own: SIGTERM, then SIGKILL after *grace*."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def md5_of_file(path: str) -> str:
    """The MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def run_child(label: str, command: Sequence[str]) -> tuple[bytes, float]:
    """
    Run *command* with this checkout on ``PYTHONPATH``.

    :returns: its standard output and its own peak RSS in MiB (``ru_maxrss``
        from ``os.wait4``, so no other process's memory counts).
    :raises SystemExit: if it fails, naming *label*.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [ROOT, *filter(None, [environment.get("PYTHONPATH")])]
    )
    child = subprocess.Popen(list(command), stdout=subprocess.PIPE, env=environment)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed with exit code {os.waitstatus_to_exitcode(status)}")
    # ru_maxrss is in KiB on Linux.
    return output, usage.ru_maxrss / 1024
