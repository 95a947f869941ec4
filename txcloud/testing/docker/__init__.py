"""
A fake Docker engine, for trial tests of code that uses txcloud's Docker
driver.

In memory, with a driver pointed at it::

    clock = Clock()
    docker = FakeDocker(clock=clock)
    docker.add_registry_image("busybox:1.36")        # pullable
    docker.add_container("web", "nginx:1.27")        # running, image added too
    containers = docker.driver()                     # DockerContainerDriver(ex_agent=...)
    listed = self.successResultOf(containers.list_containers())

or on a real port (``reactor.listenTCP(0, docker.site(), interface="127.0.0.1")``
and ``DockerContainerDriver(host="127.0.0.1", port=port)``) or Unix socket
(``reactor.listenUNIX(path, docker.site())``).

The Engine API it answers, with the documents of the Engine API
reference: ``/_ping``, ``/version`` (API version negotiation; paths may
carry ``/vX.Y``, refused when newer or older than the engine speaks);
images: list, inspect, pull (``POST /images/create``: streamed progress
lines, registry credentials from ``X-Registry-Auth``, ``error`` lines for
failures midway), import from a tarball, tag, push (with the digest in an
``aux`` line), remove (refused while containers use it) and search;
containers: list (``all``, ``filters``: ``ancestor``, ``status``,
``label``, ``name``, ``id``), create, inspect, start, stop, restart, kill,
rename, remove (``force``), top, and logs (``stdout``/``stderr``,
``tail``, ``follow`` streamed as the container writes; multiplexed frames
unless the container has a TTY).  Errors are ``{"message": ...}``
documents with the engine's statuses (404 no such container or image, 409
conflicts, 400 bad parameters, 304 already started or stopped).

Faults: :meth:`FakeDocker.fail` answers an error for a path pattern,
:meth:`FakeDocker.fail_pull` makes a pull fail midway (a registry's
``toomanyrequests``...), :meth:`FakeDocker.delay`, :attr:`FakeDocker.latency`
and :attr:`FakeDocker.pull_seconds` hold answers on the clock.
"""

from txcloud.testing.docker._models import FakeContainer, FakeDockerImage, FakeRegistryImage
from txcloud.testing.docker.fake import FakeDocker

__all__ = ["FakeContainer", "FakeDocker", "FakeDockerImage", "FakeRegistryImage"]
