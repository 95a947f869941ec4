"""
The deployment example (``docs/examples/deploy.py``) run as a program
against the tests' OpenSSH server (:data:`txcloud.test.emulators.sshd`),
with no cloud: the dummy driver's nodes take the server's address.
"""

from __future__ import annotations

import os

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.test.cli.helpers import SOURCE_ROOT, child_environment, run_python
from txcloud.test.emulators import sshd

EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "deploy.py")


class DeployExampleTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return sshd.ensure_started()

    async def test_deploys_reports_a_failing_step_and_fans_out(self) -> None:
        home = self.mktemp()
        os.makedirs(home)
        environ = child_environment(
            home,
            SSH_HOST="127.0.0.1",
            SSH_PORT=str(sshd.port),
            SSH_USER="root",
            SSH_KEY=sshd.client_key,
            KNOWN_HOSTS=sshd.known_hosts,
        )
        out, err, code = await run_python([EXAMPLE], environ)
        self.assertEqual(code, 0, err)
        self.assertEqual(
            out.splitlines(),
            [
                "web-1 deployed: workers = 4",
                "web-2 failed at check.sh with status 3 no disk",
                "batch-0 hello",
                "batch-1 hello",
                "batch-2 hello",
            ],
        )
