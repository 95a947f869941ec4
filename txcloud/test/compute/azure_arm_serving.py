"""
The Azure fake on real sockets of 127.0.0.1, for tests of the whole path:
Resource Manager on plain TCP, its Azure AD over TLS with a certificate from
a throwaway CA that ``SSL_CERT_FILE`` makes trusted (as the platform's
trust store is, for token endpoints).
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import ssl
from twisted.trial.unittest import TestCase

from txcloud.compute.drivers.azure_arm import AzureNodeDriver
from txcloud.test.docker_services import make_certificates
from txcloud.test.emulators import reactor
from txcloud.testing.azure_arm import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBSCRIPTION,
    FakeAzureResourceManager,
)

__all__ = ["ServedAzure"]


class ServedAzure:
    """
    A :class:`FakeAzureResourceManager` served for *case* until it ends.

    :ivar fake: the fake.
    :ivar arm_port: Resource Manager's port.
    :ivar login_host: Azure AD's URL, for ``ex_login_host``.
    :ivar ca_file: the CA to trust (``SSL_CERT_FILE``), set for this process.
    """

    def __init__(self, case: TestCase) -> None:
        certificates = make_certificates(case.mktemp())
        self.ca_file = certificates.ca
        previous = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = self.ca_file
        case.addCleanup(_restore, "SSL_CERT_FILE", previous)
        self.fake = FakeAzureResourceManager(reactor)
        self.fake.retry_after = 0
        with (
            open(certificates.server_cert, "rb") as cert,
            open(certificates.server_key, "rb") as key,
        ):
            options = ssl.PrivateCertificate.loadPEM(cert.read() + key.read()).options()
        login = reactor.listenSSL(0, self.fake.ad.site(), options, interface="127.0.0.1")
        case.addCleanup(login.stopListening)
        arm = reactor.listenTCP(0, self.fake.site(), interface="127.0.0.1")
        case.addCleanup(arm.stopListening)
        self.arm_port: int = arm.getHost().port
        self.login_host = f"https://127.0.0.1:{login.getHost().port}"
        self._case = case

    def driver(self, **options: Any) -> AzureNodeDriver:
        """A driver with the fake's application credentials, closed with the test."""
        driver = AzureNodeDriver(
            self.fake.ad.tenant,
            options.pop("subscription_id", DEFAULT_SUBSCRIPTION),
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            host="127.0.0.1",
            port=self.arm_port,
            secure=False,
            ex_login_host=self.login_host,
            **options,
        )
        self._case.addCleanup(driver.close)
        return driver

    def config_entry(self, name: str = "azure") -> str:
        """A ``[[compute]]`` entry of the configuration file for the fake."""
        return (
            f'[[compute]]\nname = "{name}"\nprovider = "azure_arm"\n'
            f'key = "{DEFAULT_CLIENT_ID}"\nsecret = "{DEFAULT_CLIENT_SECRET}"\n'
            f'host = "127.0.0.1"\nport = {self.arm_port}\nsecure = false\n'
            f'options = {{ tenant_id = "{self.fake.ad.tenant}", '
            f'subscription_id = "{DEFAULT_SUBSCRIPTION}", ex_login_host = "{self.login_host}" }}\n'
        )


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
