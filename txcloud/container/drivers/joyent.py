"""
Joyent Triton: each Triton data centre runs one Docker Engine API endpoint
(``REGION.docker.joyent.com:2376``), reached over TLS with a client
certificate made from the account's SSH key (Triton's ``sdc-docker-setup.sh``
writes ``key.pem``, ``cert.pem`` and ``ca.pem``).  The driver is the Docker
driver pointed there.

Triton's Docker API implementation speaks Engine API versions 1.20 to 1.24,
so this driver agrees on one from 1.24 up (Docker's own engines: 1.41 up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.docker.host import EngineAddress, engine_address
from txcloud.container.types import Provider
from txcloud.errors import InvalidArgumentError

__all__ = ["REGIONS", "TritonContainerDriver"]

#: Triton's public data centres.
REGIONS = ("us-east-1", "us-east-2", "us-east-3", "us-sw-1", "us-west-1", "eu-ams-1")
#: The data centre used when none is given.
DEFAULT_REGION = "us-east-1"


class TritonContainerDriver(DockerContainerDriver):
    """
    The Docker containers of one Triton data centre.

    Takes :class:`~txcloud.container.drivers.docker.DockerContainerDriver`'s
    arguments, with these differences:

    :param key_file: the PEM private key of the account's client
        certificate (required).
    :param cert_file: the PEM client certificate (required).
    :param ca_cert: the data centre's CA certificate (``ca.pem``), when its
        endpoint's certificate is not signed by a CA the system trusts.
    :param region: the data centre (one of :data:`REGIONS`), which names the
        endpoint ``REGION.docker.joyent.com``; ignored when *host* is given
        (a private Triton cloud, or a test engine).
    :param host: the endpoint's host name (or ``https://HOST``,
        ``tcp://HOST:PORT``), instead of the region's.
    :param port: the endpoint's port; 2376 by default.
    :param secure: ignored: Triton is always reached over TLS.
    :raises InvalidArgumentError: without a client certificate and key, for
        a Unix socket or plain HTTP host, or for an unknown region.

    ``DOCKER_HOST`` and the other variables are not read: they name the
    user's own engine.
    """

    name = "Joyent Triton"
    type = Provider.JOYENT
    website = "https://www.tritondatacenter.com/"

    min_api_version: ClassVar[tuple[int, int]] = (1, 24)

    def _engine_address(
        self,
        host: str | None,
        port: int | None,
        secure: bool,
        key_file: str | None,
        cert_file: str | None,
        ca_cert: str | None,
        environ: Mapping[str, str],
        region: str | None,
    ) -> EngineAddress:
        if not (key_file and cert_file):
            raise InvalidArgumentError(
                "Triton needs the account's TLS client certificate: give key_file and cert_file"
            )
        if host is None:
            region = DEFAULT_REGION if region is None else region
            if region not in REGIONS:
                raise InvalidArgumentError(
                    f"unknown Triton data centre {region!r}; known: {', '.join(REGIONS)} "
                    "(give host for a private cloud)"
                )
            host = f"{region}.docker.joyent.com"
        if isinstance(host, str) and host.startswith(("unix:", "http:")):
            raise InvalidArgumentError(f"Triton's Docker endpoints are reached over TLS: {host!r}")
        # With TLS the port defaults to 2376, Triton's.
        return engine_address(host, port, True, key_file, cert_file, ca_cert, {})
