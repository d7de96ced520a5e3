"""A Kumu blueprint (JSON import): elements with stable ids (the service ids), tagged with their sector, lane and
initiatives, connections between them, and the loops the analysis found (as `loops`, each naming its elements and
connections, and on each connection a `Loops` field, which Kumu imports as any other field)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from outputs.exports.records import ExportGraph
from outputs.json_text import records_text

ELEMENT_SPECIAL = {"name": "label", "lane_label": "type"}


@cache  # the same few field names on every element and connection
def field_title(name: str) -> str:
    """A Kumu field name: `activity_total` -> `Activity total`."""
    return name.replace("_", " ").capitalize()


def element_tags(values: dict[str, Any]) -> list[str]:
    """`sector: nhs`, `lane: Acute hospital`, `initiative: <name>` and `client group: <name>` tags."""
    tags = [f"sector: {values['sector']}"] if values.get("sector") else []
    tags += [f"lane: {values['lane_label']}"] if values.get("lane_label") else []
    tags += [f"initiative: {t}" for t in str(values.get("initiatives", "")).split(";") if t]
    tags += [f"client group: {t}" for t in str(values.get("client_groups", "")).split(";") if t]
    return tags


def connection_id(source: str, target: str) -> str:
    return f"flow:{source}:{target}"


def kumu_blueprint(export: ExportGraph) -> dict[str, Any]:
    """Elements (id, label, type = the lane, tags, description, then every attribute as a custom field), directed
    connections (id `flow:<from>:<to>`, unique across both) and loops."""
    elements = []
    for node in export.nodes:
        values = node.values
        element: dict[str, Any] = {"id": node.id, "label": values.get("name", node.id),
                                   "type": values.get("lane_label", ""),
                                   "description": f"{values.get('organisation', '')} ({values.get('sector', '')})",
                                   "tags": element_tags(values)}
        for name, value in values.items():
            if name not in ELEMENT_SPECIAL:
                element[field_title(name)] = value
        elements.append(element)
    on_loops: dict[str, list[str]] = {}
    for loop in export.loops:
        for member in loop.edges:
            on_loops.setdefault(member, []).append(loop.id)
    connections = []
    for edge in export.edges:
        connection: dict[str, Any] = {"id": connection_id(edge.source, edge.target), "from": edge.source,
                                      "to": edge.target, "direction": "directed",
                                      "type": edge.values.get("measure") or "flow"}
        for name, value in edge.values.items():
            if name != "measure":
                connection[field_title(name)] = value
        if edge.id in on_loops:
            connection["Loops"] = ";".join(on_loops[edge.id])
            connection["tags"] = [f"loop: {loop}" for loop in on_loops[edge.id]]
        connections.append(connection)
    loops = [{"id": loop.id, "label": loop.label, "elements": list(loop.services),
              "connections": [connection_id(u, v) for u, v in zip(loop.services, loop.services[1:] + loop.services[:1],
                                                                  strict=True)]}
             for loop in export.loops]
    return {"elements": elements, "connections": connections, "loops": loops}


def write_kumu(export: ExportGraph, path: Path) -> Path:
    path.write_text(records_text(kumu_blueprint(export)), encoding="utf-8")
    return path
