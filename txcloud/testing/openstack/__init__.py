"""
A fake OpenStack cloud for trial tests of code that uses txcloud's
OpenStack driver: Keystone v3, Nova (compute API v2.1), Glance v2 and
Cinder (block-storage API v3), in memory, in two regions (``RegionOne``
and ``RegionTwo``) by default::

    clock = Clock()
    cloud = FakeOpenStack(clock=clock)
    cloud.add_server("web-1", region="RegionOne")
    compute = cloud.driver("RegionOne")  # OpenStackNodeDriver(..., ex_agent=cloud.agent())
    nodes = self.successResultOf(compute.list_nodes())

or on a real port: ``reactor.listenTCP(0, cloud.site(), interface="127.0.0.1")``
and ``OpenStackNodeDriver(DEFAULT_USER, DEFAULT_PASSWORD,
ex_force_auth_url=f"http://127.0.0.1:{port}/v3", ex_tenant_name=DEFAULT_PROJECT,
region="RegionOne")``.

Keystone answers ``POST /v3/auth/tokens`` for the password, token and
application credential methods (:meth:`FakeOpenStack.add_user`,
:meth:`FakeOpenStack.add_app_credential`) with a project-scoped token in
``X-Subject-Token``, its ``expires_at`` (:attr:`FakeOpenStack.token_lifetime`
seconds on the clock) and a catalog whose ``compute``, ``image``, ``block-storage`` and
``identity`` endpoints (``public`` and ``internal``) point back at the fake:
``/compute/REGION/v2.1``, ``/image/REGION`` and ``/volume/REGION/v3``, on
the host the client asked for.  Expired and revoked tokens
(:meth:`FakeOpenStack.revoke_tokens`) get Keystone's ``401``
``{"error": {...}}``.

Nova serves ``/servers/detail`` (``limit``/``marker`` paging with
``servers_links``), ``POST /servers`` (checking flavor, image, key pair,
availability zone, user data and the instance quota), ``GET`` and
``DELETE /servers/ID``, the ``reboot``, ``os-start`` and ``os-stop``
actions (``409`` in the wrong state), ``/flavors/detail``,
``/os-keypairs`` (Nova makes an RSA key when given none) and
``/os-availability-zone``, with its error bodies
(``{"itemNotFound": {"code": 404, "message": ...}}``...).  Glance serves
``/v2/images`` (``status`` filter, ``limit``/``marker`` paging with
``next``) and ``/v2/images/ID``.

Cinder serves ``/v3/PROJECT_ID/volumes/detail`` and
``/snapshots/detail`` (``limit``/``marker`` paging with
``volumes_links``, the ``volume_id`` filter), ``POST /volumes``
(checking size, zone, volume type, snapshot and image), ``POST
/snapshots`` (an attached volume only with ``force``), and ``GET`` and
``DELETE`` of each; a volume is ``creating`` for
:attr:`FakeOpenStack.volume_seconds` on the clock, and Cinder refuses to
delete one that is attached or has snapshots (``400`` ``badRequest``).
Nova attaches and detaches them (``/servers/ID/os-volume_attachments``,
naming the device ``/dev/vdb``... unless told).  Seed volumes with
:meth:`FakeOpenStack.add_volume`.

Faults: :meth:`FakeOpenStack.fail` answers Nova's error body for a
status (``413`` ``overLimit`` with ``Retry-After``...); with
:attr:`~txcloud.testing._http.FakeService.latency` every answer comes that
many seconds later on the clock.
"""

from txcloud.testing.openstack._identity import Grant
from txcloud.testing.openstack._models import (
    FakeAppCredential,
    FakeFlavor,
    FakeImage,
    FakeKeyPair,
    FakeServer,
    FakeUser,
)
from txcloud.testing.openstack._volumes import FakeSnapshot, FakeVolume
from txcloud.testing.openstack.fake import (
    DEFAULT_PASSWORD,
    DEFAULT_PROJECT,
    DEFAULT_REGIONS,
    DEFAULT_USER,
    FakeOpenStack,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_PROJECT",
    "DEFAULT_REGIONS",
    "DEFAULT_USER",
    "FakeAppCredential",
    "FakeFlavor",
    "FakeImage",
    "FakeKeyPair",
    "FakeOpenStack",
    "FakeServer",
    "FakeSnapshot",
    "FakeUser",
    "FakeVolume",
    "Grant",
]
