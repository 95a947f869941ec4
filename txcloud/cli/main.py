"""
The ``txcloud`` command.

::

    txcloud [--config PATH] [-v] inventory [--json] [--target NAME]
    txcloud nodes [--json] [--target NAME]
    txcloud containers [--json] [--target NAME]
    txcloud ls [[TARGET:]CONTAINER[/PREFIX]]
    txcloud cp [--overwrite] [--create-container] [--no-progress] SOURCE DESTINATION

It reads the configuration described in :mod:`txcloud.config` (with no file,
the embedded defaults: a dummy compute target and a local storage target)
and runs on the reactor with :func:`~twisted.internet.task.react`.

Exit codes: 0 on success; 1 when the command failed (for ``inventory``,
``nodes`` and ``containers``: when every target failed), with a one-line
error on stderr; 2 for a usage error; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import partial
from typing import Any, NoReturn, TextIO, cast

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import react
from twisted.logger import (
    FilteringLogObserver,
    ILogFilterPredicate,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogPublisher,
    textFileLogObserver,
)
from twisted.python.failure import Failure

from txcloud.cli.context import Context
from txcloud.cli.inventory import show_inventory
from txcloud.cli.storage import copy, list_storage
from txcloud.config import load_config
from txcloud.errors import TxCloudError

__all__ = ["build_parser", "main", "run"]

_Command = Callable[[Context, argparse.Namespace], Coroutine[Any, Any, int]]

#: The exit code of a command stopped by an interrupt (as shells report SIGINT).
INTERRUPTED = 130
#: Exit code when the reader of the output went away (``txcloud ls | head``),
#: as for a process killed by SIGPIPE.
BROKEN_PIPE = 141


class _ParserExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """An argument parser that writes to given streams and raises instead of exiting."""

    def __init__(self, *args: Any, stdout: TextIO, stderr: TextIO, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stdout = stdout
        self._stderr = stderr

    def print_help(self, file: Any = None) -> None:
        super().print_help(self._stdout if file is None else file)

    def print_usage(self, file: Any = None) -> None:
        super().print_usage(self._stdout if file is None else file)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._stderr.write(message)
        raise _ParserExit(status)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self._stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _inventory(kind: str | None) -> _Command:
    async def command(context: Context, arguments: argparse.Namespace) -> int:
        return await show_inventory(context, kind, arguments.target, arguments.json)

    return command


async def _ls(context: Context, arguments: argparse.Namespace) -> int:
    return await list_storage(context, arguments.location)


async def _cp(context: Context, arguments: argparse.Namespace) -> int:
    return await copy(
        context,
        arguments.source,
        arguments.destinations,
        recursive=arguments.recursive,
        overwrite=arguments.overwrite,
        create_container=arguments.create_container,
        progress=arguments.progress,
    )


def build_parser(stdout: TextIO, stderr: TextIO) -> argparse.ArgumentParser:
    """
    The command's argument parser; it writes help to *stdout* and errors to
    *stderr*, and raises instead of exiting.
    """
    # Every parser, subcommands' too, writes to the given streams.
    streams: dict[str, Any] = {"stdout": stdout, "stderr": stderr}
    parser = _Parser(
        prog="txcloud", description="List and copy across clouds with txcloud.", **streams
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the configuration file (default: $TXCLOUD_CONFIG, else "
        "$XDG_CONFIG_HOME/txcloud/txcloud.toml, else the embedded defaults)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log to stderr (-vv: debug messages too)",
    )
    commands = parser.add_subparsers(
        title="commands",
        metavar="COMMAND",
        required=True,
        parser_class=_Parser,
    )
    for name, kind, summary in (
        ("inventory", None, "list what every target holds"),
        ("nodes", "compute", "list the nodes of the compute targets"),
        ("containers", "container", "list the containers of the container targets"),
    ):
        command = commands.add_parser(name, help=summary, description=summary, **streams)
        command.add_argument("--json", action="store_true", help="print JSON")
        command.add_argument("--target", metavar="NAME", help="only this target")
        command.set_defaults(command=_inventory(kind))
    ls = commands.add_parser(
        "ls",
        help="list containers or objects",
        description="List the containers of a storage target, or the objects of a container.",
        **streams,
    )
    ls.add_argument(
        "location", nargs="?", metavar="[TARGET:]CONTAINER[/PREFIX]", help="what to list"
    )
    ls.set_defaults(command=_ls)
    cp = commands.add_parser(
        "cp",
        help="upload, download or copy objects",
        description="Copy a local file to TARGET:CONTAINER/OBJECT, an object to a local "
        "path, or objects between targets (streamed, to one or more destinations); "
        "a trailing / keeps the source's name.  With --recursive, copy every object "
        "under TARGET:CONTAINER/PREFIX.",
        **streams,
    )
    cp.add_argument("source", metavar="SOURCE")
    cp.add_argument("destinations", metavar="DESTINATION", nargs="+")
    cp.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="copy every object under the source prefix (between targets)",
    )
    cp.add_argument("--overwrite", action="store_true", help="replace an existing destination")
    cp.add_argument(
        "--create-container", action="store_true", help="create the container if it is missing"
    )
    cp.add_argument(
        "--no-progress", dest="progress", action="store_false", help="show no progress bar"
    )
    cp.set_defaults(command=_cp)
    return parser


def _log_to(stream: TextIO, verbosity: int) -> Callable[[], None]:
    """Show log events on *stream* until the returned function is called."""
    level = LogLevel.debug if verbosity > 1 else LogLevel.info
    # cast: mypy does not see that these classes provide the logger's interfaces.
    observer = cast(
        ILogObserver,
        FilteringLogObserver(
            cast(ILogObserver, textFileLogObserver(stream)),
            [cast(ILogFilterPredicate, LogLevelFilterPredicate(defaultLogLevel=level))],
        ),
    )
    globalLogPublisher.addObserver(observer)
    return partial(globalLogPublisher.removeObserver, observer)


def _describe(error: Exception) -> str:
    if isinstance(error, TxCloudError):
        return f"{type(error).__name__}: {error}"
    # OSError: its message names the file, which is what the user needs.
    return str(error)


def run(
    argv: Sequence[str],
    *,
    reactor: Any,
    stdout: TextIO,
    stderr: TextIO,
    environ: Mapping[str, str] | None = None,
) -> Deferred[int]:
    """
    Run the command with arguments *argv* on *reactor*.

    Expected failures (txcloud errors, file errors) are reported as one
    line on *stderr*, never as a traceback.

    :param environ: where configuration paths and secrets are looked up;
        :data:`os.environ` when ``None``.
    :returns: a Deferred firing with the exit code.
    """
    return Deferred.fromCoroutine(_run(argv, reactor, stdout, stderr, environ))


async def _run(
    argv: Sequence[str],
    reactor: Any,
    stdout: TextIO,
    stderr: TextIO,
    environ: Mapping[str, str] | None,
) -> int:
    parser = build_parser(stdout, stderr)
    try:
        arguments = parser.parse_args(argv)
    except _ParserExit as e:
        return e.code
    stop_logging = _log_to(stderr, arguments.verbose) if arguments.verbose else None
    try:
        context = Context(load_config(arguments.config, environ), reactor, stdout, stderr)
        try:
            code: int = await arguments.command(context, arguments)
            return code
        finally:
            await context.close()
    except BrokenPipeError:
        # Nobody reads the rest: stop quietly, as Unix tools do.
        return BROKEN_PIPE
    except (TxCloudError, OSError) as e:
        stderr.write(f"txcloud: error: {_describe(e)}\n")
        return 1
    finally:
        if stop_logging is not None:
            stop_logging()


def _exit(result: int | Failure) -> None:
    if isinstance(result, int):
        if result == BROKEN_PIPE:
            # Python would try to flush stdout at exit and complain again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if result:
            raise SystemExit(result)
        return
    if result.check(CancelledError):
        sys.stderr.write("txcloud: interrupted\n")
        raise SystemExit(INTERRUPTED)
    # Not an expected error: a bug, shown in full to be reported.
    result.printTraceback(sys.stderr)
    raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """
    The ``txcloud`` console script: run the command on the global reactor and exit.

    :param argv: the arguments; ``sys.argv[1:]`` when ``None``.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)

    def start(reactor: Any) -> Deferred[None]:
        finished = run(arguments, reactor=reactor, stdout=sys.stdout, stderr=sys.stderr)
        # Ctrl-C stops the reactor: cancel the work so it cleans up and says so.
        reactor.addSystemEventTrigger("before", "shutdown", finished.cancel)
        return finished.addBoth(_exit)

    react(start)


if __name__ == "__main__":
    main()
