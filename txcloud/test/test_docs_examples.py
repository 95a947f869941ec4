"""
The example programs in ``docs/examples`` run and print what the
documentation says they print.
"""

from __future__ import annotations

import os
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_EXAMPLES = os.path.join(_ROOT, "docs", "examples")


def _run_example(name: str) -> str:
    environ = dict(os.environ, PYTHONPATH=_ROOT)
    completed = subprocess.run(
        [sys.executable, os.path.join(_EXAMPLES, name)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"{name} exited {completed.returncode}: {completed.stderr}")
    return completed.stdout


class ExampleTests(SynchronousTestCase):
    """Each example exits 0 with the output the docs describe."""

    def setUp(self) -> None:
        if not os.path.isdir(_EXAMPLES):
            self.fail(f"examples folder missing: {_EXAMPLES}")

    def test_quickstart_creates_reboots_and_destroys_a_node(self) -> None:
        self.assertEqual(_run_example("quickstart.py"), "web-1 running\n")

    def test_many_regions_lists_each_region(self) -> None:
        lines = _run_example("many_regions.py").splitlines()
        self.assertEqual([line.split()[0] for line in lines], ["eu-1", "us-1"])
        self.assertIn("'dummy-eu-1-1'", lines[0])

    def test_long_calls_works_while_an_upload_runs_and_cancels(self) -> None:
        self.assertEqual(
            _run_example("long_calls.py").splitlines(),
            [
                "listed 2 nodes while the upload ran",
                "uploaded big.bin 33554432 bytes",
                "cancelled the slow call",
            ],
        )

    def test_the_example_user_test_passes_under_trial(self) -> None:
        # Run as the docs say, from a folder of its own so trial's temporary
        # directory cannot collide with this run's.
        folder = self.mktemp()
        os.makedirs(folder)
        completed = subprocess.run(
            [sys.executable, "-m", "twisted.trial", os.path.join(_EXAMPLES, "test_user_code.py")],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=_ROOT),
            cwd=folder,
            timeout=120,
            check=False,
        )
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("PASSED (successes=6)", completed.stdout)

    def test_storage_basics_uploads_lists_and_downloads(self) -> None:
        self.assertEqual(
            _run_example("storage_basics.py").splitlines(),
            [
                "photos already exists",
                "2026/cat.jpg 4000 c949f862850c1b1a9a25390e3b5cab4c",
                "downloaded 4000 bytes",
            ],
        )

    def test_blocking_script_needs_no_reactor_code(self) -> None:
        self.assertEqual(
            _run_example("blocking_script.py").splitlines(),
            [
                "stored 2026/report.csv 20 63adebae70ef3b1060d4dd513748857a",
                "downloaded eu-1,2",
                "missing: ObjectDoesNotExistError",
                "nodes ['dummy-eu-1-1', 'dummy-eu-1-2']",
            ],
        )

    def test_nodes_across_clouds_keeps_the_others_when_one_fails(self) -> None:
        self.assertEqual(
            _run_example("nodes_across_clouds.py").splitlines(),
            [
                "azure ['azure-api']",
                "digitalocean ['do-cache']",
                "ec2 ['ec2-web']",
                "gce ['gce-batch', 'gce-worker']",
                "openstack failed: ServiceUnavailableError",
            ],
        )

    def test_volumes_creates_attaches_snapshots_and_restores(self) -> None:
        self.assertEqual(
            _run_example("volumes.py").splitlines(),
            [
                "app-data 20 inuse True",
                "app-data-monday -> app-data-copy fra1",
                "volumes left: 0",
            ],
        )

    def test_every_example_is_tested(self) -> None:
        # containers_everywhere.py and inventory_across_accounts.py need real
        # services: test_example_containers and test_example_accounts run them;
        # deploy.py needs an SSH server: test_example_deploy runs it.
        tested = {
            "deploy.py",
            "volumes.py",
            "quickstart.py",
            "many_regions.py",
            "nodes_across_clouds.py",
            "long_calls.py",
            "containers_everywhere.py",
            "inventory_across_accounts.py",
            "copy_across_clouds.py",
            "storage_basics.py",
            "blocking_script.py",
            "test_user_code.py",
        }
        present = {name for name in os.listdir(_EXAMPLES) if name.endswith(".py")}
        self.assertEqual(present, tested)
