"""
OpenStack identity: Keystone v3 tokens (:mod:`~txcloud.auth.openstack.keystone`:
password, token and application credential authentication, tokens reused
until they expire and shared by drivers of the same credentials) and where
OpenStack's tools find their cloud (:mod:`~txcloud.auth.openstack.clouds`:
``OS_CLOUD`` and ``clouds.yaml``, the ``OS_*`` variables).
"""

from txcloud.auth.openstack.clouds import OpenStackSettings, find_settings
from txcloud.auth.openstack.keystone import (
    KeystoneCredentials,
    KeystoneSession,
    KeystoneToken,
    keystone_session,
)

__all__ = [
    "KeystoneCredentials",
    "KeystoneSession",
    "KeystoneToken",
    "OpenStackSettings",
    "find_settings",
    "keystone_session",
]
