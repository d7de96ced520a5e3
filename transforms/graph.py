"""The map as a networkx DiGraph: services as nodes with activity and in/out volume, flows as weighted edges."""

from __future__ import annotations

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR


def service_graph(
    services: pd.DataFrame, organisations: pd.DataFrame, activity: pd.DataFrame, flows: pd.DataFrame,
    initiatives: pd.DataFrame | None = None,
) -> nx.DiGraph:
    """A DiGraph of services and flows over the whole map period.

    Node attributes: name, lane, organisation, sector, partner, activity (measure -> total), activity_total,
    in_volume, out_volume, initiatives (sorted names of the improvement initiatives touching the service; empty
    without an `initiatives` frame). Edge attributes: volume (sum of known values), measures (measure -> total),
    months (count of months with a flow), qualifiers (sorted codes seen). Flows whose every value is missing (e.g. PHS
    "z", not applicable) add no edge: there is no flow to draw."""
    graph = nx.DiGraph()
    orgs = organisations.set_index("organisation_id")
    for row in services.itertuples(index=False):
        org = orgs.loc[row.organisation_id] if row.organisation_id in orgs.index else None
        graph.add_node(
            row.service_id,
            name=row.name,
            lane=row.lane,
            organisation_id=row.organisation_id,
            organisation=None if org is None else org["name"],
            sector=None if org is None else org["sector"],
            partner=None if org is None else org["partner"],
            activity={},
            activity_total=0.0,
            in_volume=0.0,
            out_volume=0.0,
            initiatives=[],
        )
    for initiative in ([] if initiatives is None else initiatives.itertuples(index=False)):
        touched = initiative.service_ids.split(LIST_SEPARATOR) if isinstance(initiative.service_ids, str) else []
        for sid in touched:
            if sid in graph and initiative.name not in graph.nodes[sid]["initiatives"]:
                graph.nodes[sid]["initiatives"] = sorted([*graph.nodes[sid]["initiatives"], initiative.name])
    known = activity[activity["value"].notna()]
    for (sid, measure), total in known.groupby(["service_id", "measure"])["value"].sum().items():
        if sid in graph:
            graph.nodes[sid]["activity"][measure] = float(total)
            graph.nodes[sid]["activity_total"] += float(total)

    drawn = flows[flows["value"].notna()]
    measures: dict[tuple[str, str], dict[str, float]] = {}
    for (source, target, measure), total in drawn.groupby(["from_service_id", "to_service_id", "measure"])[
        "value"
    ].sum().items():
        measures.setdefault((source, target), {})[measure] = float(total)
    months = drawn.groupby(["from_service_id", "to_service_id"])["period_start"].nunique()
    coded = flows[flows["qualifier"].notna()]
    qualifiers = {pair: sorted(set(q)) for pair, q in coded.groupby(["from_service_id", "to_service_id"])["qualifier"]}
    for (source, target), by_measure in measures.items():
        volume = sum(by_measure.values())
        graph.add_edge(source, target, volume=volume, measures=by_measure, months=int(months.loc[(source, target)]),
                       qualifiers=qualifiers.get((source, target), []))
        graph.nodes[source]["out_volume"] += volume
        graph.nodes[target]["in_volume"] += volume
    return graph
