"""
Tests of txcloud.sync, the blocking layer.

crochet runs the global reactor in a thread of its own, which cannot share a
process with trial's reactor: the blocking code runs in child processes, as
plain scripts, and the tests check what they print.
"""

from __future__ import annotations

import os
import textwrap

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.errors import InvalidArgumentError
from txcloud.test.cli.helpers import child_environment, run_python

BLOCKING_SCRIPT = """
    import hashlib
    import os
    import sys
    import threading

    from twisted.internet.defer import Deferred

    from txcloud.compute.providers import get_driver as compute_driver
    from txcloud.errors import InvalidArgumentError, ObjectDoesNotExistError, RequestTimeoutError
    from txcloud.storage.providers import get_driver as storage_driver
    from txcloud.sync import blocking

    folder, upload = sys.argv[1], sys.argv[2]


    def show(label, value):
        print(f"{label}: {value}", flush=True)


    compute = blocking(compute_driver("dummy")("key", region="eu-1"))
    show("threads before the first call", threading.active_count())
    nodes = compute.list_nodes()
    show("nodes", [node.name for node in nodes])
    show("region", compute.region)
    show("reboot", compute.reboot_node(nodes[0]))
    pending = compute.eventually.list_nodes()
    show("pending", type(pending).__name__)
    show("nodes later", [node.name for node in pending.wait(30)])

    storage = blocking(storage_driver("local")(folder))
    container = storage.create_container("bucket")
    data = open(upload, "rb").read()
    uploaded = storage.upload_object(upload, container, "dir/file.bin")
    show("uploaded", (uploaded.name, uploaded.size, uploaded.hash == hashlib.md5(data).hexdigest()))
    objects = storage.iterate_container_objects(container)
    show("objects", (type(objects).__name__, [obj.name for obj in objects]))
    show("download", storage.download_object(uploaded, upload + ".copy"))
    show("identical", open(upload + ".copy", "rb").read() == data)
    chunks = storage.download_object_as_stream(uploaded, chunk_size=1000)
    show("first chunk", len(next(chunks)))
    chunks.close()
    show("after close", list(chunks))
    streamed = storage.download_object_as_stream(uploaded, chunk_size=65536)
    show("streamed", b"".join(streamed) == data)
    try:
        storage.get_object("bucket", "missing")
    except ObjectDoesNotExistError as e:
        show("missing", type(e).__name__)
    try:
        storage.eventually.iterate_containers().wait(30)
    except InvalidArgumentError as e:
        show("eventually iterating", type(e).__name__)


    class NeverAnswers:
        def call(self):
            return Deferred(lambda d: print("cancelled: True", flush=True))


    try:
        blocking(NeverAnswers(), timeout=0.1).call()
    except RequestTimeoutError as e:
        show("timeout", e)
"""

EXPECTED = [
    "threads before the first call: 1",
    "nodes: ['dummy-eu-1-1', 'dummy-eu-1-2']",
    "region: eu-1",
    "reboot: True",
    "pending: EventualResult",
    "nodes later: ['dummy-eu-1-1', 'dummy-eu-1-2']",
    "uploaded: ('dir/file.bin', 299783, True)",
    "objects: ('BlockingIterator', ['dir/file.bin'])",
    "download: True",
    "identical: True",
    "first chunk: 1000",
    "after close: []",
    "streamed: True",
    "missing: ObjectDoesNotExistError",
    "eventually iterating: InvalidArgumentError",
    "cancelled: True",
    "timeout: No answer within 0.1 seconds (driver=NeverAnswers)",
]

IMPORTS_SCRIPT = """
    import sys
    import threading

    import txcloud
    import txcloud.cli.main
    import txcloud.compute.providers
    import txcloud.config
    import txcloud.multi
    import txcloud.storage.providers

    print(sorted(name for name in sys.modules if name.split(".")[0] == "crochet"))
    print(threading.active_count())
    import txcloud.sync

    print(threading.active_count())
"""


class BlockingScriptTests(TestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        self.folder = os.path.join(self.home, "storage")
        os.makedirs(self.folder)
        self.upload = os.path.join(self.home, "upload.bin")
        with open(self.upload, "wb") as f:
            f.write(bytes(range(256)) * 1171 + b"1234567")
        self.script = os.path.join(self.home, "script.py")

    def _run_script(self, script: str, *arguments: str) -> Deferred[tuple[str, str, int]]:
        with open(self.script, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(script))
        return run_python([self.script, *arguments], child_environment(self.home))

    async def test_a_script_uses_drivers_without_a_reactor(self) -> None:
        out, err, code = await self._run_script(BLOCKING_SCRIPT, self.folder, self.upload)
        self.assertEqual((out.splitlines(), code), (EXPECTED, 0), err)

    async def test_importing_txcloud_starts_nothing(self) -> None:
        out, err, code = await self._run_script(IMPORTS_SCRIPT)
        self.assertEqual((out.splitlines(), code), (["[]", "1", "1"], 0), err)

    async def test_missing_crochet_says_what_to_install(self) -> None:
        script = "import sys\nsys.modules['crochet'] = None\nimport txcloud.sync\n"
        _, err, code = await self._run_script(script)
        self.assertEqual(code, 1)
        self.assertIn(
            "ImportError: txcloud.sync needs crochet, an optional dependency: "
            "pip install txcloud[sync]",
            err,
        )


class ProxyTests(SynchronousTestCase):
    """What the proxy does without calling anything (no reactor thread is started)."""

    def setUp(self) -> None:
        from txcloud.sync import blocking

        self.driver = DummyNodeDriver("key", "secret-key", region="eu-1")
        self.proxy = blocking(self.driver, timeout=5)

    def test_repr_is_the_drivers(self) -> None:
        self.assertEqual(repr(self.proxy), f"<BlockingDriver {self.driver!r}>")
        self.assertNotIn("secret-key", repr(self.proxy))

    def test_attributes_pass_through(self) -> None:
        self.assertEqual((self.proxy.region, self.proxy.name), ("eu-1", self.driver.name))

    def test_wrapped_driver_and_timeout(self) -> None:
        self.assertEqual((self.proxy.driver, self.proxy.timeout), (self.driver, 5))

    def test_methods_keep_their_names_and_docs(self) -> None:
        method = self.proxy.list_nodes
        self.assertEqual(
            (method.__name__, method.__doc__), ("list_nodes", self.driver.list_nodes.__doc__)
        )

    def test_missing_attribute_is_an_attribute_error(self) -> None:
        self.assertRaises(AttributeError, getattr, self.proxy, "no_such_method")

    def test_eventually_refuses_attributes_that_are_not_methods(self) -> None:
        self.assertRaises(AttributeError, getattr, self.proxy.eventually, "region")

    def test_timeout_must_be_positive(self) -> None:
        from txcloud.sync import blocking

        self.assertRaises(InvalidArgumentError, blocking, self.driver, timeout=0)
