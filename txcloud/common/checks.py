"""
Checks of arguments that drivers of every service share (text, sizes,
counts), so that a bad value is refused the same way, with a typed error,
before any request.
"""

from __future__ import annotations

from txcloud.errors import InvalidArgumentError

__all__ = ["check_positive_integer", "check_text", "check_trimmed_text", "check_volume_size"]


def check_text(value: object, what: str) -> str:
    """
    *value* if it is a non-empty string.

    :param what: the argument's name, for the error.
    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty string, not {value!r}")
    return value


def check_trimmed_text(value: object, what: str) -> str:
    """
    *value* if it is a non-empty string without surrounding whitespace.

    :param what: the argument's name, for the error.
    :raises InvalidArgumentError: otherwise.
    """
    if not isinstance(value, str) or not value or value != value.strip():
        raise InvalidArgumentError(f"{what} must be a non-empty string, not {value!r}")
    return value


def check_positive_integer(value: object, what: str, unit: str | None = None) -> int:
    """
    *value* if it is a positive integer (not a boolean): a size, a count.

    :param what: the argument's name, for the error.
    :param unit: what it counts (``"GiB"``), for the error.
    :raises InvalidArgumentError: otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        of = f" of {unit}" if unit else ""
        raise InvalidArgumentError(f"{what} must be a positive integer{of}, not {value!r}")
    return value


def check_volume_size(size: object, maximum: int) -> int:
    """
    *size* if it is a volume size in GiB the provider makes: an integer
    (not a boolean) in 1..*maximum*.

    :raises InvalidArgumentError: otherwise.
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= maximum:
        raise InvalidArgumentError(f"size must be an integer of GiB in 1..{maximum}, not {size!r}")
    return size
