"""Configurations and drivers whose calls the service tests watch, on a Clock."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from txcloud.config import Config, Target, parse_config

#: Never shown: in every configuration below that has a secret.
SECRET = "s3cr3t-never-shown"


def dummy_config(*entries: str, defaults: str = "") -> Config:
    """A configuration of dummy compute targets, one per ``name`` or ``name option=value...``."""
    text = f"[defaults]\n{defaults}\n" if defaults else ""
    for entry in entries:
        name, *options = entry.split()
        text += f'[[compute]]\nname = "{name}"\nprovider = "dummy"\nsecret = "{SECRET}"\n'
        if options:
            text += f"options = {{ {', '.join(options)} }}\n"
    return parse_config(text, "test.toml", {})


class WatchedDrivers:
    """Builds each target's driver from a configuration, recording builds and calls."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.built: dict[Target, Any] = {}
        self.builds: list[str] = []
        #: (target label, clock time) of each list_nodes call.
        self.calls: list[tuple[str, float]] = []

    def __call__(self, target: Target) -> Any:
        driver: Any = self.config.build_driver(target, self.clock)
        listing = driver.list_nodes

        def list_nodes() -> Deferred[Any]:
            self.calls.append((target.label, self.clock.seconds()))
            return listing()

        driver.list_nodes = list_nodes
        self.built[target] = driver
        self.builds.append(target.label)
        return driver

    def driver(self, name: str) -> Any:
        """The driver built for the target labelled *name*."""
        return next(d for t, d in self.built.items() if t.label == name)
