"""
A provider registry that imports driver modules only when asked.

Each service (compute, storage, container) keeps one :class:`DriverRegistry`
mapping a provider constant to ``(module path, class name)``; nothing is
imported until :meth:`DriverRegistry.get_driver` is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import Generic, TypeVar

from txcloud.errors import ProviderNotSupportedError

_D = TypeVar("_D")


class DriverRegistry(Generic[_D]):
    """
    Lazily imported drivers of one service.

    :param service: the service's name, for error messages.
    :param drivers: provider constant to ``(module, class name)``.
    """

    def __init__(self, service: str, drivers: dict[str, tuple[str, str]]) -> None:
        self._service = service
        self._drivers = dict(drivers)

    def get_driver(self, provider: str) -> type[_D]:
        """
        Import and return the driver class for *provider*.

        :raises ProviderNotSupportedError: if no driver is registered for it.
        """
        try:
            module_name, class_name = self._drivers[provider]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._drivers))
            raise ProviderNotSupportedError(
                f"No {self._service} driver for provider {provider!r}; known: {known}"
            ) from None
        cls: type[_D] = getattr(import_module(module_name), class_name)
        return cls

    def set_driver(self, provider: str, module: str, class_name: str) -> None:
        """Register (or replace) the driver for *provider*, for third-party drivers."""
        self._drivers[provider] = (module, class_name)

    def providers(self) -> list[str]:
        """The provider constants that have a driver."""
        return sorted(self._drivers)
