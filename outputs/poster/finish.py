"""Finishing a laid-out poster for drawing: lanes as full-height bands with the footer under them, the fallback's
flows and bundles drawn as direct curves, volume labels placed on their curves clear of every service box and large
enough to read at A3, and the drawing padded to the page's proportions."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

import networkx as nx
import pygraphviz as pgv

from outputs.context import PosterOptions
from outputs.poster.dot import METHOD_FALLBACK, bundle_label
from outputs.poster.geometry import bezier, curve_points, direct_curve, lane_clusters, spline
from outputs.poster.selection import FlowSelection, flow_label, flow_scale
from outputs.poster.values import (
    FLOW_LABEL_POINTS,
    OTHER_LANE_COLOUR,
    PAGES_INCHES,
    POINTS_PER_INCH,
    SUPPRESSED_FLOW_COLOUR,
    flow_colour,
    flow_width,
    page_inches,
)

Box = tuple[float, float, float, float]  # centre x, centre y (upwards), width, height
MIN_PRINTED_POINTS = 6.0  # volumes at least this size when the poster is printed at A3
# Where along its curve a label may sit, in order of preference: the middle first, then outwards.
LABEL_PLACES = tuple(sorted((step / 20 for step in range(2, 19)), key=lambda t: (abs(t - 0.5), t)))
LABEL_LIFTS = (0.0, 0.6, -0.6, 1.2, -1.2, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0, 5.0, -5.0)  # heights above (+) or below

def _footer_under(agraph: pgv.AGraph, lanes_bottom: float) -> None:
    """Move the footer (the legend and notes) up to just under the lanes and drop the space it leaves."""
    body = agraph.get_subgraph("cluster_body")
    if body is None or not body.graph_attr.get("lp"):
        return
    lowest = lanes_bottom
    for edge in agraph.edges():
        if edge.attr.get("pos") and edge.attr.get("style") != "invis":
            points, tip = spline(edge.attr["pos"])
            lowest = min([lowest, *(y for _, y in points), *([tip[1]] if tip else [])])
    x, y = (float(v) for v in body.graph_attr["lp"].split(","))
    half = float(body.graph_attr.get("lheight") or 0) * POINTS_PER_INCH / 2
    shift = (lowest - 12) - (y + half)  # up into free space, or down under bundles hanging below the lanes
    if shift == 0:
        return
    body.graph_attr["lp"] = f"{x:.2f},{y + shift:.2f}"
    for graph in (agraph, body):
        x0, y0, x1, y1 = (float(v) for v in graph.graph_attr["bb"].split(","))
        graph.graph_attr["bb"] = f"{x0:.2f},{y0 + shift:.2f},{x1:.2f},{y1:.2f}"


def _full_height_lanes(agraph: pgv.AGraph) -> float | None:
    """Lanes drawn as bands of the full height, their titles at the top; returns their bottom."""
    lanes = lane_clusters(agraph)
    boxes = [tuple(float(v) for v in c.graph_attr["bb"].split(",")) for c in lanes]
    if not boxes:
        return None
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    for cluster, (x0, _, x1, _) in zip(lanes, boxes, strict=True):
        cluster.graph_attr["bb"] = f"{x0:.2f},{bottom:.2f},{x1:.2f},{top:.2f}"
        label_height = float(cluster.graph_attr.get("lheight") or 0.5) * POINTS_PER_INCH
        cluster.graph_attr["lp"] = f"{(x0 + x1) / 2:.2f},{top - label_height / 2 - 4:.2f}"
    return bottom


def service_boxes(agraph: pgv.AGraph) -> dict[str, Box]:
    """Every laid-out service: centre (y upwards) and size in points."""
    centres = {}
    for node in agraph.nodes():
        if node.attr.get("pos") and "::" not in str(node):
            x, y = (float(v) for v in node.attr["pos"].split(",")[:2])
            centres[str(node)] = (x, y, float(node.attr["width"]) * POINTS_PER_INCH,
                                  float(node.attr["height"]) * POINTS_PER_INCH)
    return centres


def _fallback_flows(agraph: pgv.AGraph, graph: nx.DiGraph, selection: FlowSelection, dashed: list[tuple[str, str]],
                    centres: Mapping[str, Box], lane_colours: Mapping[str, str]) -> None:
    """The fallback layout's flows and bundles as direct curves (its layout places services only)."""
    for u, v in selection.shown:
        if u in centres and v in centres:
            value, largest = flow_scale(graph.edges[u, v], selection)
            colour = flow_colour(lane_colours.get(str(graph.nodes[u].get("lane")), OTHER_LANE_COLOUR))
            agraph.add_edge(u, v, pos=direct_curve(centres[u], centres[v]), color=colour,
                            penwidth=f"{flow_width(value, largest):.2f}")
    for u, v in dashed:
        if u in centres and v in centres:
            agraph.add_edge(u, v, pos=direct_curve(centres[u], centres[v]), style="dashed",
                            color=SUPPRESSED_FLOW_COLOUR, penwidth="1.5")


def _bundle_curves(agraph: pgv.AGraph, selection: FlowSelection, bottom: float,
                   lane_colours: Mapping[str, str]) -> None:
    """Each bundle of flows left off between two lanes as a dashed arrow under the lanes, from the sending lane's
    foot to the receiving lane's, hanging lower the further it goes (so bundles nest rather than cross boxes)."""
    lanes = {str(c.graph_attr.get("lane_id")): tuple(float(v) for v in c.graph_attr["bb"].split(","))
             for c in lane_clusters(agraph)}
    for bundle in selection.bundles:
        if bundle.from_lane == bundle.to_lane or bundle.from_lane not in lanes or bundle.to_lane not in lanes:
            continue  # within a lane: counted in the footer
        start, end = ((lanes[lane][0] + lanes[lane][2]) / 2 for lane in (bundle.from_lane, bundle.to_lane))
        offset = 14.0 if end > start else -14.0  # the two directions between two lanes side by side
        start, end = start + offset, end + offset
        depth = 28.0 + 0.1 * abs(end - start)
        pos = (f"e,{end:.2f},{bottom + 2:.2f} {start:.2f},{bottom + 2:.2f} {start:.2f},{bottom - depth:.2f} "
               f"{end:.2f},{bottom - depth:.2f} {end:.2f},{bottom - 10:.2f}")
        agraph.add_edge(f"bundle::{bundle.from_lane}", f"bundle::{bundle.to_lane}", key="bundle", pos=pos,
                        style="dashed", penwidth="3", arrowsize="1.2", xlabel=bundle_label(bundle),
                        color=flow_colour(lane_colours.get(bundle.from_lane, OTHER_LANE_COLOUR)),
                        bundle=f"{bundle.from_lane}>{bundle.to_lane}")
    for node in agraph.nodes():
        if str(node).startswith("bundle::"):
            node.attr.update(shape="point", style="invis", width="0.01", height="0.01", label="", pos="0,0")


def label_points(drawing_width: float, drawing_height: float) -> float:
    """The font size (points of the drawing) that prints at MIN_PRINTED_POINTS or more on an A3 page."""
    a3_width, a3_height = PAGES_INCHES["A3"]
    long_side, short_side = max(drawing_width, drawing_height), min(drawing_width, drawing_height)
    scale = min(a3_width * POINTS_PER_INCH / long_side, a3_height * POINTS_PER_INCH / short_side)
    return max(float(FLOW_LABEL_POINTS), MIN_PRINTED_POINTS / scale if scale > 0 else 0.0)


def _clear(box: Box, taken: Iterable[Box]) -> bool:
    """Whether `box` keeps 2 points clear of every box in `taken`."""
    x, y, w, h = box
    return all(abs(x - ox) * 2 > w + ow + 4 or abs(y - oy) * 2 > h + oh + 4 for ox, oy, ow, oh in taken)


class TakenBoxes:
    """The boxes already on the poster, filed by the cells of a grid they reach, so that a label is tested against
    the boxes near it rather than every box (thousands on a national map): the same answer as testing every box,
    since two boxes closer than the 2 points `_clear` asks for reach a common cell."""

    CELL = 128.0  # points: about a service box
    REACH = 3.0  # points each box is taken to reach beyond its edges: more than the 2 points `_clear` needs

    def __init__(self, boxes: Iterable[Box] = ()) -> None:
        self._cells: dict[tuple[int, int], list[Box]] = defaultdict(list)
        for box in boxes:
            self.add(box)

    def _cells_of(self, box: Box) -> Iterator[tuple[int, int]]:
        x, y, w, h = box
        half_w, half_h = w / 2 + self.REACH, h / 2 + self.REACH
        columns = range(math.floor((x - half_w) / self.CELL), math.floor((x + half_w) / self.CELL) + 1)
        rows = range(math.floor((y - half_h) / self.CELL), math.floor((y + half_h) / self.CELL) + 1)
        return itertools.product(columns, rows)

    def add(self, box: Box) -> None:
        for cell in self._cells_of(box):
            self._cells[cell].append(box)

    def clear(self, box: Box) -> bool:
        """Whether `box` keeps clear of every box taken (`_clear`)."""
        return all(_clear(box, self._cells.get(cell, ())) for cell in self._cells_of(box))


def _label_place(pos: str, size: tuple[float, float], taken: TakenBoxes) -> tuple[float, float] | None:
    """The first place along a curve where a label of `size` touches no service box and no other label."""
    points, _ = spline(pos)
    if len(points) < 4:
        return None
    segments = (len(points) - 1) // 3
    for lift in LABEL_LIFTS:  # on the curve first, then just above or below it
        for t in LABEL_PLACES:
            index = min(segments - 1, int(t * segments))
            x, y = bezier(points[3 * index:3 * index + 4], t * segments - index)
            if taken.clear((x, y + lift * size[1], *size)):
                return x, y + lift * size[1]
    return None


def _place_labels(agraph: pgv.AGraph, graph: nx.DiGraph, selection: FlowSelection, points: float) -> int:
    """Volume labels as plain-text nodes on their curves, never on a box; returns how many found no place."""
    taken = TakenBoxes(service_boxes(agraph).values())
    body = agraph.get_subgraph("cluster_body")
    for cluster in [*lane_clusters(agraph), *([body] if body is not None else [])]:  # lane titles and the footer
        if cluster.graph_attr.get("lp") and cluster.graph_attr.get("lwidth"):
            x, y = (float(v) for v in cluster.graph_attr["lp"].split(","))
            taken.add((x, y, float(cluster.graph_attr["lwidth"]) * POINTS_PER_INCH,
                       float(cluster.graph_attr.get("lheight") or 0.5) * POINTS_PER_INCH))
    unplaced = 0
    for number_, edge in enumerate(agraph.edges()):
        u, v = str(edge[0]), str(edge[1])
        text = edge.attr.get("xlabel") or None
        for attribute in ("xlabel", "xlp"):
            if edge.attr.get(attribute) is not None:
                del edge.attr[attribute]
        if text is None and (u, v) in selection.labelled:
            text = flow_label(graph.edges[u, v], selection.measure_totals)
        if not text or not edge.attr.get("pos"):
            continue
        size = (len(text) * points * 0.62 + 6, points * 1.35)
        place = _label_place(edge.attr["pos"], size, taken)
        if place is None:
            unplaced += 1
            continue
        taken.add((*place, *size))
        agraph.add_node(f"flowlabel::{number_}", label=text, shape="plaintext", style="filled",
                        fillcolor="#ffffffcc", color="#ffffff00", fontsize=f"{points:.1f}", fontcolor="#111111",
                        margin="0.02", width="0.1", height="0.1", pos=f"{place[0]:.2f},{place[1]:.2f}")
    return unplaced


def _pad_to_page(agraph: pgv.AGraph, options: PosterOptions) -> tuple[float, float]:
    """The drawing's box grown to hold every curve and padded to the page's proportions; its size in points."""
    x0, y0, x1, y1 = (float(v) for v in agraph.graph_attr["bb"].split(","))
    on_curves = [point for edge in agraph.edges() if edge.attr.get("pos") and edge.attr.get("style") != "invis"
                 for point in curve_points(edge.attr["pos"])]  # curves drawn after the layout may reach beyond it
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


def finish(agraph: pgv.AGraph, graph: nx.DiGraph, selection: FlowSelection, dashed: list[tuple[str, str]],
           method: str, options: PosterOptions, lane_colours: Mapping[str, str]) -> tuple[float, float, int]:
    """Make a laid-out poster ready to draw. Returns its size in points and how many labels found no place."""
    for attribute in ("ratio", "size", "forcelabels"):
        if attribute in agraph.graph_attr:
            del agraph.graph_attr[attribute]
    bottom = _full_height_lanes(agraph)
    if method == METHOD_FALLBACK:
        _fallback_flows(agraph, graph, selection, dashed, service_boxes(agraph), lane_colours)
    if bottom is not None:
        _bundle_curves(agraph, selection, bottom, lane_colours)
        _footer_under(agraph, bottom)
    width, height = _pad_to_page(agraph, options)
    unplaced = _place_labels(agraph, graph, selection, label_points(width, height))
    return width, height, unplaced
