"""The map as flat, typed records for the export formats: one type per attribute, no None, dicts flattened (e.g.
activity per measure as `activity_<measure>` numbers, flows in and out as `in_<measure>` and `out_<measure>`).
Unlike measures are never added: there is no total across measures. Each period figure follows its measure's kind
(the graph's totals, transforms/totals.py) and, where it misses suppressed months, says how many in a separate
integer attribute `<measure>_suppressed_months` (on the service, or on the flow). A value that is not known (a
measure a service does not report, a volume every month of which is suppressed) is left out of that record, never
written as 0 or null. Flows also carry their values per month (for timelines), and the loops the analysis found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from outputs.context import FLOW_TOTALS, LaneStyle
from outputs.poster import (
    DEFAULT_SECTOR_COLOURS,
    PosterLayout,
    Suppressions,
    clean_text,
    monthly_flows,
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
    lanes: list[tuple[str, str, str]] = field(default_factory=list)  # (lane id, label, colour) in poster order
    monthly: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # edge id -> month -> measure
    loops: list[Loop] = field(default_factory=list)
    lane_boxes: dict[str, Geometry] = field(default_factory=dict)


@dataclass(frozen=True)
class Loop:
    """A loop of flows the analysis found: its number, the services in order, and its flows' edge ids."""

    id: str
    label: str
    services: tuple[str, ...]
    edges: tuple[str, ...]


NODE_TEXT = ("name", "lane", "lane_label", "organisation", "organisation_id", "sector", "partner", "client_groups",
             "locality", "setting", "status", "external_ids", "source_ids", "initiatives", "suppressed_measures",
             "colour")


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
                 suppressed: Suppressions | None = None, layout: PosterLayout | None = None,
                 loops: pd.DataFrame | None = None) -> ExportGraph:
    """The normalised records of every service and flow (flows whose every value is suppressed included, with
    `suppressed` true and no volume)."""
    suppressed = suppressed or Suppressions()
    colours = {**DEFAULT_SECTOR_COLOURS, **sector_colours}
    lane_labels = {lane.id: lane.label for lane in poster_lanes(graph, lanes)}
    rows = (dict(zip(services["service_id"], services.to_dict("records"), strict=True))
            if services is not None and len(services) else {})
    measures = sorted({m for _, d in graph.nodes(data=True) for m in (d.get("activity") or {})})
    flow_measures = sorted({m for _, _, d in graph.edges(data=True) for m in (d.get("measures") or {})})
    node_withheld = _suppressed_months(d.get("totals") for _, d in graph.nodes(data=True))
    edge_withheld = _suppressed_months([*(d.get("totals") for _, _, d in graph.edges(data=True)),
                                        *(graph.graph.get(FLOW_TOTALS) or {}).values()])
    node_fields = {**dict.fromkeys(NODE_TEXT, STRING), "initiative_count": INTEGER,
                   **{f"activity_{m}": DOUBLE for m in measures},
                   **{f"{m}_suppressed_months": INTEGER for m in node_withheld},
                   **{f"{way}_{m}": DOUBLE for way in ("in", "out") for m in flow_measures}}
    flowing = _flows_per_measure(graph)
    nodes, fills, texts = [], {}, {}
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        fill = colours.get(str(data.get("sector") or "other"), DEFAULT_SECTOR_COLOURS["other"])
        fills[node], texts[node] = fill, text_colour(fill)
        values = _node_values(node, data, rows.get(node), lane_labels, suppressed, fill)
        values.update(flowing.get(str(node), {}))
        nodes.append(Record(str(node), values))

    edge_fields = {"volume": DOUBLE, "months": INTEGER, "measure": STRING, "qualifiers": STRING,
                   "source_ids": STRING, "suppressed": BOOLEAN, "on_poster": BOOLEAN,
                   **{f"flow_{m}": DOUBLE for m in flow_measures},
                   **{f"{m}_suppressed_months": INTEGER for m in edge_withheld}}
    sources = {pair: LIST_SEPARATOR.join(sorted(found)) for pair, found in sources_by_flow(flows).items()}
    totals: dict[str, float] = {}
    for _, _, data in graph.edges(data=True):
        for measure, value in (data.get("measures") or {}).items():
            totals[measure] = totals.get(measure, 0.0) + float(value)
    drawn = set(layout.selection.shown) if layout is not None else set()
    labelled = layout.selection.labelled if layout is not None else set()
    edges = []
    for u, v in sorted(graph.edges):
        data = graph.edges[u, v]
        by_measure = dict(data.get("measures") or {})
        main = max(sorted(by_measure), key=lambda m: by_measure[m] / totals[m] if totals.get(m) else 0.0) \
            if by_measure else ""
        values = {"volume": float(by_measure.get(main, 0.0)), "months": int(data.get("months") or 0),
                  "measure": main,
                  "qualifiers": _text(sorted(data.get("qualifiers") or [])), "source_ids": sources.get((u, v), ""),
                  "suppressed": False, "on_poster": (u, v) in drawn}
        values.update({f"flow_{m}": float(x) for m, x in by_measure.items()})
        values.update(_withheld_values(data.get("totals")))
        edges.append(EdgeRecord(edge_id(u, v), str(u), str(v), values))
    for u, v in sorted(suppressed.flows):
        if u in graph and v in graph and not graph.has_edge(u, v):
            edges.append(EdgeRecord(edge_id(u, v), u, v, {
                "months": 0, "measure": "", "qualifiers": "c", "source_ids": sources.get((u, v), ""),
                "suppressed": True, "on_poster": layout is not None and layout.suppressed_drawn,
                **_withheld_values((graph.graph.get(FLOW_TOTALS) or {}).get((u, v)))}))
    geometry, lane_boxes = {}, {}
    if layout is not None:
        for node, (x, y, width, height) in layout.node_boxes().items():
            geometry[node] = Geometry(x, y, width, height)
        for lane, (left, top, width, height) in layout.lane_boxes().items():
            lane_boxes[lane] = Geometry(left + width / 2, top + height / 2, width, height)
    return ExportGraph(title, node_fields, nodes, edge_fields, edges, geometry, fills, texts,
                       {edge_id(u, v) for u, v in labelled},
                       [(lane.id, clean_text(lane.label), lane.colour) for lane in poster_lanes(graph, lanes)],
                       monthly_values(flows), export_loops(loops), lane_boxes)


def _node_values(node: str, data: Mapping[str, Any], row: Mapping[str, Any] | None, lane_labels: Mapping[str, str],
                 suppressed: Suppressions, fill: str) -> dict[str, Any]:
    """A service's text fields, its activity per measure and the suppressed months of each figure."""
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
        "colour": fill, "initiative_count": len(data.get("initiatives") or []),
    }
    for measure, total in (data.get("activity") or {}).items():
        values[f"activity_{measure}"] = float(total)
    values.update(_withheld_values(data.get("totals")))
    return values


def _suppressed_months(totals: Iterable[Sequence[Mapping[str, Any]] | None]) -> list[str]:
    """The measures that miss suppressed months somewhere in `totals` (records of transforms/totals.py), sorted."""
    return sorted({str(r["measure"]) for records in totals for r in records or [] if r["suppressed_months"]})


def _withheld_values(totals: Sequence[Mapping[str, Any]] | None) -> dict[str, int]:
    """`<measure>_suppressed_months` of each figure that misses suppressed months."""
    return {f"{r['measure']}_suppressed_months": int(r["suppressed_months"]) for r in totals or []
            if r["suppressed_months"]}


def _flows_per_measure(graph: nx.DiGraph) -> dict[str, dict[str, float]]:
    """Service -> `in_<measure>` / `out_<measure>` -> its flows in and out, one measure at a time."""
    found: dict[str, dict[str, float]] = {}
    for u, v, data in graph.edges(data=True):
        for measure, value in (data.get("measures") or {}).items():
            for node, way in ((str(u), "out"), (str(v), "in")):
                key = f"{way}_{measure}"
                found.setdefault(node, {})[key] = found.get(node, {}).get(key, 0.0) + float(value)
    return found


def monthly_values(flows: pd.DataFrame | None) -> dict[str, dict[str, dict[str, float]]]:
    """Edge id -> month (YYYY-MM) -> measure -> known volume."""
    return {edge_id(source, target): months for (source, target), months in monthly_flows(flows).items()}


def export_loops(loops: pd.DataFrame | None) -> list[Loop]:
    """The analysis's loops table (transforms/analyses.demand_loops) as loops of edge ids."""
    if loops is None or not len(loops):
        return []
    found = []
    for row in loops.itertuples(index=False):
        cycle = tuple(str(row.service_ids).split(LIST_SEPARATOR))
        edges = tuple(edge_id(u, v) for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True))
        found.append(Loop(f"loop:{row.loop}", f"Loop {row.loop}: {clean_text(row.services)}", cycle, edges))
    return found
