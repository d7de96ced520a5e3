"""The map as a networkx DiGraph: services as nodes with activity and in/out volume, flows as weighted edges. Every
period figure on a node or edge follows its measure's kind (transforms/totals.py): nothing adds unlike measures."""

from __future__ import annotations

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from expectations.measures import MeasureCatalogue, catalogue_of
from transforms.totals import MeasuredMap, measured_map, totals_records

FLOW_TOTALS = "flow_totals"  # graph attribute: (from, to) -> the totals records of every flow, with an edge or not


def _figures(records: list[dict[str, object]]) -> dict[str, float]:
    """Measure -> period figure of the totals records that have one."""
    return {str(r["measure"]): float(r["value"]) for r in records if isinstance(r["value"], int | float)}


def service_graph(
    services: pd.DataFrame, organisations: pd.DataFrame, activity: pd.DataFrame, flows: pd.DataFrame,
    initiatives: pd.DataFrame | None = None, *,
    measures: pd.DataFrame | MeasureCatalogue | MeasuredMap | None = None,
) -> nx.DiGraph:
    """A DiGraph of services and flows over the whole map period.

    `measures` is the version's measure catalogue (the `measures` table or a catalogue; None: the built-in one), or
    its totals already made from these activity and flows (a MeasuredMap: not computed again).
    Node attributes: name, lane, organisation, sector, partner, activity (measure -> period figure as its kind
    says; measures with no period figure left out), totals (transforms/totals.py records per measure, with months,
    suppressed months and the display string), demand_total (the largest of its totals in the catalogue's demand
    measures, 0 without), in_volume, out_volume (the sums of its edges' `volume` in and out), initiatives (sorted
    names of the improvement initiatives touching the service; empty without an `initiatives` frame). Edge
    attributes: volume (the flow in the catalogue's demand unit: the period figures of the measures it counts as
    inflow, `catalogue.counts_as_inflow`, added; 0.0 when the flow has none of them; the analyses' weight, never a
    sum over unlike measures), measures (measure -> period figure), totals (records as for nodes), months (count
    of months with a flow), qualifiers (sorted codes seen). Flows whose every value is missing (e.g. PHS "z", not
    applicable) add no edge: there is no flow to draw; the graph attribute FLOW_TOTALS keeps the totals of every
    flow, edge or not."""
    if isinstance(measures, MeasuredMap):
        measured = measures
    else:
        catalogue = measures if isinstance(measures, MeasureCatalogue) else catalogue_of(measures)
        measured = measured_map(activity, flows, catalogue)
    catalogue = measured.catalogue
    graph = nx.DiGraph()
    orgs = {o["organisation_id"]: o for o in organisations[["organisation_id", "name", "sector", "partner"]]
            .to_dict("records")}
    for row in services.itertuples(index=False):
        org = orgs.get(row.organisation_id)
        graph.add_node(
            row.service_id,
            name=row.name,
            lane=row.lane,
            organisation_id=row.organisation_id,
            organisation=None if org is None else org["name"],
            sector=None if org is None else org["sector"],
            partner=None if org is None else org["partner"],
            activity={},
            totals=[],
            demand_total=0.0,
            in_volume=0.0,
            out_volume=0.0,
            initiatives=[],
        )
    for initiative in ([] if initiatives is None else initiatives.itertuples(index=False)):
        touched = initiative.service_ids.split(LIST_SEPARATOR) if isinstance(initiative.service_ids, str) else []
        for sid in touched:
            if sid in graph and initiative.name not in graph.nodes[sid]["initiatives"]:
                graph.nodes[sid]["initiatives"] = sorted([*graph.nodes[sid]["initiatives"], initiative.name])
    for service, records in totals_records(measured.services).items():
        if service in graph:
            node = graph.nodes[service]
            node["totals"] = records
            node["activity"] = _figures(records)
            node["demand_total"] = max((v for m, v in node["activity"].items() if m in catalogue.demand),
                                       default=0.0)
    by_flow = totals_records(measured.flows, ("from_service_id", "to_service_id"))

    drawn = flows[flows["value"].notna()]
    figures: dict[tuple[str, str], dict[str, float]] = {
        (str(pair[0]), str(pair[1])): known for pair, records in by_flow.items()  # type: ignore[index]
        if (known := _figures(records))}
    graph.graph[FLOW_TOTALS] = by_flow
    months = drawn.groupby(["from_service_id", "to_service_id"])["period_start"].nunique().to_dict()
    coded = flows[flows["qualifier"].notna()]
    qualifiers = {pair: sorted(set(q)) for pair, q in coded.groupby(["from_service_id", "to_service_id"])["qualifier"]}
    for (source, target), by_measure in figures.items():
        volume = float(sum(v for m, v in by_measure.items() if catalogue.counts_as_inflow(m)))
        graph.add_edge(source, target, volume=volume, measures=by_measure, totals=by_flow[(source, target)],
                       months=int(months[(source, target)]), qualifiers=qualifiers.get((source, target), []))
        graph.nodes[source]["out_volume"] += volume
        graph.nodes[target]["in_volume"] += volume
    return graph
