"""
The default credential chain: where a driver given no keys and no provider
finds credentials, in the AWS SDKs' (botocore's) order.

1. the environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
   ``AWS_SESSION_TOKEN`` (skipped when a profile is named explicitly);
2. the profile (named, else ``AWS_PROFILE``, else ``default``) if it is a
   role with ``source_profile`` or ``credential_source``;
3. web identity: the profile's ``role_arn`` + ``web_identity_token_file``,
   else ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE`` (+
   ``AWS_ROLE_SESSION_NAME``);
4. the profile's SSO settings, keys or ``credential_process``;
5. container credentials (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` or
   ``..._FULL_URI``);
6. the EC2 instance metadata service (IMDSv2), unless
   ``AWS_EC2_METADATA_DISABLED=true``.

Everything but the last is decided from the environment and the files
when the chain is built; the metadata service is asked on the first
``get()``.  When it does not answer either, the error lists every place
looked.  A profile named explicitly must exist.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import Any

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.metadata import (
    ContainerCredentials,
    InstanceMetadataCredentials,
    imds_disabled,
)
from txcloud.auth.aws.profiles import ProfileResolver
from txcloud.auth.aws.providers import (
    CredentialsProvider,
    RefreshingProvider,
    StaticCredentials,
    as_provider,
    environment_credentials,
    shared,
)
from txcloud.auth.aws.shared_config import SharedConfig, profile_name
from txcloud.auth.aws.sts import AssumeRoleWithWebIdentity, STSSettings
from txcloud.errors import InvalidArgumentError, InvalidCredsError

__all__ = ["credentials_for", "default_credentials"]


def default_credentials(
    profile: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config: SharedConfig | None = None,
    reactor: Any = None,
    agent: Any = None,
) -> CredentialsProvider:
    """
    The first source of the default chain that is configured.

    :param profile: a profile named explicitly (``ex_profile``): it must
        exist, and the environment's keys are skipped.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param config: the shared files, if already read.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for every request the providers send (tests).
    :returns: a (shared) provider.
    :raises InvalidCredsError: for a malformed source (a missing named
        profile, a loop, half a key pair...), or when nothing is configured
        and the metadata service is disabled: the message lists every place
        looked.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    resolver = ProfileResolver(environ=env, config=config, reactor=reactor, agent=agent)
    name = profile_name(env, profile)
    looked: list[str] = []
    if profile is None:
        found = environment_credentials(env)
        if found is not None:
            return found
        looked.append("the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    # A profile named by argument or AWS_PROFILE must exist; "default" may not.
    named = profile is not None or name != profile_name({})
    if named and not resolver.config.has_profile(name):
        raise InvalidCredsError(
            f"the AWS profile {name!r} was not found: looked in {resolver.config.where(name)}"
        )
    settings = resolver.config.profile(name)
    if settings.get("role_arn") and not settings.get("web_identity_token_file"):
        return _found(resolver.provider(name))
    looked.append(resolver.config.where(name))
    if settings.get("role_arn") and settings.get("web_identity_token_file"):
        return _found(resolver.provider(name))
    role_arn, token_file = env.get("AWS_ROLE_ARN"), env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    if role_arn and token_file:
        return shared(
            AssumeRoleWithWebIdentity(
                role_arn,
                token_file,
                env.get("AWS_ROLE_SESSION_NAME") or None,
                sts=STSSettings.from_environment(env, config=resolver.config, agent=agent),
                reactor=reactor,
            )
        )
    looked.append("AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE")
    if resolver.config.has_profile(name):
        found_in_profile = resolver.provider(name)
        if found_in_profile is not None:
            return found_in_profile
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    ):
        return shared(ContainerCredentials(environ=env, reactor=reactor, agent=agent))
    looked.append("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if imds_disabled(env):
        looked.append("not the EC2 instance metadata service (AWS_EC2_METADATA_DISABLED)")
        raise InvalidCredsError(_nothing_found(looked))
    metadata = InstanceMetadataCredentials(environ=env, reactor=reactor, agent=agent)
    looked.append(metadata.description)
    return shared(_LastResort(metadata, _nothing_found(looked)))


def _found(provider: CredentialsProvider | None) -> CredentialsProvider:
    assert provider is not None  # a role profile always gives a provider
    return provider


def _nothing_found(looked: list[str]) -> str:
    return "no AWS credentials found; looked in " + "; ".join(looked)


class _LastResort(RefreshingProvider):
    """The metadata service at the end of the chain: its failure lists every place looked."""

    def __init__(self, metadata: InstanceMetadataCredentials, not_found: str) -> None:
        super().__init__(metadata.reactor, *metadata._windows)
        self.metadata = shared(metadata)
        self.not_found = not_found
        self.description = metadata.description

    def _identity(self) -> Hashable:
        return (self.metadata, self.not_found)

    async def _fetch(self) -> AWSCredentials:
        try:
            return await self.metadata.get()
        except InvalidCredsError as error:
            raise InvalidCredsError(f"{self.not_found} ({error.message})") from None


def credentials_for(
    key: str | None = None,
    secret: str | None = None,
    token: str | None = None,
    *,
    profile: str | None = None,
    credentials: CredentialsProvider | AWSCredentials | None = None,
    environ: Mapping[str, str] | None = None,
    config: SharedConfig | None = None,
    reactor: Any = None,
    agent: Any = None,
) -> CredentialsProvider:
    """
    The provider for a driver's arguments: *credentials* if given, else the
    *key*/*secret*/*token* given, else the default chain (for *profile*;
    given with *credentials*, the profile serves only for settings).

    :param credentials: a provider, or fixed :class:`AWSCredentials`.
    :returns: the (shared) provider.
    :raises InvalidArgumentError: for *credentials* together with keys, or of
        the wrong type.
    :raises InvalidCredsError: for half a key pair, or what
        :func:`default_credentials` raises.
    """
    if credentials is not None:
        if key is not None or secret is not None or token is not None:
            raise InvalidArgumentError(
                "give AWS credentials as a provider or as key/secret/token, not both"
            )
        return shared(as_provider(credentials))
    if key is not None or secret is not None or token is not None:
        if key is None or secret is None:
            raise InvalidCredsError(
                "incomplete AWS credentials in the arguments: "
                "an access key id and a secret access key must be given together"
            )
        return StaticCredentials(AWSCredentials(key, secret, token), "the key/secret arguments")
    return default_credentials(
        profile, environ=environ, config=config, reactor=reactor, agent=agent
    )
