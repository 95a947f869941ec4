"""
Docker: a Docker engine's containers and images, through the Docker Engine
API, over the engine's Unix socket, plain TCP, or TCP with TLS client
certificates.  How the engine is reached, which API version is spoken and
which errors are raised: :mod:`~txcloud.container.drivers.docker.engine`.

The package's modules:

* :mod:`~txcloud.container.drivers.docker.driver`: DockerContainerDriver: containers and images;
* :mod:`~txcloud.container.drivers.docker.engine`: reaching the engine, API version negotiation,
  typed errors;
* :mod:`~txcloud.container.drivers.docker.host`: engine addresses (Unix socket, TCP, TLS) and
  DOCKER_HOST;
* :mod:`~txcloud.container.drivers.docker.config`: container create bodies from Libcloud's
  arguments;
* :mod:`~txcloud.container.drivers.docker.parse`: Engine API documents as txcloud models;
* :mod:`~txcloud.container.drivers.docker.stream`: pull progress and log streams.
"""

from txcloud.container.drivers.docker.driver import DockerContainerDriver

__all__ = ["DockerContainerDriver"]
