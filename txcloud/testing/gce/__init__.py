"""
A fake of the Google Compute Engine API v1, for trial tests of code that
manages instances: zones, machine types, images (the project's and public
image projects'), instances, persistent disks, snapshots and zone and
global operations, kept in memory, with an
OAuth2 token endpoint at ``/token`` so the driver's real authentication
runs.

In memory, through treq's ``RequestTraversalAgent``::

    clock = Clock()
    fake = FakeGCE(clock=clock)
    fake.add_instance("web-1", zone="us-central1-a")
    driver = GCENodeDriver(key=fake.key_document(), project=fake.project,
                           reactor=clock, ex_agent=fake.agent())
    nodes = self.successResultOf(driver.list_nodes())

or on a real port: ``port = reactor.listenTCP(0, fake.site(), interface="127.0.0.1")``,
a key whose token URI is the fake's (``fake.key_document(f"http://127.0.0.1:{n}/token")``)
and a driver built with ``host="127.0.0.1", port=n, secure=False``.

It behaves as the API reference describes: bearer tokens (from its token
endpoint, or from issuers it is told to :meth:`~FakeGCE.trust`);
``maxResults``/``pageToken`` paging; ``aggregatedList`` answers keyed by
``zones/ZONE`` with a ``NO_RESULTS_ON_PAGE`` warning for zones without
items; changes answered with a zone operation that is ``DONE`` after
:attr:`~FakeGCE.operation_seconds` on the clock; new instances
``PROVISIONING`` then ``STAGING`` then ``RUNNING`` over
:attr:`~FakeGCE.boot_seconds`; a per-region vCPU quota whose excess fails
the insert's operation with ``QUOTA_EXCEEDED``; disks (an instance's boot
disk among them) with their ``users``, attached and detached by
``attachDisk``/``detachDisk`` in their zone only, refused deletion while
attached, ``CREATING`` until their operation is done; global snapshots
made by ``createSnapshot``; error bodies
``{"error": {"code", "message", "errors": [{"reason"}], "status"}}``.

Faults: :meth:`~FakeGCE.fail` answers requests for a path with a Google
error (``rateLimitExceeded``, ``backendError``...);
:meth:`~FakeGCE.fail_operation` makes the next operation of a kind finish
with an error; :attr:`~FakeGCE.latency` delays every answer on the clock.

The package splits the project and its endpoints (:mod:`.fake`) from the
resources it keeps and their JSON (:mod:`.models`), its disks and
snapshots (:mod:`.volumes`) and the shapes of its answers: errors, pages
and aggregated lists (:mod:`.answers`).
"""

from txcloud.testing._http import Received
from txcloud.testing.gce.fake import DEFAULT_PROJECT, FakeGCE
from txcloud.testing.gce.models import (
    FakeImage,
    FakeInstance,
    FakeMachineType,
    FakeOperation,
    FakeZone,
)
from txcloud.testing.gce.volumes import FakeDisk, FakeSnapshot

__all__ = [
    "DEFAULT_PROJECT",
    "FakeDisk",
    "FakeGCE",
    "FakeImage",
    "FakeInstance",
    "FakeMachineType",
    "FakeOperation",
    "FakeSnapshot",
    "FakeZone",
    "Received",
]
