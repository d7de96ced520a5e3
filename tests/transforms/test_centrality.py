"""transforms/centrality.py gives networkx's answers: betweenness (by steps, and by length 1/volume) and bounded
simple cycles, on random weighted digraphs (hypothesis), on hand-built ones and on the demo map's graph."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from fractions import Fraction
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.centrality import betweenness, bounded_cycles

TOLERANCE = 1e-9


# flow volumes as maps have them: counts, and the odd fractional value
VOLUMES = st.one_of(st.integers(1, 60), st.fractions(Fraction(1, 4), 60, max_denominator=8)).map(float)
# powers of two: every float sum of their distances 1/volume is exact
BINARY_VOLUMES = st.integers(-4, 12).map(lambda exponent: 2.0**exponent)


@st.composite
def flow_graphs(draw: st.DrawFn, volumes: st.SearchStrategy[float] = VOLUMES, max_nodes: int = 12) -> nx.DiGraph:
    """A digraph as transforms/analyses builds one: flows with a volume and distance 1/volume; self-loops and
    two-way flows allowed, isolated services too."""
    size = draw(st.integers(0, max_nodes))
    graph = nx.DiGraph()
    graph.add_nodes_from(f"s{i:02d}" for i in range(size))
    if size:
        pairs = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=size * 4,
                              unique=True))
        for u, v in pairs:
            volume = float(draw(volumes))
            graph.add_edge(f"s{u:02d}", f"s{v:02d}", volume=volume, distance=1.0 / volume)
    return graph


def exact_length(u: Hashable, v: Hashable, data: dict[str, float]) -> Fraction:
    """An edge's length 1/volume in exact arithmetic: networkx then finds every tie between path lengths."""
    return 1 / Fraction(data["volume"])


def assert_close(found: dict[Hashable, float], expected: dict[Hashable, float]) -> None:
    assert found.keys() == expected.keys()
    worst = max((abs(found[node] - expected[node]) for node in expected), default=0.0)
    assert worst <= TOLERANCE, {node: (found[node], expected[node]) for node in expected
                                if abs(found[node] - expected[node]) > TOLERANCE}


def canonical(cycles: Iterable[list[Hashable]]) -> list[tuple[Hashable, ...]]:
    """Each cycle rotated to start at its least node, sorted: equal lists mean the same cycles, each once."""
    rotated = []
    for cycle in cycles:
        start = cycle.index(min(cycle))  # type: ignore[type-var]
        rotated.append(tuple(cycle[start:] + cycle[:start]))
    return sorted(rotated)  # type: ignore[type-var]


@settings(max_examples=300, deadline=None)
@given(flow_graphs())
def test_betweenness_by_steps_is_networkx(graph: nx.DiGraph) -> None:
    assert_close(betweenness(graph), nx.betweenness_centrality(graph, normalized=True))


@settings(max_examples=300, deadline=None)
@given(flow_graphs())
def test_betweenness_by_distance_is_networkx_in_exact_arithmetic(graph: nx.DiGraph) -> None:
    assert_close(betweenness(graph, weight="distance"),
                 nx.betweenness_centrality(graph, normalized=True, weight=exact_length))


@settings(max_examples=200, deadline=None)
@given(flow_graphs(BINARY_VOLUMES))
def test_betweenness_by_distance_is_networkx_where_float_sums_are_exact(graph: nx.DiGraph) -> None:
    """With volumes that are powers of two, networkx's float answer is the exact one, and ours must equal it."""
    assert_close(betweenness(graph, weight="distance"),
                 nx.betweenness_centrality(graph, normalized=True, weight="distance"))


def test_a_tie_that_float_rounding_splits_counts_both_paths() -> None:
    """s -> a -> b -> t (volumes 6, 1, 6: length 1/6 + 1 + 1/6 = 4/3) and s -> c -> t (3, 1: 1/3 + 1 = 4/3) are
    equally short; in floats the first sums to 1.3333333333333335, the second to 1.3333333333333333, so networkx
    with float lengths keeps only the second. Ours counts both: a and b lie on (s, b), (a, t) and half of (s, t),
    c on half of (s, t); divided by (5 - 1)(5 - 2) = 12."""
    graph = nx.DiGraph()
    for u, v, volume in [("s", "a", 6.0), ("a", "b", 1.0), ("b", "t", 6.0), ("s", "c", 3.0), ("c", "t", 1.0)]:
        graph.add_edge(u, v, volume=volume, distance=1.0 / volume)
    found = betweenness(graph, weight="distance")
    assert_close(found, {"s": 0.0, "a": 1.5 / 12, "b": 1.5 / 12, "c": 0.5 / 12, "t": 0.0})
    assert nx.betweenness_centrality(graph, weight="distance")["c"] == pytest.approx(1 / 12)


def test_betweenness_of_the_shared_five_service_map() -> None:
    """tests/transforms/analysis_map.py's flows; on them the float sums tie exactly where the lengths do."""
    graph = nx.DiGraph()
    for u, v, volume in [("A", "B", 100.0), ("C", "B", 50.0), ("B", "D", 90.0), ("B", "E", 30.0), ("D", "B", 20.0),
                         ("E", "A", 10.0), ("C", "E", 5.0)]:
        graph.add_edge(u, v, volume=volume, distance=1.0 / volume)
    assert_close(betweenness(graph, weight="distance"), nx.betweenness_centrality(graph, weight="distance"))
    assert_close(betweenness(graph), nx.betweenness_centrality(graph))
    # by steps, B lies on 6 of the 12 ordered pairs of the others: A->D, A->E, C->D, D->E, D->A, E->D
    assert betweenness(graph)["B"] == pytest.approx(6 / 12)


def test_tiny_graphs_have_no_betweenness() -> None:
    assert betweenness(nx.DiGraph()) == {}
    assert betweenness(nx.DiGraph([("a", "b")]), weight="distance") == {"a": 0.0, "b": 0.0}


@pytest.mark.parametrize("length", [0.0, -1.0, float("nan"), float("inf"), "1"])
def test_a_length_that_is_not_positive_and_finite_names_the_edge(length: object) -> None:
    graph = nx.DiGraph([("a", "b"), ("b", "c")])
    graph.edges["b", "c"]["distance"] = length
    with pytest.raises(ValueError, match=r"edge 'b' -> 'c': distance is"):
        betweenness(graph, weight="distance")


@settings(max_examples=300, deadline=None)
@given(flow_graphs(), st.integers(0, 6))
def test_bounded_cycles_are_networkx_simple_cycles(graph: nx.DiGraph, max_length: int) -> None:
    assert canonical(bounded_cycles(graph, max_length)) == canonical(nx.simple_cycles(graph,
                                                                                     length_bound=max_length))


def test_bounded_cycles_include_self_loops_and_two_way_flows() -> None:
    graph = nx.DiGraph([("a", "a"), ("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")])
    assert canonical(bounded_cycles(graph, 3)) == [("a",), ("a", "b"), ("a", "b", "c")]
    assert canonical(bounded_cycles(graph, 2)) == [("a",), ("a", "b")]
    assert bounded_cycles(graph, 0) == []
    with pytest.raises(ValueError, match="max_length must be 0 or more"):
        bounded_cycles(graph, -1)


def test_bounded_cycles_find_the_cycles_igraph_misses() -> None:
    """igraph 1.0's simple_cycles returns no cycle for this graph (igraph/igraph#2911): a service with flows into
    a two-way pair must not hide the pair's loop."""
    graph = nx.DiGraph([("s0", "s2"), ("s0", "s3"), ("s0", "s4"), ("s1", "s2"), ("s2", "s1")])
    assert canonical(bounded_cycles(graph, 4)) == [("s1", "s2")]
    ring = nx.DiGraph([(0, 4), (0, 5), (0, 2), (0, 0), (1, 4), (2, 3), (2, 4), (3, 3), (3, 4), (4, 5), (4, 0),
                       (5, 5), (5, 1)])
    assert canonical(bounded_cycles(ring, 6)) == canonical(nx.simple_cycles(ring, length_bound=6))


@pytest.fixture(scope="module")
def demo_graph(published_demo: Path) -> nx.DiGraph:
    """The demo map's flows carrying demand (volume > 0, distance 1/volume, as transforms/analyses takes them),
    from a version refreshed from its config."""
    from flows.analysis import graph_of, published_tables

    services = graph_of(published_tables(published_demo))
    flowing = nx.DiGraph()
    flowing.add_nodes_from(services.nodes)
    flowing.add_edges_from((u, v, {"volume": d["volume"], "distance": 1.0 / d["volume"]})
                           for u, v, d in services.edges(data=True) if d["volume"] > 0)
    return flowing


@pytest.mark.slow
def test_the_demo_maps_betweenness_and_loops_are_networkx(demo_graph: nx.DiGraph) -> None:
    assert demo_graph.number_of_edges() > 50
    assert_close(betweenness(demo_graph, weight="distance"),
                 nx.betweenness_centrality(demo_graph, normalized=True, weight="distance"))
    assert_close(betweenness(demo_graph), nx.betweenness_centrality(demo_graph, normalized=True))
    for max_length in (2, 4):
        assert canonical(bounded_cycles(demo_graph, max_length)) == canonical(
            nx.simple_cycles(demo_graph, length_bound=max_length))
