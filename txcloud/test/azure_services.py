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

:data:`azurite_oauth` is a second Azurite, over HTTPS (a certificate from a
throwaway CA made at its start, :attr:`~OAuthAzurite.ca_file`) with Azure AD
tokens enabled (``--oauth basic``) and the development key replaced by a
random one (``AZURITE_ACCOUNTS``), so only a token, or that key, gets in.
"""

from __future__ import annotations

import base64
import os
import shutil

from txcloud.auth.azure import account_sas, decode_account_key
from txcloud.http import HTTPTransport, Request, RetryPolicy, TLSOptions
from txcloud.test.docker_services import make_certificates
from txcloud.test.emulators import LocalService, reactor

__all__ = [
    "ACCOUNT",
    "ACCOUNT_KEY",
    "AZURITE_ENV",
    "NPM_PREFIX",
    "OAuthAzurite",
    "azurite",
    "azurite_arguments",
    "azurite_oauth",
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


def _ready_path(key: str = ACCOUNT_KEY) -> str:
    token = account_sas(
        ACCOUNT,
        decode_account_key(key),
        permissions="l",
        resource_types="s",
        expiry=_FAR_FUTURE,
        protocol="https,http",
    )
    return f"/{ACCOUNT}?comp=list&{token}"


#: Azurite's blob service, with the :data:`ACCOUNT` account.
azurite = LocalService("Azurite", azurite_program, azurite_arguments, ready_path=_ready_path())


class OAuthAzurite(LocalService):
    """
    Azurite over HTTPS, accepting Azure AD tokens, with an account key of
    its own (:attr:`account_key`).

    :ivar ca_file: the CA that signed its certificate (for ``127.0.0.1``).
    """

    def __init__(self) -> None:
        self.account_key = base64.b64encode(os.urandom(64)).decode("ascii")
        self.ca_file = ""
        super().__init__(
            "Azurite (OAuth, HTTPS)",
            self._program,
            self._arguments,
            ready_path=_ready_path(self.account_key),
        )

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT`` of the running service."""
        return f"https://127.0.0.1:{self.port}"

    def _program(self) -> list[str] | None:
        program, env = azurite_program(), shutil.which("env")
        if program is None or env is None:
            return None
        return [env, f"AZURITE_ACCOUNTS={ACCOUNT}:{self.account_key}", *program]

    def _arguments(self, port: int, folder: str) -> list[str]:
        certificates = make_certificates(os.path.join(folder, "tls"))
        self.ca_file = certificates.ca
        return [
            *azurite_arguments(port, os.path.join(folder, "data")),
            "--oauth",
            "basic",
            "--cert",
            certificates.server_cert,
            "--key",
            certificates.server_key,
        ]

    async def _answers(self) -> bool:
        transport = HTTPTransport(
            reactor=reactor,
            timeout=2,
            retry=RetryPolicy(max_attempts=1),
            tls=TLSOptions(ca_file=self.ca_file),
        )
        try:
            response = await transport.send(Request("GET", self.url + (self._ready_path or "/")))
            await response.content()
            return response.status == 200
        finally:
            await transport.close()


#: Azurite over HTTPS with Azure AD tokens and a random account key.
azurite_oauth = OAuthAzurite()
