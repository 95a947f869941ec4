"""
:class:`AzureNodeDriver`: virtual machines, their sizes, locations and
marketplace images through Azure Resource Manager.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from txcloud.compute.base import Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.azure_arm.api import (
    DISKS_API_VERSION,
    LOCATIONS_API_VERSION,
    NETWORK_API_VERSION,
    VMS,
    gathered,
)
from txcloud.compute.drivers.azure_arm.create import VirtualMachineSpec
from txcloud.compute.drivers.azure_arm.images import check_part, marketplace_images
from txcloud.compute.drivers.azure_arm.parse import (
    Addresses,
    interface_ids,
    os_disk,
    parse_location,
    parse_node,
    parse_size,
    public_ip_ids,
)
from txcloud.compute.drivers.azure_arm.resources import (
    COMPUTE,
    NETWORK,
    ResourceId,
    check_name,
    check_resource_group,
)
from txcloud.compute.drivers.azure_arm.volumes import AzureVolumesMixin
from txcloud.errors import InvalidArgumentError

__all__ = ["AzureNodeDriver"]


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, not {value!r}")
    return value


class AzureNodeDriver(AzureVolumesMixin):
    """
    Azure virtual machines, as Libcloud's ``AzureNodeDriver``.

    :param tenant_id: the directory (tenant) id of the application.
    :param subscription_id: the subscription (a GUID); ``AZURE_SUBSCRIPTION_ID``
        when ``None``.
    :param key: the application's (client) id; with ``None``, Azure AD tokens
        are found as ``DefaultAzureCredential`` finds them
        (:func:`~txcloud.auth.azure.default_azure_tokens`).
    :param secret: the application's client secret; never shown.
    :param secure: HTTPS (plain HTTP only to a loopback host, for a fake).
    :param host: another Resource Manager endpoint than
        ``management.azure.com`` (a fake), with *port*.
    :param api_version: the Microsoft.Compute API version to ask for.
    :param region: the default location of :meth:`list_sizes`,
        :meth:`list_images` and :meth:`create_node`.
    :param ex_login_host: the Azure AD authority, an ``https://`` URL;
        ``AZURE_AUTHORITY_HOST`` or ``https://login.microsoftonline.com``
        when ``None`` (for the environment's credentials too).
    :param ex_credentials: a :class:`~txcloud.auth.tokens.TokenSource` to
        take tokens from instead.
    :param ex_environ: the environment read for credentials and the
        subscription; :data:`os.environ` when ``None``.
    :param ex_poll_interval: seconds between two looks at a long-running
        operation when Azure sends no ``Retry-After``.
    :param ex_operation_timeout: seconds an operation may take.
    :param ex_concurrency: marketplace publishers walked at once by
        :meth:`list_images`.
    :raises InvalidArgumentError: for a missing or malformed subscription,
        an unknown region, a key without its tenant or secret, or a login
        host that is not HTTPS.

    Also takes :class:`~txcloud.common.http_driver.HTTPDriver`'s arguments
    (``reactor``, ``timeout``, ``ex_agent``...).
    """

    # Nodes

    def list_nodes(self, ex_resource_group: str | None = None) -> Deferred[list[Node]]:
        """
        List the subscription's virtual machines (or one resource group's),
        each with its state and addresses: three listings (machines with
        their instance views, network interfaces, public addresses), made
        at once and joined.

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.Node`.
        :raises InvalidArgumentError: for a malformed resource group name.
        """
        scope = self._group_path(ex_resource_group)
        return Deferred.fromCoroutine(self._list_nodes(scope))

    async def _list_nodes(self, scope: str) -> list[Node]:
        vms, interfaces, public_ips = await gathered(
            [
                self._collect(f"{scope}/providers/{COMPUTE}/{VMS}", self.compute_api_version, True),
                self._collect(
                    f"{scope}/providers/{NETWORK}/networkInterfaces", NETWORK_API_VERSION
                ),
                self._collect(
                    f"{scope}/providers/{NETWORK}/publicIPAddresses", NETWORK_API_VERSION
                ),
            ]
        )
        addresses = Addresses.join(interfaces, public_ips)
        return [parse_node(vm, addresses, self) for vm in vms]

    def _collect(self, path: str, api_version: str, expand: bool = False) -> Deferred[list[Any]]:
        params = {"$expand": "instanceView"} if expand else {}

        async def collect() -> list[Any]:
            return [item async for item in self._items(path, api_version, **params)]

        return Deferred.fromCoroutine(collect())

    def ex_get_node(self, node_id: str) -> Deferred[Node]:
        """
        One virtual machine by resource id, with its state and addresses.

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.Node`,
            or failing with :class:`~txcloud.errors.NodeNotFoundError`.
        :raises InvalidArgumentError: for a malformed id.
        """
        vm = ResourceId.parse(node_id, COMPUTE, VMS, "node_id")
        return Deferred.fromCoroutine(self._get_node(vm))

    async def _get_node(self, vm: ResourceId) -> Node:
        data = await self._get(vm.path, self.compute_api_version, **{"$expand": "instanceView"})
        interfaces = []
        public_ips = []
        for nic_id in interface_ids(data):
            nic = await self._get(nic_id, NETWORK_API_VERSION)
            interfaces.append(nic)
            for ip_id in public_ip_ids(nic):
                public_ips.append(await self._get(ip_id, NETWORK_API_VERSION))
        return parse_node(data, Addresses.join(interfaces, public_ips), self)

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Restart *node*; fires with ``True`` once Azure has restarted it."""
        return self._action(node, "restart")

    def start_node(self, node: Node) -> Deferred[bool]:
        """Start *node*; fires with ``True`` once it runs."""
        return self._action(node, "start")

    def stop_node(self, node: Node, ex_deallocate: bool = True) -> Deferred[bool]:
        """
        Stop *node*; fires with ``True`` once it is stopped.

        :param ex_deallocate: release its hardware too (``deallocate``:
            billing stops, the node becomes ``stopped``); ``False`` powers
            it off only (``powerOff``: still billed, ``paused``).
        """
        return self._action(
            node, "deallocate" if _flag(ex_deallocate, "ex_deallocate") else "powerOff"
        )

    def _action(self, node: Node, action: str) -> Deferred[bool]:
        path = f"{self._vm_id(node).path}/{action}"
        return Deferred.fromCoroutine(self._run(path))

    async def _run(self, path: str) -> bool:
        await self._operation("POST", path, self.compute_api_version)
        return True

    def destroy_node(
        self, node: Node, ex_destroy_nic: bool = True, ex_destroy_vhd: bool = True
    ) -> Deferred[bool]:
        """
        Delete *node*, then (by default) its network interfaces with their
        public addresses, and its managed OS disk.

        :param ex_destroy_nic: delete its interfaces and their public addresses.
        :param ex_destroy_vhd: delete its managed OS disk (an unmanaged VHD
            blob is left: deleting it needs the storage account's credentials).
        :returns: a Deferred firing with ``True`` once all is deleted, or
            failing with :class:`~txcloud.errors.NodeNotFoundError`.
        """
        vm = self._vm_id(node)
        nics = _flag(ex_destroy_nic, "ex_destroy_nic")
        disk = _flag(ex_destroy_vhd, "ex_destroy_vhd")
        return Deferred.fromCoroutine(self._destroy(vm, nics, disk))

    async def _destroy(self, vm: ResourceId, destroy_nics: bool, destroy_disk: bool) -> bool:
        data = await self._get(vm.path, self.compute_api_version)
        await self._operation("DELETE", vm.path, self.compute_api_version)
        if destroy_nics:
            for nic_id in interface_ids(data):
                nic = await self._get(nic_id, NETWORK_API_VERSION)
                await self._operation("DELETE", nic_id, NETWORK_API_VERSION)
                for ip_id in public_ip_ids(nic):
                    await self._operation("DELETE", ip_id, NETWORK_API_VERSION)
        disk_id, unmanaged = os_disk(data)
        if destroy_disk and disk_id is not None:
            await self._operation("DELETE", disk_id, DISKS_API_VERSION)
        elif destroy_disk and unmanaged:
            self.log.warn("Left the unmanaged OS disk of {vm}: delete its blob", vm=vm.name)
        return True

    # Sizes, locations, images

    def list_sizes(self, location: NodeLocation | str | None = None) -> Deferred[list[NodeSize]]:
        """
        List the VM sizes of *location* (the driver's region by default).

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeSize`.
        :raises InvalidArgumentError: for an unknown location, or none.
        """
        where = self._location(location)
        path = f"{self.subscription_path}/providers/{COMPUTE}/locations/{where}/vmSizes"
        return self._collect(path, self.compute_api_version).addCallback(
            lambda sizes: [parse_size(size, where, self) for size in sizes]
        )

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """
        List the subscription's physical regions (logical ones such as
        ``global`` left out).

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeLocation`.
        """
        path = f"{self.subscription_path}/locations"
        return self._collect(path, LOCATIONS_API_VERSION).addCallback(
            lambda found: [
                parse_location(location, self)
                for location in found
                if not isinstance(location, dict)
                or location.get("metadata", {}).get("regionType", "Physical") == "Physical"
            ]
        )

    def list_images(
        self,
        location: NodeLocation | str | None = None,
        ex_publisher: str | None = None,
        ex_offer: str | None = None,
        ex_sku: str | None = None,
        ex_version: str | None = None,
    ) -> Deferred[list[NodeImage]]:
        """
        List *location*'s marketplace images (the driver's region by
        default), narrowed to a publisher, offer, SKU and version.  Without
        a publisher every publisher is walked: thousands of requests, so
        narrow it when you can.

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeImage`
            whose ids are URNs (``publisher:offer:sku:version``).
        :raises InvalidArgumentError: for an unknown location, or a name with ``/``.
        """
        where = self._location(location)
        narrowing = (
            check_part(ex_publisher, "ex_publisher"),
            check_part(ex_offer, "ex_offer"),
            check_part(ex_sku, "ex_sku"),
            check_part(ex_version, "ex_version"),
        )
        return Deferred.fromCoroutine(marketplace_images(self, where, narrowing))

    # Creating

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | str | None = None,
        *,
        ex_resource_group: str | None = None,
        ex_network: str | None = None,
        ex_subnet: str = "default",
        ex_network_resource_group: str | None = None,
        ex_user_name: str = "azureuser",
        ex_ssh_public_key: str | None = None,
        ex_admin_password: str | None = None,
        ex_public_ip: bool = True,
        ex_os_disk_size: int | None = None,
        ex_storage_account_type: str = "Standard_LRS",
        ex_tags: dict[str, str] | None = None,
        ex_customdata: str | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create a virtual machine from a marketplace image, with a managed
        OS disk, a network interface in an existing subnet and (by default)
        a static public address, each created in turn and waited for.

        :param name: the machine's name (and computer name); its interface
            is ``NAME-nic``, its address ``NAME-ip``, its disk ``NAME-osdisk``.
        :param size: a :class:`~txcloud.compute.base.NodeSize` or a size name.
        :param image: a :class:`~txcloud.compute.base.NodeImage` or a URN.
        :param location: where; the driver's region by default.
        :param ex_resource_group: the (existing) resource group to create in
            (required).
        :param ex_network: the existing virtual network (required), and
            ``ex_subnet`` its subnet.
        :param ex_network_resource_group: the network's group, if another.
        :param ex_ssh_public_key: an OpenSSH public key for ``ex_user_name``;
            or ``ex_admin_password`` (one of them is required).
        :param ex_public_ip: give the machine a public address.
        :param ex_os_disk_size: the OS disk's size in GiB (the image's by default).
        :param ex_storage_account_type: the OS disk's kind (``Premium_LRS``...).
        :param ex_customdata: cloud-init data, sent base64-encoded.
        :returns: a Deferred firing with the new :class:`~txcloud.compute.base.Node`.
        :raises InvalidArgumentError: for any bad argument, before any request.
        """
        if kwargs:
            raise InvalidArgumentError(f"unknown arguments: {', '.join(sorted(kwargs))}", self)
        group = check_resource_group(ex_resource_group)
        spec = VirtualMachineSpec.build(
            name=name,
            size=size,
            image=image,
            location=self._location(location),
            user_name=ex_user_name,
            ssh_public_key=ex_ssh_public_key,
            admin_password=ex_admin_password,
            os_disk_size=ex_os_disk_size,
            storage_account_type=ex_storage_account_type,
            tags=ex_tags,
            customdata=ex_customdata,
        )
        network_group = check_resource_group(
            ex_network_resource_group or group, "ex_network_resource_group"
        )
        network = self._resource(
            network_group, NETWORK, "virtualNetworks", check_name(ex_network, "ex_network")
        )
        subnet_id = f"{network.path}/subnets/{check_name(ex_subnet, 'ex_subnet')}"
        public_ip = _flag(ex_public_ip, "ex_public_ip")
        return Deferred.fromCoroutine(self._create(spec, group, subnet_id, public_ip))

    async def _create(
        self, spec: VirtualMachineSpec, group: str, subnet_id: str, public_ip: bool
    ) -> Node:
        ip_id = None
        if public_ip:
            address = self._resource(group, NETWORK, "publicIPAddresses", f"{spec.name}-ip")
            await self._operation("PUT", address.path, NETWORK_API_VERSION, spec.public_ip())
            ip_id = address.path
        nic = self._resource(group, NETWORK, "networkInterfaces", f"{spec.name}-nic")
        await self._operation(
            "PUT", nic.path, NETWORK_API_VERSION, spec.interface(subnet_id, ip_id)
        )
        vm = self._resource(group, COMPUTE, VMS, spec.name)
        await self._operation(
            "PUT", vm.path, self.compute_api_version, spec.virtual_machine(nic.path)
        )
        return await self._get_node(vm)
