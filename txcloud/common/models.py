"""
What every model shares: a driver back-reference, equality by identity
fields, and a short ``repr`` that leaves out ``extra`` and anything secret.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar


def _shown_value(value: Any) -> Any:
    # Show enum members by their Libcloud string value ("running").
    return value.value if isinstance(value, Enum) else value


class Model:
    """
    Mixin for txcloud's model classes.

    Subclasses name the fields that identify an instance in ``_identity``
    (compared together with the driver's provider) and the fields shown by
    ``repr`` in ``_shown``.
    """

    _identity: ClassVar[tuple[str, ...]] = ("id",)
    _shown: ClassVar[tuple[str, ...]] = ("id", "name")
    driver: Any

    def _key(self) -> tuple[Any, ...]:
        provider = getattr(self.driver, "type", None)
        return (type(self).__name__, provider, *tuple(getattr(self, f) for f in self._identity))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={_shown_value(getattr(self, f))!r}" for f in self._shown)
        provider = getattr(self.driver, "type", None)
        shown_provider = None if provider is None else str(provider)
        return f"<{type(self).__name__}: {fields}, provider={shown_provider!r}>"
