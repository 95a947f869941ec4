"""
AWS credential providers: objects whose ``get()`` returns a Deferred of the
current :class:`~txcloud.auth.aws.credentials.AWSCredentials`.

* :class:`CredentialsProvider` is the contract every source fulfils;
* :class:`StaticCredentials` hands out fixed keys (arguments, the
  environment, a profile's keys);
* :class:`RefreshingProvider` is the base of sources of temporary
  credentials (roles, instance and container credentials, processes, SSO):
  it caches them and fetches the next ones before they expire, through
  :class:`~txcloud.auth.refresh.Refreshing`;
* :func:`shared` gives back the one provider equal to the one given, so
  every driver built from the same source shares its cache and its
  refreshes (sixteen regional drivers of one role make one STS call).

Providers compare equal when they describe the same source; ``repr`` and
:attr:`~CredentialsProvider.description` say where credentials come from,
never what they are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from txcloud.auth.aws.credentials import (
    ENV_ACCESS_KEY_ID,
    ENV_SECRET_ACCESS_KEY,
    ENV_SESSION_TOKEN,
    AWSCredentials,
    environment_keys,
)
from txcloud.auth.refresh import (
    DEFAULT_ADVISORY_WINDOW,
    DEFAULT_MANDATORY_WINDOW,
    Expiring,
    Refreshing,
)
from txcloud.auth.sources import shared_source
from txcloud.errors import InvalidArgumentError

__all__ = [
    "ENV_ACCESS_KEY_ID",
    "ENV_SECRET_ACCESS_KEY",
    "ENV_SESSION_TOKEN",
    "CredentialsProvider",
    "RefreshingProvider",
    "StaticCredentials",
    "as_provider",
    "environment_credentials",
    "shared",
]

_P = TypeVar("_P", bound="CredentialsProvider")


@runtime_checkable
class CredentialsProvider(Protocol):
    """
    Where a driver gets the AWS credentials it signs with.

    A provider is hashable and compares equal to another describing the
    same source, so :func:`shared` can hand one instance to every driver.
    """

    #: Where the credentials come from, for messages (never a secret).
    description: str

    def get(self) -> Deferred[AWSCredentials]:
        """
        The current credentials, fetched or refreshed first if need be.

        :returns: a Deferred firing with :class:`AWSCredentials`, or failing
            with :class:`~txcloud.errors.InvalidCredsError` when the source
            refuses or holds none (network failures keep their own types).
        """

    def fresh(self) -> AWSCredentials | None:
        """The credentials if they may be used without waiting, else ``None``."""


class StaticCredentials:
    """
    Credentials that never change: keys given as arguments, found in the
    environment or in a profile.

    :param credentials: the keys.
    :param description: where they came from (``"the key/secret
        arguments"``...), for messages.
    """

    def __init__(
        self, credentials: AWSCredentials, description: str = "the given credentials"
    ) -> None:
        if not isinstance(credentials, AWSCredentials):
            raise InvalidArgumentError(
                f"StaticCredentials needs AWSCredentials, not {type(credentials).__name__}"
            )
        self.credentials = credentials
        self.description = description

    def get(self) -> Deferred[AWSCredentials]:
        """The credentials, at once."""
        return succeed(self.credentials)

    def fresh(self) -> AWSCredentials:
        """The credentials."""
        return self.credentials

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticCredentials) and other.credentials == self.credentials

    def __hash__(self) -> int:
        return hash((StaticCredentials, self.credentials))

    def __repr__(self) -> str:
        return f"<StaticCredentials from {self.description} {self.credentials!r}>"


class RefreshingProvider:
    """
    Base of providers of temporary credentials.

    A subclass gives :meth:`_identity` (what makes two providers the same
    source), :attr:`description`, and :meth:`_fetch` (one fetch of new
    credentials, raising typed errors without secrets).  Credentials
    without an expiry are kept for good.

    :param reactor: the reactor whose clock decides when to refresh.
    :param advisory_window: seconds before expiry from which credentials
        are refreshed in the background.
    :param mandatory_window: seconds before expiry from which callers wait
        for new credentials.
    """

    description: str = "temporary credentials"
    log = Logger()

    def __init__(
        self,
        reactor: Any,
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
    ) -> None:
        self.reactor = _reactor(reactor)
        self._windows = (advisory_window, mandatory_window)
        self._cache: Refreshing[AWSCredentials] | None = None

    @property
    def _refreshing(self) -> Refreshing[AWSCredentials]:
        if self._cache is None:
            advisory, mandatory = self._windows
            self._cache = Refreshing(
                self._fetch_expiring,
                self.reactor,
                description=f"AWS credentials from {self.description}",
                advisory_window=advisory,
                mandatory_window=mandatory,
            )
        return self._cache

    def get(self) -> Deferred[AWSCredentials]:
        """
        The current credentials, fetched first when there are none yet or
        they are about to expire.

        :returns: a Deferred firing with :class:`AWSCredentials`.
        """
        return self._refreshing.get()

    def fresh(self) -> AWSCredentials | None:
        """The cached credentials if they may be used without waiting, else ``None``."""
        return self._refreshing.fresh()

    def invalidate(self) -> None:
        """Forget the cached credentials: the next :meth:`get` fetches new ones."""
        self._refreshing.invalidate()

    async def _fetch_expiring(self) -> Expiring[AWSCredentials]:
        credentials = await self._fetch()
        return Expiring(credentials, credentials.expires_at)

    async def _fetch(self) -> AWSCredentials:
        raise NotImplementedError

    def _identity(self) -> Hashable:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RefreshingProvider)
        return self.reactor is other.reactor and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((type(self), id(self.reactor), self._identity()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


def _reactor(reactor: Any) -> Any:
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        return global_reactor
    return reactor


def environment_credentials(environ: Mapping[str, str]) -> StaticCredentials | None:
    """
    The keys in ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
    ``AWS_SESSION_TOKEN``, if set.

    :param environ: the environment to read.
    :returns: a provider of those keys, or ``None`` when neither key is set.
    :raises InvalidCredsError: when only one of the two keys is set.
    """
    found = environment_keys(environ)
    return None if found is None else StaticCredentials(found, "the environment variables")


def as_provider(source: CredentialsProvider | AWSCredentials) -> CredentialsProvider:
    """
    *source* as a provider: credentials become :class:`StaticCredentials`.

    :raises InvalidArgumentError: for anything else.
    """
    if isinstance(source, AWSCredentials):
        return StaticCredentials(source)
    if isinstance(source, CredentialsProvider):
        return source
    raise InvalidArgumentError(
        f"AWS credentials come from a provider or AWSCredentials, not {type(source).__name__}"
    )


def shared(provider: _P) -> _P:
    """
    The provider equal to *provider* already in use, else *provider* itself.

    Drivers pass their provider through this, so drivers built from the same
    source of temporary credentials share one cache and one refresh in
    flight.  A provider is forgotten once nothing uses it; fixed
    credentials need no sharing and come back as given.
    """
    if not isinstance(provider, RefreshingProvider):
        return provider
    key = (type(provider), provider.reactor, provider._identity())
    return shared_source(key, lambda: provider)
