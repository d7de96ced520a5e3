"""Parts of the map: one lane, the services around one service, (finding a service: test_lookup.py)."""

from __future__ import annotations

import networkx as nx
import pytest

from expectations.errors import UnknownReferenceError
from transforms.focus import ego_subgraph, hops_from, lane_subgraph


@pytest.fixture
def graph() -> nx.DiGraph:
    """a -> b -> c -> d, e -> b, with a and e in lane x, b and c in lane y, d in lane z."""
    g = nx.DiGraph()
    for node, lane, name in [("a", "x", "Alpha"), ("b", "y", "Bravo"), ("c", "y", "Charlie"), ("d", "z", "Delta"),
                             ("e", "x", "Echo Team"), ("f", "z", "Bravo")]:
        g.add_node(node, lane=lane, name=name, organisation=f"Org {node}")
    g.add_edges_from([("a", "b"), ("b", "c"), ("c", "d"), ("e", "b")], volume=1.0)
    return g


def test_lane_subgraph_keeps_the_lane_and_the_flows_inside_it(graph: nx.DiGraph) -> None:
    part = lane_subgraph(graph, "y")
    assert set(part.nodes) == {"b", "c"} and set(part.edges) == {("b", "c")}
    assert part.nodes["b"]["name"] == "Bravo"
    part.nodes["b"]["name"] = "changed"
    assert graph.nodes["b"]["name"] == "Bravo"  # a copy


def test_lane_subgraph_with_neighbours_adds_who_it_exchanges_flows_with(graph: nx.DiGraph) -> None:
    part = lane_subgraph(graph, "y", neighbours=True)
    assert set(part.nodes) == {"a", "b", "c", "d", "e"}
    assert set(part.edges) == {("a", "b"), ("b", "c"), ("c", "d"), ("e", "b")}
    graph.add_edge("a", "e", volume=1.0)  # between two outside services: not about lane y
    assert ("a", "e") not in lane_subgraph(graph, "y", neighbours=True).edges


def test_an_empty_or_unknown_lane_is_an_error_naming_the_lanes(graph: nx.DiGraph) -> None:
    with pytest.raises(UnknownReferenceError, match=r"no service in lane 'w'; lanes with services: x, y, z"):
        lane_subgraph(graph, "w")


def test_ego_subgraph_follows_flows_both_ways(graph: nx.DiGraph) -> None:
    assert set(ego_subgraph(graph, "c", 0).nodes) == {"c"}
    assert set(ego_subgraph(graph, "c", 1).nodes) == {"b", "c", "d"}
    two = ego_subgraph(graph, "c", 2)
    assert set(two.nodes) == {"a", "b", "c", "d", "e"}
    assert set(two.edges) == {("a", "b"), ("b", "c"), ("c", "d"), ("e", "b")}
    assert hops_from(graph, "c", 2) == {"c": 0, "b": 1, "d": 1, "a": 2, "e": 2}
    with pytest.raises(UnknownReferenceError, match="no service with id 'zz'"):
        ego_subgraph(graph, "zz")
    with pytest.raises(ValueError, match="hops must be 0 or more"):
        ego_subgraph(graph, "c", -1)
