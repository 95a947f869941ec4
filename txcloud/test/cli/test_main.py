"""Tests of the command's entry point: arguments, errors, exit codes, and ``python -m txcloud``."""

from __future__ import annotations

import io
import os
import textwrap

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from txcloud.cli.main import BROKEN_PIPE, run
from txcloud.test.cli.helpers import (
    child_environment,
    run_command,
    run_python,
    write_config,
    xdg_environment,
)

SECRET = "hunter2-never-shown"


class ArgumentTests(TestCase):
    def setUp(self) -> None:
        self.environ = xdg_environment(os.path.abspath(self.mktemp()))

    async def test_help_goes_to_stdout(self) -> None:
        code, out, err = await run_command(["--help"], self.environ)
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(out.startswith("usage: txcloud "))
        for command in ("inventory", "nodes", "containers", "ls", "cp"):
            self.assertIn(command, out)

    async def test_subcommand_help(self) -> None:
        code, out, _ = await run_command(["cp", "--help"], self.environ)
        self.assertEqual(code, 0)
        self.assertIn("--create-container", out)

    async def test_missing_command_is_a_usage_error(self) -> None:
        code, out, err = await run_command([], self.environ)
        self.assertEqual((code, out), (2, ""))
        self.assertTrue(err.startswith("usage: txcloud "))
        self.assertTrue(err.endswith("error: the following arguments are required: COMMAND\n"))

    async def test_unknown_option_is_a_usage_error(self) -> None:
        code, _, err = await run_command(["nodes", "--frobnicate"], self.environ)
        self.assertEqual(code, 2)
        self.assertIn("unrecognized arguments: --frobnicate", err)


class ConfigurationTests(TestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())

    async def test_invalid_config_is_one_line_with_file_and_key(self) -> None:
        environ = write_config(
            self.home,
            f'[[compute]]\nname = "a"\nprovider = "dummy"\nsecret = "{SECRET}"\nport = "x"\n',
        )
        code, out, err = await run_command(["inventory"], environ)
        path = os.path.join(environ["XDG_CONFIG_HOME"], "txcloud", "txcloud.toml")
        self.assertEqual(
            (code, out, err),
            (
                1,
                "",
                f"txcloud: error: ConfigError: {path}: compute[0].port: "
                "must be an integer, not a string\n",
            ),
        )

    async def test_config_option_names_the_file(self) -> None:
        path = os.path.join(self.home, "other.toml")
        os.makedirs(self.home)
        with open(path, "w", encoding="utf-8") as f:
            f.write('[[compute]]\nname = "elsewhere"\nprovider = "dummy"\n')
        code, out, _ = await run_command(["--config", path, "nodes"], xdg_environment(self.home))
        self.assertEqual(code, 0)
        self.assertEqual({line.split()[0] for line in out.splitlines()[1:]}, {"elsewhere"})

    async def test_missing_config_file_named_by_option(self) -> None:
        path = os.path.join(self.home, "missing.toml")
        code, _, err = await run_command(["--config", path, "nodes"], xdg_environment(self.home))
        self.assertEqual((code, err), (1, f"txcloud: error: ConfigError: {path}: no such file\n"))

    async def test_secret_is_not_in_verbose_output(self) -> None:
        environ = write_config(
            self.home,
            f'[[compute]]\nname = "a"\nprovider = "dummy"\nsecret = "{SECRET}"\n'
            "options = { ex_node_count = -1 }\n",
        )
        code, out, err = await run_command(["-vv", "inventory", "--json"], environ)
        self.assertEqual(code, 1)
        self.assertIn("ex_node_count", out + err)
        self.assertNotIn(SECRET, out + err)


class ProcessTests(TestCase):
    """The console script's code path, in a child process like a user's shell."""

    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)
        self.environ = child_environment(self.home)

    async def test_inventory_on_a_fresh_machine(self) -> None:
        out, err, code = await run_python(["-m", "txcloud", "inventory"], self.environ, self.home)
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[:4], ["TARGET", "KIND", "PROVIDER", "REGION"])
        self.assertEqual([line.split()[0] for line in lines[1:]], ["dummy", "dummy", "local"])
        data = os.path.join(self.home, ".local", "share", "txcloud", "data")
        self.assertTrue(os.path.isdir(data))

    async def test_expected_error_is_one_line_and_exit_code_1(self) -> None:
        out, err, code = await run_python(
            ["-m", "txcloud.cli.main", "nodes", "--target", "nope"], self.environ, self.home
        )
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(len(err.splitlines()), 1)
        self.assertTrue(err.startswith("txcloud: error: InvalidArgumentError: "))

    async def test_usage_error_exit_code_2(self) -> None:
        _, err, code = await run_python(["-m", "txcloud"], self.environ, self.home)
        self.assertEqual(code, 2)
        self.assertIn("usage: txcloud", err)

    async def test_stopping_the_reactor_interrupts_the_command(self) -> None:
        # What Ctrl-C does: the reactor stops while a call is in flight.
        config = os.path.join(self.home, "slow.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write('[[compute]]\nname = "slow"\nprovider = "dummy"\n')
            f.write("options = { ex_latency = 600.0 }\n")
        script = os.path.join(self.home, "interrupt.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(
                textwrap.dedent(
                    f"""
                    from twisted.internet import reactor
                    from txcloud.cli.main import main

                    reactor.callWhenRunning(reactor.callLater, 0, reactor.stop)
                    main(["--config", {config!r}, "nodes"])
                    """
                )
            )
        out, err, code = await run_python([script], self.environ, self.home)
        self.assertEqual((code, out, err), (130, "", "txcloud: interrupted\n"))


class _ClosedPipe(io.StringIO):
    """Standard output whose reader went away after the first line."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


class BrokenPipeTests(TestCase):
    async def test_a_reader_that_goes_away_stops_the_command_quietly(self) -> None:
        home = os.path.abspath(self.mktemp())
        stdout, stderr = _ClosedPipe(), io.StringIO()
        code = await run(
            ["nodes"],
            reactor=reactor,
            stdout=stdout,
            stderr=stderr,
            environ=xdg_environment(home),
        )
        self.assertEqual((code, stderr.getvalue()), (BROKEN_PIPE, ""))
        self.assertEqual(len(stdout.getvalue().splitlines()), 1)
