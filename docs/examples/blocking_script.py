"""
A plain script, with no reactor code: list nodes, upload, iterate and
download through txcloud.sync, and start a call without waiting for it.
"""

import os
import sys
import tempfile

from txcloud.compute.providers import get_driver as get_compute_driver
from txcloud.errors import ObjectDoesNotExistError
from txcloud.storage.providers import get_driver as get_storage_driver
from txcloud.sync import blocking


def main(folder: str) -> None:
    compute = blocking(get_compute_driver("dummy")("key", region="eu-1"), timeout=30)
    storage = blocking(get_storage_driver("local")(folder), timeout=60)

    pending = compute.eventually.list_nodes()  # starts now, collected below

    source = os.path.join(folder, "report.csv")
    with open(source, "w") as f:
        f.write("region,nodes\neu-1,2\n")
    container = storage.create_container("reports")
    storage.upload_object(source, container, "2026/report.csv")
    for obj in storage.iterate_container_objects(container, prefix="2026/"):
        print("stored", obj.name, obj.size, obj.hash)

    copy = os.path.join(folder, "copy.csv")
    storage.download_object(storage.get_object("reports", "2026/report.csv"), copy)
    with open(copy) as f:
        print("downloaded", f.read().splitlines()[1])

    try:
        storage.get_object("reports", "missing.csv")
    except ObjectDoesNotExistError as error:
        print("missing:", type(error).__name__)

    print("nodes", [node.name for node in pending.wait(30)])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(folder)
    sys.exit(0)
