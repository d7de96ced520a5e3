"""The poster as a Graphviz DOT source: lanes as clusters of columns, services as boxes coloured by sector with their
activity per measure and their data-gap marks, the drawn flows coloured by their sending lane, the flows left off
as lane-to-lane bundles, a title, and a footer with the legend and what is left off per lane."""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import networkx as nx
import pygraphviz as pgv

from outputs.context import LaneStyle, PosterOptions
from outputs.poster.gaps import GAP_LEGEND, GAP_MARKS, GAP_MISSING, DataGaps
from outputs.poster.selection import (
    Bundle,
    FlowSelection,
    flow_label,
    flow_scale,
    flow_selection,
    totals_text,
    withheld_flows,
)
from outputs.poster.values import (
    ACTIVITY_LINES,
    ACTIVITY_POINTS,
    COLUMN_INCHES,
    DEFAULT_SECTOR_COLOURS,
    FLOW_COLOUR,
    FLOW_LABEL_POINTS,
    FONT,
    FOOTER_POINTS,
    HIGHLIGHT_COLOUR,
    INITIATIVE_MARK,
    LANE_POINTS,
    LANE_WRAP,
    NAME_POINTS,
    OTHER_LANE_COLOUR,
    ROW_INCHES,
    SUPPRESSED_FLOW_COLOUR,
    SUPPRESSED_TEXT,
    TITLE_FOOTER_INCHES,
    TITLE_POINTS,
    PosterInfo,
    Suppressions,
    activity_lines,
    clean_text,
    escaped,
    flow_colour,
    flow_width,
    name_lines,
    page_inches,
    text_colour,
)

METHOD_DOT, METHOD_LINES, METHOD_FALLBACK = "dot", "dot, straight flows", "fallback"
BUNDLE_STYLE = "dashed"


def poster_lanes(graph: nx.DiGraph, lanes: Sequence[LaneStyle]) -> list[LaneStyle]:
    """The configured lanes in order, then any lane a service names that the config does not (in grey)."""
    known = {lane.id for lane in lanes}
    extra = sorted({str(lane) for _, lane in graph.nodes(data="lane") if lane not in known})
    return [*lanes, *(LaneStyle(lane, lane.replace("_", " ") if lane != "None" else "No lane", OTHER_LANE_COLOUR)
                      for lane in extra)]


def lane_columns(graph: nx.DiGraph, lanes: Sequence[LaneStyle], aspect: float) -> dict[str, list[list[str]]]:
    """The services of each lane in columns: as many rows per column as makes the poster's shape closest to the
    page's (`aspect` = width / height); within a lane, services of one organisation stay together."""
    members: dict[str, list[str]] = {lane.id: [] for lane in lanes}
    for node, data in graph.nodes(data=True):
        members.setdefault(str(data.get("lane")), []).append(node)
    for lane_id, nodes in members.items():
        members[lane_id] = sorted(nodes, key=lambda n: (str(graph.nodes[n].get("organisation") or ""),
                                                       -float(graph.nodes[n].get("demand_total") or 0.0),
                                                       str(graph.nodes[n].get("name") or n), str(n)))
    tallest = max((len(nodes) for nodes in members.values()), default=1) or 1

    def misfit(rows: int) -> float:
        columns = sum(max(1, math.ceil(len(nodes) / rows)) for nodes in members.values())
        width = columns * COLUMN_INCHES
        height = rows * ROW_INCHES + TITLE_FOOTER_INCHES
        return abs(math.log(width / height) - math.log(aspect))

    rows = min(range(tallest, 0, -1), key=misfit)  # ties keep the taller columns (fewer splits)
    columns = {}
    for lane_id, nodes in members.items():
        size = math.ceil(len(nodes) / max(1, math.ceil(len(nodes) / rows))) if nodes else 1  # balanced columns
        columns[lane_id] = [nodes[i:i + size] for i in range(0, len(nodes), size)] or [[]]
    return columns




def service_label(data: Mapping[str, Any], node: str, withheld: Mapping[str, int] | None, colour: str,
                  marks: str = "") -> str:
    """An HTML-like label: the name in bold (★ first when improvement work touches it), then its activity per
    measure, then its data-gap marks."""
    lines = name_lines(data.get("name") or node)
    if data.get("initiatives"):
        lines[0] = f"{INITIATIVE_MARK} {lines[0]}"
    activity = activity_lines(data, withheld)
    if len(activity) > ACTIVITY_LINES:
        activity = [*activity[:ACTIVITY_LINES - 1], f"+ {len(activity) - ACTIVITY_LINES + 1} more measures"]
    rows = "<BR/>".join(html.escape(line, quote=True) for line in lines)
    label = f'<FONT POINT-SIZE="{NAME_POINTS}" COLOR="{colour}"><B>{rows}</B></FONT>'
    if activity:
        body = "<BR/>".join(html.escape(line, quote=True) for line in activity)
        label += f'<BR/><FONT POINT-SIZE="{ACTIVITY_POINTS}" COLOR="{colour}">{body}</FONT>'
    if marks:
        label += f'<BR/><FONT POINT-SIZE="{NAME_POINTS + 3}" COLOR="{colour}"><B>{html.escape(marks)}</B></FONT>'
    return f"<{label}>"


def _title_label(info: PosterInfo, subtitle: str = "") -> str:
    details = f"{info.area}  ·  Population: {info.population}  ·  Period: {info.period}  ·  Version {info.version}"
    rows = [f'<TR><TD><FONT POINT-SIZE="{TITLE_POINTS}"><B>{escaped(info.title)}</B></FONT></TD></TR>',
            f'<TR><TD><FONT POINT-SIZE="{FOOTER_POINTS + 6}">{escaped(details)}</FONT></TD></TR>']
    if subtitle:
        rows.append(f'<TR><TD><FONT POINT-SIZE="{FOOTER_POINTS + 4}"><I>{escaped(subtitle)}</I></FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLPADDING="4">' + "".join(rows) + "</TABLE>>"


def _lines(text: str, width: int) -> str:
    """Text wrapped at `width` characters, escaped, lines joined for an HTML-like label."""
    return "<BR/>".join(html.escape(line, quote=True) for line in textwrap.wrap(clean_text(text), width)) or " "


def _footer_row(heading: str, text: str) -> str:
    return (f'<TR><TD ALIGN="LEFT" VALIGN="TOP"><B>{escaped(heading)}</B></TD>'
            f'<TD ALIGN="LEFT" BALIGN="LEFT">{_lines(text, 170)}</TD></TR>')


def method_note(method: str, budget: float) -> str:
    if method == METHOD_DOT:
        return "Layout: Graphviz dot."
    if method == METHOD_LINES:
        return (f"Layout: Graphviz dot with straight flows (the full layout did not finish within {budget:g} s; "
                "flows may cross services).")
    return (f"Layout: fallback (the full layout did not finish within {budget:g} s): services are placed by lane "
            "without regard to flows and flows are drawn as direct curves.")


def _legend_rows(graph: nx.DiGraph, lanes: Sequence[LaneStyle], options: PosterOptions, selection: FlowSelection,
                 sector_colours: Mapping[str, str], suppressed_drawn: bool, gaps: DataGaps) -> list[str]:
    """The legend: sector fills, flow colours (sending lane) and widths, marks and data gaps."""
    sectors = sorted({str(d.get("sector") or "other") for _, d in graph.nodes(data=True)}) or ["other"]
    fills = {s: sector_colours.get(s, DEFAULT_SECTOR_COLOURS["other"]) for s in sectors}
    swatches = "".join(  # the sector named on its own colour, as on the service boxes
        f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="#444444"><FONT COLOR="{text_colour(fill)}">'
        f'  {escaped(s.replace("_", " "))}  </FONT></TD>' for s, fill in fills.items())
    sending = {str(graph.nodes[u].get("lane")) for u, _ in selection.shown}
    colours = "".join(
        f'<TD BGCOLOR="{flow_colour(lane.colour)[:7]}" WIDTH="30" HEIGHT="8" FIXEDSIZE="TRUE"></TD>'
        f'<TD ALIGN="LEFT">{escaped(lane.label)}   </TD>' for lane in lanes if lane.id in sending)
    rows = [
        f'<TR><TD ALIGN="LEFT"><B>Sector of the organisation</B></TD><TD ALIGN="LEFT"><TABLE BORDER="0" '
        f'CELLPADDING="3" CELLSPACING="6"><TR>{swatches}</TR></TABLE></TD></TR>',
        f'<TR><TD ALIGN="LEFT"><B>Flows, coloured by the lane that sends them</B></TD><TD ALIGN="LEFT">'
        f'<TABLE BORDER="0" CELLPADDING="2"><TR>{colours or "<TD> </TD>"}</TR></TABLE></TD></TR>',
        _footer_row("Flow widths", "Width by volume against the largest flow of the same measure (measures are "
                    f"never added together); volumes written on flows of {options.label_flow_share:.1%} of their "
                    "measure's volume or more, where there is room clear of the boxes (map.html shows every volume); "
                    "dashed arrows under the lanes bundle the flows left off, lane to lane, with their count"
                    + ("; thin dashed: every value suppressed (c)" if suppressed_drawn else "") + "."),
        _footer_row("Marks", f"{INITIATIVE_MARK} and a bold border: improvement work (an initiative) touches the "
                    f"service. Counts under the disclosure threshold are shown as {SUPPRESSED_TEXT}, never as 0."),
    ]
    if gaps.kinds():
        rows.append(_footer_row("Data gaps", "   ".join(f"{GAP_MARKS[kind]} {GAP_LEGEND[kind]}"
                                                       for kind in gaps.kinds())
                                + (" (dashed border)." if GAP_MISSING in gaps.kinds() else ".")))
    return rows


def left_off_by_lane(graph: nx.DiGraph, lanes: Sequence[LaneStyle], selection: FlowSelection) -> list[str]:
    """Per sending lane, the flows the poster leaves off: how many, to which lanes, their totals per measure."""
    labels = {lane.id: lane.label for lane in lanes}
    by_lane: dict[str, list[Bundle]] = {}
    for bundle in selection.bundles:
        by_lane.setdefault(bundle.from_lane, []).append(bundle)
    notes = []
    for lane in lanes:
        bundles = by_lane.get(lane.id, [])
        if not bundles:
            continue
        totals: dict[str, float] = {}
        for bundle in bundles:
            for measure, value in bundle.totals.items():
                totals[measure] = totals.get(measure, 0.0) + value
        count = sum(len(bundle.pairs) for bundle in bundles)
        to = "; ".join(f"{labels.get(b.to_lane, b.to_lane)} {len(b.pairs):,} ({totals_text(b.totals)})"
                       for b in bundles)
        notes.append(f"{lane.label}: {count:,} flows ({totals_text(totals)}), to {to}.")
    return notes


def _footer_label(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, options: PosterOptions,
                  selection: FlowSelection, sector_colours: Mapping[str, str], suppressed_flows: int,
                  suppressed_drawn: bool, method: str) -> str:
    rows = _legend_rows(graph, lanes, options, selection, sector_colours, suppressed_drawn, info.gaps)
    drawn, total = len(selection.shown), len(selection.shown) + len(selection.hidden)
    notes = (f"{drawn:,} of {total:,} flows drawn: those of {options.min_flow_share:.1%} of their measure's volume "
             f"or more, and each service's largest {options.service_flows} in- and outflow"
             f"{'s' if options.service_flows != 1 else ''} ({len(selection.guaranteed):,} flows under that share), "
             f"so that every service and lane with flows shows at least one. The {len(selection.hidden):,} flows "
             "left off are bundled lane to lane.")
    if suppressed_flows:
        notes += (f" {suppressed_flows:,} flows with every value suppressed (c) are "
                  + ("drawn dashed." if suppressed_drawn else "not drawn (set min_flow_share = 0 to draw them)."))
    notes += " " + method_note(method, options.layout_seconds)
    rows.append(_footer_row("Notes", notes))
    left_off = left_off_by_lane(graph, lanes, selection)
    if left_off:
        rows.append(_footer_row("Left off, by sending lane", "  ".join(left_off)))
    for note in info.gaps.notes():
        heading, _, text = note.partition(": ")
        rows.append(_footer_row(heading, text))
    if info.partners:
        rows.append(_footer_row("Data partners", ", ".join(info.partners)))
    credits = [*info.licences, *info.attributions]
    if credits:
        rows.append(_footer_row("Licences and attributions", "; ".join(credits)))
    return (f'<<FONT POINT-SIZE="{FOOTER_POINTS}"><TABLE BORDER="0" CELLPADDING="3" CELLSPACING="2">'
            f'<TR><TD COLSPAN="2" HEIGHT="14"> </TD></TR>{"".join(rows)}</TABLE></FONT>>')


class _Html(str):
    """An HTML-like label: written to DOT between angle brackets, not quoted."""


def _value(value: Any) -> str:
    if isinstance(value, _Html):
        return str(value)
    # In DOT only the double quote is escaped; doubling backslashes keeps them literal in labels and tooltips.
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _id(node: Any) -> str:
    return '"' + str(node).replace('"', '\\"') + '"'


def _attributes(attributes: Mapping[str, Any]) -> str:
    return "[" + " ".join(f"{key}={_value(value)}" for key, value in attributes.items()) + "]"


def _service_lines(graph: nx.DiGraph, node: str, info: PosterInfo, suppressed: Suppressions,
                   highlight: Collection[str]) -> str:
    data = graph.nodes[node]
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    fill = colours.get(str(data.get("sector") or "other"), DEFAULT_SECTOR_COLOURS["other"])
    marked = bool(data.get("initiatives"))
    missing = any(gap.kind == GAP_MISSING for gap in info.gaps.services.get(node, ()))
    border = HIGHLIGHT_COLOUR if node in highlight else "#000000" if marked else "#444444"
    tooltip = f"{data.get('name') or node} ({data.get('organisation') or ''})"
    for gap in info.gaps.services.get(node, ()):
        tooltip += f"\n{gap.mark} {gap.text}"
    return _id(node) + " " + _attributes({
        "label": _Html(service_label(data, node, suppressed.activity.get(node), text_colour(fill),
                                     info.gaps.marks(node))),
        "fillcolor": fill, "tooltip": clean_text(tooltip).replace("\n", " · "),
        "style": "rounded,filled,dashed" if missing else "rounded,filled",
        "penwidth": "7" if node in highlight else "5" if marked else "3" if missing else "1", "color": border})


def _lane_lines(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, options: PosterOptions,
                suppressed: Suppressions, highlight: Collection[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The lane clusters with their columns of services; and each lane's column anchors (invisible points)."""
    width, height = page_inches(options)
    columns = lane_columns(graph, lanes, width / height)
    out: list[str] = []
    anchors: dict[str, list[str]] = {}
    for index, lane in enumerate(lanes):
        out.append(f"subgraph cluster_lane_{index} {{")
        out.append("graph " + _attributes({
            "label": _Html(f"<<B>{_lines(lane.label, LANE_WRAP)}</B>>"), "style": "filled,rounded",
            "color": lane.colour, "fillcolor": lane.colour + "40", "penwidth": "2", "fontsize": str(LANE_POINTS),
            "labelloc": "t", "fontname": FONT, "lane_id": lane.id}))
        for number_, column in enumerate(columns.get(lane.id, [[]])):
            anchor = f"lane::{index}::{number_}"
            anchors.setdefault(lane.id, []).append(anchor)
            out.append(f"subgraph column_{index}_{number_} {{ rank=same;")
            out.append(_id(anchor) + " " + _attributes({"label": "", "shape": "point", "style": "invis",
                                                           "width": "0.01", "height": "0.01"}))
            out += [_service_lines(graph, node, info, suppressed, highlight) for node in column]
            out.append("}")
        out.append("}")
    return out, anchors


def _flow_lines(graph: nx.DiGraph, lane_colours: Mapping[str, str], selection: FlowSelection,
                dashed: Sequence[tuple[str, str]], anchors: Mapping[str, list[str]]) -> list[str]:
    """The drawn flows (coloured by sending lane, width within their measure) and the lane-to-lane bundles."""
    out = []
    for u, v in selection.shown:
        data = graph.edges[u, v]
        value, largest = flow_scale(data, selection)
        colour = flow_colour(lane_colours.get(str(graph.nodes[u].get("lane")), OTHER_LANE_COLOUR))
        attributes = {"constraint": "false", "color": colour, "penwidth": f"{flow_width(value, largest):.2f}"}
        if (u, v) in selection.labelled:
            attributes["xlabel"] = flow_label(data, selection.measure_totals)
        out.append(f"{_id(u)} -> {_id(v)} {_attributes(attributes)}")
    for u, v in dashed:
        out.append(f"{_id(u)} -> {_id(v)} " + _attributes({
            "constraint": "false", "style": "dashed", "color": SUPPRESSED_FLOW_COLOUR, "penwidth": "1.5"}))
    return out


def bundle_label(bundle: Bundle) -> str:
    """`12 flows left off` on the bundle's arrow (its totals per measure are in the footer, by sending lane)."""
    return f"{len(bundle.pairs):,} flow{'s' if len(bundle.pairs) != 1 else ''} left off"


def poster_source(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                  options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                  method: str = METHOD_DOT, subtitle: str = "", highlight: Collection[str] = ()) -> str:
    """The DOT source of the poster, not yet laid out. Nodes are service ids, edges the drawn flows and bundles
    (none for the fallback method, whose flows are drawn after the layout). Written as text: building it through
    pygraphviz one attribute at a time is slow on large maps."""
    return poster_sources(graph, lanes, info, options, suppressed, (method,), subtitle, highlight)[method]


def poster_sources(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                   options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                   methods: Sequence[str] = (METHOD_DOT,), subtitle: str = "", highlight: Collection[str] = (),
                   selection: FlowSelection | None = None) -> dict[str, str]:
    """`poster_source` for each of `methods`, their lanes and flows written once: the methods differ only in how
    flows are routed and in the footer's note of it (and the fallback has no flows). `selection`: the graph's
    `flow_selection` with these options, if the caller has it already."""
    options = options or PosterOptions()
    suppressed = suppressed or Suppressions()
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    selection = flow_selection(graph, options) if selection is None else selection
    withheld = withheld_flows(graph, suppressed)
    dashed = withheld if options.min_flow_share == 0 else []
    shown_lanes = poster_lanes(graph, lanes)
    lane_lines, anchors = _lane_lines(graph, shown_lanes, info, options, suppressed, highlight)
    chain = [anchor for lane in shown_lanes for anchor in anchors.get(lane.id, [])]
    body = [*lane_lines, "}", *(f"{_id(previous)} -> {_id(anchor)} [style=invis weight=100]"
                                for previous, anchor in zip(chain, chain[1:], strict=False))]
    flows = (_flow_lines(graph, {lane.id: lane.colour for lane in shown_lanes}, selection, dashed, anchors)
             if any(method != METHOD_FALLBACK for method in methods) else [])
    sources = {}
    for method in methods:
        head = ["digraph ism {", "graph " + _attributes({
            "rankdir": "LR", "newrank": "true", "nodesep": "0.3", "ranksep": "0.8", "fontname": FONT,
            "labelloc": "t", "label": _Html(_title_label(info, subtitle)),
            "splines": "line" if method == METHOD_LINES else "spline", "outputorder": "edgesfirst", "pad": "0.3",
            "forcelabels": "true", "remincross": "true"})]
        head.append("node " + _attributes({"shape": "box", "style": "rounded,filled", "fontname": FONT,
                                           "penwidth": "1", "color": "#444444", "margin": "0.14,0.08"}))
        head.append("edge " + _attributes({"color": FLOW_COLOUR, "arrowsize": "0.9", "fontname": FONT,
                                           "fontsize": str(FLOW_LABEL_POINTS)}))
        head.append("subgraph cluster_body {")
        head.append("graph " + _attributes({
            "label": _Html(_footer_label(graph, shown_lanes, info, options, selection, colours, len(withheld),
                                         bool(dashed), method)),
            "labelloc": "b", "labeljust": "l", "style": "invis", "fontname": FONT}))
        sources[method] = "\n".join([*head, *body, *(flows if method != METHOD_FALLBACK else []), "}"]) + "\n"
    return sources


def poster_graph(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                 options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                 method: str = METHOD_DOT, subtitle: str = "", highlight: Collection[str] = ()) -> pgv.AGraph:
    """The Graphviz graph of the poster (`poster_source` parsed), not yet laid out."""
    return pgv.AGraph(string=poster_source(graph, lanes, info, options, suppressed, method, subtitle, highlight))
