"""
Answers of Azure Resource Manager as its REST API reference shows them
(Virtual Machines - List All with ``$expand=instanceView``, Network
Interfaces - List All, Public IP Addresses - List All, Virtual Machine Sizes
- List, Subscriptions - List Locations, Virtual Machine Images - List
Versions, an error body, an operation's status), written in our own words:
the ids, names and addresses are ours.
"""

from __future__ import annotations

import json
from typing import Any

SUBSCRIPTION = "9b4e3c2a-1f0d-4e8b-a7c6-5d4e3f2a1b0c"
_RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/Web-Prod"
VM_ID = f"{_RG}/providers/Microsoft.Compute/virtualMachines/web-01"
NIC_ID = f"{_RG}/providers/Microsoft.Network/networkInterfaces/web-01-nic"
IP_ID = f"{_RG}/providers/Microsoft.Network/publicIPAddresses/web-01-ip"

VIRTUAL_MACHINES = """
{
  "value": [
    {
      "name": "web-01",
      "id": "%(vm)s",
      "type": "Microsoft.Compute/virtualMachines",
      "location": "westeurope",
      "tags": {"role": "web"},
      "properties": {
        "vmId": "0f8e4c7a-2b1d-4a3e-9c6f-7d8e9a0b1c2d",
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {
          "imageReference": {
            "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
            "sku": "server", "version": "latest", "exactVersion": "24.04.202412010"
          },
          "osDisk": {
            "osType": "Linux", "name": "web-01_OsDisk_1", "createOption": "FromImage",
            "caching": "ReadWrite",
            "managedDisk": {
              "storageAccountType": "Premium_LRS",
              "id": "%(rg)s/providers/Microsoft.Compute/disks/web-01_OsDisk_1"
            },
            "diskSizeGB": 30
          },
          "dataDisks": []
        },
        "osProfile": {
          "computerName": "web-01", "adminUsername": "azureuser",
          "linuxConfiguration": {"disablePasswordAuthentication": true}
        },
        "networkProfile": {
          "networkInterfaces": [{"id": "%(nic)s", "properties": {"primary": true}}]
        },
        "provisioningState": "Succeeded",
        "timeCreated": "2024-11-20T08:15:42.1234567+00:00",
        "instanceView": {
          "computerName": "web-01",
          "osName": "ubuntu",
          "osVersion": "24.04",
          "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info",
             "displayStatus": "Provisioning succeeded", "time": "2024-11-20T08:17:03.5+00:00"},
            {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"}
          ]
        }
      }
    },
    {
      "name": "batch-07",
      "id": "/subscriptions/%(sub)s/resourceGroups/batch/providers/Microsoft.Compute/virtualMachines/batch-07",
      "type": "Microsoft.Compute/virtualMachines",
      "location": "northeurope",
      "properties": {
        "hardwareProfile": {"vmSize": "Standard_B2s"},
        "networkProfile": {"networkInterfaces": []},
        "provisioningState": "Succeeded",
        "instanceView": {
          "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info"},
            {"code": "PowerState/deallocated", "level": "Info", "displayStatus": "VM deallocated"}
          ]
        }
      }
    }
  ],
  "nextLink": "https://management.azure.com/subscriptions/%(sub)s/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&%%24skiptoken=Mg"
}
""" % {"vm": VM_ID, "rg": _RG, "nic": NIC_ID, "sub": SUBSCRIPTION}

NETWORK_INTERFACES = """
{
  "value": [
    {
      "name": "web-01-nic",
      "id": "%(nic)s",
      "location": "westeurope",
      "type": "Microsoft.Network/networkInterfaces",
      "properties": {
        "provisioningState": "Succeeded",
        "ipConfigurations": [
          {
            "name": "ipconfig1",
            "id": "%(nic)s/ipConfigurations/ipconfig1",
            "properties": {
              "privateIPAddress": "10.20.1.4",
              "privateIPAllocationMethod": "Dynamic",
              "publicIPAddress": {"id": "%(ip)s"},
              "subnet": {"id": "%(rg)s/providers/Microsoft.Network/virtualNetworks/web-vnet/subnets/default"},
              "primary": true,
              "privateIPAddressVersion": "IPv4"
            }
          }
        ],
        "macAddress": "00-0D-3A-2B-4C-5D",
        "primary": true,
        "virtualMachine": {"id": "%(vm)s"}
      }
    }
  ]
}
""" % {"nic": NIC_ID.upper(), "ip": IP_ID, "rg": _RG, "vm": VM_ID}

PUBLIC_IP_ADDRESSES = """
{
  "value": [
    {
      "name": "web-01-ip",
      "id": "%(ip)s",
      "location": "westeurope",
      "sku": {"name": "Standard", "tier": "Regional"},
      "properties": {
        "provisioningState": "Succeeded",
        "ipAddress": "51.105.12.34",
        "publicIPAddressVersion": "IPv4",
        "publicIPAllocationMethod": "Static",
        "ipConfiguration": {"id": "%(nic)s/ipConfigurations/ipconfig1"}
      }
    },
    {
      "name": "spare-ip",
      "id": "%(rg)s/providers/Microsoft.Network/publicIPAddresses/spare-ip",
      "location": "westeurope",
      "properties": {"provisioningState": "Succeeded", "publicIPAllocationMethod": "Dynamic"}
    }
  ]
}
""" % {"ip": IP_ID, "nic": NIC_ID, "rg": _RG}

VM_SIZES = """
{
  "value": [
    {"name": "Standard_B1s", "numberOfCores": 1, "osDiskSizeInMB": 1047552,
     "resourceDiskSizeInMB": 4096, "memoryInMB": 1024, "maxDataDiskCount": 2},
    {"name": "Standard_D4s_v5", "numberOfCores": 4, "osDiskSizeInMB": 1047552,
     "resourceDiskSizeInMB": 0, "memoryInMB": 16384, "maxDataDiskCount": 8}
  ]
}
"""

LOCATIONS = """
{
  "value": [
    {
      "id": "/subscriptions/%(sub)s/locations/westeurope",
      "name": "westeurope",
      "type": "Region",
      "displayName": "West Europe",
      "regionalDisplayName": "(Europe) West Europe",
      "metadata": {
        "regionType": "Physical", "regionCategory": "Recommended",
        "geographyGroup": "Europe", "longitude": "4.9", "latitude": "52.37",
        "physicalLocation": "Netherlands", "geography": "Europe",
        "pairedRegion": [{"name": "northeurope", "id": "/subscriptions/%(sub)s/locations/northeurope"}]
      }
    },
    {
      "id": "/subscriptions/%(sub)s/locations/europe",
      "name": "europe",
      "type": "Region",
      "displayName": "Europe",
      "regionalDisplayName": "Europe",
      "metadata": {"regionType": "Logical", "regionCategory": "Other", "geography": "Europe"}
    }
  ]
}
""" % {"sub": SUBSCRIPTION}

IMAGE_VERSIONS = """
[
  {"location": "westeurope", "name": "24.04.202411030",
   "id": "/Subscriptions/%(sub)s/Providers/Microsoft.Compute/Locations/westeurope/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/24.04.202411030"},
  {"location": "westeurope", "name": "24.04.202412010",
   "id": "/Subscriptions/%(sub)s/Providers/Microsoft.Compute/Locations/westeurope/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/24.04.202412010"}
]
""" % {"sub": SUBSCRIPTION}

QUOTA_ERROR = """
{
  "error": {
    "code": "OperationNotAllowed",
    "message": "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota. Location: westeurope, Current Limit: 10, Current Usage: 8, Additional Required: 4."
  }
}
"""

FAILED_OPERATION = """
{
  "startTime": "2024-11-20T08:15:42.0000000+00:00",
  "endTime": "2024-11-20T08:16:10.0000000+00:00",
  "status": "Failed",
  "error": {"code": "AllocationFailed", "message": "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."},
  "name": "6a1c3b2d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
}
"""


def loaded(text: str) -> Any:
    """A recorded answer as the driver reads it."""
    return json.loads(text)
