"""
Reading kubeconfig files into the arguments of
:class:`~txcloud.container.drivers.kubernetes.KubernetesContainerDriver`,
merged as kubectl merges them.

Which files: the paths given, else those ``KUBECONFIG`` lists (separated
by ``os.pathsep``; files that do not exist are skipped), else
``~/.kube/config``.  Several files merge as kubectl merges them: for each
cluster, user and context name the first file that defines it wins, and
``current-context`` comes from the first file that sets it.  Relative
paths (``certificate-authority``, ``client-certificate``, ``client-key``,
``tokenFile``, and an ``exec`` command that contains a ``/``) are relative
to the folder of the file that names them.

A kubeconfig is YAML: reading one needs PyYAML (``pip install PyYAML``),
except one written as JSON, which is read without it.  One context is
used, the ``current-context`` unless another is named; its cluster gives
the server URL and TLS settings (``certificate-authority``,
``certificate-authority-data``, ``insecure-skip-tls-verify``), its user the
credentials (``token``, ``tokenFile``, ``username``/``password``,
``client-certificate(-data)``/``client-key(-data)``, or an ``exec``
credential plugin, see
:mod:`~txcloud.container.drivers.kubernetes.exec_plugin`), and its
namespace the driver's default one.

Credentials that need a provider's login (``auth-provider``),
impersonation (``as``...) and connection settings the driver cannot
honour (``proxy-url``, ``tls-server-name``) are refused with
:class:`KubeconfigNotSupportedError` rather than ignored.  Every refusal
is a :class:`KubernetesCredentialsError` naming the file and the key,
never a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from txcloud.errors import ConfigError, InvalidCredsError

__all__ = [
    "EXEC_API_VERSIONS",
    "ExecConfig",
    "Kubeconfig",
    "KubeconfigNotSupportedError",
    "KubernetesCredentialsError",
    "kubeconfig_paths",
    "load_kubeconfig",
    "pem_files",
]

#: The ``client.authentication.k8s.io`` versions of exec plugins txcloud speaks.
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
# User settings txcloud cannot act on.
_UNSUPPORTED_USER_KEYS = ("auth-provider", "as", "as-uid", "as-groups", "as-user-extra")
# Cluster settings that change where or how to connect.
_UNSUPPORTED_CLUSTER_KEYS = ("proxy-url", "tls-server-name")
_INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
# Where a cluster keeps the settings it hands to exec plugins.
_EXEC_EXTENSION = "client.authentication.k8s.io/exec"


class KubernetesCredentialsError(ConfigError, InvalidCredsError):
    """
    Kubernetes credentials could not be found or used (a malformed
    kubeconfig, a failing exec plugin, missing in-cluster files); raised
    before any request.  It names where txcloud looked (file, context,
    user, key), never a secret.
    """


class KubeconfigNotSupportedError(KubernetesCredentialsError):
    """The kubeconfig asks for something txcloud does not do (an auth provider...)."""


@attrs.frozen
class ExecConfig:
    """
    A user's ``exec`` credential plugin, as the kubeconfig describes it.

    :ivar command: the program: a path, or a name looked up in ``PATH``.
    :ivar args: its arguments.
    :ivar env: variables added to its environment (not shown: they may be secret).
    :ivar api_version: the ``ExecCredential`` version it speaks.
    :ivar interactive_mode: ``"Never"``, ``"IfAvailable"`` or ``"Always"``.
    :ivar install_hint: what to tell a user who lacks the program.
    :ivar cluster: the ``spec.cluster`` handed to the plugin when the
        kubeconfig sets ``provideClusterInfo``.
    :ivar where: the file, context and user it comes from, for messages.
    """

    command: str
    args: tuple[str, ...] = attrs.field(default=(), repr=False)
    env: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    api_version: str = EXEC_API_VERSIONS[0]
    interactive_mode: str = "IfAvailable"
    install_hint: str | None = None
    cluster: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    where: str = "the exec plugin"


@attrs.frozen
class Kubeconfig:
    """
    What one context of a kubeconfig says; secrets stay out of its ``repr``.

    :ivar source: the file (or files, joined by ``os.pathsep``) read.
    :ivar server: the API server's URL.
    :ivar namespace: the context's namespace, if it names one.
    :ivar exec: the user's exec credential plugin, if it has one.
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
    exec: ExecConfig | None = None

    def driver_arguments(self) -> dict[str, Any]:
        """The driver's keyword arguments for these settings (the exec plugin aside)."""
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
            raise KubernetesCredentialsError(
                "is not JSON, and reading a YAML kubeconfig needs PyYAML (pip install PyYAML)",
                source=source,
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        # The parser's message may quote the offending line, secrets and all.
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KubernetesCredentialsError(f"is not valid YAML{where}", source=source) from None


class _File:
    """Typed access to one kubeconfig document, with errors naming the file and key."""

    def __init__(self, path: str) -> None:
        self.source = path
        self.folder = os.path.dirname(os.path.abspath(path))
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            problem = e.strerror if isinstance(e, OSError) else "is not UTF-8 text"
            raise KubernetesCredentialsError(f"cannot be read: {problem}", source=path) from None
        document = _yaml_safe_load(text, path)
        self.document = self.mapping(document, None)

    def error(self, problem: str, key: str | None) -> KubernetesCredentialsError:
        return KubernetesCredentialsError(problem, source=self.source, key=key)

    def mapping(self, value: object, key: str | None) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error("must be a mapping", key)
        return value

    def items(self, section: str) -> list[Any]:
        items = self.document.get(section) or []
        if not isinstance(items, list):
            raise self.error("must be a list", section)
        return items

    def text(self, section: Mapping[str, Any], name: str, key: str) -> str | None:
        value = section.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error("must be a string", f"{key}.{name}" if key else name)
        return value

    def flag(self, section: Mapping[str, Any], name: str, key: str) -> bool:
        value = section.get(name, False)
        if not isinstance(value, bool):
            raise self.error("must be true or false", f"{key}.{name}")
        return value

    def resolve(self, path: str) -> str:
        return os.path.join(self.folder, os.path.expanduser(path))

    def path(self, section: Mapping[str, Any], name: str, key: str) -> str | None:
        value = self.text(section, name, key)
        return None if value is None else self.resolve(value)

    def data(self, section: Mapping[str, Any], name: str, key: str) -> bytes | None:
        value = self.text(section, name, key)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self.error("is not valid base64", f"{key}.{name}") from None

    def file_or_data(
        self, section: Mapping[str, Any], name: str, key: str
    ) -> tuple[str | None, bytes | None]:
        path = self.path(section, name, key)
        data = self.data(section, f"{name}-data", key)
        if path is not None and data is not None:
            raise self.error(f"sets both {name} and {name}-data", key)
        return path, data

    def strings(self, section: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        value = section.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error("must be a list of strings", f"{key}.{name}")
        return tuple(value)

    def refuse(self, section: Mapping[str, Any], names: tuple[str, ...], key: str) -> None:
        for name in names:
            if section.get(name):
                raise KubeconfigNotSupportedError(
                    f"uses {name!r}, which txcloud does not support; use a token, "
                    "basic auth, client certificates or an exec plugin",
                    source=self.source,
                    key=f"{key}.{name}",
                )


@attrs.frozen
class _Entry:
    """One named cluster, user or context, and the file that defines it."""

    file: _File
    key: str
    value: Mapping[str, Any] = attrs.field(repr=False)


class _Merged:
    """Several kubeconfig files merged as kubectl merges them: the first one wins."""

    def __init__(self, files: Sequence[_File]) -> None:
        self.files = files
        self.source = os.pathsep.join(f.source for f in files)
        self.current: str | None = None
        for file in files:
            self.current = self.current or file.text(file.document, "current-context", "")
        self.sections: dict[str, dict[str, _Entry]] = {}
        for section, entry in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            named: dict[str, _Entry] = {}
            for file in files:
                for index, item in enumerate(file.items(section)):
                    item = file.mapping(item, f"{section}[{index}]")
                    name = item.get("name")
                    if not isinstance(name, str) or not name:
                        raise file.error("must have a name", f"{section}[{index}]")
                    key = f"{section}[{index}].{entry}"
                    named.setdefault(name, _Entry(file, key, file.mapping(item.get(entry), key)))
            self.sections[section] = named

    def error(self, problem: str, key: str | None = None) -> KubernetesCredentialsError:
        return KubernetesCredentialsError(problem, source=self.source, key=key)

    def named(self, section: str, name: str) -> _Entry:
        found = self.sections[section].get(name)
        if found is None:
            known = ", ".join(sorted(self.sections[section])) or "none"
            raise self.error(f"has no entry named {name!r} (known: {known})", section)
        return found


def kubeconfig_paths(environ: Mapping[str, str] | None = None) -> list[str]:
    """
    The kubeconfig files kubectl would read: ``KUBECONFIG``'s, else ``~/.kube/config``.

    :param environ: the environment to read ``KUBECONFIG`` and ``HOME``
        from; ``os.environ`` when ``None``.
    :returns: the paths, each once, in order (missing files included).
    """
    environ = os.environ if environ is None else environ
    listed = [path for path in environ.get("KUBECONFIG", "").split(os.pathsep) if path]
    if listed:
        return list(dict.fromkeys(listed))
    home = environ.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")]


def _files(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
    environ: Mapping[str, str] | None,
) -> list[_File]:
    if path is not None:
        given = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        return [_File(os.fspath(p)) for p in given]
    paths = kubeconfig_paths(environ)
    present = [p for p in paths if os.path.exists(p)]
    if not present:
        raise KubernetesCredentialsError(
            "no kubeconfig file exists (set KUBECONFIG or pass a path)",
            source=os.pathsep.join(paths),
        )
    return [_File(p) for p in present]


def load_kubeconfig(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    context: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Kubeconfig:
    """
    Read one context of one or several merged kubeconfig files.

    :param path: the kubeconfig file, or a list of files to merge (each
        must exist); when ``None``, the files of :func:`kubeconfig_paths`
        that exist.
    :param context: the context to use; the ``current-context`` when ``None``.
    :param environ: the environment (``KUBECONFIG``, ``HOME``); ``os.environ``
        when ``None``.
    :returns: the :class:`Kubeconfig` settings of that context.
    :raises KubernetesCredentialsError: for no file, an unreadable or
        malformed file, a missing context, cluster or user, or
        contradictory settings.
    :raises KubeconfigNotSupportedError: for auth providers, impersonation,
        proxies or a TLS server name.
    """
    merged = _Merged(_files(path, environ))
    if context is None:
        context = merged.current
        if context is None:
            raise merged.error("names no current-context: pass the context to use")
    elif not isinstance(context, str) or not context:
        raise merged.error(f"context must be a non-empty string, not {context!r}")
    found = merged.named("contexts", context)
    file, settings, context_key = found.file, found.value, found.key
    cluster_name = file.text(settings, "cluster", context_key)
    if cluster_name is None:
        raise file.error("names no cluster", context_key)
    found = merged.named("clusters", cluster_name)
    cfile, cluster, cluster_key = found.file, found.value, found.key
    cfile.refuse(cluster, _UNSUPPORTED_CLUSTER_KEYS, cluster_key)
    server = cfile.text(cluster, "server", cluster_key)
    if server is None:
        raise cfile.error("names no server", cluster_key)
    verify = not cfile.flag(cluster, "insecure-skip-tls-verify", cluster_key)
    ca_file, ca_data = cfile.file_or_data(cluster, "certificate-authority", cluster_key)
    if not verify and (ca_file or ca_data):
        raise cfile.error("sets a certificate authority and insecure-skip-tls-verify", cluster_key)
    user_name = file.text(settings, "user", context_key)
    ufile, user_key = file, "users"
    user: Mapping[str, Any] = {}
    if user_name is not None:
        found = merged.named("users", user_name)
        ufile, user, user_key = found.file, found.value, found.key
    ufile.refuse(user, _UNSUPPORTED_USER_KEYS, user_key)
    token = ufile.text(user, "token", user_key)
    token_file = ufile.path(user, "tokenFile", user_key)
    username = ufile.text(user, "username", user_key)
    password = ufile.text(user, "password", user_key)
    if (token or token_file) and (username or password):
        raise ufile.error("sets both a token and basic auth", user_key)
    if (username is None) != (password is None):
        raise ufile.error("sets only one of username and password", user_key)
    cert_file, cert_data = ufile.file_or_data(user, "client-certificate", user_key)
    key_file, key_data = ufile.file_or_data(user, "client-key", user_key)
    if (cert_file or cert_data) and not (key_file or key_data):
        raise ufile.error("sets a client certificate without its client-key", user_key)
    if (key_file or key_data) and not (cert_file or cert_data):
        raise ufile.error("sets a client-key without its client certificate", user_key)
    exec_config = None
    if user.get("exec") is not None:
        if token or token_file or username:
            raise ufile.error("sets both an exec plugin and a token or basic auth", user_key)
        exec_key = f"{user_key}.exec"
        where = f"{ufile.source}: {exec_key} (context {context!r}, user {user_name!r})"
        section = ufile.mapping(user["exec"], exec_key)
        cluster_info = None
        if ufile.flag(section, "provideClusterInfo", exec_key):
            cluster_info = _cluster_info(cfile, cluster, cluster_key, server, verify)
        exec_config = _exec_config(ufile, section, exec_key, where, cluster_info)
    return Kubeconfig(
        source=merged.source,
        context=context,
        server=server,
        namespace=file.text(settings, "namespace", context_key),
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
        exec=exec_config,
    )


def _exec_config(
    file: _File,
    section: Mapping[str, Any],
    key: str,
    where: str,
    cluster: Mapping[str, Any] | None,
) -> ExecConfig:
    api_version = file.text(section, "apiVersion", key)
    if api_version not in EXEC_API_VERSIONS:
        raise KubeconfigNotSupportedError(
            f"names exec plugin API version {api_version!r}; txcloud speaks "
            + " and ".join(EXEC_API_VERSIONS),
            source=file.source,
            key=f"{key}.apiVersion",
        )
    command = file.text(section, "command", key)
    if command is None:
        raise file.error("names no command", key)
    if os.sep in command and not os.path.isabs(command):
        command = file.resolve(command)
    env = []
    for index, item in enumerate(section.get("env") or []):
        item = file.mapping(item, f"{key}.env[{index}]")
        name, value = item.get("name"), item.get("value")
        if not (isinstance(name, str) and name and isinstance(value, str)):
            raise file.error("must have a name and a string value", f"{key}.env[{index}]")
        env.append((name, value))
    mode = file.text(section, "interactiveMode", key)
    if mode is None:
        if api_version == EXEC_API_VERSIONS[0]:
            raise file.error("must set interactiveMode (required in v1)", key)
        mode = "IfAvailable"
    if mode not in _INTERACTIVE_MODES:
        raise file.error(
            f"must be one of {', '.join(_INTERACTIVE_MODES)}", f"{key}.interactiveMode"
        )
    return ExecConfig(
        command=command,
        args=file.strings(section, "args", key),
        env=tuple(env),
        api_version=api_version,
        interactive_mode=mode,
        install_hint=file.text(section, "installHint", key),
        cluster=cluster,
        where=where,
    )


def _cluster_info(
    file: _File, cluster: Mapping[str, Any], key: str, server: str, verify: bool
) -> dict[str, Any]:
    """The ``spec.cluster`` an exec plugin gets with ``provideClusterInfo``."""
    info: dict[str, Any] = {"server": server}
    ca_file, ca_data = file.file_or_data(cluster, "certificate-authority", key)
    if ca_file is not None:
        try:
            with open(ca_file, "rb") as f:
                ca_data = f.read()
        except OSError as e:
            problem = f"cannot be read: {e.strerror}"
            raise file.error(problem, f"{key}.certificate-authority") from None
    if ca_data is not None:
        info["certificate-authority-data"] = base64.b64encode(ca_data).decode("ascii")
    if not verify:
        info["insecure-skip-tls-verify"] = True
    for index, item in enumerate(cluster.get("extensions") or []):
        item = file.mapping(item, f"{key}.extensions[{index}]")
        if item.get("name") == _EXEC_EXTENSION:
            info["config"] = item.get("extension")
    return info


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
