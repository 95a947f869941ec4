"""
The AWS shared configuration and credentials files, read as the AWS SDKs
read them.

:func:`load_shared_config` reads ``AWS_CONFIG_FILE`` (else
``~/.aws/config``) and ``AWS_SHARED_CREDENTIALS_FILE`` (else
``~/.aws/credentials``), ``~`` being the ``HOME`` of the environment given,
so tests never touch the real home.  Profiles are ``[profile NAME]`` (or
``[default]``) in the config file and ``[NAME]`` in the credentials file;
the credentials file wins where both set a key.  ``[sso-session NAME]`` and
``[services NAME]`` sections are kept too.  The files are small and read at
once (a cached copy is used while their size and modification time stay
the same); a file that cannot be parsed gives an error naming it, never
quoting it.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from typing import Any

import attrs

from txcloud.errors import InvalidCredsError

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_CONFIG_FILE",
    "ENV_CREDENTIALS_FILE",
    "ENV_PROFILE",
    "SharedConfig",
    "home_folder",
    "load_shared_config",
    "profile_name",
]

ENV_CONFIG_FILE = "AWS_CONFIG_FILE"
ENV_CREDENTIALS_FILE = "AWS_SHARED_CREDENTIALS_FILE"
ENV_PROFILE = "AWS_PROFILE"
DEFAULT_PROFILE = "default"

Section = Mapping[str, str]


@attrs.frozen
class SharedConfig:
    """
    What the shared files hold.

    :ivar config_file: the config file's path (it may not exist).
    :ivar credentials_file: the credentials file's path (it may not exist).
    :ivar config_profiles: the config file's profiles, by name.
    :ivar credentials_profiles: the credentials file's profiles, by name.
    :ivar sso_sessions: ``[sso-session NAME]`` sections, by name.
    :ivar services: ``[services NAME]`` sections: per service id (``s3``,
        ``ec2``...), its settings.
    """

    config_file: str
    credentials_file: str
    config_profiles: Mapping[str, Section] = attrs.field(factory=dict)
    credentials_profiles: Mapping[str, Section] = attrs.field(factory=dict)
    sso_sessions: Mapping[str, Section] = attrs.field(factory=dict)
    services: Mapping[str, Mapping[str, Section]] = attrs.field(factory=dict)

    def has_profile(self, name: str) -> bool:
        """Whether either file has profile *name*."""
        return name in self.config_profiles or name in self.credentials_profiles

    def profile(self, name: str) -> dict[str, str]:
        """Profile *name*'s settings (empty when absent); the credentials file wins."""
        merged = dict(self.config_profiles.get(name, {}))
        merged.update(self.credentials_profiles.get(name, {}))
        return merged

    def where(self, name: str) -> str:
        """Where profile *name* is looked for, for messages."""
        return f"profile {name!r} of {self.config_file} and {self.credentials_file}"


def home_folder(environ: Mapping[str, str]) -> str:
    """The home folder: ``HOME`` of *environ*, else the user's."""
    return environ.get("HOME") or os.path.expanduser("~")


def expand_home(path: str, environ: Mapping[str, str]) -> str:
    """*path* with a leading ``~`` replaced by :func:`home_folder`."""
    if path == "~" or path.startswith("~/"):
        return home_folder(environ) + path[1:]
    return path


def profile_name(environ: Mapping[str, str], profile: str | None = None) -> str:
    """The profile to use: *profile*, else ``AWS_PROFILE``, else ``default``."""
    return profile or environ.get(ENV_PROFILE) or DEFAULT_PROFILE


def load_shared_config(environ: Mapping[str, str] | None = None) -> SharedConfig:
    """
    Read the shared config and credentials files named by *environ*.

    :param environ: the environment; :data:`os.environ` when ``None``.
    :raises InvalidCredsError: when a file exists but cannot be read or parsed.
    """
    env = os.environ if environ is None else environ
    config_file = expand_home(env.get(ENV_CONFIG_FILE) or "~/.aws/config", env)
    credentials_file = expand_home(env.get(ENV_CREDENTIALS_FILE) or "~/.aws/credentials", env)
    config_sections = _read_cached(config_file)
    credentials_sections = _read_cached(credentials_file)
    profiles: dict[str, Section] = {}
    sso_sessions: dict[str, Section] = {}
    services: dict[str, Mapping[str, Section]] = {}
    for title, values in config_sections.items():
        kind, _, name = title.partition(" ")
        name = name.strip()
        if title == DEFAULT_PROFILE:
            profiles[DEFAULT_PROFILE] = values
        elif kind == "profile" and name:
            profiles[name] = values
        elif kind == "sso-session" and name:
            sso_sessions[name] = values
        elif kind == "services" and name:
            services[name] = {service.lower(): _nested(text) for service, text in values.items()}
    return SharedConfig(
        config_file=config_file,
        credentials_file=credentials_file,
        config_profiles=profiles,
        credentials_profiles=credentials_sections,
        sso_sessions=sso_sessions,
        services=services,
    )


def _nested(text: str) -> Section:
    """``key = value`` lines of an indented sub-section (``s3 =\\n  endpoint_url = ...``)."""
    settings = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and name.strip():
            settings[name.strip().lower()] = value.strip()
    return settings


_cache: dict[str, tuple[Any, dict[str, Section]]] = {}


def _read_cached(path: str) -> dict[str, Section]:
    try:
        status = os.stat(path)
    except OSError:
        return {}
    stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    sections = _read(path)
    _cache[path] = (stamp, sections)
    return sections


def _read(path: str) -> dict[str, Section]:
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, configparser.Error):
        # "from None": a parsing error quotes the offending line, which may
        # hold a secret.
        raise InvalidCredsError(f"the AWS shared file {path} could not be read") from None
    return {title: dict(parser[title]) for title in parser.sections()}
