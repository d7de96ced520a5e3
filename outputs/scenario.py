"""A to-be scenario on disk: the to-be tables, the changes table, the to-be poster and a diff poster where added,
removed and changed services and flows carry distinct marks (green, red dashed, amber) with a legend."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from outputs.analysis import write_table
from outputs.context import LaneStyle, PosterOptions
from outputs.poster import PosterInfo, PosterLayout, draw_posters, poster_layout, write_poster

MARKS: dict[str, dict[str, str]] = {
    "added": {"color": "#2e7d32", "penwidth": "6", "style": "rounded,filled,bold"},
    "removed": {"color": "#c62828", "penwidth": "6", "style": "rounded,filled,dashed"},
    "changed": {"color": "#ef8f00", "penwidth": "6", "style": "rounded,filled,bold"},
}
EDGE_MARKS: dict[str, dict[str, str]] = {
    "added": {"color": "#2e7d32"},
    "removed": {"color": "#c62828", "style": "dashed"},
    "changed": {"color": "#ef8f00"},
}
LEGEND = {"added": "added", "removed": "removed (dashed)", "changed": "changed"}
# Every flow of the changed part is drawn (a removed flow may be small), and the poster is a page of its own.
DIFF_OPTIONS = PosterOptions(min_flow_share=0.0, page="A2")
DIFF_SUBTITLE = ("The services and flows the change-set touches. Borders and flows: green added, red dashed "
                 "removed, amber changed; grey unchanged.")


def marked_layout(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo) -> PosterLayout:
    """The poster of a diff graph (`transforms.diff.diff_graph`) laid out, each service and flow marked by its
    `change`, with a legend in the top right corner."""
    used = {lane for _, lane in graph.nodes(data="lane")}
    layout = poster_layout(graph, [lane for lane in lanes if lane.id in used], info, DIFF_OPTIONS,
                           subtitle=DIFF_SUBTITLE)
    agraph = layout.agraph
    for node in agraph.nodes():
        if str(node) in graph and graph.nodes[str(node)].get("change") in MARKS:
            node.attr.update(MARKS[graph.nodes[str(node)]["change"]])
    for edge in agraph.edges():
        pair = (str(edge[0]), str(edge[1]))
        if graph.has_edge(*pair) and graph.edges[pair].get("change") in EDGE_MARKS:
            edge.attr.update(EDGE_MARKS[graph.edges[pair]["change"]])
    x0, y0, x1, y1 = (float(v) for v in agraph.graph_attr["bb"].split(","))
    for row, (change, label) in enumerate(LEGEND.items()):
        agraph.add_node(f"legend::{change}", label=label, shape="box", fillcolor="#ffffff", fontsize="20",
                        width="2.6", height="0.6", pos=f"{x1 - 120:.2f},{y1 - 60 - row * 60:.2f}", **MARKS[change])
    return layout


def write_diff_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                      formats: Sequence[str] = ("svg",)) -> list[Path]:
    """Lay out once and write `diff.<format>` for each format."""
    folder.mkdir(parents=True, exist_ok=True)
    layout = marked_layout(graph, lanes, info)
    return draw_posters(layout, {fmt: folder / f"diff.{fmt}" for fmt in formats}, DIFF_OPTIONS)


def write_scenario(folder: Path, tables: Mapping[str, pd.DataFrame], changes: pd.DataFrame, to_be: nx.DiGraph,
                   diff: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                   summary: Mapping[str, Any]) -> list[Path]:
    """`folder/`: the to-be tables (Parquet and CSV), changes.*, poster.svg (the to-be map), diff.svg (`diff`:
    the changed part of the map, see `transforms.diff.changed_part`) and scenario.json (what was applied to
    which version, and the change counts)."""
    written: list[Path] = []
    for name, frame in tables.items():
        written += write_table(folder / "to_be", name, frame)
    written += write_table(folder, "changes", changes)
    written += write_poster(to_be, lanes, info, folder)
    written += write_diff_poster(diff, lanes, info, folder)
    path = folder / "scenario.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return [*written, path]
