"""
The base class every driver shares: Libcloud's constructor arguments, an
injectable reactor, and a ``repr`` that never shows credentials.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

#: Seconds a single request may take unless the driver is told otherwise.
DEFAULT_TIMEOUT = 60.0


class BaseDriver:
    """
    Common ground of compute, storage and container drivers.

    :param key: the access key, account name, or (for local drivers) path.
    :param secret: the secret key or token; never shown in reprs or logs.
    :param secure: use HTTPS (``True``, the default) or plain HTTP.
    :param host: point the driver at another endpoint (an emulator, a
        compatible service); ``None`` uses the provider's own.
    :param port: the port for *host*.
    :param region: the provider's region, for regional services.
    :param reactor: the reactor to use; the global one when ``None``.
    :param timeout: seconds each request may take.
    """

    #: Human-readable provider name ("Amazon EC2").
    name: ClassVar[str] = "Base"
    #: The provider constant this driver serves.
    type: ClassVar[str] = ""
    #: Where to learn about the provider.
    website: ClassVar[str] = ""

    log = Logger()

    def __init__(
        self,
        key: Any = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = None,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.key = key
        self._secret = secret
        self.secure = secure
        self.host = host
        self.port = port
        self.region = region
        self.timeout = timeout
        self._reactor = reactor

    @property
    def reactor(self) -> Any:
        """The reactor this driver schedules its work on."""
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def close(self) -> Deferred[None]:
        """Release connections and other resources; fires when done."""
        return succeed(None)

    def __repr__(self) -> str:
        parts = [f"provider={str(self.type)!r}"]
        if self.region is not None:
            parts.append(f"region={self.region!r}")
        if self.host is not None:
            parts.append(f"host={self.host!r}")
        return f"<{type(self).__name__} {' '.join(parts)}>"
