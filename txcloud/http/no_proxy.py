"""
Which hosts are reached without the proxy: the rules of ``NO_PROXY``, and
the metadata endpoints that never go through one.

``NO_PROXY`` is a comma-separated list; each entry is one of:

* ``*``: every host;
* a host name, ``corp.example``, or a domain, ``.corp.example`` (or
  ``*.corp.example``): the name itself and every name under it;
* an IP address, ``10.1.2.3`` or ``::1`` (``[::1]`` too): that address;
* a CIDR block, ``10.0.0.0/8`` or ``fd00::/8``: the addresses inside it;
* any of the above with ``:port``: only that port.

Names are compared without regard to case or a final dot, and never
resolved: an address rule matches only URLs that name an address.
"""

from __future__ import annotations

import ipaddress

import attrs

from txcloud.errors import InvalidArgumentError

__all__ = ["NEVER_PROXIED", "NoProxy", "parse_no_proxy"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@attrs.frozen
class _Rule:
    """One entry: a domain or a network, and the port it is limited to."""

    domain: str | None = None
    network: _Network | None = None
    port: int | None = None

    def matches(self, host: str, address: _Address | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address is not None and address in self.network
        assert self.domain is not None
        return host == self.domain or host.endswith("." + self.domain)


def _address(host: str) -> _Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port`` or a bare host (an IPv6 address has many colons)."""
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(entry)
        return host, int(rest[1:]) if rest else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port)
    return entry, None


def _rule(entry: str) -> _Rule:
    host, port = _split_port(entry)
    if port is not None and not 0 < port < 65536:
        raise ValueError(entry)
    if "/" in host:
        return _Rule(network=ipaddress.ip_network(host, strict=False), port=port)
    address = _address(host)
    if address is not None:
        return _Rule(network=ipaddress.ip_network(address), port=port)
    domain = host.lower().rstrip(".").removeprefix("*").lstrip(".")
    if not domain or any(c in domain for c in " /@*"):
        raise ValueError(entry)
    return _Rule(domain=domain, port=port)


@attrs.frozen
class NoProxy:
    """
    Hosts to reach directly; see :func:`parse_no_proxy`.

    :ivar everything: ``*`` was given: no host uses the proxy.
    """

    rules: tuple[_Rule, ...] = ()
    everything: bool = False

    def matches(self, host: str, port: int) -> bool:
        """
        Whether a URL naming *host* and *port* goes direct.

        :param host: a host name or IP address, without brackets.
        :param port: the URL's port (its scheme's default when it names none).
        """
        if self.everything:
            return True
        host = host.lower().rstrip(".")
        address = _address(host)
        return any(rule.matches(host, address, port) for rule in self.rules)

    def __add__(self, other: NoProxy) -> NoProxy:
        return NoProxy(self.rules + other.rules, self.everything or other.everything)


def parse_no_proxy(text: str | None, what: str = "NO_PROXY") -> NoProxy:
    """
    Read a ``NO_PROXY`` value.

    :param text: the comma-separated entries; ``None`` or empty for none.
    :param what: where the value came from, for error messages.
    :raises InvalidArgumentError: for an entry that is none of the forms above.
    """
    rules = []
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            return NoProxy(everything=True)
        try:
            rules.append(_rule(entry))
        except ValueError:
            raise InvalidArgumentError(
                f"{what}: {entry!r} is not a host, domain, IP address, CIDR block or host:port"
            ) from None
    return NoProxy(tuple(rules))


#: Link-local addresses (where the AWS, Azure and Google metadata services
#: answer), AWS's IPv6 metadata address and Google's metadata host name:
#: reached directly whatever the settings, as the clouds' SDKs do.
NEVER_PROXIED = parse_no_proxy("169.254.0.0/16, fe80::/10, fd00:ec2::254, metadata.google.internal")
