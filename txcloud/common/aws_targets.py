"""
Drivers for many AWS accounts in many regions, for :mod:`txcloud.multi`.

:func:`drivers_for_accounts` takes profiles and role ARNs (with
:func:`role_arns` for "this role in these accounts") and gives one driver
of any AWS service per account and region.  The drivers of one account
share one credentials provider, so each account costs one ``AssumeRole``
however many regions it spans, and every driver shares one connection
pool::

    targets = drivers_for_accounts(
        EC2NodeDriver,
        regions=["eu-west-1", "us-east-1"],
        roles=role_arns("inventory-reader", ["111111111111", "222222222222"]),
        external_id="tenant-42",
    )
    result = await multi.list_nodes(targets.drivers.values())
    for driver, nodes in result.results.items():
        account, region = targets.target_of(driver)
    await targets.close()

A role that cannot be assumed fails only its own drivers' calls (with
:class:`~txcloud.errors.InvalidCredsError` naming the role and where its
source credentials came from); the fan-out keeps every other result.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs
from twisted.internet.defer import Deferred, DeferredList

from txcloud.auth.aws.chain import credentials_for
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.providers import CredentialsProvider, shared
from txcloud.auth.aws.shared_config import load_shared_config
from txcloud.auth.aws.sts import AssumeRole, STSSettings
from txcloud.common.aws import AWSDriver
from txcloud.common.checks import check_text
from txcloud.errors import InvalidArgumentError

__all__ = ["AWSCredentialSettings", "AccountDrivers", "drivers_for_accounts", "role_arns"]

D = TypeVar("D", bound=AWSDriver)


def role_arns(role_name: str, account_ids: Iterable[str], partition: str = "aws") -> list[str]:
    """
    The ARNs of the role *role_name* in each account.

    :param role_name: the role's name, with its path if any (``ops/reader``).
    :param account_ids: twelve-digit account ids.
    :param partition: ``aws``, ``aws-cn`` or ``aws-us-gov``.
    :raises InvalidArgumentError: for an account id that is not twelve digits.
    """
    arns = []
    for account in account_ids:
        if not (isinstance(account, str) and len(account) == 12 and account.isdigit()):
            raise InvalidArgumentError(f"an AWS account id is twelve digits, not {account!r}")
        arns.append(f"arn:{partition}:iam::{account}:role/{role_name}")
    return arns


class AccountDrivers(Generic[D]):
    """
    The drivers :func:`drivers_for_accounts` made.

    :ivar drivers: each driver by ``(account, region)``; *account* is the
        profile name or role ARN it came from.
    """

    def __init__(self, drivers: dict[tuple[str, str], D]) -> None:
        self.drivers = drivers
        self._targets = {id(driver): target for target, driver in drivers.items()}

    def target_of(self, driver: object) -> tuple[str, str]:
        """
        The ``(account, region)`` of one of these drivers (as a fan-out's
        result keys them).

        :raises KeyError: for another driver.
        """
        return self._targets[id(driver)]

    def close(self) -> Deferred[None]:
        """Close every driver (the last driver of a default pool closes it)."""
        closing = DeferredList([driver.close() for driver in self.drivers.values()])
        return closing.addCallback(lambda _: None)


def drivers_for_accounts(
    driver_class: type[D],
    regions: Iterable[str],
    *,
    profiles: Iterable[str] = (),
    roles: Iterable[str] = (),
    source: CredentialsProvider | AWSCredentials | None = None,
    external_id: str | None = None,
    session_name: str | None = None,
    duration_seconds: int | None = None,
    sts: STSSettings | None = None,
    environ: Mapping[str, str] | None = None,
    reactor: Any = None,
    **kwargs: Any,
) -> AccountDrivers[D]:
    """
    One *driver_class* per account and region.

    :param driver_class: any AWS driver (``EC2NodeDriver``,
        ``S3StorageDriver``, ``ElasticContainerDriver``...).
    :param regions: the region names.
    :param profiles: profiles of the shared files, one account each (their
        credentials, roles included, and their endpoint settings).
    :param roles: role ARNs, one account each, assumed with *source*.
    :param source: what assumes *roles*: a provider or credentials; the
        default chain when ``None``.
    :param external_id: the external id *roles* ask for.
    :param session_name: the role sessions' name.
    :param duration_seconds: how long role credentials last.
    :param sts: where ``AssumeRole`` goes; from *environ* when ``None``.
    :param environ: the environment; :data:`os.environ` when ``None``.
    :param reactor: the drivers' reactor.
    :param kwargs: more arguments for every driver (``timeout``,
        ``ex_pool``...); without ``ex_pool`` the drivers share the reactor's
        default pool, as every driver does.
    :raises InvalidArgumentError: for no regions, no accounts, or a repeated one.
    :raises InvalidCredsError: for a profile that is missing or inconsistent.
    """
    wanted = [check_text(region, "each region") for region in regions]
    profile_names = [check_text(name, "each profile") for name in profiles]
    role_list = [check_text(arn, "each role ARN") for arn in roles]
    if not wanted:
        raise InvalidArgumentError("no regions to build drivers for")
    accounts = profile_names + role_list
    if not accounts:
        raise InvalidArgumentError("give profiles or role ARNs")
    if len(set(accounts)) != len(accounts) or len(set(wanted)) != len(wanted):
        raise InvalidArgumentError("an account or region is listed twice")
    env = os.environ if environ is None else environ
    config = load_shared_config(env)
    agent = kwargs.get("ex_agent")
    providers: list[tuple[str, CredentialsProvider, dict[str, Any]]] = []
    for name in profile_names:
        provider = credentials_for(
            profile=name, environ=env, config=config, reactor=reactor, agent=agent
        )
        providers.append((name, provider, {"ex_profile": name}))
    if role_list:
        base = credentials_for(
            credentials=source, environ=env, config=config, reactor=reactor, agent=agent
        )
        where = sts or STSSettings.from_environment(env, config=config, agent=agent)
        for arn in role_list:
            role = AssumeRole(
                arn,
                base,
                external_id,
                session_name,
                duration_seconds,
                sts=where,
                reactor=reactor,
            )
            providers.append((arn, shared(role), {}))
    drivers = {
        (account, region): driver_class(
            region=region,
            reactor=reactor,
            ex_credentials=provider,
            ex_environ=env,
            **extra,
            **kwargs,
        )
        for account, provider, extra in providers
        for region in wanted
    }
    return AccountDrivers(drivers)


@attrs.frozen(eq=False, repr=False)
class AWSCredentialSettings:
    """
    How one configured AWS target finds its credentials (the ``txcloud``
    configuration's ``profile``, ``role_arn``, ``accounts`` and ``role_name``
    keys); never shown, as it holds the external id.

    :ivar environ: the environment the configuration was read in.
    :ivar profile: the profile of the shared files: its credentials, or the
        source of the role when one is given; its region and endpoints.
    :ivar role_arn: the role every target of the entry assumes.
    :ivar role_name: the role assumed in each account of ``accounts``.
    """

    environ: Mapping[str, str]
    profile: str | None = None
    role_arn: str | None = None
    role_name: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    duration_seconds: int | None = None

    def driver_arguments(
        self,
        account: str | None,
        key: str | None,
        secret: str | None,
        *,
        reactor: Any = None,
        agent: Any = None,
    ) -> dict[str, Any]:
        """
        The driver's credential arguments for the target of *account*.

        Without a role: the *key*/*secret* given, else the profile or the
        default chain, as the driver finds them.  With one: an
        :class:`~txcloud.auth.aws.sts.AssumeRole` whose source is *key* and
        *secret*, else the profile, else the default chain; equal providers
        are shared by the drivers built from them, so each account's role is
        assumed once whatever the number of its regions.

        :param agent: an ``IAgent`` the driver and STS send through (tests).
        :raises InvalidCredsError: for a missing or inconsistent profile.
        """
        arguments: dict[str, Any] = {"ex_environ": self.environ}
        if self.profile is not None:
            arguments["ex_profile"] = self.profile
        role = self.role_arn
        if account is not None and self.role_name is not None:
            role = role_arns(self.role_name, [account])[0]
        if role is None:
            arguments.update(key=key, secret=secret)
            return arguments
        source = credentials_for(
            key, secret, profile=self.profile, environ=self.environ, reactor=reactor, agent=agent
        )
        sts = STSSettings.from_environment(self.environ, profile=self.profile, agent=agent)
        arguments["ex_credentials"] = AssumeRole(
            role,
            source,
            self.external_id,
            self.session_name,
            self.duration_seconds,
            sts=sts,
            environ=self.environ,
            reactor=reactor,
        )
        return arguments
