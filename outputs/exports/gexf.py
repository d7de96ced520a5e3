"""GEXF 1.3 for Gephi: typed attributes, and viz colours, positions (as on the poster) and edge thickness."""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from outputs.exports.records import BOOLEAN, DOUBLE, INTEGER, STRING, ExportGraph

GEXF_TYPES = {STRING: "string", DOUBLE: "double", INTEGER: "integer", BOOLEAN: "boolean"}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _rgb(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f'r="{red}" g="{green}" b="{blue}" a="1.0"'


def gexf_text(export: ExportGraph) -> str:
    """The GEXF 1.3 document."""
    volumes = [float(e.values["volume"]) for e in export.edges if "volume" in e.values]
    top = max(volumes, default=0.0) or 1.0
    busiest = max((float(n.values.get("activity_total") or 0.0) for n in export.nodes), default=0.0) or 1.0
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">',
           f"  <meta><creator>ism</creator><description>{escape(export.title)}</description></meta>",
           '  <graph defaultedgetype="directed" mode="static">',
           '    <attributes class="node">']
    for name, kind in export.node_fields.items():
        out.append(f'      <attribute id="{name}" title="{name}" type="{GEXF_TYPES[kind]}"/>')
    out += ["    </attributes>", '    <attributes class="edge">']
    for name, kind in export.edge_fields.items():
        out.append(f'      <attribute id="{name}" title="{name}" type="{GEXF_TYPES[kind]}"/>')
    out += ["    </attributes>", "    <nodes>"]
    for node in export.nodes:
        out.append(f"      <node id={quoteattr(node.id)} label={quoteattr(str(node.values.get('name', node.id)))}>")
        out.append("        <attvalues>")
        for name, value in node.values.items():
            out.append(f"          <attvalue for=\"{name}\" value={quoteattr(_value(value))}/>")
        out.append("        </attvalues>")
        out.append(f"        <viz:color {_rgb(export.colours.get(node.id, '#eeeeee'))}/>")
        box = export.geometry.get(node.id)
        if box is not None:  # Gephi's y axis points up
            out.append(f'        <viz:position x="{box.x:.1f}" y="{-box.y:.1f}" z="0.0"/>')
        size = 10.0 + 40.0 * math.sqrt(float(node.values.get("activity_total") or 0.0) / busiest)
        out.append(f'        <viz:size value="{size:.1f}"/>')
        out.append("      </node>")
    out += ["    </nodes>", "    <edges>"]
    for edge in export.edges:
        volume = edge.values.get("volume")
        weight = f' weight="{float(volume)!r}"' if volume is not None else ""
        out.append(f"      <edge id={quoteattr(edge.id)} source={quoteattr(edge.source)} "
                   f"target={quoteattr(edge.target)}{weight}>")
        out.append("        <attvalues>")
        for name, value in edge.values.items():
            out.append(f"          <attvalue for=\"{name}\" value={quoteattr(_value(value))}/>")
        out.append("        </attvalues>")
        thickness = 1.0 + 9.0 * float(volume) / top if volume is not None else 1.0
        out.append(f'        <viz:color r="85" g="85" b="85" a="0.8"/><viz:thickness value="{thickness:.2f}"/>')
        out.append("      </edge>")
    out += ["    </edges>", "  </graph>", "</gexf>"]
    return "\n".join(out) + "\n"


def write_gexf(export: ExportGraph, path: Path) -> Path:
    path.write_text(gexf_text(export), encoding="utf-8")
    return path
