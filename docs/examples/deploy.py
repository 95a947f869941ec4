"""
Deploy to a node over SSH, then to three at once, with no cloud: the dummy
driver's nodes get the address of an SSH server you name.

Run it against a server you may log in to with a key::

    SSH_HOST=127.0.0.1 SSH_PORT=2222 SSH_USER=root SSH_KEY=~/.ssh/id_ed25519 \\
    KNOWN_HOSTS=~/.ssh/known_hosts python deploy.py
"""

import os
import tempfile
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud import multi
from txcloud.compute.deployment import FileDeployment, MultiStepDeployment, ScriptDeployment
from txcloud.compute.providers import get_driver
from txcloud.compute.types import Provider
from txcloud.errors import DeploymentError

HOST = os.environ.get("SSH_HOST", "127.0.0.1")
SSH: dict[str, Any] = {
    "ssh_port": int(os.environ.get("SSH_PORT", "22")),
    "ssh_username": os.environ.get("SSH_USER", "root"),
    "ssh_key": os.path.expanduser(os.environ.get("SSH_KEY", "~/.ssh/id_ed25519")),
    "known_hosts": os.path.expanduser(os.environ.get("KNOWN_HOSTS", "~/.ssh/known_hosts")),
}


async def main(reactor: object) -> None:
    driver = get_driver(Provider.DUMMY)("my-key", reactor=reactor, ex_node_count=0)
    size, image = (await driver.list_sizes())[0], (await driver.list_images())[0]

    with tempfile.NamedTemporaryFile("w", suffix=".conf") as config:
        config.write("workers = 4\n")
        config.flush()
        steps = MultiStepDeployment(
            [
                FileDeployment(config.name, "app.conf"),
                ScriptDeployment("#!/bin/sh\ngrep workers app.conf\n", delete=True),
            ]
        )
        # Create a node, wait until it runs and answers on SSH, run the steps.
        node = await driver.deploy_node(
            deploy=steps,
            name="web-1",
            size=size,
            image=image,
            ex_public_ips=[HOST],
            wait_period=0.1,
            **SSH,
        )
    print(node.name, "deployed:", steps.steps[1].stdout.strip())

    # A failing step stops the deployment and says where.
    try:
        await driver.deploy_node(
            deploy=ScriptDeployment("#!/bin/sh\necho no disk >&2\nexit 3\n", name="check.sh"),
            name="web-2",
            size=size,
            image=image,
            ex_public_ips=[HOST],
            wait_period=0.1,
            **SSH,
        )
    except DeploymentError as e:
        print(
            "web-2 failed at", e.step.name, "with status", e.step.exit_status, e.step.stderr.strip()
        )

    # The same script on three existing nodes at once: one fan-out.
    nodes = [
        await driver.create_node(f"batch-{n}", size, image, ex_public_ips=[HOST]) for n in range(3)
    ]
    hello = ScriptDeployment("#!/bin/sh\nprintf hello\n", delete=True)
    result = await multi.run_deployments(nodes, hello, concurrency=3, **SSH)
    for ran_on, steps_run in result.results.items():
        print(ran_on.name, steps_run.stdout)


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor)))
