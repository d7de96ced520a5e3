"""The geometry of a laid-out poster: service boxes, lane bands and flow curves in points (origin top-left, y
downwards) for the interactive map and the exports, and the curve arithmetic the finishing steps use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pygraphviz as pgv

from outputs.poster.selection import FlowSelection
from outputs.poster.values import POINTS_PER_INCH


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
    source: str  # the laid-out graph's DOT text as finished, before a drawing here changes its attributes
    labels_unplaced: int = 0  # volume labels left off: no place on their curve clear of the boxes
    _boxes: dict[str, tuple[float, float, float, float]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the laid-out graph as its DOT text (a worker process writes some artefacts with it)."""
        return {**self.__dict__, "agraph": self.source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, agraph=pgv.AGraph(string=state["agraph"]))

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
        for cluster in lane_clusters(self.agraph):
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

    def bundle_paths(self) -> dict[tuple[str, str], str]:
        """(from lane, to lane) -> SVG path data of each drawn bundle of flows left off."""
        paths = {}
        for edge in self.agraph.edges():
            bundle = edge.attr.get("bundle")
            if bundle and edge.attr.get("pos"):
                from_lane, _, to_lane = str(bundle).partition(">")
                data = _path_data(edge.attr["pos"], self._y)
                if data:
                    paths[(from_lane, to_lane)] = data
        return paths

    def curve_path(self, source: str, target: str) -> str:
        """SVG path data of a direct curve from one service to another (for flows the poster does not draw)."""
        if self._boxes is None:
            self._boxes = self.node_boxes()
        if source not in self._boxes or target not in self._boxes:
            return ""
        return direct_path(self._boxes[source], self._boxes[target])


def _path_data(pos: str, y_of: Callable[[float], float]) -> str:
    points, tip = spline(pos)
    if len(points) < 4:
        return ""
    moved = [(x, y_of(y)) for x, y in points]
    data = f"M{moved[0][0]:.1f},{moved[0][1]:.1f}"
    for i in range(1, len(moved) - 2, 3):
        data += "C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in moved[i:i + 3])
    if tip is not None:
        data += f"L{tip[0]:.1f},{y_of(tip[1]):.1f}"
    return data



def lane_clusters(agraph: pgv.AGraph) -> list[pgv.AGraph]:
    body = agraph.get_subgraph("cluster_body")
    return [] if body is None else [c for c in body.subgraphs() if c.name.startswith("cluster_lane_")]


def spline(pos: str) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
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


def bezier(points: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3


def curve_points(pos: str) -> list[tuple[float, float]]:
    """Points on an edge's curve (not its control points, which lie off it) and its arrow tip."""
    points, tip = spline(pos)
    found = [*points[:1], *([tip] if tip else [])]
    for start in range(0, len(points) - 3, 3):
        found += [bezier(points[start:start + 4], t) for t in (0.25, 0.5, 0.75, 1.0)]
    return found


def direct_curve(source: tuple[float, float, float, float], target: tuple[float, float, float, float],
                 arrow: float = 9.0) -> str:
    """A Graphviz edge `pos` for a curve from one box to another (centre x, y, width, height; y upwards):
    side to side, bowing out when both are in one column."""
    points, end = _direct_points(source, target, arrow)
    return f"e,{end[0]:.2f},{end[1]:.2f} " + " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def direct_path(source: tuple[float, float, float, float], target: tuple[float, float, float, float]) -> str:
    """SVG path data of `direct_curve` (y upwards as given), without writing and reading its `pos` text."""
    points, end = _direct_points(source, target)
    # each number as the `pos` text gives it (two decimals) before the path's one: the same digits as from `pos`
    start, *rest = [(round(x, 2), round(y, 2)) for x, y in points]
    return (f"M{start[0]:.1f},{start[1]:.1f}C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in rest)
            + f"L{round(end[0], 2):.1f},{round(end[1], 2):.1f}")


def _direct_points(source: tuple[float, float, float, float], target: tuple[float, float, float, float],
                   arrow: float = 9.0) -> tuple[list[tuple[float, float]], tuple[float, float]]:
    """`direct_curve`'s four control points and its arrow tip."""
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
    return [start, c1, c2, stop], end
