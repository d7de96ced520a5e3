"""`ism runs`: the recent runs of a map, published or not, with their outcome, blocked sources (root causes first)
and where each run's quality report is. Reads the run records only (outputs/run_log.py): no Prefect."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from expectations.errors import IsmError
from flows.cli.common import ConfigArg, JsonOpt, RootOpt, fail, map_store

LimitOpt = Annotated[int, typer.Option("--limit", min=1, help="How many runs to list, newest first.")]


def runs(config: ConfigArg = None, publish_root: RootOpt = None, limit: LimitOpt = 20,
         as_json: JsonOpt = False) -> None:
    """List the map's recent refresh and validate runs, newest first: outcome, status, blocked sources (root
    causes first) and the path of each run's quality report (failed runs' reports are in the private area)."""
    from outputs.run_log import recent_runs

    try:
        map_config, store = map_store(config, publish_root)
    except IsmError as error:
        fail(error)
    found = recent_runs(store.private, limit)
    if as_json:
        typer.echo(json.dumps({"map_id": map_config.map_id, "runs": found}, indent=2, default=str))
        return
    if not found:
        typer.echo(f"no runs recorded yet for {map_config.map_id} (in {store.private})")
        return
    typer.echo(runs_text(found))


def runs_text(found: list[dict[str, Any]]) -> str:
    """One block per run: its id, command, outcome, status and version; its blocked sources; its report."""
    lines = []
    for run in found:
        version = f" {run['version_id']}" if run.get("version_id") else ""
        lines.append(f"{run['run_id']}  {run.get('command') or '-'}  {run.get('outcome') or '-'}{version}  "
                     f"{run.get('status') or '-'}")
        for cause in run.get("root_causes") or []:
            lines.append(f"  root cause: {cause}")
        if run.get("blocked"):
            lines.append(f"  blocked: {', '.join(run['blocked'])}")
        lines.append(f"  report: {run.get('report') or '-'}")
    return "\n".join(lines)
