"""Betweenness and bounded simple cycles of a directed networkx graph, fast at a national map's size: the same
definitions as networkx's `betweenness_centrality(normalized=True)` (computed by igraph, in C, with 40-200 times
less CPU: bench/results/centrality.md) and `simple_cycles(length_bound=...)` (a pruned search here: networkx's
takes minutes on such a graph, igraph's misses cycles).

One difference, by design: igraph counts two weighted paths as equally short when their lengths agree to a relative
1e-10, networkx only when their floating-point sums are equal. Where float rounding splits a tie (flows of volume
6, 1, 6 against 3, 1: 1/6 + 1 + 1/6 sums to 1.3333333333333335, 1/3 + 1 to 1.3333333333333333), networkx drops
one of the paths; igraph counts both, which is networkx's answer in exact arithmetic
(tests/transforms/test_centrality.py checks both)."""

from __future__ import annotations

import math
from typing import Any

import igraph as ig
import networkx as nx


def _igraph(graph: nx.DiGraph) -> tuple[list[Any], ig.Graph]:
    """The graph's nodes in networkx order and the same graph in igraph, vertex i standing for nodes[i]."""
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    return nodes, ig.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in graph.edges], directed=True)


def _lengths(graph: nx.DiGraph, weight: str) -> list[float]:
    """Each edge's length (attribute `weight`, missing = 1 as in networkx), in edge order; igraph needs them
    positive and finite."""
    lengths = []
    for u, v, data in graph.edges(data=True):
        length = data.get(weight, 1)
        if not (isinstance(length, int | float) and math.isfinite(length) and length > 0):
            raise ValueError(f"edge {u!r} -> {v!r}: {weight} is {length!r}; betweenness needs a positive, finite "
                             f"length on every edge")
        lengths.append(float(length))
    return lengths


def betweenness(graph: nx.DiGraph, weight: str | None = None) -> dict[Any, float]:
    """Normalised betweenness of every node, as `networkx.betweenness_centrality(graph, weight=weight,
    normalized=True)` defines it: shortest directed paths by the edge attribute `weight` (a length) or, without
    one, by steps; endpoints not counted; divided by (n - 1)(n - 2), the ordered pairs a node can lie between."""
    nodes, shape = _igraph(graph)
    if len(nodes) <= 2:
        return dict.fromkeys(nodes, 0.0)
    raw = shape.betweenness(directed=True, weights=None if weight is None else _lengths(graph, weight))
    scale = 1.0 / ((len(nodes) - 1) * (len(nodes) - 2))
    return {node: value * scale for node, value in zip(nodes, raw, strict=True)}


def bounded_cycles(graph: nx.DiGraph, max_length: int) -> list[list[Any]]:
    """Every simple directed cycle of at most `max_length` nodes, self-loops included, each once (as a node list
    in the cycle's order, starting at its first node in graph order): the cycles `networkx.simple_cycles(graph,
    length_bound=max_length)` yields, in no particular order.

    Not igraph's `simple_cycles`: igraph 1.0 misses some cycles depending on vertex order (igraph/igraph#2911;
    tests/transforms/test_centrality.py has a graph where it finds none of one). Here each cycle is found from its
    first node `s` in graph order by a search over later nodes only, pruned to the nodes that can still get back
    to `s` within the length left: the work follows the cycles there are, a few thousand on a national map."""
    if max_length < 0:
        raise ValueError(f"max_length must be 0 or more, not {max_length}")
    rank = {node: i for i, node in enumerate(graph)}
    successors = {node: list(graph.successors(node)) for node in graph}
    cycles: list[list[Any]] = []
    for start in graph if max_length else ():
        if graph.has_edge(start, start):
            cycles.append([start])
        back = _steps_back(graph, start, rank, max_length - 1)  # later node -> fewest steps from it to `start`
        _extend([start], {start}, successors, back, max_length, cycles)
    return cycles


def _extend(path: list[Any], on_path: set[Any], successors: dict[Any, list[Any]], back: dict[Any, int],
            max_length: int, cycles: list[list[Any]]) -> None:
    """Close `path` (from a cycle's first node) into a cycle, or lengthen it, by each successor of its last node
    that can still get back to the first within `max_length` nodes."""
    start = path[0]
    for after in successors[path[-1]]:
        if after == start and len(path) > 1:
            cycles.append(list(path))
        elif after in back and after not in on_path and len(path) + back[after] <= max_length:
            path.append(after)
            on_path.add(after)
            _extend(path, on_path, successors, back, max_length, cycles)
            on_path.discard(path.pop())


def _steps_back(graph: nx.DiGraph, start: Any, rank: dict[Any, int], limit: int) -> dict[Any, int]:
    """Nodes after `start` in graph order that reach it within `limit` steps through such nodes, with the fewest."""
    found: dict[Any, int] = {}
    frontier = [start]
    for steps in range(1, limit + 1):
        reached = []
        for node in frontier:
            for before in graph.predecessors(node):
                if rank[before] > rank[start] and before not in found:
                    found[before] = steps
                    reached.append(before)
        frontier = reached
    return found
