"""`ism validate`: extract and check a map's sources as a refresh would, publish nothing, print each source's status.

Exit codes: 0 nothing failed an error-severity check, 1 a source was blocked (or the consolidated map failed an
error check), 2 a config or usage error."""

from __future__ import annotations

import typer

from expectations.errors import IsmError
from flows.cli_common import DEMO_CONFIG, ConfigArg, JsonOpt, RootOpt, fail
from outputs.json_text import json_text


def validate(config: ConfigArg = DEMO_CONFIG, publish_root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Extract and check every source (and the consolidated map) without publishing; print each source's status.

    Compares with the latest published version under the publish root and shows whether a quarantined source
    would use its last good extract. Exit 1 if any error-severity check failed."""
    from flows.config import load_config
    from flows.ephemeral import tied_temporary_server
    from flows.quality import blocking_failures, source_table_text
    from flows.validate import validate_map

    try:
        map_config = load_config(config)
        if not as_json:
            typer.echo(f"Validating {map_config.map_id}: {len(map_config.sources)} sources "
                       f"({map_config.period.start} to {map_config.period.end}) ...", err=True)
        tied_temporary_server()  # a killed run leaves no Prefect server behind
        summary = validate_map(str(config), str(publish_root) if publish_root else None)
    except IsmError as error:
        fail(error)
    failures = blocking_failures(summary)
    if as_json:
        typer.echo(json_text({**summary, "failures": failures}, indent=2, default=str))
    else:
        typer.echo(source_table_text(summary))
        for failure in failures:
            typer.echo(f"ism: failed: {failure}", err=True)
    if failures:
        raise typer.Exit(1)
