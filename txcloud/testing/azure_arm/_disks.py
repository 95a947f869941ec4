"""
The fake's managed disks and snapshots: listed, read, created or updated,
deleted; and the data disks a machine holds.
"""

from __future__ import annotations

from typing import Any

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing.azure_arm._resources import (
    arm_refusal,
    iso_time,
    json_answer,
    new_guid,
    request_body,
)
from txcloud.testing.azure_arm._state import ARMState

__all__ = ["SKU_TIERS", "DiskEndpoints"]

#: The disk kinds the fake makes, and their tiers.
SKU_TIERS = {
    "Standard_LRS": "Standard",
    "StandardSSD_LRS": "Standard",
    "StandardSSD_ZRS": "Standard",
    "Premium_LRS": "Premium",
    "Premium_ZRS": "Premium",
    "PremiumV2_LRS": "Premium",
    "UltraSSD_LRS": "Ultra",
}

_TYPES = {"disks": "Microsoft.Compute/disks", "snapshots": "Microsoft.Compute/snapshots"}
_GIB = 1024**3


def _kind(value: str) -> str:
    return "snapshots" if value.lower() == "snapshots" else "disks"


def _bad(message: str, code: str = "InvalidParameter") -> Refused:
    return arm_refusal(400, code, message)


class DiskEndpoints(ARMState):
    """Microsoft.Compute's managed disks and snapshots."""

    def _list_disks(self, received: Received, groups: dict[str, str]) -> Reply:
        return self._page(received, self._in_scope(groups, _TYPES[_kind(groups["kind"])]))

    def _disk_id(self, groups: dict[str, str]) -> str:
        group = self._group(groups["group"])
        kind = _kind(groups.get("kind", "disks"))
        return self.resource_id(group["name"], "Microsoft.Compute", kind, groups["name"])

    def _get_disk(self, received: Received, groups: dict[str, str]) -> Reply:
        kind = _TYPES[_kind(groups.get("kind", "disks"))]
        return json_answer(self._found(self._disk_id(groups), kind))

    def _put_disk(self, received: Received, groups: dict[str, str]) -> Reply:
        resource_id = self._disk_id(groups)
        body = request_body(received)
        location = self._check_location(body)
        properties = body.get("properties") or {}
        creation = properties.get("creationData") or {}
        option = str(creation.get("createOption", ""))
        previous = self.resources.get(resource_id.lower())
        if _kind(groups["kind"]) == "snapshots":
            stored = self._snapshot_properties(location, option, creation, properties)
        else:
            stored = self._disk_properties(location, option, creation, properties, previous)
        sku = (body.get("sku") or {}).get("name", "Standard_LRS")
        if sku not in SKU_TIERS:
            raise _bad(f"The value '{sku}' of parameter 'sku.name' is not allowed.")
        more: dict[str, Any] = {
            "tags": body.get("tags") or {},
            "sku": {"name": sku, "tier": SKU_TIERS[sku]},
        }
        if body.get("zones"):
            more["zones"] = body["zones"]
        if previous is not None and previous.get("managedBy"):
            more["managedBy"] = previous["managedBy"]
        now = self.clock.seconds()
        document = self._store(
            resource_id,
            groups["name"],
            _TYPES[_kind(groups["kind"])],
            location,
            {
                **stored,
                "timeCreated": previous["properties"]["timeCreated"] if previous else iso_time(now),
                "uniqueId": previous["properties"]["uniqueId"] if previous else new_guid(),
                "provisioningState": "Updating" if previous else "Creating",
            },
            **more,
        )

        def finish() -> None:
            document["properties"]["provisioningState"] = "Succeeded"

        def undo() -> None:
            document["properties"]["provisioningState"] = "Failed"

        operation = self._operation(location, finish, undo)
        return self._accepted(operation, document, 202)

    def _disk_properties(
        self,
        location: str,
        option: str,
        creation: dict[str, Any],
        properties: dict[str, Any],
        previous: dict[str, Any] | None,
    ) -> dict[str, Any]:
        size = properties.get("diskSizeGB")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _bad("Required parameter 'diskSizeGB' is missing or not a positive integer.")
        if option == "Copy":
            source = self._source(creation, "Microsoft.Compute/snapshots", location)
            if size < source["properties"]["diskSizeGB"]:
                raise _bad(
                    f"The disk size {size} GB is smaller than its source's "
                    f"{source['properties']['diskSizeGB']} GB.",
                    "BadRequest",
                )
        elif option != "Empty":
            raise _bad(f"The fake makes disks Empty or by Copy, not {option!r}.")
        if previous is not None and size < previous["properties"]["diskSizeGB"]:
            raise _bad("Disk size can only be increased.", "BadRequest")
        state = previous["properties"]["diskState"] if previous else "Unattached"
        return {
            "creationData": creation,
            "diskSizeGB": size,
            "diskSizeBytes": size * _GIB,
            "diskState": state,
        }

    def _snapshot_properties(
        self, location: str, option: str, creation: dict[str, Any], properties: dict[str, Any]
    ) -> dict[str, Any]:
        if option != "Copy":
            raise _bad(f"The fake makes snapshots by Copy, not {option!r}.")
        source = self._source(creation, "Microsoft.Compute/disks", location)
        size = source["properties"]["diskSizeGB"]
        return {
            "creationData": {**creation, "sourceUniqueId": source["properties"]["uniqueId"]},
            "diskSizeGB": size,
            "diskSizeBytes": size * _GIB,
            "incremental": bool(properties.get("incremental")),
        }

    def _source(self, creation: dict[str, Any], kind: str, location: str) -> dict[str, Any]:
        source_id = str(creation.get("sourceResourceId") or "")
        source = self.resources.get(source_id.lower())
        if source is None or source["type"] != kind:
            raise arm_refusal(404, "NotFound", f"Resource {source_id} was not found.")
        if source["location"] != location:
            raise _bad(
                f"The source {source['name']} is in {source['location']}, not {location}.",
                "BadRequest",
            )
        return source

    def _delete_disk(self, received: Received, groups: dict[str, str]) -> Reply:
        disk = self.resources.get(self._disk_id(groups).lower())
        if disk is None:
            return Reply(status=204)
        if disk.get("managedBy"):
            raise arm_refusal(
                409,
                "OperationNotAllowed",
                f"Disk {disk['name']} is attached to VM {disk['managedBy']}.",
            )
        disk["properties"]["provisioningState"] = "Deleting"
        key = disk["id"].lower()

        def finish() -> None:
            self.resources.pop(key, None)

        def undo() -> None:
            disk["properties"]["provisioningState"] = "Failed"

        return self._accepted(self._operation(disk["location"], finish, undo))

    # A machine's data disks

    def _data_disks(
        self, vm_id: str, location: str, max_disks: int, entries: Any
    ) -> list[dict[str, Any]]:
        """
        The data disks *entries* (a PUT's or PATCH's) as the machine keeps
        them, after Azure's checks; the managed disks are attached, and
        those the machine no longer lists detached.
        """
        if not isinstance(entries, list):
            raise _bad("'dataDisks' must be a list.")
        kept = [e for e in entries if isinstance(e, dict) and not e.get("toBeDetached")]
        if len(kept) > max_disks:
            raise arm_refusal(
                409,
                "OperationNotAllowed",
                f"The maximum number of data disks allowed to be attached to a VM of this "
                f"size is {max_disks}.",
            )
        disks: list[dict[str, Any]] = []
        luns: set[int] = set()
        for entry in kept:
            lun = entry.get("lun")
            if isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= 63:
                raise _bad(f"The LUN {lun!r} of a data disk is not in 0..63.")
            if lun in luns:
                raise _bad(f"Two data disks use LUN {lun}.")
            luns.add(lun)
            disks.append(self._data_disk(vm_id, location, entry))
        self._hold_disks(vm_id, [d["managedDisk"]["id"] for d in disks if "managedDisk" in d])
        return disks

    def _data_disk(self, vm_id: str, location: str, entry: dict[str, Any]) -> dict[str, Any]:
        option = str(entry.get("createOption", "")).lower()
        common = {
            "lun": entry["lun"],
            "caching": entry.get("caching", "None"),
            "toBeDetached": False,
            "deleteOption": entry.get("deleteOption", "Detach"),
        }
        if entry.get("vhd"):
            if option not in ("attach", "empty") or not entry.get("name"):
                raise _bad("An unmanaged data disk needs a name and createOption Attach or Empty.")
            return {
                **common,
                "name": entry["name"],
                "createOption": "Attach" if option == "attach" else "Empty",
                "vhd": {"uri": str(entry["vhd"].get("uri", ""))},
                "diskSizeGB": entry.get("diskSizeGB"),
            }
        if option != "attach":
            raise _bad(f"The fake attaches existing managed disks only, not {option!r}.")
        disk_id = str((entry.get("managedDisk") or {}).get("id", ""))
        disk = self.resources.get(disk_id.lower())
        if disk is None or disk["type"] != "Microsoft.Compute/disks":
            raise _bad(f"Managed disk {disk_id} was not found.")
        holder = str(disk.get("managedBy") or "")
        if holder and holder.lower() != vm_id.lower():
            raise arm_refusal(
                409,
                "OperationNotAllowed",
                f"Disk {disk['name']} is already attached to VM {holder}.",
            )
        if disk["location"] != location:
            raise _bad(f"Disk {disk['name']} is in {disk['location']}, not {location}.")
        return {
            **common,
            "name": disk["name"],
            "createOption": "Attach",
            "managedDisk": {"id": disk["id"], "storageAccountType": disk["sku"]["name"]},
            "diskSizeGB": disk["properties"]["diskSizeGB"],
        }

    def _hold_disks(self, vm_id: str, disk_ids: list[str]) -> None:
        """Make *vm_id* hold the data disks *disk_ids* (its OS disk aside), and no others."""
        held = {disk_id.lower() for disk_id in disk_ids}
        os_disk = self.resources.get(vm_id.lower(), {}).get("properties", {})
        os_id = os_disk.get("storageProfile", {}).get("osDisk", {}).get("managedDisk", {})
        for key, resource in self.resources.items():
            if resource["type"] != "Microsoft.Compute/disks" or key == str(os_id.get("id")).lower():
                continue
            if key in held:
                resource["managedBy"] = vm_id
                resource["properties"]["diskState"] = self._held_state(vm_id)
            elif str(resource.get("managedBy", "")).lower() == vm_id.lower():
                del resource["managedBy"]
                resource["properties"]["diskState"] = "Unattached"

    def _held_state(self, vm_id: str) -> str:
        return "Reserved" if self.power.get(vm_id.lower()) == "deallocated" else "Attached"

    def _mark_held_disks(self, vm_id: str) -> None:
        """Give the disks *vm_id* holds the state its power says."""
        for resource in self.resources.values():
            if str(resource.get("managedBy", "")).lower() == vm_id.lower():
                resource["properties"]["diskState"] = self._held_state(vm_id)
