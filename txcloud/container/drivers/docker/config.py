"""
The body of ``POST /containers/create`` from ``deploy_container``'s keyword
arguments (Libcloud's names), each checked before anything is sent.

Unlike Libcloud, which puts every setting at the top level of the body
(where Engine API 1.24 and later ignore the host settings), memory, CPU,
DNS, port bindings, ``volumes_from`` and the network mode go in
``HostConfig``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from txcloud.errors import InvalidArgumentError

__all__ = ["container_body", "container_name"]

# The engine's rule for container names.
_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+\Z")
_PROTOCOLS = ("tcp", "udp", "sctp")


def container_name(name: object) -> str:
    """
    *name*, if the engine accepts it as a container name.

    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(
            "a container name must be at least two letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit, not {name!r}"
        )
    return name.lstrip("/")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be text, not {value!r}")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, not {value!r}")
    return value


def _integer(value: object, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgumentError(f"{what} must be an integer of at least {low}, not {value!r}")
    return value


def _texts(value: object, what: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgumentError(f"{what} must be a list of text, not {value!r}")
    return [_text(item, f"each of {what}") for item in value]


def _words(value: object, what: str) -> list[str]:
    # A command as a shell would split it, or already split.
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise InvalidArgumentError(f"cannot split {what} {value!r}: {e}") from None
    else:
        words = _texts(value, what)
    if not words:
        raise InvalidArgumentError(f"{what} is empty")
    return words


def _environment(value: object) -> list[str]:
    if isinstance(value, Mapping):
        return [
            f"{_text(k, 'a variable name')}={_text(v, f'variable {k}')}" for k, v in value.items()
        ]
    entries = _texts(value, "environment")
    for entry in entries:
        if "=" not in entry or entry.startswith("="):
            raise InvalidArgumentError(f"an environment entry must be 'NAME=value', not {entry!r}")
    return entries


def _port(value: object) -> str:
    """``"80/tcp"`` from ``80``, ``"80"`` or ``"80/tcp"``."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str):
        number, _, protocol = text.partition("/")
        protocol = protocol or "tcp"
        if number.isdigit() and 0 < int(number) < 65536 and protocol in _PROTOCOLS:
            return f"{int(number)}/{protocol}"
    raise InvalidArgumentError(
        f"a container port must be a number or 'NUMBER/tcp|udp|sctp', not {value!r}"
    )


def _exposed_ports(value: object) -> dict[str, dict[str, Any]]:
    ports = value.keys() if isinstance(value, Mapping) else value
    if isinstance(ports, (str, int)) or not isinstance(ports, Iterable):
        raise InvalidArgumentError(f"ports must be a list of container ports, not {value!r}")
    return {_port(port): {} for port in ports}


def _host_port(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 65536:
        return str(value) if value else ""
    if isinstance(value, str) and (value == "" or (value.isdigit() and int(value) < 65536)):
        return value
    raise InvalidArgumentError(f"a host port must be a number in 0..65535, not {value!r}")


def _binding(value: object) -> dict[str, str]:
    # 8080, "8080", ("127.0.0.1", 8080) or the engine's {"HostIp", "HostPort"}.
    if isinstance(value, Mapping):
        unknown = set(value) - {"HostIp", "HostPort"}
        if unknown:
            raise InvalidArgumentError(f"unknown port binding keys: {sorted(unknown)!r}")
        binding = {"HostPort": _host_port(value.get("HostPort", ""))}
        if value.get("HostIp"):
            binding["HostIp"] = _text(value["HostIp"], "HostIp")
        return binding
    if isinstance(value, tuple) and len(value) == 2:
        return {"HostIp": _text(value[0], "a host address"), "HostPort": _host_port(value[1])}
    return {"HostPort": _host_port(value)}


def _port_bindings(value: object) -> dict[str, list[dict[str, str]]]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"port_bindings must map container ports to host ports, not {value!r}"
        )
    bindings: dict[str, list[dict[str, str]]] = {}
    for port, hosts in value.items():
        many = isinstance(hosts, list)
        bindings[_port(port)] = [_binding(h) for h in hosts] if many else [_binding(hosts)]
    return bindings


def _volumes(value: object) -> dict[str, dict[str, Any]]:
    paths = value.keys() if isinstance(value, Mapping) else value
    return {path: {} for path in _texts(paths, "volumes")}


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"labels must be a mapping of text, not {value!r}")
    return {_text(k, "a label name"): _text(v, f"label {k}") for k, v in value.items()}


def container_body(
    image: str,
    *,
    command: str | Sequence[str] | None,
    hostname: str | None,
    user: str | None,
    stdin_open: bool,
    tty: bool,
    mem_limit: int,
    ports: Any,
    environment: Mapping[str, str] | Sequence[str] | None,
    dns: Sequence[str] | None,
    volumes: Any,
    volumes_from: Sequence[str] | None,
    network_disabled: bool,
    entrypoint: str | Sequence[str] | None,
    cpu_shares: int | None,
    working_dir: str,
    domainname: str | None,
    memswap_limit: int,
    port_bindings: Mapping[Any, Any] | None,
    network_mode: str,
    labels: Mapping[str, str] | None,
) -> dict[str, Any]:
    """
    The create body for *image*; see
    :meth:`~txcloud.container.drivers.docker.DockerContainerDriver.deploy_container`
    for the arguments.

    :raises InvalidArgumentError: for an argument the engine would refuse
        or misread.
    """
    host: dict[str, Any] = {
        "NetworkMode": _text(network_mode, "network_mode") or "default",
        "Memory": _integer(mem_limit, "mem_limit", 0),
        "MemorySwap": _integer(memswap_limit, "memswap_limit", -1),
    }
    body: dict[str, Any] = {
        "Image": image,
        "Tty": _flag(tty, "tty"),
        "OpenStdin": _flag(stdin_open, "stdin_open"),
        "StdinOnce": False,
        "NetworkDisabled": _flag(network_disabled, "network_disabled"),
        "WorkingDir": _text(working_dir, "working_dir"),
    }
    if command is not None:
        body["Cmd"] = _words(command, "command")
    if entrypoint is not None:
        body["Entrypoint"] = _words(entrypoint, "entrypoint")
    for key, value, what in (
        ("Hostname", hostname, "hostname"),
        ("Domainname", domainname, "domainname"),
        ("User", user, "user"),
    ):
        if value:
            body[key] = _text(value, what)
    if environment is not None:
        body["Env"] = _environment(environment)
    if ports is not None:
        body["ExposedPorts"] = _exposed_ports(ports)
    if volumes is not None:
        body["Volumes"] = _volumes(volumes)
    if labels is not None:
        body["Labels"] = _labels(labels)
    if cpu_shares is not None:
        host["CpuShares"] = _integer(cpu_shares, "cpu_shares", 0)
    if dns is not None:
        host["Dns"] = _texts(dns, "dns")
    if volumes_from is not None:
        host["VolumesFrom"] = _texts(volumes_from, "volumes_from")
    if port_bindings:
        host["PortBindings"] = _port_bindings(port_bindings)
        # A published port must be exposed too.
        body.setdefault("ExposedPorts", {}).update({p: {} for p in host["PortBindings"]})
    body["HostConfig"] = host
    return body
