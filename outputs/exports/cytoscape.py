"""Cytoscape.js JSON (also read by Cytoscape desktop as .cyjs and by `networkx.cytoscape_graph` as a directed
graph): `{"directed": true, "elements": {"nodes": [...], "edges": [...]}}` with every attribute under `data`, each
lane a compound (parent) node holding its services, and the poster's positions under `position`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outputs.exports.records import ExportGraph
from outputs.json_text import records_text

LANE_PARENT = "lane::"


def cytoscape_document(export: ExportGraph) -> dict[str, Any]:
    lanes = {lane_id for lane_id, _, _ in export.lanes}
    nodes: list[dict[str, Any]] = [
        {"data": {"id": LANE_PARENT + lane_id, "value": LANE_PARENT + lane_id, "name": label, "lane": lane_id,
                  "lane_label": label, "colour": colour, "kind": "lane"}}
        for lane_id, label, colour in export.lanes
        if any(node.values.get("lane") == lane_id for node in export.nodes)]
    for node in export.nodes:
        parent = {"parent": LANE_PARENT + str(node.values["lane"])} if node.values.get("lane") in lanes else {}
        entry: dict[str, Any] = {"data": {"id": node.id, "value": node.id, "kind": "service", **parent,
                                          **node.values}}
        box = export.geometry.get(node.id)
        if box is not None:
            entry["position"] = {"x": round(box.x, 1), "y": round(box.y, 1)}
        nodes.append(entry)
    edges = [{"data": {"id": edge.id, "source": edge.source, "target": edge.target, **edge.values}}
             for edge in export.edges]
    return {"format_version": "1.0", "generated_by": "ism", "target_cytoscapejs_version": "~3",
            "directed": True, "multigraph": False, "data": {"name": export.title},
            "elements": {"nodes": nodes, "edges": edges}}


def write_cytoscape(export: ExportGraph, path: Path) -> Path:
    path.write_text(records_text(cytoscape_document(export)), encoding="utf-8")
    return path
