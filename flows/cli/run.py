"""`ism refresh`, `ism demo` and `ism validate`: run a map's sources through extract and checks, publishing a new
version (refresh, demo) or nothing (validate), and print each source's status."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from expectations.errors import IsmError
from flows.cli.common import EXIT_FAILED, ConfigArg, JsonOpt, RootOpt, config_path, fail
from flows.cli.progress import shown
from outputs.json_text import json_text

if TYPE_CHECKING:
    from flows.outcomes import RunResult

WaitOpt = Annotated[bool, typer.Option("--wait", help="If a refresh of the same map is running, wait for it to "
                                                      "finish instead of failing.")]
NoShortcutOpt = Annotated[bool, typer.Option(
    "--no-shortcut", help="Always run the flow, e.g. to record the run in Prefect, even when no input changed.")]


def refresh(config: ConfigArg = None, publish_root: RootOpt = None, as_json: JsonOpt = False,
            wait: WaitOpt = False, no_shortcut: NoShortcutOpt = False) -> None:
    """Extract, validate and consolidate every source, then publish a new version of the map. When no source file
    and nothing in the config changed since the latest version, answer `unchanged` without starting Prefect."""
    from flows.config import load_config
    from flows.outcomes import result_json
    from flows.shortcut import unchanged_before_running

    started = time.monotonic()
    path = config_path(config)
    try:
        map_config = load_config(path)
        map_config.checked_publish_root(publish_root)  # refused before any flow starts
        if not as_json:
            typer.echo(f"Refreshing {map_config.map_id}: {len(map_config.sources)} sources "
                       f"({map_config.period.start} to {map_config.period.end}) ...", err=True)
        root = str(publish_root) if publish_root else None
        result = None if no_shortcut else unchanged_before_running(map_config, root)
        if result is None:
            from expectations import worker

            worker.start()  # GX imports in its own process meanwhile (seconds): the checks will need it
            with worker.imports_frozen():
                from flows.environment import heartbeats_left_to_stop
                from flows.ephemeral import tied_temporary_server
                from flows.refresh import refresh_map  # imports Prefect: only when the flow has to run

            tied_temporary_server()  # a killed run leaves no Prefect server behind
            heartbeats_left_to_stop()  # the run returns as its work ends, not at its heartbeat thread's next second
            with shown([s.id for s in map_config.sources], as_json):
                result = refresh_map(str(path), root, wait)
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(result_json(result))
        return
    typer.echo(run_summary(result, time.monotonic() - started))
    typer.echo(result.path)


DemoFolderArg = Annotated[Path, typer.Argument(
    metavar="FOLDER", help="Where to write the demo map (config and partner extracts).")]


def demo(folder: DemoFolderArg = Path("ism-demo"), as_json: JsonOpt = False, wait: WaitOpt = False) -> None:
    """Write the embedded demo map into FOLDER (replacing an earlier copy there) and refresh it: it publishes under
    FOLDER/published. Works from an installed wheel, without a checkout."""
    from examples import write_demo

    config = write_demo(folder)
    if not as_json:
        typer.echo(f"Demo map written to {config}", err=True)
    refresh(config, as_json=as_json, wait=wait)


def run_summary(result: RunResult, seconds: float) -> str:
    """Each source's rows and status, then what was published."""
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


def validate(config: ConfigArg = None, publish_root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Extract and check every source (and the consolidated map) without publishing; print each source's status.

    Compares with the latest published version under the publish root and shows whether a quarantined source
    would use its last good extract. Exit 1 if any error-severity check failed."""
    from expectations import worker

    worker.start()  # GX imports in its own process while Prefect and the sources load: the checks need it
    with worker.imports_frozen():
        from flows.config import load_config
        from flows.environment import heartbeats_left_to_stop
        from flows.ephemeral import tied_temporary_server
        from flows.validate import validate_map
        from outputs.quality_text import source_table_text
        from transforms.source_status import blocking_failures

    path = config_path(config)
    try:
        map_config = load_config(path)
        if not as_json:
            typer.echo(f"Validating {map_config.map_id}: {len(map_config.sources)} sources "
                       f"({map_config.period.start} to {map_config.period.end}) ...", err=True)
        tied_temporary_server()  # a killed run leaves no Prefect server behind
        heartbeats_left_to_stop()
        with shown([s.id for s in map_config.sources], as_json):
            summary = validate_map(str(path), str(publish_root) if publish_root else None)
    except IsmError as error:
        fail(error)
    failures = blocking_failures(summary)
    if as_json:
        typer.echo(json_text({**summary, "failures": failures}, indent=2, default=str))
    else:
        typer.echo(source_table_text(summary))
        for failure in failures:
            typer.echo(f"ism: failed: {failure}", err=True)
        if summary.get("report"):
            typer.echo(f"quality report: {summary['report']}", err=True)
    if failures:
        raise typer.Exit(EXIT_FAILED)
