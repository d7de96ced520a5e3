"""`ism render`: draw a poster of part of a published map (one lane, or the services around one service) or of the
whole map on another page size, from the version's tables. Nothing is written into the version itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from expectations.errors import ConfigError, IsmError
from flows.cli_common import DEMO_CONFIG, ConfigArg, JsonOpt, RootOpt, fail, map_store

LaneOpt = Annotated[str | None, typer.Option("--lane", help="Draw one lane (its id or its label).")]
ServiceOpt = Annotated[str | None, typer.Option(
    "--service", help="Draw the services around one service: its service_id or its name (case-insensitive).")]
HopsOpt = Annotated[int, typer.Option("--hops", min=0, max=10, help="With --service: how many steps of flows.")]
NeighboursOpt = Annotated[bool, typer.Option(
    "--neighbours/--no-neighbours", help="With --lane: also the services outside it that it exchanges flows with.")]
VersionOpt = Annotated[str, typer.Option(
    "--version", help="The published version: latest, an id such as v0003, or a date YYYY-MM-DD.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder to write the poster into.")]
FormatOpt = Annotated[str, typer.Option("--format", help="Comma-separated formats: svg, png, pdf.")]
PageOpt = Annotated[str | None, typer.Option("--page", help="Page size A0..A4 (default: the map's [poster] page).")]
ShareOpt = Annotated[float | None, typer.Option(
    "--min-share", min=0.0, max=1.0, help="Hide flows under this share of all flow volume (default: the map's).")]
FORMATS = ("svg", "png", "pdf")
DEFAULT_OUT = Path("ism-render")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "map"


def _lane_id(text: str, lanes: dict[str, str]) -> str:
    """The lane an id or label names (case-insensitive)."""
    wanted = text.strip().casefold()
    for lane_id, label in lanes.items():
        if wanted in (lane_id.casefold(), label.casefold()):
            return lane_id
    listed = ", ".join(f"{lane_id} ({label})" for lane_id, label in lanes.items())
    raise ConfigError(f"no lane {text!r} in this map; lanes: {listed}")


def render(
    config: ConfigArg = DEMO_CONFIG, lane: LaneOpt = None, service: ServiceOpt = None, hops: HopsOpt = 1,
    neighbours: NeighboursOpt = False, version: VersionOpt = "latest", publish_root: RootOpt = None,
    out: OutOpt = DEFAULT_OUT, formats: FormatOpt = "svg,png,pdf", page: PageOpt = None,
    min_share: ShareOpt = None, as_json: JsonOpt = False,
) -> None:
    """Draw a poster of one lane (--lane), of the services within --hops steps of one service (--service), or of
    the whole map, from a published version. Prints the paths written."""
    from dataclasses import replace

    from flows.analysis import graph_of, opened_version, version_tables
    from outputs.context import LaneStyle, PosterOptions
    from outputs.poster import PAGES_INCHES, PosterInfo, render_poster, suppressions
    from transforms.focus import FocusError, ego_subgraph, lane_subgraph, resolved_service

    try:
        chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
        unknown = sorted(set(chosen) - set(FORMATS))
        if unknown or not chosen:
            raise ConfigError(f"--format {formats!r}: use one or more of {', '.join(FORMATS)}, comma-separated")
        if lane is not None and service is not None:
            raise ConfigError("name --lane or --service, not both")
        if page is not None and page.upper() not in PAGES_INCHES:
            raise ConfigError(f"--page {page!r}: use one of {', '.join(PAGES_INCHES)}")
        map_config, store = map_store(config, publish_root)
        opened = opened_version(store, version)
        tables = version_tables(opened)
        graph = graph_of(tables)
        lanes = [LaneStyle(item.id, item.label, item.colour) for item in map_config.lanes]
        highlight: list[str] = []
        if lane is not None:
            lane_id = _lane_id(lane, {item.id: item.label for item in map_config.lanes})
            part = lane_subgraph(graph, lane_id, neighbours)
            label = next(item.label for item in map_config.lanes if item.id == lane_id)
            focus = {"lane": lane_id, "neighbours": neighbours}
            subtitle = f"Lane: {label}" + (" and the services it exchanges flows with" if neighbours else "")
            stem = f"lane-{_slug(lane_id)}"
        elif service is not None:
            sid = resolved_service(graph, service)
            part = ego_subgraph(graph, sid, hops)
            name = str(graph.nodes[sid].get("name") or sid)
            focus = {"service_id": sid, "name": name, "hops": hops}
            subtitle = f"{name} and the services within {hops} step{'s' if hops != 1 else ''} of flows"
            stem = f"service-{_slug(name)}-{hops}"
            highlight = [sid]
        else:
            part, focus, subtitle, stem = graph, {}, "", "map"
        used = {data.get("lane") for _, data in part.nodes(data=True)}
        shown_lanes = [item for item in lanes if item.id in used] if focus else lanes
        options = PosterOptions(**map_config.poster.model_dump())
        if page is not None:
            options = replace(options, page=page.upper())
        if min_share is not None:
            options = replace(options, min_flow_share=min_share)
        licences = [str(item.get("title") or item.get("name")) for item in opened.datapackage.get("licenses", [])]
        info = PosterInfo(
            title=map_config.title, area=f"{map_config.area.name} ({map_config.area.code})",
            population=map_config.population, period=f"{map_config.period.start} to {map_config.period.end}",
            version=opened.version_id, partners=[p.name for p in map_config.partners.values()],
            attributions=sorted({s.attribution for s in map_config.sources if s.attribution}),
            sector_colours=dict(map_config.sectors), licences=licences)
        result = render_poster(part, shown_lanes, info, out.resolve(), chosen, options,
                               suppressions(tables["activity"], tables["flows"]),
                               f"{map_config.map_id}-{opened.version_id}-{stem}", subtitle, highlight)
    except FocusError as error:
        fail(ConfigError(str(error)))  # a lane or service the map does not have: a usage error
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail(IsmError(f"cannot write the poster: {error}"))
    if as_json:
        typer.echo(json.dumps({
            "map_id": map_config.map_id, "version": opened.version_id, "focus": focus,
            "services": part.number_of_nodes(), "flows": part.number_of_edges(), "layout": result.method,
            "page": options.page, "paths": [str(p) for p in result.paths],
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()}}, indent=2))
        return
    typer.echo(f"{part.number_of_nodes()} services, {part.number_of_edges()} flows; layout: {result.method}",
               err=True)
    for path in result.paths:
        typer.echo(path)
