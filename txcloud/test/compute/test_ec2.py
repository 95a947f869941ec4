"""
Unit tests for the EC2 compute driver, txcloud.compute.drivers.ec2, against
an in-memory EC2 Query API (treq's RequestTraversalAgent) on a Clock.

The fixtures follow the shapes of the EC2 API reference (DescribeInstances,
RunInstances, DescribeKeyPairs... responses and the <Response><Errors>
error document), written for these tests.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import attrs
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest

from txcloud import multi
from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.ec2 import (
    API_VERSION,
    AWS_REGIONS,
    EC2NodeDriver,
    EC2SecurityGroup,
    drivers_for_regions,
    region_country,
)
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    MalformedResponseError,
    NodeNotFoundError,
    ProviderError,
    RateLimitReached,
    RequestTimeoutError,
)
from txcloud.http import RetryPolicy
from txcloud.http.pool import new_pool
from txcloud.http.shared_pool import lease_default_pool

#: The namespace AWS writes (with a trailing slash; moto leaves it out).
AWS_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
MOTO_NS = "http://ec2.amazonaws.com/doc/2016-11-15"


def document(action: str, body: str, ns: str | None = AWS_NS) -> str:
    xmlns = f' xmlns="{ns}"' if ns is not None else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response{xmlns}>'
        f"<requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>{body}</{action}Response>"
    )


def error(code: str, message: str = "something was wrong") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"
    )


def tag_set(tags: dict[str, str]) -> str:
    items = "".join(f"<item><key>{k}</key><value>{v}</value></item>" for k, v in tags.items())
    return f"<tagSet>{items}</tagSet>"


def instance(
    instance_id: str = "i-1234567890abcdef0",
    state: str = "running",
    tags: dict[str, str] | None = None,
    public_ip: str | None = "203.0.113.25",
    private_ip: str | None = "10.0.1.17",
    groups: str = "<groupSet><item><groupId>sg-0a1b2c3d</groupId>"
    "<groupName>web</groupName></item></groupSet>",
) -> str:
    public = f"<ipAddress>{public_ip}</ipAddress>" if public_ip else ""
    private = f"<privateIpAddress>{private_ip}</privateIpAddress>" if private_ip else ""
    return (
        f"<item><instanceId>{instance_id}</instanceId><imageId>ami-0abcdef1234567890</imageId>"
        f"<instanceState><code>16</code><name>{state}</name></instanceState>"
        "<privateDnsName>ip-10-0-1-17.ec2.internal</privateDnsName><dnsName/>"
        "<keyName>deploy</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/>"
        "<instanceType>t3.micro</instanceType><launchTime>2024-03-05T10:15:30.000Z</launchTime>"
        "<placement><availabilityZone>us-east-1b</availabilityZone><tenancy>default</tenancy>"
        "</placement><monitoring><state>disabled</state></monitoring>"
        "<subnetId>subnet-0f1e2d3c</subnetId><vpcId>vpc-0a0b0c0d</vpcId>"
        f"{private}{public}{groups}<architecture>x86_64</architecture>"
        "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>"
        "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs>"
        "<volumeId>vol-0123</volumeId><status>attached</status>"
        "<attachTime>2024-03-05T10:15:31.000Z</attachTime>"
        "<deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>"
        f"<virtualizationType>hvm</virtualizationType>{tag_set(tags or {})}"
        "<hypervisor>xen</hypervisor><ebsOptimized>false</ebsOptimized></item>"
    )


def reservation(*instances: str) -> str:
    return (
        "<item><reservationId>r-0a1b2c3d4e5f</reservationId><ownerId>123456789012</ownerId>"
        f"<groupSet/><instancesSet>{''.join(instances)}</instancesSet></item>"
    )


def describe_instances(*reservations: str, next_token: str | None = None, ns: Any = AWS_NS) -> str:
    token = f"<nextToken>{next_token}</nextToken>" if next_token else ""
    body = f"<reservationSet>{''.join(reservations)}</reservationSet>{token}"
    return document("DescribeInstances", body, ns)


def state_change(action: str, instance_id: str, current: str, previous: str) -> str:
    return document(
        action,
        f"<instancesSet><item><instanceId>{instance_id}</instanceId>"
        f"<currentState><code>0</code><name>{current}</name></currentState>"
        f"<previousState><code>16</code><name>{previous}</name></previousState>"
        "</item></instancesSet>",
    )


def instance_type(name: str, vcpus: int, mib: int, storage_gb: int | None = None) -> str:
    storage = (
        f"<instanceStorageInfo><totalSizeInGB>{storage_gb}</totalSizeInGB></instanceStorageInfo>"
        if storage_gb
        else ""
    )
    return (
        f"<item><instanceType>{name}</instanceType><currentGeneration>true</currentGeneration>"
        "<freeTierEligible>false</freeTierEligible><bareMetal>false</bareMetal>"
        "<hypervisor>nitro</hypervisor><processorInfo><supportedArchitectures>"
        "<item>x86_64</item></supportedArchitectures>"
        "<sustainedClockSpeedInGhz>3.1</sustainedClockSpeedInGhz></processorInfo>"
        f"<vCpuInfo><defaultVCpus>{vcpus}</defaultVCpus><defaultCores>{vcpus // 2 or 1}"
        "</defaultCores><defaultThreadsPerCore>2</defaultThreadsPerCore></vCpuInfo>"
        f"<memoryInfo><sizeInMiB>{mib}</sizeInMiB></memoryInfo>"
        f"<instanceStorageSupported>{'true' if storage_gb else 'false'}"
        f"</instanceStorageSupported>{storage}"
        "<networkInfo><networkPerformance>Up to 5 Gigabit</networkPerformance></networkInfo>"
        "</item>"
    )


@attrs.frozen
class Call:
    """One request the fake EC2 received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]

    @property
    def action(self) -> str:
        return self.params["Action"]


class FakeEC2(Resource):
    """
    Answers EC2 Query API posts by action: each action has a queue of
    ``(status, xml)`` answers whose last one repeats.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, list[tuple[int, str]]] = {}
        self.calls: list[Call] = []

    def answer(self, action: str, *answers: str | tuple[int, str]) -> None:
        queue = self.answers.setdefault(action, [])
        queue.extend(a if isinstance(a, tuple) else (200, a) for a in answers)

    def render(self, request: ServerRequest) -> bytes:
        body = request.content.read() if request.content else b""
        call = Call(
            method=request.method.decode(),
            path=request.uri.decode(),
            headers={
                name.decode().lower(): values[0].decode()
                for name, values in request.requestHeaders.getAllRawHeaders()
            },
            body=body,
            params=dict(parse_qsl(body.decode(), keep_blank_values=True)),
        )
        self.calls.append(call)
        queue = self.answers.get(call.params.get("Action", ""))
        if not queue:
            status, xml = 400, error("InvalidAction", "not scripted")
        else:
            status, xml = queue.pop(0) if len(queue) > 1 else queue[0]
        request.setResponseCode(status)
        request.setHeader("Content-Type", "text/xml;charset=UTF-8")
        return xml.encode()

    def actions(self) -> list[str]:
        return [call.action for call in self.calls]


def no_jitter(cap: float) -> float:
    return cap


class EC2TestCase(SynchronousTestCase):
    """A driver in front of a FakeEC2, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.ec2 = FakeEC2()
        self.driver = self.make_driver()

    def make_driver(self, region: str = "us-east-1", **kwargs: Any) -> EC2NodeDriver:
        kwargs.setdefault(
            "ex_retry",
            RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, jitter=no_jitter),
        )
        return EC2NodeDriver(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region=region,
            reactor=self.clock,
            ex_agent=RequestTraversalAgent(self.ec2),
            **kwargs,
        )

    def node(self, node_id: str = "i-1234567890abcdef0") -> Node:
        return Node(node_id, "web", NodeState.RUNNING, [], [], self.driver)

    def assert_refused(self, call: Callable[[], object]) -> InvalidArgumentError:
        """*call* raises InvalidArgumentError and sends nothing."""
        raised = self.assertRaises(InvalidArgumentError, call)
        self.assertEqual(self.ec2.calls, [])
        return raised


class DriverTests(EC2TestCase):
    def test_get_driver_finds_the_ec2_driver(self) -> None:
        self.assertIs(get_driver(Provider.EC2), EC2NodeDriver)

    def test_driver_describes_itself_as_ec2(self) -> None:
        self.assertEqual(
            (EC2NodeDriver.name, EC2NodeDriver.type, EC2NodeDriver.service_name),
            ("Amazon EC2", Provider.EC2, "ec2"),
        )

    def test_endpoint_is_the_regional_one(self) -> None:
        driver = EC2NodeDriver("AKIDEXAMPLE", "secret", region="eu-west-1")
        self.assertEqual(driver.endpoint, "https://ec2.eu-west-1.amazonaws.com")

    def test_endpoint_follows_host_and_port(self) -> None:
        driver = EC2NodeDriver("AKIDEXAMPLE", "secret", host="127.0.0.1", port=5000, secure=False)
        self.assertEqual(driver.endpoint, "http://127.0.0.1:5000")

    def test_a_bad_region_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, EC2NodeDriver, "AKIDEXAMPLE", "s", region="moon")

    def test_requests_are_signed_form_posts_with_hashed_bodies(self) -> None:
        self.ec2.answer("DescribeInstances", describe_instances())
        self.successResultOf(self.driver.list_nodes())
        [call] = self.ec2.calls
        self.assertEqual((call.method, call.path), ("POST", "/"))
        self.assertEqual(
            call.headers["content-type"], "application/x-www-form-urlencoded; charset=utf-8"
        )
        self.assertEqual(call.params, {"Action": "DescribeInstances", "Version": API_VERSION})
        self.assertEqual(
            call.headers["x-amz-content-sha256"], hashlib.sha256(call.body).hexdigest()
        )
        authorization = call.headers["authorization"]
        self.assertTrue(authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        self.assertIn("/us-east-1/ec2/aws4_request", authorization)
        self.assertNotIn("wJalrXUtnFEMI", repr(self.driver))

    def test_describe_calls_are_retried_when_throttled(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            (503, error("RequestLimitExceeded", "Request limit exceeded.")),
            describe_instances(reservation(instance())),
        )
        d = self.driver.list_nodes()
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(len(self.successResultOf(d)), 1)
        self.assertEqual(self.ec2.actions(), ["DescribeInstances", "DescribeInstances"])

    def test_throttling_that_outlasts_the_retries_is_rate_limit_reached(self) -> None:
        self.ec2.answer("DescribeInstances", (503, error("RequestLimitExceeded")))
        d = self.driver.list_nodes()
        self.clock.advance(1)
        self.clock.advance(2)
        failure = self.failureResultOf(d, RateLimitReached)
        self.assertEqual(failure.value.code, "RequestLimitExceeded")
        self.assertEqual(len(self.ec2.calls), 3)

    def test_run_instances_is_not_retried(self) -> None:
        self.ec2.answer("RunInstances", (503, error("RequestLimitExceeded")))
        d = self.driver.create_node("web", "t3.micro", "ami-0abcdef1234567890")
        self.failureResultOf(d, RateLimitReached)
        self.assertEqual(self.ec2.actions(), ["RunInstances"])

    def test_run_instances_with_a_client_token_is_retried(self) -> None:
        self.ec2.answer(
            "RunInstances",
            (503, error("RequestLimitExceeded")),
            document("RunInstances", f"<instancesSet>{instance()}</instancesSet>"),
        )
        d = self.driver.create_node("web", "t3.micro", "ami-1", ex_clienttoken="token-1")
        self.clock.advance(1)
        self.successResultOf(d)
        self.assertEqual([call.params["ClientToken"] for call in self.ec2.calls], ["token-1"] * 2)

    def test_auth_failure_is_invalid_creds_error(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            (401, error("AuthFailure", "AWS was not able to validate the provided credentials")),
        )
        failure = self.failureResultOf(self.driver.list_nodes(), InvalidCredsError)
        self.assertEqual((failure.value.status, failure.value.code), (401, "AuthFailure"))
        self.assertEqual(failure.value.driver_name, "Amazon EC2")
        self.assertNotIn("wJalrXUtnFEMI", str(failure.value))

    def test_a_code_without_a_finer_error_is_a_provider_error(self) -> None:
        self.ec2.answer("DescribeImages", (400, error("InvalidAMIID.Malformed")))
        failure = self.failureResultOf(self.driver.list_images(), ProviderError)
        self.assertIs(type(failure.value), ProviderError)
        self.assertEqual(failure.value.code, "InvalidAMIID.Malformed")
        self.assertEqual(failure.value.request_id, "ea966190-f9aa-478e-9ede-example")


class ListNodesTests(EC2TestCase):
    def test_nodes_carry_libclouds_fields(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance(tags={"Name": "web-1", "team": "infra"}))),
        )
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual(
            (node.id, node.name, node.state, node.public_ips, node.private_ips),
            ("i-1234567890abcdef0", "web-1", NodeState.RUNNING, ["203.0.113.25"], ["10.0.1.17"]),
        )
        self.assertEqual(node.created_at, datetime(2024, 3, 5, 10, 15, 30, tzinfo=timezone.utc))
        self.assertIs(node.driver, self.driver)
        self.assertEqual(
            {key: node.extra[key] for key in ("instance_type", "image_id", "availability")},
            {
                "instance_type": "t3.micro",
                "image_id": "ami-0abcdef1234567890",
                "availability": "us-east-1b",
            },
        )
        self.assertEqual(
            (node.extra["key_name"], node.extra["subnet_id"], node.extra["vpc_id"]),
            ("deploy", "subnet-0f1e2d3c", "vpc-0a0b0c0d"),
        )
        self.assertEqual(node.extra["tags"], {"Name": "web-1", "team": "infra"})
        self.assertEqual(node.extra["security_groups"], ["web"])
        self.assertEqual(node.extra["security_group_ids"], ["sg-0a1b2c3d"])
        self.assertEqual(node.extra["groups"], [{"group_id": "sg-0a1b2c3d", "group_name": "web"}])
        self.assertEqual(node.extra["block_device_mapping"][0]["ebs"]["volume_id"], "vol-0123")
        self.assertEqual(node.extra["launch_index"], 0)

    def test_a_node_without_a_name_tag_is_named_by_its_id(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance(public_ip=None, private_ip=None))),
        )
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual((node.name, node.public_ips, node.private_ips), (node.id, [], []))

    def test_instance_states_map_to_node_states(self) -> None:
        states = {
            "pending": NodeState.PENDING,
            "running": NodeState.RUNNING,
            "shutting-down": NodeState.UNKNOWN,
            "terminated": NodeState.TERMINATED,
            "stopping": NodeState.STOPPING,
            "stopped": NodeState.STOPPED,
            "hibernating-someday": NodeState.UNKNOWN,
        }
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(
                reservation(*(instance(f"i-{n}", state) for n, state in enumerate(states)))
            ),
        )
        nodes = self.successResultOf(self.driver.list_nodes())
        self.assertEqual([node.state for node in nodes], list(states.values()))

    def test_list_nodes_follows_every_page(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance("i-1")), next_token="page-2"),
            describe_instances(reservation(instance("i-2"), instance("i-3")), next_token="page-3"),
            describe_instances(reservation(instance("i-4"))),
        )
        nodes = self.successResultOf(self.driver.list_nodes())
        self.assertEqual([node.id for node in nodes], ["i-1", "i-2", "i-3", "i-4"])
        self.assertEqual(
            [call.params.get("NextToken") for call in self.ec2.calls], [None, "page-2", "page-3"]
        )

    def test_iterate_nodes_fetches_a_page_only_when_needed(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance("i-1")), next_token="page-2"),
            describe_instances(reservation(instance("i-2"))),
        )
        nodes = self.driver.iterate_nodes()

        async def next_node() -> Node:
            return await nodes.__anext__()

        first = self.successResultOf(Deferred.fromCoroutine(next_node()))
        self.assertEqual((first.id, len(self.ec2.calls)), ("i-1", 1))
        second = self.successResultOf(Deferred.fromCoroutine(next_node()))
        self.assertEqual((second.id, len(self.ec2.calls)), ("i-2", 2))

    def test_a_repeated_page_token_is_a_malformed_response(self) -> None:
        self.ec2.answer(
            "DescribeInstances", describe_instances(reservation(instance()), next_token="same")
        )
        self.failureResultOf(self.driver.list_nodes(), MalformedResponseError)
        self.assertEqual(len(self.ec2.calls), 2)

    def test_node_ids_and_filters_become_query_parameters(self) -> None:
        self.ec2.answer("DescribeInstances", describe_instances())
        self.successResultOf(
            self.driver.list_nodes(
                ex_node_ids=["i-1", "i-2"],
                ex_filters={"instance-state-name": ["running", "stopped"], "tag:team": "infra"},
            )
        )
        params = self.ec2.calls[0].params
        self.assertEqual(
            {key: value for key, value in params.items() if key not in ("Action", "Version")},
            {
                "InstanceId.1": "i-1",
                "InstanceId.2": "i-2",
                "Filter.1.Name": "instance-state-name",
                "Filter.1.Value.1": "running",
                "Filter.1.Value.2": "stopped",
                "Filter.2.Name": "tag:team",
                "Filter.2.Value.1": "infra",
            },
        )

    def test_page_size_is_sent_as_max_results(self) -> None:
        self.ec2.answer("DescribeInstances", describe_instances())
        self.successResultOf(self.driver.list_nodes(ex_page_size=5))
        self.assertEqual(self.ec2.calls[0].params["MaxResults"], "5")

    def test_bad_listing_arguments_are_refused_before_any_request(self) -> None:
        cases: tuple[dict[str, Any], ...] = (
            {"ex_node_ids": []},
            {"ex_node_ids": [""]},
            {"ex_node_ids": 42},
            {"ex_filters": [("name", "value")]},
            {"ex_filters": {"tag:team": []}},
            {"ex_page_size": 4},
            {"ex_page_size": 1001},
            {"ex_page_size": True},
            {"ex_page_size": 10, "ex_node_ids": ["i-1"]},
        )
        for kwargs in cases:
            with self.subTest(kwargs=kwargs):
                self.assert_refused(partial(self.driver.list_nodes, **kwargs))

    def test_namespace_spelling_does_not_matter(self) -> None:
        for ns in (AWS_NS, MOTO_NS, None):
            self.ec2.answers.clear()
            self.ec2.answer("DescribeInstances", describe_instances(reservation(instance()), ns=ns))
            with self.subTest(ns=ns):
                [node] = self.successResultOf(self.driver.list_nodes())
                self.assertEqual(
                    (node.id, node.extra["instance_type"]), (instance_id(), "t3.micro")
                )

    def test_groups_named_only_on_network_interfaces_are_found(self) -> None:
        # moto's shape: no groupSet on the instance, groups on its interface.
        interface = (
            "<networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId>"
            "<groupSet><item><groupId>sg-9</groupId><groupName>default</groupName></item>"
            "</groupSet><association><publicIp>198.51.100.7</publicIp></association>"
            "</item></networkInterfaceSet>"
        )
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance(groups="<groupSet/>" + interface))),
        )
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual(node.extra["security_groups"], ["default"])
        self.assertEqual(node.extra["network_interfaces"][0]["public_ip"], "198.51.100.7")

    def test_an_unknown_node_id_is_node_not_found(self) -> None:
        for code in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            self.ec2.answers.clear()
            self.ec2.answer("DescribeInstances", (400, error(code)))
            with self.subTest(code=code):
                failure = self.failureResultOf(
                    self.driver.list_nodes(ex_node_ids=["i-0"]), NodeNotFoundError
                )
                self.assertEqual((failure.value.status, failure.value.code), (400, code))

    def test_an_instance_without_an_id_is_a_malformed_response(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation("<item><instanceType>t3.micro</instanceType></item>")),
        )
        self.failureResultOf(self.driver.list_nodes(), MalformedResponseError)


def instance_id() -> str:
    return "i-1234567890abcdef0"


class CreateNodeTests(EC2TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ec2.answer(
            "RunInstances",
            document(
                "RunInstances",
                "<reservationId>r-1</reservationId><ownerId>123456789012</ownerId>"
                f"<groupSet/><instancesSet>{instance(state='pending')}</instancesSet>",
            ),
        )
        self.size = NodeSize("t3.micro", "t3.micro", 1024, 0, None, None, self.driver)
        self.image = NodeImage("ami-0abcdef1234567890", "al2023", self.driver)
        self.zone = NodeLocation(
            "us-east-1b", "us-east-1b", "US", self.driver, {"availability_zone": "us-east-1b"}
        )

    def sent(self) -> dict[str, str]:
        [call] = self.ec2.calls
        self.assertEqual(call.action, "RunInstances")
        return {
            key: value for key, value in call.params.items() if key not in ("Action", "Version")
        }

    def test_create_node_sends_run_instances_with_a_name_tag(self) -> None:
        self.successResultOf(self.driver.create_node("web-1", self.size, self.image))
        self.assertEqual(
            self.sent(),
            {
                "ImageId": "ami-0abcdef1234567890",
                "InstanceType": "t3.micro",
                "MinCount": "1",
                "MaxCount": "1",
                "TagSpecification.1.ResourceType": "instance",
                "TagSpecification.1.Tag.1.Key": "Name",
                "TagSpecification.1.Tag.1.Value": "web-1",
            },
        )

    def test_create_node_fires_with_the_named_node(self) -> None:
        node = self.successResultOf(self.driver.create_node("web-1", self.size, self.image))
        self.assertIsInstance(node, Node)
        self.assertEqual((node.id, node.name, node.state), (instance_id(), "web-1", "pending"))
        self.assertEqual(node.extra["tags"], {"Name": "web-1"})

    def test_create_node_passes_every_option(self) -> None:
        self.successResultOf(
            self.driver.create_node(
                "web-1",
                self.size,
                self.image,
                self.zone,
                ex_keyname="deploy",
                ex_userdata="#!/bin/sh\necho hello\n",
                ex_security_groups=["web", "ssh"],
                ex_security_group_ids=["sg-1"],
                ex_subnet="subnet-1",
                ex_metadata={"team": "infra"},
                ex_blockdevicemappings=[
                    {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "Encrypted": True}}
                ],
                ex_iamprofile="arn:aws:iam::123456789012:instance-profile/web",
                ex_ebs_optimized=True,
                ex_placement_group="spread-1",
                ex_terminate_on_shutdown=True,
            )
        )
        sent = self.sent()
        self.assertEqual(
            {key: sent[key] for key in sent if not key.startswith("TagSpecification")},
            {
                "ImageId": "ami-0abcdef1234567890",
                "InstanceType": "t3.micro",
                "MinCount": "1",
                "MaxCount": "1",
                "Placement.AvailabilityZone": "us-east-1b",
                "KeyName": "deploy",
                "UserData": base64.b64encode(b"#!/bin/sh\necho hello\n").decode(),
                "SecurityGroup.1": "web",
                "SecurityGroup.2": "ssh",
                "SecurityGroupId.1": "sg-1",
                "SubnetId": "subnet-1",
                "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
                "BlockDeviceMapping.1.Ebs.VolumeSize": "20",
                "BlockDeviceMapping.1.Ebs.Encrypted": "true",
                "IamInstanceProfile.Arn": "arn:aws:iam::123456789012:instance-profile/web",
                "EbsOptimized": "true",
                "Placement.GroupName": "spread-1",
                "InstanceInitiatedShutdownBehavior": "terminate",
            },
        )
        self.assertEqual(sent["TagSpecification.1.Tag.2.Key"], "team")
        self.assertEqual(sent["TagSpecification.1.Tag.2.Value"], "infra")

    def test_a_public_address_moves_subnet_and_groups_to_the_interface(self) -> None:
        subnet = attrs.make_class("Subnet", ["id"])("subnet-7")
        self.successResultOf(
            self.driver.create_node(
                "web-1",
                self.size,
                self.image,
                ex_subnet=subnet,
                ex_security_group_ids=["sg-1"],
                ex_assign_public_ip=True,
            )
        )
        sent = self.sent()
        self.assertNotIn("SubnetId", sent)
        self.assertEqual(
            {key: value for key, value in sent.items() if key.startswith("NetworkInterface.")},
            {
                "NetworkInterface.1.SubnetId": "subnet-7",
                "NetworkInterface.1.SecurityGroupId.1": "sg-1",
                "NetworkInterface.1.DeviceIndex": "0",
                "NetworkInterface.1.AssociatePublicIpAddress": "true",
                "NetworkInterface.1.DeleteOnTermination": "true",
            },
        )

    def test_several_instances_fire_with_a_list(self) -> None:
        self.ec2.answers.clear()
        self.ec2.answer(
            "RunInstances",
            document(
                "RunInstances",
                f"<instancesSet>{instance('i-1', 'pending')}{instance('i-2', 'pending')}"
                "</instancesSet>",
            ),
        )
        nodes = self.successResultOf(
            self.driver.create_node("web", self.size, self.image, ex_mincount=2, ex_maxcount=3)
        )
        self.assertEqual([(node.id, node.name) for node in nodes], [("i-1", "web"), ("i-2", "web")])
        self.assertEqual((self.sent()["MinCount"], self.sent()["MaxCount"]), ("2", "3"))

    def test_bad_create_arguments_are_refused_before_any_request(self) -> None:
        other_zone = NodeLocation(
            "eu-west-1a", "eu-west-1a", "IE", self.driver, {"availability_zone": "eu-west-1a"}
        )
        for args, kwargs in (
            (("", self.size, self.image), {}),
            ((None, self.size, self.image), {}),
            (("web", 42, self.image), {}),
            (("web", self.size, None), {}),
            (("web", self.size, self.image, "us-east-1a"), {}),
            (("web", self.size, self.image, other_zone), {}),
            (("web", self.size, self.image), {"ex_mincount": 0}),
            (("web", self.size, self.image), {"ex_mincount": True}),
            (("web", self.size, self.image), {"ex_mincount": 3, "ex_maxcount": 2}),
            (("web", self.size, self.image), {"ex_maxcount": "2"}),
            (("web", self.size, self.image), {"ex_userdata": 7}),
            (("web", self.size, self.image), {"ex_userdata": b"x" * (16 * 1024 + 1)}),
            (("web", self.size, self.image), {"ex_metadata": ["team"]}),
            (("web", self.size, self.image), {"ex_metadata": {"team": 1}}),
            (("web", self.size, self.image), {"ex_security_groups": [""]}),
            (("web", self.size, self.image), {"ex_blockdevicemappings": {"DeviceName": "x"}}),
            (("web", self.size, self.image), {"ex_blockdevicemappings": [{"Ebs": object()}]}),
            (("web", self.size, self.image), {"ex_keyname": ""}),
            (("web", self.size, self.image), {"auth": "password"}),
        ):
            with self.subTest(args=args, kwargs=kwargs):
                self.assert_refused(partial(self.driver.create_node, *args, **kwargs))


class NodeActionTests(EC2TestCase):
    def test_reboot_node_sends_the_instance_id(self) -> None:
        self.ec2.answer("RebootInstances", document("RebootInstances", "<return>true</return>"))
        self.assertIs(self.successResultOf(self.driver.reboot_node(self.node())), True)
        self.assertEqual(self.ec2.calls[0].params["InstanceId.1"], instance_id())

    def test_state_changes_fire_with_whether_ec2_began_them(self) -> None:
        cases = (
            (self.driver.start_node, "StartInstances", "pending", "stopped", True),
            (self.driver.stop_node, "StopInstances", "stopping", "running", True),
            (self.driver.destroy_node, "TerminateInstances", "shutting-down", "running", True),
            (self.driver.stop_node, "StopInstances", "running", "running", False),
        )
        for method, action, current, previous, expected in cases:
            self.ec2.answers.clear()
            self.ec2.answer(action, state_change(action, instance_id(), current, previous))
            with self.subTest(action=action, current=current):
                self.assertIs(self.successResultOf(method(self.node())), expected)
                self.assertEqual(self.ec2.calls[-1].params["InstanceId.1"], instance_id())

    def test_node_model_methods_delegate_to_the_driver(self) -> None:
        self.ec2.answer(
            "TerminateInstances",
            state_change("TerminateInstances", instance_id(), "shutting-down", "running"),
        )
        self.assertIs(self.successResultOf(self.node().destroy()), True)
        self.assertEqual(self.ec2.actions(), ["TerminateInstances"])

    def test_actions_on_a_missing_node_fail_with_node_not_found(self) -> None:
        self.ec2.answer("StopInstances", (400, error("InvalidInstanceID.NotFound")))
        self.failureResultOf(self.driver.stop_node(self.node("i-0")), NodeNotFoundError)

    def test_actions_refuse_what_is_not_a_node(self) -> None:
        for method in (
            self.driver.reboot_node,
            self.driver.start_node,
            self.driver.stop_node,
            self.driver.destroy_node,
        ):
            with self.subTest(method=method.__name__):
                not_a_node: Any = "i-1234"
                self.assert_refused(partial(method, not_a_node))

    def test_wait_until_running_polls_until_the_node_runs(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance(state="pending", public_ip=None))),
            describe_instances(reservation(instance(state="running"))),
        )
        d = self.driver.wait_until_running([self.node()], wait_period=5, timeout=60)
        self.assertNoResult(d)
        self.clock.advance(5)
        [(node, addresses)] = self.successResultOf(d)
        self.assertEqual((node.state, addresses), (NodeState.RUNNING, ["203.0.113.25"]))

    def test_wait_until_running_times_out_for_a_stopped_node(self) -> None:
        self.ec2.answer(
            "DescribeInstances", describe_instances(reservation(instance(state="stopped")))
        )
        d = self.driver.wait_until_running([self.node()], wait_period=5, timeout=10)
        self.clock.advance(5)
        self.clock.advance(5)
        self.failureResultOf(d, RequestTimeoutError)


class CatalogueTests(EC2TestCase):
    def test_list_sizes_follows_pages_and_reads_instance_types(self) -> None:
        self.ec2.answer(
            "DescribeInstanceTypes",
            document(
                "DescribeInstanceTypes",
                f"<instanceTypeSet>{instance_type('t3.micro', 2, 1024)}</instanceTypeSet>"
                "<nextToken>more</nextToken>",
            ),
            document(
                "DescribeInstanceTypes",
                f"<instanceTypeSet>{instance_type('m5d.large', 2, 8192, 75)}</instanceTypeSet>",
            ),
        )
        small, large = self.successResultOf(self.driver.list_sizes())
        self.assertEqual(
            [(s.id, s.name, s.ram, s.disk, s.bandwidth, s.price) for s in (small, large)],
            [
                ("t3.micro", "t3.micro", 1024, 0, None, None),
                ("m5d.large", "m5d.large", 8192, 75, None, None),
            ],
        )
        self.assertEqual(
            {key: small.extra[key] for key in ("vcpus", "architectures", "clock_speed_ghz")},
            {"vcpus": 2, "architectures": ["x86_64"], "clock_speed_ghz": 3.1},
        )
        self.assertIs(large.extra["instance_storage_supported"], True)
        self.assertEqual(self.ec2.calls[1].params["NextToken"], "more")

    def test_list_images_sends_owners_ids_and_filters(self) -> None:
        self.ec2.answer(
            "DescribeImages",
            document(
                "DescribeImages",
                "<imagesSet><item><imageId>ami-1</imageId><imageLocation>amazon/al2023</imageLocation>"
                "<imageState>available</imageState><imageOwnerId>137112412989</imageOwnerId>"
                "<creationDate>2024-02-01T00:00:00.000Z</creationDate><isPublic>true</isPublic>"
                "<architecture>arm64</architecture><imageType>machine</imageType>"
                "<name>al2023-ami-arm64</name><rootDeviceType>ebs</rootDeviceType>"
                f"{tag_set({'os': 'linux'})}</item></imagesSet>",
            ),
        )
        [image] = self.successResultOf(
            self.driver.list_images(
                ex_owner="amazon", ex_image_ids=["ami-1"], ex_filters={"architecture": "arm64"}
            )
        )
        self.assertEqual((image.id, image.name), ("ami-1", "al2023-ami-arm64"))
        self.assertEqual(
            (image.extra["owner_id"], image.extra["architecture"], image.extra["tags"]),
            ("137112412989", "arm64", {"os": "linux"}),
        )
        self.assertEqual(image.extra["creation_date"], datetime(2024, 2, 1, tzinfo=timezone.utc))
        params = self.ec2.calls[0].params
        self.assertEqual(
            (params["Owner.1"], params["ImageId.1"], params["Filter.1.Name"]),
            ("amazon", "ami-1", "architecture"),
        )

    def test_list_locations_lists_zones_with_the_regions_country(self) -> None:
        driver = self.make_driver("eu-west-1")
        self.ec2.answer(
            "DescribeAvailabilityZones",
            document(
                "DescribeAvailabilityZones",
                "<availabilityZoneInfo><item><zoneName>eu-west-1a</zoneName>"
                "<zoneState>available</zoneState><regionName>eu-west-1</regionName>"
                "<zoneId>euw1-az1</zoneId><zoneType>availability-zone</zoneType></item>"
                "</availabilityZoneInfo>",
            ),
        )
        [zone] = self.successResultOf(driver.list_locations())
        self.assertEqual((zone.id, zone.name, zone.country), ("eu-west-1a", "eu-west-1a", "IE"))
        self.assertEqual(
            zone.extra,
            {
                "availability_zone": "eu-west-1a",
                "zone_id": "euw1-az1",
                "zone_state": "available",
                "zone_type": "availability-zone",
                "region_name": "eu-west-1",
            },
        )

    def test_region_countries(self) -> None:
        self.assertEqual(
            [region_country(r) for r in ("us-east-1", "eu-central-1", "us-gov-west-1", "xx-new-1")],
            ["US", "DE", "US", ""],
        )
        self.assertTrue(all(region_country(region) for region in AWS_REGIONS))


class KeyPairTests(EC2TestCase):
    KEY_ITEM = (
        "<keyPairId>key-0123</keyPairId><keyName>deploy</keyName>"
        "<keyFingerprint>1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f"
        "</keyFingerprint><keyType>rsa</keyType>"
    )

    def test_list_key_pairs_asks_for_public_keys(self) -> None:
        self.ec2.answer(
            "DescribeKeyPairs",
            document(
                "DescribeKeyPairs",
                f"<keySet><item>{self.KEY_ITEM}<publicKey>ssh-rsa AAAA deploy</publicKey>"
                "</item></keySet>",
            ),
        )
        [key] = self.successResultOf(self.driver.list_key_pairs())
        self.assertEqual(
            (key.name, key.fingerprint, key.public_key, key.private_key),
            (
                "deploy",
                "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f",
                "ssh-rsa AAAA deploy",
                None,
            ),
        )
        self.assertEqual((key.extra["key_pair_id"], key.extra["key_type"]), ("key-0123", "rsa"))
        self.assertEqual(self.ec2.calls[0].params["IncludePublicKey"], "true")

    def test_get_key_pair_of_a_missing_name_is_key_pair_does_not_exist(self) -> None:
        self.ec2.answer("DescribeKeyPairs", (400, error("InvalidKeyPair.NotFound")))
        self.failureResultOf(self.driver.get_key_pair("gone"), KeyPairDoesNotExistError)
        self.assertEqual(self.ec2.calls[0].params["KeyName.1"], "gone")

    def test_get_key_pair_of_an_empty_answer_is_key_pair_does_not_exist(self) -> None:
        self.ec2.answer("DescribeKeyPairs", document("DescribeKeyPairs", "<keySet/>"))
        self.failureResultOf(self.driver.get_key_pair("gone"), KeyPairDoesNotExistError)

    def test_create_key_pair_returns_the_private_key_once(self) -> None:
        self.ec2.answer(
            "CreateKeyPair",
            document(
                "CreateKeyPair",
                f"{self.KEY_ITEM}<keyMaterial>-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"
                "-----END RSA PRIVATE KEY-----</keyMaterial>",
            ),
        )
        key = self.successResultOf(self.driver.create_key_pair("deploy", ex_key_type="rsa"))
        self.assertTrue((key.private_key or "").startswith("-----BEGIN RSA PRIVATE KEY-----"))
        self.assertEqual(self.ec2.calls[0].params["KeyType"], "rsa")
        self.assertNotIn("PRIVATE", repr(key))

    def test_creating_a_taken_name_is_key_pair_already_exists(self) -> None:
        self.ec2.answer("CreateKeyPair", (400, error("InvalidKeyPair.Duplicate")))
        self.failureResultOf(self.driver.create_key_pair("deploy"), KeyPairAlreadyExistsError)

    def test_import_sends_the_key_base64_encoded(self) -> None:
        self.ec2.answer("ImportKeyPair", document("ImportKeyPair", self.KEY_ITEM))
        material = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMfrkUXZ me@example"
        key = self.successResultOf(self.driver.import_key_pair_from_string("deploy", material))
        self.assertEqual(key.public_key, material)
        self.assertEqual(
            base64.b64decode(self.ec2.calls[0].params["PublicKeyMaterial"]).decode(), material
        )

    def test_delete_key_pair_takes_a_key_pair_or_a_name(self) -> None:
        self.ec2.answer("DeleteKeyPair", document("DeleteKeyPair", "<return>true</return>"))
        key = KeyPair("deploy", None, None, self.driver)
        self.assertIs(self.successResultOf(self.driver.delete_key_pair(key)), True)
        self.assertIs(self.successResultOf(self.driver.delete_key_pair("other")), True)
        self.assertEqual([c.params["KeyName"] for c in self.ec2.calls], ["deploy", "other"])

    def test_bad_key_pair_arguments_are_refused(self) -> None:
        self.assert_refused(lambda: self.driver.get_key_pair(""))
        self.assert_refused(lambda: self.driver.create_key_pair(None))  # type: ignore[arg-type]
        self.assert_refused(lambda: self.driver.import_key_pair_from_string("k", ""))
        self.assert_refused(lambda: self.driver.delete_key_pair(3))  # type: ignore[arg-type]


class SecurityGroupTests(EC2TestCase):
    GROUP = (
        "<item><ownerId>123456789012</ownerId><groupId>sg-0a1b2c3d</groupId>"
        "<groupName>web</groupName><groupDescription>web servers</groupDescription>"
        "<vpcId>vpc-0a0b0c0d</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol>"
        "<fromPort>443</fromPort><toPort>443</toPort><groups><item>"
        "<userId>123456789012</userId><groupId>sg-lb</groupId></item></groups>"
        "<ipRanges><item><cidrIp>203.0.113.0/24</cidrIp></item></ipRanges>"
        "<ipv6Ranges><item><cidrIpv6>2001:db8::/32</cidrIpv6></item></ipv6Ranges>"
        "</item></ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol>"
        "<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>"
        "</ipPermissionsEgress></item>"
    )

    def test_get_security_groups_reads_rules(self) -> None:
        self.ec2.answer(
            "DescribeSecurityGroups",
            document(
                "DescribeSecurityGroups", f"<securityGroupInfo>{self.GROUP}</securityGroupInfo>"
            ),
        )
        [group] = self.successResultOf(
            self.driver.ex_get_security_groups(group_ids=["sg-0a1b2c3d"])
        )
        self.assertIsInstance(group, EC2SecurityGroup)
        self.assertEqual((group.id, group.name), ("sg-0a1b2c3d", "web"))
        self.assertEqual(
            group.ingress_rules,
            [
                {
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_ips": ["203.0.113.0/24"],
                    "cidr_ipv6s": ["2001:db8::/32"],
                    "group_pairs": [
                        {"group_id": "sg-lb", "group_name": None, "user_id": "123456789012"}
                    ],
                }
            ],
        )
        self.assertEqual(
            (group.egress_rules[0]["protocol"], group.egress_rules[0]["from_port"]), ("-1", None)
        )
        self.assertEqual(
            (group.extra["description"], group.extra["vpc_id"]), ("web servers", "vpc-0a0b0c0d")
        )
        self.assertEqual(self.ec2.calls[0].params["GroupId.1"], "sg-0a1b2c3d")

    def test_list_security_groups_lists_names(self) -> None:
        self.ec2.answer(
            "DescribeSecurityGroups",
            document(
                "DescribeSecurityGroups", f"<securityGroupInfo>{self.GROUP}</securityGroupInfo>"
            ),
        )
        self.assertEqual(self.successResultOf(self.driver.ex_list_security_groups()), ["web"])

    def test_create_security_group_fires_with_its_id(self) -> None:
        self.ec2.answer(
            "CreateSecurityGroup",
            document("CreateSecurityGroup", "<return>true</return><groupId>sg-new</groupId>"),
        )
        created = self.successResultOf(
            self.driver.ex_create_security_group("web", "web servers", vpc_id="vpc-1")
        )
        self.assertEqual(created, {"group_id": "sg-new"})
        params = self.ec2.calls[0].params
        self.assertEqual(
            (params["GroupName"], params["GroupDescription"], params["VpcId"]),
            ("web", "web servers", "vpc-1"),
        )

    def test_delete_security_group_by_id_or_name(self) -> None:
        self.ec2.answer(
            "DeleteSecurityGroup", document("DeleteSecurityGroup", "<return>true</return>")
        )
        group = EC2SecurityGroup("sg-3", "db", self.driver)
        for target in ("sg-1", "web", group):
            self.assertIs(self.successResultOf(self.driver.ex_delete_security_group(target)), True)
        sent = [
            {k: v for k, v in call.params.items() if k.startswith("Group")}
            for call in self.ec2.calls
        ]
        self.assertEqual(sent, [{"GroupId": "sg-1"}, {"GroupName": "web"}, {"GroupId": "sg-3"}])

    def test_authorize_ingress_sends_ranges_and_groups(self) -> None:
        self.ec2.answer(
            "AuthorizeSecurityGroupIngress",
            document("AuthorizeSecurityGroupIngress", "<return>true</return>"),
        )
        authorized = self.driver.ex_authorize_security_group_ingress(
            "sg-1",
            22,
            22,
            cidr_ips=["198.51.100.0/24", "2001:db8::/64"],
            group_pairs=[{"group_id": "sg-2", "user_id": "123456789012"}],
            description="ssh",
        )
        self.assertIs(self.successResultOf(authorized), True)
        params = dict(self.ec2.calls[0].params)
        del params["Action"], params["Version"]
        self.assertEqual(
            params,
            {
                "GroupId": "sg-1",
                "IpPermissions.1.IpProtocol": "tcp",
                "IpPermissions.1.FromPort": "22",
                "IpPermissions.1.ToPort": "22",
                "IpPermissions.1.IpRanges.1.CidrIp": "198.51.100.0/24",
                "IpPermissions.1.IpRanges.1.Description": "ssh",
                "IpPermissions.1.Ipv6Ranges.1.CidrIpv6": "2001:db8::/64",
                "IpPermissions.1.Ipv6Ranges.1.Description": "ssh",
                "IpPermissions.1.Groups.1.GroupId": "sg-2",
                "IpPermissions.1.Groups.1.UserId": "123456789012",
                "IpPermissions.1.Groups.1.Description": "ssh",
            },
        )

    def test_bad_security_group_arguments_are_refused(self) -> None:
        authorize = self.driver.ex_authorize_security_group_ingress
        text_port: Any = "22"
        for call in (
            lambda: self.driver.ex_create_security_group("", "d"),
            lambda: self.driver.ex_create_security_group("sg-web", "d"),
            lambda: self.driver.ex_create_security_group("web", ""),
            lambda: self.driver.ex_delete_security_group(""),
            lambda: authorize("sg-1", 22, 22),
            lambda: authorize("sg-1", 22, 22, cidr_ips=["not-a-range"]),
            lambda: authorize("sg-1", 22, 70000, cidr_ips=["10.0.0.0/8"]),
            lambda: authorize("sg-1", text_port, 22, cidr_ips=["10.0.0.0/8"]),
            lambda: authorize("sg-1", 22, 22, group_pairs=[{"user_id": "1"}]),
            lambda: authorize("sg-1", 22, 22, group_pairs=[{"group_id": "sg-2", "vpc": "x"}]),
        ):
            self.assert_refused(call)


class FanOutTests(EC2TestCase):
    def test_drivers_for_regions_share_the_reactors_default_pool(self) -> None:
        reactor = MemoryReactorClock()
        drivers = drivers_for_regions("AKIDEXAMPLE", "secret", reactor=reactor)
        self.assertEqual([driver.region for driver in drivers], list(AWS_REGIONS))
        self.assertTrue(all(isinstance(driver, EC2NodeDriver) for driver in drivers))
        agents = {id(driver.http._agent) for driver in drivers}
        self.assertEqual(len(agents), 1)
        default = lease_default_pool(reactor)
        lease = drivers[0].http._lease
        self.assertIs(lease and lease.pool, default.pool)
        self.successResultOf(default.release())
        closes: list[int] = []

        def close() -> Deferred[None]:
            closes.append(1)
            return succeed(None)

        self.patch(default.pool, "closeCachedConnections", close)
        for driver in drivers[:-1]:
            self.successResultOf(driver.close())
        self.assertEqual(closes, [])
        self.successResultOf(drivers[-1].close())
        self.assertEqual(closes, [1])

    def test_drivers_for_regions_uses_the_callers_pool(self) -> None:
        pool = new_pool(MemoryReactorClock())
        drivers = drivers_for_regions(
            "AKIDEXAMPLE", "secret", regions=["us-east-1", "eu-west-1"], ex_pool=pool
        )
        self.assertEqual([driver._pool for driver in drivers], [pool, pool])
        self.assertEqual([driver.http._lease for driver in drivers], [None, None])

    def test_drivers_for_regions_refuses_no_regions(self) -> None:
        self.assertRaises(InvalidArgumentError, drivers_for_regions, "AKID", "s", regions=[])

    def test_fan_out_keeps_one_regions_failure_from_the_others(self) -> None:
        self.ec2.answer(
            "DescribeInstances",
            describe_instances(reservation(instance())),
            (401, error("AuthFailure")),
        )
        good, bad = self.make_driver("us-east-1"), self.make_driver("eu-west-1")
        result = self.successResultOf(multi.list_nodes([good, bad], concurrency=1))
        self.assertEqual([node.id for node in result.results[good]], [instance_id()])
        self.assertIsInstance(result.failures[bad].value, InvalidCredsError)
