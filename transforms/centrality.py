"""Betweenness and bounded simple cycles of a directed networkx graph, computed by igraph (C) rather than networkx
(pure Python): the same definitions as networkx's `betweenness_centrality(normalized=True)` and
`simple_cycles(length_bound=...)`, with 40-200 times less CPU for betweenness on graphs of a national map's size
(bench/results/centrality.md).

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
    in the cycle's order, starting anywhere on it): the cycles `networkx.simple_cycles(graph,
    length_bound=max_length)` yields, in no particular order."""
    if max_length < 0:
        raise ValueError(f"max_length must be 0 or more, not {max_length}")
    if max_length == 0:
        return []
    nodes, shape = _igraph(graph)
    return [[nodes[i] for i in cycle] for cycle in shape.simple_cycles(mode=ig.OUT, min=1, max=max_length)]
