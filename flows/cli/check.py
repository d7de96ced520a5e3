"""`ism check SOURCE [CONFIG]` (or `--all`): read one source and apply its mapping and row checks as a refresh
would, in seconds: no Prefect server, no Great Expectations (neither is imported)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from expectations.errors import ConfigError, IsmError
from flows.cli.common import EXIT_FAILED, ConfigArg, JsonOpt, config_path, fail
from outputs.quality_text import reject_row

if TYPE_CHECKING:
    from flows.check import SourceCheck

SourceArg = Annotated[str | None, typer.Argument(metavar="SOURCE", help="The id of a source of the map config.",
                                                 show_default=False)]
AllOpt = Annotated[bool, typer.Option("--all", help="Check every source of the map, one after another.")]
HeadOpt = Annotated[int, typer.Option("--head", min=0, help="How many mapped rows to show per table.")]


def check(source: SourceArg = None, config: ConfigArg = None, every: AllOpt = False, head: HeadOpt = 5,
          as_json: JsonOpt = False) -> None:
    """Read one source, apply its mapping and row checks, and show the raw columns found, the mapped head, the
    counts and the rejects by reason with examples and the fix. Exit 1 if the source is blocked."""
    from flows.check import checked_source
    from flows.config import load_config

    try:
        if every and source is not None and config is None:  # `ism check --all CONFIG`
            config, source = Path(source), None
        if every == (source is not None):
            raise ConfigError("name one SOURCE or give --all (not both, not neither); see --help")
        map_config = load_config(config_path(config))
        ids = [s.id for s in map_config.sources] if every else [map_config.source(str(source)).id]
        found = [checked_source(map_config, sid, head) for sid in ids]
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(json.dumps({"map_id": map_config.map_id, "sources": [c.as_json() for c in found]}, indent=2,
                              default=str))
    else:
        typer.echo("\n\n".join(check_text(c) for c in found))
    if not all(c.passed for c in found):
        raise typer.Exit(EXIT_FAILED)


def check_text(found: SourceCheck) -> str:
    """One source's check as a person reads it."""
    lines = [f"{found.source_id} ({found.partner}, {found.location}): {found.status}"]
    if found.error:
        lines.append(f"  blocked: {found.error}")
    for table, columns in found.raw_columns.items():
        lines.append(f"  raw columns for {table}: {', '.join(columns)}")
    lines.append(f"  rows: {found.rows_read:,} read, {found.rows_filtered:,} filtered, {found.rows_accepted:,} "
                 f"accepted, {found.rows_rejected:,} "
                 f"rejected, {found.rows_clipped:,} outside the map period")
    for table, rows in found.head.items():
        lines.append(f"  {table} (first {len(rows)} mapped rows):")
        lines += [f"    {json.dumps(row, default=str, ensure_ascii=False)}" for row in rows]
    for reason in found.reasons:
        lines.append(f"  {reason['severity']} {reason['check']} x {reason['count']:,}: {reason['message']}")
        if reason.get("advice"):
            lines.append(f"    fix: {reason['advice']}")
        for sample in reason["samples"][:3]:
            value = "-" if sample["value"] is None else sample["value"]
            lines.append(f"    e.g. {reject_row(sample['row_number'])}, column {sample['column'] or '-'}, "
                         f"value {value}: {sample['message']}")
    return "\n".join(lines)
