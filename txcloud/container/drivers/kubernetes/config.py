"""
Reading kubeconfig files (``~/.kube/config``) into the arguments of
:class:`~txcloud.container.drivers.kubernetes.KubernetesContainerDriver`.

A kubeconfig is YAML: reading one needs PyYAML (``pip install PyYAML``),
except one written as JSON, which is read without it.  One context is
used, the file's ``current-context`` unless another is named; its cluster
gives the server URL and TLS settings (``certificate-authority``,
``certificate-authority-data``, ``insecure-skip-tls-verify``), its user the
credentials (``token``, ``tokenFile``, ``username``/``password``,
``client-certificate(-data)``/``client-key(-data)``), and its namespace the
driver's default one.  Relative paths are relative to the file's folder.

Credentials that need a program or a provider's login (``exec``,
``auth-provider``), impersonation (``as``...) and connection settings the
driver cannot honour (``proxy-url``, ``tls-server-name``) are refused with
:class:`KubeconfigNotSupportedError` rather than ignored.  Error messages
name the file and the key, never a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from txcloud.errors import ConfigError

__all__ = ["Kubeconfig", "KubeconfigNotSupportedError", "load_kubeconfig", "pem_files"]

# User settings txcloud cannot act on.
_UNSUPPORTED_USER_KEYS = ("exec", "auth-provider", "as", "as-uid", "as-groups", "as-user-extra")
# Cluster settings that change where or how to connect.
_UNSUPPORTED_CLUSTER_KEYS = ("proxy-url", "tls-server-name")


class KubeconfigNotSupportedError(ConfigError):
    """The kubeconfig asks for something txcloud does not do (an exec plugin...)."""


@attrs.frozen
class Kubeconfig:
    """
    What one context of a kubeconfig says; secrets stay out of its ``repr``.

    :ivar server: the API server's URL.
    :ivar namespace: the context's namespace, if it names one.
    """

    source: str
    context: str
    server: str
    namespace: str | None = None
    verify: bool = True
    ca_file: str | None = None
    ca_data: bytes | None = attrs.field(default=None, repr=False)
    cert_file: str | None = None
    cert_data: bytes | None = attrs.field(default=None, repr=False)
    key_file: str | None = None
    key_data: bytes | None = attrs.field(default=None, repr=False)
    token: str | None = attrs.field(default=None, repr=False)
    token_file: str | None = None
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    def driver_arguments(self) -> dict[str, Any]:
        """The driver's keyword arguments for these settings."""
        candidates: dict[str, Any] = {
            "host": self.server,
            "key": self.username,
            "secret": self.password,
            "ca_cert": self.ca_file,
            "cert_file": self.cert_file,
            "key_file": self.key_file,
            "ex_ca_cert_data": self.ca_data,
            "ex_cert_data": self.cert_data,
            "ex_key_data": self.key_data,
            "ex_token": None if self.token_file else self.token,
            "ex_token_file": self.token_file,
            "ex_namespace": self.namespace,
        }
        arguments = {name: value for name, value in candidates.items() if value is not None}
        if not self.verify:
            arguments["ex_verify_tls"] = False
        return arguments


def _yaml_safe_load(text: str, source: str) -> Any:
    try:
        import yaml
    except ImportError:
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigError(
                "is not JSON, and reading a YAML kubeconfig needs PyYAML (pip install PyYAML)",
                source=source,
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        # The parser's message may quote the offending line, secrets and all.
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"is not valid YAML{where}", source=source) from None


class _Reader:
    """Typed access to a kubeconfig document, with errors naming the key."""

    def __init__(self, path: str) -> None:
        self.source = path
        self.folder = os.path.dirname(os.path.abspath(path))
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            problem = e.strerror if isinstance(e, OSError) else "is not UTF-8 text"
            raise ConfigError(f"cannot be read: {problem}", source=path) from None
        document = _yaml_safe_load(text, path)
        self.document = self.mapping(document, None)

    def error(self, problem: str, key: str | None) -> ConfigError:
        return ConfigError(problem, source=self.source, key=key)

    def mapping(self, value: object, key: str | None) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error("must be a mapping", key)
        return value

    def text(self, section: Mapping[str, Any], name: str, key: str) -> str | None:
        value = section.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error("must be a string", f"{key}.{name}")
        return value

    def flag(self, section: Mapping[str, Any], name: str, key: str) -> bool:
        value = section.get(name, False)
        if not isinstance(value, bool):
            raise self.error("must be true or false", f"{key}.{name}")
        return value

    def path(self, section: Mapping[str, Any], name: str, key: str) -> str | None:
        value = self.text(section, name, key)
        if value is None:
            return None
        return os.path.join(self.folder, os.path.expanduser(value))

    def data(self, section: Mapping[str, Any], name: str, key: str) -> bytes | None:
        value = self.text(section, name, key)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self.error("is not valid base64", f"{key}.{name}") from None

    def named(self, section: str, name: str, entry: str) -> tuple[Mapping[str, Any], str]:
        """The ``entry`` mapping of the item called *name* in the list *section*."""
        items = self.document.get(section) or []
        if not isinstance(items, list):
            raise self.error("must be a list", section)
        for index, item in enumerate(items):
            item = self.mapping(item, f"{section}[{index}]")
            if item.get("name") == name:
                key = f"{section}[{index}].{entry}"
                return self.mapping(item.get(entry), key), key
        known = sorted(str(item.get("name")) for item in items if isinstance(item, Mapping))
        raise self.error(
            f"has no entry named {name!r} (known: {', '.join(known) or 'none'})", section
        )

    def file_or_data(
        self, section: Mapping[str, Any], name: str, key: str
    ) -> tuple[str | None, bytes | None]:
        path = self.path(section, name, key)
        data = self.data(section, f"{name}-data", key)
        if path is not None and data is not None:
            raise self.error(f"sets both {name} and {name}-data", key)
        return path, data

    def refuse(self, section: Mapping[str, Any], names: tuple[str, ...], key: str) -> None:
        for name in names:
            if section.get(name):
                raise KubeconfigNotSupportedError(
                    f"uses {name!r}, which txcloud does not support; use a token, "
                    "basic auth or client certificates",
                    source=self.source,
                    key=f"{key}.{name}",
                )


def load_kubeconfig(path: str | os.PathLike[str], context: str | None = None) -> Kubeconfig:
    """
    Read one context of a kubeconfig file.

    :param path: the kubeconfig file.
    :param context: the context to use; the file's ``current-context`` when ``None``.
    :returns: the :class:`Kubeconfig` settings of that context.
    :raises ConfigError: for an unreadable or malformed file, a missing
        context, cluster or user, or contradictory settings.
    :raises KubeconfigNotSupportedError: for exec plugins, auth providers,
        impersonation, proxies or a TLS server name.
    """
    reader = _Reader(os.fspath(path))
    if context is None:
        context = reader.text(reader.document, "current-context", "kubeconfig")
        if context is None:
            raise reader.error("names no current-context: pass the context to use", None)
    elif not isinstance(context, str) or not context:
        raise reader.error(f"context must be a non-empty string, not {context!r}", None)
    settings, context_key = reader.named("contexts", context, "context")
    cluster_name = reader.text(settings, "cluster", context_key)
    if cluster_name is None:
        raise reader.error("names no cluster", context_key)
    cluster, cluster_key = reader.named("clusters", cluster_name, "cluster")
    reader.refuse(cluster, _UNSUPPORTED_CLUSTER_KEYS, cluster_key)
    server = reader.text(cluster, "server", cluster_key)
    if server is None:
        raise reader.error("names no server", cluster_key)
    verify = not reader.flag(cluster, "insecure-skip-tls-verify", cluster_key)
    ca_file, ca_data = reader.file_or_data(cluster, "certificate-authority", cluster_key)
    if not verify and (ca_file or ca_data):
        raise reader.error("sets a certificate authority and insecure-skip-tls-verify", cluster_key)
    user_name = reader.text(settings, "user", context_key)
    user: Mapping[str, Any] = {}
    user_key = "users"
    if user_name is not None:
        user, user_key = reader.named("users", user_name, "user")
    reader.refuse(user, _UNSUPPORTED_USER_KEYS, user_key)
    token = reader.text(user, "token", user_key)
    token_file = reader.path(user, "tokenFile", user_key)
    username = reader.text(user, "username", user_key)
    password = reader.text(user, "password", user_key)
    if (token or token_file) and (username or password):
        raise reader.error("sets both a token and basic auth", user_key)
    if (username is None) != (password is None):
        raise reader.error("sets only one of username and password", user_key)
    cert_file, cert_data = reader.file_or_data(user, "client-certificate", user_key)
    key_file, key_data = reader.file_or_data(user, "client-key", user_key)
    if (cert_file or cert_data) and not (key_file or key_data):
        raise reader.error("sets a client certificate without its client-key", user_key)
    if (key_file or key_data) and not (cert_file or cert_data):
        raise reader.error("sets a client-key without its client certificate", user_key)
    return Kubeconfig(
        source=reader.source,
        context=context,
        server=server,
        namespace=reader.text(settings, "namespace", context_key),
        verify=verify,
        ca_file=ca_file,
        ca_data=ca_data,
        cert_file=cert_file,
        cert_data=cert_data,
        key_file=key_file,
        key_data=key_data,
        token=token,
        token_file=token_file,
        username=username,
        password=password,
    )


@contextmanager
def pem_files(blobs: Mapping[str, bytes]) -> Iterator[dict[str, str]]:
    """
    Write PEM blobs to files only this user can read, for as long as the
    ``with`` block lasts (the TLS layer reads certificates and keys from
    files).

    :param blobs: names (``"ca_file"``...) mapped to their contents.
    :returns: the same names mapped to the files' paths.
    """
    folder = tempfile.mkdtemp(prefix="txcloud-kubernetes-")
    try:
        paths = {}
        for name, blob in blobs.items():
            path = os.path.join(folder, name + ".pem")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as f:
                f.write(blob)
            paths[name] = path
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)
