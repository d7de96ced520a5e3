"""GEXF 1.3 for Gephi: typed attributes, viz colours, positions (as on the poster) and edge thickness, and a
dynamic graph: each flow lives in the months it has a known value (spells) and carries its value per month and
measure (dynamic attributes), so Gephi's timeline plays the map month by month."""

from __future__ import annotations

import calendar
import functools
import math
from pathlib import Path

from outputs.exports.records import BOOLEAN, DOUBLE, INTEGER, STRING, ExportGraph
from outputs.exports.xml_text import attribute, content

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


@functools.cache  # a national map asks for the same few months hundreds of thousands of times
def month_span(month: str) -> tuple[str, str]:
    """A month (YYYY-MM) as its first and last day."""
    year, number = (int(part) for part in month.split("-"))
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def _monthly_measures(export: ExportGraph) -> list[str]:
    return sorted({m for months in export.monthly.values() for values in months.values() for m in values})


def _node_size(export: ExportGraph) -> dict[str, float]:
    """Node sizes by activity, each measure against its own busiest service (unlike measures are not added)."""
    busiest: dict[str, float] = {}
    for node in export.nodes:
        for name, value in node.values.items():
            if name.startswith("activity_"):
                busiest[name] = max(busiest.get(name, 0.0), float(value))
    return {node.id: 10.0 + 40.0 * math.sqrt(max((float(v) / busiest[k] for k, v in node.values.items()
                                                   if k.startswith("activity_") and busiest.get(k)), default=0.0))
            for node in export.nodes}


def _edge_lines(export: ExportGraph, measures: list[str]) -> list[str]:
    largest: dict[str, float] = {}
    for edge in export.edges:
        if "volume" in edge.values:
            measure = str(edge.values.get("measure"))
            largest[measure] = max(largest.get(measure, 0.0), float(edge.values["volume"]))
    out = []
    for edge in export.edges:
        volume = edge.values.get("volume")
        weight = f' weight="{float(volume)!r}"' if volume is not None else ""
        out.append(f"      <edge id={attribute(edge.id)} source={attribute(edge.source)} "
                   f"target={attribute(edge.target)}{weight}>")
        out.append("        <attvalues>")
        for name, value in edge.values.items():
            out.append(f"          <attvalue for=\"{name}\" value={attribute(_value(value))}/>")
        months = export.monthly.get(edge.id, {})
        for month, values in sorted(months.items()):
            start, end = month_span(month)
            for measure in measures:
                if measure in values:
                    out.append(f'          <attvalue for="month_{measure}" value="{values[measure]!r}" '
                               f'start="{start}" end="{end}"/>')
        out.append("        </attvalues>")
        if months:
            out.append("        <spells>" + "".join('<spell start="{}" end="{}"/>'.format(*month_span(m))
                                                    for m in sorted(months)) + "</spells>")
        top = largest.get(str(edge.values.get("measure")), 0.0) or 1.0
        thickness = 1.0 + 9.0 * float(volume) / top if volume is not None else 1.0
        out.append(f'        <viz:color r="85" g="85" b="85" a="0.8"/><viz:thickness value="{thickness:.2f}"/>')
        out.append("      </edge>")
    return out


def gexf_text(export: ExportGraph) -> str:
    """The GEXF 1.3 document."""
    sizes = _node_size(export)
    measures = _monthly_measures(export)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">',
           f"  <meta><creator>ism</creator><description>{content(export.title)}</description></meta>",
           '  <graph defaultedgetype="directed" mode="dynamic" timeformat="date">',
           '    <attributes class="node">']
    for name, kind in export.node_fields.items():
        out.append(f'      <attribute id="{name}" title="{name}" type="{GEXF_TYPES[kind]}"/>')
    out += ["    </attributes>", '    <attributes class="edge">']
    for name, kind in export.edge_fields.items():
        out.append(f'      <attribute id="{name}" title="{name}" type="{GEXF_TYPES[kind]}"/>')
    out += ["    </attributes>", '    <attributes class="edge" mode="dynamic">']
    out += [f'      <attribute id="month_{m}" title="month_{m}" type="double"/>' for m in measures]
    out += ["    </attributes>", "    <nodes>"]
    for node in export.nodes:
        out.append(f"      <node id={attribute(node.id)} label={attribute(str(node.values.get('name', node.id)))}>")
        out.append("        <attvalues>")
        for name, value in node.values.items():
            out.append(f"          <attvalue for=\"{name}\" value={attribute(_value(value))}/>")
        out.append("        </attvalues>")
        out.append(f"        <viz:color {_rgb(export.colours.get(node.id, '#eeeeee'))}/>")
        box = export.geometry.get(node.id)
        if box is not None:  # Gephi's y axis points up
            out.append(f'        <viz:position x="{box.x:.1f}" y="{-box.y:.1f}" z="0.0"/>')
        out.append(f'        <viz:size value="{sizes[node.id]:.1f}"/>')
        out.append("      </node>")
    out += ["    </nodes>", "    <edges>"]
    out += _edge_lines(export, measures)
    out += ["    </edges>", "  </graph>", "</gexf>"]
    return "\n".join(out) + "\n"


def write_gexf(export: ExportGraph, path: Path) -> Path:
    path.write_text(gexf_text(export), encoding="utf-8")
    return path
