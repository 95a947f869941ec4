"""
The fake's virtual machines: listed, read, created or updated (their data
disks too), deleted, powered.
"""

from __future__ import annotations

from typing import Any

from txcloud.testing._http import Received, Reply
from txcloud.testing.azure_arm._catalogue import FakeSize
from txcloud.testing.azure_arm._disks import DiskEndpoints
from txcloud.testing.azure_arm._resources import (
    FakeOperation,
    arm_refusal,
    instance_view,
    iso_time,
    json_answer,
    new_guid,
    request_body,
)

__all__ = ["ComputeEndpoints"]

#: Each power action: the state it passes through and the one it ends in.
POWER_ACTIONS = {
    "start": ("starting", "running"),
    "poweroff": ("stopping", "stopped"),
    "deallocate": ("deallocating", "deallocated"),
    "restart": ("starting", "running"),
}


class ComputeEndpoints(DiskEndpoints):
    """Microsoft.Compute's virtual machines."""

    def _vm_json(self, vm: dict[str, Any], expand: bool) -> dict[str, Any]:
        document = {**vm, "properties": dict(vm["properties"])}
        if expand:
            power = self.power.get(vm["id"].lower(), "running")
            document["properties"]["instanceView"] = instance_view(vm, power)
        return document

    def _list_vms(self, received: Received, groups: dict[str, str]) -> Reply:
        expand = received.arg("$expand") == "instanceView"
        vms = self._in_scope(groups, "Microsoft.Compute/virtualMachines")
        return self._page(received, [self._vm_json(vm, expand) for vm in vms])

    def _vm(self, groups: dict[str, str]) -> dict[str, Any]:
        self._group(groups["group"])
        vm_id = self.resource_id(
            groups["group"], "Microsoft.Compute", "virtualMachines", groups["name"]
        )
        return self._found(vm_id, "Microsoft.Compute/virtualMachines")

    def _get_vm(self, received: Received, groups: dict[str, str]) -> Reply:
        vm = self._vm(groups)
        return json_answer(self._vm_json(vm, received.arg("$expand") == "instanceView"))

    def _get_instance_view(self, received: Received, groups: dict[str, str]) -> Reply:
        vm = self._vm(groups)
        return json_answer(instance_view(vm, self.power.get(vm["id"].lower(), "running")))

    def _create_vm(self, received: Received, groups: dict[str, str]) -> Reply:
        group = self._group(groups["group"])
        vm_id = self.resource_id(
            group["name"], "Microsoft.Compute", "virtualMachines", groups["name"]
        )
        operation = self._put_vm(vm_id, groups["name"], request_body(received))
        document = self._vm_json(self.resources[vm_id.lower()], False)
        return self._accepted(operation, document, 201)

    def _size(self, size: str) -> FakeSize:
        found = next((s for s in self.sizes if s.name.lower() == size.lower()), None)
        if found is None:
            raise arm_refusal(
                409, "SkuNotAvailable", f"The requested size {size} is not available."
            )
        return found

    def _cores(self, size: str) -> int:
        return self._size(size).cores

    def _cores_in_use(self, but: str = "") -> int:
        return sum(
            self._cores(vm["properties"]["hardwareProfile"]["vmSize"])
            for key, vm in self.resources.items()
            if vm["type"] == "Microsoft.Compute/virtualMachines"
            and key != but
            and self.power.get(key) != "deallocated"
        )

    def _check_quota(self, cores: int, but: str = "") -> None:
        if self._cores_in_use(but) + cores > self.core_limit:
            raise arm_refusal(
                409,
                "OperationNotAllowed",
                "Operation could not be completed as it results in exceeding approved "
                f"Total Regional Cores quota. Limit: {self.core_limit}.",
            )

    def _check_image(self, reference: Any) -> None:
        reference = reference if isinstance(reference, dict) else {}
        versions = (
            self.marketplace.get(reference.get("publisher", ""), {})
            .get(reference.get("offer", ""), {})
            .get(reference.get("sku", ""), [])
        )
        if not versions or reference.get("version") not in (*versions, "latest"):
            raise arm_refusal(
                404, "PlatformImageNotFound", f"The platform image '{reference}' is not available."
            )

    def _put_vm(self, vm_id: str, name: str, body: dict[str, Any]) -> FakeOperation:
        location = self._check_location(body)
        properties = body.get("properties") or {}
        size = (properties.get("hardwareProfile") or {}).get("vmSize", "")
        self._check_quota(self._cores(size), but=vm_id.lower())
        storage = properties.get("storageProfile") or {}
        self._check_image(storage.get("imageReference"))
        if not (properties.get("osProfile") or {}).get("adminUsername"):
            raise arm_refusal(
                400, "InvalidParameter", "Required parameter 'adminUsername' is missing."
            )
        interfaces = (properties.get("networkProfile") or {}).get("networkInterfaces") or []
        if not interfaces:
            raise arm_refusal(
                400, "InvalidParameter", "A virtual machine needs a network interface."
            )
        for reference in interfaces:
            nic = self.resources.get(str(reference.get("id", "")).lower())
            if nic is None or nic["type"] != "Microsoft.Network/networkInterfaces":
                raise arm_refusal(
                    400,
                    "InvalidResourceReference",
                    f"Network interface {reference.get('id')} not found.",
                )
            attached = nic["properties"].get("virtualMachine", {}).get("id", "")
            if attached and attached.lower() != vm_id.lower():
                raise arm_refusal(
                    400, "NicInUse", f"Network interface {nic['name']} is used by {attached}."
                )
        os_disk = dict(storage.get("osDisk") or {})
        disk_name = os_disk.get("name") or f"{name}_OsDisk_1"
        disk_id = self.resource_id(vm_id.split("/")[4], "Microsoft.Compute", "disks", disk_name)
        os_disk["managedDisk"] = {**(os_disk.get("managedDisk") or {}), "id": disk_id}
        data_disks = self._data_disks(
            vm_id, location, self._size(size).max_data_disks, storage.get("dataDisks") or []
        )
        previous = self.resources.get(vm_id.lower())
        document = self._store(
            vm_id,
            name,
            "Microsoft.Compute/virtualMachines",
            location,
            {
                **properties,
                "storageProfile": {**storage, "osDisk": os_disk, "dataDisks": data_disks},
                "vmId": previous["properties"]["vmId"] if previous else new_guid(),
                "timeCreated": previous["properties"]["timeCreated"]
                if previous
                else iso_time(self.clock.seconds()),
                "provisioningState": "Updating" if previous else "Creating",
            },
            tags=body.get("tags") or {},
        )
        if disk_id.lower() not in self.resources:
            self._store_os_disk(disk_id, disk_name, location, vm_id, os_disk)
        for reference in interfaces:
            self.resources[reference["id"].lower()]["properties"]["virtualMachine"] = {"id": vm_id}
        self.power.setdefault(vm_id.lower(), "starting")

        def finish() -> None:
            document["properties"]["provisioningState"] = "Succeeded"
            if self.power.get(vm_id.lower()) == "starting":
                self.power[vm_id.lower()] = "running"

        def undo() -> None:
            document["properties"]["provisioningState"] = "Failed"

        return self._operation(location, finish, undo)

    def _store_os_disk(
        self, disk_id: str, name: str, location: str, vm_id: str, os_disk: dict[str, Any]
    ) -> None:
        size = os_disk.get("diskSizeGB") or 30
        kind = (os_disk.get("managedDisk") or {}).get("storageAccountType") or "Premium_LRS"
        self._store(
            disk_id,
            name,
            "Microsoft.Compute/disks",
            location,
            {
                "creationData": {"createOption": "FromImage"},
                "diskSizeGB": size,
                "diskSizeBytes": size * 1024**3,
                "diskState": "Attached",
                "timeCreated": iso_time(self.clock.seconds()),
                "uniqueId": new_guid(),
                "provisioningState": "Succeeded",
            },
            managedBy=vm_id,
            sku={"name": kind, "tier": "Premium" if kind.startswith("Premium") else "Standard"},
        )

    def _update_vm(self, received: Received, groups: dict[str, str]) -> Reply:
        vm = self._vm(groups)
        if vm["properties"]["provisioningState"] in ("Creating", "Deleting", "Updating"):
            raise arm_refusal(
                409,
                "OperationNotAllowed",
                "Another operation on this virtual machine is in progress.",
            )
        body = request_body(received)
        properties = body.get("properties") or {}
        storage = properties.get("storageProfile") or {}
        if "dataDisks" in storage:
            size = self._size(vm["properties"]["hardwareProfile"]["vmSize"])
            storage = {
                **storage,
                "dataDisks": self._data_disks(
                    vm["id"], vm["location"], size.max_data_disks, storage["dataDisks"]
                ),
            }
        vm["properties"] = _merged(
            vm["properties"],
            {**properties, "storageProfile": storage, "provisioningState": "Updating"},
        )
        if "tags" in body:
            vm["tags"] = body["tags"] or {}

        def finish() -> None:
            vm["properties"]["provisioningState"] = "Succeeded"

        def undo() -> None:
            vm["properties"]["provisioningState"] = "Failed"

        operation = self._operation(vm["location"], finish, undo)
        return self._accepted(operation, self._vm_json(vm, False), 200)

    def _delete_vm(self, received: Received, groups: dict[str, str]) -> Reply:
        self._group(groups["group"])
        vm_id = self.resource_id(
            groups["group"], "Microsoft.Compute", "virtualMachines", groups["name"]
        )
        vm = self.resources.get(vm_id.lower())
        if vm is None:
            return Reply(status=204)
        vm["properties"]["provisioningState"] = "Deleting"
        key = vm_id.lower()

        def finish() -> None:
            self.resources.pop(key, None)
            self.power.pop(key, None)
            for resource in self.resources.values():
                if resource["properties"].get("virtualMachine", {}).get("id", "").lower() == key:
                    del resource["properties"]["virtualMachine"]
                if str(resource.get("managedBy", "")).lower() == key:
                    del resource["managedBy"]
                    resource["properties"]["diskState"] = "Unattached"

        def undo() -> None:
            vm["properties"]["provisioningState"] = "Failed"

        return self._accepted(self._operation(vm["location"], finish, undo))

    def _vm_action(self, received: Received, groups: dict[str, str]) -> Reply:
        vm = self._vm(groups)
        action = groups["action"].lower()
        if action not in POWER_ACTIONS:
            raise arm_refusal(404, "NotFound", f"No action {groups['action']}.")
        key = vm["id"].lower()
        current = self.power.get(key, "running")
        if vm["properties"]["provisioningState"] in ("Creating", "Deleting"):
            raise arm_refusal(
                409, "OperationNotAllowed", "The machine is being created or deleted."
            )
        if action in ("restart", "poweroff") and current == "deallocated":
            raise arm_refusal(
                409, "OperationNotAllowed", f"Cannot {action} a deallocated virtual machine."
            )
        if action == "start" and current == "deallocated":
            self._check_quota(self._cores(vm["properties"]["hardwareProfile"]["vmSize"]), but=key)
        passing, final = POWER_ACTIONS[action]
        self.power[key] = passing

        def finish() -> None:
            self.power[key] = final
            self._mark_held_disks(key)

        def undo() -> None:
            self.power[key] = current

        return self._accepted(self._operation(vm["location"], finish, undo))


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """*old* updated by *new* as a PATCH does: objects merged, lists and values replaced."""
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged
