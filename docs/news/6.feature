``twistd txcloud`` serves a periodically refreshed inventory of every
configured target as JSON (``/inventory``, ``/nodes``, ``/health``), with
optional bearer-token protection; it shares its inventory code with the
``txcloud inventory`` command.
