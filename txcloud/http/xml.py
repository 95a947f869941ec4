"""
Parse XML from providers with a hardened parser, and find elements by local
name whatever their namespace.

The parser resolves no entities, loads no DTD, touches no network and keeps
libxml2's size limits.  A document with a DOCTYPE is refused outright: no
cloud API sends one, and it is how entity tricks (external entities, "billion
laughs" expansion) are smuggled in.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from txcloud.errors import MalformedResponseError


def _parser() -> etree.XMLParser:
    # A parser per document: lxml parsers are not safe to share across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        # collect_ids stays at its default: with collect_ids=False, lxml 6.1
        # over libxml2 2.14 reads a DOCTYPE's external subset from disk.
    )


def parse_xml(data: bytes) -> etree._Element:
    """
    Parse an XML document from a provider.

    :param data: the raw document (its declared encoding is honoured).
    :returns: the root element.
    :raises MalformedResponseError: if the document is empty, not well
        formed, or has a DOCTYPE.
    """
    if not data.strip():
        raise MalformedResponseError("expected an XML document, got an empty body")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as e:
        raise MalformedResponseError(f"malformed XML: {e.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedResponseError("refused an XML document with a DOCTYPE")
    return root


def local_name(element: etree._Element) -> str:
    """The tag of *element* without its namespace."""
    return etree.QName(element).localname


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    for child in element.iterchildren(tag=etree.Element):
        if local_name(child) == name:
            yield child


def iterfind_local(element: etree._Element, path: str) -> Iterator[etree._Element]:
    """
    Elements reached from *element* by *path*, a ``/``-separated list of
    child names matched on local name only (so ``"reservationSet/item"``
    matches whatever namespace, or none, the document uses).
    """
    current = [element]
    for step in path.split("/"):
        current = [child for parent in current for child in _children(parent, step)]
    return iter(current)


def findall_local(element: etree._Element, path: str) -> list[etree._Element]:
    """Every element :func:`iterfind_local` finds, as a list."""
    return list(iterfind_local(element, path))


def find_local(element: etree._Element, path: str) -> etree._Element | None:
    """The first element :func:`iterfind_local` finds, or ``None``."""
    return next(iterfind_local(element, path), None)


def findtext_local(element: etree._Element, path: str, default: str | None = None) -> str | None:
    """
    The text of the first element :func:`iterfind_local` finds (``""`` for
    an empty element), or *default* when there is none.
    """
    found = find_local(element, path)
    if found is None:
        return default
    return found.text or ""


def iter_local(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Descendants of *element* (at any depth) whose local name is *name*."""
    for descendant in element.iterdescendants(tag=etree.Element):
        if local_name(descendant) == name:
            yield descendant
