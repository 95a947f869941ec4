"""
:class:`FakeAzureResourceManager`: one in-memory Azure subscription behind
the Resource Manager API, with its Azure AD tenant (:class:`~txcloud.testing.azure.FakeAzureAD`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from twisted.web.server import Request as ServerRequest

from txcloud.auth.azure import MANAGEMENT_SCOPE, ClientSecretTokens
from txcloud.compute.drivers.azure_arm import AzureNodeDriver
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing.azure import DEFAULT_TENANT, FakeAzureAD
from txcloud.testing.azure_arm._compute import ComputeEndpoints
from txcloud.testing.azure_arm._listings import CatalogueEndpoints
from txcloud.testing.azure_arm._network import NetworkEndpoints
from txcloud.testing.azure_arm._resources import arm_refusal, error_reply, new_guid
from txcloud.testing.azure_arm._state import ARMState

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SUBSCRIPTION",
    "FakeAzureResourceManager",
]

#: The subscription a fake serves unless told otherwise.
DEFAULT_SUBSCRIPTION = "3f2a4c1e-0000-4000-8000-0000000a2b31"
#: The application the fake's Azure AD knows, and its secret.
DEFAULT_CLIENT_ID = "6c1d7e2f-0000-4000-8000-00000000c11e"
DEFAULT_CLIENT_SECRET = "fake-client-secret-for-tests"

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_GROUP = _SUB + r"/resourceGroups/(?P<group>[^/]+)"
_SCOPE = _SUB + r"(?:/resourceGroups/(?P<group>[^/]+))?"
_LOCATION = _SUB + r"/providers/Microsoft\.Compute/locations/(?P<location>[^/]+)"
_PUBLISHERS = _LOCATION + r"/publishers"
_OFFERS = _PUBLISHERS + r"/(?P<publisher>[^/]+)/artifacttypes/vmimage/offers"
_SKUS = _OFFERS + r"/(?P<offer>[^/]+)/skus"
_VM = _GROUP + r"/providers/Microsoft\.Compute/virtualMachines/(?P<name>[^/]+)"
_NETWORK_KINDS = "networkInterfaces|publicIPAddresses"
_DISK_KINDS = "disks|snapshots"
_DISK = _GROUP + rf"/providers/Microsoft\.Compute/(?P<kind>{_DISK_KINDS})/(?P<name>[^/]+)"


class FakeAzureResourceManager(FakeService, ComputeEndpoints, NetworkEndpoints, CatalogueEndpoints):
    """
    An in-memory Azure subscription (see :mod:`txcloud.testing.azure_arm`).

    :param clock: what dates resources and ends operations: a ``Clock`` in
        unit tests; the global reactor by default.
    :param subscription_id: the subscription it serves.
    :param tenant: its Azure AD tenant; :attr:`ad` issues the tokens it accepts.
    :param catalogue: start with locations, sizes and marketplace images.
    :ivar ad: the :class:`~txcloud.testing.azure.FakeAzureAD` of the tenant,
        which knows :data:`DEFAULT_CLIENT_ID` with :data:`DEFAULT_CLIENT_SECRET`.
    :ivar locations: location name to its JSON object.
    :ivar sizes: the :class:`FakeSize` offered in every location.
    :ivar marketplace: publisher -> offer -> SKU -> versions.
    :ivar resources: every resource's JSON by its id in lower case.
    :ivar power: each virtual machine's power state by its id in lower case.
    :ivar page_size: items per page of lists (``nextLink`` beyond); all when ``None``.
    :ivar operation_seconds: how long each long-running operation runs on the clock.
    :ivar retry_after: the ``Retry-After`` (seconds) sent with operations.
    :ivar async_headers: which of ``Azure-AsyncOperation`` and ``Location``
        answers to long-running operations carry.
    :ivar core_limit: the cores the subscription's machines (not deallocated) may use.
    """

    def __init__(
        self,
        clock: Any = None,
        *,
        subscription_id: str = DEFAULT_SUBSCRIPTION,
        tenant: str = DEFAULT_TENANT,
        catalogue: bool = True,
    ) -> None:
        FakeService.__init__(self, clock)
        ARMState.__init__(self, subscription_id, catalogue)
        self.ad = FakeAzureAD(self.clock, tenant=tenant)
        self.ad.add_client_secret(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)

    # Drivers

    def driver(self, *, reactor: Any = None, **kwargs: Any) -> AzureNodeDriver:
        """
        A driver reaching this fake (and its Azure AD) in memory, with
        :data:`DEFAULT_CLIENT_ID`'s tokens; *kwargs* go to the driver.
        """
        reactor = reactor or self.clock
        tokens = ClientSecretTokens(
            self.ad.tenant,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            authority="https://login.microsoftonline.com",
            scope=MANAGEMENT_SCOPE,
            reactor=reactor,
            agent=self.ad.agent(),
        )
        options = {"ex_credentials": tokens, "ex_agent": self.agent(), "reactor": reactor, **kwargs}
        return AzureNodeDriver(self.ad.tenant, self.subscription_id, **options)

    # Seeding

    def add_resource_group(self, name: str, location: str = "westeurope") -> None:
        """Add a resource group."""
        self.resource_groups[name.lower()] = {
            "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{name}",
            "name": name,
            "location": location,
        }

    def add_network(
        self,
        group: str,
        name: str,
        subnets: Iterable[str] = ("default",),
        location: str | None = None,
    ) -> str:
        """Add a virtual network with *subnets* to an existing group; returns its id."""
        network_id = self.resource_id(group, "Microsoft.Network", "virtualNetworks", name)
        self._store(
            network_id,
            name,
            "Microsoft.Network/virtualNetworks",
            location or self.resource_groups[group.lower()]["location"],
            {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [
                    {"id": f"{network_id}/subnets/{subnet}", "name": subnet} for subnet in subnets
                ],
            },
        )
        return network_id

    def add_vm(
        self,
        name: str,
        group: str = "rg",
        *,
        size: str = "Standard_B1s",
        location: str | None = None,
        power: str = "running",
        public_ip: bool = True,
        tags: dict[str, str] | None = None,
    ) -> str:
        """
        Add a running machine (its group, network, interface, address and
        disk too, as needed) at once, without an operation; returns its id.
        """
        if group.lower() not in self.resource_groups:
            self.add_resource_group(group, location or "westeurope")
        location = location or self.resource_groups[group.lower()]["location"]
        network_id = self.resource_id(group, "Microsoft.Network", "virtualNetworks", "vnet")
        if network_id.lower() not in self.resources:
            self.add_network(group, "vnet", location=location)
        ip_id = None
        if public_ip:
            ip_id = self.resource_id(group, "Microsoft.Network", "publicIPAddresses", f"{name}-ip")
            self._put_public_ip(ip_id, f"{name}-ip", {"location": location}).settle(math.inf)
        nic_id = self.resource_id(group, "Microsoft.Network", "networkInterfaces", f"{name}-nic")
        configuration: dict[str, Any] = {"subnet": {"id": f"{network_id}/subnets/default"}}
        if ip_id:
            configuration["publicIPAddress"] = {"id": ip_id}
        body = {
            "location": location,
            "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": configuration}]
            },
        }
        self._put_interface(nic_id, f"{name}-nic", body).settle(math.inf)
        vm_id = self.resource_id(group, "Microsoft.Compute", "virtualMachines", name)
        vm_body = {
            "location": location,
            "tags": tags or {},
            "properties": {
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {
                    "imageReference": {
                        "publisher": "Canonical",
                        "offer": "ubuntu-24_04-lts",
                        "sku": "server",
                        "version": "latest",
                    },
                    "osDisk": {"name": f"{name}-osdisk", "createOption": "FromImage"},
                },
                "osProfile": {"computerName": name, "adminUsername": "azureuser"},
                "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
            },
        }
        self._put_vm(vm_id, name, vm_body).settle(math.inf)
        self.power[vm_id.lower()] = power
        return vm_id

    # Faults

    def fail(
        self,
        path: str,
        status: int,
        code: str,
        message: str = "injected failure",
        *,
        method: str | None = None,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """
        Answer the next *times* requests whose path matches *path* (an
        ``fnmatch`` pattern, e.g. ``"*/virtualMachines"``) with an ARM error.

        :param headers: more headers (``{"Retry-After": "2"}``).
        """
        self._add_fault([path], method, times, arm_refusal(status, code, message, headers))

    def fail_operations(self, code: str, message: str, times: int = 1) -> None:
        """Make the next *times* long-running operations end ``Failed`` with *code*."""
        self._failing.extend([(code, message)] * times)

    # Serving

    def _serve(self, request: ServerRequest) -> Any:
        scheme = "https" if request.isSecure() else "http"
        host = (request.getHeader("host") or "management.azure.com").rstrip("/")
        self._base = f"{scheme}://{host}"
        return super()._serve(request)

    def _authenticate(self, received: Received) -> None:
        scheme, _, token = (received.header("Authorization") or "").partition(" ")
        grant = next((g for g in self.ad.grants if g.token == token), None)
        if scheme.lower() != "bearer" or grant is None:
            raise arm_refusal(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or not valid.",
            )
        if not self.ad.tokens.is_valid(token):
            raise arm_refusal(
                401, "ExpiredAuthenticationToken", "The access token expiry UTC time has passed."
            )
        if grant.scope != MANAGEMENT_SCOPE:
            raise arm_refusal(
                401, "InvalidAuthenticationToken", "The access token has an invalid audience."
            )

    def _common_headers(self, received: Received) -> dict[str, str]:
        request_id = new_guid()
        return {"x-ms-request-id": request_id, "x-ms-correlation-request-id": request_id}

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        return error_reply(refused)

    def _check_api_version(self, received: Received) -> None:
        version = received.arg("api-version")
        if not version:
            raise arm_refusal(
                400, "MissingApiVersionParameter", "The api-version query parameter is required."
            )
        kind, versions = _api_versions(received.path)
        if version not in versions:
            raise arm_refusal(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for API version '{version}' and type "
                f"'{kind}'. The supported api-versions are '{', '.join(sorted(versions))}'.",
            )

    def _handle(self, received: Received) -> Reply:
        self._check_api_version(received)
        self._settle()
        allowed = False
        for pattern, method, endpoint in _ROUTES:
            match = pattern.match(received.path)
            if match is None:
                continue
            allowed = True
            if method == received.method:
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                if groups.get("sub", self.subscription_id).lower() != self.subscription_id:
                    raise arm_refusal(
                        404,
                        "SubscriptionNotFound",
                        f"The subscription '{groups['sub']}' could not be found.",
                    )
                return endpoint(self, received, groups)
        if allowed:
            raise arm_refusal(405, "MethodNotAllowed", f"{received.method} is not allowed here.")
        raise arm_refusal(404, "NotFound", f"No route for {received.path}.")

    def _settle(self) -> None:
        now = self.clock.seconds()
        for operation in self.operations.values():
            operation.settle(now)


#: The API versions the fake accepts, by the kind of resource a path is about.
API_VERSIONS = {
    "disks": frozenset({"2023-04-02", "2023-10-02", "2024-03-02"}),
    "network": frozenset({"2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01"}),
    "locations": frozenset({"2020-01-01", "2021-01-01", "2022-12-01"}),
    "compute": frozenset({"2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01"}),
}


def _api_versions(path: str) -> tuple[str, frozenset[str]]:
    lowered = path.lower()
    if re.search(r"/providers/microsoft\.compute/(disks|snapshots)(/|$)", lowered):
        kind = "disks"
    elif "/providers/microsoft.network/" in lowered:
        kind = "network"
    elif re.match(r"^/subscriptions/[^/]+/locations/?$", lowered):
        kind = "locations"
    else:
        kind = "compute"
    return kind, API_VERSIONS[kind]


_Endpoint = Callable[[FakeAzureResourceManager, Received, dict[str, str]], Reply]
_F = FakeAzureResourceManager

# (path, method, endpoint); a path that matches with another method is a 405.
_ROUTES: list[tuple[re.Pattern[str], str, _Endpoint]] = [
    (re.compile(f"^{pattern}/?$", re.IGNORECASE), method, endpoint)
    for pattern, method, endpoint in (
        (_SUB + "/locations", "GET", _F._list_locations),
        (_SCOPE + r"/providers/Microsoft\.Compute/virtualMachines", "GET", _F._list_vms),
        (_VM, "GET", _F._get_vm),
        (_VM, "PUT", _F._create_vm),
        (_VM, "PATCH", _F._update_vm),
        (_VM, "DELETE", _F._delete_vm),
        (_VM + "/instanceView", "GET", _F._get_instance_view),
        (_VM + r"/(?P<action>start|powerOff|deallocate|restart)", "POST", _F._vm_action),
        (
            _SCOPE + rf"/providers/Microsoft\.Network/(?P<kind>{_NETWORK_KINDS})",
            "GET",
            _F._list_network,
        ),
        (
            _GROUP + rf"/providers/Microsoft\.Network/(?P<kind>{_NETWORK_KINDS})/(?P<name>[^/]+)",
            "GET",
            _F._get_network,
        ),
        (
            _GROUP + rf"/providers/Microsoft\.Network/(?P<kind>{_NETWORK_KINDS})/(?P<name>[^/]+)",
            "PUT",
            _F._put_network,
        ),
        (
            _GROUP + rf"/providers/Microsoft\.Network/(?P<kind>{_NETWORK_KINDS})/(?P<name>[^/]+)",
            "DELETE",
            _F._delete_network,
        ),
        (_SCOPE + rf"/providers/Microsoft\.Compute/(?P<kind>{_DISK_KINDS})", "GET", _F._list_disks),
        (_DISK, "GET", _F._get_disk),
        (_DISK, "PUT", _F._put_disk),
        (_DISK, "DELETE", _F._delete_disk),
        (_LOCATION + "/vmSizes", "GET", _F._list_sizes),
        (_PUBLISHERS, "GET", _F._list_publishers),
        (_OFFERS, "GET", _F._list_offers),
        (_SKUS, "GET", _F._list_skus),
        (_SKUS + r"/(?P<sku>[^/]+)/versions", "GET", _F._list_versions),
        (_LOCATION + r"/operations/(?P<operation>[^/]+)", "GET", _F._operation_status),
        (_LOCATION + r"/operationResults/(?P<operation>[^/]+)", "GET", _F._operation_result),
    )
]
