"""
One exception hierarchy for every txcloud driver.

Every error carries what a user needs to act on it (the HTTP status, the
provider's error code and message, the request id and the driver's name) and
never a credential.  The names follow Apache Libcloud's so that ``except``
clauses carry over; :class:`LibcloudError` is an alias of
:class:`TxCloudError` for code migrating from Libcloud.
"""

from __future__ import annotations

from typing import Any


def _driver_name(driver: Any) -> str | None:
    if driver is None:
        return None
    if isinstance(driver, str):
        return driver
    return getattr(driver, "name", None) or type(driver).__name__


class TxCloudError(Exception):
    """
    Base class of every error raised by txcloud.

    :param message: what went wrong, for a person.
    :param driver: the driver (or its name) that raised the error; only its
        name is kept, so no credential travels with the error.
    :param status: the HTTP status of the response, if there was one.
    :param code: the provider's own error code (``"NoSuchBucket"``...).
    :param request_id: the provider's request id, to quote to its support.
    """

    def __init__(
        self,
        message: str = "",
        driver: Any = None,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.driver_name = _driver_name(driver)
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        details = [
            f"{label}={value}"
            for label, value in (
                ("driver", self.driver_name),
                ("status", self.status),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        if not details:
            return self.message
        return f"{self.message} ({', '.join(details)})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"


#: Alias for code migrating from Apache Libcloud.
LibcloudError = TxCloudError


class InvalidArgumentError(TxCloudError, ValueError):
    """An argument was refused before any request was sent."""


class ConfigError(InvalidArgumentError):
    """
    A configuration file was refused; the message names the file and key, never a secret.

    :param problem: what is wrong with the value.
    :param source: the file the value came from.
    :param key: the value's key path (``"compute[0].provider"``), if one value is at fault.
    """

    def __init__(self, problem: str, *, source: str, key: str | None = None) -> None:
        where = source if key is None else f"{source}: {key}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.key = key


class ProviderNotSupportedError(TxCloudError, LookupError):
    """``get_driver`` was asked for a provider txcloud does not know."""


class ProviderError(TxCloudError):
    """The provider answered with an HTTP error txcloud has no finer type for."""


class InvalidRequestError(ProviderError):
    """
    The provider refused a request as invalid: a parameter it does not accept,
    or a resource in a state that does not allow the action.
    """


class InvalidCredsError(ProviderError):
    """The credentials were refused (HTTP 401/403 or the provider's code)."""


class PermissionDeniedError(InvalidCredsError):
    """The credentials were accepted but do not allow the request (HTTP 403)."""


class ResourceConflictError(InvalidRequestError):
    """
    The request conflicts with the resource as it is (HTTP 409): it already
    exists, or it changed since it was read.
    """


class ExpiredPageTokenError(InvalidRequestError):
    """
    A listing's continuation token has expired (Kubernetes answers 410 Gone):
    start the listing again.
    """


class RateLimitReached(ProviderError):
    """
    The provider throttled the request.

    :ivar retry_after: seconds the provider asked us to wait, if it said.
    """

    def __init__(
        self, message: str = "", driver: Any = None, *, retry_after: float | None = None, **kw: Any
    ) -> None:
        super().__init__(message, driver, **kw)
        self.retry_after = retry_after


class QuotaExceededError(ProviderError):
    """
    The request would take the account, subscription or project over one of
    its quotas (cores, addresses...: Google's ``quotaExceeded``, Azure's
    ``QuotaExceeded``); it is not retried, as waiting does not help.
    """


class ServiceUnavailableError(ProviderError):
    """The service failed or was unavailable (HTTP 500, 502, 503, 504)."""


class MalformedResponseError(TxCloudError):
    """A response could not be parsed, or was refused as hostile."""


class NetworkError(TxCloudError):
    """The connection failed before a response arrived."""


class RequestTimeoutError(NetworkError):
    """No answer came within the timeout."""


class TLSVerificationError(NetworkError):
    """The server's TLS certificate could not be verified."""


class ProxyError(NetworkError):
    """
    The HTTP proxy could not be reached, refused the request or the
    ``CONNECT`` tunnel, or closed the connection before answering.

    :ivar proxy: ``host:port`` of the proxy (never its credentials).
    """

    def __init__(
        self, message: str = "", driver: Any = None, *, proxy: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, driver, **kw)
        self.proxy = proxy


class ProxyAuthenticationError(ProxyError):
    """The proxy refused its credentials, or asked for some (HTTP 407, or 401)."""


class ProxyTimeoutError(ProxyError, RequestTimeoutError):
    """The proxy did not accept the connection, or answer ``CONNECT``, within the timeout."""


# Compute


class NodeError(TxCloudError):
    """An error about one compute node."""


class NodeNotFoundError(NodeError):
    """The node does not exist."""


class KeyPairError(TxCloudError):
    """An error about one key pair."""


class KeyPairDoesNotExistError(KeyPairError):
    """The key pair does not exist."""


class KeyPairAlreadyExistsError(KeyPairError):
    """A key pair with that name already exists."""


class DeploymentError(NodeError):
    """
    A deployment step failed on a node: it exited non-zero, timed out, or
    could not connect (a refused host key, a refused login).  Later steps
    did not run.

    :ivar node: the node deployed to.
    :ivar step: the step that failed (a
        :class:`~txcloud.compute.deployment.Deployment`); its output, if it
        ran, is kept on it (``stdout``, ``stderr``, ``exit_status``).
    :ivar reason: what went wrong underneath, as text.
    """

    def __init__(
        self, message: str, driver: Any = None, *, node: Any, step: Any, reason: str, **kw: Any
    ) -> None:
        super().__init__(message, driver, **kw)
        self.node = node
        self.step = step
        self.reason = reason


class ImageNotFoundError(ProviderError):
    """The node image does not exist (a provider error, as before it had a type of its own)."""


class VolumeError(TxCloudError):
    """An error about one block-storage volume or snapshot."""


class VolumeNotFoundError(VolumeError):
    """The volume or snapshot does not exist."""


# Storage


class ContainerError(TxCloudError):
    """
    An error about one storage container.

    :ivar container_name: the container's name.
    """

    def __init__(
        self, message: str = "", driver: Any = None, *, container_name: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, driver, **kw)
        self.container_name = container_name


class ContainerDoesNotExistError(ContainerError):
    """The container does not exist."""


class ContainerAlreadyExistsError(ContainerError):
    """A container with that name already exists."""


class ContainerIsNotEmptyError(ContainerError):
    """The container still holds objects and cannot be deleted."""


class InvalidContainerNameError(ContainerError, InvalidArgumentError):
    """The container name is not allowed by the provider."""


class ObjectError(TxCloudError):
    """
    An error about one storage object.

    :ivar object_name: the object's name.
    """

    def __init__(
        self, message: str = "", driver: Any = None, *, object_name: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, driver, **kw)
        self.object_name = object_name


class ObjectDoesNotExistError(ObjectError):
    """The object does not exist."""


class ObjectHashMismatchError(ObjectError):
    """The data's checksum does not match what the provider reported."""


class InvalidObjectNameError(ObjectError, InvalidArgumentError):
    """The object name is not allowed (empty, absolute, or escaping its container)."""


# Containers (Docker, Kubernetes, ECS...)


class ContainerNotFoundError(TxCloudError):
    """The (Docker-style) container does not exist."""


class ClusterNotFoundError(TxCloudError):
    """The container cluster does not exist."""


class ContainerImageNotFoundError(TxCloudError):
    """The container image does not exist (on the engine, or in the registry it is pulled from)."""


class UnsupportedAPIVersionError(TxCloudError):
    """The service speaks only API versions this driver does not support."""


class ClusterAlreadyExistsError(ResourceConflictError):
    """A container cluster (a Kubernetes namespace) with that name already exists."""
