"""
:class:`EC2NodeDriver`: Amazon EC2 through its Query API (``Action=...``
form posts, SigV4-signed, XML answers), and :func:`drivers_for_regions`,
one driver per region for fan-out.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from twisted.internet.defer import Deferred

from txcloud.auth.aws.chain import credentials_for
from txcloud.common.aws import AWS_REGIONS
from txcloud.common.paging import collect
from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.ec2.images import EC2ImagesMixin
from txcloud.compute.drivers.ec2.parse import (
    Fields,
    parse_image,
    parse_key_pair,
    parse_location,
    parse_node,
    parse_size,
)
from txcloud.compute.drivers.ec2.query import (
    Params,
    check_tags,
    check_text,
    filter_params,
    flatten,
    indexed,
    selection_params,
    tag_specification,
    text_list,
)
from txcloud.compute.drivers.ec2.regions import region_country
from txcloud.compute.drivers.ec2.security_groups import EC2SecurityGroupsMixin
from txcloud.compute.drivers.ec2.volumes import EC2VolumesMixin
from txcloud.errors import InvalidArgumentError, KeyPairDoesNotExistError, MalformedResponseError
from txcloud.http import findall_local, findtext_local

__all__ = ["MAX_USERDATA", "EC2NodeDriver", "drivers_for_regions"]

#: Largest user data EC2 accepts, before base64 encoding.
MAX_USERDATA = 16 * 1024

# What each state-changing call reports once EC2 has accepted it.
_STARTED = frozenset({"pending", "running"})
_STOPPED = frozenset({"stopping", "stopped"})
_TERMINATED = frozenset({"shutting-down", "terminated"})


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be an integer >= 1, not {value!r}")
    return value


def _page_size(value: object) -> str:
    # DescribeInstances takes 5 to 1000 results per page.
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 1000:
        raise InvalidArgumentError(f"ex_page_size must be an integer in 5..1000, not {value!r}")
    return str(value)


def _id_of(value: object, model: type, what: str) -> str:
    # Models or their ids: a NodeSize or "t3.micro".
    if isinstance(value, model):
        value = getattr(value, "id", None)
    return check_text(value, what)


def _node_id(node: object) -> str:
    if not isinstance(node, Node):
        raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}")
    return check_text(node.id, "the node's id")


class EC2NodeDriver(EC2SecurityGroupsMixin, EC2VolumesMixin, EC2ImagesMixin):
    """
    Amazon EC2 in one region.

    ::

        driver = EC2NodeDriver(key, secret, region="eu-west-1")
        nodes = await driver.list_nodes()

    Takes :class:`~txcloud.common.aws.AWSDriver`'s arguments (``key``,
    ``secret``, ``secure``, ``host``, ``port``, ``region``, ``ex_token``,
    ``ex_profile``, ``ex_credentials``, ``ex_environ``, ``reactor``,
    ``timeout``, ``ex_pool``...).

    The transport retries, on throttling and server errors, the calls that
    are safe to repeat: every listing, ``start_node``, ``stop_node``,
    ``destroy_node``, ``delete_key_pair``, and ``create_node`` given an
    ``ex_clienttoken`` (which makes RunInstances idempotent).  Other calls
    fail at the first error.
    """

    # Nodes

    def iterate_nodes(
        self,
        ex_node_ids: Iterable[str] | None = None,
        ex_filters: Mapping[str, str | Iterable[str]] | None = None,
        ex_page_size: int | None = None,
    ) -> AsyncIterator[Node]:
        """
        The nodes of this region, fetched a page at a time (DescribeInstances).

        :param ex_node_ids: only these instance ids; an unknown id fails
            with :class:`~txcloud.errors.NodeNotFoundError`.
        :param ex_filters: EC2 filters, ``{"instance-state-name": "running"}``.
        :param ex_page_size: instances per page, 5 to 1000 (not with
            *ex_node_ids*); EC2's default otherwise.
        :returns: an async iterator of :class:`~txcloud.compute.base.Node`.
        :raises InvalidArgumentError: for bad arguments, before any request.
        """
        params = selection_params([("InstanceId", ex_node_ids, "ex_node_ids")], ex_filters)
        if ex_page_size is not None:
            if ex_node_ids is not None:
                raise InvalidArgumentError("ex_page_size cannot be used with ex_node_ids", self)
            params["MaxResults"] = _page_size(ex_page_size)
        return self._iterate_nodes(params)

    async def _iterate_nodes(self, params: Params) -> AsyncIterator[Node]:
        async for page in self._pages("DescribeInstances", params):
            for reservation in page.items("reservationSet"):
                fields = Fields(reservation)
                for item in fields.items("instancesSet"):
                    yield parse_node(item, self, fields)

    def list_nodes(
        self,
        ex_node_ids: Iterable[str] | None = None,
        ex_filters: Mapping[str, str | Iterable[str]] | None = None,
        ex_page_size: int | None = None,
    ) -> Deferred[list[Node]]:
        """
        List the nodes of this region, every page; see :meth:`iterate_nodes`.

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.Node`.
        """
        return collect(self.iterate_nodes(ex_node_ids, ex_filters, ex_page_size))

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | None = None,
        *,
        ex_keyname: str | None = None,
        ex_userdata: str | bytes | None = None,
        ex_security_groups: Iterable[str] | None = None,
        ex_security_group_ids: Iterable[str] | None = None,
        ex_subnet: Any = None,
        ex_metadata: Mapping[str, str] | None = None,
        ex_mincount: int = 1,
        ex_maxcount: int = 1,
        ex_clienttoken: str | None = None,
        ex_blockdevicemappings: list[Mapping[str, Any]] | None = None,
        ex_iamprofile: str | None = None,
        ex_ebs_optimized: bool | None = None,
        ex_placement_group: str | None = None,
        ex_assign_public_ip: bool = False,
        ex_terminate_on_shutdown: bool = False,
        **kwargs: Any,
    ) -> Deferred[Any]:
        """
        Launch instances (RunInstances); *name* becomes their ``Name`` tag.

        :param size: a :class:`~txcloud.compute.base.NodeSize` or an instance type.
        :param image: a :class:`~txcloud.compute.base.NodeImage` or an AMI id.
        :param location: an availability zone of this region, from
            :meth:`list_locations`.
        :param ex_keyname: the key pair to install.
        :param ex_userdata: user data (text or bytes, at most 16 KiB); the
            driver base64-encodes it.
        :param ex_security_groups: security group names.
        :param ex_security_group_ids: security group ids.
        :param ex_subnet: the VPC subnet: its id, or an object with an ``id``.
        :param ex_metadata: more tags (``Name`` here overrides *name*).
        :param ex_mincount: launch at least this many instances, or none.
        :param ex_maxcount: launch up to this many.
        :param ex_clienttoken: a unique token that makes the call idempotent
            (and so safe to retry).
        :param ex_blockdevicemappings: EC2 ``BlockDeviceMapping`` structures,
            ``[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 20}}]``.
        :param ex_iamprofile: an instance profile's name or ARN.
        :param ex_ebs_optimized: ask for EBS-optimized instances.
        :param ex_placement_group: the placement group's name.
        :param ex_assign_public_ip: give the primary interface a public address.
        :param ex_terminate_on_shutdown: terminate, not stop, on an OS shutdown.
        :returns: a Deferred firing with the new :class:`~txcloud.compute.base.Node`,
            or with a list of nodes when *ex_maxcount* is above 1 (Libcloud
            returns a list only when more than one instance started).
        :raises InvalidArgumentError: for bad or unknown arguments, before any request.
        """
        if kwargs:
            raise InvalidArgumentError(f"unknown arguments: {', '.join(sorted(kwargs))}", self)
        params: Params = {
            "ImageId": _id_of(image, NodeImage, "image"),
            "InstanceType": _id_of(size, NodeSize, "size"),
            "MinCount": str(_count(ex_mincount, "ex_mincount")),
            "MaxCount": str(_count(ex_maxcount, "ex_maxcount")),
        }
        if ex_mincount > ex_maxcount:
            raise InvalidArgumentError("ex_mincount must not exceed ex_maxcount", self)
        tags = {"Name": check_text(name, "name")}
        if ex_metadata is not None:
            tags.update(check_tags(ex_metadata, "ex_metadata"))
        params.update(tag_specification(1, "instance", tags))
        if location is not None:
            params["Placement.AvailabilityZone"] = self._zone(location)
        if ex_keyname is not None:
            params["KeyName"] = check_text(ex_keyname, "ex_keyname")
        if ex_userdata is not None:
            params["UserData"] = self._userdata(ex_userdata)
        if ex_security_groups is not None:
            groups = text_list(ex_security_groups, "ex_security_groups")
            params.update(indexed("SecurityGroup", groups))
        interface = self._interface_params(
            ex_security_group_ids, ex_subnet, ex_assign_public_ip is True
        )
        params.update(interface)
        if ex_clienttoken is not None:
            params["ClientToken"] = check_text(ex_clienttoken, "ex_clienttoken")
        if ex_blockdevicemappings is not None:
            if not isinstance(ex_blockdevicemappings, (list, tuple)):
                raise InvalidArgumentError("ex_blockdevicemappings must be a list", self)
            params.update(flatten("BlockDeviceMapping", list(ex_blockdevicemappings)))
        if ex_iamprofile is not None:
            profile = check_text(ex_iamprofile, "ex_iamprofile")
            kind = "Arn" if profile.startswith("arn:") else "Name"
            params[f"IamInstanceProfile.{kind}"] = profile
        if ex_ebs_optimized is not None:
            params.update(flatten("EbsOptimized", bool(ex_ebs_optimized)))
        if ex_placement_group is not None:
            params["Placement.GroupName"] = check_text(ex_placement_group, "ex_placement_group")
        if ex_terminate_on_shutdown:
            params["InstanceInitiatedShutdownBehavior"] = "terminate"
        return Deferred.fromCoroutine(
            self._create_node(params, tags, ex_maxcount, ex_clienttoken is not None)
        )

    def _zone(self, location: object) -> str:
        if not isinstance(location, NodeLocation):
            raise InvalidArgumentError(
                f"location must be a NodeLocation, not {type(location).__name__}", self
            )
        zone = check_text(location.extra.get("availability_zone", location.name), "the zone")
        if not zone.startswith(self.region or ""):
            raise InvalidArgumentError(f"zone {zone!r} is not in region {self.region}", self)
        return zone

    def _userdata(self, userdata: object) -> str:
        if isinstance(userdata, str):
            userdata = userdata.encode("utf-8")
        if not isinstance(userdata, bytes):
            raise InvalidArgumentError("ex_userdata must be text or bytes", self)
        if len(userdata) > MAX_USERDATA:
            raise InvalidArgumentError(f"ex_userdata is over {MAX_USERDATA} bytes", self)
        return base64.b64encode(userdata).decode("ascii")

    def _interface_params(self, group_ids: object, subnet: object, public_ip: bool) -> Params:
        params: Params = {}
        if group_ids is not None:
            params.update(indexed("SecurityGroupId", text_list(group_ids, "ex_security_group_ids")))
        if subnet is not None:
            params["SubnetId"] = check_text(getattr(subnet, "id", subnet), "ex_subnet")
        if not public_ip:
            return params
        # A public address needs an explicit primary interface, which then
        # carries the subnet and groups instead of the instance.
        root = "NetworkInterface.1"
        moved = {f"{root}.{key}": value for key, value in params.items()}
        moved.update(
            {
                f"{root}.DeviceIndex": "0",
                f"{root}.AssociatePublicIpAddress": "true",
                f"{root}.DeleteOnTermination": "true",
            }
        )
        return moved

    async def _create_node(
        self, params: Params, tags: dict[str, str], max_count: int, idempotent: bool
    ) -> Node | list[Node]:
        root = await self._call("RunInstances", params, idempotent=idempotent)
        reservation = Fields(root)
        nodes = [parse_node(item, self, reservation) for item in reservation.items("instancesSet")]
        if not nodes:
            raise MalformedResponseError("RunInstances answered without instances", self)
        for node in nodes:
            # RunInstances may answer before the tags are applied.
            node.extra["tags"] = {**tags, **node.extra["tags"]}
            node.name = node.extra["tags"]["Name"]
        return nodes[0] if max_count == 1 else nodes

    async def _change_state(self, action: str, node_id: str, wanted: frozenset[str]) -> bool:
        root = await self._call(action, indexed("InstanceId", [node_id]), idempotent=True)
        return findtext_local(root, "instancesSet/item/currentState/name") in wanted

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Reboot *node* (RebootInstances); fires with ``True`` once EC2 accepted it."""
        params = indexed("InstanceId", [_node_id(node)])
        return Deferred.fromCoroutine(self._call_returning("RebootInstances", params))

    def start_node(self, node: Node) -> Deferred[bool]:
        """Start a stopped EBS-backed *node*; fires with whether it is starting."""
        return Deferred.fromCoroutine(
            self._change_state("StartInstances", _node_id(node), _STARTED)
        )

    def stop_node(self, node: Node) -> Deferred[bool]:
        """Stop an EBS-backed *node*; fires with whether it is stopping."""
        return Deferred.fromCoroutine(self._change_state("StopInstances", _node_id(node), _STOPPED))

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """Terminate *node*; fires with whether it is shutting down."""
        return Deferred.fromCoroutine(
            self._change_state("TerminateInstances", _node_id(node), _TERMINATED)
        )

    # Sizes, images, locations

    def iterate_sizes(
        self, ex_filters: Mapping[str, str | Iterable[str]] | None = None
    ) -> AsyncIterator[NodeSize]:
        """
        The instance types of this region, a page at a time (DescribeInstanceTypes).

        :param ex_filters: EC2 filters, ``{"current-generation": "true"}``.
        :returns: an async iterator of :class:`~txcloud.compute.base.NodeSize`.
        """
        params = filter_params(ex_filters) if ex_filters is not None else {}
        return self._iterate("DescribeInstanceTypes", params, "instanceTypeSet", parse_size)

    def list_sizes(
        self,
        location: NodeLocation | None = None,
        ex_filters: Mapping[str, str | Iterable[str]] | None = None,
    ) -> Deferred[list[NodeSize]]:
        """
        List the instance types of this region; see :meth:`iterate_sizes`.

        :param location: accepted for Libcloud's signature; every type of
            the region is listed.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeSize`.
        """
        if location is not None and not isinstance(location, NodeLocation):
            raise InvalidArgumentError("location must be a NodeLocation", self)
        return collect(self.iterate_sizes(ex_filters))

    def iterate_images(
        self,
        *,
        ex_image_ids: Iterable[str] | None = None,
        ex_owner: str | Iterable[str] | None = None,
        ex_filters: Mapping[str, str | Iterable[str]] | None = None,
    ) -> AsyncIterator[NodeImage]:
        """
        The images this account can launch, a page at a time (DescribeImages).

        :param ex_image_ids: only these AMI ids.
        :param ex_owner: owners: ``"self"``, ``"amazon"``, ``"aws-marketplace"``
            or account ids.
        :param ex_filters: EC2 filters, ``{"architecture": "arm64"}``.
        :returns: an async iterator of :class:`~txcloud.compute.base.NodeImage`.
        """
        lists = [("ImageId", ex_image_ids, "ex_image_ids"), ("Owner", ex_owner, "ex_owner")]
        params = selection_params(lists, ex_filters)
        return self._iterate("DescribeImages", params, "imagesSet", parse_image)

    def list_images(
        self,
        location: NodeLocation | None = None,
        *,
        ex_image_ids: Iterable[str] | None = None,
        ex_owner: str | Iterable[str] | None = None,
        ex_filters: Mapping[str, str | Iterable[str]] | None = None,
    ) -> Deferred[list[NodeImage]]:
        """
        List images; see :meth:`iterate_images`.  Without an owner, id or
        filter that is every public image of the region: thousands.

        :param location: accepted for Libcloud's signature; images are regional.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeImage`.
        """
        if location is not None and not isinstance(location, NodeLocation):
            raise InvalidArgumentError("location must be a NodeLocation", self)
        return collect(
            self.iterate_images(ex_image_ids=ex_image_ids, ex_owner=ex_owner, ex_filters=ex_filters)
        )

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """
        List the availability zones of this region (DescribeAvailabilityZones).

        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.NodeLocation` whose id and name are
            the zone's name, with the region's country code.
        """
        country = region_country(self.region or "")
        return collect(
            self._iterate(
                "DescribeAvailabilityZones",
                {},
                "availabilityZoneInfo",
                lambda item, driver: parse_location(item, driver, country),
            )
        )

    # Key pairs

    def list_key_pairs(self) -> Deferred[list[KeyPair]]:
        """List the key pairs of this region, with their public keys."""
        return collect(
            self._iterate(
                "DescribeKeyPairs", {"IncludePublicKey": "true"}, "keySet", parse_key_pair
            )
        )

    def get_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        Fetch the key pair called *name*.

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.KeyPair`,
            or failing with :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        params = {"KeyName.1": check_text(name, "name"), "IncludePublicKey": "true"}
        return Deferred.fromCoroutine(self._get_key_pair(name, params))

    async def _get_key_pair(self, name: str, params: Params) -> KeyPair:
        root = await self._call("DescribeKeyPairs", params, idempotent=True)
        found = findall_local(root, "keySet/item")
        if not found:
            raise KeyPairDoesNotExistError(f"no key pair named {name!r}", self)
        return parse_key_pair(found[0], self)

    def create_key_pair(self, name: str, ex_key_type: str | None = None) -> Deferred[KeyPair]:
        """
        Create a key pair; EC2 keeps the public half.

        :param ex_key_type: ``"rsa"`` (EC2's default) or ``"ed25519"``.
        :returns: a Deferred firing with the :class:`~txcloud.compute.base.KeyPair`,
            whose ``private_key`` is shown this once; it fails with
            :class:`~txcloud.errors.KeyPairAlreadyExistsError` if the name is taken.
        """
        params = {"KeyName": check_text(name, "name")}
        if ex_key_type is not None:
            params["KeyType"] = check_text(ex_key_type, "ex_key_type")
        return Deferred.fromCoroutine(self._key_pair_call("CreateKeyPair", params, None))

    def import_key_pair_from_string(self, name: str, key_material: str) -> Deferred[KeyPair]:
        """
        Import an OpenSSH public key (``"ssh-ed25519 AAAA... comment"``) as
        the key pair *name*.

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.KeyPair`.
        """
        public_key = check_text(key_material, "key_material").strip()
        params = {
            "KeyName": check_text(name, "name"),
            "PublicKeyMaterial": base64.b64encode(public_key.encode("utf-8")).decode("ascii"),
        }
        return Deferred.fromCoroutine(self._key_pair_call("ImportKeyPair", params, public_key))

    async def _key_pair_call(self, action: str, params: Params, public_key: str | None) -> KeyPair:
        root = await self._call(action, params, idempotent=False)
        return parse_key_pair(root, self, public_key)

    def delete_key_pair(self, key_pair: KeyPair | str) -> Deferred[bool]:
        """Delete *key_pair* (a :class:`~txcloud.compute.base.KeyPair` or its name)."""
        name = key_pair.name if isinstance(key_pair, KeyPair) else key_pair
        params = {"KeyName": check_text(name, "the key pair's name")}
        return Deferred.fromCoroutine(self._call_returning("DeleteKeyPair", params, True))


def drivers_for_regions(
    key: str | None = None,
    secret: str | None = None,
    regions: Iterable[str] = AWS_REGIONS,
    **kwargs: Any,
) -> list[EC2NodeDriver]:
    """
    One :class:`EC2NodeDriver` per region, for
    :func:`txcloud.multi.list_nodes`::

        drivers = drivers_for_regions(key, secret)
        result = await multi.list_nodes(drivers, concurrency=len(drivers))

    Credentials are resolved once, into one provider every driver shares
    (so a role is assumed once for all regions).  The drivers share
    connections as every driver does: through *ex_pool* if given (the
    caller closes it), else through the reactor's default pool, which the
    last driver to close closes.

    :param regions: region names, :data:`~txcloud.common.aws.AWS_REGIONS` by default.
    :param kwargs: more :class:`EC2NodeDriver` arguments, for every driver.
    :raises InvalidArgumentError: for no regions or a bad region name.
    :raises InvalidCredsError: when no credentials are found.
    """
    wanted = text_list(regions, "regions")
    credentials = credentials_for(
        key,
        secret,
        kwargs.pop("ex_token", None),
        profile=kwargs.get("ex_profile"),
        credentials=kwargs.pop("ex_credentials", None),
        environ=kwargs.get("ex_environ"),
        reactor=kwargs.get("reactor"),
        agent=kwargs.get("ex_agent"),
    )
    return [EC2NodeDriver(region=region, ex_credentials=credentials, **kwargs) for region in wanted]
