"""The `ism` command line: one typer app; each area's commands live in their own module of this package and are
registered here. User errors print one line and exit with their kind's code, never a traceback."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated, NoReturn

import typer

from expectations.errors import IsmError
from expectations.worker import keep_unused_imports_out
from flows.cli import analysis, changes, check, dataset, init, render, run, runs, serve
from flows.cli.common import EXIT_CODES_HELP, EXIT_INTERNAL, EXIT_INTERRUPTED
from flows.cli.quiet import fontconfig_initialised_quietly
from flows.environment import prepare_prefect

app = typer.Typer(
    name="ism",
    help="Build Interconnected Systems Maps of health, social care and community systems. Every command takes the "
         "map config the same way: an optional CONFIG argument, else $ISM_CONFIG, else ./ism.toml, else the demo.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings flow as paragraphs; [poster] and the like stay text
)

app.command("refresh")(run.refresh)
app.command("demo")(run.demo)
app.command("validate")(run.validate)
app.command("runs")(runs.runs)
app.command("check")(check.check)
app.command("versions")(dataset.versions)
app.command("show")(dataset.show)
app.command("render")(render.render)
app.command("impact")(analysis.impact)
app.command("stakeholders")(analysis.stakeholders)
app.command("scenario")(changes.scenario)
app.command("diff")(changes.diff)
app.command("serve")(serve.serve)
app.command("init")(init.init)


def ism_version() -> str:
    """The installed version of the ism package."""
    try:
        return package_version("ism")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"ism {ism_version()}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print ism's version and exit.")] = False) -> None:
    """Options for every command."""


class _UserErrorsWithoutTraceback(logging.Filter):
    """Prefect logs a failed run with its traceback; for a user error the CLI's one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, IsmError) and "QualityGateError" not in record.getMessage()


def main() -> None:
    """Console entry point: user errors are one line; anything else is one line too, unless ISM_DEBUG=1."""
    prepare_prefect()
    keep_unused_imports_out()
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        logging.getLogger(name).addFilter(_UserErrorsWithoutTraceback())
    fontconfig_initialised_quietly()
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("ism: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # a bug or an environment failure, not bad input
        if os.environ.get("ISM_DEBUG"):
            raise
        typer.echo(f"ism: internal error: {type(error).__name__}: {error} (set ISM_DEBUG=1 for the traceback)",
                   err=True)
        sys.exit(EXIT_INTERNAL)


def console() -> NoReturn:
    """The `ism` command: `main`, then `quick_exit` with its exit code."""
    try:
        main()
    except SystemExit as stop:
        quick_exit(stop.code)
    quick_exit(0)


def quick_exit(code: int | str | None) -> NoReturn:
    """Exit as any exit does (the exit handlers run: Prefect's, logging's, the workers' ends; output is flushed)
    but without the interpreter's teardown of every object it holds, which after a refresh takes a second or more
    (measured at bench M: 1.1-1.7 s, against 0.1 s) for memory the process gives back anyway. When another thread
    is still running, which an exit waits for, the exit is the usual one."""
    if isinstance(code, str):  # a message, printed as Python prints it
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()):
        sys.exit(status)
    atexit._run_exitfuncs()  # what an exit runs before the teardown skipped here
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`ism ... | head`): nothing more to say
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    console()
