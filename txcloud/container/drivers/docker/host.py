"""
Where a Docker engine listens and how to reach it: a Unix socket, plain TCP,
or TCP with TLS (client certificates), from the driver's arguments or, when
no host is given, from the Docker client's environment variables.

Accepted hosts:

* ``unix:///var/run/docker.sock``: a Unix socket (the default);
* ``tcp://HOST[:PORT]``: TCP, with TLS when certificates are given or
  *secure* is true (port 2376), else without (port 2375);
* ``http://HOST[:PORT]``, ``https://HOST[:PORT]``: as Libcloud takes them;
  ``https`` turns TLS on;
* ``HOST`` (a name, an IPv4 address, or an IPv6 address in brackets): TLS
  as *secure* says.

The environment, read only when no host is given, works as the ``docker``
command's: ``DOCKER_HOST`` names the engine; a non-empty
``DOCKER_TLS_VERIFY`` turns TLS on and takes ``ca.pem``, ``cert.pem`` and
``key.pem`` from ``DOCKER_CERT_PATH`` (``~/.docker`` by default), unless the
driver was given files of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from txcloud.errors import InvalidArgumentError

__all__ = ["DEFAULT_HOST", "EngineAddress", "engine_address"]

#: Where the engine listens unless told otherwise.
DEFAULT_HOST = "unix:///var/run/docker.sock"
#: The engine's conventional ports, without and with TLS.
PLAIN_PORT = 2375
TLS_PORT = 2376

_SCHEMES = ("unix", "tcp", "http", "https")


@attrs.frozen
class EngineAddress:
    """
    How to reach one engine.

    :ivar socket_path: the Unix socket's path, or ``None`` for TCP.
    :ivar host: the TCP host name or address (``None`` for a socket).
    :ivar port: the TCP port (``None`` for a socket).
    :ivar secure: whether TCP connections use TLS.
    :ivar ca_file: PEM CA certificates to verify the engine with.
    :ivar cert_file: the PEM client certificate to present.
    :ivar key_file: the client certificate's PEM private key.
    """

    socket_path: str | None = None
    host: str | None = None
    port: int | None = None
    secure: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def url(self) -> str:
        """The address as the ``docker`` command writes it (``unix://...``, ``tcp://h:p``)."""
        if self.socket_path is not None:
            return f"unix://{self.socket_path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def _file(path: object, what: str) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(f"{what} must be a file path, not {path!r}")
    return os.path.expanduser(path)


def _environment_tls(environ: Mapping[str, str]) -> dict[str, str]:
    if not environ.get("DOCKER_TLS_VERIFY"):
        return {}
    folder = environ.get("DOCKER_CERT_PATH") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".docker"
    )
    return {
        "ca_file": os.path.join(folder, "ca.pem"),
        "cert_file": os.path.join(folder, "cert.pem"),
        "key_file": os.path.join(folder, "key.pem"),
    }


def _split(host: str) -> tuple[str, str, int | None]:
    """``(scheme, host or socket path, port)`` of a host argument."""
    if "://" not in host:
        host = "//" + host
    try:
        parts = urlsplit(host)
        port = parts.port
    except ValueError:
        raise InvalidArgumentError(f"invalid Docker host {host!r}") from None
    scheme = parts.scheme
    if scheme and scheme not in _SCHEMES:
        raise InvalidArgumentError(
            f"unsupported Docker host {host!r}: use unix://, tcp://, http:// or https://"
        )
    if scheme == "unix":
        path = parts.netloc + parts.path
        if not path.startswith("/"):
            raise InvalidArgumentError(f"a Docker socket path must be absolute, not {path!r}")
        return scheme, path, None
    if not parts.hostname or parts.path not in ("", "/") or parts.query or "@" in parts.netloc:
        raise InvalidArgumentError(f"invalid Docker host {host!r}")
    return scheme, parts.hostname, port


def engine_address(
    host: str | None,
    port: int | None,
    secure: bool,
    key_file: str | None,
    cert_file: str | None,
    ca_cert: str | None,
    environ: Mapping[str, str],
) -> EngineAddress:
    """
    Where the engine is, from the driver's arguments and, when *host* is
    ``None``, the environment (see the module's documentation).

    :raises InvalidArgumentError: for a host that cannot be read, a port or
        TLS files together with a Unix socket, or a key without its
        certificate (or the reverse).
    """
    files = {
        "ca_file": _file(ca_cert, "ca_cert"),
        "cert_file": _file(cert_file, "cert_file"),
        "key_file": _file(key_file, "key_file"),
    }
    from_environment: dict[str, str] = {}
    if host is None:
        host = environ.get("DOCKER_HOST") or DEFAULT_HOST
        from_environment = _environment_tls(environ)
    if not isinstance(host, str) or not host:
        raise InvalidArgumentError(f"host must be a Docker host, not {host!r}")
    if (files["key_file"] is None) != (files["cert_file"] is None):
        raise InvalidArgumentError("TLS client authentication needs both key_file and cert_file")
    scheme, where, host_port = _split(host)
    if scheme == "unix":
        # As for the docker command, DOCKER_TLS_VERIFY does not apply to a socket.
        if port is not None or any(files.values()):
            raise InvalidArgumentError(
                "a Unix socket takes no port, TLS certificates or keys: use a tcp:// host for TLS"
            )
        return EngineAddress(socket_path=where)
    if from_environment:
        secure = True
        files = {name: files[name] or path for name, path in from_environment.items()}
    # Certificates only make sense over TLS: giving any turns it on.
    secure = secure or scheme == "https" or any(files.values())
    if port is None:
        port = host_port if host_port is not None else (TLS_PORT if secure else PLAIN_PORT)
    return EngineAddress(host=where, port=port, secure=secure, **files)
