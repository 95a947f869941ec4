"""
What every source of credentials shares, whatever the cloud: one source per
key, shared by every driver built from the same credentials (so one cache
and one refresh in flight), and a transport for the few requests a source
sends to its token or credentials endpoint.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from twisted.web.client import HTTPConnectionPool

from txcloud.http import ErrorMapper, HTTPTransport, RetryPolicy, TLSOptions, proxy_settings

__all__ = ["one_shot_transport", "shared_source"]

_S = TypeVar("_S")

_shared: weakref.WeakValueDictionary[Hashable, Any] = weakref.WeakValueDictionary()


def shared_source(key: Hashable, make: Callable[[], _S]) -> _S:
    """
    The source already in use for *key*, else a new one from *make*.

    Drivers built from the same credentials (the same file, endpoint, role,
    client and scopes, on the same reactor) thus share one cache and one
    refresh in flight.  A source is forgotten once no driver holds it.
    """
    found = _shared.get(key)
    if found is None:
        found = make()
        _shared[key] = found
    result: _S = found
    return result


def one_shot_transport(
    reactor: Any,
    description: str,
    *,
    timeout: float,
    attempts: int = 3,
    ca_file: str | None = None,
    agent: Any = None,
    error_mapper: ErrorMapper | None = None,
    environ: Mapping[str, str] | None = None,
) -> HTTPTransport:
    """
    A transport for a token or credentials endpoint: HTTPS verified against
    *ca_file* or the platform's trust store (which honours
    ``SSL_CERT_FILE``), connections closed after each answer (a token an
    hour needs none kept open, and nothing is left open), failed attempts
    retried (asking for credentials again is harmless), through the proxies
    *environ* names (``HTTPS_PROXY``, ``NO_PROXY``...; metadata endpoints on
    link-local addresses are never proxied).

    :param description: what it talks to, named in logs and errors.
    :param agent: an ``IAgent`` to send through instead (tests).
    :param environ: where the proxy variables are read; :data:`os.environ`
        when ``None``.
    """
    options: dict[str, Any] = {}
    if agent is None:
        options = {
            "pool": HTTPConnectionPool(reactor, persistent=False),
            "tls": TLSOptions(ca_file=ca_file),
            "proxy": proxy_settings(None, os.environ if environ is None else environ),
        }
    return HTTPTransport(
        reactor=reactor,
        agent=agent,
        timeout=timeout,
        retry=RetryPolicy(max_attempts=attempts),
        error_mapper=error_mapper,
        driver=description,
        **options,
    )
