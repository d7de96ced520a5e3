"""GraphML with yEd styling: each lane a yEd group node holding its services (placed and coloured as on the poster),
each service a coloured rounded box with its name, each flow an arrow as thick as its volume within its measure;
every attribute also as a typed GraphML key, so networkx, Gephi and yEd read the same values. Readers that do not
take nested graphs (igraph) read the same map written flat (`groups=False`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from outputs.exports.records import BOOLEAN, DOUBLE, INTEGER, ExportGraph, Record
from outputs.exports.xml_text import attribute, content

GRAPHML_TYPES = {"string": "string", DOUBLE: "double", INTEGER: "int", BOOLEAN: "boolean"}
DEFAULT_BOX = (0.0, 0.0, 180.0, 60.0)
LANE_GROUP = "lane::"  # id prefix of a lane's group node


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return content(str(value))


def _header(export: ExportGraph) -> list[str]:
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
    return out


def _service_lines(export: ExportGraph, node: Record, pad: str) -> Iterator[str]:
    yield f"{pad}<node id={attribute(node.id)}>"
    for name, value in node.values.items():
        yield f'{pad}  <data key="n_{name}">{_value(value)}</data>'
    box = export.geometry.get(node.id)
    x, y, width, height = (box.x, box.y, box.width, box.height) if box else DEFAULT_BOX
    fill = export.colours.get(node.id, "#eeeeee").upper()
    text = export.text_colours.get(node.id, "#000000").upper()
    marked = bool(node.values.get("initiative_count"))
    label = ("★ " if marked else "") + str(node.values.get("name", node.id))
    yield from (
        f'{pad}  <data key="d_nodegraphics">', f"{pad}    <y:ShapeNode>",
        f'{pad}      <y:Geometry height="{height:.1f}" width="{width:.1f}" x="{x - width / 2:.1f}" '
        f'y="{y - height / 2:.1f}"/>',
        f'{pad}      <y:Fill color="{fill}" transparent="false"/>',
        f'{pad}      <y:BorderStyle color="#000000" type="line" width="{4.0 if marked else 1.0}"/>',
        f'{pad}      <y:NodeLabel alignment="center" autoSizePolicy="content" fontFamily="Dialog" fontSize="12" '
        f'fontStyle="bold" textColor="{text}" modelName="internal" modelPosition="c" '
        f'visible="true">{content(label)}</y:NodeLabel>',
        f'{pad}      <y:Shape type="roundrectangle"/>', f"{pad}    </y:ShapeNode>", f"{pad}  </data>",
        f"{pad}</node>")


def _group_open(export: ExportGraph, lane: tuple[str, str, str]) -> list[str]:
    """A yEd group node for one lane, opened: its services follow in its nested graph."""
    lane_id, label, colour = lane
    box = export.lane_boxes.get(lane_id)
    geometry = (f'<y:Geometry height="{box.height:.1f}" width="{box.width:.1f}" x="{box.x - box.width / 2:.1f}" '
                f'y="{box.y - box.height / 2:.1f}"/>') if box else ""
    group = attribute(LANE_GROUP + lane_id)
    return [
        f'    <node id={group} yfiles.foldertype="group">',
        f'      <data key="n_name">{content(label)}</data>', f'      <data key="n_lane">{content(lane_id)}</data>',
        f'      <data key="n_lane_label">{content(label)}</data>',
        '      <data key="d_nodegraphics"><y:ProxyAutoBoundsNode><y:Realizers active="0"><y:GroupNode>',
        f'        {geometry}<y:Fill color="{colour.upper()}40" transparent="false"/>',
        f'        <y:BorderStyle color="{colour.upper()}" type="line" width="2.0"/>',
        '        <y:NodeLabel alignment="center" autoSizePolicy="node_width" fontFamily="Dialog" fontSize="16" '
        f'fontStyle="bold" modelName="internal" modelPosition="t" visible="true">{content(label)}</y:NodeLabel>',
        '        <y:Shape type="roundrectangle"/><y:State closed="false"/>',
        "      </y:GroupNode></y:Realizers></y:ProxyAutoBoundsNode></data>",
        f'      <graph edgedefault="directed" id={attribute(LANE_GROUP + lane_id + ":")}>',
    ]


def _edge_lines(export: ExportGraph) -> Iterator[str]:
    widest = max((float(e.values["volume"]) for e in export.edges if "volume" in e.values), default=0.0) or 1.0
    largest: dict[str, float] = {}
    for edge in export.edges:
        if "volume" in edge.values:
            measure = str(edge.values.get("measure"))
            largest[measure] = max(largest.get(measure, 0.0), float(edge.values["volume"]))
    for edge in export.edges:
        yield f"    <edge id={attribute(edge.id)} source={attribute(edge.source)} target={attribute(edge.target)}>"
        for name, value in edge.values.items():
            yield f'      <data key="e_{name}">{_value(value)}</data>'
        volume = edge.values.get("volume")
        top = largest.get(str(edge.values.get("measure")), widest) or widest
        width = 1.0 + 9.0 * float(volume) / top if volume is not None else 1.0  # within its measure
        style = "dashed" if edge.values.get("suppressed") else "line"
        yield from ('      <data key="d_edgegraphics">', "        <y:PolyLineEdge>",
                    f'          <y:LineStyle color="#555555" type="{style}" width="{width:.1f}"/>',
                    '          <y:Arrows source="none" target="standard"/>')
        if edge.id in export.labelled and volume is not None:
            measure = content(str(edge.values.get("measure")))
            yield f"          <y:EdgeLabel>{float(volume):,.0f} {measure}</y:EdgeLabel>"
        yield from ("        </y:PolyLineEdge>", "      </data>", "    </edge>")


def graphml_text(export: ExportGraph, groups: bool = True) -> str:
    """The GraphML document: with `groups`, each lane a yEd group node holding its services."""
    out = _header(export)
    out.append(f'  <graph edgedefault="directed" id={attribute(export.title)}>')
    if groups:
        by_lane: dict[str, list[Record]] = {}
        for node in export.nodes:
            by_lane.setdefault(str(node.values.get("lane")), []).append(node)
        for lane in export.lanes:
            if by_lane.get(lane[0]):
                out += _group_open(export, lane)
                out += [line for node in by_lane[lane[0]] for line in _service_lines(export, node, "        ")]
                out += ["      </graph>", "    </node>"]
        grouped = {lane[0] for lane in export.lanes}
        out += [line for node in export.nodes if str(node.values.get("lane")) not in grouped
                for line in _service_lines(export, node, "    ")]
    else:
        out += [line for node in export.nodes for line in _service_lines(export, node, "    ")]
    out += _edge_lines(export)
    out += ["  </graph>", "</graphml>"]
    return "\n".join(out) + "\n"


def write_graphml(export: ExportGraph, path: Path, groups: bool = True) -> Path:
    path.write_text(graphml_text(export, groups), encoding="utf-8")
    return path
