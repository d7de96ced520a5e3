"""The `ism` command line. User errors print one line and exit non-zero, never a traceback.

Exit codes: 0 success, 1 the run failed a quality gate or could not publish, 2 a config or usage error.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from expectations.errors import IsmError
from flows import cli_analysis, cli_dataset, cli_ops, cli_quality, cli_render
from flows.cli_common import DEMO_CONFIG, ConfigArg, JsonOpt, RootOpt, fail
from flows.environment import prepare_prefect

app = typer.Typer(
    name="ism",
    help="Build Interconnected Systems Maps of health, social care and community systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

NoShortcutOpt = Annotated[bool, typer.Option(
    "--no-shortcut", help="Always run the flow, e.g. to record the run in Prefect, even when no input changed.")]


@app.command()
def refresh(config: ConfigArg = DEMO_CONFIG, publish_root: RootOpt = None, as_json: JsonOpt = False,
            wait: cli_ops.WaitOpt = False, no_shortcut: NoShortcutOpt = False) -> None:
    """Extract, validate and consolidate every source, then publish a new version of the map. When no source file
    and nothing in the config changed since the latest version, answer `unchanged` without starting Prefect."""
    from flows.config import load_config
    from flows.outcomes import result_json
    from flows.shortcut import unchanged_before_running

    started = time.monotonic()
    try:
        map_config = load_config(config)
        map_config.checked_publish_root(publish_root)  # refused before any flow starts
        if not as_json:
            typer.echo(f"Refreshing {map_config.map_id}: {len(map_config.sources)} sources "
                       f"({map_config.period.start} to {map_config.period.end}) ...", err=True)
        root = str(publish_root) if publish_root else None
        result = None if no_shortcut else unchanged_before_running(map_config, root)
        if result is None:
            from flows.ephemeral import tied_temporary_server
            from flows.refresh import refresh_map  # imports Prefect: only when the flow has to run

            tied_temporary_server()  # a killed run leaves no Prefect server behind
            result = refresh_map(str(config), root, wait)
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(result_json(result))
        return
    typer.echo(_summary(result, time.monotonic() - started))
    typer.echo(result.path)


DemoFolderArg = Annotated[Path, typer.Argument(help="Where to write the demo map (config and partner extracts).")]


@app.command()
def demo(folder: DemoFolderArg = Path("ism-demo"), as_json: JsonOpt = False, wait: cli_ops.WaitOpt = False) -> None:
    """Write the embedded demo map into FOLDER (replacing an earlier copy there) and refresh it: it publishes under
    FOLDER/published. Works from an installed wheel, without a checkout."""
    from examples import write_demo

    config = write_demo(folder)
    if not as_json:
        typer.echo(f"Demo map written to {config}", err=True)
    refresh(config, as_json=as_json, wait=wait)


def _summary(result, seconds: float) -> str:  # type: ignore[no-untyped-def]
    width = max(len(o.source_id) for o in result.sources)
    lines = [f"{'source':<{width}}  {'status':<8}{'read':>9}{'accepted':>10}{'rejected':>10}"]
    for o in result.sources:
        lines.append(f"{o.source_id:<{width}}  {o.status:<8}{o.rows_read:>9,}{o.rows_accepted:>10,}"
                     f"{o.rows_rejected:>10,}")
    counts = result.counts
    verb = "unchanged: latest is" if result.status == "unchanged" else "published"
    lines.append(
        f"{verb} {result.map_id} {result.version_id} in {seconds:.1f}s: {counts['services']} services, "
        f"{counts['flows']} flow rows, {counts['activity']} activity rows, {counts['rejects']} rejects"
    )
    return "\n".join(lines)


# Each area's commands live in their own module (flows/cli_<area>.py) and are registered here, one line each.
app.command("impact")(cli_analysis.impact)
app.command("stakeholders")(cli_analysis.stakeholders)
app.command("scenario")(cli_analysis.scenario)
app.command("diff")(cli_analysis.diff)
app.command("versions")(cli_dataset.versions)
app.command("show")(cli_dataset.show)
app.command("serve")(cli_ops.serve)
app.command("validate")(cli_quality.validate)
app.command("render")(cli_render.render)


class _UserErrorsWithoutTraceback(logging.Filter):
    """Prefect logs a failed run with its traceback; for a user error the CLI's one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, IsmError) and "QualityGateError" not in record.getMessage()


def main() -> None:
    """Console entry point: user errors are one line; anything else is one line too, unless ISM_DEBUG=1."""
    prepare_prefect()
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        logging.getLogger(name).addFilter(_UserErrorsWithoutTraceback())
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("ism: interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # a bug or an environment failure, not bad input
        if os.environ.get("ISM_DEBUG"):
            raise
        typer.echo(f"ism: internal error: {type(error).__name__}: {error} (set ISM_DEBUG=1 for the traceback)",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
