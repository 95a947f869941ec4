"""Tests of ``txcloud inventory``, ``nodes`` and ``containers``."""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.config import default_data_folder
from txcloud.test.cli.helpers import run_command, write_config, xdg_environment

HEADER = ["TARGET", "KIND", "PROVIDER", "REGION", "NAME", "ID", "STATE", "ADDRESSES"]

TWO_DUMMIES = """
[[compute]]
name = "fine"
provider = "dummy"
regions = ["eu-1", "us-1"]

[[compute]]
name = "broken"
provider = "dummy"
options = { ex_node_count = -1 }
"""

BROKEN_ERROR = "error: InvalidArgumentError: ex_node_count must be an int >= 0, not -1"


def dummy_nodes(region: str | None = None) -> list[Any]:
    """The nodes a fresh dummy driver of *region* holds."""
    nodes: list[Any] = []
    DummyNodeDriver(region=region).list_nodes().addCallback(nodes.extend)
    return nodes


def node_cells(label: str, region: str, node: Any) -> list[str]:
    addresses = ",".join(node.public_ips + node.private_ips)
    return [label, "compute", "dummy", region, node.name, node.id, "running", addresses]


def node_item(node: Any) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "state": "running",
        "public_ips": node.public_ips,
        "private_ips": node.private_ips,
    }


class EmbeddedDefaultsTests(TestCase):
    def setUp(self) -> None:
        self.environ = xdg_environment(os.path.abspath(self.mktemp()))

    async def test_table_lists_nodes_and_storage_containers(self) -> None:
        os.makedirs(os.path.join(default_data_folder(self.environ), "bucket"))
        code, out, err = await run_command(["inventory"], self.environ)
        lines = out.splitlines()
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(
            [line.split() for line in lines],
            [
                HEADER,
                *(node_cells("dummy", "-", node) for node in dummy_nodes()),
                ["local", "storage", "local", "-", "bucket", "-", "-", "-"],
            ],
        )
        # Aligned: each row's name starts under NAME.
        column = lines[0].index("NAME")
        self.assertEqual({line[column - 2 : column] for line in lines}, {"  "})
        self.assertEqual(lines[-1][column:].split()[0], "bucket")

    async def test_missing_data_folder_is_created(self) -> None:
        code, out, _ = await run_command(["inventory"], self.environ)
        self.assertEqual(code, 0)
        self.assertTrue(os.path.isdir(default_data_folder(self.environ)))
        self.assertEqual(
            out.splitlines()[-1].split(),
            ["local", "storage", "local", "-", "(none)", "-", "-", "-"],
        )

    async def test_json_document(self) -> None:
        os.makedirs(os.path.join(default_data_folder(self.environ), "bucket"))
        code, out, err = await run_command(["inventory", "--json"], self.environ)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(
            json.loads(out),
            {
                "targets": [
                    {
                        "target": "dummy",
                        "kind": "compute",
                        "provider": "dummy",
                        "region": None,
                        "account": None,
                        "items": [node_item(node) for node in dummy_nodes()],
                        "volumes": None,
                        "error": None,
                    },
                    {
                        "target": "local",
                        "kind": "storage",
                        "provider": "local",
                        "region": None,
                        "account": None,
                        "items": [{"name": "bucket"}],
                        "volumes": None,
                        "error": None,
                    },
                ]
            },
        )

    async def test_nodes_lists_compute_targets_only(self) -> None:
        code, out, _ = await run_command(["nodes"], self.environ)
        self.assertEqual(code, 0)
        self.assertEqual(
            [line.split()[1] for line in out.splitlines()], ["KIND", "compute"] * 1 + ["compute"]
        )

    async def test_unknown_target_is_a_one_line_error(self) -> None:
        code, out, err = await run_command(["nodes", "--target", "nope"], self.environ)
        self.assertEqual(
            (code, out, err),
            (
                1,
                "",
                "txcloud: error: InvalidArgumentError: No compute target named 'nope' in "
                "<embedded defaults>; known: dummy\n",
            ),
        )

    async def test_containers_without_container_targets_explains(self) -> None:
        code, out, err = await run_command(["containers"], self.environ)
        self.assertEqual(
            (code, out, err),
            (
                0,
                "No container targets in <embedded defaults>: add [[container]] entries to "
                "the configuration file.\n",
                "",
            ),
        )

    async def test_containers_json_without_container_targets_is_empty(self) -> None:
        code, out, _ = await run_command(["containers", "--json"], self.environ)
        self.assertEqual((code, json.loads(out)), (0, {"targets": []}))


class FailingTargetTests(TestCase):
    def setUp(self) -> None:
        self.environ = write_config(os.path.abspath(self.mktemp()), TWO_DUMMIES)

    async def test_failed_target_is_a_row_beside_the_others(self) -> None:
        code, out, err = await run_command(["inventory"], self.environ)
        self.assertEqual((code, err), (0, ""))
        rows = out.splitlines()[1:]
        self.assertEqual(
            [row.split() for row in rows[:4]],
            [node_cells("fine@eu-1", "eu-1", node) for node in dummy_nodes("eu-1")]
            + [node_cells("fine@us-1", "us-1", node) for node in dummy_nodes("us-1")],
        )
        self.assertEqual(rows[4].split(None, 4), ["broken", "compute", "dummy", "-", BROKEN_ERROR])
        self.assertEqual(len(rows), 5)

    async def test_failed_target_in_json(self) -> None:
        code, out, _ = await run_command(["nodes", "--json"], self.environ)
        entries = json.loads(out)["targets"]
        self.assertEqual(code, 0)
        self.assertEqual(
            [(e["target"], e["region"], len(e["items"]), e["error"]) for e in entries],
            [
                ("fine", "eu-1", 2, None),
                ("fine", "us-1", 2, None),
                (
                    "broken",
                    None,
                    0,
                    {
                        "type": "InvalidArgumentError",
                        "message": "ex_node_count must be an int >= 0, not -1",
                    },
                ),
            ],
        )

    async def test_every_target_failing_is_a_failure(self) -> None:
        code, out, _ = await run_command(["nodes", "--target", "broken"], self.environ)
        self.assertEqual(code, 1)
        self.assertEqual(out.splitlines()[1].split(None, 4)[4], BROKEN_ERROR)

    async def test_one_region_by_label(self) -> None:
        code, out, _ = await run_command(["nodes", "--target", "fine@us-1"], self.environ)
        self.assertEqual(code, 0)
        self.assertEqual({line.split()[0] for line in out.splitlines()[1:]}, {"fine@us-1"})

    async def test_verbose_logs_the_failure_on_stderr(self) -> None:
        _, _, err = await run_command(["-v", "nodes"], self.environ)
        self.assertIn("ex_node_count must be an int >= 0, not -1", err)
        self.assertIn("broken", err)

    async def test_quiet_by_default(self) -> None:
        _, _, err = await run_command(["nodes"], self.environ)
        self.assertEqual(err, "")


class TimeoutTests(SynchronousTestCase):
    def test_slow_target_times_out_by_the_configured_timeout(self) -> None:
        environ = write_config(
            os.path.abspath(self.mktemp()),
            """
            [defaults]
            timeout = 5
            [[compute]]
            name = "slow"
            provider = "dummy"
            options = { ex_latency = 60.0 }
            [[compute]]
            name = "quick"
            provider = "dummy"
            options = { ex_latency = 1.0 }
            """,
        )
        clock = Clock()
        d = run_command(["nodes", "--json"], environ, clock)
        clock.advance(1)
        self.assertNoResult(d)
        clock.advance(4)
        code, out, _ = self.successResultOf(d)
        entries = json.loads(out)["targets"]
        self.assertEqual(code, 0)
        self.assertEqual((entries[1]["target"], len(entries[1]["items"])), ("quick", 2))
        self.assertEqual(entries[0]["error"]["type"], "RequestTimeoutError")
        self.assertIn("within 5.0 seconds", entries[0]["error"]["message"])
