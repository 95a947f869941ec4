"""
A fake of DigitalOcean's API v2, for trial tests of code that manages
droplets: the account, droplets and droplet actions, sizes, images (public
and private, filtered by ``type`` and ``private``), regions, SSH keys, and
block-storage volumes with their actions and snapshots, kept in memory and
served by a twisted.web resource tree.

It serves in memory, through treq's ``RequestTraversalAgent``::

    clock = Clock()
    fake = FakeDigitalOcean(clock=clock)
    fake.add_droplet("web-1", region="nyc3")
    driver = DigitalOceanNodeDriver(fake.token, reactor=clock, ex_agent=fake.agent())
    nodes = self.successResultOf(driver.list_nodes())

or on a real port: ``reactor.listenTCP(0, fake.site(), interface="127.0.0.1")``
and a driver built with ``host="127.0.0.1", port=port, secure=False``.

It behaves as DigitalOcean documents: bearer tokens; ``page``/``per_page``
paging (20 items per page by default, at most 200) with ``links.pages`` and
``meta.total``; error bodies ``{"id", "message", "request_id"}`` and an
``x-request-id`` header; a per-token rate limit of 5,000 requests per
sliding hour, reported in ``ratelimit-limit``, ``ratelimit-remaining`` and
``ratelimit-reset`` and enforced with 429 answers.  Droplets are created
``new`` and become ``active`` after :attr:`FakeDigitalOcean.boot_seconds` on
the clock.

Faults: :meth:`FakeDigitalOcean.fail` answers requests for a path with an
error; :meth:`FakeDigitalOcean.rate_limit` sets a smaller limit; with
:attr:`FakeDigitalOcean.latency` every answer comes that many seconds later
on the clock (in memory: advance the clock, then call
:meth:`FakeDigitalOcean.flush`).

The package splits the account and its endpoints (:mod:`.fake`), the
objects it keeps and their JSON (:mod:`.models`), volumes and snapshots
(:mod:`.volumes`) and the HTTP machinery shared by every endpoint
(:mod:`.serving`).
"""

from txcloud.testing.digitalocean.fake import DEFAULT_TOKEN, FakeDigitalOcean
from txcloud.testing.digitalocean.models import (
    FakeDroplet,
    FakeImage,
    FakeKey,
    FakeRegion,
    FakeSize,
)
from txcloud.testing.digitalocean.serving import Received
from txcloud.testing.digitalocean.volumes import FakeSnapshot, FakeVolume

__all__ = [
    "DEFAULT_TOKEN",
    "FakeDigitalOcean",
    "FakeDroplet",
    "FakeImage",
    "FakeKey",
    "FakeRegion",
    "FakeSize",
    "FakeSnapshot",
    "FakeVolume",
    "Received",
]
