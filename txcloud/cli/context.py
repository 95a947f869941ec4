"""What every ``txcloud`` subcommand works with: the configuration, the reactor, the streams."""

from __future__ import annotations

from typing import Any, TextIO

from txcloud.common.driver_cache import DriverCache
from txcloud.config import Config, Target
from txcloud.errors import InvalidArgumentError

__all__ = ["Context"]


class Context:
    """
    One run of the command: it builds each target's driver once and closes them all at the end.

    :param config: the loaded configuration.
    :param reactor: the reactor drivers run on and time is read from.
    :param stdout: where results go.
    :param stderr: where errors and progress go.
    """

    def __init__(self, config: Config, reactor: Any, stdout: TextIO, stderr: TextIO) -> None:
        self.config = config
        self.reactor = reactor
        self.stdout = stdout
        self.stderr = stderr
        self._drivers: DriverCache[Target] = DriverCache(
            lambda target: self.config.build_driver(target, self.reactor)
        )

    def driver(self, target: Target) -> Any:
        """The driver of *target*, built on first use."""
        return self._drivers.get(target)

    def storage_target(self, name: str | None) -> Target:
        """
        The storage target called *name* (a name or ``name@region``), or the first one.

        :raises InvalidArgumentError: if there is none, or *name* names several regions.
        """
        targets = self.config.select("storage", name)
        if not targets:
            raise InvalidArgumentError(f"No storage target in {self.config.source}")
        if name is not None and len(targets) > 1:
            labels = ", ".join(target.label for target in targets)
            raise InvalidArgumentError(f"{name!r} has several regions; name one of {labels}")
        return targets[0]

    def print(self, line: str) -> None:
        """Write one line of results."""
        self.stdout.write(line + "\n")

    async def close(self) -> None:
        """Close every driver built, whatever happens to each."""
        await self._drivers.close()
