"""A planner's questions answered by descriptive arithmetic on the map graph: which services a change touches and
who holds them (impact, stakeholders), key services, loops, lane summary and initiative coverage. No forecasts.

Key services, loops, lanes, coverage and initiatives read the comparable graph (`transforms.totals.comparable_graph`):
volumes and demand in one unit, the catalogue's demand unit; every other figure is per measure
(`service_totals`, `lane_totals`), following its kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from expectations.errors import UnknownReferenceError
from transforms.centrality import betweenness, bounded_cycles
from transforms.totals import TOTAL_COLUMNS, MeasuredMap, comparable_graph, group_totals

# Activity measures counted as bed days of delayed discharge, in the order looked for (the first one a service
# reports is used). The canonical model has no "delayed" flag, so delay must be its own measure.
DELAYED_MEASURES = ("delayed_bed_days", "delayed_discharge_bed_days")
DEFAULT_LOOP_LENGTH = 4
UPSTREAM, DOWNSTREAM, FOCUS = "upstream", "downstream", "focus"

IMPACT_COLUMNS = ["direction", "hops", "service_id", "name", "lane", "organisation_id", "organisation", "partner",
                  "volume", "share_of_ring", "share_of_service"]
STAKEHOLDER_COLUMNS = ["rank", "organisation_id", "organisation", "sector", "partner", "role", "services",
                       "service_names", "volume_touched", "share_of_touched", "email", "phone", "website"]
PARTNER_COLUMNS = ["rank", "partner", "services", "volume_touched", "share_of_touched"]
KEY_SERVICE_COLUMNS = ["service_id", "name", "lane", "organisation", "partner", "activity", "demand_activity",
                       "in_volume",
                       "out_volume", "net_inflow", "imbalance", "senders", "receivers", "betweenness",
                       "betweenness_unweighted", "loops", "delayed_bed_days", "initiatives"]
LOOP_COLUMNS = ["loop", "length", "service_ids", "services", "lanes", "bottleneck_volume", "total_volume"]
LANE_SUMMARY_COLUMNS = ["lane", "services", "demand_activity", "in_volume", "inflow_from_other_lanes",
                        "outflow_to_other_lanes", "flow_within_lane", "demand", "demand_share"]
COVERAGE_COLUMNS = ["lane", "demand", "demand_share", "initiatives", "initiative_links", "initiative_share",
                    "services_with_initiatives", "coverage_gap", "initiative_names"]
INITIATIVE_COLUMNS = ["initiative_id", "name", "status", "lead_organisation", "services", "service_names", "lanes",
                      "demand_touched"]
SERVICE_TOTAL_COLUMNS = ["service_id", "name", "lane", *TOTAL_COLUMNS]
LANE_TOTAL_COLUMNS = ["lane", "services", *TOTAL_COLUMNS]
# Columns of the analysis tables in the demand unit (the catalogue's demand measures and the flows in their unit).
DEMAND_UNIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "key_services": ("demand_activity", "in_volume", "out_volume", "net_inflow"),
    "loops": ("bottleneck_volume", "total_volume"),
    "lane_summary": ("demand_activity", "in_volume", "inflow_from_other_lanes", "outflow_to_other_lanes",
                     "flow_within_lane", "demand"),
    "coverage": ("demand",),
    "initiatives": ("demand_touched",),
}


def lane_services(graph: nx.DiGraph, lane: str) -> list[str]:
    """The services in one lane, sorted by id."""
    return sorted(n for n, d in graph.nodes(data=True) if d.get("lane") == lane)


# ---- impact of a change --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """What a change to the focus services touches within `hops` steps along the flows.

    `services` has one row per (service, direction): upstream services send demand towards the focus, downstream
    services receive demand from it. `volume` is the flow a service exchanges with the ring one step nearer the
    focus (for hop 1: its flow straight into or out of the focus); `share_of_ring` is that volume as a share of
    its ring's total, `share_of_service` as a share of the service's own outflow (upstream) or inflow
    (downstream). `edges` are the flows counted, focus-internal flows included."""

    focus: tuple[str, ...]
    hops: int
    services: pd.DataFrame
    edges: tuple[tuple[str, str, float], ...]
    inflow: float  # into the focus from outside it
    outflow: float  # out of the focus to outside it
    internal: float  # between focus services

    @property
    def touched_volume(self) -> float:
        return sum(volume for _, _, volume in self.edges)


def _distances(graph: nx.DiGraph, focus: Sequence[str], hops: int, upstream: bool) -> dict[str, int]:
    """Steps from the focus along the flows (downstream) or against them (upstream), up to `hops`."""
    step: Callable[[str], Iterable[str]] = graph.predecessors if upstream else graph.successors
    distance = dict.fromkeys(focus, 0)
    frontier = list(focus)
    for hop in range(1, hops + 1):
        reached = []
        for node in frontier:
            for neighbour in sorted(step(node)):
                if neighbour not in distance:
                    distance[neighbour] = hop
                    reached.append(neighbour)
        frontier = reached
    return distance


def impact(graph: nx.DiGraph, focus: Sequence[str], hops: int = 1) -> Impact:
    """Upstream and downstream services of the focus within `hops` steps, with volumes and shares."""
    if hops < 1:
        raise ValueError("hops must be 1 or more")
    missing = [sid for sid in focus if sid not in graph]
    if missing or not focus:
        raise UnknownReferenceError(f"the focus names no service of the map: {', '.join(missing) or '(empty)'}")
    focus_set = set(focus)
    rows: list[dict[str, object]] = []
    edges: dict[tuple[str, str], float] = {}
    for direction, upstream in ((UPSTREAM, True), (DOWNSTREAM, False)):
        distance = _distances(graph, sorted(focus_set), hops, upstream)
        ring_rows: dict[int, list[dict[str, object]]] = {}
        for node, hop in distance.items():
            if hop == 0:
                continue
            if upstream:
                links = [(node, n) for n in graph.successors(node) if distance.get(n) == hop - 1]
                own = graph.nodes[node]["out_volume"]
            else:
                links = [(n, node) for n in graph.predecessors(node) if distance.get(n) == hop - 1]
                own = graph.nodes[node]["in_volume"]
            volume = 0.0
            for link in links:
                edges[link] = graph.edges[link]["volume"]
                volume += graph.edges[link]["volume"]
            data = graph.nodes[node]
            ring_rows.setdefault(hop, []).append({
                "direction": direction, "hops": hop, "service_id": node, "name": data["name"], "lane": data["lane"],
                "organisation_id": data.get("organisation_id"), "organisation": data.get("organisation"),
                "partner": data.get("partner"), "volume": volume,
                "share_of_service": volume / own if own else float("nan"),
            })
        for ring in ring_rows.values():
            total = sum(float(r["volume"]) for r in ring)  # type: ignore[arg-type, misc]
            for row in ring:
                row["share_of_ring"] = float(row["volume"]) / total if total else float("nan")  # type: ignore[arg-type]
            rows.extend(ring)
    inside = [(u, v) for u, v in graph.subgraph(focus_set).edges]
    for link in inside:
        edges[link] = graph.edges[link]["volume"]
    frame = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
    frame["_order"] = frame["direction"].map({UPSTREAM: 0, DOWNSTREAM: 1})
    frame = frame.sort_values(["_order", "hops", "volume", "name"], ascending=[True, True, False, True],
                              kind="mergesort").drop(columns="_order").reset_index(drop=True)
    inflow = sum(d["volume"] for u, v, d in graph.in_edges(focus_set, data=True) if u not in focus_set)
    outflow = sum(d["volume"] for u, v, d in graph.out_edges(focus_set, data=True) if v not in focus_set)
    return Impact(
        focus=tuple(sorted(focus_set)), hops=hops, services=frame,
        edges=tuple(sorted((u, v, volume) for (u, v), volume in edges.items())),
        inflow=float(inflow), outflow=float(outflow), internal=float(sum(edges[link] for link in inside)),
    )


def impact_subgraph(graph: nx.DiGraph, found: Impact) -> nx.DiGraph:
    """The part of the map an impact covers: the focus, its upstream and downstream services, and the flows
    counted in the impact (so the diagram shows exactly what the tables count)."""
    nodes = set(found.focus) | set(found.services["service_id"])
    sub = nx.DiGraph()
    sub.add_nodes_from((n, dict(graph.nodes[n])) for n in sorted(nodes))
    sub.add_edges_from((u, v, dict(graph.edges[u, v])) for u, v, _ in found.edges)
    return sub


def _touched_by(found: Impact, key: Callable[[str], object]) -> dict[object, float]:
    """Volume of the impact's flows with at least one end in each group (a flow inside one group counts once)."""
    touched: dict[object, float] = {}
    for source, target, volume in found.edges:
        for group in {key(source), key(target)}:
            touched[group] = touched.get(group, 0.0) + volume
    return touched


def stakeholders(graph: nx.DiGraph, found: Impact, organisations: pd.DataFrame) -> pd.DataFrame:
    """Organisations holding a service the change touches, ranked by the volume of the impact's flows that
    reach their services, with the contact details the source data carries (email, phone, website)."""
    nodes = sorted(set(found.focus) | set(found.services["service_id"]))
    roles: dict[str, set[str]] = {}
    for sid in found.focus:
        roles.setdefault(sid, set()).add(FOCUS)
    for sid, direction in zip(found.services["service_id"], found.services["direction"], strict=True):
        roles.setdefault(sid, set()).add(direction)
    touched = _touched_by(found, lambda n: graph.nodes[n].get("organisation_id"))
    contacts = organisations.set_index("organisation_id")
    total = found.touched_volume
    rows = []
    by_org: dict[str, list[str]] = {}
    for sid in nodes:
        by_org.setdefault(str(graph.nodes[sid].get("organisation_id")), []).append(sid)
    for org, members in by_org.items():
        org_roles = set().union(*(roles[sid] for sid in members))
        role = FOCUS if FOCUS in org_roles else " and ".join(r for r in (UPSTREAM, DOWNSTREAM) if r in org_roles)
        contact = contacts.loc[org] if org in contacts.index else None
        rows.append({
            "organisation_id": org,
            "organisation": graph.nodes[members[0]].get("organisation") or org,
            "sector": graph.nodes[members[0]].get("sector"), "partner": graph.nodes[members[0]].get("partner"),
            "role": role, "services": len(members),
            "service_names": LIST_SEPARATOR.join(sorted(graph.nodes[sid]["name"] for sid in members)),
            "volume_touched": touched.get(org, 0.0),
            "share_of_touched": touched.get(org, 0.0) / total if total else float("nan"),
            **{field: _text_or_none(None if contact is None else contact.get(field))
               for field in ("email", "phone", "website")},
        })
    return _ranked(pd.DataFrame(rows, columns=[c for c in STAKEHOLDER_COLUMNS if c != "rank"]), "organisation")


def affected_partners(graph: nx.DiGraph, found: Impact) -> pd.DataFrame:
    """Data partners holding a service the change touches, ranked by the volume of the impact's flows they touch."""
    nodes = sorted(set(found.focus) | set(found.services["service_id"]))
    touched = _touched_by(found, lambda n: graph.nodes[n].get("partner"))
    counts: dict[object, int] = {}
    for sid in nodes:
        counts[graph.nodes[sid].get("partner")] = counts.get(graph.nodes[sid].get("partner"), 0) + 1
    total = found.touched_volume
    frame = pd.DataFrame([{"partner": partner, "services": count, "volume_touched": touched.get(partner, 0.0),
                           "share_of_touched": touched.get(partner, 0.0) / total if total else float("nan")}
                          for partner, count in counts.items()], columns=PARTNER_COLUMNS[1:])
    return _ranked(frame, "partner")


def _ranked(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame = frame.sort_values(["volume_touched", name], ascending=[False, True], kind="mergesort")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# ---- key services and loops ----------------------------------------------------------------------------------


def _flow_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """The services and the flows that carry demand (volume > 0), each flow with distance 1/volume."""
    flowing = nx.DiGraph()
    flowing.add_nodes_from(graph.nodes)
    flowing.add_edges_from((u, v, {"distance": 1.0 / d["volume"], "volume": d["volume"]})
                           for u, v, d in graph.edges(data=True) if d.get("volume", 0) > 0)
    return flowing


def demand_loops(graph: nx.DiGraph, max_length: int = DEFAULT_LOOP_LENGTH) -> pd.DataFrame:
    """Cycles in the flow graph up to `max_length` services (e.g. return loops ED -> AMU -> ED), each starting at
    its least service_id, with the smallest flow on it (the most demand that can have gone all the way round)
    and the total flow on its links; largest bottleneck first."""
    flowing = _flow_graph(graph)
    rows = []
    for cycle in bounded_cycles(flowing, max_length):
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        links = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
        volumes = [flowing.edges[link]["volume"] for link in links]
        names = [graph.nodes[n]["name"] for n in cycle]
        rows.append({
            "length": len(cycle), "service_ids": LIST_SEPARATOR.join(cycle),
            "services": " → ".join([*names, names[0]]),
            "lanes": LIST_SEPARATOR.join(sorted({str(graph.nodes[n]["lane"]) for n in cycle})),
            "bottleneck_volume": min(volumes), "total_volume": sum(volumes),
        })
    frame = pd.DataFrame(rows, columns=LOOP_COLUMNS[1:])
    frame = frame.sort_values(["bottleneck_volume", "length", "service_ids"], ascending=[False, True, True],
                              kind="mergesort").reset_index(drop=True)
    frame.insert(0, "loop", range(1, len(frame) + 1))
    return frame


def _activity_text(measured: MeasuredMap) -> dict[str, str]:
    """Per service: each measure's period figure as a person reads it, e.g. "Admissions 17,092; Occupied bed days
    22,192" (measures apart, never added)."""
    totals = measured.services.sort_values(["service_id", "label", "measure"], kind="mergesort")
    parts: dict[str, list[str]] = {}
    for sid, label, display in zip(totals["service_id"].tolist(), totals["label"].tolist(),
                                   totals["display"].tolist(), strict=True):
        parts.setdefault(sid, []).append(f"{label} {display}")
    return {sid: "; ".join(texts) for sid, texts in parts.items()}


def _delayed(measured: MeasuredMap) -> dict[str, float]:
    totals = measured.services
    found: dict[str, float] = {}
    for measure in reversed(DELAYED_MEASURES):  # the first one a service reports wins
        for sid, value in zip(*(totals.loc[totals["measure"] == measure, c] for c in ("service_id", "value")),
                              strict=True):
            found[sid] = float(value)
    return found


def key_services(graph: nx.DiGraph, measured: MeasuredMap, loops: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every service (of a comparable graph) with its activity per measure (`activity`, text), its activity in the
    demand measures, in and out volume, net inflow (in - out), imbalance ((in - out) / (in + out), from
    -1: only sends, to 1: only receives), number of senders and receivers, betweenness (normalised; weighted:
    shortest paths use distance 1/volume, so paths along large flows count; unweighted: fewest steps), loops
    it is on (of `loops`, default: demand_loops of the graph), delayed-discharge bed days where the data has
    them (measures DELAYED_MEASURES) and initiatives. Highest weighted betweenness first."""
    flowing = _flow_graph(graph)
    weighted = betweenness(flowing, weight="distance")
    unweighted = betweenness(flowing)
    on_loops: dict[str, int] = {}
    for ids in (demand_loops(graph) if loops is None else loops)["service_ids"]:
        for sid in ids.split(LIST_SEPARATOR):
            on_loops[sid] = on_loops.get(sid, 0) + 1
    rows = []
    activity, delays = _activity_text(measured), _delayed(measured)
    for node, data in graph.nodes(data=True):
        inflow, outflow = data["in_volume"], data["out_volume"]
        rows.append({
            "service_id": node, "name": data["name"], "lane": data["lane"], "organisation": data.get("organisation"),
            "partner": data.get("partner"), "activity": activity.get(node),
            "demand_activity": data["demand_activity"], "in_volume": inflow,
            "out_volume": outflow, "net_inflow": inflow - outflow,
            "imbalance": (inflow - outflow) / (inflow + outflow) if inflow + outflow else float("nan"),
            "senders": flowing.in_degree(node), "receivers": flowing.out_degree(node),
            "betweenness": weighted[node], "betweenness_unweighted": unweighted[node],
            "loops": on_loops.get(node, 0), "delayed_bed_days": delays.get(node, float("nan")),
            "initiatives": LIST_SEPARATOR.join(data.get("initiatives") or []) or None,
        })
    frame = pd.DataFrame(rows, columns=KEY_SERVICE_COLUMNS)
    frame["_volume"] = frame["in_volume"] + frame["out_volume"]
    return frame.sort_values(["betweenness", "_volume", "name"], ascending=[False, False, True],
                             kind="mergesort").drop(columns="_volume").reset_index(drop=True)


# ---- lanes and initiative coverage ---------------------------------------------------------------------------


def _lane_order(graph: nx.DiGraph, lanes: Sequence[str]) -> list[str]:
    extra = sorted({str(d["lane"]) for _, d in graph.nodes(data=True)} - set(lanes))
    return [*lanes, *extra]


def _demand(data: Mapping[str, object]) -> float:
    """A service's demand (comparable graph): its activity in the demand measures plus the flow into it."""
    return float(data["demand_activity"]) + float(data["in_volume"])  # type: ignore[arg-type]


def lane_summary(graph: nx.DiGraph, lanes: Sequence[str]) -> pd.DataFrame:
    """Per lane (map order) of a comparable graph, in the demand unit: services, activity in the demand measures,
    inflow (all, and from other lanes), outflow to other lanes, flow
    within the lane, demand (activity + inflow) and its share of the map's demand."""
    rows: dict[object, dict[str, Any]] = {lane: {"lane": lane, **dict.fromkeys(LANE_SUMMARY_COLUMNS[1:-1], 0)}
                                          for lane in _lane_order(graph, lanes)}
    for data in graph.nodes.values():
        row = rows.get(data.get("lane"))
        if row is not None:
            row["services"] += 1
            row["demand_activity"] += data["demand_activity"]
            row["in_volume"] += data["in_volume"]
            row["demand"] += _demand(data)
    lane_of = {node: data.get("lane") for node, data in graph.nodes.items()}
    for source, target, data in graph.edges(data=True):  # one pass over the flows, however many lanes
        sending, receiving = rows.get(lane_of[source]), rows.get(lane_of[target])
        if lane_of[source] == lane_of[target]:
            if sending is not None:
                sending["flow_within_lane"] += data["volume"]
            continue
        if sending is not None:
            sending["outflow_to_other_lanes"] += data["volume"]
        if receiving is not None:
            receiving["inflow_from_other_lanes"] += data["volume"]
    frame = pd.DataFrame(list(rows.values()), columns=LANE_SUMMARY_COLUMNS[:-1])
    total = frame["demand"].sum()
    frame["demand_share"] = frame["demand"] / total if total else float("nan")
    return frame


def initiative_coverage(graph: nx.DiGraph, lanes: Sequence[str]) -> pd.DataFrame:
    """Each lane's share of demand (activity in the demand measures + inflow) beside its share of initiative links
    (one link per initiative and service it touches), so lanes with much demand and little improvement focus stand out.
    coverage_gap = initiative_share - demand_share (negative: less focus than demand). Shares are empty when
    the map has no initiatives."""
    summary = lane_summary(graph, lanes).set_index("lane")
    rows = []
    for lane in summary.index:
        members = lane_services(graph, lane)
        links = [(name, sid) for sid in members for name in graph.nodes[sid].get("initiatives") or []]
        rows.append({
            "lane": lane, "demand": summary.loc[lane, "demand"], "demand_share": summary.loc[lane, "demand_share"],
            "initiatives": len({name for name, _ in links}), "initiative_links": len(links),
            "services_with_initiatives": len({sid for _, sid in links}),
            "initiative_names": LIST_SEPARATOR.join(sorted({name for name, _ in links})) or None,
        })
    frame = pd.DataFrame(rows, columns=[c for c in COVERAGE_COLUMNS if c not in ("initiative_share", "coverage_gap")])
    total = frame["initiative_links"].sum()
    frame["initiative_share"] = frame["initiative_links"] / total if total else float("nan")
    frame["coverage_gap"] = frame["initiative_share"] - frame["demand_share"]
    return frame[COVERAGE_COLUMNS]


def initiative_table(graph: nx.DiGraph, initiatives: pd.DataFrame, organisations: pd.DataFrame) -> pd.DataFrame:
    """Each initiative with its lead organisation, the services and lanes it touches, and the demand (activity +
    inflow) of those services."""
    names = dict(zip(organisations["organisation_id"], organisations["name"], strict=True))
    rows = []
    for item in initiatives.itertuples(index=False):
        ids = [s for s in (item.service_ids.split(LIST_SEPARATOR) if isinstance(item.service_ids, str) else [])
               if s in graph]
        rows.append({
            "initiative_id": item.initiative_id, "name": item.name, "status": _text_or_none(item.status),
            "lead_organisation": names.get(item.lead_organisation_id), "services": len(ids),
            "service_names": LIST_SEPARATOR.join(sorted(graph.nodes[s]["name"] for s in ids)) or None,
            "lanes": LIST_SEPARATOR.join(sorted({str(graph.nodes[s]["lane"]) for s in ids})) or None,
            "demand_touched": sum(_demand(graph.nodes[s]) for s in ids),
        })
    return pd.DataFrame(rows, columns=INITIATIVE_COLUMNS).sort_values("initiative_id").reset_index(drop=True)


def service_totals_table(graph: nx.DiGraph, measured: MeasuredMap) -> pd.DataFrame:
    """Every service's period figure per measure, named and laned (transforms/totals.py TOTAL_COLUMNS)."""
    totals = measured.services[measured.services["service_id"].isin(list(graph.nodes))]
    frame = totals.assign(name=totals["service_id"].map(lambda n: graph.nodes[n]["name"]),
                          lane=totals["service_id"].map(lambda n: graph.nodes[n]["lane"]))
    return frame[SERVICE_TOTAL_COLUMNS].sort_values(["name", "service_id", "measure"], kind="mergesort"
                                                    ).reset_index(drop=True)


def lane_totals(graph: nx.DiGraph, lanes: Sequence[str], measured: MeasuredMap) -> pd.DataFrame:
    """Per lane (map order) and measure: the lane's figure following the measure's kind, and how many of the
    lane's services report the measure."""
    groups = {str(n): str(d["lane"]) for n, d in graph.nodes(data=True)}
    frame = group_totals(measured.services, groups, measured.catalogue, "lane")
    reporting = measured.services.assign(lane=measured.services["service_id"].map(groups)).groupby(
        ["lane", "measure"])["service_id"].nunique()
    frame["services"] = [int(reporting.get((lane, measure), 0))
                         for lane, measure in zip(frame["lane"], frame["measure"], strict=True)]
    order = {lane: i for i, lane in enumerate(_lane_order(graph, lanes))}
    frame = frame.assign(_order=frame["lane"].map(order)).sort_values(["_order", "measure"], kind="mergesort")
    return frame[LANE_TOTAL_COLUMNS].reset_index(drop=True)


def analysis_tables(graph: nx.DiGraph, lanes: Sequence[str], initiatives: pd.DataFrame,
                    organisations: pd.DataFrame, measured: MeasuredMap,
                    max_loop_length: int = DEFAULT_LOOP_LENGTH) -> dict[str, pd.DataFrame]:
    """Every analysis table of a version, by name: key_services, loops, lane_summary, coverage, initiatives (in
    the demand unit, from the comparable graph), service_totals and lane_totals (per measure)."""
    comparable = comparable_graph(graph, measured)
    loops = demand_loops(comparable, max_loop_length)
    return {
        "key_services": key_services(comparable, measured, loops),
        "loops": loops,
        "lane_summary": lane_summary(comparable, lanes),
        "coverage": initiative_coverage(comparable, lanes),
        "initiatives": initiative_table(comparable, initiatives, organisations),
        "service_totals": service_totals_table(graph, measured),
        "lane_totals": lane_totals(graph, lanes, measured),
    }
