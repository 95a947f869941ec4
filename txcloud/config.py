"""
The configuration shared by the ``txcloud`` command and the ``twistd txcloud`` service.

It is a TOML file naming the *targets* to talk to: one per configured
compute, storage or container account, and per region where regions are
listed::

    [defaults]
    concurrency = 10            # targets queried at once
    timeout = 30                # seconds each target may take

    [[compute]]
    name = "dummy"              # unique in the file: letters, digits, "_", "-", "."
    provider = "dummy"          # a provider with a registered driver
    regions = ["eu-1", "us-1"]  # optional, one target per region (or region = "eu-1")
    key_env = "DUMMY_KEY"       # the key from the environment, or key = "..."
    secret_env = "DUMMY_SECRET" # likewise secret = "..."
    host = "127.0.0.1"          # optional endpoint override, with port and secure
    port = 5000
    secure = false
    options = { ex_latency = 0.0 }  # further keyword arguments of the driver

    [[storage]]
    name = "s3-eu"
    provider = "s3"
    region = "eu-west-1"
    proxy_env = "CORP_PROXY"    # the HTTP proxy (ex_proxy), or proxy = "http://proxy:3128"

    [[compute]]
    name = "fleet"
    provider = "ec2"
    regions = ["eu-west-1", "us-east-1"]
    profile = "ops"             # a profile of the AWS CLI's files (its keys, role...)
    accounts = ["111111111111", "222222222222"]  # one target per account and region,
    role_name = "inventory-reader"               # this role assumed in each account
    external_id_env = "FLEET_EXTERNAL_ID"        # or external_id = "..."

    [[storage]]
    name = "local"
    provider = "local"
    key = "~/.local/share/txcloud/data"   # the local driver's folder

    [[container]]
    name = "docker"
    provider = "docker"

    [[storage]]
    name = "gcs"
    provider = "google_storage"
    credentials = "default"     # found as Google's and Azure's own tools find them

    [[compute]]
    name = "azure"
    provider = "azure_arm"      # key/secret: the application's client id and secret;
    key = "CLIENT-ID"           # without them, Azure AD tokens as az tools find them
    secret_env = "AZURE_CLIENT_SECRET"
    options = { tenant_id = "TENANT", subscription_id = "SUBSCRIPTION" }

    [[container]]
    name = "prod"
    provider = "kubernetes"
    context = "prod"            # a kubeconfig context (merged KUBECONFIG files,
    kubeconfig = "~/prod.yaml"  # or this file); or in_cluster = true in a pod

    [service]                   # only read by the twistd txcloud service
    token_env = "TXCLOUD_SERVICE_TOKEN"  # the HTTP API's bearer token, or token = "..."

The file is looked for at ``$TXCLOUD_CONFIG``, else
``$XDG_CONFIG_HOME/txcloud/txcloud.toml`` (``~/.config/txcloud/txcloud.toml``
when ``XDG_CONFIG_HOME`` is unset).  When there is no file at the default
place, the embedded defaults apply: a ``dummy`` compute target and a
``local`` storage target keeping its data in ``$XDG_DATA_HOME/txcloud/data``
(``~/.local/share/txcloud/data``), so txcloud works with no network and no
credentials.  A local storage folder is created when a driver is built for it.

``proxy`` (or ``proxy_env``) is an HTTP driver's proxy URL,
``http://[user:password@]host:port``, for that entry's targets; ``""``
means none, whatever the environment says.  Without it a driver honours
``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY``.  A proxy URL may hold a
password, so it is never shown.

An ``ec2``, ``s3`` or ``ecs`` entry finds its credentials as the AWS SDKs
do (the environment, ``profile`` or the default profile, web identity,
container and instance credentials).  ``role_arn`` makes it assume that
role with them; ``accounts`` with ``role_name`` assumes the role of that
name in each account, one target per account and region (labelled
``name.account@region``).  ``external_id``, ``role_session_name`` and
``duration_seconds`` go with the role.  Each account's role is assumed once
for all its regions, and its credentials are renewed before they expire for
as long as the drivers live.

A :class:`Target` names a target and never holds a secret; keys and secrets
stay inside the :class:`Config` and go only to the driver's constructor.
Refused values raise :class:`~txcloud.errors.ConfigError` naming the file and
key, never the secret.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

import attrs

from txcloud.common.aws_targets import AWSCredentialSettings
from txcloud.common.base import BaseDriver
from txcloud.common.registry import DriverRegistry
from txcloud.compute.providers import DRIVERS as COMPUTE_DRIVERS
from txcloud.compute.types import Provider as ComputeProvider
from txcloud.container.providers import DRIVERS as CONTAINER_DRIVERS
from txcloud.errors import ConfigError, InvalidArgumentError
from txcloud.http.proxy import parse_proxy_url
from txcloud.storage.providers import DRIVERS as STORAGE_DRIVERS
from txcloud.storage.types import Provider as StorageProvider

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = [
    "EMBEDDED_DEFAULTS",
    "KINDS",
    "Config",
    "Defaults",
    "ServiceSettings",
    "Target",
    "default_config_path",
    "default_data_folder",
    "load_config",
    "parse_config",
]

# Each kind's provider registry; drivers are imported only when built.
_REGISTRIES: dict[str, DriverRegistry[Any]] = {
    "compute": COMPUTE_DRIVERS,
    "storage": STORAGE_DRIVERS,
    "container": CONTAINER_DRIVERS,
}

#: The kinds of target, in the order they are listed.
KINDS = tuple(_REGISTRIES)

#: What :func:`load_config` names the configuration when no file exists.
EMBEDDED_DEFAULTS = "<embedded defaults>"

# Target names and regions appear in "TARGET@REGION:CONTAINER/OBJECT" arguments.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

# What an HTTP Authorization header can carry after "Bearer ".
_TOKEN = re.compile(r"[\x21-\x7e]+\Z")

_ENTRY_KEYS = frozenset(
    {
        "name",
        "provider",
        "region",
        "regions",
        "key",
        "key_env",
        "secret",
        "secret_env",
        "host",
        "port",
        "secure",
        "proxy",
        "proxy_env",
        "options",
    }
)
# AWS targets find their credentials as the AWS SDKs do; these keys name the
# profile and the roles to assume.
_AWS_KEYS = frozenset(
    {
        "profile",
        "role_arn",
        "accounts",
        "role_name",
        "external_id",
        "external_id_env",
        "role_session_name",
        "duration_seconds",
    }
)
_AWS_PROVIDERS = frozenset({("compute", "ec2"), ("storage", "s3"), ("container", "ecs")})
_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@/_-]+\Z")
_ACCOUNT_ID = re.compile(r"[0-9]{12}\Z")
# Kubernetes targets may take their settings from kubeconfig files or the pod.
_KUBERNETES_KEYS = frozenset({"context", "kubeconfig", "in_cluster"})
# Targets whose credentials = "default" are found as their cloud's own tools
# find them, and what that excludes (Google's key is the account, Azure's the name).
_DEFAULT_CREDENTIALS = {
    ("storage", StorageProvider.GOOGLE_STORAGE.value): frozenset(
        {"key", "key_env", "secret", "secret_env"}
    ),
    ("storage", StorageProvider.AZURE_BLOBS.value): frozenset({"secret", "secret_env"}),
    # OS_CLOUD and clouds.yaml, or the OS_* variables.
    ("compute", ComputeProvider.OPENSTACK.value): frozenset(
        {"key", "key_env", "secret", "secret_env"}
    ),
}
# Constructor arguments the entry's own keys (or txcloud) set.
_RESERVED_OPTIONS = frozenset(
    {"key", "secret", "host", "port", "secure", "region", "reactor", "ex_proxy"}
)


@attrs.frozen
class Target:
    """
    One thing to query: a configured account of a provider, in one region.

    :ivar name: the entry's name in the configuration, unique in the file.
    :ivar kind: ``"compute"``, ``"storage"`` or ``"container"``.
    :ivar provider: the provider constant's value (``"ec2"``).
    :ivar region: the region, or ``None`` where the entry lists none.
    :ivar account: the AWS account of an entry listing ``accounts``, else ``None``.
    """

    name: str
    kind: str
    provider: str
    region: str | None = None
    account: str | None = None

    @property
    def label(self) -> str:
        """``name`` (``name.account`` in an AWS entry's accounts), then ``@region`` if any."""
        label = self.name if self.account is None else f"{self.name}.{self.account}"
        return label if self.region is None else f"{label}@{self.region}"


@attrs.frozen
class Defaults:
    """
    Settings for every target.

    :ivar concurrency: how many targets are queried at once.
    :ivar timeout: seconds each target may take.
    """

    concurrency: int = 10
    timeout: float = 30.0


@attrs.frozen
class ServiceSettings:
    """
    Settings of the ``twistd txcloud`` service, from the ``[service]`` table.

    :ivar token: the bearer token its HTTP API requires, or ``None`` for an
        API open to whoever can reach it; never shown.
    """

    token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(eq=False, repr=False)
class _DriverArguments:
    """A target's constructor arguments; never shown, as they hold the secrets."""

    key: str | None
    kwargs: Mapping[str, Any]
    # A classmethod that builds the driver instead, and its own arguments.
    builder: tuple[str, Mapping[str, Any]] | None = None
    # How an AWS target finds its credentials, and the accounts it spans.
    aws: AWSCredentialSettings | None = None
    accounts: tuple[str | None, ...] = (None,)


@attrs.frozen(eq=False)
class Config:
    """
    A loaded configuration: its targets, and how to build a driver for each.

    :ivar source: the file it came from, or :data:`EMBEDDED_DEFAULTS`.
    :ivar defaults: the :class:`Defaults`.
    :ivar targets: every :class:`Target`, in the order of the file.
    :ivar service: the :class:`ServiceSettings`.
    """

    source: str
    defaults: Defaults
    targets: tuple[Target, ...]
    _arguments: Mapping[Target, _DriverArguments] = attrs.field(repr=False, alias="arguments")
    service: ServiceSettings = attrs.field(factory=ServiceSettings)

    def select(self, kind: str | None = None, name: str | None = None) -> tuple[Target, ...]:
        """
        The targets of *kind* (every kind when ``None``) named *name*.

        :param name: a target's ``name`` (all its regions) or ``label`` (one
            region); ``None`` selects them all.
        :raises InvalidArgumentError: if *name* is given and matches no target.
        """
        targets = tuple(t for t in self.targets if kind is None or t.kind == kind)
        if name is None:
            return targets
        chosen = tuple(t for t in targets if name in (t.name, t.label))
        if not chosen:
            known = ", ".join(dict.fromkeys(t.label for t in targets)) or "none"
            what = "target" if kind is None else f"{kind} target"
            raise InvalidArgumentError(f"No {what} named {name!r} in {self.source}; known: {known}")
        return chosen

    def build_driver(self, target: Target, reactor: Any = None, **extra: Any) -> BaseDriver:
        """
        Make the driver for *target*, with the provider registry's ``get_driver``.

        :param reactor: the reactor the driver runs on; the global one when ``None``.
        :param extra: more constructor arguments for the driver (an
            ``ex_pool`` shared by several targets; an ``ex_agent`` in tests,
            which an AWS target's role calls go through too).
        :raises ConfigError: if the driver refuses the configured arguments.
        :raises InvalidCredsError: if an AWS target's profile is missing or
            inconsistent.
        :raises OSError: if a local storage folder cannot be created.
        """
        arguments = self._arguments[target]
        cls = _REGISTRIES[target.kind].get_driver(target.provider)
        key = arguments.key
        if key is not None and _is_local_storage(target.kind, target.provider):
            os.makedirs(key, exist_ok=True)
        kwargs = dict(arguments.kwargs, reactor=reactor, **extra)
        if target.region is not None:
            kwargs["region"] = target.region
        if arguments.aws is not None:
            kwargs.update(
                arguments.aws.driver_arguments(
                    target.account,
                    key,
                    kwargs.pop("secret", None),
                    reactor=reactor,
                    agent=kwargs.get("ex_agent"),
                )
            )
            key = kwargs.pop("key", None)
        try:
            if arguments.builder is not None:
                method, settings = arguments.builder
                driver: BaseDriver = getattr(cls, method)(**settings, **kwargs)
                return driver
            if _first_parameter(cls) in kwargs:
                # The options name the constructor's first argument (Azure's
                # tenant_id comes before the key): the key goes by name too.
                return cls(key=key, **kwargs)
            return cls(key, **kwargs)
        except TypeError as e:
            # An option the driver does not take; its name is safe to show, a value is not.
            raise ConfigError(
                f"the {target.provider} driver refused its arguments: {e}",
                source=self.source,
                key=target.name,
            ) from None


def _first_parameter(cls: type) -> str | None:
    """The name of the first argument *cls* takes by position, if any."""
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
            return parameter.name
    return None


def _is_local_storage(kind: str, provider: str) -> bool:
    # The local driver's key is a folder: "~" is expanded and the folder made on demand.
    return kind == "storage" and provider == StorageProvider.LOCAL


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _xdg_home(environ: Mapping[str, str], variable: str, fallback: str) -> str:
    # The XDG spec says relative values are to be ignored.
    value = environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(fallback)


def default_config_path(environ: Mapping[str, str] | None = None) -> str:
    """
    Where the configuration is read from when no path is given.

    :param environ: the environment; :data:`os.environ` when ``None``.
    :returns: ``$TXCLOUD_CONFIG``, else ``$XDG_CONFIG_HOME/txcloud/txcloud.toml``.
    """
    env = _environ(environ)
    if env.get("TXCLOUD_CONFIG"):
        return env["TXCLOUD_CONFIG"]
    return os.path.join(_xdg_home(env, "XDG_CONFIG_HOME", "~/.config"), "txcloud", "txcloud.toml")


def default_data_folder(environ: Mapping[str, str] | None = None) -> str:
    """
    The folder of the embedded ``local`` storage target.

    :returns: ``$XDG_DATA_HOME/txcloud/data`` (``~/.local/share/txcloud/data``).
    """
    return os.path.join(
        _xdg_home(_environ(environ), "XDG_DATA_HOME", "~/.local/share"), "txcloud", "data"
    )


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """
    Read the configuration.

    :param path: the file to read; when ``None``, ``$TXCLOUD_CONFIG`` or the
        default path, falling back to the embedded defaults if no file is
        at the default path.
    :param environ: where ``*_env`` keys and ``XDG_*`` are looked up;
        :data:`os.environ` when ``None``.
    :raises ConfigError: if the file is missing (when named), unreadable or invalid.
    """
    env = _environ(environ)
    named = path is not None or bool(env.get("TXCLOUD_CONFIG"))
    source = path if path is not None else default_config_path(env)
    try:
        with open(source, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        if named:
            raise ConfigError("no such file", source=source) from None
        return _embedded_defaults(env)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=source) from None
    return parse_config(text, source, env)


def parse_config(
    text: str, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> Config:
    """
    Read a configuration from TOML *text*.

    :param source: what to call the text in error messages (its file name).
    :param environ: where ``*_env`` keys are looked up; :data:`os.environ` when ``None``.
    :raises ConfigError: if the text is not TOML or a value is refused.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", source=source) from None
    return _Reader(source, _environ(environ)).config(document)


def _embedded_defaults(environ: Mapping[str, str]) -> Config:
    document = {
        "compute": [{"name": "dummy", "provider": "dummy"}],
        "storage": [{"name": "local", "provider": "local", "key": default_data_folder(environ)}],
    }
    return _Reader(EMBEDDED_DEFAULTS, environ).config(document)


_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), "a date or time")


class _Reader:
    """Checks a parsed document, raising :class:`ConfigError` at the first refused value."""

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self._source = source
        self._environ = environ

    def _error(self, problem: str, key: str | None = None) -> ConfigError:
        return ConfigError(problem, source=self._source, key=key)

    def _check_keys(self, table: Mapping[str, Any], allowed: frozenset[str], key: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self._error(
                f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}", key
            )

    def _typed(self, value: Any, types: tuple[type, ...], wanted: str, key: str) -> Any:
        # bool is an int to Python, not to a person writing a config file.
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            # The value is not shown: it may be a secret.
            raise self._error(f"must be {wanted}, not {_type_name(value)}", key)
        return value

    def _name(self, value: Any, key: str) -> str:
        name: str = self._typed(value, (str,), "a string", key)
        if not _NAME.match(name):
            raise self._error(f"{name!r} is not a valid name (letters, digits, '_', '-', '.')", key)
        return name

    def config(self, document: Mapping[str, Any]) -> Config:
        self._check_keys(document, frozenset({"defaults", "service", *KINDS}), "top level")
        defaults = self._defaults(document.get("defaults", {}))
        service = self._service(document.get("service", {}))
        targets: list[Target] = []
        arguments: dict[Target, _DriverArguments] = {}
        names: set[str] = set()
        for kind in KINDS:
            entries = self._typed(document.get(kind, []), (list,), "an array of tables", kind)
            for index, entry in enumerate(entries):
                key = f"{kind}[{index}]"
                name, regions, provider, entry_arguments = self._entry(kind, entry, key)
                if name in names:
                    raise self._error(f"duplicate target name {name!r}", f"{key}.name")
                names.add(name)
                for account in entry_arguments.accounts:
                    for region in regions:
                        target = Target(name, kind, provider, region, account)
                        targets.append(target)
                        arguments[target] = entry_arguments
        return Config(
            source=self._source,
            defaults=defaults,
            targets=tuple(targets),
            arguments=arguments,
            service=service,
        )

    def _defaults(self, value: Any) -> Defaults:
        table: dict[str, Any] = self._typed(value, (dict,), "a table", "defaults")
        self._check_keys(table, frozenset({"concurrency", "timeout"}), "defaults")
        result = Defaults()
        if "concurrency" in table:
            concurrency = self._typed(
                table["concurrency"], (int,), "an integer", "defaults.concurrency"
            )
            if concurrency < 1:
                raise self._error("must be at least 1", "defaults.concurrency")
            result = attrs.evolve(result, concurrency=concurrency)
        if "timeout" in table:
            timeout = self._typed(table["timeout"], (int, float), "a number", "defaults.timeout")
            if timeout <= 0:
                raise self._error("must be positive", "defaults.timeout")
            result = attrs.evolve(result, timeout=float(timeout))
        return result

    def _service(self, value: Any) -> ServiceSettings:
        table: dict[str, Any] = self._typed(value, (dict,), "a table", "service")
        self._check_keys(table, frozenset({"token", "token_env"}), "service")
        token = self._secret(table, "token", "service")
        if token is not None and not _TOKEN.match(token):
            # Not shown: it is the secret.
            raise self._error("the token must be printable ASCII without spaces", "service")
        return ServiceSettings(token=token)

    def _entry(
        self, kind: str, value: Any, key: str
    ) -> tuple[str, list[str | None], str, _DriverArguments]:
        entry: dict[str, Any] = self._typed(value, (dict,), "a table", key)
        self._check_keys(entry, _ENTRY_KEYS | _KUBERNETES_KEYS | _AWS_KEYS | {"credentials"}, key)
        for required in ("name", "provider"):
            if required not in entry:
                raise self._error(f"missing {required!r}", key)
        name = self._name(entry["name"], f"{key}.name")
        provider = self._typed(entry["provider"], (str,), "a string", f"{key}.provider")
        known = [str(p) for p in _REGISTRIES[kind].providers()]
        if provider not in known:
            raise self._error(
                f"unknown {kind} provider {provider!r}; known: {', '.join(known) or 'none'}",
                f"{key}.provider",
            )
        kwargs: dict[str, Any] = {}
        secret = self._secret(entry, "secret", key)
        if secret is not None:
            kwargs["secret"] = secret
        for option, types, wanted in (
            ("host", (str,), "a string"),
            ("port", (int,), "an integer"),
            ("secure", (bool,), "a boolean"),
        ):
            if option in entry:
                kwargs[option] = self._typed(entry[option], types, wanted, f"{key}.{option}")
        if "port" in kwargs and not 0 < kwargs["port"] < 65536:
            raise self._error("must be between 1 and 65535", f"{key}.port")
        proxy = self._secret(entry, "proxy", key)
        if proxy is not None:
            kwargs["ex_proxy"] = self._proxy(proxy, f"{key}.proxy")
        kwargs.update(self._options(entry.get("options", {}), f"{key}.options"))
        if "credentials" in entry:
            kwargs.update(self._default_credentials(kind, provider, entry, key))
        driver_key = self._secret(entry, "key", key)
        if driver_key is not None and _is_local_storage(kind, provider):
            driver_key = os.path.expanduser(driver_key)
        regions = self._regions(entry, key)
        builder = self._kubernetes(entry, key) if provider == "kubernetes" else None
        if builder is None and _KUBERNETES_KEYS & set(entry):
            raise self._error(
                f"{sorted(_KUBERNETES_KEYS & set(entry))[0]!r} is only for Kubernetes targets "
                "without host, key or secret",
                key,
            )
        aws, accounts = self._aws(kind, provider, entry, key)
        return (
            name,
            regions,
            provider,
            _DriverArguments(driver_key, kwargs, builder, aws, accounts),
        )

    def _aws(
        self, kind: str, provider: str, entry: Mapping[str, Any], key: str
    ) -> tuple[AWSCredentialSettings | None, tuple[str | None, ...]]:
        """
        An AWS target's credential settings: its ``profile``, the role it
        assumes (``role_arn``, or ``role_name`` in each of ``accounts``, one
        target per account and region) with ``external_id``,
        ``role_session_name`` and ``duration_seconds``.
        """
        given = sorted(_AWS_KEYS & set(entry))
        if (kind, provider) not in _AWS_PROVIDERS:
            if given:
                raise self._error(f"{given[0]!r} is only for ec2, s3 and ecs targets", key)
            return None, (None,)
        settings: dict[str, Any] = {}
        for option in ("profile", "role_session_name", "role_name"):
            if option in entry:
                settings[option] = self._typed(entry[option], (str,), "a string", f"{key}.{option}")
        if "role_arn" in entry:
            arn = self._typed(entry["role_arn"], (str,), "a string", f"{key}.role_arn")
            if not _ROLE_ARN.match(arn):
                raise self._error(f"{arn!r} is not an IAM role ARN", f"{key}.role_arn")
            settings["role_arn"] = arn
        accounts: tuple[str | None, ...] = (None,)
        if "accounts" in entry:
            listed = self._typed(entry["accounts"], (list,), "an array", f"{key}.accounts")
            for index, account in enumerate(listed):
                where = f"{key}.accounts[{index}]"
                if not _ACCOUNT_ID.match(self._typed(account, (str,), "a string", where)):
                    raise self._error("an AWS account id is twelve digits", where)
            if not listed or len(set(listed)) != len(listed):
                raise self._error("must list accounts, each once", f"{key}.accounts")
            accounts = tuple(listed)
        if ("accounts" in entry) != ("role_name" in entry):
            raise self._error("give 'accounts' and 'role_name' together", key)
        if "accounts" in entry and "role_arn" in entry:
            raise self._error("give 'role_arn' or 'accounts', not both", key)
        role = "role_arn" in entry or "accounts" in entry
        role_only = sorted({"external_id", "external_id_env", "role_session_name"} & set(entry))
        if "duration_seconds" in entry:
            duration = self._typed(
                entry["duration_seconds"], (int,), "an integer", f"{key}.duration_seconds"
            )
            if not 900 <= duration <= 43200:
                raise self._error("must be 900 to 43200", f"{key}.duration_seconds")
            settings["duration_seconds"] = duration
            role_only.append("duration_seconds")
        if role_only and not role:
            raise self._error(f"{role_only[0]!r} needs 'role_arn' or 'accounts'", key)
        external_id = self._secret(entry, "external_id", key)
        return (
            AWSCredentialSettings(
                self._environ,
                external_id=external_id,
                session_name=settings.pop("role_session_name", None),
                **settings,
            ),
            accounts,
        )

    def _kubernetes(
        self, entry: Mapping[str, Any], key: str
    ) -> tuple[str, Mapping[str, Any]] | None:
        """
        How a Kubernetes target without ``host``, ``key`` or ``secret`` is
        built: from kubeconfig files as kubectl reads them (``context``,
        ``kubeconfig``), or from the pod's service account (``in_cluster``).
        """
        if {"host", "key", "key_env", "secret", "secret_env"} & set(entry):
            return None
        in_cluster = self._typed(
            entry.get("in_cluster", False), (bool,), "a boolean", f"{key}.in_cluster"
        )
        settings: dict[str, Any] = {"environ": self._environ}
        if in_cluster:
            if {"context", "kubeconfig"} & set(entry):
                raise self._error("give in_cluster, or context and kubeconfig, not both", key)
            return "ex_from_in_cluster", settings
        if "context" in entry:
            settings["context"] = self._typed(
                entry["context"], (str,), "a string", f"{key}.context"
            )
        if "kubeconfig" in entry:
            path = self._typed(entry["kubeconfig"], (str,), "a string", f"{key}.kubeconfig")
            settings["path"] = os.path.expanduser(path)
        return "ex_from_kubeconfig", settings

    def _default_credentials(
        self, kind: str, provider: str, entry: Mapping[str, Any], key: str
    ) -> dict[str, Any]:
        """
        ``credentials = "default"``: the driver finds its credentials in this
        environment, as Google's, Azure's and OpenStack's own tools do.
        """
        value = self._typed(entry["credentials"], (str,), "a string", f"{key}.credentials")
        excluded = _DEFAULT_CREDENTIALS.get((kind, provider))
        if excluded is None:
            raise self._error(
                "is only for google_storage, azure_blobs and openstack targets",
                f"{key}.credentials",
            )
        if value != "default":
            raise self._error(f"must be 'default', not {value!r}", f"{key}.credentials")
        given = sorted(excluded & set(entry))
        if given:
            raise self._error(f"give credentials = 'default' or {given[0]!r}, not both", key)
        return {"ex_environ": self._environ}

    def _secret(self, entry: Mapping[str, Any], field: str, key: str) -> str | None:
        """The value of *field*, given inline or as ``{field}_env``, the name of a variable."""
        variable_field = f"{field}_env"
        if field in entry and variable_field in entry:
            raise self._error(f"give {field!r} or {variable_field!r}, not both", key)
        if field in entry:
            value: str = self._typed(entry[field], (str,), "a string", f"{key}.{field}")
            return value
        if variable_field not in entry:
            return None
        variable = self._typed(entry[variable_field], (str,), "a string", f"{key}.{variable_field}")
        if variable not in self._environ:
            raise self._error(
                f"environment variable {variable!r} is not set", f"{key}.{variable_field}"
            )
        return self._environ[variable]

    def _proxy(self, url: str, key: str) -> str:
        if url:
            try:
                parse_proxy_url(url)
            except InvalidArgumentError as e:
                # The message shows the URL without its credentials.
                raise self._error(e.message, key) from None
        return url

    def _options(self, value: Any, key: str) -> dict[str, Any]:
        options: dict[str, Any] = self._typed(value, (dict,), "a table", key)
        reserved = sorted(set(options) & _RESERVED_OPTIONS)
        if reserved:
            raise self._error(
                f"{reserved[0]!r} cannot be an option; it has its own key or is set by txcloud",
                key,
            )
        return options

    def _regions(self, entry: Mapping[str, Any], key: str) -> list[str | None]:
        if "region" in entry and "regions" in entry:
            raise self._error("give 'region' or 'regions', not both", key)
        if "region" in entry:
            return [self._name(entry["region"], f"{key}.region")]
        if "regions" not in entry:
            return [None]
        listed = self._typed(entry["regions"], (list,), "an array of strings", f"{key}.regions")
        if not listed:
            raise self._error("must not be empty", f"{key}.regions")
        regions: list[str | None] = [
            self._name(region, f"{key}.regions[{index}]") for index, region in enumerate(listed)
        ]
        if len(set(regions)) != len(regions):
            raise self._error("lists a region twice", f"{key}.regions")
        return regions
