"""
The instance calls of the EC2 fake: DescribeInstances, RunInstances,
StartInstances, StopInstances, RebootInstances and TerminateInstances,
with instances moving through EC2's states on the clock.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any

from txcloud.testing._http import Refused, Reply
from txcloud.testing.ec2._models import (
    FakeImage,
    FakeInstance,
    FakeInstanceType,
    FakeRegion,
    FakeSecurityGroup,
    reservations,
    resource_id,
)
from txcloud.testing.ec2._query import (
    E,
    EC2Call,
    check_filters,
    invalid,
    item_set,
    matches_filters,
    numbered,
)

__all__ = ["InstanceActions"]

_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
_IMAGE_ID = re.compile(r"ami-[0-9a-f]{8}(?:[0-9a-f]{9})?")
_MAX_USER_DATA = 16 * 1024
_FIRST_PUBLIC_IP = ipaddress.IPv4Address("198.18.0.10")


def _incorrect_state(instance: FakeInstance, doing: str) -> Refused:
    return invalid(
        f"The instance '{instance.id}' is not in a state from which it can be {doing}.",
        code="IncorrectInstanceState",
    )


class InstanceActions:
    """The instance calls of :class:`~txcloud.testing.ec2.FakeEC2`."""

    clock: Any
    instance_types: dict[str, FakeInstanceType]
    boot_seconds: float
    stop_seconds: float
    terminate_seconds: float
    terminated_visible_seconds: float
    instance_limit: int
    default_page_size: int | None
    _counter: int

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    # Lookups

    def _settle(self, region: FakeRegion) -> None:
        """Bring every instance of *region* up to the clock's time."""
        now = self.clock.seconds()
        for instance in list(region.instances.values()):
            if instance.next_state is not None and now >= instance.next_at:
                instance.state, instance.next_state = instance.next_state, None
                if instance.state == "terminated":
                    instance.ended_at = instance.next_at
            if instance.state in ("stopped", "terminated"):
                instance.public_ip = None
            elif instance.wants_public_ip and instance.public_ip is None:
                instance.public_ip = str(_FIRST_PUBLIC_IP + self._next())
            if instance.ended_at is not None and (
                now - instance.ended_at >= self.terminated_visible_seconds
            ):
                del region.instances[instance.id]

    def _named_instances(self, call: EC2Call) -> list[FakeInstance]:
        """The instances ``InstanceId.N`` names (an error for any not found)."""
        ids = call.params.strings("InstanceId")
        if not ids:
            raise invalid("The request must contain the parameter InstanceId", "MissingParameter")
        for instance_id in ids:
            if not _INSTANCE_ID.fullmatch(instance_id):
                raise invalid(
                    f'Invalid id: "{instance_id}" (expecting "i-...")',
                    "InvalidInstanceID.Malformed",
                )
        missing = [i for i in ids if i not in call.region.instances]
        if missing:
            listed = ", ".join(missing)
            noun = "ID" if len(missing) == 1 else "IDs"
            verb = "does" if len(missing) == 1 else "do"
            raise invalid(
                f"The instance {noun} '{listed}' {verb} not exist", "InvalidInstanceID.NotFound"
            )
        return [call.region.instances[i] for i in ids]

    # Calls

    def _describe_instances(self, call: EC2Call) -> Reply:
        region = call.region
        if call.params.strings("InstanceId") and call.params.get("MaxResults"):
            raise invalid(
                "The parameter instancesSet cannot be used with the parameter maxResults",
                "InvalidParameterCombination",
            )
        self._settle(region)
        if call.params.strings("InstanceId"):
            found = self._named_instances(call)
        else:
            found = list(region.instances.values())
        filters = call.params.filters()
        check_filters(filters, FakeInstance.FILTERS, tags=True)
        found = [i for i in found if matches_filters(filters, i.filter_values)]
        page, token = call.params.page(call.action, found, self.default_page_size)
        return call.answer(item_set("reservationSet", reservations(page)), ("nextToken", token))

    def _run_instances(self, call: EC2Call) -> Reply:
        params, region = call.params, call.region
        image = self._launch_image(call)
        instance_type = params.required("InstanceType")
        kind = self.instance_types.get(instance_type)
        if kind is None:
            raise invalid(f"Invalid value '{instance_type}' for InstanceType.")
        if image.architecture not in kind.architectures:
            raise invalid(
                f"The architecture '{', '.join(kind.architectures)}' of the specified instance "
                f"type does not match the architecture '{image.architecture}' of the specified AMI."
            )
        low, high = self._counts(call)
        token = params.get("ClientToken")
        if token and token in region.client_tokens:
            # The same client token: the same launch, nothing new.
            return self._reservation_answer(call, region.client_tokens[token])
        key_name = params.get("KeyName")
        if key_name is not None and key_name not in region.key_pairs:
            raise invalid(f"The key pair '{key_name}' does not exist", "InvalidKeyPair.NotFound")
        interface = next(iter(params.structures("NetworkInterface")), {})
        zone, subnet = self._placement(call, interface)
        groups = self._launch_groups(call, interface)
        options = self._launch_options(call)
        live = sum(1 for i in region.instances.values() if i.state != "terminated")
        if live + low > self.instance_limit:
            raise invalid(
                f"You have requested more instances ({live + low}) than your current instance "
                f"limit of {self.instance_limit} allows for the specified instance type.",
                "InstanceLimitExceeded",
            )
        reservation_id = resource_id("r", region.name, self._next())
        now = self.clock.seconds()
        for index in range(min(high, self.instance_limit - live)):
            number = self._next()
            instance = FakeInstance(
                id=resource_id("i", region.name, number),
                image_id=image.id,
                instance_type=instance_type,
                zone=zone,
                subnet_id=subnet,
                vpc_id=region.vpc_id,
                private_ip=self._private_ip(region, zone),
                reservation_id=reservation_id,
                launch_time=now,
                key_name=key_name,
                security_groups={group.id: group.name for group in groups},
                client_token=token or "",
                launch_index=index,
                architecture=image.architecture,
                wants_public_ip=interface.get("AssociatePublicIpAddress", "true") != "false",
                **options,
            )
            instance.move("pending", "running", now + self.boot_seconds)
            region.instances[instance.id] = instance
        if token:
            region.client_tokens[token] = reservation_id
        return self._reservation_answer(call, reservation_id)

    def _reservation_answer(self, call: EC2Call, reservation_id: str) -> Reply:
        instances = call.region.reservation(reservation_id)
        [reservation] = reservations(instances)
        return call.answer(*list(reservation))

    def _launch_image(self, call: EC2Call) -> FakeImage:
        image_id = call.params.required("ImageId")
        if not _IMAGE_ID.fullmatch(image_id):
            raise invalid(
                f'Invalid id: "{image_id}" (expecting "ami-...")', "InvalidAMIID.Malformed"
            )
        image = call.region.images.get(image_id)
        if image is None:
            raise invalid(f"The image id '[{image_id}]' does not exist", "InvalidAMIID.NotFound")
        return image

    def _counts(self, call: EC2Call) -> tuple[int, int]:
        counts = []
        for name in ("MinCount", "MaxCount"):
            value = call.params.required(name)
            if not value.isdigit() or int(value) < 1:
                raise invalid(f"Value ({value}) for parameter {name} is invalid.")
            counts.append(int(value))
        if counts[0] > counts[1]:
            raise invalid("MinCount must be less than or equal to MaxCount")
        return counts[0], counts[1]

    def _placement(self, call: EC2Call, interface: dict[str, Any]) -> tuple[str, str]:
        region = call.region
        subnet = call.params.get("SubnetId") or interface.get("SubnetId")
        zone = call.params.get("Placement.AvailabilityZone")
        if subnet is not None and subnet not in region.subnets:
            raise invalid(f"The subnet ID '{subnet}' does not exist", "InvalidSubnetID.NotFound")
        if zone is not None and zone not in region.zones:
            raise invalid(f"Invalid availability zone: [{zone}]")
        if subnet is not None and zone is not None and region.subnets[subnet] != zone:
            raise invalid(f"Subnet {subnet} is not in availability zone {zone}")
        if subnet is None:
            zone = zone or region.zones[0]
            subnet = next(s for s, z in region.subnets.items() if z == zone)
        return region.subnets[subnet], subnet

    def _launch_groups(self, call: EC2Call, interface: dict[str, Any]) -> list[FakeSecurityGroup]:
        region = call.region
        ids = call.params.strings("SecurityGroupId") + [
            value for value in numbered(interface.get("SecurityGroupId") or {})
        ]
        groups = []
        for group_id in ids:
            group = region.security_groups.get(group_id)
            if group is None:
                raise invalid(
                    f"The security group '{group_id}' does not exist", "InvalidGroup.NotFound"
                )
            groups.append(group)
        for name in call.params.strings("SecurityGroup"):
            named = region.group_named(name)
            if named is None:
                raise invalid(
                    f"The security group '{name}' does not exist in default VPC '{region.vpc_id}'",
                    "InvalidGroup.NotFound",
                )
            groups.append(named)
        default = region.group_named("default")
        return groups or ([default] if default is not None else [])

    def _launch_options(self, call: EC2Call) -> dict[str, Any]:
        params = call.params
        user_data = None
        encoded = params.get("UserData")
        if encoded is not None:
            try:
                user_data = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise invalid("Invalid BASE64 encoding of user data.") from None
            if len(user_data) > _MAX_USER_DATA:
                raise invalid(f"User data is limited to {_MAX_USER_DATA} bytes")
        shutdown = params.get("InstanceInitiatedShutdownBehavior") or "stop"
        if shutdown not in ("stop", "terminate"):
            raise invalid(f"Value ({shutdown}) for parameter instanceInitiatedShutdownBehavior")
        profile = params.get("IamInstanceProfile.Name") or params.get("IamInstanceProfile.Arn")
        return {
            "tags": params.tags_for("instance"),
            "user_data": user_data,
            "iam_profile": profile.rsplit("/", 1)[-1] if profile else None,
            "ebs_optimized": params.flag("EbsOptimized"),
            "placement_group": params.get("Placement.GroupName"),
            "shutdown_behavior": shutdown,
        }

    def _private_ip(self, region: FakeRegion, zone: str) -> str:
        # The default VPC is 172.31.0.0/16, one /20 subnet per zone.
        number = self._next()
        third = region.zones.index(zone) * 16 + number // 250 % 16
        return f"172.31.{third}.{number % 250 + 4}"

    def _change_states(self, call: EC2Call) -> Reply:
        region = call.region
        self._settle(region)
        instances = self._named_instances(call)
        now = self.clock.seconds()
        moves = [self._move_for(call.action, instance, now) for instance in instances]
        items = []
        for instance, move in zip(instances, moves, strict=True):
            previous = instance.state
            if move is not None:
                instance.move(*move)
                if move[0] == "pending":
                    self._settle(region)
            items.append(
                E.item(
                    E.instanceId(instance.id),
                    instance.state_element("currentState", instance.state),
                    instance.state_element("previousState", previous),
                )
            )
        return call.answer(item_set("instancesSet", items))

    def _move_for(
        self, action: str, instance: FakeInstance, now: float
    ) -> tuple[str, str, float] | None:
        """The state change *action* makes (``None``: none), or an error if it cannot."""
        state = instance.state
        if action == "StartInstances":
            if state in ("pending", "running"):
                return None
            if state != "stopped":
                raise _incorrect_state(instance, "started")
            return "pending", "running", now + self.boot_seconds
        if action == "StopInstances":
            if state in ("stopping", "stopped"):
                return None
            if state not in ("pending", "running"):
                raise _incorrect_state(instance, "stopped")
            return "stopping", "stopped", now + self.stop_seconds
        if state in ("shutting-down", "terminated"):
            return None
        return "shutting-down", "terminated", now + self.terminate_seconds

    def _reboot_instances(self, call: EC2Call) -> Reply:
        self._settle(call.region)
        for instance in self._named_instances(call):
            if instance.state != "running":
                raise _incorrect_state(instance, "rebooted")
        return call.answer(("return", True))
