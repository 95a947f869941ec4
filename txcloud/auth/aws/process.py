"""
Credentials printed by a program: a profile's ``credential_process``.

The program runs through the reactor (``spawnProcess``), never blocking it;
it must exit with status 0 and print a version 1 JSON document
(``{"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...,
"SessionToken": ..., "Expiration": ...}``).  Credentials with an
``Expiration`` are refreshed by running it again; without one they are kept.
What the program prints, on either stream, never appears in an error or a
log line: it may hold secrets.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Hashable, Mapping
from typing import Any

from twisted.internet.utils import getProcessOutputAndValue

from txcloud.auth.aws._fetching import credentials_from_document
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.providers import RefreshingProvider
from txcloud.auth.refresh import DEFAULT_ADVISORY_WINDOW, DEFAULT_MANDATORY_WINDOW
from txcloud.errors import InvalidArgumentError, InvalidCredsError

__all__ = ["ProcessCredentials"]


class ProcessCredentials(RefreshingProvider):
    """
    Credentials from ``credential_process``.

    :param command: the command line, split as a POSIX shell splits words
        (no shell runs it).
    :param profile: the profile that names it, for messages.
    :param environ: the program's environment; :data:`os.environ` when ``None``.
    :param reactor: the reactor that spawns it; the global one when ``None``.
    :raises InvalidArgumentError: for an empty or unparsable command.
    """

    def __init__(
        self,
        command: str,
        profile: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        reactor: Any = None,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        super().__init__(reactor, advisory_window, mandatory_window)
        try:
            argv = shlex.split(command) if isinstance(command, str) else []
        except ValueError:
            argv = []
        if not argv:
            raise InvalidArgumentError("credential_process must be a command line")
        self.command = command
        self.argv = tuple(argv)
        self.profile = profile
        self._environ = dict(os.environ if environ is None else environ)
        where = f" of profile {profile!r}" if profile else ""
        self.description = f"the credential_process{where} ({self.argv[0]})"

    def _identity(self) -> Hashable:
        return (self.argv, self.profile, tuple(sorted(self._environ.items())))

    async def _fetch(self) -> AWSCredentials:
        program = self.argv[0]
        if os.sep not in program:
            found = shutil.which(program, path=self._environ.get("PATH"))
            if found is None:
                raise InvalidCredsError(f"{self.description}: the program was not found")
            program = found
        try:
            output, _errors, status = await getProcessOutputAndValue(
                program, self.argv[1:], env=self._environ, reactor=self.reactor
            )
        except Exception:
            # Killed by a signal (Twisted then fails with what it printed) or
            # not started at all: neither detail is repeated.
            raise InvalidCredsError(f"{self.description} did not run to completion") from None
        if status != 0:
            raise InvalidCredsError(f"{self.description} exited with status {status}")
        try:
            document = json.loads(output)
        except ValueError:
            raise InvalidCredsError(f"{self.description} printed no JSON document") from None
        return credentials_from_document(
            document, self.description, token_field="SessionToken", required_version=1
        )
