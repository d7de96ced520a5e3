"""The map as flat, typed records for the export formats: one type per attribute, no None, dicts flattened (e.g.
activity per measure as `activity_<measure>` numbers). A value that is not known (a measure a service does not
report, a volume every month of which is suppressed) is left out of that record, never written as 0 or null."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from outputs.context import LaneStyle
from outputs.poster import (
    DEFAULT_SECTOR_COLOURS,
    PosterLayout,
    Suppressions,
    clean_text,
    poster_lanes,
    sources_by_flow,
    text_colour,
)

STRING, DOUBLE, INTEGER, BOOLEAN = "string", "double", "integer", "boolean"


@dataclass(frozen=True)
class Record:
    id: str
    values: dict[str, Any]


@dataclass(frozen=True)
class EdgeRecord:
    id: str
    source: str
    target: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Geometry:
    """A service's box on the poster: centre and size in points, y downwards."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ExportGraph:
    """Nodes and edges with typed fields (name -> STRING | DOUBLE | INTEGER | BOOLEAN), in a stable order."""

    title: str
    node_fields: dict[str, str]
    nodes: list[Record]
    edge_fields: dict[str, str]
    edges: list[EdgeRecord]
    geometry: dict[str, Geometry]
    colours: dict[str, str]  # node id -> fill colour (#rrggbb)
    text_colours: dict[str, str]
    labelled: set[str]  # edge ids whose volume the poster writes


NODE_TEXT = ("name", "lane", "lane_label", "organisation", "organisation_id", "sector", "partner", "client_groups",
             "locality", "setting", "status", "external_ids", "source_ids", "initiatives", "suppressed_measures",
             "colour")
NODE_NUMBERS = ("activity_total", "in_volume", "out_volume")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, list | tuple | set):
        return LIST_SEPARATOR.join(clean_text(v) for v in value)
    return clean_text(value)


def edge_id(source: str, target: str) -> str:
    return f"{source}->{target}"


def export_graph(graph: nx.DiGraph, lanes: Sequence[LaneStyle], title: str, sector_colours: Mapping[str, str],
                 services: pd.DataFrame | None = None, flows: pd.DataFrame | None = None,
                 suppressed: Suppressions | None = None, layout: PosterLayout | None = None) -> ExportGraph:
    """The normalised records of every service and flow (flows whose every value is suppressed included, with
    `suppressed` true and no volume)."""
    suppressed = suppressed or Suppressions()
    colours = {**DEFAULT_SECTOR_COLOURS, **sector_colours}
    lane_labels = {lane.id: lane.label for lane in poster_lanes(graph, lanes)}
    rows = (dict(zip(services["service_id"], services.to_dict("records"), strict=True))
            if services is not None and len(services) else {})
    measures = sorted({m for _, d in graph.nodes(data=True) for m in (d.get("activity") or {})})
    flow_measures = sorted({m for _, _, d in graph.edges(data=True) for m in (d.get("measures") or {})})
    node_fields = {**dict.fromkeys(NODE_TEXT, STRING), **dict.fromkeys(NODE_NUMBERS, DOUBLE),
                   "initiative_count": INTEGER, **{f"activity_{m}": DOUBLE for m in measures}}
    nodes, fills, texts = [], {}, {}
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        row = rows.get(node)
        fill = colours.get(str(data.get("sector") or "other"), DEFAULT_SECTOR_COLOURS["other"])
        fills[node], texts[node] = fill, text_colour(fill)
        values: dict[str, Any] = {
            "name": _text(data.get("name") or node), "lane": _text(data.get("lane")),
            "lane_label": _text(lane_labels.get(str(data.get("lane")), data.get("lane"))),
            "organisation": _text(data.get("organisation")), "organisation_id": _text(data.get("organisation_id")),
            "sector": _text(data.get("sector")), "partner": _text(data.get("partner")),
            "client_groups": _text(None if row is None else row.get("client_groups")),
            "locality": _text(None if row is None else row.get("locality")),
            "setting": _text(None if row is None else row.get("setting")),
            "status": _text(None if row is None else row.get("status")),
            "external_ids": _text(None if row is None else row.get("external_ids")),
            "source_ids": _text(None if row is None else row.get("source_ids")),
            "initiatives": _text(sorted(data.get("initiatives") or [])),
            "suppressed_measures": _text(sorted(suppressed.activity.get(node, {}))),
            "colour": fill,
            "activity_total": float(data.get("activity_total") or 0.0),
            "in_volume": float(data.get("in_volume") or 0.0), "out_volume": float(data.get("out_volume") or 0.0),
            "initiative_count": len(data.get("initiatives") or []),
        }
        for measure, total in (data.get("activity") or {}).items():
            values[f"activity_{measure}"] = float(total)
        nodes.append(Record(str(node), values))

    edge_fields = {"volume": DOUBLE, "months": INTEGER, "measure": STRING, "qualifiers": STRING,
                   "source_ids": STRING, "suppressed": BOOLEAN, "on_poster": BOOLEAN,
                   **{f"flow_{m}": DOUBLE for m in flow_measures}}
    sources = {pair: LIST_SEPARATOR.join(sorted(found)) for pair, found in sources_by_flow(flows).items()}
    drawn = set(layout.selection.shown) if layout is not None else set()
    labelled = layout.selection.labelled if layout is not None else set()
    edges = []
    for u, v in sorted(graph.edges):
        data = graph.edges[u, v]
        by_measure = dict(data.get("measures") or {})
        values = {"volume": float(data.get("volume") or 0.0), "months": int(data.get("months") or 0),
                  "measure": max(by_measure, key=lambda m: (by_measure[m], m)) if by_measure else "",
                  "qualifiers": _text(sorted(data.get("qualifiers") or [])), "source_ids": sources.get((u, v), ""),
                  "suppressed": False, "on_poster": (u, v) in drawn}
        values.update({f"flow_{m}": float(x) for m, x in by_measure.items()})
        edges.append(EdgeRecord(edge_id(u, v), str(u), str(v), values))
    for u, v in sorted(suppressed.flows):
        if u in graph and v in graph and not graph.has_edge(u, v):
            edges.append(EdgeRecord(edge_id(u, v), u, v, {
                "months": 0, "measure": "", "qualifiers": "c", "source_ids": sources.get((u, v), ""),
                "suppressed": True, "on_poster": layout is not None and layout.suppressed_drawn}))
    geometry = {}
    if layout is not None:
        for node, (x, y, width, height) in layout.node_boxes().items():
            geometry[node] = Geometry(x, y, width, height)
    return ExportGraph(title, node_fields, nodes, edge_fields, edges, geometry, fills, texts,
                       {edge_id(u, v) for u, v in labelled})
