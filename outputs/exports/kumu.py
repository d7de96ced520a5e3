"""A Kumu blueprint (JSON import): elements with stable ids (the service ids) and connections between them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from outputs.exports.records import ExportGraph

ELEMENT_SPECIAL = {"name": "label", "lane_label": "type"}


@cache  # the same few field names on every element and connection
def field_title(name: str) -> str:
    """A Kumu field name: `activity_total` -> `Activity total`."""
    return name.replace("_", " ").capitalize()


def kumu_blueprint(export: ExportGraph) -> dict[str, Any]:
    """Elements (id, label, type = the lane, tags = client groups and initiatives, description, then every
    attribute as a custom field) and directed connections (id `flow:<from>:<to>`, unique across both)."""
    elements = []
    for node in export.nodes:
        values = node.values
        element: dict[str, Any] = {"id": node.id, "label": values.get("name", node.id),
                                   "type": values.get("lane_label", ""),
                                   "description": f"{values.get('organisation', '')} ({values.get('sector', '')})",
                                   "tags": [t for t in (str(values.get("client_groups", "")).split(";")
                                                        + str(values.get("initiatives", "")).split(";")) if t]}
        for name, value in values.items():
            if name not in ELEMENT_SPECIAL:
                element[field_title(name)] = value
        elements.append(element)
    connections = []
    for edge in export.edges:
        connection: dict[str, Any] = {"id": f"flow:{edge.source}:{edge.target}", "from": edge.source,
                                      "to": edge.target, "direction": "directed",
                                      "type": edge.values.get("measure") or "flow"}
        for name, value in edge.values.items():
            if name != "measure":
                connection[field_title(name)] = value
        connections.append(connection)
    return {"elements": elements, "connections": connections}


def write_kumu(export: ExportGraph, path: Path) -> Path:
    path.write_text(json.dumps(kumu_blueprint(export), indent=1, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path
