"""
``twistd txcloud``: its options, and the service it runs.

The plugin in ``twisted/plugins/txcloud_plugin.py`` imports this module only
when the ``txcloud`` subcommand is used.  There is no option for the HTTP
API's token: it comes from the configuration file (``[service]``), as a
command line is visible to every user of the machine.

:func:`make_service` builds the service from Python, with any reactor::

    service = make_service(load_config(), "tcp:8080:interface=127.0.0.1", 60.0, reactor)
    service.startService()
"""

from __future__ import annotations

import math
from typing import Any, cast

import attrs
from twisted.application import strports
from twisted.application.service import MultiService
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from twisted.logger import Logger
from twisted.python import usage
from twisted.web.server import Site
from zope.interface import implementer

from txcloud.config import Config, load_config
from txcloud.errors import ConfigError
from txcloud.service.refresher import Refresher
from txcloud.service.web import InventoryResource

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_LISTEN", "Options", "makeService", "make_service"]

#: Where the service listens unless told otherwise: this machine only.
DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"

#: Seconds between refreshes unless told otherwise.
DEFAULT_INTERVAL = 60.0

_log = Logger()


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not 0 < seconds < math.inf:
        raise ValueError(f"{value!r} is not a positive number of seconds")
    return seconds


_positive_seconds.coerceDoc = "A positive number."  # type: ignore[attr-defined]


class Options(usage.Options):
    """The options of ``twistd txcloud``; parsing them also loads the configuration."""

    synopsis = "[--config PATH] [--listen ENDPOINT] [--interval SECONDS]"
    longdesc = (
        "Refresh the inventory of the targets of a txcloud configuration file every "
        "interval and serve it as JSON: GET /inventory, /nodes and /health."
    )
    optParameters = [
        [
            "config",
            None,
            None,
            "The configuration file (default: $TXCLOUD_CONFIG, else "
            "$XDG_CONFIG_HOME/txcloud/txcloud.toml, else the embedded defaults).",
        ],
        ["listen", None, DEFAULT_LISTEN, "Where to serve HTTP: an endpoint string."],
        ["interval", None, DEFAULT_INTERVAL, "Seconds between refreshes.", _positive_seconds],
    ]

    #: The configuration, loaded when the options are parsed.
    loaded_config: Config

    def postOptions(self) -> None:
        """Check the endpoint string and load the configuration, so mistakes stop twistd early."""
        from twisted.internet import reactor

        try:
            # Only parsed here: nothing listens until the service starts.
            serverFromString(reactor, self["listen"])
        except ValueError as e:
            raise usage.UsageError(f"--listen {self['listen']!r}: {e}") from None
        try:
            self.loaded_config = load_config(self["config"])
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None


def _describe(address: object) -> str:
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    if isinstance(address, IPv4Address):
        return f"{address.host}:{address.port}"
    return str(address)


@implementer(IStreamServerEndpoint)
@attrs.frozen
class _AnnouncedEndpoint:
    """Logs the address actually listened on (the real port when port 0 was asked for)."""

    # Any: mypy sees zope interface methods without their self argument.
    endpoint: Any

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        listening: Deferred[IListeningPort] = self.endpoint.listen(factory)
        return listening.addCallback(self._announce)

    def _announce(self, port: Any) -> IListeningPort:
        _log.info("txcloud inventory listening on {address}", address=_describe(port.getHost()))
        return port


def make_service(config: Config, listen: str, interval: float, reactor: Any) -> MultiService:
    """
    The inventory service: a :class:`~txcloud.service.refresher.Refresher`
    and an HTTP server of its snapshots.

    Stopping it stops the HTTP server, then the refresher (which cancels the
    refreshes in flight and closes the drivers).

    :param config: the targets, and the ``[service]`` token.
    :param listen: an endpoint string
        (:func:`~twisted.internet.endpoints.serverFromString`).
    :param interval: seconds between refreshes.
    :param reactor: the reactor to run on.
    :raises InvalidArgumentError: if *interval* is not positive.
    :raises ValueError: if *listen* is not a valid endpoint string.
    """
    service = MultiService()
    refresher = Refresher(config, interval, reactor)
    refresher.setServiceParent(service)
    site = Site(InventoryResource(refresher.snapshot, config.service.token), reactor=reactor)
    server = strports.service(listen, cast(IProtocolFactory, site), reactor=reactor)
    server.endpoint = _AnnouncedEndpoint(server.endpoint)
    server.setServiceParent(service)
    return service


def makeService(options: Options) -> MultiService:
    """What ``twistd txcloud`` runs: :func:`make_service` on the global reactor."""
    from twisted.internet import reactor

    return make_service(options.loaded_config, options["listen"], options["interval"], reactor)
