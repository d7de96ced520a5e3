"""The planner's commands: `ism impact` and `ism stakeholders`, answered from a published version of the map. They
describe the map's data; none of them forecasts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from expectations.errors import IsmError, UnknownReferenceError
from flows.cli.common import (
    ConfigArg,
    HopsOpt,
    JsonOpt,
    LaneOpt,
    RootOpt,
    ServiceArg,
    VersionOpt,
    fail,
    fail_writing,
    focus_and_config,
    map_store,
)
from flows.cli.present import echo_json, lane_styles, number, plural, poster_info, records, share, slug

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from flows.config import MapConfig
    from transforms.analyses import Impact

OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder to write into (default: ./ism-analysis/...).")]
DiagramOpt = Annotated[bool, typer.Option("--diagram/--no-diagram", help="Draw the impact diagram.")]
DEFAULT_OUT = Path("ism-analysis")


def opened_map(config: Path, publish_root: Path | None,
               version: str) -> tuple[MapConfig, str, dict[str, pd.DataFrame], nx.DiGraph]:
    """The map config, the version id and the version's tables and graph (flow volumes in the demand unit only, so
    an impact never adds unlike units)."""
    from flows.analysis import graph_of, measured_of, opened_version, version_tables
    from transforms.totals import comparable_graph

    map_config, store = map_store(config, publish_root)
    opened = opened_version(store, version)
    tables = version_tables(opened)
    return map_config, opened.version_id, tables, comparable_graph(graph_of(tables), measured_of(tables))


def focus_services(service: str | None, lane: str | None, map_config: MapConfig, tables: dict[str, pd.DataFrame],
                   graph: nx.DiGraph) -> tuple[list[str], str]:
    """The focus services a SERVICE or --lane names, and a label for them (the one lookup of transforms/lookup)."""
    from transforms.analyses import lane_services
    from transforms.lookup import resolved_lane, resolved_service

    if lane is not None:
        lane_id = resolved_lane(lane, {item.id: item.label for item in map_config.lanes})
        members = lane_services(graph, lane_id)
        if not members:
            raise UnknownReferenceError(f"lane {lane_id!r} has no services in this version")
        return members, "lane " + next(item.label for item in map_config.lanes if item.id == lane_id)
    sid = resolved_service(str(service), tables["services"])
    return [sid], str(graph.nodes[sid]["name"])


def impact(service: ServiceArg = None, config: ConfigArg = None, lane: LaneOpt = None, hops: HopsOpt = 1,
           version: VersionOpt = "latest", publish_root: RootOpt = None, out: OutOpt = None,
           diagram: DiagramOpt = True, as_json: JsonOpt = False) -> None:
    """Services a change to SERVICE (or a --lane) touches, upstream and downstream, with volumes and shares.

    Upstream services send it demand, downstream services receive demand from it; the organisations and partners
    holding them are listed by the volume of those flows reaching their services."""
    from transforms.analyses import affected_partners, stakeholders
    from transforms.analyses import impact as impact_of

    try:
        service, path = focus_and_config(service, lane, config)
        map_config, version_id, tables, graph = opened_map(path, publish_root, version)
        focus, label = focus_services(service, lane, map_config, tables, graph)
        found = impact_of(graph, focus, hops)
        organisations = stakeholders(graph, found, tables["organisations"])
        partners = affected_partners(graph, found)
        written = _impact_diagram(map_config, version_id, graph, found, label, out) if diagram else []
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail_writing("diagram", error)
    partners.insert(2, "partner_name", partners["partner"].map({pid: p.name for pid, p in map_config.partners.items()}))
    by_direction = {d: found.services[found.services["direction"] == d] for d in ("upstream", "downstream")}
    if as_json:
        echo_json({"map_id": map_config.map_id, "version": version_id, "focus": label, "focus_service_ids": focus,
                   "hops": hops, "inflow": found.inflow, "outflow": found.outflow, "internal": found.internal,
                   **{d: records(rows) for d, rows in by_direction.items()},
                   "organisations": records(organisations), "partners": records(partners),
                   "diagram": [str(p) for p in written]})
        return
    lines = [f"Impact of a change to {label}, {plural(hops, 'hop')} ({map_config.map_id} {version_id}): flow in "
             f"{number(found.inflow)}, out {number(found.outflow)}"
             + (f", within {number(found.internal)}" if len(focus) > 1 else "")]
    lines += _ring_lines(by_direction)
    lines += _holder_lines(organisations, partners)
    lines += [f"Diagram: {p}" for p in written]
    typer.echo("\n".join(lines))


def _impact_diagram(map_config: MapConfig, version_id: str, graph: nx.DiGraph, found: Impact, label: str,
                    out: Path | None) -> list[Path]:
    from outputs.context import PosterOptions
    from outputs.poster import write_poster
    from transforms.analyses import impact_subgraph

    target = (out or DEFAULT_OUT / f"impact-{slug(label, 'focus')}").resolve()
    sub = impact_subgraph(graph, found)
    subtitle = (f"Services up to {plural(found.hops, 'step')} upstream (sending demand to it) and downstream "
                "(receiving demand from it), and every flow the impact tables count.")
    return write_poster(sub, lane_styles(map_config, sub), poster_info(map_config, version_id,
                                                                       f"Impact of a change: {label}"),
                        target, options=PosterOptions(min_flow_share=0.0, page="A2"), subtitle=subtitle)


def _ring_lines(by_direction: dict[str, pd.DataFrame]) -> list[str]:
    lines = []
    headings = {"upstream": "Upstream (who sends it demand)", "downstream": "Downstream (where its demand goes)"}
    for direction, rows in by_direction.items():
        lines.append(f"\n{headings[direction]}: {len(rows)} services")
        if len(rows):
            lines.append(f"  {'hop':>3} {'volume':>9} {'of ring':>8} {'of own':>7}  service [lane] (organisation)")
        for row in rows.itertuples(index=False):
            lines.append(f"  {row.hops:>3} {number(row.volume):>9} {share(row.share_of_ring):>8} "
                         f"{share(row.share_of_service):>7}  {row.name} [{row.lane}] ({row.organisation})")
    return lines


def _holder_lines(organisations: pd.DataFrame, partners: pd.DataFrame) -> list[str]:
    lines = ["\nOrganisations affected (by the volume of these flows reaching their services):"]
    for row in organisations.itertuples(index=False):
        lines.append(f"  {row.rank:>2}. {row.organisation} ({row.role}): {number(row.volume_touched)}, "
                     f"{share(row.share_of_touched)}")
    lines.append("Partners affected: " + ", ".join(
        f"{row.partner_name if isinstance(row.partner_name, str) else row.partner} ({number(row.volume_touched)})"
        for row in partners.itertuples(index=False)))
    return lines


def stakeholders(service: ServiceArg = None, config: ConfigArg = None, lane: LaneOpt = None, hops: HopsOpt = 1,
                 version: VersionOpt = "latest", publish_root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Organisations a change to SERVICE (or a --lane) touches, ranked by the flow reaching their services.

    Each comes with the contact details (email, phone, website) the source data carries."""
    from transforms.analyses import impact as impact_of
    from transforms.analyses import stakeholders as stakeholders_of

    try:
        service, path = focus_and_config(service, lane, config)
        map_config, version_id, tables, graph = opened_map(path, publish_root, version)
        focus, label = focus_services(service, lane, map_config, tables, graph)
        ranked = stakeholders_of(graph, impact_of(graph, focus, hops), tables["organisations"])
    except IsmError as error:
        fail(error)
    if as_json:
        echo_json({"map_id": map_config.map_id, "version": version_id, "focus": label, "hops": hops,
                   "stakeholders": records(ranked)})
        return
    lines = [f"Stakeholders of a change to {label}, {plural(hops, 'hop')} ({map_config.map_id} {version_id}), "
             "ranked by the volume of flow reaching their services:"]
    lines += [_stakeholder_line(row) for row in ranked.itertuples(index=False)]
    typer.echo("\n".join(lines))


def _stakeholder_line(row: Any) -> str:
    contact = " · ".join(v for v in (row.email, row.phone, row.website) if isinstance(v, str)) or \
        "no contact details in the data"
    return (f"  {row.rank:>2}. {row.organisation} [{row.sector}, {row.role}] {number(row.volume_touched)} "
            f"({share(row.share_of_touched)}), {plural(row.services, 'service')}: {contact}")
