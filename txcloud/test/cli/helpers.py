"""Running the command in this process, or Python in a child process (for txcloud.sync too)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue

import txcloud
from txcloud.cli.main import run

#: The folder holding the txcloud package, so children import this tree.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(txcloud.__file__)))

# Where txcloud looks for its configuration and data; children get their own.
_LOCATIONS = ("TXCLOUD_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "HOME")


def child_environment(home: str, **extra: str) -> dict[str, str]:
    """This process's environment with *home* as HOME and no txcloud or XDG settings."""
    environ = {k: v for k, v in os.environ.items() if k not in _LOCATIONS}
    path = environ.get("PYTHONPATH")
    environ["PYTHONPATH"] = SOURCE_ROOT if not path else os.pathsep.join([SOURCE_ROOT, path])
    environ["HOME"] = home
    environ.update(extra)
    return environ


def run_python(
    arguments: Sequence[str], environ: dict[str, str], cwd: str | None = None
) -> Deferred[tuple[str, str, int]]:
    """
    Run ``python ARGUMENTS`` with this interpreter.

    :returns: a Deferred firing with ``(stdout, stderr, exit code)``.
    """
    d = getProcessOutputAndValue(
        sys.executable, list(arguments), env=environ, path=cwd, reactor=reactor
    )
    return d.addCallback(lambda r: (r[0].decode(), r[1].decode(), r[2]))


def run_command(
    argv: Sequence[str], environ: Mapping[str, str], clock: Any = None
) -> Deferred[tuple[int, str, str]]:
    """
    Run ``txcloud ARGV`` in this process, on *clock* (trial's reactor when ``None``).

    :returns: a Deferred firing with ``(exit code, stdout, stderr)``.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    d = run(
        argv,
        reactor=reactor if clock is None else clock,
        stdout=stdout,
        stderr=stderr,
        environ=environ,
    )
    return d.addCallback(lambda code: (code, stdout.getvalue(), stderr.getvalue()))


def xdg_environment(home: str) -> dict[str, str]:
    """An environment whose configuration and data live under *home*."""
    return {
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
    }


def write_config(home: str, text: str) -> dict[str, str]:
    """Write *text* as the default configuration file under *home*; return the environment."""
    environ = xdg_environment(home)
    folder = os.path.join(environ["XDG_CONFIG_HOME"], "txcloud")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "txcloud.toml"), "w", encoding="utf-8") as f:
        f.write(text)
    return environ
