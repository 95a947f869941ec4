"""The ``txcloud`` command: inventory, nodes, storage listing and copies, containers."""
