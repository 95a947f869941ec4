"""
:class:`OpenStackNodeDriver`: servers, flavors and key pairs through Nova
(the compute API v2.1), images through Glance v2, regions from the
Keystone catalog.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from txcloud.common.checks import check_text
from txcloud.common.paging import collect
from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.openstack.api import check_server_id, check_uuid
from txcloud.compute.drivers.openstack.catalog import ServiceCatalog
from txcloud.compute.drivers.openstack.parse import (
    parse_image,
    parse_key_pair,
    parse_location,
    parse_node,
    parse_size,
)
from txcloud.compute.drivers.openstack.volumes import OpenStackVolumesMixin
from txcloud.errors import InvalidArgumentError, MalformedResponseError

__all__ = ["MAX_USER_DATA", "OpenStackNodeDriver"]

_T = TypeVar("_T")

#: Largest user data Nova accepts, in bytes once base64-encoded.
MAX_USER_DATA = 65535

# Key pair names: Nova allows letters, digits, spaces, "_", "-", "@" and ".".
_KEY_NAME = re.compile(r"^[A-Za-z0-9 _@.-]{1,255}$")
_PUBLIC_KEY = re.compile(r"^(ssh|ecdsa|sk)-[\w@.-]+ [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$")


def _key_name(value: object) -> str:
    name = check_text(value.name if isinstance(value, KeyPair) else value, "the key pair's name")
    if not _KEY_NAME.match(name):
        raise InvalidArgumentError(f"{name!r} is not a key pair name Nova accepts")
    return name


def _texts(values: object, what: str) -> list[str]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes, Mapping)):
        raise InvalidArgumentError(f"{what} must be a list")
    return [check_text(getattr(value, "id", value), f"each of {what}") for value in values]


def _metadata(values: object) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise InvalidArgumentError("ex_metadata must be a mapping of strings")
    for name, value in values.items():
        if not (isinstance(name, str) and 0 < len(name) <= 255 and isinstance(value, str)):
            raise InvalidArgumentError("ex_metadata must map names (1-255 characters) to strings")
        if len(value) > 255:
            raise InvalidArgumentError(f"ex_metadata[{name!r}] is longer than 255 characters")
    return dict(values)


def _user_data(value: object) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes):
        raise InvalidArgumentError("ex_userdata must be text or bytes")
    encoded = base64.b64encode(raw).decode("ascii")
    if len(encoded) > MAX_USER_DATA:
        raise InvalidArgumentError(
            f"ex_userdata is {len(encoded)} bytes once base64-encoded; Nova takes {MAX_USER_DATA}"
        )
    return encoded


class OpenStackNodeDriver(OpenStackVolumesMixin):
    """
    OpenStack compute (Nova) in one region, authenticated with Keystone v3.

    ::

        driver = OpenStackNodeDriver(
            "alice", password,
            ex_force_auth_url="https://keystone.example.com:5000",
            ex_force_auth_version="3.x_password",
            ex_tenant_name="demo",
            ex_domain_name="Default",
            ex_force_service_region="RegionOne",
        )
        nodes = await driver.list_nodes()

    :param key: the user name; with ``ex_force_auth_version="3.x_appcred"``
        the application credential's id.
    :param secret: the password, or the application credential's secret.
    :param ex_force_auth_url: Keystone's URL (``/v3`` is added when it has
        no version); without it, ``host``, ``port`` and ``secure`` name it.
    :param ex_force_auth_version: ``"3.x_password"`` (the default),
        ``"3.x_appcred"`` or ``"3.x_token"`` (trade ``ex_force_auth_token``
        for a token scoped to the project).
    :param ex_force_auth_token: an existing Keystone token.
    :param ex_tenant_name: the project's name (``ex_tenant_id`` its id).
    :param ex_domain_name: the user's domain (``Default`` unless given).
    :param ex_tenant_domain_id: the project's domain id (``default``).
    :param region: the region (``ex_force_service_region`` is its
        Libcloud name); needed when the catalog lists several.
    :param ex_force_service_type: the catalog type of the compute service.
    :param ex_force_service_name: its name, when the catalog lists several.
    :param ex_force_base_url: the compute URL to use instead of the catalog's.
    :param ex_interface: the catalog interface: ``public`` (the default),
        ``internal`` or ``admin``.
    :param ex_cloud: with no credentials, the ``clouds.yaml`` entry to use
        (else ``OS_CLOUD``, else the ``OS_*`` variables; see
        :mod:`txcloud.auth.openstack.clouds`).
    :param ex_environ: the environment those are read from (tests).
    :param ex_page_size: items per page of listings (1 to 1000); the
        cloud's own limit by default.

    It also takes :class:`~txcloud.common.http_driver.HTTPDriver`'s
    arguments (``reactor``, ``timeout``, ``ex_ca_file``, ``ex_agent``...).
    Every bad argument raises :class:`~txcloud.errors.InvalidArgumentError`
    before any request, without quoting a secret.
    """

    # Nodes

    def iterate_nodes(self) -> AsyncIterator[Node]:
        """The servers of this region (``GET /servers/detail``), a page at a time."""
        return self._parsed("compute", "/servers/detail", "servers", {}, parse_node)

    def list_nodes(self) -> Deferred[list[Node]]:
        """List this region's servers; fires with a list of :class:`~txcloud.compute.base.Node`."""
        return collect(self.iterate_nodes())

    def ex_get_node_details(self, node_id: str) -> Deferred[Node]:
        """
        One server by id.

        :returns: a Deferred firing with its :class:`~txcloud.compute.base.Node`,
            or failing with :class:`~txcloud.errors.NodeNotFoundError`.
        """
        path = f"/servers/{check_uuid(node_id, 'node_id')}"
        return Deferred.fromCoroutine(self._get_object("compute", path, "server")).addCallback(
            parse_node, self
        )

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | None = None,
        *,
        ex_keyname: str | None = None,
        ex_userdata: str | bytes | None = None,
        ex_security_groups: Iterable[Any] | None = None,
        ex_metadata: Mapping[str, str] | None = None,
        networks: Iterable[Any] | None = None,
        ex_availability_zone: str | None = None,
        ex_config_drive: bool | None = None,
        ex_admin_pass: str | None = None,
        ex_disk_config: str | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create a server (``POST /servers``) and read it back.

        :param size: a :class:`~txcloud.compute.base.NodeSize` or a flavor id.
        :param image: a :class:`~txcloud.compute.base.NodeImage` or an image id.
        :param location: an availability zone from
            :meth:`ex_list_availability_zones`, or this driver's region from
            :meth:`list_locations`.
        :param ex_keyname: the key pair to install.
        :param ex_userdata: user data (text or bytes); the driver base64-encodes it.
        :param ex_security_groups: security group names (or objects with a ``name``).
        :param ex_metadata: server metadata, names to strings.
        :param networks: network ids (or objects with an ``id``) to attach.
        :param ex_availability_zone: the availability zone by name.
        :param ex_config_drive: attach a configuration drive.
        :param ex_admin_pass: the administrator password to set.
        :param ex_disk_config: ``"AUTO"`` or ``"MANUAL"``.
        :returns: a Deferred firing with the new :class:`~txcloud.compute.base.Node`
            (``extra["password"]`` holds the password Nova set, if it said).
        :raises InvalidArgumentError: for bad arguments, before any request.
        """
        if kwargs:
            raise InvalidArgumentError(f"unknown argument {sorted(kwargs)[0]!r}", self)
        server: dict[str, Any] = {
            "name": check_text(name, "name"),
            "flavorRef": check_text(size.id if isinstance(size, NodeSize) else size, "size"),
            "imageRef": check_uuid(image.id if isinstance(image, NodeImage) else image, "image"),
        }
        zone = self._zone(location, ex_availability_zone)
        if zone is not None:
            server["availability_zone"] = zone
        if ex_keyname is not None:
            server["key_name"] = _key_name(ex_keyname)
        if ex_userdata is not None:
            server["user_data"] = _user_data(ex_userdata)
        if ex_security_groups is not None:
            groups = [getattr(group, "name", group) for group in ex_security_groups]
            server["security_groups"] = [
                {"name": name} for name in _texts(groups, "ex_security_groups")
            ]
        if ex_metadata is not None:
            server["metadata"] = _metadata(ex_metadata)
        if networks is not None:
            server["networks"] = [{"uuid": uuid} for uuid in _texts(networks, "networks")]
        if ex_config_drive is not None:
            if not isinstance(ex_config_drive, bool):
                raise InvalidArgumentError("ex_config_drive must be True or False", self)
            server["config_drive"] = ex_config_drive
        if ex_admin_pass is not None:
            if not isinstance(ex_admin_pass, str) or not ex_admin_pass:
                # Not quoted: it is a password.
                raise InvalidArgumentError("ex_admin_pass must be a non-empty string", self)
            server["adminPass"] = ex_admin_pass
        if ex_disk_config is not None:
            if ex_disk_config not in ("AUTO", "MANUAL"):
                raise InvalidArgumentError("ex_disk_config must be 'AUTO' or 'MANUAL'", self)
            server["OS-DCF:diskConfig"] = ex_disk_config
        return Deferred.fromCoroutine(self._create_node({"server": server}))

    async def _create_node(self, body: dict[str, Any]) -> Node:
        document = await self._call("POST", "compute", "/servers", body=body)
        created = self._object(document, "server", "POST /servers")
        server_id = created.get("id")
        if not isinstance(server_id, str):
            raise MalformedResponseError("the created server has no id", self)
        node = parse_node(
            await self._get_object("compute", f"/servers/{server_id}", "server"), self
        )
        node.extra["password"] = created.get("adminPass")
        return node

    def _action(self, node: Node, action: dict[str, Any]) -> Deferred[bool]:
        path = f"/servers/{check_server_id(node)}/action"
        return Deferred.fromCoroutine(self._call("POST", "compute", path, body=action)).addCallback(
            lambda _: True
        )

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Reboot *node* (a soft reboot); fires with ``True`` once Nova accepted it."""
        return self._action(node, {"reboot": {"type": "SOFT"}})

    def ex_hard_reboot_node(self, node: Node) -> Deferred[bool]:
        """Reboot *node* by cutting its power (a hard reboot); fires with ``True``."""
        return self._action(node, {"reboot": {"type": "HARD"}})

    def start_node(self, node: Node) -> Deferred[bool]:
        """Start a stopped *node* (``os-start``); fires with ``True``."""
        return self._action(node, {"os-start": None})

    def stop_node(self, node: Node) -> Deferred[bool]:
        """Stop *node* (``os-stop``); fires with ``True``."""
        return self._action(node, {"os-stop": None})

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """
        Delete *node*; fires with ``True``, or fails with
        :class:`~txcloud.errors.NodeNotFoundError`.
        """
        path = f"/servers/{check_server_id(node)}"
        return Deferred.fromCoroutine(self._call("DELETE", "compute", path)).addCallback(
            lambda _: True
        )

    # Sizes, images, locations

    def list_sizes(self, location: NodeLocation | None = None) -> Deferred[list[NodeSize]]:
        """
        List the flavors (``GET /flavors/detail``); *location* must be this
        driver's region or ``None``, as flavors are regional.
        """
        self._zone(location, None)
        return collect(self._parsed("compute", "/flavors/detail", "flavors", {}, parse_size))

    def list_images(
        self, location: NodeLocation | None = None, ex_only_active: bool = True
    ) -> Deferred[list[NodeImage]]:
        """
        List the images the project may use, from Glance v2 (``GET
        /v2/images``), every page.

        :param ex_only_active: only images whose status is ``active``.
        """
        self._zone(location, None)
        if not isinstance(ex_only_active, bool):
            raise InvalidArgumentError("ex_only_active must be True or False", self)
        params = {"status": "active"} if ex_only_active else {}
        return collect(self._parsed("image", "/images", "images", params, parse_image))

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """
        The regions of the catalog that offer compute, on this driver's
        interface; fires with a list of :class:`~txcloud.compute.base.NodeLocation`.
        """
        return self.ex_get_catalog().addCallback(self._locations)

    def _locations(self, catalog: ServiceCatalog) -> list[NodeLocation]:
        service = self.ex_force_service_type or "compute"
        return [
            parse_location(
                region,
                catalog.url(service, region=region, interface=self.ex_interface),
                self.ex_interface,
                self,
            )
            for region in catalog.regions(service, self.ex_interface)
        ]

    def ex_list_availability_zones(self) -> Deferred[list[NodeLocation]]:
        """
        The availability zones of this region (``GET /os-availability-zone``),
        as :class:`~txcloud.compute.base.NodeLocation` whose id is the zone's
        name and ``extra`` says ``available`` and ``region``; pass one to
        :meth:`create_node` as its ``location``.
        """
        return Deferred.fromCoroutine(self._zones())

    async def _zones(self) -> list[NodeLocation]:
        document = await self._call("GET", "compute", "/os-availability-zone")
        zones = (document or {}).get("availabilityZoneInfo")
        if not isinstance(zones, list):
            raise MalformedResponseError("the availability zones are not a list", self)
        found = []
        for zone in zones:
            name = zone.get("zoneName") if isinstance(zone, dict) else None
            if not isinstance(name, str):
                raise MalformedResponseError("an availability zone has no name", self)
            state = zone.get("zoneState")
            available = isinstance(state, dict) and state.get("available") is True
            extra = {"availability_zone": True, "available": available, "region": self.region}
            found.append(NodeLocation(name, name, "", self, extra))
        return found

    # Key pairs

    def list_key_pairs(self) -> Deferred[list[KeyPair]]:
        """List the key pairs; fires with a list of :class:`~txcloud.compute.base.KeyPair`."""
        return Deferred.fromCoroutine(self._key_pairs())

    async def _key_pairs(self) -> list[KeyPair]:
        found = []
        async for item in self._items("compute", "/os-keypairs", "keypairs"):
            found.append(
                parse_key_pair(item.get("keypair") if isinstance(item, dict) else item, self)
            )
        return found

    def get_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        The key pair *name*; fails with
        :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        path = f"/os-keypairs/{_key_name(name)}"
        return Deferred.fromCoroutine(self._get_object("compute", path, "keypair")).addCallback(
            parse_key_pair, self
        )

    def create_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        Have Nova make a key pair *name*; the result carries its
        ``private_key``, which Nova gives only now.  Fails with
        :class:`~txcloud.errors.KeyPairAlreadyExistsError` if the name is taken.
        """
        return self._upload_key({"name": _key_name(name)})

    def import_key_pair_from_string(self, name: str, key_material: str) -> Deferred[KeyPair]:
        """
        Import an OpenSSH public key (``"ssh-ed25519 AAAA... comment"``) as
        the key pair *name*.

        :raises InvalidArgumentError: for a bad name or a malformed key.
        """
        public_key = check_text(key_material, "key_material").strip()
        if not _PUBLIC_KEY.match(public_key):
            raise InvalidArgumentError("key_material is not an OpenSSH public key", self)
        return self._upload_key({"name": _key_name(name), "public_key": public_key})

    def _upload_key(self, key: dict[str, str]) -> Deferred[KeyPair]:
        async def upload() -> KeyPair:
            document = await self._call("POST", "compute", "/os-keypairs", body={"keypair": key})
            return parse_key_pair(self._object(document, "keypair", "POST /os-keypairs"), self)

        return Deferred.fromCoroutine(upload())

    def delete_key_pair(self, key_pair: KeyPair | str) -> Deferred[bool]:
        """
        Delete a key pair (a :class:`~txcloud.compute.base.KeyPair` or its
        name); fires with ``True``, or fails with
        :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        path = f"/os-keypairs/{_key_name(key_pair)}"
        return Deferred.fromCoroutine(self._call("DELETE", "compute", path)).addCallback(
            lambda _: True
        )
