"""The ISM poster: lanes as columns in the configured order and colours, each service a box coloured by its
sector with its activity for the period, flows with width by volume, a title, a legend and a footer naming the
data partners, licences and attributions. Laid out by Graphviz `dot` within a time budget (outputs/layout.py),
with cheaper layouts when a dense map would stall it; the footer says which layout was used."""

from __future__ import annotations

import html
import math
import re
import textwrap
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pygraphviz as pgv

from outputs.context import LaneStyle, PosterOptions, PublishedVersion
from outputs.layout import Candidate, budgeted_layout, laid_out_dot

FONT = "DejaVu Sans"
POINTS_PER_INCH = 72.0
PAGES_INCHES: dict[str, tuple[float, float]] = {  # landscape: (width, height)
    "A0": (46.81, 33.11), "A1": (33.11, 23.39), "A2": (23.39, 16.54), "A3": (16.54, 11.69), "A4": (11.69, 8.27),
}
PNG_LONG_SIDE_PIXELS = 3300  # ~200 dpi at A3, ~100 dpi at A1: sharp on screen, printable at A3
PNG_BUSY_LONG_SIDE_PIXELS, PNG_BUSY_FLOWS = 2400, 400  # thick curves dominate PNG time: fewer pixels past 400 flows
POSTER_FORMATS = ("svg", "png", "pdf")

DEFAULT_SECTOR_COLOURS = {
    "nhs": "#cfe2f3", "local_authority": "#d9ead3", "third_sector": "#fff2cc", "independent": "#f4cccc",
    "national": "#d9d2e9", "housing": "#fce5cd", "other": "#eeeeee",
}
OTHER_LANE_COLOUR = "#bbbbbb"
FLOW_COLOUR = "#33333399"
SUPPRESSED_FLOW_COLOUR = "#666666"
HIGHLIGHT_COLOUR = "#d40000"
INITIATIVE_MARK = "★"
SUPPRESSED_TEXT = "c (suppressed)"

NAME_POINTS, ACTIVITY_POINTS, LANE_POINTS, TITLE_POINTS, FOOTER_POINTS, FLOW_LABEL_POINTS = 17, 13, 26, 48, 17, 14
NAME_WRAP, NAME_LINES, ACTIVITY_LINES, LANE_WRAP = 18, 4, 3, 15
MIN_FLOW_WIDTH, MAX_FLOW_WIDTH = 1.0, 12.0
# Rough size of one service box and its gaps (inches), to choose how many rows a lane column holds.
COLUMN_INCHES, ROW_INCHES, TITLE_FOOTER_INCHES = 3.8, 1.35, 5.0
LINE_EDGES_FROM = 150  # from this many drawn flows, a straight-flow layout races the full one

METHOD_DOT, METHOD_LINES, METHOD_FALLBACK = "dot", "dot, straight flows", "fallback"


@dataclass(frozen=True)
class PosterInfo:
    """What the poster says about itself: title, area, population lens, period, version, partners, licences."""

    title: str
    area: str
    population: str
    period: str
    version: str
    partners: Sequence[str] = ()
    attributions: Sequence[str] = ()
    sector_colours: dict[str, str] = field(default_factory=dict)
    licences: Sequence[str] = ()


@dataclass(frozen=True)
class Suppressions:
    """Values withheld for disclosure control (qualifier `c`): months per service and measure, and flows whose
    every value is withheld (they have no volume, so the graph has no edge for them)."""

    activity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # service -> measure -> months
    flows: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class FlowSelection:
    """Which flows the poster draws: those at or above `min_flow_share` of all flow volume."""

    shown: list[tuple[str, str]]
    hidden: list[tuple[str, str]]
    labelled: set[tuple[str, str]]
    total_volume: float
    max_volume: float


@dataclass
class PosterLayout:
    """A poster laid out and ready to draw, with the geometry the interactive map and the exports reuse
    (points, origin top-left, y downwards)."""

    agraph: pgv.AGraph
    method: str
    seconds: float
    selection: FlowSelection
    suppressed_flows: list[tuple[str, str]]  # every value suppressed: drawn dashed only when min_flow_share is 0
    suppressed_drawn: bool
    width: float
    height: float
    lane_ids: dict[str, str]  # cluster name -> lane id
    _boxes: dict[str, tuple[float, float, float, float]] | None = None

    def _y(self, y: float) -> float:
        return self.height - y

    def node_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        """Service id -> (centre x, centre y, width, height)."""
        boxes = {}
        for node in self.agraph.nodes():
            if "::" in node or not node.attr.get("pos"):
                continue
            x, y = (float(v) for v in node.attr["pos"].split(",")[:2])
            boxes[str(node)] = (x, self._y(y), float(node.attr["width"]) * POINTS_PER_INCH,
                                float(node.attr["height"]) * POINTS_PER_INCH)
        return boxes

    def lane_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        """Lane id -> (left, top, width, height)."""
        boxes = {}
        for cluster in _lane_clusters(self.agraph):
            x0, y0, x1, y1 = (float(v) for v in cluster.graph_attr["bb"].split(","))
            boxes[self.lane_ids[cluster.name]] = (x0, self._y(y1), x1 - x0, y1 - y0)
        return boxes

    def edge_paths(self) -> dict[tuple[str, str], str]:
        """(from, to) -> SVG path data of each drawn flow, ending at its arrow tip."""
        paths = {}
        for edge in self.agraph.edges():
            if edge.attr.get("style") == "invis" or not edge.attr.get("pos") or "::" in edge[0]:
                continue
            data = _path_data(edge.attr["pos"], self._y)
            if data:
                paths[(str(edge[0]), str(edge[1]))] = data
        return paths

    def curve_path(self, source: str, target: str) -> str:
        """SVG path data of a direct curve from one service to another (for flows the poster does not draw)."""
        if self._boxes is None:
            self._boxes = self.node_boxes()
        if source not in self._boxes or target not in self._boxes:
            return ""
        return _path_data(direct_curve(self._boxes[source], self._boxes[target]), lambda y: y)


def _path_data(pos: str, y_of: Callable[[float], float]) -> str:
    points, tip = _spline(pos)
    if len(points) < 4:
        return ""
    moved = [(x, y_of(y)) for x, y in points]
    data = f"M{moved[0][0]:.1f},{moved[0][1]:.1f}"
    for i in range(1, len(moved) - 2, 3):
        data += "C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in moved[i:i + 3])
    if tip is not None:
        data += f"L{tip[0]:.1f},{y_of(tip[1]):.1f}"
    return data


@dataclass(frozen=True)
class PosterResult:
    paths: list[Path]
    method: str
    seconds: dict[str, float]  # layout, then one entry per format


# ---- values --------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}"


def clean_text(text: Any) -> str:
    """Text fit for a label: control characters (which XML forbids) become spaces."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", "" if text is None else str(text))


def _e(text: Any) -> str:
    return html.escape(clean_text(text), quote=True)


def _measure(measure: str) -> str:
    return measure.replace("_", " ")


def suppressions(activity: pd.DataFrame | None, flows: pd.DataFrame | None) -> Suppressions:
    """Where values are withheld (qualifier `c`) in the activity and flows tables."""
    by_service: dict[str, dict[str, int]] = {}
    if activity is not None and len(activity):
        withheld = activity[activity["value"].isna() & (activity["qualifier"] == "c")]
        for (sid, measure), months in withheld.groupby(["service_id", "measure"])["period_start"].nunique().items():
            by_service.setdefault(str(sid), {})[str(measure)] = int(months)
    pairs: list[tuple[str, str]] = []
    if flows is not None and len(flows):
        marks = pd.DataFrame({"from_service_id": flows["from_service_id"], "to_service_id": flows["to_service_id"],
                              "known": flows["value"].notna(),
                              "withheld": flows["qualifier"].eq("c").fillna(False).astype(bool)})
        per_pair = marks.groupby(["from_service_id", "to_service_id"])[["known", "withheld"]].any()
        pairs = sorted((str(u), str(v)) for u, v in per_pair.index[~per_pair["known"] & per_pair["withheld"]])
    return Suppressions(by_service, pairs)


def sources_by_flow(flows: pd.DataFrame | None) -> dict[tuple[str, str], set[str]]:
    """(from service, to service) -> the sources reporting that flow."""
    found: dict[tuple[str, str], set[str]] = {}
    if flows is None or not len(flows):
        return found
    triples = flows[["from_service_id", "to_service_id", "source_id"]].dropna(
        subset=["from_service_id", "to_service_id"]).drop_duplicates()
    for source, target, source_id in triples.itertuples(index=False, name=None):
        found.setdefault((str(source), str(target)), set()).add(str(source_id))
    return found


def activity_lines(data: Mapping[str, Any], withheld: Mapping[str, int] | None = None) -> list[str]:
    """The activity of a service over the period, one line per measure, largest first; a measure whose values
    are withheld shows `c (suppressed)`, never 0."""
    known: dict[str, float] = dict(data.get("activity") or {})
    withheld = withheld or {}
    lines = []
    for measure, total in sorted(known.items(), key=lambda item: (-item[1], item[0])):
        extra = f" + {SUPPRESSED_TEXT}" if measure in withheld else ""
        lines.append(f"{_number(total)} {_measure(measure)}{extra}")
    lines += [f"{_measure(m)}: {SUPPRESSED_TEXT}" for m in sorted(withheld) if m not in known]
    return lines


def flow_selection(graph: nx.DiGraph, options: PosterOptions) -> FlowSelection:
    """Flows at or above the minimum share of all flow volume are drawn; the rest are counted in a note."""
    volumes = {(str(u), str(v)): float(d.get("volume") or 0.0) for u, v, d in graph.edges(data=True)}
    total = sum(volumes.values())
    shown = sorted(pair for pair, volume in volumes.items() if total and volume >= options.min_flow_share * total)
    drawn = set(shown)
    hidden = sorted(pair for pair in volumes if pair not in drawn)
    labelled = {pair for pair in shown if volumes[pair] >= options.label_flow_share * total}
    return FlowSelection(shown, hidden, labelled, total, max(volumes.values(), default=0.0))


def withheld_flows(graph: nx.DiGraph, suppressed: Suppressions) -> list[tuple[str, str]]:
    """Flows between services of the graph whose every value is suppressed (so the graph has no edge for them)."""
    return [(u, v) for u, v in suppressed.flows if u in graph and v in graph and not graph.has_edge(u, v)]


def flow_width(volume: float, max_volume: float) -> float:
    return MIN_FLOW_WIDTH + (MAX_FLOW_WIDTH - MIN_FLOW_WIDTH) * (volume / max_volume if max_volume else 0.0)


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on the fill colour."""
    red, green, blue = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#ffffff" if luminance < 0.5 else "#000000"


def page_inches(options: PosterOptions) -> tuple[float, float]:
    width, height = PAGES_INCHES[options.page]
    return (width, height) if options.orientation == "landscape" else (height, width)


# ---- the Graphviz graph ---------------------------------------------------------------------------------------


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
                                                       -float(graph.nodes[n].get("activity_total") or 0.0),
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


def name_lines(name: Any) -> list[str]:
    """A service name wrapped for its box: at most NAME_LINES lines, the last shortened with … if need be."""
    text = clean_text(name)
    lines = textwrap.wrap(text, NAME_WRAP) or [text]
    if len(lines) > NAME_LINES:
        rest = " ".join(lines[NAME_LINES - 1:])
        lines = [*lines[:NAME_LINES - 1], textwrap.shorten(rest, NAME_WRAP, placeholder="…")]
    return lines


def service_label(data: Mapping[str, Any], node: str, withheld: Mapping[str, int] | None, colour: str) -> str:
    """An HTML-like label: the name in bold (★ first when improvement work touches it), then its activity."""
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
    return f"<{label}>"


def _title_label(info: PosterInfo, subtitle: str = "") -> str:
    details = f"{info.area}  ·  Population: {info.population}  ·  Period: {info.period}  ·  Version {info.version}"
    rows = [f'<TR><TD><FONT POINT-SIZE="{TITLE_POINTS}"><B>{_e(info.title)}</B></FONT></TD></TR>',
            f'<TR><TD><FONT POINT-SIZE="{FOOTER_POINTS + 6}">{_e(details)}</FONT></TD></TR>']
    if subtitle:
        rows.append(f'<TR><TD><FONT POINT-SIZE="{FOOTER_POINTS + 4}"><I>{_e(subtitle)}</I></FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLPADDING="4">' + "".join(rows) + "</TABLE>>"


def _lines(text: str, width: int) -> str:
    """Text wrapped at `width` characters, escaped, lines joined for an HTML-like label."""
    return "<BR/>".join(html.escape(line, quote=True) for line in textwrap.wrap(clean_text(text), width)) or " "


def _footer_row(heading: str, text: str) -> str:
    return (f'<TR><TD ALIGN="LEFT" VALIGN="TOP"><B>{_e(heading)}</B></TD>'
            f'<TD ALIGN="LEFT" BALIGN="LEFT">{_wrapped(text)}</TD></TR>')


def _wrapped(text: str, width: int = 170) -> str:
    return "<BR/>".join(html.escape(line, quote=True) for line in textwrap.wrap(clean_text(text), width)) or " "


def method_note(method: str, budget: float) -> str:
    if method == METHOD_DOT:
        return "Layout: Graphviz dot."
    if method == METHOD_LINES:
        return (f"Layout: Graphviz dot with straight flows (the full layout did not finish within {budget:g} s; "
                "flows may cross services).")
    return (f"Layout: fallback (the full layout did not finish within {budget:g} s): services are placed by lane "
            "without regard to flows and flows are drawn as direct curves.")


def _footer_label(graph: nx.DiGraph, info: PosterInfo, options: PosterOptions, selection: FlowSelection,
                  sector_colours: Mapping[str, str], suppressed_flows: int, suppressed_drawn: bool,
                  method: str) -> str:
    sectors = sorted({str(d.get("sector") or "other") for _, d in graph.nodes(data=True)}) or ["other"]
    fills = {s: sector_colours.get(s, DEFAULT_SECTOR_COLOURS["other"]) for s in sectors}
    swatches = "".join(  # the sector named on its own colour, as on the service boxes
        f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="#444444"><FONT COLOR="{text_colour(fill)}">'
        f'  {_e(s.replace("_", " "))}  </FONT></TD>' for s, fill in fills.items())
    samples = [v for v in (selection.max_volume, selection.max_volume / 2, selection.max_volume / 10) if v > 0]
    widths = "".join(
        f'<TD VALIGN="MIDDLE"><TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD BGCOLOR="#333333" '
        f'WIDTH="44" HEIGHT="{max(1, round(flow_width(v, selection.max_volume)))}" FIXEDSIZE="TRUE"></TD></TR>'
        f'</TABLE></TD><TD ALIGN="LEFT">{_number(v)}   </TD>' for v in samples)
    legend = (
        f'<TR><TD ALIGN="LEFT"><B>Sector of the organisation</B></TD><TD ALIGN="LEFT"><TABLE BORDER="0" '
        f'CELLPADDING="3" CELLSPACING="6"><TR>{swatches}</TR></TABLE></TD></TR>'
        f'<TR><TD ALIGN="LEFT"><B>Flows of demand</B></TD><TD ALIGN="LEFT"><TABLE BORDER="0" CELLPADDING="2"><TR>'
        f'{widths}<TD ALIGN="LEFT">width by volume over the period; volumes written on flows of '
        f'{options.label_flow_share:.1%} of all flow volume or more'
        f'{"; dashed: every value suppressed (c)" if suppressed_drawn else ""}</TD>'
        f'</TR></TABLE></TD></TR>'
        f'<TR><TD ALIGN="LEFT"><B>Marks</B></TD><TD ALIGN="LEFT">{INITIATIVE_MARK} and a bold border: improvement '
        f'work (an initiative) touches the service.   Counts under the disclosure threshold are shown as '
        f'{_e(SUPPRESSED_TEXT)}, never as 0.</TD></TR>')
    hidden_volume = selection.total_volume - sum(
        graph.edges[u, v].get("volume") or 0.0 for u, v in selection.shown)
    notes = (f"{len(selection.shown):,} of {len(selection.shown) + len(selection.hidden):,} flows drawn; "
             f"{len(selection.hidden):,} flows under {options.min_flow_share:.1%} of all flow volume "
             f"({_number(selection.total_volume)}) are not drawn (together {_number(hidden_volume)}).")
    if suppressed_flows:
        notes += (f" {suppressed_flows:,} flows with every value suppressed (c) are "
                  + ("drawn dashed." if suppressed_drawn else "not drawn (set min_flow_share = 0 to draw them)."))
    notes += " " + method_note(method, options.layout_seconds)
    rows = [legend, _footer_row("Notes", notes)]
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


def poster_source(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                  options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                  method: str = METHOD_DOT, subtitle: str = "", highlight: Collection[str] = ()) -> str:
    """The DOT source of the poster, not yet laid out. Nodes are service ids, edges the drawn flows (none for the
    fallback method, whose flows are drawn after the layout). Written as text: building it through pygraphviz
    one attribute at a time is slow on large maps."""
    options = options or PosterOptions()
    suppressed = suppressed or Suppressions()
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    selection = flow_selection(graph, options)
    withheld = withheld_flows(graph, suppressed)
    dashed = withheld if options.min_flow_share == 0 else []
    width, height = page_inches(options)
    out = ["digraph ism {"]
    out.append("graph " + _attributes({
        "rankdir": "LR", "newrank": "true", "nodesep": "0.3", "ranksep": "0.8", "fontname": FONT,
        "labelloc": "t", "label": _Html(_title_label(info, subtitle)),
        "splines": "line" if method == METHOD_LINES else "spline", "outputorder": "edgesfirst", "pad": "0.3",
        "forcelabels": "true", "remincross": "true"}))
    out.append("node " + _attributes({"shape": "box", "style": "rounded,filled", "fontname": FONT, "penwidth": "1",
                                      "color": "#444444", "margin": "0.14,0.08"}))
    out.append("edge " + _attributes({"color": FLOW_COLOUR, "arrowsize": "0.9", "fontname": FONT,
                                      "fontsize": str(FLOW_LABEL_POINTS)}))
    out.append("subgraph cluster_body {")
    out.append("graph " + _attributes({
        "label": _Html(_footer_label(graph, info, options, selection, colours, len(withheld), bool(dashed),
                                     method)),
        "labelloc": "b", "labeljust": "l", "style": "invis", "fontname": FONT}))
    shown_lanes = poster_lanes(graph, lanes)
    columns = lane_columns(graph, shown_lanes, width / height)
    anchors = []
    for index, lane in enumerate(shown_lanes):
        out.append(f"subgraph cluster_lane_{index} {{")
        out.append("graph " + _attributes({
            "label": _Html(f"<<B>{_lines(lane.label, LANE_WRAP)}</B>>"), "style": "filled,rounded",
            "color": lane.colour, "fillcolor": lane.colour + "40", "penwidth": "2", "fontsize": str(LANE_POINTS),
            "labelloc": "t", "fontname": FONT, "lane_id": lane.id}))
        for number, column in enumerate(columns.get(lane.id, [[]])):
            anchor = f"lane::{index}::{number}"
            anchors.append(anchor)
            out.append(f"subgraph column_{index}_{number} {{ rank=same;")
            out.append(_id(anchor) + " " + _attributes({"label": "", "shape": "point", "style": "invis",
                                                           "width": "0.01", "height": "0.01"}))
            for node in column:
                data = graph.nodes[node]
                fill = colours.get(str(data.get("sector") or "other"), DEFAULT_SECTOR_COLOURS["other"])
                marked = bool(data.get("initiatives"))
                border = HIGHLIGHT_COLOUR if node in highlight else "#000000" if marked else "#444444"
                out.append(_id(node) + " " + _attributes({
                    "label": _Html(service_label(data, node, suppressed.activity.get(node), text_colour(fill))),
                    "fillcolor": fill,
                    "tooltip": clean_text(f"{data.get('name') or node} ({data.get('organisation') or ''})"),
                    "penwidth": "7" if node in highlight else "5" if marked else "1", "color": border}))
            out.append("}")
        out.append("}")
    out.append("}")
    for previous, anchor in zip(anchors, anchors[1:], strict=False):
        out.append(f"{_id(previous)} -> {_id(anchor)} [style=invis weight=100]")
    if method != METHOD_FALLBACK:
        for u, v in selection.shown:
            data = graph.edges[u, v]
            attributes = {"constraint": "false",
                          "penwidth": f"{flow_width(float(data.get('volume') or 0.0), selection.max_volume):.2f}"}
            if (u, v) in selection.labelled:
                attributes["xlabel"] = flow_label(data)
            out.append(f"{_id(u)} -> {_id(v)} {_attributes(attributes)}")
        for u, v in dashed:
            out.append(f"{_id(u)} -> {_id(v)} " + _attributes({
                "constraint": "false", "style": "dashed", "color": SUPPRESSED_FLOW_COLOUR, "penwidth": "1.5"}))
    out.append("}")
    return "\n".join(out) + "\n"


def poster_graph(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                 options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                 method: str = METHOD_DOT, subtitle: str = "", highlight: Collection[str] = ()) -> pgv.AGraph:
    """The Graphviz graph of the poster (`poster_source` parsed), not yet laid out."""
    return pgv.AGraph(string=poster_source(graph, lanes, info, options, suppressed, method, subtitle, highlight))


def flow_label(data: Mapping[str, Any]) -> str:
    withheld = " + c" if "c" in (data.get("qualifiers") or []) else ""
    return f"{_number(float(data.get('volume') or 0.0))}{withheld}"


# ---- layout and finishing -------------------------------------------------------------------------------------


def _lane_clusters(agraph: pgv.AGraph) -> list[pgv.AGraph]:
    body = agraph.get_subgraph("cluster_body")
    return [] if body is None else [c for c in body.subgraphs() if c.name.startswith("cluster_lane_")]


def _spline(pos: str) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
    """The control points of a Graphviz edge `pos` and its arrow tip."""
    tip = None
    points = []
    for part in pos.split():
        fields = part.split(",")
        if fields[0] == "e":
            tip = (float(fields[1]), float(fields[2]))
        elif fields[0] != "s":
            points.append((float(fields[0]), float(fields[1])))
    return points, tip


def _bezier(points: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3


def _curve_points(pos: str) -> list[tuple[float, float]]:
    """Points on an edge's curve (not its control points, which lie off it) and its arrow tip."""
    points, tip = _spline(pos)
    found = [*points[:1], *([tip] if tip else [])]
    for start in range(0, len(points) - 3, 3):
        found += [_bezier(points[start:start + 4], t) for t in (0.25, 0.5, 0.75, 1.0)]
    return found


def _midpoint(pos: str) -> tuple[float, float]:
    points, _ = _spline(pos)
    segments = max(1, (len(points) - 1) // 3)
    middle = segments // 2
    if len(points) < 4:
        return points[0] if points else (0.0, 0.0)
    return _bezier(points[3 * middle:3 * middle + 4], 0.5 if segments % 2 else 0.0)


def direct_curve(source: tuple[float, float, float, float], target: tuple[float, float, float, float],
                 arrow: float = 9.0) -> str:
    """A Graphviz edge `pos` for a curve from one box to another (centre x, y, width, height; y upwards):
    side to side, bowing out when both are in one column."""
    sx, sy, sw, _ = source
    tx, ty, tw, _ = target
    if abs(tx - sx) < (sw + tw) / 4:  # one column: leave and enter on the right, bowing out
        start, end = (sx + sw / 2, sy), (tx + tw / 2, ty)
        bow = 40 + abs(ty - sy) * 0.25
        c1, c2 = (start[0] + bow, start[1]), (end[0] + bow, end[1])
        direction = -1.0
    else:
        forward = tx > sx
        start = (sx + sw / 2, sy) if forward else (sx - sw / 2, sy)
        end = (tx - tw / 2, ty) if forward else (tx + tw / 2, ty)
        reach = (end[0] - start[0]) / 2
        c1, c2 = (start[0] + reach, start[1]), (end[0] - reach, end[1])
        direction = 1.0 if forward else -1.0
    stop = (end[0] - direction * arrow, end[1])  # the spline ends where the arrowhead starts
    c2 = (c2[0] - direction * arrow, c2[1]) if abs(c2[0] - end[0]) < arrow else c2
    points = [start, c1, c2, stop]
    return f"e,{end[0]:.2f},{end[1]:.2f} " + " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _footer_under(agraph: pgv.AGraph, lanes_bottom: float) -> None:
    """Move the footer (the legend and notes) up to just under the lanes and drop the space it leaves."""
    body = agraph.get_subgraph("cluster_body")
    if body is None or not body.graph_attr.get("lp"):
        return
    lowest = lanes_bottom
    for edge in agraph.edges():
        if edge.attr.get("pos") and edge.attr.get("style") != "invis":
            points, tip = _spline(edge.attr["pos"])
            lowest = min([lowest, *(y for _, y in points), *([tip[1]] if tip else [])])
    x, y = (float(v) for v in body.graph_attr["lp"].split(","))
    half = float(body.graph_attr.get("lheight") or 0) * POINTS_PER_INCH / 2
    shift = (lowest - 12) - (y + half)
    if shift <= 0:
        return
    body.graph_attr["lp"] = f"{x:.2f},{y + shift:.2f}"
    for graph in (agraph, body):
        x0, y0, x1, y1 = (float(v) for v in graph.graph_attr["bb"].split(","))
        graph.graph_attr["bb"] = f"{x0:.2f},{y0 + shift:.2f},{x1:.2f},{y1:.2f}"


def _finish(agraph: pgv.AGraph, graph: nx.DiGraph, selection: FlowSelection, dashed: list[tuple[str, str]],
            method: str, options: PosterOptions) -> tuple[float, float]:
    """Make a laid-out poster ready to draw: lanes as full-height bands, flows (for the fallback) and their
    volume labels placed, the drawing padded to the page's proportions. Returns its size in points."""
    for attribute in ("ratio", "size", "forcelabels"):
        if attribute in agraph.graph_attr:
            del agraph.graph_attr[attribute]
    lanes = _lane_clusters(agraph)
    boxes = [tuple(float(v) for v in c.graph_attr["bb"].split(",")) for c in lanes]
    if boxes:
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        for cluster, (x0, _, x1, _) in zip(lanes, boxes, strict=True):
            cluster.graph_attr["bb"] = f"{x0:.2f},{bottom:.2f},{x1:.2f},{top:.2f}"
            label_height = float(cluster.graph_attr.get("lheight") or 0.5) * POINTS_PER_INCH
            cluster.graph_attr["lp"] = f"{(x0 + x1) / 2:.2f},{top - label_height / 2 - 4:.2f}"
        _footer_under(agraph, bottom)
    centres = {}
    for node in agraph.nodes():
        if node.attr.get("pos"):
            x, y = (float(v) for v in node.attr["pos"].split(",")[:2])
            centres[str(node)] = (x, y, float(node.attr["width"]) * POINTS_PER_INCH,
                                  float(node.attr["height"]) * POINTS_PER_INCH)
    if method == METHOD_FALLBACK:
        for u, v in selection.shown:
            if u in centres and v in centres:
                width = flow_width(float(graph.edges[u, v].get("volume") or 0.0), selection.max_volume)
                agraph.add_edge(u, v, pos=direct_curve(centres[u], centres[v]), penwidth=f"{width:.2f}")
        for u, v in dashed:
            if u in centres and v in centres:
                agraph.add_edge(u, v, pos=direct_curve(centres[u], centres[v]), style="dashed",
                                color=SUPPRESSED_FLOW_COLOUR, penwidth="1.5")
    for number, edge in enumerate(agraph.edges()):
        u, v = str(edge[0]), str(edge[1])
        place = edge.attr.get("xlp")
        for attribute in ("xlabel", "xlp"):
            if edge.attr.get(attribute) is not None:
                del edge.attr[attribute]
        if (u, v) not in selection.labelled or not edge.attr.get("pos"):
            continue
        x, y = (float(v) for v in place.split(",")) if place else _midpoint(edge.attr["pos"])
        agraph.add_node(f"flowlabel::{number}", label=flow_label(graph.edges[u, v]), shape="plaintext",
                        style="filled", fillcolor="#ffffffcc", color="#ffffff00", fontsize=str(FLOW_LABEL_POINTS),
                        fontcolor="#111111", margin="0.02", width="0.1", height="0.1", pos=f"{x:.2f},{y:.2f}")
    x0, y0, x1, y1 = (float(v) for v in agraph.graph_attr["bb"].split(","))
    on_curves = [point for edge in agraph.edges() if edge.attr.get("pos") and edge.attr.get("style") != "invis"
                 for point in _curve_points(edge.attr["pos"])]  # curves drawn after the layout may reach beyond it
    if on_curves:
        x0, x1 = min(x0, min(x for x, _ in on_curves) - 4), max(x1, max(x for x, _ in on_curves) + 4)
        y0, y1 = min(y0, min(y for _, y in on_curves) - 4), max(y1, max(y for _, y in on_curves) + 4)
    page_width, page_height = page_inches(options)
    width, height = x1 - x0, y1 - y0
    if width / height > page_width / page_height:
        pad = (width * page_height / page_width - height) / 2
        y0, y1 = y0 - pad, y1 + pad
    else:
        pad = (height * page_width / page_height - width) / 2
        x0, x1 = x0 - pad, x1 + pad
    for name, (x, y) in (("page::sw", (x0, y0)), ("page::ne", (x1, y1))):
        agraph.add_node(name, shape="point", style="invis", width="0.01", height="0.01", label="",
                        pos=f"{x:.2f},{y:.2f}")
    agraph.graph_attr["bb"] = f"{x0:.2f},{y0:.2f},{x1:.2f},{y1:.2f}"
    agraph.graph_attr["size"] = f"{page_width:.2f},{page_height:.2f}!"
    agraph.graph_attr["pad"] = "0"
    return x1 - x0, y1 - y0


def poster_layout(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                  options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                  subtitle: str = "", highlight: Collection[str] = ()) -> PosterLayout:
    """Lay the poster out within `options.layout_seconds`: the full `dot` layout if it finishes in time, else
    `dot` with straight flows, else a fallback that places services by lane (fast at any size) and draws flows
    as direct curves. The same graph and options give the same layout (remembered for the interactive map)."""
    options = options or PosterOptions()
    suppressed = suppressed or Suppressions()
    started = time.monotonic()
    selection = flow_selection(graph, options)
    methods = [METHOD_DOT] + ([METHOD_LINES] if len(selection.shown) >= LINE_EDGES_FROM else [])
    candidates = [Candidate(m, poster_source(graph, lanes, info, options, suppressed, m, subtitle, highlight))
                  for m in methods]

    def fallback() -> Candidate:
        source = poster_source(graph, lanes, info, options, suppressed, METHOD_FALLBACK, subtitle, highlight)
        return Candidate(METHOD_FALLBACK, laid_out_dot(source))

    found = budgeted_layout(candidates, options.layout_seconds, fallback)
    method, laid = found.candidate or METHOD_FALLBACK, found.laid_out or fallback().source
    agraph = pgv.AGraph(string=laid)
    withheld = withheld_flows(graph, suppressed)
    dashed = withheld if options.min_flow_share == 0 else []
    width, height = _finish(agraph, graph, selection, dashed, method, options)
    lane_ids = {c.name: str(c.graph_attr.get("lane_id") or "") for c in _lane_clusters(agraph)}
    return PosterLayout(agraph, method, time.monotonic() - started, selection, withheld, bool(dashed), width,
                        height, lane_ids)


def draw_poster(layout: PosterLayout, path: Path, fmt: str, options: PosterOptions | None = None) -> Path:
    """Draw a laid-out poster in one format: svg, pdf (page size) or png (~3,300 pixels on the long side)."""
    options = options or PosterOptions()
    agraph = layout.agraph
    pixels = PNG_LONG_SIDE_PIXELS if len(layout.selection.shown) <= PNG_BUSY_FLOWS else PNG_BUSY_LONG_SIDE_PIXELS
    agraph.graph_attr["dpi"] = str(round(pixels / max(page_inches(options)))) if fmt == "png" else "72"
    agraph.graph_attr["margin"] = "0"  # the PDF page is the poster's page, with no printer's margin added
    agraph.has_layout = True
    agraph.draw(str(path), format=fmt)
    return path


def render_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                  formats: Iterable[str] = POSTER_FORMATS, options: PosterOptions | None = None,
                  suppressed: Suppressions | None = None, stem: str = "poster", subtitle: str = "",
                  highlight: Collection[str] = ()) -> PosterResult:
    """Lay out once and write `<stem>.<format>` for each format, timing each step. `highlight`: services drawn
    with a red border (e.g. the centre of an ego view)."""
    folder.mkdir(parents=True, exist_ok=True)
    options = options or PosterOptions()
    layout = poster_layout(graph, lanes, info, options, suppressed, subtitle, highlight)
    seconds = {"layout": layout.seconds}
    paths = []
    for fmt in formats:
        started = time.monotonic()
        paths.append(draw_poster(layout, folder / f"{stem}.{fmt}", fmt, options))
        seconds[fmt] = time.monotonic() - started
    return PosterResult(paths, layout.method, seconds)


def write_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                 formats: Sequence[str] = ("svg",), options: PosterOptions | None = None,
                 suppressed: Suppressions | None = None, stem: str = "poster", subtitle: str = "") -> list[Path]:
    """Lay out once and write the poster in each format; returns the paths written."""
    return render_poster(graph, lanes, info, folder, formats, options, suppressed, stem, subtitle).paths


def poster_info(version: PublishedVersion) -> PosterInfo:
    """What a version's poster says about itself."""
    licences = [str(item.get("title") or item.get("name")) for item in version.licences
                if item.get("title") or item.get("name")]
    return PosterInfo(
        title=version.title, area=version.area_label, population=version.population,
        period=version.period_label, version=version.version_id, partners=list(version.partners.values()),
        attributions=list(version.attributions), sector_colours=version.sector_colours, licences=licences,
    )


def version_suppressions(version: PublishedVersion) -> Suppressions:
    memo = _version_memo(version)
    if "suppressions" not in memo:
        memo["suppressions"] = suppressions(version.tables.get("activity"), version.tables.get("flows"))
    return memo["suppressions"]


def version_layout(version: PublishedVersion) -> PosterLayout:
    """The whole-map poster's layout of a version: laid out and finished once for the poster, the interactive map
    and the exports (each used to parse and finish the laid-out graph again)."""
    memo = _version_memo(version)
    if "layout" not in memo:
        memo["layout"] = poster_layout(version.graph, version.lanes, poster_info(version), version.poster,
                                       version_suppressions(version))
    return memo["layout"]


_VERSION_MEMOS: dict[int, dict[str, Any]] = {}


def _version_memo(version: PublishedVersion) -> dict[str, Any]:
    """What the writers of one version share; forgotten when the version object is."""
    key = id(version)
    if key not in _VERSION_MEMOS:
        _VERSION_MEMOS[key] = {}
        weakref.finalize(version, _VERSION_MEMOS.pop, key, None)
    return _VERSION_MEMOS[key]


def poster_artefact(version: PublishedVersion) -> list[Path]:
    """The whole-map poster of a version, in `diagrams/` as SVG, PNG and PDF."""
    folder = version.folder / "diagrams"
    folder.mkdir(parents=True, exist_ok=True)
    layout = version_layout(version)
    return [draw_poster(layout, folder / f"poster.{fmt}", fmt, version.poster) for fmt in POSTER_FORMATS]
