``twistd txcloud`` serves a periodically refreshed inventory of every
configured target as JSON (``/inventory``, ``/nodes``, ``/health``), with
optional bearer-token protection; it shares its inventory code with the
``txcloud inventory`` command.

``txcloud.testing`` ships in-memory fakes of S3, EC2, Docker, Kubernetes and
DigitalOcean that real txcloud drivers talk to (``fake.driver()``,
``fake.agent()`` or ``fake.site()``), with seeding, fault injection and
latency on a ``Clock``, so users test their own code under trial without a
network.
