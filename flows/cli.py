"""The `ism` command line. User errors print one line and exit non-zero, never a traceback.

Exit codes: 0 success, 1 the run failed a quality gate or could not publish, 2 a config or usage error.
"""

from __future__ import annotations

import json
import sys
import time

import typer

from expectations.errors import IsmError
from flows.cli_common import DEMO_CONFIG, ConfigArg, JsonOpt, RootOpt, fail, map_store

app = typer.Typer(
    name="ism",
    help="Build Interconnected Systems Maps of health, social care and community systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.command()
def refresh(config: ConfigArg = DEMO_CONFIG, publish_root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Extract, validate and consolidate every source, then publish a new version of the map."""
    from flows.config import load_config
    from flows.refresh import refresh_map, result_json

    started = time.monotonic()
    try:
        map_config = load_config(config)
        if not as_json:
            typer.echo(f"Refreshing {map_config.map_id}: {len(map_config.sources)} sources "
                       f"({map_config.period.start} to {map_config.period.end}) ...", err=True)
        result = refresh_map(str(config), str(publish_root) if publish_root else None)
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(result_json(result))
        return
    typer.echo(_summary(result, time.monotonic() - started))
    typer.echo(result.path)


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


@app.command()
def versions(
    config: ConfigArg = DEMO_CONFIG, publish_root: RootOpt = None, as_json: JsonOpt = False
) -> None:
    """List the published versions of a map, oldest first."""
    try:
        _, store = map_store(config, publish_root)
        catalog = store.write_catalog() if store.folder.is_dir() else {"versions": [], "latest": None}
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(json.dumps(catalog, indent=2))
        return
    for entry in catalog["versions"]:
        mark = "*" if entry["version_id"] == catalog["latest"] else " "
        as_of = entry["as_of"] or {}
        typer.echo(f"{mark} {entry['version_id']}  {entry['created_at']}  {as_of.get('start')}..{as_of.get('end')}  "
                   f"{entry['status']:<5} {entry['content_hash'][:12]}  {len(entry['sources'])} sources")
    if not catalog["versions"]:
        typer.echo("no versions published yet", err=True)


# Each area's commands live in their own module (flows/cli_<area>.py) and are registered here, one line each.


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("ism: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
