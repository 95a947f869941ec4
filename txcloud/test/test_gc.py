"""
txcloud leaves Python's garbage collector to the application: no module
changes its settings (docs/usage/transport.rst says what a program with
thousands of drivers may choose to do).
"""

from __future__ import annotations

import ast
import gc
from pathlib import Path

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

import txcloud
from txcloud.compute.drivers.ec2 import EC2NodeDriver

_PACKAGE = Path(txcloud.__file__).parent


def _imports_gc(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name == "gc" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "gc":
            return True
    return False


class CollectorSettingsTests(SynchronousTestCase):
    def test_no_library_module_imports_gc(self) -> None:
        offenders = [
            str(path.relative_to(_PACKAGE))
            for path in _PACKAGE.rglob("*.py")
            if "test" not in path.relative_to(_PACKAGE).parts and _imports_gc(path)
        ]
        self.assertEqual(offenders, [])

    def test_building_and_closing_drivers_leaves_the_collector_as_it_was(self) -> None:
        before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
        reactor = MemoryReactorClock()
        drivers = [
            EC2NodeDriver("AKID", "secret", region=region, reactor=reactor, ex_environ={})
            for region in ("us-east-1", "eu-west-1")
        ]
        for driver in drivers:
            driver.http  # noqa: B018 - makes the transport and leases the pool
            self.successResultOf(driver.close())
        self.assertEqual((gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()), before)
