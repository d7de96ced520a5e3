"""The commands about change: `ism scenario` (a to-be map from a change-set) and `ism diff` (what changed between
two published versions). Both list changes the same way."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from expectations.errors import ConfigError, IsmError
from flows.cli.analysis import DEFAULT_OUT, OutOpt, opened_map
from flows.cli.common import ConfigArg, JsonOpt, RootOpt, VersionOpt, fail, fail_writing, map_store
from flows.cli.present import echo_json, lane_styles, number, poster_info, records, slug

ChangeSetArg = Annotated[Path, typer.Argument(
    metavar="CHANGESET", help="The change-set file (TOML) describing the to-be; its `map` key names the map config.")]
ThresholdOpt = Annotated[float, typer.Option("--threshold", min=0.0,
                                             help="List flows and activity that moved by more than this share.")]


def scenario(changeset: ChangeSetArg, version: VersionOpt = "latest", publish_root: RootOpt = None,
             out: OutOpt = None, as_json: JsonOpt = False) -> None:
    """Apply a to-be change-set to a published version and write the to-be map, its changes and a diff poster.

    Writes the to-be tables, changes.csv, poster.svg (the to-be) and diff.svg (added green, removed red dashed,
    changed amber). The map config is the one the change-set names."""
    from expectations.measures import catalogue_of
    from flows.scenario_config import load_change_set
    from outputs.scenario import write_scenario
    from transforms.diff import change_counts, changed_part, diff_graph
    from transforms.scenario import applied_scenario

    try:
        change_set, config = load_change_set(changeset)
        map_config, version_id, tables, _ = opened_map(config, publish_root, version)
        try:
            result = applied_scenario(tables, change_set, map_config.lane_ids)
        except ConfigError as error:
            raise ConfigError(f"{changeset}: {error}") from None
        target = (out or DEFAULT_OUT / f"scenario-{slug(changeset.stem)}").resolve()
        counts = change_counts(result.changes)
        summary: dict[str, Any] = {
            "title": change_set.title, "map_id": map_config.map_id, "as_is_version": version_id,
            "changeset": str(changeset), "counts": counts,
            "services": {"as_is": result.as_is.number_of_nodes(), "to_be": result.to_be.number_of_nodes()},
            # edge volumes are flows in the demand unit only (transforms/graph.py): say which
            "flow_volume": {"as_is": sum(d["volume"] for *_, d in result.as_is.edges(data=True)),
                            "to_be": sum(d["volume"] for *_, d in result.to_be.edges(data=True)),
                            "unit": catalogue_of(tables.get("measures")).demand_unit},
        }
        written = write_scenario(target, result.tables, result.changes, result.to_be,
                                 changed_part(diff_graph(result.as_is, result.to_be, result.changes)),
                                 lane_styles(map_config),
                                 poster_info(map_config, f"{version_id} to-be", change_set.title), summary)
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail_writing("scenario", error)
    if as_json:
        echo_json({**summary, "out": str(target), "changes": records(result.changes)})
        return
    lines = [f"{change_set.title}: {map_config.map_id} {version_id} as-is -> to-be",
             f"services {summary['services']['as_is']} -> {summary['services']['to_be']}, "
             f"flow volume in {summary['flow_volume']['unit']} (demand measures) "
             f"{number(summary['flow_volume']['as_is'])} -> {number(summary['flow_volume']['to_be'])}",
             "changes: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())]
    lines += change_lines(result.changes)
    lines.append(f"written to {target}: to_be/ tables, changes.csv, poster.svg, diff.svg, scenario.json "
                 f"({len(written)} files)")
    typer.echo("\n".join(lines))


def change_lines(changes: pd.DataFrame) -> list[str]:
    """One line per change: element, kind, name and what moved."""
    lines = []
    for row in changes.itertuples(index=False):
        if row.element == "service" and row.change in ("added", "removed", "source missing"):
            detail = row.after if row.change == "added" else row.before
        elif row.element == "service":
            detail = row.note if row.attribute == "merged" else f"{row.attribute}: {row.before} -> {row.after}"
        else:
            relative = "" if pd.isna(row.relative_change) or math.isinf(row.relative_change) else \
                f" ({row.relative_change:+.0%})"
            shown_before = row.display_before if isinstance(row.display_before, str) else number(row.value_before)
            shown_after = row.display_after if isinstance(row.display_after, str) else number(row.value_after)
            unit = f" {row.unit}" if isinstance(row.unit, str) else ""
            detail = f"{row.attribute}: {shown_before} -> {shown_after}{unit}{relative}"
        note = f"  [{row.note}]" if isinstance(row.note, str) and row.attribute != "merged" else ""
        lines.append(f"  {row.element:<8} {row.change:<8} {row.name}: {detail}{note}")
    return lines


def diff(
    version_1: Annotated[str, typer.Argument(metavar="V1", help="The earlier version, e.g. v0001.")],
    version_2: Annotated[str, typer.Argument(metavar="V2", help="The later version, e.g. v0002 or latest.")],
    config: ConfigArg = None, threshold: ThresholdOpt = 0.1, publish_root: RootOpt = None, as_json: JsonOpt = False,
) -> None:
    """What changed between two published versions of a map.

    First both versions' periods, config digests and sources and what differs; then services added, removed (or
    gone with their source), renamed or moved lane; flows and activity per measure that changed by more than
    --threshold, or whose suppressed months changed."""
    from flows.analysis import facts_of, opened_version, version_state
    from transforms.diff import change_counts, comparison_lines, map_changes, version_comparison

    try:
        map_config, store = map_store(config, publish_root)
        first, second = opened_version(store, version_1), opened_version(store, version_2)
        changes = map_changes(version_state(first), version_state(second), threshold)
    except IsmError as error:
        fail(error)
    counts = change_counts(changes)
    before, after = facts_of(first.manifest), facts_of(second.manifest)
    if as_json:
        echo_json({"map_id": map_config.map_id, "from": first.version_id, "to": second.version_id,
                   "comparison": records(version_comparison(before, after)),
                   "threshold": threshold, "counts": counts, "changes": records(changes)})
        return
    lines = [*comparison_lines(before, after),
             f"{map_config.map_id}: {first.version_id} -> {second.version_id} (flows and activity per measure "
             f"beyond {threshold:.0%})"]
    lines.append("changes: " + (", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"))
    typer.echo("\n".join(lines + change_lines(changes)))
