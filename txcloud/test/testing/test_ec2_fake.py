"""
Tests of txcloud.testing.ec2: the real EC2 driver pointed at the fake (in
memory through its agent, on a Clock), plus raw Query API calls through
treq's StubTreq for what the driver never sends, and one driver over a
real socket.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from treq.testing import StubTreq
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud import multi
from txcloud.compute.base import Node, NodeLocation
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.compute.types import NodeState
from txcloud.errors import (
    InvalidCredsError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    NodeNotFoundError,
    ProviderError,
    RateLimitReached,
    RequestTimeoutError,
)
from txcloud.http import RetryPolicy
from txcloud.testing.ec2 import ACCOUNT_ID, DEFAULT_KEY, DEFAULT_SECRET, FakeEC2

NOW = 1_700_000_000


def no_jitter(cap: float) -> float:
    return cap


def ssh_public_key(kind: str = "ed25519") -> str:
    key: Any = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    openssh = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return openssh.decode() + " me@laptop"


class EC2FakeTestCase(SynchronousTestCase):
    """A driver in front of a FakeEC2, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.ec2 = FakeEC2(clock=self.clock)
        self.compute = self.driver("us-east-1")
        self.treq: Any = StubTreq(self.ec2.resource)

    def driver(self, region: str, **options: Any) -> EC2NodeDriver:
        options.setdefault("ex_retry", RetryPolicy(max_attempts=3, jitter=no_jitter))
        driver = self.ec2.driver(region, **options)
        self.addCleanup(driver.close)
        return driver

    def nodes(self, **options: Any) -> list[Node]:
        found: list[Node] = self.successResultOf(self.compute.list_nodes(**options))
        return found

    def node(self, name: str) -> Node:
        [found] = [node for node in self.nodes() if node.name == name]
        return found

    def error(self, d: Deferred[Any], kind: type[Exception] = ProviderError) -> Any:
        return self.failureResultOf(d, kind).value

    def call(self, action: str, region: str = "us-east-1", **params: str) -> tuple[int, bytes]:
        """Send a Query API call of our own; fire with its status and body."""
        scope = f"Credential={DEFAULT_KEY}/20231114/{region}/ec2/aws4_request"
        body = urlencode({"Action": action, "Version": "2016-11-15", **params})
        response = self.successResultOf(
            self.treq.post(
                f"https://ec2.{region}.amazonaws.com/",
                data=body.encode(),
                headers={
                    "Authorization": f"AWS4-HMAC-SHA256 {scope}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        )
        return response.code, self.successResultOf(self.treq.content(response))


class ReachingTests(EC2FakeTestCase):
    def test_each_call_is_served_by_the_region_it_was_signed_for(self) -> None:
        self.ec2.add_instance("here")
        self.ec2.add_instance("there", region="eu-west-1")
        self.assertEqual([n.name for n in self.nodes()], ["here"])
        ireland = self.driver("eu-west-1")
        self.assertEqual([n.name for n in self.successResultOf(ireland.list_nodes())], ["there"])
        self.assertIn("/eu-west-1/ec2/", self.ec2.received[-1].headers["authorization"])

    def test_drivers_for_several_regions_fan_out_through_multi(self) -> None:
        for region in ("us-east-1", "eu-west-1", "ap-south-1"):
            self.ec2.add_instance(f"web-{region}", region=region)
        drivers = self.ec2.drivers(["us-east-1", "eu-west-1", "ap-south-1"])
        result = self.successResultOf(multi.list_nodes(drivers))
        self.assertTrue(result.ok)
        found = {driver.region: [n.name for n in nodes] for driver, nodes in result.results.items()}
        self.assertEqual(
            found,
            {
                "us-east-1": ["web-us-east-1"],
                "eu-west-1": ["web-eu-west-1"],
                "ap-south-1": ["web-ap-south-1"],
            },
        )

    def test_a_region_the_fake_does_not_serve_is_auth_failure(self) -> None:
        self.ec2 = FakeEC2(clock=self.clock, regions=["us-east-1"])
        error = self.error(self.driver("eu-west-1").list_nodes(), InvalidCredsError)
        self.assertEqual((error.status, error.code), (401, "AuthFailure"))

    def test_an_unknown_action_is_invalid_action(self) -> None:
        status, body = self.call("LaunchRockets")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidAction</Code>", body)
        self.assertIn(b"<RequestID>", body)

    def test_an_unsigned_call_is_refused(self) -> None:
        response = self.successResultOf(
            self.treq.post("https://ec2.us-east-1.amazonaws.com/", data=b"Action=DescribeRegions")
        )
        body = self.successResultOf(self.treq.content(response))
        self.assertEqual(response.code, 401)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", body)

    def test_an_unknown_access_key_is_auth_failure(self) -> None:
        self.ec2.access_keys = {"AKIAOTHER"}
        error = self.error(self.compute.list_nodes(), InvalidCredsError)
        self.assertEqual(error.code, "AuthFailure")
        self.assertNotIn(DEFAULT_SECRET, str(error))


class SeedingTests(EC2FakeTestCase):
    def test_a_seeded_instance_has_the_fields_the_driver_reads(self) -> None:
        self.ec2.add_key_pair("deploy")
        self.ec2.add_security_group("web")
        seeded = self.ec2.add_instance(
            "web-1",
            instance_type="t3.small",
            zone="us-east-1b",
            key_name="deploy",
            security_groups=["web"],
            tags={"team": "ops"},
        )
        [node] = self.nodes()
        self.assertEqual((node.id, node.name, node.state), (seeded.id, "web-1", NodeState.RUNNING))
        self.assertEqual(node.public_ips, [seeded.public_ip])
        self.assertEqual(node.private_ips, [seeded.private_ip])
        self.assertTrue(seeded.private_ip.startswith("172.31.16."))
        extra = node.extra
        self.assertEqual(
            (extra["instance_type"], extra["availability"], extra["key_name"]),
            ("t3.small", "us-east-1b", "deploy"),
        )
        self.assertEqual(extra["tags"], {"Name": "web-1", "team": "ops"})
        self.assertEqual(extra["security_groups"], ["web"])
        self.assertEqual(extra["image_id"], seeded.image_id)
        self.assertEqual(node.created_at.timestamp() if node.created_at else None, NOW)

    def test_a_stopped_instance_has_no_public_address(self) -> None:
        self.ec2.add_instance("batch", state="stopped")
        [node] = self.nodes()
        self.assertEqual((node.state, node.public_ips), (NodeState.STOPPED, []))

    def test_seeding_refuses_unknown_things(self) -> None:
        for options in (
            {"state": "asleep"},
            {"instance_type": "x9.huge"},
            {"zone": "us-east-1z"},
            {"security_groups": ["nope"]},
            {"region": "mars-north-1"},
        ):
            with self.subTest(options=options):
                self.assertRaises(ValueError, self.ec2.add_instance, "x", **options)

    def test_set_state_moves_an_instance_at_once(self) -> None:
        seeded = self.ec2.add_instance("web")
        self.ec2.set_state(seeded.id, "stopped")
        self.assertEqual(self.node("web").state, NodeState.STOPPED)
        self.assertRaises(ValueError, self.ec2.set_state, "i-00000000", "stopped")


class DescribeInstancesTests(EC2FakeTestCase):
    def test_filters_with_wildcards(self) -> None:
        self.ec2.add_instance("web-1")
        self.ec2.add_instance("web-2", state="stopped")
        self.ec2.add_instance("db-1")
        stopped = self.nodes(ex_filters={"instance-state-name": "stopped"})
        self.assertEqual([n.name for n in stopped], ["web-2"])
        web = self.nodes(ex_filters={"tag:Name": "web-*", "instance-state-name": "running"})
        self.assertEqual([n.name for n in web], ["web-1"])

    def test_an_unknown_filter_is_invalid(self) -> None:
        error = self.error(self.compute.list_nodes(ex_filters={"colour": "blue"}))
        self.assertEqual((error.status, error.code), (400, "InvalidParameterValue"))

    def test_ids_that_do_not_exist_are_node_not_found(self) -> None:
        seeded = self.ec2.add_instance("web")
        [node] = self.nodes(ex_node_ids=[seeded.id])
        self.assertEqual(node.id, seeded.id)
        error = self.error(
            self.compute.list_nodes(ex_node_ids=[seeded.id, "i-0123456789abcdef0"]),
            NodeNotFoundError,
        )
        self.assertEqual(error.code, "InvalidInstanceID.NotFound")
        error = self.error(self.compute.list_nodes(ex_node_ids=["web"]), NodeNotFoundError)
        self.assertEqual(error.code, "InvalidInstanceID.Malformed")

    def test_pages_are_followed_with_next_token(self) -> None:
        names = [f"web-{n:02d}" for n in range(12)]
        for name in names:
            self.ec2.add_instance(name)
        self.assertEqual([n.name for n in self.nodes(ex_page_size=5)], names)
        calls = [r.form() for r in self.ec2.received]
        self.assertEqual([c.get("MaxResults") for c in calls], ["5", "5", "5"])
        self.assertEqual(len({c.get("NextToken") for c in calls}), 3)

    def test_max_results_is_checked(self) -> None:
        for params, code in (
            ({"MaxResults": "3"}, b"InvalidParameterValue"),
            ({"MaxResults": "5", "InstanceId.1": "i-1"}, b"InvalidParameterCombination"),
            ({"NextToken": "bogus"}, b"InvalidPaginationToken"),
        ):
            status, body = self.call("DescribeInstances", **params)
            self.assertEqual(status, 400)
            self.assertIn(b"<Code>" + code + b"</Code>", body)

    def test_terminated_instances_are_listed_for_an_hour(self) -> None:
        seeded = self.ec2.add_instance("gone")
        self.ec2.set_state(seeded.id, "terminated")
        self.clock.advance(3599)
        self.assertEqual(self.node("gone").state, NodeState.TERMINATED)
        self.clock.advance(1)
        self.assertEqual(self.nodes(), [])


class RunInstancesTests(EC2FakeTestCase):
    def image_id(self, name_start: str = "al2023-ami") -> str:
        images = self.ec2.region("us-east-1").images.values()
        return next(i.id for i in images if i.name.startswith(name_start))

    def test_a_new_node_is_pending_then_running(self) -> None:
        node = self.successResultOf(self.compute.create_node("web", "t3.micro", self.image_id()))
        self.assertEqual((node.name, node.state, node.public_ips), ("web", NodeState.PENDING, []))
        listed = self.node("web")
        self.assertEqual(listed.state, NodeState.RUNNING)
        self.assertEqual(len(listed.public_ips), 1)

    def test_boot_time_passes_on_the_clock(self) -> None:
        self.ec2.boot_seconds = 30
        node = self.successResultOf(self.compute.create_node("web", "t3.micro", self.image_id()))
        waiting = self.compute.wait_until_running([node], wait_period=10, timeout=60)
        self.assertNoResult(waiting)
        self.clock.advance(10)
        self.clock.advance(10)
        self.assertNoResult(waiting)
        self.clock.advance(10)
        [(running, addresses)] = self.successResultOf(waiting)
        self.assertEqual((running.state, addresses), (NodeState.RUNNING, running.public_ips))

    def test_the_launch_options_are_kept(self) -> None:
        self.ec2.add_key_pair("deploy")
        web = self.ec2.add_security_group("web")
        zone = NodeLocation("us-east-1c", "us-east-1c", "US", self.compute)
        node = self.successResultOf(
            self.compute.create_node(
                "web",
                "t3.micro",
                self.image_id(),
                zone,
                ex_keyname="deploy",
                ex_security_groups=["default"],
                ex_security_group_ids=[web.id],
                ex_userdata="#!/bin/sh\necho hi\n",
                ex_metadata={"team": "ops"},
                ex_iamprofile="worker",
                ex_terminate_on_shutdown=True,
            )
        )
        stored = self.ec2.region("us-east-1").instances[node.id]
        self.assertEqual(stored.zone, "us-east-1c")
        self.assertEqual(stored.key_name, "deploy")
        default = self.ec2.region("us-east-1").group_named("default")
        assert default is not None
        self.assertEqual(stored.security_groups, {default.id: "default", web.id: "web"})
        self.assertEqual(stored.user_data, b"#!/bin/sh\necho hi\n")
        self.assertEqual(stored.tags, {"Name": "web", "team": "ops"})
        self.assertEqual((stored.iam_profile, stored.shutdown_behavior), ("worker", "terminate"))

    def test_several_instances_in_one_reservation(self) -> None:
        nodes = self.successResultOf(
            self.compute.create_node("web", "t3.micro", self.image_id(), ex_maxcount=3)
        )
        self.assertEqual([n.extra["launch_index"] for n in nodes], [0, 1, 2])
        reservations = {i.reservation_id for i in self.ec2.region("us-east-1").instances.values()}
        self.assertEqual(len(reservations), 1)

    def test_a_client_token_makes_the_launch_idempotent(self) -> None:
        first = self.successResultOf(
            self.compute.create_node("web", "t3.micro", self.image_id(), ex_clienttoken="tok-1")
        )
        again = self.successResultOf(
            self.compute.create_node("web", "t3.micro", self.image_id(), ex_clienttoken="tok-1")
        )
        self.assertEqual(first.id, again.id)
        self.assertEqual(len(self.ec2.region("us-east-1").instances), 1)

    def test_what_does_not_exist_is_refused(self) -> None:
        image = self.image_id()
        arm = self.image_id("al2023-ami-2023.6.20241212.0-kernel-6.1-arm64")
        for size, image_id, options, code in (
            ("t3.micro", "ami-0123456789abcdef0", {}, "InvalidAMIID.NotFound"),
            ("t3.micro", "image", {}, "InvalidAMIID.Malformed"),
            ("x9.huge", image, {}, "InvalidParameterValue"),
            ("t3.micro", arm, {}, "InvalidParameterValue"),
            ("t3.micro", image, {"ex_security_groups": ["nope"]}, "InvalidGroup.NotFound"),
            ("t3.micro", image, {"ex_subnet": "subnet-nope"}, "InvalidSubnetID.NotFound"),
        ):
            with self.subTest(code=code, size=size):
                d = self.compute.create_node("web", size, image_id, **options)
                self.assertEqual(self.error(d).code, code)
        d = self.compute.create_node("web", "t3.micro", image, ex_keyname="nope")
        self.assertEqual(self.error(d, KeyPairDoesNotExistError).code, "InvalidKeyPair.NotFound")
        self.assertEqual(self.ec2.region("us-east-1").instances, {})

    def test_the_instance_limit(self) -> None:
        self.ec2.instance_limit = 2
        self.ec2.add_instance("one")
        d = self.compute.create_node(
            "web", "t3.micro", self.image_id(), ex_mincount=2, ex_maxcount=2
        )
        self.assertEqual(self.error(d).code, "InstanceLimitExceeded")
        capped = self.successResultOf(
            self.compute.create_node("web", "t3.micro", self.image_id(), ex_maxcount=5)
        )
        self.assertEqual(len(capped), 1)


class StateChangeTests(EC2FakeTestCase):
    def test_stop_and_start_move_through_the_states_on_the_clock(self) -> None:
        self.ec2.stop_seconds = 5
        self.ec2.boot_seconds = 5
        self.ec2.add_instance("web")
        node = self.node("web")
        self.assertTrue(self.successResultOf(self.compute.stop_node(node)))
        self.assertEqual(self.node("web").state, NodeState.STOPPING)
        self.clock.advance(5)
        self.assertEqual((self.node("web").state, self.node("web").public_ips), ("stopped", []))
        self.assertTrue(self.successResultOf(self.compute.start_node(node)))
        self.assertEqual(self.node("web").state, NodeState.PENDING)
        self.clock.advance(5)
        restarted = self.node("web")
        self.assertEqual(restarted.state, NodeState.RUNNING)
        self.assertNotEqual(restarted.public_ips, node.public_ips)

    def test_reboot_needs_a_running_instance(self) -> None:
        self.ec2.add_instance("web")
        self.ec2.add_instance("batch", state="stopped")
        self.assertTrue(self.successResultOf(self.compute.reboot_node(self.node("web"))))
        error = self.error(self.compute.reboot_node(self.node("batch")))
        self.assertEqual((error.status, error.code), (400, "IncorrectInstanceState"))

    def test_destroy_shuts_down_then_terminates(self) -> None:
        self.ec2.terminate_seconds = 2
        self.ec2.add_instance("web")
        node = self.node("web")
        self.assertTrue(self.successResultOf(self.compute.destroy_node(node)))
        self.assertEqual(self.node("web").extra["status"], "shutting-down")
        self.clock.advance(2)
        self.assertEqual(self.node("web").state, NodeState.TERMINATED)
        error = self.error(self.compute.start_node(node))
        self.assertEqual(error.code, "IncorrectInstanceState")

    def test_actions_on_a_missing_node_are_node_not_found(self) -> None:
        seeded = self.ec2.add_instance("web")
        node = self.node("web")
        del self.ec2.region("us-east-1").instances[seeded.id]
        self.error(self.compute.stop_node(node), NodeNotFoundError)


class CatalogueTests(EC2FakeTestCase):
    def test_sizes_of_the_catalogue(self) -> None:
        sizes = {s.id: s for s in self.successResultOf(self.compute.list_sizes())}
        self.assertEqual(len(sizes), 7)
        self.assertEqual((sizes["t3.micro"].ram, sizes["i3.large"].disk), (1024, 475))
        self.assertEqual(sizes["c6g.large"].extra["architectures"], ["arm64"])

    def test_sizes_are_paged_when_the_fake_is_told_to(self) -> None:
        self.ec2.default_page_size = 3
        self.assertEqual(len(self.successResultOf(self.compute.list_sizes())), 7)
        self.assertEqual(len(self.ec2.received), 3)

    def test_images_by_owner_id_and_filter(self) -> None:
        mine = self.ec2.add_image("my-app-v1")
        everything = self.successResultOf(self.compute.list_images())
        self.assertEqual(len(everything), 4)
        owned = self.successResultOf(self.compute.list_images(ex_owner="self"))
        self.assertEqual([(i.id, i.extra["owner_id"]) for i in owned], [(mine.id, ACCOUNT_ID)])
        amazon = self.successResultOf(self.compute.list_images(ex_owner="amazon"))
        self.assertEqual(len(amazon), 2)
        arm = self.successResultOf(self.compute.list_images(ex_filters={"architecture": "arm64"}))
        self.assertEqual([i.extra["architecture"] for i in arm], ["arm64"])
        error = self.error(self.compute.list_images(ex_image_ids=["ami-0123456789abcdef0"]))
        self.assertEqual(error.code, "InvalidAMIID.NotFound")

    def test_locations_are_the_regions_zones(self) -> None:
        zones = self.successResultOf(self.driver("eu-west-1").list_locations())
        self.assertEqual([z.name for z in zones], ["eu-west-1a", "eu-west-1b", "eu-west-1c"])
        self.assertEqual(zones[0].extra["zone_id"], "ew1-az1")
        self.assertEqual(zones[0].country, "IE")


class KeyPairTests(EC2FakeTestCase):
    def test_a_new_rsa_key_pair_shows_its_private_key_once(self) -> None:
        created = self.successResultOf(self.compute.create_key_pair("deploy"))
        assert created.private_key is not None
        private = serialization.load_pem_private_key(created.private_key.encode(), None)
        pkcs8 = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        digest = hashlib.sha1(pkcs8).hexdigest()
        self.assertEqual(created.fingerprint, ":".join(digest[i : i + 2] for i in range(0, 40, 2)))
        [listed] = self.successResultOf(self.compute.list_key_pairs())
        self.assertIsNone(listed.private_key)
        self.assertEqual(listed.extra["key_type"], "rsa")
        self.assertTrue((listed.public_key or "").startswith("ssh-rsa "))

    def test_an_ed25519_key_pair(self) -> None:
        created = self.successResultOf(self.compute.create_key_pair("edge", ex_key_type="ed25519"))
        self.assertIn("OPENSSH PRIVATE KEY", created.private_key or "")
        self.assertEqual(created.extra["key_type"], None)
        self.assertEqual(self.ec2.region("us-east-1").key_pairs["edge"].key_type, "ed25519")

    def test_a_taken_name_is_already_exists(self) -> None:
        self.ec2.add_key_pair("deploy")
        error = self.error(self.compute.create_key_pair("deploy"), KeyPairAlreadyExistsError)
        self.assertEqual(error.code, "InvalidKeyPair.Duplicate")

    def test_imported_keys_get_ec2s_fingerprints(self) -> None:
        rsa_key = ssh_public_key("rsa")
        imported = self.successResultOf(self.compute.import_key_pair_from_string("r", rsa_key))
        der = serialization.load_ssh_public_key(rsa_key.encode()).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        md5 = hashlib.md5(der).hexdigest()
        self.assertEqual(imported.fingerprint, ":".join(md5[i : i + 2] for i in range(0, 32, 2)))
        ed_key = ssh_public_key()
        blob = base64.b64decode(ed_key.split()[1])
        edge = self.successResultOf(self.compute.import_key_pair_from_string("e", ed_key))
        self.assertEqual(edge.fingerprint, base64.b64encode(hashlib.sha256(blob).digest()).decode())
        shown = self.successResultOf(self.compute.get_key_pair("e"))
        self.assertEqual(shown.public_key, ed_key)

    def test_a_bad_public_key_is_refused(self) -> None:
        error = self.error(self.compute.import_key_pair_from_string("bad", "ssh-rsa AAAAnope"))
        self.assertEqual(error.code, "InvalidKey.Format")

    def test_a_missing_key_pair(self) -> None:
        error = self.error(self.compute.get_key_pair("gone"), KeyPairDoesNotExistError)
        self.assertEqual(error.code, "InvalidKeyPair.NotFound")
        self.assertTrue(self.successResultOf(self.compute.delete_key_pair("gone")))

    def test_delete_key_pair(self) -> None:
        self.ec2.add_key_pair("deploy")
        self.assertTrue(self.successResultOf(self.compute.delete_key_pair("deploy")))
        self.assertEqual(self.ec2.region("us-east-1").key_pairs, {})


class SecurityGroupTests(EC2FakeTestCase):
    def test_create_authorize_list_and_delete(self) -> None:
        made = self.successResultOf(self.compute.ex_create_security_group("web", "web servers"))
        self.assertTrue(
            self.successResultOf(
                self.compute.ex_authorize_security_group_ingress(
                    "web", 443, 443, ["0.0.0.0/0", "::/0"], description="https"
                )
            )
        )
        self.assertTrue(
            self.successResultOf(
                self.compute.ex_authorize_security_group_ingress(
                    made["group_id"], 22, 22, group_pairs=[{"group_name": "default"}]
                )
            )
        )
        groups = {g.name: g for g in self.successResultOf(self.compute.ex_get_security_groups())}
        web = groups["web"]
        self.assertEqual((web.id, web.extra["description"]), (made["group_id"], "web servers"))
        https, ssh = web.ingress_rules
        self.assertEqual(
            (https["protocol"], https["from_port"], https["cidr_ips"], https["cidr_ipv6s"]),
            ("tcp", 443, ["0.0.0.0/0"], ["::/0"]),
        )
        self.assertEqual(ssh["group_pairs"][0]["group_id"], groups["default"].id)
        self.assertEqual(web.egress_rules[0]["cidr_ips"], ["0.0.0.0/0"])
        self.assertTrue(self.successResultOf(self.compute.ex_delete_security_group("web")))
        self.assertEqual(self.successResultOf(self.compute.ex_list_security_groups()), ["default"])

    def test_duplicates_are_refused(self) -> None:
        self.ec2.add_security_group("web")
        error = self.error(self.compute.ex_create_security_group("web", "again"))
        self.assertEqual(error.code, "InvalidGroup.Duplicate")
        rule = self.compute.ex_authorize_security_group_ingress("web", 80, 80, ["10.0.0.0/8"])
        self.successResultOf(rule)
        again = self.compute.ex_authorize_security_group_ingress("web", 80, 80, ["10.0.0.0/8"])
        self.assertEqual(self.error(again).code, "InvalidPermission.Duplicate")

    def test_groups_in_use_and_the_default_group_cannot_be_deleted(self) -> None:
        self.ec2.add_security_group("web")
        self.ec2.add_instance("server", security_groups=["web"])
        error = self.error(self.compute.ex_delete_security_group("web"))
        self.assertEqual(error.code, "DependencyViolation")
        error = self.error(self.compute.ex_delete_security_group("default"))
        self.assertEqual(error.code, "CannotDelete")
        error = self.error(self.compute.ex_delete_security_group("sg-0123456789abcdef0"))
        self.assertEqual(error.code, "InvalidGroup.NotFound")

    def test_bad_rules_are_refused(self) -> None:
        group = self.ec2.add_security_group("web")
        base = {"GroupId": group.id, "IpPermissions.1.IpProtocol": "tcp"}
        for extra, message in (
            (
                {
                    "IpPermissions.1.FromPort": "22",
                    "IpPermissions.1.ToPort": "22",
                    "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.300/8",
                },
                b"malformed",
            ),
            (
                {
                    "IpPermissions.1.FromPort": "90",
                    "IpPermissions.1.ToPort": "80",
                    "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8",
                },
                b"port range",
            ),
        ):
            status, body = self.call("AuthorizeSecurityGroupIngress", **base, **extra)
            self.assertEqual(status, 400)
            self.assertIn(message, body)
        self.assertEqual(group.ingress, [])


class FaultTests(EC2FakeTestCase):
    def test_throttled_listings_are_retried_after_the_backoff(self) -> None:
        self.ec2.add_instance("web")
        self.ec2.throttle(action="DescribeInstances", times=2)
        d = self.compute.list_nodes()
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.assertNoResult(d)
        self.clock.advance(0.2)
        self.assertEqual([n.name for n in self.successResultOf(d)], ["web"])

    def test_throttling_that_lasts_is_rate_limit_reached(self) -> None:
        self.ec2.throttle(times=None)
        d = self.compute.list_nodes()
        self.clock.advance(0.1)
        self.clock.advance(0.2)
        error = self.error(d, RateLimitReached)
        self.assertEqual((error.status, error.code), (503, "RequestLimitExceeded"))

    def test_a_throttled_launch_is_retried_only_with_a_client_token(self) -> None:
        image = next(iter(self.ec2.region("us-east-1").images))
        self.ec2.throttle(action="RunInstances", times=1)
        self.error(self.compute.create_node("web", "t3.micro", image), RateLimitReached)
        self.ec2.throttle(action="RunInstances", times=1)
        d = self.compute.create_node("web", "t3.micro", image, ex_clienttoken="once")
        self.clock.advance(0.1)
        self.assertEqual(self.successResultOf(d).name, "web")
        self.assertEqual(len(self.ec2.region("us-east-1").instances), 1)

    def test_a_failing_region_does_not_hide_the_others(self) -> None:
        self.ec2.add_instance("east", region="us-east-1")
        self.ec2.add_instance("west", region="us-west-2")
        self.ec2.fail("UnauthorizedOperation", status=403, region="eu-west-1", times=None)
        drivers = self.ec2.drivers(["us-east-1", "eu-west-1", "us-west-2"])
        result = self.successResultOf(multi.list_nodes(drivers))
        self.assertEqual(
            {d.region: [n.name for n in nodes] for d, nodes in result.results.items()},
            {"us-east-1": ["east"], "us-west-2": ["west"]},
        )
        [(failed, failure)] = result.failures.items()
        self.assertEqual(failed.region, "eu-west-1")
        error = failure.value
        assert isinstance(error, InvalidCredsError)
        self.assertEqual(error.code, "UnauthorizedOperation")

    def test_a_delay_holds_one_action(self) -> None:
        self.ec2.delay(30, action="DescribeInstances", times=1)
        d = self.compute.list_nodes()
        self.clock.advance(29)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d), [])

    def test_latency_beyond_the_timeout_times_the_call_out(self) -> None:
        self.ec2.latency = 120
        driver = self.driver("us-east-1", timeout=60, ex_retry=RetryPolicy(max_attempts=1))
        d = driver.list_nodes()
        self.clock.advance(60)
        self.error(d, RequestTimeoutError)


class RealSocketTests(TestCase):
    """The fake's site on a real port, with the driver on the real reactor."""

    def test_a_driver_on_a_port(self) -> Deferred[None]:
        ec2 = FakeEC2()
        ec2.add_instance("web", region="eu-west-1")
        reactor: Any = global_reactor
        port = reactor.listenTCP(0, ec2.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        driver = EC2NodeDriver(
            DEFAULT_KEY,
            DEFAULT_SECRET,
            host="127.0.0.1",
            port=port.getHost().port,
            secure=False,
            region="eu-west-1",
        )
        self.addCleanup(driver.close)

        async def check() -> None:
            [node] = await driver.list_nodes()
            self.assertEqual((node.name, node.state), ("web", NodeState.RUNNING))

        return Deferred.fromCoroutine(check())
