"""
Credential providers built from a profile of the shared files, as the AWS
SDKs build them.

In a profile, the first of these that applies gives the credentials:

1. ``role_arn`` with ``source_profile`` (a chain of profiles: a loop is an
   error, though a profile holding keys may name itself) or
   ``credential_source`` (``Environment``, ``Ec2InstanceMetadata``,
   ``EcsContainer``), with ``external_id``, ``role_session_name`` and
   ``duration_seconds``: :class:`~txcloud.auth.aws.sts.AssumeRole`;
2. ``role_arn`` with ``web_identity_token_file``:
   :class:`~txcloud.auth.aws.sts.AssumeRoleWithWebIdentity`;
3. ``sso_account_id`` and ``sso_role_name`` with ``sso_session`` (or the
   legacy ``sso_start_url`` and ``sso_region``):
   :class:`~txcloud.auth.aws.sso.SSOCredentials`;
4. ``aws_access_key_id`` and ``aws_secret_access_key`` (and
   ``aws_session_token``) in the credentials file;
5. ``credential_process``: :class:`~txcloud.auth.aws.process.ProcessCredentials`;
6. the same keys in the config file.

Every problem found in the files (a missing profile, a loop, a role with
no source) raises :class:`~txcloud.errors.InvalidCredsError` at once,
before any request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from txcloud.auth.aws.credentials import (
    FILE_ACCESS_KEY_ID,
    FILE_SECRET_ACCESS_KEY,
    FILE_SESSION_TOKEN,
    AWSCredentials,
    key_pair,
)
from txcloud.auth.aws.endpoints import configured_endpoint
from txcloud.auth.aws.metadata import ContainerCredentials, InstanceMetadataCredentials
from txcloud.auth.aws.process import ProcessCredentials
from txcloud.auth.aws.providers import (
    CredentialsProvider,
    StaticCredentials,
    environment_credentials,
    shared,
)
from txcloud.auth.aws.shared_config import SharedConfig, load_shared_config, profile_name
from txcloud.auth.aws.sso import SSOCredentials
from txcloud.auth.aws.sts import AssumeRole, AssumeRoleWithWebIdentity, STSSettings
from txcloud.errors import InvalidArgumentError, InvalidCredsError, TxCloudError

__all__ = ["ProfileResolver", "profile_credentials"]


def profile_credentials(
    profile: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config: SharedConfig | None = None,
    reactor: Any = None,
    agent: Any = None,
) -> CredentialsProvider:
    """
    The provider a profile describes.

    :param profile: the profile's name; ``AWS_PROFILE``, else ``default``,
        when ``None``.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param config: the shared files, if already read.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for every request the providers send (tests).
    :returns: the (shared) provider.
    :raises InvalidCredsError: for a missing profile, one that gives no
        credentials, or any inconsistency in it.
    """
    resolver = ProfileResolver(environ=environ, config=config, reactor=reactor, agent=agent)
    name = profile_name(resolver.environ, profile)
    found = resolver.provider(name)
    if found is None:
        raise InvalidCredsError(f"{resolver.config.where(name)} holds no credentials")
    return found


class ProfileResolver:
    """
    Builds the providers profiles describe, from one reading of the files.

    :param environ: the environment; :data:`os.environ` when ``None``.
    :param config: the shared files, read from *environ* when ``None``.
    :param reactor: the reactor; the global one when ``None``.
    :param agent: an ``IAgent`` for every request the providers send (tests).
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        config: SharedConfig | None = None,
        reactor: Any = None,
        agent: Any = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.config = config if config is not None else load_shared_config(self.environ)
        self.reactor = reactor
        self.agent = agent

    def provider(self, name: str) -> CredentialsProvider | None:
        """
        The provider profile *name* describes, or ``None`` when it describes
        none.

        :raises InvalidCredsError: when the profile is missing or inconsistent.
        """
        return self._provider(name, ())

    def _provider(self, name: str, visited: tuple[str, ...]) -> CredentialsProvider | None:
        if not self.config.has_profile(name):
            via = f" (named by profile {visited[-1]!r})" if visited else ""
            raise InvalidCredsError(
                f"the AWS profile {name!r} was not found{via} in {self._files()}"
            )
        settings = self.config.profile(name)
        try:
            if settings.get("role_arn"):
                return shared(self._role(name, settings, visited))
            sso = self._sso(name, settings)
            if sso is not None:
                return shared(sso)
            return self._keys_or_process(name)
        except InvalidArgumentError as error:
            raise InvalidCredsError(f"profile {name!r}: {error.message}") from None

    def _files(self) -> str:
        return f"{self.config.config_file} and {self.config.credentials_file}"

    def _keys(self, name: str, section: Mapping[str, str], path: str) -> StaticCredentials | None:
        where = f"profile {name!r} of {path}"
        pair = key_pair(section, FILE_ACCESS_KEY_ID, FILE_SECRET_ACCESS_KEY, where)
        if pair is None:
            return None
        try:
            credentials = AWSCredentials(*pair, section.get(FILE_SESSION_TOKEN) or None)
        except TxCloudError as error:
            raise InvalidCredsError(f"profile {name!r} of {path}: {error.message}") from None
        return StaticCredentials(credentials, where)

    def _keys_or_process(self, name: str) -> CredentialsProvider | None:
        config = self.config
        found = self._keys(name, config.credentials_profiles.get(name, {}), config.credentials_file)
        if found is not None:
            return found
        command = config.profile(name).get("credential_process")
        if command:
            return shared(
                ProcessCredentials(command, name, environ=self.environ, reactor=self.reactor)
            )
        return self._keys(name, config.config_profiles.get(name, {}), config.config_file)

    def _sts(self, name: str) -> STSSettings:
        return STSSettings.from_environment(
            self.environ, profile=name, config=self.config, agent=self.agent
        )

    def _role(
        self, name: str, settings: Mapping[str, str], visited: tuple[str, ...]
    ) -> CredentialsProvider:
        role_arn = settings["role_arn"]
        session_name = settings.get("role_session_name") or None
        duration = _duration(settings.get("duration_seconds"))
        source_profile = settings.get("source_profile")
        credential_source = settings.get("credential_source")
        token_file = settings.get("web_identity_token_file")
        if settings.get("mfa_serial"):
            raise InvalidCredsError(
                f"profile {name!r} asks for an MFA code (mfa_serial): txcloud cannot prompt for it"
            )
        if source_profile and credential_source:
            raise InvalidCredsError(
                f"profile {name!r} gives both source_profile and credential_source"
            )
        if not source_profile and not credential_source:
            if token_file:
                return AssumeRoleWithWebIdentity(
                    role_arn,
                    token_file,
                    session_name,
                    duration,
                    sts=self._sts(name),
                    reactor=self.reactor,
                )
            raise InvalidCredsError(
                f"profile {name!r} has a role_arn but no source_profile, credential_source "
                "or web_identity_token_file"
            )
        if source_profile:
            source = self._source_profile(name, source_profile, visited)
        else:
            source = self._credential_source(name, credential_source or "")
        return AssumeRole(
            role_arn,
            source,
            external_id=settings.get("external_id") or None,
            session_name=session_name,
            duration_seconds=duration,
            sts=self._sts(name),
            reactor=self.reactor,
        )

    def _source_profile(
        self, name: str, source: str, visited: tuple[str, ...]
    ) -> CredentialsProvider:
        chain = (*visited, name)
        if source == name:
            # A profile may be its own source when it holds keys.
            found = self._keys_or_process(name)
            if found is None:
                raise InvalidCredsError(
                    f"profile {name!r} is its own source_profile but holds no keys"
                )
            return found
        if source in chain:
            loop = " -> ".join((*chain, source))
            raise InvalidCredsError(f"the AWS profiles' source_profile settings loop: {loop}")
        found = self._provider(source, chain)
        if found is None:
            raise InvalidCredsError(
                f"profile {source!r}, the source_profile of {name!r}, holds no credentials"
            )
        return found

    def _credential_source(self, name: str, source: str) -> CredentialsProvider:
        if source == "Environment":
            found = environment_credentials(self.environ)
            if found is None:
                raise InvalidCredsError(
                    f"profile {name!r} takes its source credentials from the environment, "
                    "but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
                )
            return found
        if source == "Ec2InstanceMetadata":
            return shared(
                InstanceMetadataCredentials(
                    environ=self.environ, reactor=self.reactor, agent=self.agent
                )
            )
        if source == "EcsContainer":
            return shared(
                ContainerCredentials(environ=self.environ, reactor=self.reactor, agent=self.agent)
            )
        raise InvalidCredsError(
            f"profile {name!r} has an unknown credential_source {source!r} (Environment, "
            "Ec2InstanceMetadata or EcsContainer)"
        )

    def _sso(self, name: str, settings: Mapping[str, str]) -> SSOCredentials | None:
        account, role = settings.get("sso_account_id"), settings.get("sso_role_name")
        session_name = settings.get("sso_session")
        if not (account or role or session_name or settings.get("sso_start_url")):
            return None
        session: Mapping[str, str] = settings
        if session_name:
            if session_name not in self.config.sso_sessions:
                raise InvalidCredsError(
                    f"profile {name!r} names sso-session {session_name!r}, which "
                    f"{self.config.config_file} does not have"
                )
            session = self.config.sso_sessions[session_name]
        start_url, region = session.get("sso_start_url"), session.get("sso_region")
        if not (account and role and start_url and region):
            raise InvalidCredsError(
                f"profile {name!r} is an SSO profile without sso_account_id, sso_role_name, "
                "sso_start_url and sso_region"
            )
        portal = configured_endpoint("SSO", self.environ, self.config, settings)
        return SSOCredentials(
            start_url,
            region,
            account,
            role,
            session_name=session_name or None,
            endpoint=portal.url if portal is not None else None,
            environ=self.environ,
            reactor=self.reactor,
            agent=self.agent,
        )


def _duration(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidCredsError(
            f"duration_seconds must be a number of seconds, not {text!r}"
        ) from None
