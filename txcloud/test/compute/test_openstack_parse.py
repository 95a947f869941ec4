"""
Parsing of Nova, Glance and Keystone answers by the OpenStack driver, on
responses recorded in ``fixtures/openstack`` (written from the OpenStack
API references' examples, in our own words).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.openstack.keystone import token_from_answer
from txcloud.compute.drivers.openstack import NODE_STATES, ServiceCatalog, split_addresses
from txcloud.compute.drivers.openstack.api import _next_marker
from txcloud.compute.drivers.openstack.parse import (
    parse_image,
    parse_key_pair,
    parse_node,
    parse_size,
)
from txcloud.compute.types import NodeState
from txcloud.errors import InvalidArgumentError, MalformedResponseError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "openstack")


def fixture(name: str) -> Any:
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


class ServerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.document = fixture("servers_detail.json")
        self.web, self.batch = (parse_node(s, None) for s in self.document["servers"])

    def test_identity_state_and_creation_time(self) -> None:
        self.assertEqual(
            (self.web.id, self.web.name, self.web.state),
            ("9168b536-cd40-4630-b43f-b259807c6e87", "web-1", NodeState.RUNNING),
        )
        self.assertEqual(self.batch.state, NodeState.STOPPED)
        self.assertEqual(self.web.created_at, datetime(2024, 3, 14, 9, 26, 53, tzinfo=timezone.utc))

    def test_floating_addresses_are_public_and_fixed_private_ones_private(self) -> None:
        self.assertEqual(self.web.public_ips, ["172.24.4.10"])
        self.assertEqual(self.web.private_ips, ["10.0.0.5", "2001:db8:aa::5"])

    def test_a_fixed_address_outside_private_ranges_is_public(self) -> None:
        self.assertEqual((self.batch.public_ips, self.batch.private_ips), (["198.51.100.7"], []))

    def test_extra_carries_libclouds_keys(self) -> None:
        extra = self.web.extra
        self.assertEqual(extra["flavorId"], "1")
        self.assertEqual(extra["imageId"], "70a599e0-31e7-49b7-b260-868f441e862b")
        self.assertEqual(extra["tenantId"], "6f70656e737461636b20342065766572")
        self.assertEqual(extra["userId"], "fake-user-0001")
        self.assertEqual(extra["metadata"], {"role": "web"})
        self.assertEqual(extra["key_name"], "deploy")
        self.assertEqual(extra["availability_zone"], "az-1")
        self.assertEqual(extra["vm_state"], "active")
        self.assertEqual(extra["power_state"], 1)
        self.assertIs(extra["config_drive"], True)
        self.assertEqual(extra["disk_config"], "AUTO")
        self.assertEqual(
            extra["uri"],
            "http://nova.example.com/v2.1/servers/9168b536-cd40-4630-b43f-b259807c6e87",
        )
        self.assertEqual(extra["status"], "ACTIVE")

    def test_a_server_booted_from_a_volume_has_no_image(self) -> None:
        self.assertIsNone(self.batch.extra["imageId"])
        self.assertEqual(self.batch.extra["fault"]["message"], "an earlier failure")

    def test_statuses_map_as_libcloud_maps_them(self) -> None:
        for status, state in (
            ("BUILD", NodeState.PENDING),
            ("REBOOT", NodeState.REBOOTING),
            ("HARD_REBOOT", NodeState.REBOOTING),
            ("RESIZE", NodeState.RECONFIGURING),
            ("VERIFY_RESIZE", NodeState.RUNNING),
            ("SUSPENDED", NodeState.SUSPENDED),
            ("DELETED", NodeState.TERMINATED),
            ("ERROR", NodeState.ERROR),
        ):
            self.assertEqual(NODE_STATES[status], state)
        server = dict(self.document["servers"][0], status="SHELVED_OFFLOADED")
        self.assertEqual(parse_node(server, None).state, NodeState.UNKNOWN)

    def test_the_next_page_marker_comes_from_servers_links(self) -> None:
        self.assertEqual(
            _next_marker(self.document, "servers"), "4d6c2a7e-1b3f-4e4a-9a51-2c0f0d5e8b11"
        )
        self.assertIsNone(_next_marker({"servers": []}, "servers"))

    def test_a_server_without_an_id_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, parse_node, {"name": "x"}, None)


class AddressTests(SynchronousTestCase):
    def test_untyped_addresses_follow_their_range_or_network(self) -> None:
        addresses = {
            "public": [{"addr": "2001:db8::1", "version": 6}],
            "internal": [{"addr": "192.168.1.4"}, {"addr": "fd00::4"}],
        }
        self.assertEqual(split_addresses(addresses), (["2001:db8::1"], ["192.168.1.4", "fd00::4"]))

    def test_garbage_is_skipped(self) -> None:
        self.assertEqual(split_addresses({"n": [{"addr": 5}, "x"]}), ([], []))
        self.assertEqual(split_addresses(None), ([], []))


class FlavorTests(SynchronousTestCase):
    def test_flavors_carry_ram_disk_and_vcpus(self) -> None:
        tiny, gpu = (parse_size(f, None) for f in fixture("flavors_detail.json")["flavors"])
        self.assertEqual((tiny.id, tiny.name, tiny.ram, tiny.disk), ("1", "m1.tiny", 512, 1))
        self.assertEqual((tiny.bandwidth, tiny.price), (None, None))
        self.assertEqual((tiny.extra["vcpus"], tiny.extra["swap"]), (1, 0))
        self.assertEqual(
            (gpu.extra["vcpus"], gpu.extra["swap"], gpu.extra["ephemeral_disk"]), (16, 1024, 100)
        )
        self.assertEqual(gpu.extra["extra_specs"], {"pci_passthrough:alias": "gpu:1"})
        self.assertIs(gpu.extra["is_public"], False)


class ImageTests(SynchronousTestCase):
    def test_images_carry_glances_fields(self) -> None:
        document = fixture("images.json")
        ubuntu, pending = (parse_image(i, None) for i in document["images"])
        self.assertEqual(
            (ubuntu.id, ubuntu.name), ("70a599e0-31e7-49b7-b260-868f441e862b", "ubuntu-24.04")
        )
        self.assertEqual(
            {k: ubuntu.extra[k] for k in ("status", "visibility", "min_disk", "os_type")},
            {"status": "active", "visibility": "public", "min_disk": 10, "os_type": "linux"},
        )
        self.assertEqual((pending.name, pending.extra["status"]), ("", "queued"))

    def test_the_next_page_marker_comes_from_glances_next(self) -> None:
        self.assertEqual(
            _next_marker(fixture("images.json"), "images"), "b1f0c3d2-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
        )

    def test_a_next_link_without_a_marker_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, _next_marker, {"next": "/v2/images"}, "images")


class KeyPairTests(SynchronousTestCase):
    def test_listed_key_pairs_have_no_private_key(self) -> None:
        [item] = fixture("keypairs.json")["keypairs"]
        pair = parse_key_pair(item["keypair"], None)
        self.assertEqual(
            (pair.name, pair.fingerprint, pair.private_key),
            ("deploy", "3c:1d:9a:52:64:0b:e1:3a:5f:8c:2e:77:10:a9:4b:de", None),
        )
        self.assertEqual(pair.extra["type"], "ssh")

    def test_a_key_pair_nova_made_carries_its_private_key(self) -> None:
        pair = parse_key_pair(fixture("keypair_created.json")["keypair"], None)
        self.assertTrue(str(pair.private_key).startswith("-----BEGIN RSA PRIVATE KEY-----"))
        self.assertNotIn("PRIVATE", repr(pair))


class TokenTests(SynchronousTestCase):
    def setUp(self) -> None:
        headers = {"X-Subject-Token": "gAAAAABrecorded"}
        self.token = token_from_answer(headers, fixture("token.json"), "Keystone")
        self.catalog = ServiceCatalog(self.token.catalog)

    def test_token_expiry_project_and_user(self) -> None:
        expires = datetime(2024, 6, 1, 13, tzinfo=timezone.utc).timestamp()
        self.assertEqual(self.token.expires_at, expires)
        self.assertEqual(self.token.project["name"], "demo")
        self.assertEqual(self.token.user["name"], "alice")
        self.assertNotIn("gAAAAABrecorded", repr(self.token))

    def test_the_catalog_gives_each_regions_public_compute_url(self) -> None:
        self.assertEqual(
            self.catalog.url("compute", region="RegionOne"), "https://nova.example.com/v2.1"
        )
        self.assertEqual(
            self.catalog.url("compute", region="RegionOne", interface="internal"),
            "http://nova.internal:8774/v2.1",
        )
        self.assertEqual(self.catalog.regions("compute"), ["RegionOne", "RegionTwo"])
        self.assertEqual(
            self.catalog.url("identity", region=None), "https://keystone.example.com/v3"
        )

    def test_an_unknown_region_names_the_known_ones(self) -> None:
        error = self.assertRaises(
            InvalidArgumentError, self.catalog.url, "compute", region="RegionThree"
        )
        self.assertIn("RegionOne, RegionTwo", str(error))

    def test_several_regions_and_none_chosen_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.catalog.url, "compute", region=None)

    def test_an_answer_without_the_token_header_or_expiry_is_malformed(self) -> None:
        document = fixture("token.json")
        self.assertRaises(MalformedResponseError, token_from_answer, {}, document, "K")
        del document["token"]["expires_at"]
        self.assertRaises(
            MalformedResponseError, token_from_answer, {"X-Subject-Token": "t"}, document, "K"
        )
