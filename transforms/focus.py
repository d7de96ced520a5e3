"""Parts of the map to draw on their own: one lane, or the services within N steps of one service; and finding a
service by its id or name."""

from __future__ import annotations

import difflib

import networkx as nx

from expectations.errors import IsmError


class FocusError(IsmError):
    """A lane or service asked for is not in the map, or a name matches several services."""


def lane_subgraph(graph: nx.DiGraph, lane: str, neighbours: bool = False) -> nx.DiGraph:
    """The services of one lane and the flows between them (a copy). With `neighbours`, also the services outside
    the lane that send to it or receive from it, and those flows."""
    members = {node for node, lane_id in graph.nodes(data="lane") if lane_id == lane}
    if not members:
        lanes = sorted({str(lane_id) for _, lane_id in graph.nodes(data="lane") if lane_id})
        raise FocusError(f"no service in lane {lane!r}; lanes with services: {', '.join(lanes) or 'none'}")
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
        raise FocusError(f"no service with id {service_id!r} in the map")
    if hops < 0:
        raise FocusError(f"hops must be 0 or more, not {hops}")
    reach = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), service_id, cutoff=hops)
    return graph.subgraph(reach).copy()


def hops_from(graph: nx.DiGraph, service_id: str, hops: int) -> dict[str, int]:
    """Each service within `hops` flows of `service_id` (either direction) and its distance in steps."""
    return dict(nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), service_id, cutoff=hops))


def resolved_service(graph: nx.DiGraph, text: str) -> str:
    """The service_id that `text` names: a service_id, or a service name (case-insensitive) that only one service
    has. Unknown or ambiguous names raise FocusError listing close matches."""
    if text in graph:
        return text
    wanted = text.strip().casefold()
    named = sorted(node for node, name in graph.nodes(data="name") if str(name).casefold() == wanted)
    if len(named) == 1:
        return named[0]
    if named:
        listed = "; ".join(f"{node} ({graph.nodes[node].get('organisation') or 'no organisation'})" for node in named)
        raise FocusError(f"{len(named)} services are named {text!r}: {listed}; pass the service_id instead")
    names = {str(name).casefold(): str(name) for _, name in graph.nodes(data="name")}
    close = [names[n] for n in difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.5)]
    close += [names[n] for n in sorted(names) if wanted and wanted in n and names[n] not in close][: 5 - len(close)]
    hint = f"; close matches: {', '.join(repr(c) for c in close)}" if close else ""
    raise FocusError(f"no service with id or name {text!r}{hint}")
