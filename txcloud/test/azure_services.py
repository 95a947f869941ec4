"""
Azurite's blob service for integration tests, started once per test run on
a free port of 127.0.0.1 (see :mod:`txcloud.test.emulators`), with its data
in a scratch folder.

Azurite comes from npm (``npm install azurite``).  :func:`azurite_program`
looks for its ``azurite-blob`` command:

1. in :envvar:`TXCLOUD_AZURITE`: the command itself, or a folder npm
   installed into (holding ``node_modules/.bin/azurite-blob``);
2. under :data:`NPM_PREFIX` (``npm install --prefix /opt/txcloud-npm azurite``);
3. on the ``PATH``.

Azurite answers nothing without credentials, so readiness is asked with an
account SAS: a listing of containers that answers 200 once the service is up.
"""

from __future__ import annotations

import os
import shutil

from txcloud.auth.azure import account_sas, decode_account_key
from txcloud.test.emulators import LocalService

__all__ = [
    "ACCOUNT",
    "ACCOUNT_KEY",
    "AZURITE_ENV",
    "NPM_PREFIX",
    "azurite",
    "azurite_arguments",
    "azurite_program",
]

#: Where to find ``azurite-blob`` (the command or an npm prefix folder).
AZURITE_ENV = "TXCLOUD_AZURITE"
#: The npm prefix CI installs Azurite into.
NPM_PREFIX = "/opt/txcloud-npm"
#: Azurite's development account and its published key.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_COMMAND = "azurite-blob"
# 2100-01-01T00:00:00Z: the readiness token never expires during a run.
_FAR_FUTURE = 4102444800


def _in_prefix(folder: str) -> str:
    return os.path.join(folder, "node_modules", ".bin", _COMMAND)


def azurite_program() -> list[str] | None:
    """The command starting Azurite's blob service, or ``None`` when it is not installed."""
    configured = os.environ.get(AZURITE_ENV)
    if configured:
        candidates = [_in_prefix(configured) if os.path.isdir(configured) else configured]
    else:
        candidates = [_in_prefix(NPM_PREFIX), shutil.which(_COMMAND) or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    return None


def azurite_arguments(port: int, folder: str) -> list[str]:
    """Azurite's options: 127.0.0.1:*port*, data in *folder*, any API version, quiet."""
    return [
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        folder,
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
        "--disableTelemetry",
    ]


def _ready_path() -> str:
    token = account_sas(
        ACCOUNT,
        decode_account_key(ACCOUNT_KEY),
        permissions="l",
        resource_types="s",
        expiry=_FAR_FUTURE,
        protocol="https,http",
    )
    return f"/{ACCOUNT}?comp=list&{token}"


#: Azurite's blob service, with the :data:`ACCOUNT` account.
azurite = LocalService("Azurite", azurite_program, azurite_arguments, ready_path=_ready_path())
