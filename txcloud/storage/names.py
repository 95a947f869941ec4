"""
Pieces of the bucket and object naming rules that several providers share,
for the drivers' checks before any request.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_ipv4_address", "utf8_size"]


def is_ipv4_address(name: str) -> bool:
    """Whether *name* is a dotted IPv4 address (which no bucket may be named)."""
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def utf8_size(name: object) -> int:
    """The size of *name* in bytes of UTF-8; 0 for anything but encodable text."""
    try:
        return len(name.encode("utf-8")) if isinstance(name, str) else 0
    except UnicodeEncodeError:
        return 0
