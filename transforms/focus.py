"""Parts of the map to draw on their own: one lane, or the services within N steps of one service. Finding the
service or lane a person names is transforms/lookup.py."""

from __future__ import annotations

import networkx as nx

from expectations.errors import UnknownReferenceError


def lane_subgraph(graph: nx.DiGraph, lane: str, neighbours: bool = False) -> nx.DiGraph:
    """The services of one lane and the flows between them (a copy). With `neighbours`, also the services outside
    the lane that send to it or receive from it, and those flows."""
    members = {node for node, lane_id in graph.nodes(data="lane") if lane_id == lane}
    if not members:
        lanes = sorted({str(lane_id) for _, lane_id in graph.nodes(data="lane") if lane_id})
        raise UnknownReferenceError(f"no service in lane {lane!r}; lanes with services: {', '.join(lanes) or 'none'}")
    keep = set(members)
    if neighbours:
        for node in members:
            keep.update(graph.predecessors(node))
            keep.update(graph.successors(node))
    subgraph = graph.subgraph(keep).copy()
    if neighbours:  # flows between two outside services are not about this lane
        subgraph.remove_edges_from([(u, v) for u, v in list(subgraph.edges) if u not in members and v not in members])
    return subgraph


def ego_subgraph(graph: nx.DiGraph, service_id: str, hops: int = 1) -> nx.DiGraph:
    """The service, every service within `hops` flows of it in either direction, and the flows among them (a
    copy)."""
    if service_id not in graph:
        raise UnknownReferenceError(f"no service with id {service_id!r} in the map")
    if hops < 0:
        raise ValueError(f"hops must be 0 or more, not {hops}")
    reach = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), service_id, cutoff=hops)
    return graph.subgraph(reach).copy()


def hops_from(graph: nx.DiGraph, service_id: str, hops: int) -> dict[str, int]:
    """Each service within `hops` flows of `service_id` (either direction) and its distance in steps."""
    return dict(nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), service_id, cutoff=hops))
