"""
Fan-out through roles: list the nodes of many accounts in many regions, each
account reached by assuming a role, against moto server with IAM
authentication enforced; and the same fan-out signed with static keys.

    python benchmarks/fanout_roles.py [--accounts 64] [--regions 16] [--rounds 3]

One run starts moto (``moto_server``) on a free port, creates while it
accepts anything a source user (allowed only ``sts:AssumeRole``), a role
``reader`` in each of the accounts (allowed ``ec2:Describe*``) and a
static-keys user, then turns authentication on.  Each tool runs in its own
child process:

* roles: ``txcloud.multi.drivers_for_accounts`` with the role ARNs, one
  ``EC2NodeDriver`` per account and region (sharing one credentials
  provider per account), ``multi.list_nodes`` at concurrency 64;
* static: the same drivers, built with the static user's keys.

Round 1 is cold (new connections, and for roles the ``AssumeRole`` calls);
later rounds are warm.  Every request sent to STS is counted (by the agent
STS calls go through); CPU per call is of the client process (every
thread), per ``DescribeInstances``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from typing import Any

from _common import (
    free_port,
    print_child_figures,
    react_until_done,
    run_child,
    start_server,
    stop_process_group,
)

SOURCE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"},
    ],
}
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
)  # fmt: skip


def account_ids(count: int) -> list[str]:
    return [f"{100000000000 + n:012d}" for n in range(1, count + 1)]


# Set-up, in the conductor, while moto accepts anything


def _call(url: str, service: str, params: dict[str, str], account: str | None = None) -> bytes:
    from urllib.parse import urlencode

    from txcloud.auth.aws.credentials import AWSCredentials
    from txcloud.auth.aws.sigv4 import sha256_hex, sign_headers

    versions = {"iam": "2010-05-08"}
    body = urlencode({**params, "Version": versions[service]}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if account:
        headers["x-moto-account-id"] = account
    admin = AWSCredentials("AKIDSETUP", "setup-secret")
    headers.update(
        sign_headers(
            "POST", url + "/", headers, sha256_hex(body), admin, "us-east-1", service, time.time()
        )
    )
    request = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        content: bytes = response.read()
        return content


def _user(url: str, name: str, policy: dict[str, Any]) -> dict[str, str]:
    import re

    _call(url, "iam", {"Action": "CreateUser", "UserName": name})
    _call(
        url,
        "iam",
        {
            "Action": "PutUserPolicy",
            "UserName": name,
            "PolicyName": "only",
            "PolicyDocument": json.dumps(policy),
        },
    )
    answer = _call(url, "iam", {"Action": "CreateAccessKey", "UserName": name}).decode()
    key = re.search(r"<AccessKeyId>([^<]+)<", answer)
    secret = re.search(r"<SecretAccessKey>([^<]+)<", answer)
    assert key and secret
    return {"key": key[1], "secret": secret[1]}


def set_up(url: str, accounts: list[str]) -> dict[str, Any]:
    """Users and roles, then authentication on; the keys the children use."""
    source = _user(url, "source", SOURCE_POLICY)
    static = _user(url, "static", READER_POLICY)
    for account in accounts:
        _call(
            url,
            "iam",
            {
                "Action": "CreateRole",
                "RoleName": "reader",
                "AssumeRolePolicyDocument": json.dumps(TRUST),
            },
            account,
        )
        _call(
            url,
            "iam",
            {
                "Action": "PutRolePolicy",
                "RoleName": "reader",
                "PolicyName": "only",
                "PolicyDocument": json.dumps(READER_POLICY),
            },
            account,
        )
    _moto_api(url, "/moto-api/reset-auth", b"0")
    return {"source": source, "static": static}


def _moto_api(url: str, path: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(
        url + path,
        data=body,
        headers={"Content-Type": "text/plain"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


# The measured tools (each run with --run in its own process)


class CountingAgent:
    """An ``IAgent`` that counts the requests it passes on."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.requests = 0

    def request(self, method: bytes, uri: bytes, headers: Any = None, body: Any = None) -> Any:
        self.requests += 1
        return self.agent.request(method, uri, headers, body)


def run_tool(
    tool: str, url: str, keys: dict[str, Any], accounts: int, rounds: int
) -> dict[str, Any]:
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.web.client import Agent

    from txcloud import multi
    from txcloud.auth.aws.credentials import AWSCredentials
    from txcloud.auth.aws.sts import STSSettings
    from txcloud.compute.drivers.ec2 import EC2NodeDriver
    from txcloud.http.pool import close_pool, new_pool

    home = tempfile.mkdtemp(prefix="txcloud-bench-home-")
    environ = {"HOME": home, "AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_DISABLED": "true"}
    ids = account_ids(accounts)
    source = AWSCredentials(keys["source"]["key"], keys["source"]["secret"])
    static = AWSCredentials(keys["static"]["key"], keys["static"]["secret"])
    times: list[float] = []
    cpu: list[float] = []
    # Every request sent to STS goes through this agent, which counts them.
    sts_agent = CountingAgent(Agent(reactor))

    async def measure() -> None:
        if tool == "roles":
            fleet = multi.drivers_for_accounts(
                EC2NodeDriver,
                REGIONS,
                roles=multi.role_arns("reader", ids),
                source=source,
                sts=STSSettings(url, "us-east-1", agent=sts_agent),
                environ=environ,
            )
            drivers = list(fleet.drivers.values())
            close = fleet.close
        else:
            # The same fleet, every driver signing with one static key pair.
            pool = new_pool()
            drivers = [
                EC2NodeDriver(
                    region=region, ex_credentials=static, ex_environ=environ, ex_pool=pool
                )
                for _ in ids
                for region in REGIONS
            ]

            async def close() -> None:
                for driver in drivers:
                    await driver.close()
                await close_pool(pool)

        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = await multi.list_nodes(drivers, concurrency=64)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            if not result.ok:
                failure = next(iter(result.failures.values()))
                raise SystemExit(f"{tool}: {len(result.failures)} failures: {failure.value}")
        await close()

    def main(_: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(measure())

    react_until_done(main)
    calls = accounts * len(REGIONS)
    return {
        "times": times,
        "cpu_per_call": [seconds / calls for seconds in cpu],
        "sts_requests": sts_agent.requests,
    }


# The conductor


def conduct(args: argparse.Namespace) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = os.path.join(tempfile.mkdtemp(prefix="txcloud-bench-moto-"), "moto.log")
    moto = start_server(
        "moto", ["moto_server", "-H", "127.0.0.1", "-p", str(port)], log, url + "/moto-api/"
    )
    try:
        keys = set_up(url, account_ids(args.accounts))
        results = {}
        assume_calls: dict[str, int] = {}
        for tool in ("static", "roles"):
            command = [
                sys.executable,
                __file__,
                "--run",
                tool,
                "--url",
                url,
                "--keys",
                json.dumps(keys),
                "--accounts",
                str(args.accounts),
                "--rounds",
                str(args.rounds),
            ]
            results[tool] = json.loads(run_child(tool, command))
            assume_calls[tool] = results[tool]["sts_requests"]
    finally:
        stop_process_group(moto)

    calls = args.accounts * len(REGIONS)
    print(
        f"\n{args.accounts} accounts x {len(REGIONS)} regions = {calls} EC2 drivers, "
        f"DescribeInstances against moto with IAM authentication, {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'credentials':<14} {'AssumeRole':>10} {'cold s':>8} {'warm s':>8} "
        f"{'cold CPU ms':>11} {'warm CPU ms':>11} {'RSS MiB':>8}   (CPU ms per call, all threads)"
    )
    for tool in ("static", "roles"):
        figures = results[tool]
        warm_times = figures["times"][1:] or figures["times"]
        warm_cpu = figures["cpu_per_call"][1:] or figures["cpu_per_call"]
        print(
            f"{tool:<14} {assume_calls[tool]:>10} {figures['times'][0]:>8.3f} "
            f"{statistics.median(warm_times):>8.3f} {figures['cpu_per_call'][0] * 1000:>11.3f} "
            f"{statistics.median(warm_cpu) * 1000:>11.3f} {figures['peak_rss_mib']:>8.1f}"
        )
    static_cpu = results["static"]["cpu_per_call"]
    role_cpu = results["roles"]["cpu_per_call"]
    warm_ratio = statistics.median(role_cpu[1:] or role_cpu) / statistics.median(
        static_cpu[1:] or static_cpu
    )
    print(
        f"\nratios (roles / static): cold CPU per call {role_cpu[0] / static_cpu[0]:.2f}x, "
        f"warm CPU per call {warm_ratio:.2f}x"
    )
    expected = args.accounts
    print(
        f"AssumeRole calls: {assume_calls['roles']} for {expected} accounts "
        f"({'meets' if assume_calls['roles'] == expected else 'BELOW'}: one per account)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=64, help="accounts, one role each")
    parser.add_argument("--rounds", type=int, default=3, help="fan-outs per tool")
    parser.add_argument("--run", choices=("static", "roles"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        figures = run_tool(args.run, args.url, json.loads(args.keys), args.accounts, args.rounds)
        print_child_figures(figures)
        return
    conduct(args)


if __name__ == "__main__":
    main()
