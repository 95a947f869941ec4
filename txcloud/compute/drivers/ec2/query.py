"""
Encode arguments as EC2 Query API parameters, refusing bad ones before
anything is sent.

The Query API spells lists and structures as numbered, dotted names:
``InstanceId.1``, ``Filter.1.Name``, ``Filter.1.Value.2``,
``BlockDeviceMapping.1.Ebs.VolumeSize``.  Indexes start at 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from txcloud.common.checks import check_text
from txcloud.errors import InvalidArgumentError

__all__ = [
    "Params",
    "check_tags",
    "check_text",
    "filter_params",
    "flatten",
    "indexed",
    "selection_params",
    "tag_specification",
    "text_list",
]

#: Query parameters as the driver builds them (ordered, text values).
Params = dict[str, str]


def text_list(values: object, what: str) -> list[str]:
    """
    A list of non-empty strings from a string or an iterable of them.

    :raises InvalidArgumentError: for anything else, or an empty list.
    """
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable) or isinstance(values, (bytes, Mapping)):
        raise InvalidArgumentError(f"{what} must be a list of strings, not {values!r}")
    checked = [check_text(value, f"each of {what}") for value in values]
    if not checked:
        raise InvalidArgumentError(f"{what} must not be empty")
    return checked


def indexed(prefix: str, values: Iterable[str]) -> Params:
    """``{"Prefix.1": first, "Prefix.2": second, ...}``."""
    return {f"{prefix}.{number}": value for number, value in enumerate(values, 1)}


def filter_params(filters: object) -> Params:
    """
    ``Filter.N.Name`` / ``Filter.N.Value.M`` parameters from a mapping of
    filter names to a value or a list of values
    (``{"instance-state-name": ["running", "stopped"]}``).

    :raises InvalidArgumentError: for anything but such a mapping.
    """
    if not isinstance(filters, Mapping):
        raise InvalidArgumentError(f"filters must be a mapping, not {type(filters).__name__}")
    params: Params = {}
    for number, (name, values) in enumerate(filters.items(), 1):
        params[f"Filter.{number}.Name"] = check_text(name, "a filter name")
        params.update(indexed(f"Filter.{number}.Value", text_list(values, f"filter {name!r}")))
    return params


def selection_params(lists: Iterable[tuple[str, object, str]], filters: object = None) -> Params:
    """
    What narrows a ``Describe*`` call: for each ``(prefix, values, what)``
    whose *values* are not ``None``, the numbered list (``ImageId.1``...),
    then the :func:`filter_params` of *filters* unless it is ``None``.

    :raises InvalidArgumentError: for a bad list (named by *what*) or bad filters.
    """
    params: Params = {}
    for prefix, values, what in lists:
        if values is not None:
            params.update(indexed(prefix, text_list(values, what)))
    if filters is not None:
        params.update(filter_params(filters))
    return params


def _scalar(value: object, name: str) -> str:
    # The Query API writes booleans in lower case.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InvalidArgumentError(f"{name} must be text, a number or a boolean, not {value!r}")


def flatten(prefix: str, value: Any) -> Params:
    """
    Parameters for a nested structure: mappings add ``.Key``, lists add
    ``.N`` (``flatten("BlockDeviceMapping", [{"Ebs": {"VolumeSize": 10}}])``
    gives ``{"BlockDeviceMapping.1.Ebs.VolumeSize": "10"}``).

    :raises InvalidArgumentError: for values that are not text, numbers,
        booleans, mappings or lists.
    """
    if isinstance(value, Mapping):
        params: Params = {}
        for key, item in value.items():
            params.update(flatten(f"{prefix}.{check_text(key, f'a key of {prefix}')}", item))
        return params
    if isinstance(value, (list, tuple)):
        params = {}
        for number, item in enumerate(value, 1):
            params.update(flatten(f"{prefix}.{number}", item))
        return params
    return {prefix: _scalar(value, prefix)}


def tag_specification(number: int, resource_type: str, tags: Mapping[str, str]) -> Params:
    """The ``TagSpecification.N`` parameters tagging a new resource with *tags*."""
    root = f"TagSpecification.{number}"
    params: Params = {f"{root}.ResourceType": resource_type}
    for index, (key, value) in enumerate(tags.items(), 1):
        params[f"{root}.Tag.{index}.Key"] = key
        params[f"{root}.Tag.{index}.Value"] = value
    return params


def check_tags(tags: object, what: str = "tags") -> dict[str, str]:
    """
    *tags* as a dict of text keys and values.

    :raises InvalidArgumentError: for anything else, or an empty key.
    """
    if not isinstance(tags, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping, not {type(tags).__name__}")
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(value, str):
            raise InvalidArgumentError(f"the value of tag {key!r} must be a string")
        checked[check_text(key, "a tag key")] = value
    return checked
