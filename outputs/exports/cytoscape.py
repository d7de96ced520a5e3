"""Cytoscape.js JSON (also read by Cytoscape desktop as .cyjs): `{"elements": {"nodes": [...], "edges": [...]}}`
with every attribute under `data` and the poster's positions under `position`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from outputs.exports.records import ExportGraph


def cytoscape_document(export: ExportGraph) -> dict[str, Any]:
    nodes = []
    for node in export.nodes:
        entry: dict[str, Any] = {"data": {"id": node.id, **node.values}}
        box = export.geometry.get(node.id)
        if box is not None:
            entry["position"] = {"x": round(box.x, 1), "y": round(box.y, 1)}
        nodes.append(entry)
    edges = [{"data": {"id": edge.id, "source": edge.source, "target": edge.target, **edge.values}}
             for edge in export.edges]
    return {"format_version": "1.0", "generated_by": "ism", "target_cytoscapejs_version": "~3",
            "data": {"name": export.title}, "elements": {"nodes": nodes, "edges": edges}}


def write_cytoscape(export: ExportGraph, path: Path) -> Path:
    path.write_text(json.dumps(cytoscape_document(export), indent=1, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path
