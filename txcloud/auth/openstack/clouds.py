"""
Where OpenStack's own tools find their cloud: ``OS_CLOUD`` naming an entry
of ``clouds.yaml``, or the ``OS_*`` environment variables, read as the
``openstack`` command and openstacksdk read them.

``clouds.yaml`` is the first of: the file ``OS_CLIENT_CONFIG_FILE`` names,
``./clouds.yaml``, ``$XDG_CONFIG_HOME/openstack/clouds.yaml``
(``~/.config/openstack``), ``/etc/openstack/clouds.yaml`` (each also as
``.yml`` or ``.json``); a ``secure.yaml`` beside it is merged in, so
passwords can live apart.  The environment is passed in (``environ``), so
tests never read the real home folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from txcloud.auth.openstack.keystone import KeystoneCredentials
from txcloud.errors import ConfigError, InvalidArgumentError

__all__ = ["AUTH_TYPES", "OpenStackSettings", "clouds_search_path", "find_settings"]

#: ``auth_type`` values (``OS_AUTH_TYPE``) and the Keystone method each means.
AUTH_TYPES = {
    "password": "password",
    "v3password": "password",
    "token": "token",
    "v3token": "token",
    "application_credential": "application_credential",
    "v3applicationcredential": "application_credential",
}

#: ``OS_*`` variables and the ``auth`` keys of ``clouds.yaml`` they stand for.
_VARIABLES = {
    "OS_AUTH_URL": "auth_url",
    "OS_USERNAME": "username",
    "OS_USER_ID": "user_id",
    "OS_PASSWORD": "password",
    # The old names first: the new ones win when both are set.
    "OS_TENANT_NAME": "project_name",
    "OS_PROJECT_NAME": "project_name",
    "OS_TENANT_ID": "project_id",
    "OS_PROJECT_ID": "project_id",
    "OS_USER_DOMAIN_NAME": "user_domain_name",
    "OS_USER_DOMAIN_ID": "user_domain_id",
    "OS_PROJECT_DOMAIN_NAME": "project_domain_name",
    "OS_PROJECT_DOMAIN_ID": "project_domain_id",
    "OS_TOKEN": "token",
    "OS_APPLICATION_CREDENTIAL_ID": "application_credential_id",
    "OS_APPLICATION_CREDENTIAL_NAME": "application_credential_name",
    "OS_APPLICATION_CREDENTIAL_SECRET": "application_credential_secret",
}

_FILE_NAMES = ("clouds.yaml", "clouds.yml", "clouds.json")
_INTERFACES = ("public", "internal", "admin")


@attrs.frozen
class OpenStackSettings:
    """
    A cloud as OpenStack's tools describe it.

    :ivar credentials: the :class:`~txcloud.auth.openstack.keystone.KeystoneCredentials`.
    :ivar region: ``region_name`` (``OS_REGION_NAME``), if set.
    :ivar interface: the catalog interface to use (``public`` by default).
    :ivar ca_file: ``cacert`` (``OS_CACERT``), a CA bundle to trust.
    :ivar verify: ``False`` when the cloud says ``verify: false``.
    :ivar source: where the settings came from, for messages.
    """

    credentials: KeystoneCredentials
    region: str | None = None
    interface: str = "public"
    ca_file: str | None = None
    verify: bool = True
    source: str = "the environment"


def clouds_search_path(environ: Mapping[str, str], cwd: str | None = None) -> list[str]:
    """
    The folders ``clouds.yaml`` is looked for in, in order: *cwd* (the
    current folder by default), the user's and the system's.
    """
    config_home = environ.get("XDG_CONFIG_HOME") or (
        os.path.join(environ["HOME"], ".config") if environ.get("HOME") else None
    )
    folders = [cwd if cwd is not None else os.getcwd()]
    if config_home:
        folders.append(os.path.join(config_home, "openstack"))
    folders.append("/etc/openstack")
    return folders


def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=path) from None
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigError("is not valid JSON", source=path) from None
    try:
        import yaml
    except ImportError:
        raise ConfigError(
            "reading clouds.yaml needs PyYAML (pip install 'txcloud[openstack]')", source=path
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        # The parser's message may quote the line, password and all.
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"is not valid YAML{where}", source=path) from None


def _first_file(folders: Sequence[str], environ: Mapping[str, str]) -> str | None:
    named = environ.get("OS_CLIENT_CONFIG_FILE")
    if named:
        if not os.path.isfile(named):
            raise ConfigError("no such file (OS_CLIENT_CONFIG_FILE)", source=named)
        return named
    for folder in folders:
        for name in _FILE_NAMES:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    return None


def _merged(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in extra.items()}}
    return extra


def _cloud_entry(name: str, folders: Sequence[str], environ: Mapping[str, str]) -> tuple[Any, str]:
    path = _first_file(folders, environ)
    if path is None:
        raise InvalidArgumentError(
            f"OS_CLOUD names {name!r} but no clouds.yaml was found in {', '.join(folders)}"
        )
    document = _load(path)
    secure = os.path.join(os.path.dirname(path), "secure.yaml")
    if os.path.isfile(secure):
        document = _merged(document, _load(secure))
    clouds = document.get("clouds") if isinstance(document, dict) else None
    if not isinstance(clouds, dict):
        raise ConfigError("has no 'clouds' mapping", source=path)
    if name not in clouds:
        known = ", ".join(sorted(str(key) for key in clouds)) or "none"
        raise ConfigError(f"has no cloud {name!r}; known: {known}", source=path, key="clouds")
    entry = clouds[name]
    if not isinstance(entry, dict):
        raise ConfigError("must be a mapping", source=path, key=f"clouds.{name}")
    return entry, f"cloud {name!r} of {path}"


def _text(value: Any, what: str, source: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string", source=source)
    return value


def _settings(entry: Mapping[str, Any], source: str) -> OpenStackSettings:
    auth = entry.get("auth") or {}
    if not isinstance(auth, dict):
        raise ConfigError("'auth' must be a mapping", source=source)
    fields = {key: _text(value, key, source) for key, value in auth.items()}
    version = entry.get("identity_api_version")
    if version is not None and str(version).split(".")[0] != "3":
        raise ConfigError("only identity_api_version 3 is supported", source=source)
    auth_type = _text(entry.get("auth_type"), "auth_type", source)
    if auth_type is None:
        if fields.get("application_credential_secret"):
            method = "application_credential"
        elif fields.get("token") and not fields.get("password"):
            method = "token"
        else:
            method = "password"
    elif auth_type in AUTH_TYPES:
        method = AUTH_TYPES[auth_type]
    else:
        raise ConfigError(
            f"auth_type {auth_type!r} is not supported; use one of {', '.join(AUTH_TYPES)}",
            source=source,
        )
    if not fields.get("auth_url"):
        raise InvalidArgumentError(f"no Keystone auth URL (auth_url, OS_AUTH_URL) in {source}")
    interface = _text(entry.get("interface"), "interface", source) or "public"
    interface = interface.removesuffix("URL")
    if interface not in _INTERFACES:
        raise ConfigError(f"interface must be one of {', '.join(_INTERFACES)}", source=source)
    regions = entry.get("regions")
    region = _text(entry.get("region_name"), "region_name", source)
    if region is None and isinstance(regions, list) and regions:
        first = regions[0]
        region = _text(first.get("name") if isinstance(first, dict) else first, "regions", source)
    verify = entry.get("verify", True)
    credentials = KeystoneCredentials(
        auth_url=fields["auth_url"],
        method=method,
        user_name=fields.get("username"),
        user_id=fields.get("user_id"),
        user_domain_name=fields.get("user_domain_name") or fields.get("domain_name"),
        user_domain_id=fields.get("user_domain_id") or fields.get("domain_id"),
        password=fields.get("password") if method == "password" else None,
        project_name=fields.get("project_name") if method != "application_credential" else None,
        project_id=fields.get("project_id") if method != "application_credential" else None,
        project_domain_name=fields.get("project_domain_name") or fields.get("domain_name"),
        project_domain_id=fields.get("project_domain_id") or fields.get("domain_id"),
        token=fields.get("token") if method == "token" else None,
        application_credential_id=fields.get("application_credential_id"),
        application_credential_name=fields.get("application_credential_name"),
        application_credential_secret=fields.get("application_credential_secret"),
    )
    return OpenStackSettings(
        credentials=credentials,
        region=region,
        interface=interface,
        ca_file=_text(entry.get("cacert"), "cacert", source),
        verify=verify is not False,
        source=source,
    )


def find_settings(
    environ: Mapping[str, str] | None = None,
    *,
    cloud: str | None = None,
    search_path: Sequence[str] | None = None,
) -> OpenStackSettings:
    """
    The cloud OpenStack's tools would use: the ``clouds.yaml`` entry named
    by *cloud* or ``OS_CLOUD``, else the ``OS_*`` variables.
    ``OS_REGION_NAME`` and ``OS_INTERFACE`` override a cloud's own.

    :param environ: the environment; :data:`os.environ` when ``None``.
    :param search_path: the folders to look for ``clouds.yaml`` in; see
        :func:`clouds_search_path`.
    :raises InvalidArgumentError: (or :class:`~txcloud.errors.ConfigError`
        naming the file) when no cloud is found or its settings are refused;
        messages never quote a secret.
    """
    env = os.environ if environ is None else environ
    name = cloud or env.get("OS_CLOUD")
    if name:
        folders = clouds_search_path(env) if search_path is None else list(search_path)
        entry, source = _cloud_entry(name, folders, env)
    else:
        auth = {key: env[variable] for variable, key in _VARIABLES.items() if env.get(variable)}
        entry = {"auth": auth, "auth_type": env.get("OS_AUTH_TYPE") or None}
        entry.update(cacert=env.get("OS_CACERT"), identity_api_version=None)
        source = "the OS_* environment variables"
    overrides = {
        "region_name": env.get("OS_REGION_NAME"),
        "interface": env.get("OS_INTERFACE"),
    }
    entry = {**entry, **{key: value for key, value in overrides.items() if value}}
    return _settings(entry, source)
