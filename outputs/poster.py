"""The ISM poster: lanes as columns in the configured order, services as boxes coloured by sector, flows with
width by volume. Rendered by Graphviz `dot` (through pygraphviz) with one cluster per lane."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pygraphviz as pgv

from outputs.context import LaneStyle, PublishedVersion

FONT = "DejaVu Sans"

DEFAULT_SECTOR_COLOURS = {
    "nhs": "#cfe2f3", "local_authority": "#d9ead3", "third_sector": "#fff2cc", "independent": "#f4cccc",
    "national": "#d9d2e9", "housing": "#fce5cd", "other": "#eeeeee",
}


@dataclass(frozen=True)
class PosterInfo:
    """What the poster says about itself: title, area, population lens, period, version, partners, licences."""

    title: str
    area: str
    population: str
    period: str
    version: str
    partners: Sequence[str] = ()
    attributions: Sequence[str] = ()
    sector_colours: dict[str, str] = field(default_factory=dict)


def _number(value: float) -> str:
    return f"{value:,.0f}"


def poster_graph(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo) -> pgv.AGraph:
    """The Graphviz graph of the poster (not yet laid out)."""
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    poster = pgv.AGraph(directed=True, strict=False, name="ism")
    poster.graph_attr.update(
        rankdir="LR", newrank="true", nodesep="0.15", ranksep="1.2", fontname=FONT, fontsize="28",
        labelloc="t", label=f"{info.title}\n{info.area} · {info.population} · {info.period} · version {info.version}",
        splines="true", outputorder="edgesfirst", pad="0.4",
    )
    poster.node_attr.update(shape="box", style="rounded,filled", fontname=FONT, fontsize="11",
                            penwidth="0.8", margin="0.12,0.06")
    poster.edge_attr.update(color="#55555588", arrowsize="0.6", fontname=FONT, fontsize="9")
    max_volume = max((d["volume"] for _, _, d in graph.edges(data=True)), default=1.0) or 1.0
    previous_anchor = None
    for lane in lanes:
        members = sorted((n for n, d in graph.nodes(data=True) if d.get("lane") == lane.id),
                         key=lambda n: (-graph.nodes[n]["activity_total"], graph.nodes[n]["name"]))
        anchor = f"lane::{lane.id}"
        cluster = poster.add_subgraph(name=f"cluster_{lane.id}", label=lane.label, style="filled,rounded",
                                      color=lane.colour, fillcolor=lane.colour + "33", fontsize="18",
                                      rank="same")
        cluster.add_node(anchor, label="", style="invis", width="0", height="0")
        for node in members:
            data = graph.nodes[node]
            activity = ", ".join(f"{_number(v)} {m.replace('_', ' ')}" for m, v in sorted(data["activity"].items()))
            label = html.escape(data["name"]) + (f"\n{activity}" if activity else "")
            cluster.add_node(node, label=label, fillcolor=colours.get(data.get("sector") or "other", "#eeeeee"),
                             tooltip=f"{data['name']} ({data.get('organisation') or ''})")
        if previous_anchor:
            poster.add_edge(previous_anchor, anchor, style="invis", weight="100")
        previous_anchor = anchor
    for source, target, data in graph.edges(data=True):
        share = data["volume"] / max_volume
        attributes = {"penwidth": f"{0.5 + 7.5 * share:.2f}"}
        if share >= 0.1:
            attributes["xlabel"] = _number(data["volume"])
        poster.add_edge(source, target, constraint="false", **attributes)
    legend = poster.add_subgraph(name="cluster_legend", label="Sectors", fontsize="14", style="rounded")
    for sector, colour in colours.items():
        legend.add_node(f"sector::{sector}", label=sector.replace("_", " "), fillcolor=colour, fontsize="10")
    footer = "Partners: " + ", ".join(info.partners)
    if info.attributions:
        footer += "\n" + "\n".join(info.attributions)
    poster.add_node("footer::note", label=footer, shape="plaintext", style="", fontsize="10")
    return poster


def write_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                 formats: Sequence[str] = ("svg",)) -> list[Path]:
    """Lay out once and write the poster in each format; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    poster = poster_graph(graph, lanes, info)
    poster.layout(prog="dot")
    written = []
    for fmt in formats:
        path = folder / f"poster.{fmt}"
        poster.draw(str(path), format=fmt)
        written.append(path)
    return written


def poster_artefact(version: PublishedVersion) -> list[Path]:
    """The whole-map poster of a version, in `diagrams/`."""
    info = PosterInfo(
        title=version.title, area=version.area_label, population=version.population,
        period=version.period_label, version=version.version_id, partners=list(version.partners.values()),
        attributions=list(version.attributions), sector_colours=version.sector_colours,
    )
    return write_poster(version.graph, version.lanes, info, version.folder / "diagrams")
