"""The planner's commands: `ism impact`, `ism stakeholders`, `ism scenario` and `ism diff`, answered from a
published version of the map. They describe the map's data; none of them forecasts."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from expectations.errors import ConfigError, IsmError
from flows.cli_common import DEMO_CONFIG, ConfigArg, JsonOpt, RootOpt, fail, map_store
from outputs.safe_text import json_value

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The map config (TOML). Default: the demo map.")]
VersionOpt = Annotated[str, typer.Option(
    "--version", help="The published version to read: latest, an id such as v0003, or a date YYYY-MM-DD.")]
ServiceArg = Annotated[str | None, typer.Argument(
    help="A service: its service_id, partner:key, an external id scheme:value, or its name (case-insensitive).")]
LaneOpt = Annotated[str | None, typer.Option("--lane", help="A lane (id or label) instead of one service.")]
HopsOpt = Annotated[int, typer.Option("--hops", min=1, max=10, help="How many steps along the flows to follow.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder to write into (default: ./ism-analysis/...).")]
DEFAULT_OUT = Path("ism-analysis")


def _opened(config: Path, publish_root: Path | None, version: str):  # type: ignore[no-untyped-def]
    """The map config, the version folder and its tables and graph (flow volumes in the demand unit only, so an
    impact never adds unlike units)."""
    from flows.analysis import graph_of, measured_of, opened_version, version_tables
    from transforms.totals import comparable_graph

    map_config, store = map_store(config, publish_root)
    opened = opened_version(store, version)
    tables = version_tables(opened)
    return map_config, opened.path, tables, comparable_graph(graph_of(tables), measured_of(tables))


def _focus(service: str | None, lane: str | None, map_config, tables: dict[str, pd.DataFrame],  # type: ignore[no-untyped-def]
           graph) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """The focus services and a label for them."""
    from transforms.analyses import lane_services, resolved_lane, resolved_service

    if (service is None) == (lane is None):
        raise ConfigError("name one SERVICE or one --lane LANE (not both, not neither); see --help")
    if lane is not None:
        lane_id = resolved_lane(lane, {item.id: item.label for item in map_config.lanes})
        members = lane_services(graph, lane_id)
        if not members:
            raise ConfigError(f"lane {lane_id!r} has no services in this version")
        label = next(item.label for item in map_config.lanes if item.id == lane_id)
        return members, f"lane {label}"
    sid = resolved_service(str(service), tables["services"])
    return [sid], str(graph.nodes[sid]["name"])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "focus"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _n(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def _pct(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def _poster_info(map_config, version_id: str, title: str):  # type: ignore[no-untyped-def]
    from outputs.poster import PosterInfo

    return PosterInfo(title=title, area=f"{map_config.area.name} ({map_config.area.code})",
                      population=map_config.population,
                      period=f"{map_config.period.start} to {map_config.period.end}", version=version_id,
                      partners=[p.name for p in map_config.partners.values()],
                      sector_colours=dict(map_config.sectors))


def _lane_styles(map_config, graph=None):  # type: ignore[no-untyped-def]
    """The map's lanes in order; with a graph, only the lanes its services are in."""
    from outputs.context import LaneStyle

    used = None if graph is None else {data.get("lane") for _, data in graph.nodes(data=True)}
    return [LaneStyle(lane.id, lane.label, lane.colour) for lane in map_config.lanes if used is None or lane.id in used]


def impact(
    service: ServiceArg = None, lane: LaneOpt = None, hops: HopsOpt = 1, config: ConfigOpt = DEMO_CONFIG,
    version: VersionOpt = "latest", publish_root: RootOpt = None, out: OutOpt = None,
    diagram: Annotated[bool, typer.Option("--diagram/--no-diagram", help="Draw the impact diagram.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Services a change to SERVICE (or a --lane) touches, upstream and downstream, with volumes and shares.

    Upstream services send it demand, downstream services receive demand from it; the organisations and partners
    holding them are listed by the volume of those flows reaching their services."""
    from outputs.context import PosterOptions
    from outputs.poster import write_poster
    from transforms.analyses import affected_partners, impact_subgraph, stakeholders
    from transforms.analyses import impact as impact_of

    try:
        map_config, folder, tables, graph = _opened(config, publish_root, version)
        focus, label = _focus(service, lane, map_config, tables, graph)
        found = impact_of(graph, focus, hops)
        organisations = stakeholders(graph, found, tables["organisations"])
        partners = affected_partners(graph, found)
        written: list[Path] = []
        if diagram:
            target = (out or DEFAULT_OUT / f"impact-{_slug(label)}").resolve()
            info = _poster_info(map_config, folder.name, f"Impact of a change: {label}")
            sub = impact_subgraph(graph, found)
            subtitle = (f"Services up to {hops} step{'s' if hops > 1 else ''} upstream (sending demand to it) and "
                        "downstream (receiving demand from it), and every flow the impact tables count.")
            written = write_poster(sub, _lane_styles(map_config, sub), info, target,
                                   options=PosterOptions(min_flow_share=0.0, page="A2"), subtitle=subtitle)
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail(IsmError(f"cannot write the diagram: {error}"))
    partner_names = {pid: p.name for pid, p in map_config.partners.items()}
    partners.insert(2, "partner_name", partners["partner"].map(partner_names))
    if as_json:
        typer.echo(json.dumps({
            "map_id": map_config.map_id, "version": folder.name, "focus": label, "focus_service_ids": list(focus),
            "hops": hops, "inflow": found.inflow, "outflow": found.outflow, "internal": found.internal,
            "upstream": _records(found.services[found.services["direction"] == "upstream"]),
            "downstream": _records(found.services[found.services["direction"] == "downstream"]),
            "organisations": _records(organisations), "partners": _records(partners),
            "diagram": [str(p) for p in written],
        }, indent=2, ensure_ascii=False))
        return
    lines = [f"Impact of a change to {label}, {hops} hop{'s' if hops > 1 else ''} ({map_config.map_id} "
             f"{folder.name}): flow in {_n(found.inflow)}, out {_n(found.outflow)}"
             + (f", within {_n(found.internal)}" if len(focus) > 1 else "")]
    for direction, heading in (("upstream", "Upstream (who sends it demand)"),
                               ("downstream", "Downstream (where its demand goes)")):
        rows = found.services[found.services["direction"] == direction]
        lines.append(f"\n{heading}: {len(rows)} services")
        if len(rows):
            lines.append(f"  {'hop':>3} {'volume':>9} {'of ring':>8} {'of own':>7}  service [lane] (organisation)")
        for row in rows.itertuples(index=False):
            lines.append(f"  {row.hops:>3} {_n(row.volume):>9} {_pct(row.share_of_ring):>8} "
                         f"{_pct(row.share_of_service):>7}  {row.name} [{row.lane}] ({row.organisation})")
    lines.append("\nOrganisations affected (by the volume of these flows reaching their services):")
    for row in organisations.itertuples(index=False):
        lines.append(f"  {row.rank:>2}. {row.organisation} ({row.role}): {_n(row.volume_touched)}, "
                     f"{_pct(row.share_of_touched)}")
    lines.append("Partners affected: " + ", ".join(
        f"{row.partner_name if isinstance(row.partner_name, str) else row.partner} ({_n(row.volume_touched)})"
        for row in partners.itertuples(index=False)))
    lines += [f"Diagram: {p}" for p in written]
    typer.echo("\n".join(lines))


def stakeholders(
    service: ServiceArg = None, lane: LaneOpt = None, hops: HopsOpt = 1, config: ConfigOpt = DEMO_CONFIG,
    version: VersionOpt = "latest", publish_root: RootOpt = None, as_json: JsonOpt = False,
) -> None:
    """Organisations a change to SERVICE (or a --lane) touches, ranked by the flow reaching their services.

    Each comes with the contact details (email, phone, website) the source data carries."""
    from transforms.analyses import impact as impact_of
    from transforms.analyses import stakeholders as stakeholders_of

    try:
        map_config, folder, tables, graph = _opened(config, publish_root, version)
        focus, label = _focus(service, lane, map_config, tables, graph)
        ranked = stakeholders_of(graph, impact_of(graph, focus, hops), tables["organisations"])
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(json.dumps({"map_id": map_config.map_id, "version": folder.name, "focus": label, "hops": hops,
                               "stakeholders": _records(ranked)}, indent=2, ensure_ascii=False))
        return
    lines = [f"Stakeholders of a change to {label}, {hops} hop{'s' if hops > 1 else ''} ({map_config.map_id} "
             f"{folder.name}), ranked by the volume of flow reaching their services:"]
    for row in ranked.itertuples(index=False):
        contact = " · ".join(v for v in (row.email, row.phone, row.website) if isinstance(v, str)) or \
            "no contact details in the data"
        lines.append(f"  {row.rank:>2}. {row.organisation} [{row.sector}, {row.role}] {_n(row.volume_touched)} "
                     f"({_pct(row.share_of_touched)}), {row.services} service{'s' if row.services != 1 else ''}: "
                     f"{contact}")
    typer.echo("\n".join(lines))


def scenario(
    changeset: Annotated[Path, typer.Argument(help="The change-set file (TOML) describing the to-be.")],
    version: VersionOpt = "latest", publish_root: RootOpt = None, out: OutOpt = None, as_json: JsonOpt = False,
) -> None:
    """Apply a to-be change-set to a published version and write the to-be map, its changes and a diff poster.

    Writes the to-be tables, changes.csv, poster.svg (the to-be) and diff.svg (added green, removed red dashed,
    changed amber)."""
    from flows.scenario_config import load_change_set
    from outputs.scenario import write_scenario
    from transforms.diff import change_counts, changed_part, diff_graph
    from transforms.scenario import applied_scenario

    try:
        change_set, config = load_change_set(changeset)
        map_config, folder, tables, _ = _opened(config, publish_root, version)
        try:
            result = applied_scenario(tables, change_set, map_config.lane_ids)
        except ConfigError as error:
            raise ConfigError(f"{changeset}: {error}") from None
        target = (out or DEFAULT_OUT / f"scenario-{_slug(changeset.stem)}").resolve()
        counts = change_counts(result.changes)
        summary = {
            "title": change_set.title, "map_id": map_config.map_id, "as_is_version": folder.name,
            "changeset": str(changeset), "counts": counts,
            "services": {"as_is": result.as_is.number_of_nodes(), "to_be": result.to_be.number_of_nodes()},
            "flow_volume": {"as_is": sum(d["volume"] for *_, d in result.as_is.edges(data=True)),
                            "to_be": sum(d["volume"] for *_, d in result.to_be.edges(data=True))},
        }
        written = write_scenario(target, result.tables, result.changes, result.to_be,
                                 changed_part(diff_graph(result.as_is, result.to_be, result.changes)),
                                 _lane_styles(map_config),
                                 _poster_info(map_config, f"{folder.name} to-be", change_set.title), summary)
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail(IsmError(f"cannot write the scenario: {error}"))
    if as_json:
        typer.echo(json.dumps({**summary, "out": str(target), "changes": _records(result.changes)}, indent=2,
                              ensure_ascii=False))
        return
    lines = [f"{change_set.title}: {map_config.map_id} {folder.name} as-is -> to-be",
             f"services {summary['services']['as_is']} -> {summary['services']['to_be']}, "
             f"flow volume {_n(summary['flow_volume']['as_is'])} -> {_n(summary['flow_volume']['to_be'])}",
             "changes: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())]
    lines += _change_lines(result.changes)
    lines.append(f"written to {target}: to_be/ tables, changes.csv, poster.svg, diff.svg, scenario.json "
                 f"({len(written)} files)")
    typer.echo("\n".join(lines))


def _change_lines(changes: pd.DataFrame) -> list[str]:
    lines = []
    for row in changes.itertuples(index=False):
        if row.element == "service" and row.change in ("added", "removed", "source missing"):
            detail = row.after if row.change == "added" else row.before
        elif row.element == "service":
            detail = row.note if row.attribute == "merged" else f"{row.attribute}: {row.before} -> {row.after}"
        else:
            relative = "" if pd.isna(row.relative_change) or math.isinf(row.relative_change) else \
                f" ({row.relative_change:+.0%})"
            shown_before = row.display_before if isinstance(row.display_before, str) else _n(row.value_before)
            shown_after = row.display_after if isinstance(row.display_after, str) else _n(row.value_after)
            unit = f" {row.unit}" if isinstance(row.unit, str) else ""
            detail = f"{row.attribute}: {shown_before} -> {shown_after}{unit}{relative}"
        note = f"  [{row.note}]" if isinstance(row.note, str) and row.attribute != "merged" else ""
        lines.append(f"  {row.element:<8} {row.change:<8} {row.name}: {detail}{note}")
    return lines


def diff(
    version_1: Annotated[str, typer.Argument(metavar="V1", help="The earlier version, e.g. v0001.")],
    version_2: Annotated[str, typer.Argument(metavar="V2", help="The later version, e.g. v0002 or latest.")],
    config: ConfigArg = DEMO_CONFIG,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0,
                                             help="List flows and activity that moved by more than this share.")] = 0.1,
    publish_root: RootOpt = None, as_json: JsonOpt = False,
) -> None:
    """What changed between two published versions of a map.

    Services added, removed, renamed or moved lane; flows and activity that changed by more than --threshold."""
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
        typer.echo(json.dumps({"map_id": map_config.map_id, "from": first.version_id, "to": second.version_id,
                               "comparison": _records(version_comparison(before, after)),
                               "threshold": threshold, "counts": counts, "changes": _records(changes)}, indent=2,
                              ensure_ascii=False))
        return
    lines = [*comparison_lines(before, after),
             f"{map_config.map_id}: {first.version_id} -> {second.version_id} (flows and activity per measure "
             f"beyond {threshold:.0%})"]
    lines.append("changes: " + (", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"))
    typer.echo("\n".join(lines + _change_lines(changes)))
