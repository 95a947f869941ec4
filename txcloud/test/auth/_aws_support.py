"""What the AWS credential tests share: a Clock, scratch homes, and secrets to look for."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from txcloud.auth.aws.credentials import AWSCredentials

NOW = 1_700_000_000.0

SOURCE = AWSCredentials("AKIDSOURCEKEY", "source-secret-value-1234")
INSTANCE = AWSCredentials("ASIAINSTANCE", "instance-secret-value", "instance-session-token")
TASK = AWSCredentials("ASIATASK", "task-secret-value", "task-session-token")


def clock_at(now: float = NOW) -> Clock:
    clock = Clock()
    clock.advance(now)
    return clock


class HomeTestCase(TestCase):
    """A scratch HOME with ``~/.aws`` files, and an environment pointing at it."""

    def setUp(self) -> None:
        self.home = self.mktemp()
        os.makedirs(os.path.join(self.home, ".aws"))
        self.clock = clock_at()

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def env(self, **values: str) -> dict[str, str]:
        return {"HOME": self.home, "PATH": os.environ.get("PATH", ""), **values}

    def assert_hidden(self, text: str, secrets: Iterable[Any]) -> None:
        for secret in secrets:
            if secret:
                self.assertNotIn(str(secret), text)
