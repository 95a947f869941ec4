"""``python -m txcloud``: the ``txcloud`` command."""

from txcloud.cli.main import main

main()
