"""
Answers of Azure Resource Manager as its REST API reference shows them, as
JSON files: Virtual Machines - List All with ``$expand=instanceView``
(``virtual_machines``), Network Interfaces - List All, Public IP Addresses -
List All, Virtual Machine Sizes - List, Subscriptions - List Locations,
Virtual Machine Images - List (versions), Disks - List (``disks``: attached,
copied from a snapshot, being exported, being created), Snapshots - List
(``snapshots``: incremental, a cross-region copy under way, a failed import),
an error over a quota and a failed operation's status.  Written in our own
words: ids, names and addresses are ours.
"""

from __future__ import annotations

import json
import os
from typing import Any

SUBSCRIPTION = "9b4e3c2a-1f0d-4e8b-a7c6-5d4e3f2a1b0c"
_RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/Web-Prod"
VM_ID = f"{_RG}/providers/Microsoft.Compute/virtualMachines/web-01"
NIC_ID = f"{_RG}/providers/Microsoft.Network/networkInterfaces/web-01-nic"
DISK_ID = f"{_RG}/providers/Microsoft.Compute/disks/web-01-data"

_FOLDER = os.path.dirname(os.path.abspath(__file__))


def loaded(name: str) -> Any:
    """The recorded answer *name* (``"virtual_machines"``...), parsed."""
    with open(os.path.join(_FOLDER, f"{name}.json"), encoding="utf-8") as file:
        return json.load(file)


def text(name: str) -> bytes:
    """The recorded answer *name* as the bytes of a body."""
    with open(os.path.join(_FOLDER, f"{name}.json"), "rb") as file:
        return file.read()
