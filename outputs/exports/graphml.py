"""GraphML with yEd styling: each service a coloured rounded box with its name, placed as on the poster, each flow
an arrow as thick as its volume; every attribute also as a typed GraphML key, so networkx, Gephi and yEd read
the same values."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from outputs.exports.records import BOOLEAN, DOUBLE, INTEGER, ExportGraph

GRAPHML_TYPES = {"string": "string", DOUBLE: "double", INTEGER: "int", BOOLEAN: "boolean"}
DEFAULT_BOX = (0.0, 0.0, 180.0, 60.0)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return escape(str(value))


def graphml_text(export: ExportGraph) -> str:
    """The GraphML document."""
    volumes = [float(e.values["volume"]) for e in export.edges if "volume" in e.values]
    top = max(volumes, default=0.0) or 1.0
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:y="http://www.yworks.com/xml/graphml" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://www.yworks.com/xml/schema/graphml/1.1/ygraphml.xsd">',
           '  <key for="node" id="d_nodegraphics" yfiles.type="nodegraphics"/>',
           '  <key for="edge" id="d_edgegraphics" yfiles.type="edgegraphics"/>']
    for name, kind in export.node_fields.items():
        out.append(f'  <key attr.name="{name}" attr.type="{GRAPHML_TYPES[kind]}" for="node" id="n_{name}"/>')
    for name, kind in export.edge_fields.items():
        out.append(f'  <key attr.name="{name}" attr.type="{GRAPHML_TYPES[kind]}" for="edge" id="e_{name}"/>')
    out.append(f'  <graph edgedefault="directed" id={quoteattr(export.title)}>')
    for node in export.nodes:
        out.append(f"    <node id={quoteattr(node.id)}>")
        for name, value in node.values.items():
            out.append(f'      <data key="n_{name}">{_value(value)}</data>')
        box = export.geometry.get(node.id)
        x, y, width, height = (box.x, box.y, box.width, box.height) if box else DEFAULT_BOX
        fill = export.colours.get(node.id, "#eeeeee").upper()
        text = export.text_colours.get(node.id, "#000000").upper()
        marked = bool(node.values.get("initiative_count"))
        label = ("★ " if marked else "") + str(node.values.get("name", node.id))
        out += [
            '      <data key="d_nodegraphics">',
            "        <y:ShapeNode>",
            f'          <y:Geometry height="{height:.1f}" width="{width:.1f}" x="{x - width / 2:.1f}" '
            f'y="{y - height / 2:.1f}"/>',
            f'          <y:Fill color="{fill}" transparent="false"/>',
            f'          <y:BorderStyle color="#000000" type="line" width="{4.0 if marked else 1.0}"/>',
            f'          <y:NodeLabel alignment="center" autoSizePolicy="content" fontFamily="Dialog" fontSize="12" '
            f'fontStyle="bold" textColor="{text}" modelName="internal" modelPosition="c" '
            f'visible="true">{escape(label)}</y:NodeLabel>',
            '          <y:Shape type="roundrectangle"/>',
            "        </y:ShapeNode>",
            "      </data>",
            "    </node>",
        ]
    for edge in export.edges:
        out.append(f"    <edge id={quoteattr(edge.id)} source={quoteattr(edge.source)} "
                   f"target={quoteattr(edge.target)}>")
        for name, value in edge.values.items():
            out.append(f'      <data key="e_{name}">{_value(value)}</data>')
        volume = edge.values.get("volume")
        width = 1.0 + 9.0 * float(volume) / top if volume is not None else 1.0
        style = "dashed" if edge.values.get("suppressed") else "line"
        out += ['      <data key="d_edgegraphics">', "        <y:PolyLineEdge>",
                f'          <y:LineStyle color="#555555" type="{style}" width="{width:.1f}"/>',
                '          <y:Arrows source="none" target="standard"/>']
        if edge.id in export.labelled and volume is not None:
            out.append(f"          <y:EdgeLabel>{float(volume):,.0f}</y:EdgeLabel>")
        out += ["        </y:PolyLineEdge>", "      </data>", "    </edge>"]
    out += ["  </graph>", "</graphml>"]
    return "\n".join(out) + "\n"


def write_graphml(export: ExportGraph, path: Path) -> Path:
    path.write_text(graphml_text(export), encoding="utf-8")
    return path
