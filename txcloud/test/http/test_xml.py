"""Tests for txcloud.http.xml: hardened parsing and namespace-agnostic lookups."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import MalformedResponseError
from txcloud.http.xml import (
    find_local,
    findall_local,
    findtext_local,
    iter_local,
    local_name,
    parse_xml,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ListBucketResult><Name>&lol9;</Name></ListBucketResult>
"""

EC2_AWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <reservationSet>
    <item>
      <instancesSet>
        <item><instanceId>i-1</instanceId><!-- a comment --></item>
        <item><instanceId>i-2</instanceId><keyName/></item>
      </instancesSet>
    </item>
  </reservationSet>
</DescribeInstancesResponse>
"""

# The same document as an emulator may spell it: another namespace URI, prefixed.
EC2_EMULATOR = EC2_AWS.replace(
    b'<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">',
    b'<ec2:DescribeInstancesResponse xmlns:ec2="http://ec2.amazonaws.com/doc/2013-10-15/">',
).replace(b"</DescribeInstancesResponse>", b"</ec2:DescribeInstancesResponse>")


class ParseXMLTests(SynchronousTestCase):
    def test_well_formed_document_is_parsed(self) -> None:
        root = parse_xml(b"<?xml version='1.0' encoding='UTF-8'?><a><b>caf\xc3\xa9</b></a>")
        self.assertEqual(root.findtext("b"), "café")

    def test_external_entity_is_refused(self) -> None:
        secret = Path(self.mktemp())
        secret.write_text("top secret")
        document = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            "<r>&xxe;</r>"
        ).encode()
        error = self.assertRaises(MalformedResponseError, parse_xml, document)
        self.assertNotIn("top secret", str(error))

    def test_entity_expansion_is_refused(self) -> None:
        self.assertRaises(MalformedResponseError, parse_xml, BILLION_LAUGHS)

    def test_harmless_looking_entity_declaration_is_refused_too(self) -> None:
        document = b'<!DOCTYPE r [<!ENTITY name "value">]><r>&name;</r>'
        error = self.assertRaises(MalformedResponseError, parse_xml, document)
        self.assertEqual(str(error), "refused an XML document with a DOCTYPE")

    def test_external_dtd_subset_is_refused_without_being_read(self) -> None:
        # Were the file read, libxml2 would report its content as a bad DTD.
        dtd = Path(self.mktemp())
        dtd.write_text("this is not a DTD")
        document = f'<!DOCTYPE r SYSTEM "file://{dtd}"><r/>'.encode()
        error = self.assertRaises(MalformedResponseError, parse_xml, document)
        self.assertEqual(str(error), "refused an XML document with a DOCTYPE")

    def test_malformed_document_is_refused(self) -> None:
        self.assertRaises(MalformedResponseError, parse_xml, b"<a><b></a>")

    def test_empty_body_is_refused(self) -> None:
        self.assertRaises(MalformedResponseError, parse_xml, b"  \n")


class LocalNameTests(SynchronousTestCase):
    def test_paths_match_whatever_the_namespace(self) -> None:
        for document in (EC2_AWS, EC2_EMULATOR):
            root = parse_xml(document)
            ids = [
                findtext_local(item, "instanceId")
                for item in findall_local(root, "reservationSet/item/instancesSet/item")
            ]
            self.assertEqual(ids, ["i-1", "i-2"])
            self.assertEqual(local_name(root), "DescribeInstancesResponse")

    def test_findtext_of_empty_element_is_empty_text(self) -> None:
        root = parse_xml(EC2_AWS)
        item = findall_local(root, "reservationSet/item/instancesSet/item")[1]
        self.assertEqual(findtext_local(item, "keyName"), "")

    def test_findtext_of_missing_element_is_the_default(self) -> None:
        root = parse_xml(EC2_AWS)
        self.assertIsNone(findtext_local(root, "nextToken"))
        self.assertEqual(findtext_local(root, "nextToken", "none"), "none")

    def test_find_local_returns_the_first_match_or_none(self) -> None:
        root = parse_xml(EC2_AWS)
        first = find_local(root, "reservationSet/item/instancesSet/item/instanceId")
        self.assertIsNotNone(first)
        assert first is not None
        self.assertEqual(first.text, "i-1")
        self.assertIsNone(find_local(root, "nothing/here"))

    def test_iter_local_finds_descendants_at_any_depth(self) -> None:
        root = parse_xml(EC2_EMULATOR)
        self.assertEqual([e.text for e in iter_local(root, "instanceId")], ["i-1", "i-2"])
