"""
Regions, endpoints and trust stores, resolved as the AWS SDKs resolve them.

* the region: the one given, else ``AWS_REGION``, ``AWS_DEFAULT_REGION``,
  the profile's ``region``, else ``us-east-1``;
* a service's endpoint: the host/port given to the driver, else
  ``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the service's
  ``endpoint_url`` in the profile's ``services`` section, the profile's
  ``endpoint_url``; none of these when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``
  (or the profile's ``ignore_configured_endpoint_urls``) is true; else the
  service's own regional endpoint;
* the trust store: ``AWS_CA_BUNDLE``, else the profile's ``ca_bundle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from txcloud.auth.aws.shared_config import SharedConfig, expand_home
from txcloud.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_REGION",
    "Endpoint",
    "ca_bundle",
    "configured_endpoint",
    "resolve_region",
    "sts_endpoint",
]

DEFAULT_REGION = "us-east-1"

_TRUE = ("true", "1", "yes", "on")


@attrs.frozen
class Endpoint:
    """
    Where a service is reached: what a driver's ``secure``, ``host`` and
    ``port`` say.

    :ivar url: ``scheme://host[:port]``.
    :ivar secure: HTTPS or plain HTTP.
    :ivar host: the host name or address.
    :ivar port: the port, if the URL names one.
    """

    url: str
    secure: bool
    host: str
    port: int | None

    @classmethod
    def from_url(cls, url: str, where: str) -> Endpoint:
        """
        Parse an endpoint URL.

        :param where: where the URL was configured, for the error.
        :raises InvalidArgumentError: for a URL that is not ``http(s)://host[:port]``.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise InvalidArgumentError(f"{where} is not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgumentError(f"{where} must be an http:// or https:// URL with a host")
        if parts.path not in ("", "/") or parts.query or parts.username:
            raise InvalidArgumentError(f"{where} must be scheme://host[:port] only")
        return cls(
            url=f"{parts.scheme}://{parts.netloc}",
            secure=parts.scheme == "https",
            host=parts.hostname,
            port=port,
        )


def resolve_region(
    region: str | None, environ: Mapping[str, str], profile: Mapping[str, str]
) -> str:
    """The region: *region*, else the environment's, else the profile's, else us-east-1."""
    return (
        region
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or profile.get("region")
        or DEFAULT_REGION
    )


def _ignored(environ: Mapping[str, str], profile: Mapping[str, str]) -> bool:
    flag = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if flag is None:
        flag = profile.get("ignore_configured_endpoint_urls", "")
    return flag.strip().lower() in _TRUE


def configured_endpoint(
    service_id: str,
    environ: Mapping[str, str],
    config: SharedConfig,
    profile: Mapping[str, str],
) -> Endpoint | None:
    """
    The endpoint configured for a service, if any.

    :param service_id: the service's id (``"EC2"``, ``"S3"``, ``"ECS"``,
        ``"STS"``...), as in ``AWS_ENDPOINT_URL_<SERVICE>``.
    :param profile: the profile's settings.
    :raises InvalidArgumentError: for a configured value that is no endpoint URL.
    """
    if _ignored(environ, profile):
        return None
    env_name = "AWS_ENDPOINT_URL_" + service_id.upper().replace(" ", "_")
    services = config.services.get(profile.get("services", ""), {})
    service_settings = services.get(service_id.lower().replace(" ", "_"), {})
    for where, url in (
        (env_name, environ.get(env_name)),
        ("AWS_ENDPOINT_URL", environ.get("AWS_ENDPOINT_URL")),
        (
            f"the {service_id.lower()} endpoint_url of the profile's services",
            service_settings.get("endpoint_url"),
        ),
        ("the profile's endpoint_url", profile.get("endpoint_url")),
    ):
        if url:
            return Endpoint.from_url(url, where)
    return None


def sts_endpoint(
    region: str,
    environ: Mapping[str, str],
    config: SharedConfig,
    profile: Mapping[str, str],
) -> str:
    """STS's URL: the configured one, else the regional ``https://sts.REGION.amazonaws.com``."""
    configured = configured_endpoint("STS", environ, config, profile)
    if configured is not None:
        return configured.url
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def ca_bundle(environ: Mapping[str, str], profile: Mapping[str, str]) -> str | None:
    """The CA bundle to trust: ``AWS_CA_BUNDLE``, else the profile's ``ca_bundle``."""
    path = environ.get("AWS_CA_BUNDLE") or profile.get("ca_bundle")
    return expand_home(path, environ) if path else None
