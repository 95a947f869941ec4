"""
:class:`FakeEC2`: one in-memory AWS account's EC2, every region at once,
behind the Query API (the instance calls are in :mod:`._instances`, key
pairs and security groups in :mod:`._keys_groups`).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from txcloud.common.aws import AWS_REGIONS
from txcloud.compute.drivers.ec2 import EC2NodeDriver, drivers_for_regions
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing.aws_credentials import FakeSTS
from txcloud.testing.ec2._instances import InstanceActions
from txcloud.testing.ec2._keys import generate, parse_public_key
from txcloud.testing.ec2._keys_groups import (
    KeyAndGroupActions,
    store_key_pair,
    store_security_group,
)
from txcloud.testing.ec2._models import (
    ACCOUNT_ID,
    STATE_CODES,
    FakeImage,
    FakeInstance,
    FakeInstanceType,
    FakeKeyPair,
    FakeRegion,
    FakeRule,
    FakeSecurityGroup,
    resource_id,
)
from txcloud.testing.ec2._query import (
    E,
    EC2Call,
    Params,
    check_filters,
    error_document,
    fields,
    invalid,
    item_set,
    matches_filters,
)

__all__ = ["DEFAULT_KEY", "DEFAULT_SECRET", "FakeEC2"]

#: The access key id :meth:`FakeEC2.driver` signs with (AWS's documentation example).
DEFAULT_KEY = "AKIAIOSFODNN7EXAMPLE"
#: Its secret access key.
DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")
_HOST_REGION = re.compile(r"ec2\.([a-z0-9-]+)\.amazonaws\.com")
_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"

# Public images every region starts with (when asked for a catalogue).
_CATALOGUE_IMAGES = (
    ("al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64", "137112412989", "amazon", "x86_64"),
    ("al2023-ami-2023.6.20241212.0-kernel-6.1-arm64", "137112412989", "amazon", "arm64"),
    (
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241206",
        "099720109477",
        None,
        "x86_64",
    ),
)
_CATALOGUE_TYPES = (
    FakeInstanceType("t3.nano", 2, 512),
    FakeInstanceType("t3.micro", 2, 1024),
    FakeInstanceType("t3.small", 2, 2048),
    FakeInstanceType("t3.medium", 2, 4096),
    FakeInstanceType("m5.large", 2, 8192),
    FakeInstanceType("c6g.large", 2, 4096, ("arm64",)),
    FakeInstanceType("i3.large", 2, 15616, storage=475),
)
_ZONE_FILTERS = ("zone-name", "state", "region-name", "zone-type")
# When the catalogue images were made: 2024-12-12.
_CATALOGUE_TIME = 1733961600.0


class FakeEC2(FakeService, InstanceActions, KeyAndGroupActions):
    """
    An in-memory EC2 account (see :mod:`txcloud.testing.ec2`): each request
    is served by the region it was signed for.

    :param clock: what dates resources, moves instances through their
        states and delays answers: a ``Clock`` in unit tests; the global
        reactor by default.
    :param regions: the regions it serves (others answer ``AuthFailure``,
        as AWS does for regions not enabled); every AWS region by default.
    :param access_keys: the access key ids it accepts; any when ``None``.
    :param catalogue: give each region three public images (Amazon Linux
        on x86_64 and arm64, Ubuntu) and the account seven instance types.
    :ivar instance_types: :class:`FakeInstanceType` by name.
    :ivar boot_seconds: seconds an instance stays ``pending`` (0: it is
        ``running`` at the next look).
    :ivar stop_seconds: seconds it stays ``stopping``.
    :ivar terminate_seconds: seconds it stays ``shutting-down``.
    :ivar terminated_visible_seconds: seconds a terminated instance is still listed.
    :ivar instance_limit: instances (not terminated) a region may have.
    :ivar sts: the :class:`~txcloud.testing.aws_credentials.FakeSTS` that
        answers STS calls sent here, and whose session keys are accepted.
    :ivar default_page_size: results per page of DescribeInstances,
        DescribeImages, DescribeInstanceTypes and DescribeSecurityGroups
        when the client does not give ``MaxResults``; all when ``None``.
    """

    def __init__(
        self,
        *,
        clock: Any = None,
        regions: Iterable[str] | None = None,
        access_keys: Iterable[str] | None = None,
        catalogue: bool = True,
    ) -> None:
        super().__init__(clock)
        self.served_regions = frozenset(AWS_REGIONS if regions is None else regions)
        self.access_keys = None if access_keys is None else set(access_keys)
        self.catalogue = catalogue
        self.instance_types: dict[str, FakeInstanceType] = (
            {kind.name: kind for kind in _CATALOGUE_TYPES} if catalogue else {}
        )
        self.boot_seconds = 0.0
        self.stop_seconds = 0.0
        self.terminate_seconds = 0.0
        self.terminated_visible_seconds = 3600.0
        self.instance_limit = 20
        self.default_page_size: int | None = None
        self._regions: dict[str, FakeRegion] = {}
        self._counter = 0
        self.sts = FakeSTS(self.clock)

    # Drivers

    def driver(
        self,
        region: str = "us-east-1",
        *,
        reactor: Any = None,
        key: str | None = DEFAULT_KEY,
        secret: str | None = DEFAULT_SECRET,
        **kwargs: Any,
    ) -> EC2NodeDriver:
        """
        A real :class:`~txcloud.compute.drivers.ec2.EC2NodeDriver` for
        *region*, whose requests come here through a new :meth:`agent`.

        :param reactor: the driver's reactor; this fake's clock by default.
        :param kwargs: more driver arguments (``ex_retry``...); with
            ``ex_credentials`` (a role through :attr:`sts`...), *key* and
            *secret* are not used.
        """
        if "ex_credentials" in kwargs:
            key = secret = None
        return EC2NodeDriver(
            key,
            secret,
            region=region,
            reactor=self.clock if reactor is None else reactor,
            ex_agent=self.agent(),
            **kwargs,
        )

    def drivers(
        self,
        regions: Iterable[str] | None = None,
        *,
        reactor: Any = None,
        key: str | None = DEFAULT_KEY,
        secret: str | None = DEFAULT_SECRET,
        **kwargs: Any,
    ) -> list[EC2NodeDriver]:
        """
        One driver per region (:func:`~txcloud.compute.drivers.ec2.drivers_for_regions`),
        all sending here, for fan-out with :mod:`txcloud.multi`.

        :param regions: the regions; every region this fake serves by default.
        """
        if "ex_credentials" in kwargs:
            key = secret = None
        return drivers_for_regions(
            key,
            secret,
            sorted(self.served_regions) if regions is None else regions,
            reactor=self.clock if reactor is None else reactor,
            ex_agent=self.agent(),
            **kwargs,
        )

    # Regions and seeding

    def region(self, name: str) -> FakeRegion:
        """
        The region *name*, with its zones (``a`` to ``c``), default VPC,
        subnets and ``default`` security group.

        :raises ValueError: for a region this fake does not serve.
        """
        found = self._regions.get(name)
        if found is not None:
            return found
        if name not in self.served_regions:
            raise ValueError(f"this fake does not serve region {name!r}")
        zones = [f"{name}{letter}" for letter in "abc"]
        region = FakeRegion(
            name,
            zones,
            resource_id("vpc", name),
            {resource_id("subnet", zone): zone for zone in zones},
        )
        default = store_security_group(region, "default", "default VPC security group", 0)
        default.ingress.append(FakeRule("-1", None, None, groups={default.id: None}))
        if self.catalogue:
            for image_name, owner, alias, architecture in _CATALOGUE_IMAGES:
                image = FakeImage(
                    resource_id("ami", name, image_name),
                    image_name,
                    owner,
                    _CATALOGUE_TIME,
                    owner_alias=alias,
                    architecture=architecture,
                )
                region.images[image.id] = image
        self._regions[name] = region
        return region

    def add_image(
        self,
        name: str,
        *,
        region: str = "us-east-1",
        architecture: str = "x86_64",
        public: bool = False,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> FakeImage:
        """Register an image owned by this account in *region*."""
        image = FakeImage(
            resource_id("ami", region, name, self._next()),
            name,
            ACCOUNT_ID,
            self.clock.seconds(),
            architecture=architecture,
            description=description,
            public=public,
            tags=dict(tags or {}),
        )
        self.region(region).images[image.id] = image
        return image

    def add_instance(
        self,
        name: str | None = None,
        *,
        region: str = "us-east-1",
        state: str = "running",
        instance_type: str = "t3.micro",
        image_id: str | None = None,
        zone: str | None = None,
        key_name: str | None = None,
        security_groups: Iterable[str] = ("default",),
        tags: Mapping[str, str] | None = None,
        public_ip: bool = True,
    ) -> FakeInstance:
        """
        Add an instance, as if launched earlier and now in *state*.

        :param name: its ``Name`` tag.
        :param image_id: its image; the region's first by default.
        :param zone: its availability zone; the region's first by default.
        :param security_groups: names of its security groups.
        :param public_ip: whether it has a public address while it runs.
        :raises ValueError: for an unknown state, type, zone or group.
        """
        found = self.region(region)
        if state not in STATE_CODES:
            raise ValueError(f"state must be one of {', '.join(STATE_CODES)}, not {state!r}")
        if instance_type not in self.instance_types:
            raise ValueError(f"unknown instance type {instance_type!r}: add it first")
        zone = zone or found.zones[0]
        if zone not in found.zones:
            raise ValueError(f"no zone {zone!r} in region {region!r}")
        groups = [found.group_named(group) for group in security_groups]
        if None in groups:
            raise ValueError(f"add the security groups {list(security_groups)} first")
        image = found.images.get(image_id or "") or next(iter(found.images.values()), None)
        number = self._next()
        instance = FakeInstance(
            id=resource_id("i", region, number),
            image_id=image_id or (image.id if image else resource_id("ami", region, "none")),
            instance_type=instance_type,
            zone=zone,
            subnet_id=next(s for s, z in found.subnets.items() if z == zone),
            vpc_id=found.vpc_id,
            private_ip=self._private_ip(found, zone),
            reservation_id=resource_id("r", region, number),
            launch_time=self.clock.seconds(),
            state=state,
            tags={**({"Name": name} if name else {}), **(tags or {})},
            key_name=key_name,
            security_groups={group.id: group.name for group in groups if group is not None},
            architecture=image.architecture if image else "x86_64",
            wants_public_ip=public_ip,
        )
        if state == "terminated":
            instance.ended_at = instance.launch_time
        found.instances[instance.id] = instance
        self._settle(found)
        return instance

    def set_state(self, instance_id: str, state: str, *, region: str = "us-east-1") -> None:
        """
        Put an instance in *state* at once (an instance that stops by itself...).

        :raises ValueError: for an unknown instance or state.
        """
        instance = self.region(region).instances.get(instance_id)
        if instance is None or state not in STATE_CODES:
            raise ValueError(f"no instance {instance_id!r} in {region}, or no state {state!r}")
        instance.move(state, None, self.clock.seconds())
        instance.ended_at = self.clock.seconds() if state == "terminated" else None
        self._settle(self.region(region))

    def add_key_pair(
        self,
        name: str,
        *,
        region: str = "us-east-1",
        public_key: str | None = None,
        key_type: str = "ed25519",
    ) -> FakeKeyPair:
        """Add a key pair: *public_key* (OpenSSH) if given, else a new one of *key_type*."""
        key = generate(key_type) if public_key is None else parse_public_key(public_key)
        return store_key_pair(self.region(region), name, key, self.clock.seconds())

    def add_security_group(
        self, name: str, description: str = "", *, region: str = "us-east-1"
    ) -> FakeSecurityGroup:
        """Add a security group (no ingress rules, all egress) to the region's default VPC."""
        found = self.region(region)
        if found.group_named(name) is not None:
            raise ValueError(f"security group {name!r} exists in {region}")
        return store_security_group(found, name, description or name, self._next())

    # Faults

    def fail(
        self,
        code: str,
        *,
        status: int = 400,
        message: str | None = None,
        action: str | None = None,
        region: str | None = None,
        times: int | None = 1,
    ) -> None:
        """
        Answer the next *times* calls with an EC2 error (after checking
        their credentials).

        :param code: the EC2 error code (``"UnauthorizedOperation"``,
            ``"InternalError"``...).
        :param status: the HTTP status.
        :param action: only this action (``"DescribeInstances"``).
        :param region: only calls for this region.
        :param times: how many calls; ``None`` for every one.
        """
        refused = Refused(status, code, message or f"injected {code}")
        self._add_fault(self._fault_target(action, region), None, times, refused)

    def throttle(
        self, *, action: str | None = None, region: str | None = None, times: int | None = 1
    ) -> None:
        """
        Answer the next *times* calls ``503 RequestLimitExceeded``, as EC2
        throttles (the transport retries the calls that are safe to repeat).
        """
        self.fail(
            "RequestLimitExceeded",
            status=503,
            message="Request limit exceeded.",
            action=action,
            region=region,
            times=times,
        )

    def delay(
        self,
        seconds: float,
        *,
        action: str | None = None,
        region: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer matching calls *seconds* later on the clock (on top of :attr:`latency`)."""
        self._add_fault(self._fault_target(action, region), None, times, delay=seconds)

    @staticmethod
    def _fault_target(action: str | None, region: str | None) -> list[str]:
        if action is None and region is None:
            return []
        return [f"{glob.escape(region) if region else '*'}/{action or '*'}"]

    # Requests

    def _region_of(self, received: Received) -> str:
        found = _CREDENTIAL.search(received.header("authorization") or "")
        if found is not None:
            return found[2]
        by_host = _HOST_REGION.fullmatch((received.header("host") or "").rsplit(":", 1)[0])
        return by_host[1] if by_host else "us-east-1"

    def _target(self, received: Received) -> str:
        return f"{self._region_of(received)}/{received.form().get('Action', '')}"

    def _authenticate(self, received: Received) -> None:
        found = _CREDENTIAL.search(received.header("authorization") or "")
        if found is None:
            raise Refused(
                401, "MissingAuthenticationToken", "The request must contain valid credentials."
            )
        key, region = found[1], found[2]
        if self.sts.expired(key):
            raise Refused(
                400, "RequestExpired", "The security token included in the request is expired"
            )
        known = self.access_keys is None or key in self.access_keys
        if not (known or self.sts.session(key) is not None):
            raise Refused(401, "AuthFailure", _AUTH_FAILURE)
        if region not in self.served_regions:
            raise Refused(401, "AuthFailure", _AUTH_FAILURE)

    def _delegate(self, received: Received) -> FakeService | None:
        return self.sts if FakeSTS.wants(received) else None

    def _request_id(self) -> str:
        number = len(self.received)
        return f"{number:08x}-0000-4000-8000-{number:012x}"

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        headers = {"Content-Type": "text/xml;charset=UTF-8", **refused.headers}
        return Reply(refused.status, headers, error_document(refused, self._request_id()))

    def _handle(self, received: Received) -> Reply:
        if received.method not in ("GET", "POST") or received.path not in ("", "/"):
            raise Refused(400, "InvalidAction", "The Query API is served at / by GET or POST.")
        params = Params(received.form())
        action = params.get("Action") or ""
        endpoint = _ACTIONS.get(action)
        if endpoint is None:
            raise Refused(
                400, "InvalidAction", f"The action {action} is not valid for this web service."
            )
        region = self.region(self._region_of(received))
        return endpoint(self, EC2Call(action, params, region, self._request_id()))

    # Catalogue calls

    def _describe_instance_types(self, call: EC2Call) -> Reply:
        names = call.params.strings("InstanceType")
        unknown = [name for name in names if name not in self.instance_types]
        if unknown:
            raise invalid(
                f"The following supplied instance types do not exist: [{', '.join(unknown)}]",
                "InvalidInstanceType",
            )
        filters = call.params.filters()
        check_filters(filters, FakeInstanceType.FILTERS, tags=False)
        found = [
            kind
            for kind in self.instance_types.values()
            if (not names or kind.name in names) and matches_filters(filters, kind.filter_values)
        ]
        page, token = call.params.page(call.action, found, self.default_page_size)
        return call.answer(
            item_set("instanceTypeSet", (kind.item() for kind in page)), ("nextToken", token)
        )

    def _describe_images(self, call: EC2Call) -> Reply:
        region = call.region
        ids = call.params.strings("ImageId")
        missing = [image_id for image_id in ids if image_id not in region.images]
        if missing:
            raise invalid(
                f"The image id '[{', '.join(missing)}]' does not exist", "InvalidAMIID.NotFound"
            )
        owners = call.params.strings("Owner")
        filters = call.params.filters()
        check_filters(filters, FakeImage.FILTERS, tags=True)

        def owned(image: FakeImage) -> bool:
            wanted = {ACCOUNT_ID if owner == "self" else owner for owner in owners}
            return not owners or bool({image.owner_id, image.owner_alias} & wanted)

        found = [
            image
            for image in region.images.values()
            if (not ids or image.id in ids)
            and (image.public or image.owner_id == ACCOUNT_ID)
            and owned(image)
            and matches_filters(filters, image.filter_values)
        ]
        page, token = call.params.page(call.action, found, self.default_page_size)
        return call.answer(
            item_set("imagesSet", (image.item() for image in page)), ("nextToken", token)
        )

    def _describe_availability_zones(self, call: EC2Call) -> Reply:
        region = call.region
        names = call.params.strings("ZoneName")
        filters = call.params.filters()
        check_filters(filters, _ZONE_FILTERS, tags=False)
        short = "".join(part[0] for part in region.name.split("-")[:-1]) + region.name[-1]
        items = []
        for number, zone in enumerate(region.zones, 1):
            values = {
                "zone-name": [zone],
                "state": ["available"],
                "region-name": [region.name],
                "zone-type": ["availability-zone"],
            }
            if (names and zone not in names) or not matches_filters(filters, values.__getitem__):
                continue
            items.append(
                fields(
                    E.item(),
                    [
                        ("zoneName", zone),
                        ("zoneState", "available"),
                        ("regionName", region.name),
                        ("zoneId", f"{short}-az{number}"),
                        ("zoneType", "availability-zone"),
                        item_set("messageSet", []),
                    ],
                )
            )
        return call.answer(item_set("availabilityZoneInfo", items))


_Action = Callable[[FakeEC2, EC2Call], Reply]

_ACTIONS: dict[str, _Action] = {
    "DescribeInstances": FakeEC2._describe_instances,
    "RunInstances": FakeEC2._run_instances,
    "StartInstances": FakeEC2._change_states,
    "StopInstances": FakeEC2._change_states,
    "TerminateInstances": FakeEC2._change_states,
    "RebootInstances": FakeEC2._reboot_instances,
    "DescribeInstanceTypes": FakeEC2._describe_instance_types,
    "DescribeImages": FakeEC2._describe_images,
    "DescribeAvailabilityZones": FakeEC2._describe_availability_zones,
    "DescribeKeyPairs": FakeEC2._describe_key_pairs,
    "CreateKeyPair": FakeEC2._create_key_pair,
    "ImportKeyPair": FakeEC2._import_key_pair,
    "DeleteKeyPair": FakeEC2._delete_key_pair,
    "DescribeSecurityGroups": FakeEC2._describe_security_groups,
    "CreateSecurityGroup": FakeEC2._create_security_group,
    "DeleteSecurityGroup": FakeEC2._delete_security_group,
    "AuthorizeSecurityGroupIngress": FakeEC2._authorize_security_group_ingress,
}
