"""`ism render`: draw a poster of part of a published map (one lane, or the services around one service) or of the
whole map on another page size, from the version's tables. Nothing is written into the version itself."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from expectations.errors import ConfigError, IsmError
from flows.cli.common import (
    SERVICE_HELP,
    ConfigArg,
    HopsOpt,
    JsonOpt,
    RootOpt,
    VersionOpt,
    fail,
    fail_writing,
    map_store,
)
from flows.cli.present import echo_json, lane_styles, plural, poster_info, slug

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from flows.config import MapConfig
    from outputs.context import PosterOptions

LaneOpt = Annotated[str | None, typer.Option("--lane", help="Draw one lane (its id or its label).")]
ServiceOpt = Annotated[str | None, typer.Option("--service", help=f"Draw the services around one service. "
                                                                  f"{SERVICE_HELP}")]
NeighboursOpt = Annotated[bool, typer.Option(
    "--neighbours/--no-neighbours", help="With --lane: also the services outside it that it exchanges flows with.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder to write the poster into.")]
FormatOpt = Annotated[str, typer.Option("--format", help="Comma-separated formats: svg, png, pdf.")]
PageOpt = Annotated[str | None, typer.Option("--page", help="Page size A0..A4 (default: the map's [poster] page).")]
ShareOpt = Annotated[float | None, typer.Option(
    "--min-share", min=0.0, max=1.0, help="Hide flows under this share of all flow volume (default: the map's).")]
FORMATS = ("svg", "png", "pdf")
DEFAULT_OUT = Path("ism-render")


@dataclass
class Part:
    """The part of the map to draw, what it is, and the words and file name that say so."""

    graph: nx.DiGraph
    focus: dict[str, Any] = field(default_factory=dict)
    subtitle: str = ""
    stem: str = "map"
    highlight: list[str] = field(default_factory=list)


def chosen_formats(formats: str) -> list[str]:
    """The formats a comma-separated --format names; ConfigError for an unknown one."""
    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    if set(chosen) - set(FORMATS) or not chosen:
        raise ConfigError(f"--format {formats!r}: use one or more of {', '.join(FORMATS)}, comma-separated")
    return chosen


def map_part(map_config: MapConfig, graph: nx.DiGraph, services: pd.DataFrame, lane: str | None,
             service: str | None, hops: int, neighbours: bool) -> Part:
    """The lane, the services around a service, or the whole map (the one lookup of transforms/lookup)."""
    from transforms.focus import ego_subgraph, lane_subgraph
    from transforms.lookup import resolved_lane, resolved_service

    if lane is not None:
        lane_id = resolved_lane(lane, {item.id: item.label for item in map_config.lanes})
        label = next(item.label for item in map_config.lanes if item.id == lane_id)
        return Part(lane_subgraph(graph, lane_id, neighbours), {"lane": lane_id, "neighbours": neighbours},
                    f"Lane: {label}" + (" and the services it exchanges flows with" if neighbours else ""),
                    f"lane-{slug(lane_id)}")
    if service is not None:
        sid = resolved_service(service, services)
        name = str(graph.nodes[sid].get("name") or sid)
        return Part(ego_subgraph(graph, sid, hops), {"service_id": sid, "name": name, "hops": hops},
                    f"{name} and the services within {plural(hops, 'step')} of flows", f"service-{slug(name)}-{hops}",
                    [sid])
    return Part(graph)


def poster_options(map_config: MapConfig, page: str | None, min_share: float | None) -> PosterOptions:
    """The map's [poster] settings with --page and --min-share applied."""
    from outputs.context import PosterOptions
    from outputs.poster import PAGES_INCHES

    options = PosterOptions(**map_config.poster.model_dump())
    if page is not None:
        if page.upper() not in PAGES_INCHES:
            raise ConfigError(f"--page {page!r}: use one of {', '.join(PAGES_INCHES)}")
        options = replace(options, page=page.upper())
    return options if min_share is None else replace(options, min_flow_share=min_share)


def render(
    config: ConfigArg = None, lane: LaneOpt = None, service: ServiceOpt = None, hops: HopsOpt = 1,
    neighbours: NeighboursOpt = False, version: VersionOpt = "latest", publish_root: RootOpt = None,
    out: OutOpt = DEFAULT_OUT, formats: FormatOpt = "svg,png,pdf", page: PageOpt = None,
    min_share: ShareOpt = None, as_json: JsonOpt = False,
) -> None:
    """Draw a poster of one lane (--lane), of the services within --hops steps of one service (--service), or of
    the whole map, from a published version. Prints the paths written."""
    from flows.analysis import graph_of, opened_version, version_tables
    from outputs.poster import render_poster, suppressions

    try:
        chosen = chosen_formats(formats)
        if lane is not None and service is not None:
            raise ConfigError("name --lane or --service, not both")
        map_config, store = map_store(config, publish_root)
        options = poster_options(map_config, page, min_share)
        opened = opened_version(store, version)
        tables = version_tables(opened)
        part = map_part(map_config, graph_of(tables), tables["services"], lane, service, hops, neighbours)
        licences = [str(item.get("title") or item.get("name")) for item in opened.datapackage.get("licenses", [])]
        result = render_poster(part.graph, lane_styles(map_config, part.graph if part.focus else None),
                               poster_info(map_config, opened.version_id, map_config.title, licences), out.resolve(),
                               chosen, options, suppressions(tables["activity"], tables["flows"]),
                               f"{map_config.map_id}-{opened.version_id}-{part.stem}", part.subtitle, part.highlight)
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail_writing("poster", error)
    if as_json:
        echo_json({"map_id": map_config.map_id, "version": opened.version_id, "focus": part.focus,
                   "services": part.graph.number_of_nodes(), "flows": part.graph.number_of_edges(),
                   "layout": result.method, "page": options.page, "paths": [str(p) for p in result.paths],
                   "seconds": {k: round(v, 3) for k, v in result.seconds.items()}})
        return
    typer.echo(f"{plural(part.graph.number_of_nodes(), 'service')}, {plural(part.graph.number_of_edges(), 'flow')}; "
               f"layout: {result.method}", err=True)
    for path in result.paths:
        typer.echo(path)

