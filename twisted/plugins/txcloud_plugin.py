"""
The ``twistd txcloud`` plugin: the txcloud inventory service.

Twisted imports every file of this folder whenever it looks for plugins, so
this one only names the service; :mod:`txcloud.service.tap` (its options and
``makeService``) is imported when ``twistd txcloud`` is run.
"""

from twisted.application.service import ServiceMaker

txcloud_inventory = ServiceMaker(
    "txcloud inventory",
    "txcloud.service.tap",
    "Serve the inventory of the clouds of a txcloud configuration as JSON over HTTP.",
    "txcloud",
)
