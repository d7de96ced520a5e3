"""Which flows the poster draws so that the whole system stays connected: every flow at or above a share of its
own measure's volume, each service's largest in- and outflows, at least one flow per lane; the flows left off are
bundled lane to lane with their totals per measure. Unlike measures are never added: every share, width and total
is taken within one measure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from outputs.context import PosterOptions
from outputs.poster.values import Suppressions, measure_text, number

Pair = tuple[str, str]


@dataclass(frozen=True)
class Bundle:
    """Flows left off the poster from the services of one lane to those of another (or the same) lane."""

    from_lane: str
    to_lane: str
    pairs: tuple[Pair, ...]
    totals: dict[str, float]  # measure -> total of the flows left off

    @property
    def label(self) -> str:
        return f"{len(self.pairs):,} flows: " + totals_text(self.totals)


@dataclass(frozen=True)
class FlowSelection:
    """The flows the poster draws (`shown`) and leaves off (`hidden`, bundled lane to lane in `bundles`)."""

    shown: list[Pair]
    hidden: list[Pair]
    labelled: set[Pair]
    measure_totals: dict[str, float]  # measure -> volume of all its flows
    measure_max: dict[str, float]  # measure -> its largest flow
    bundles: list[Bundle] = field(default_factory=list)
    guaranteed: set[Pair] = field(default_factory=set)  # drawn for a service or a lane, under the share

    @property
    def max_volume(self) -> float:
        return max(self.measure_max.values(), default=0.0)


def totals_text(totals: Mapping[str, float]) -> str:
    """Totals per measure, largest first: `5,627 referrals, 1,204 discharges` (never added together)."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{number(value)} {measure_text(measure)}" for measure, value in ordered) or "no known volume"


def measure_totals(graph: nx.DiGraph) -> dict[str, float]:
    totals: dict[str, float] = {}
    for _, _, data in graph.edges(data=True):
        for measure, value in (data.get("measures") or {}).items():
            totals[measure] = totals.get(measure, 0.0) + float(value)
    return dict(sorted(totals.items()))


def main_measure(data: Mapping[str, Any], totals: Mapping[str, float]) -> str | None:
    """The measure in which a flow weighs most (its largest share of that measure's volume)."""
    measures = data.get("measures") or {}
    if not measures:
        return None
    return max(sorted(measures), key=lambda m: float(measures[m]) / totals[m] if totals.get(m) else 0.0)


def flow_share(data: Mapping[str, Any], totals: Mapping[str, float]) -> float:
    """A flow's weight: its largest share of the volume of one measure."""
    measures = data.get("measures") or {}
    return max((float(v) / totals[m] for m, v in measures.items() if totals.get(m)), default=0.0)


def _largest(pairs: list[tuple[float, Pair]], count: int) -> list[Pair]:
    return [pair for _, pair in sorted(pairs, key=lambda item: (-item[0], item[1]))[:count]]


def _guaranteed(graph: nx.DiGraph, shares: Mapping[Pair, float], per_service: int) -> set[Pair]:
    """Each service's `per_service` largest outflows and inflows."""
    chosen: set[Pair] = set()
    if per_service <= 0:
        return chosen
    for node in graph.nodes:
        outs = [(shares[(str(node), str(v))], (str(node), str(v))) for v in graph.successors(node)]
        ins = [(shares[(str(u), str(node))], (str(u), str(node))) for u in graph.predecessors(node)]
        chosen.update(_largest(outs, per_service))
        chosen.update(_largest(ins, per_service))
    return chosen


def _lane_of(graph: nx.DiGraph, node: str) -> str:
    return str(graph.nodes[node].get("lane"))


def _lanes_covered(graph: nx.DiGraph, shares: Mapping[Pair, float], drawn: set[Pair]) -> set[Pair]:
    """For every lane with flows but none drawn, its largest flow."""
    touching: dict[str, list[tuple[float, Pair]]] = {}
    for pair, share in shares.items():
        for lane in {_lane_of(graph, pair[0]), _lane_of(graph, pair[1])}:
            touching.setdefault(lane, []).append((share, pair))
    covered = {lane for pair in drawn for lane in (_lane_of(graph, pair[0]), _lane_of(graph, pair[1]))}
    return {_largest(found, 1)[0] for lane, found in touching.items() if lane not in covered}


def flow_bundles(graph: nx.DiGraph, hidden: list[Pair]) -> list[Bundle]:
    """The flows left off, grouped by sending and receiving lane, with their totals per measure."""
    grouped: dict[tuple[str, str], list[Pair]] = {}
    for pair in hidden:
        grouped.setdefault((_lane_of(graph, pair[0]), _lane_of(graph, pair[1])), []).append(pair)
    bundles = []
    for (from_lane, to_lane), pairs in sorted(grouped.items()):
        totals: dict[str, float] = {}
        for u, v in pairs:
            for measure, value in (graph.edges[u, v].get("measures") or {}).items():
                totals[measure] = totals.get(measure, 0.0) + float(value)
        bundles.append(Bundle(from_lane, to_lane, tuple(sorted(pairs)), dict(sorted(totals.items()))))
    return bundles


def flow_selection(graph: nx.DiGraph, options: PosterOptions) -> FlowSelection:
    """Flows at or above `min_flow_share` of their measure's volume, each service's `service_flows` largest in-
    and outflows and, for a lane still without one, its largest flow are drawn; the rest are bundled."""
    totals = measure_totals(graph)
    shares = {(str(u), str(v)): flow_share(d, totals) for u, v, d in graph.edges(data=True)}
    by_share = {pair for pair, share in shares.items() if share > 0 and share >= options.min_flow_share}
    if options.min_flow_share == 0:
        by_share = set(shares)
    guaranteed = _guaranteed(graph, shares, options.service_flows) - by_share
    drawn = by_share | guaranteed
    lanes = _lanes_covered(graph, shares, drawn)
    guaranteed |= lanes
    drawn |= lanes
    hidden = sorted(pair for pair in shares if pair not in drawn)
    labelled = {pair for pair in drawn if shares[pair] >= options.label_flow_share}
    largest: dict[str, float] = {}
    for _, _, data in graph.edges(data=True):
        for measure, value in (data.get("measures") or {}).items():
            largest[measure] = max(largest.get(measure, 0.0), float(value))
    return FlowSelection(sorted(drawn), hidden, labelled, totals, dict(sorted(largest.items())),
                         flow_bundles(graph, hidden), guaranteed)


def withheld_flows(graph: nx.DiGraph, suppressed: Suppressions) -> list[Pair]:
    """Flows between services of the graph whose every value is suppressed (so the graph has no edge for them)."""
    return [(u, v) for u, v in suppressed.flows if u in graph and v in graph and not graph.has_edge(u, v)]


def _figure_text(value: float, measure: str, record: Mapping[str, Any] | None) -> str:
    """`1,234 referrals`, or with suppressed months as the edge's totals record says: `≥ 117 referrals (10 of 12
    months suppressed)` (only a count is at least its published cells)."""
    text = f"{number(value)} {measure_text(measure)}"
    suppressed = int((record or {}).get("suppressed_months") or 0)
    if not suppressed:
        return text
    at_least = "≥ " if (record or {}).get("kind") == "count" else ""
    months = int((record or {}).get("months") or 0)
    return f"{at_least}{text} ({suppressed} of {months} month{'' if months == 1 else 's'} suppressed)"


def flow_label(data: Mapping[str, Any], totals: Mapping[str, float]) -> str:
    """A flow's figure in its main measure (`1,234 referrals`; with suppressed months, from the edge's `totals`
    records: `≥ 117 referrals (10 of 12 months suppressed)`), and how many other measures it also carries."""
    measures = data.get("measures") or {}
    main = main_measure(data, totals)
    if main is None:
        return "c"
    record = next((r for r in data.get("totals") or [] if r.get("measure") == main), None)
    others = len(measures) - 1
    more = f" (+{others} measure{'s' if others > 1 else ''})" if others else ""
    return f"{_figure_text(float(measures[main]), main, record)}{more}"


def flow_scale(data: Mapping[str, Any], selection: FlowSelection) -> tuple[float, float]:
    """(value, largest flow) of a flow in its main measure: widths compare flows of one measure only."""
    measures = data.get("measures") or {}
    main = main_measure(data, selection.measure_totals)
    if main is None:
        return 0.0, 0.0
    return float(measures[main]), selection.measure_max.get(main, 0.0)
