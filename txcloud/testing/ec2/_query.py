"""
The EC2 Query API as the fake reads and writes it: numbered, dotted
parameters (``Filter.1.Value.2``) taken apart, filters matched, pages cut
with ``NextToken``, and the response and error documents.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from lxml import etree
from lxml.builder import ElementMaker

from txcloud.testing._http import Refused, Reply

if TYPE_CHECKING:
    from txcloud.testing.ec2._models import FakeRegion

__all__ = [
    "NAMESPACE",
    "E",
    "EC2Call",
    "Field",
    "Params",
    "check_filters",
    "error_document",
    "fields",
    "invalid",
    "item_set",
    "matches_filters",
    "numbered",
    "response_document",
]

_T = TypeVar("_T")

#: The namespace of EC2's answers.
NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
#: Builds elements in that namespace.
E = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})
_PLAIN = ElementMaker()


def invalid(message: str, code: str = "InvalidParameterValue") -> Refused:
    """A ``400`` error answer (``InvalidParameterValue`` unless *code* says otherwise)."""
    return Refused(400, code, message)


def numbered(node: Mapping[str, Any]) -> list[Any]:
    """The entries of a numbered list node (keys ``"1"``, ``"2"``...), in order."""
    return [node[key] for key in sorted((k for k in node if k.isdigit()), key=int)]


class Params:
    """The parameters of one call, read as the Query API spells structures."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)

    def get(self, name: str) -> str | None:
        """The value of parameter *name*."""
        return self.fields.get(name)

    def required(self, name: str) -> str:
        """The value of parameter *name*, or a ``MissingParameter`` answer."""
        value = self.fields.get(name)
        if not value:
            raise invalid(f"The request must contain the parameter {name}", code="MissingParameter")
        return value

    def flag(self, name: str) -> bool:
        """Whether boolean parameter *name* is ``true``."""
        return (self.fields.get(name) or "").lower() == "true"

    def tree(self, prefix: str) -> dict[str, Any]:
        """
        The parameters under *prefix* as nested dicts:
        ``IpPermissions.1.IpRanges.2.CidrIp`` under ``IpPermissions`` is
        ``{"1": {"IpRanges": {"2": {"CidrIp": ...}}}}``.
        """
        root: dict[str, Any] = {}
        for name, value in self.fields.items():
            if not name.startswith(prefix + "."):
                continue
            *path, last = name[len(prefix) + 1 :].split(".")
            node = root
            for part in path:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise invalid(f"Parameter {name} is not valid")
            node[last] = value
        return root

    def strings(self, prefix: str) -> list[str]:
        """The values of ``Prefix.1``, ``Prefix.2``..., in order."""
        return [value for value in numbered(self.tree(prefix)) if isinstance(value, str)]

    def structures(self, prefix: str) -> list[dict[str, Any]]:
        """The structures ``Prefix.N.*``, in order."""
        return [value for value in numbered(self.tree(prefix)) if isinstance(value, dict)]

    def filters(self) -> dict[str, list[str]]:
        """``Filter.N.Name`` / ``Filter.N.Value.M`` as names to their values."""
        found: dict[str, list[str]] = {}
        for spec in self.structures("Filter"):
            name = spec.get("Name")
            if not isinstance(name, str) or not name:
                raise invalid("Each filter needs a name", code="MissingParameter")
            values = spec.get("Value")
            found[name] = numbered(values) if isinstance(values, dict) else []
        return found

    def tags_for(self, resource_type: str) -> dict[str, str]:
        """The tags ``TagSpecification.N`` asks for resources of *resource_type*."""
        tags: dict[str, str] = {}
        for spec in self.structures("TagSpecification"):
            kind = spec.get("ResourceType")
            if kind != resource_type:
                raise invalid(f"'{kind}' is not a valid taggable resource type for this operation.")
            for tag in numbered(spec.get("Tag") or {}):
                key = tag.get("Key") if isinstance(tag, dict) else None
                if not key or key.lower().startswith("aws:"):
                    raise invalid(f"Tag key {key!r} is not valid")
                tags[key] = tag.get("Value", "")
        return tags

    def page(
        self, action: str, items: Sequence[_T], default_size: int | None
    ) -> tuple[list[_T], str | None]:
        """
        The page of *items* that ``MaxResults`` (5 to 1000; *default_size*
        when absent, ``None`` for all) and ``NextToken`` ask for, and the
        token of the next page.
        """
        size = default_size
        asked = self.get("MaxResults")
        if asked is not None:
            if not asked.isdigit() or not 5 <= int(asked) <= 1000:
                raise invalid(
                    f"Value ( {asked} ) for parameter maxResults is invalid. "
                    "Expecting a value between 5 and 1000."
                )
            size = int(asked)
        start = 0
        token = self.get("NextToken")
        if token:
            start = _offset(action, token)
        if size is None:
            return list(items[start:]), None
        end = start + size
        following = _token(action, end) if end < len(items) else None
        return list(items[start:end]), following


def _token(action: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{action}:{offset}".encode()).decode("ascii")


def _offset(action: str, token: str) -> int:
    try:
        named, _, offset = base64.urlsafe_b64decode(token.encode("ascii")).decode().partition(":")
    except (binascii.Error, UnicodeError):
        named, offset = "", ""
    if named != action or not offset.isdigit():
        raise invalid(
            "The specified pagination token is not valid or is expired.",
            code="InvalidPaginationToken",
        )
    return int(offset)


def check_filters(filters: Mapping[str, list[str]], known: Collection[str], tags: bool) -> None:
    """
    Refuse a filter name not in *known* (nor a tag filter, when the
    resources have *tags*), as EC2 does before looking at any resource.
    """
    for name in filters:
        tag = tags and (name.startswith("tag:") or name in ("tag-key", "tag-value"))
        if name not in known and not tag:
            raise invalid(f"The filter '{name}' is invalid")


def matches_filters(
    filters: Mapping[str, list[str]], values_of: Callable[[str], list[str]]
) -> bool:
    """
    Whether a resource passes every filter: one of its values for the
    filter's name matches one of the filter's values (``*`` and ``?`` are
    wildcards, as in EC2).

    :param values_of: the resource's values for a filter name.
    """
    return all(
        any(fnmatchcase(value, pattern) for value in values_of(name) for pattern in wanted)
        for name, wanted in filters.items()
    )


#: A child of a rendered element: ``(name, value)`` or an element.
Field = tuple[str, object] | etree._Element


def fields(parent: etree._Element, entries: Iterable[Field]) -> etree._Element:
    """
    Append each entry to *parent*: elements as they are, ``(name, value)``
    as ``<name>value</name>`` (``None`` values left out, booleans written
    ``true``/``false``).
    """
    for entry in entries:
        if not isinstance(entry, tuple):
            parent.append(entry)
            continue
        name, value = entry
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parent.append(E(name, text))
    return parent


def item_set(name: str, items: Iterable[etree._Element]) -> etree._Element:
    """A list element *name* holding *items* (each an ``<item>``)."""
    return E(name, *items)


def response_document(action: str, request_id: str, children: Iterable[Field]) -> bytes:
    """``<{action}Response>`` with its request id and *children*."""
    root = fields(E(f"{action}Response", E.requestId(request_id)), children)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def error_document(refused: Refused, request_id: str) -> bytes:
    """EC2's ``<Response><Errors><Error>`` document."""
    root = _PLAIN.Response(
        _PLAIN.Errors(_PLAIN.Error(_PLAIN.Code(refused.code), _PLAIN.Message(refused.message))),
        _PLAIN.RequestID(request_id),
    )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@attrs.frozen
class EC2Call:
    """One call: its action, parameters, the region it is for and its request id."""

    action: str
    params: Params
    region: FakeRegion
    request_id: str

    def answer(self, *children: Field) -> Reply:
        """The successful answer holding *children*."""
        body = response_document(self.action, self.request_id, children)
        return Reply(200, {"Content-Type": "text/xml;charset=UTF-8"}, body)
