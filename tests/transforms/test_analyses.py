"""Analyses on the hand-built five-service map (tests/transforms/analysis_map.py): each expected number is worked
out by hand in the test."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest

from expectations.errors import UnknownReferenceError
from expectations.measures import builtin_catalogue
from tests.transforms.analysis_map import LANES, ORG1, ORG2, ORG3, A, B, C, D, E, map_tables
from transforms.analyses import (
    affected_partners,
    analysis_tables,
    demand_loops,
    impact,
    impact_subgraph,
    initiative_coverage,
    key_services,
    lane_services,
    lane_summary,
    stakeholders,
)
from transforms.graph import service_graph
from transforms.totals import MeasuredMap, comparable_graph, measured_map


@pytest.fixture
def graph() -> nx.DiGraph:
    tables = map_tables()
    return service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows", "initiatives")))


@pytest.fixture
def measured() -> MeasuredMap:
    tables = map_tables()
    return measured_map(tables["activity"], tables["flows"], builtin_catalogue())


def _rows(found, direction: str) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    """(service, hops|volume|share_of_ring|share_of_service) -> value, for one direction."""
    rows = found.services[found.services["direction"] == direction]
    return {(r.service_id, field): float(getattr(r, field)) for r in rows.itertuples()
            for field in ("hops", "volume", "share_of_ring", "share_of_service")}


def _expected(rows: dict[str, tuple[int, float, float, float]]) -> dict[tuple[str, str], float]:
    return {(sid, field): float(value) for sid, values in rows.items()
            for field, value in zip(("hops", "volume", "share_of_ring", "share_of_service"), values, strict=True)}


def test_graph_marks_each_service_with_its_initiatives(graph: nx.DiGraph) -> None:
    assert graph.nodes[B]["initiatives"] == ["Frailty pathway", "Front door"]
    assert graph.nodes[E]["initiatives"] == ["Frailty pathway"]
    assert graph.nodes[C]["initiatives"] == []
    tables = map_tables()
    without = service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows")))
    assert without.nodes[B]["initiatives"] == []


def test_impact_one_hop_lists_who_sends_and_receives_with_shares(graph: nx.DiGraph) -> None:
    found = impact(graph, [B], hops=1)
    # into B: A 100, C 50, D 20 (ring total 170); C also sends 5 to E, so C's own share is 50 / 55
    assert _rows(found, "upstream") == pytest.approx(_expected({
        A: (1, 100.0, 100 / 170, 1.0), C: (1, 50.0, 50 / 170, 50 / 55), D: (1, 20.0, 20 / 170, 1.0)}))
    # out of B: D 90, E 30 (ring total 120); E also receives 5 from C, so its own share is 30 / 35
    assert _rows(found, "downstream") == pytest.approx(_expected({
        D: (1, 90.0, 0.75, 1.0), E: (1, 30.0, 0.25, 30 / 35)}))
    assert list(found.services["service_id"]) == [A, C, D, D, E]  # upstream first, largest volume first
    assert (found.inflow, found.outflow, found.internal) == (170.0, 120.0, 0.0)
    assert found.touched_volume == 100 + 50 + 20 + 90 + 30


def test_impact_two_hops_adds_the_next_ring(graph: nx.DiGraph) -> None:
    found = impact(graph, [B], hops=2)
    # upstream ring 2: E sends 10 to A (ring 1); downstream ring 2: A receives 10 from E (ring 1)
    ring_two_up = {key: v for key, v in _rows(found, "upstream").items() if key[0] == E}
    assert ring_two_up == pytest.approx(_expected({E: (2, 10.0, 1.0, 10 / 10)}))
    ring_two_down = {key: v for key, v in _rows(found, "downstream").items() if key[0] == A}
    assert ring_two_down == pytest.approx(_expected({A: (2, 10.0, 1.0, 10 / 10)}))
    sub = impact_subgraph(graph, found)
    assert set(sub.nodes) == {A, B, C, D, E}
    assert set(sub.edges) == {(A, B), (C, B), (D, B), (B, D), (B, E), (E, A)}  # C->E is no step towards B


def test_impact_of_a_lane_counts_its_internal_flow_apart(graph: nx.DiGraph) -> None:
    acute = lane_services(graph, "acute")
    assert acute == sorted([B, D])
    found = impact(graph, acute, hops=1)
    assert _rows(found, "upstream") == pytest.approx(_expected({
        A: (1, 100.0, 100 / 150, 1.0), C: (1, 50.0, 50 / 150, 50 / 55)}))
    assert _rows(found, "downstream") == pytest.approx(_expected({E: (1, 30.0, 1.0, 30 / 35)}))
    assert (found.inflow, found.outflow, found.internal) == (150.0, 30.0, 110.0)


def test_stakeholders_rank_organisations_by_flow_touched_with_contacts(graph: nx.DiGraph) -> None:
    found = impact(graph, [B], hops=1)
    ranked = stakeholders(graph, found, map_tables()["organisations"])
    # org1 (A, B) touches all five flows: 290; org2 (C, D): C->B 50 + D->B 20 + B->D 90 = 160; org3 (E): 30
    assert list(ranked["organisation_id"]) == [ORG1, ORG2, ORG3]
    assert list(ranked["rank"]) == [1, 2, 3]
    assert list(ranked["volume_touched"]) == [290.0, 160.0, 30.0]
    assert list(ranked["share_of_touched"]) == pytest.approx([1.0, 160 / 290, 30 / 290])
    assert list(ranked["role"]) == ["focus", "upstream and downstream", "downstream"]
    assert ranked.iloc[0]["email"] == "one@example.org" and ranked.iloc[0][["phone", "website"]].isna().all()
    assert ranked.iloc[1]["phone"] == "0100 000"
    assert ranked.iloc[2]["website"] == "https://three.example.org"
    partners = affected_partners(graph, found)
    # nhs holds A, B, C, D (every flow, counted once); council holds E
    assert partners[["partner", "services", "volume_touched"]].values.tolist() == [["nhs", 4, 290.0],
                                                                                   ["council", 1, 30.0]]


def test_key_services_volumes_imbalance_betweenness_and_delays(graph: nx.DiGraph, measured: MeasuredMap) -> None:
    table = key_services(comparable_graph(graph, measured), measured).set_index("service_id")
    assert table.loc[B, ["in_volume", "out_volume", "net_inflow"]].tolist() == [170.0, 120.0, 50.0]
    assert table.loc[B, "imbalance"] == pytest.approx(50 / 290)
    assert table.loc[C, "imbalance"] == -1.0 and table.loc[C, "senders"] == 0 and table.loc[C, "receivers"] == 2
    # unweighted shortest paths (n = 5, normalised by (n-1)(n-2) = 12): B lies on A->D, A->E, C->D, D->E, D->A,
    # E->D (6); E on B->A, C->A, D->A (3); A on E->B, E->D (2)
    assert table["betweenness_unweighted"].to_dict() == pytest.approx({A: 2 / 12, B: 6 / 12, C: 0, D: 0, E: 3 / 12})
    # by volume (distance 1/volume), C->E (5) is longer than C->B->E (1/50 + 1/30): C->E and C->A go through B too
    assert table["betweenness"].to_dict() == pytest.approx({A: 2 / 12, B: 8 / 12, C: 0, D: 0, E: 3 / 12})
    assert list(table.index[:3]) == [B, E, A]
    assert table.loc[B, "delayed_bed_days"] == 40.0 and math.isnan(table.loc[A, "delayed_bed_days"])
    assert table["loops"].to_dict() == {A: 1, B: 2, C: 0, D: 1, E: 1}
    assert table.loc[B, "initiatives"] == "Frailty pathway;Front door" and pd.isna(table.loc[C, "initiatives"])
    # activity per measure, never added: B's admissions and its delayed bed days stay apart
    assert table.loc[B, "activity"] == "Admissions 300; Delayed discharge bed days 40"
    assert table["demand_activity"].to_dict() == {A: 200.0, B: 300.0, C: 0.0, D: 0.0, E: 0.0}


def test_loops_up_to_a_length_cap(graph: nx.DiGraph) -> None:
    loops = demand_loops(graph, max_length=4)
    # B->D->B (90, 20: bottleneck 20) and A->B->E->A (100, 30, 10: bottleneck 10); C has no inflow
    assert loops[["loop", "length", "bottleneck_volume", "total_volume"]].values.tolist() == [[1, 2, 20.0, 110.0],
                                                                                           [2, 3, 10.0, 140.0]]
    first = loops.iloc[1]["service_ids"].split(";")
    assert first[0] == min(A, B, E) and set(first) == {A, B, E}
    assert loops.iloc[0]["services"] in ("Bravo → Delta → Bravo", "Delta → Bravo → Delta")
    assert len(demand_loops(graph, max_length=2)) == 1


def test_lane_summary_and_initiative_coverage(graph: nx.DiGraph, measured: MeasuredMap) -> None:
    comparable = comparable_graph(graph, measured)
    lanes = lane_summary(comparable, LANES).set_index("lane")
    assert list(lanes.index) == LANES
    # acute = B, D: arrivals (admissions; D's contacts and B's delayed bed days are other units) 300 + 0, inflow
    # 170 + 90, from other lanes A->B 100 + C->B 50, out B->E 30, within 110
    assert lanes.loc["acute", ["services", "demand_activity", "in_volume", "inflow_from_other_lanes",
                               "outflow_to_other_lanes", "flow_within_lane", "demand"]].tolist() == [
        2, 300.0, 260.0, 150.0, 30.0, 110.0, 560.0]
    # demand = arrivals + inflow: community A 200 + 10, C 0; acute 560; social_care E 0 + 35; empty 0; total 805
    assert lanes["demand_share"].to_dict() == pytest.approx(
        {"community": 210 / 805, "acute": 560 / 805, "social_care": 35 / 805, "empty_lane": 0.0})
    coverage = initiative_coverage(comparable, LANES).set_index("lane")
    # links: Frailty-B, Frailty-E, Front door-A, Front door-B: community 1, acute 2, social_care 1 of 4
    assert coverage["initiative_links"].to_dict() == {"community": 1, "acute": 2, "social_care": 1, "empty_lane": 0}
    assert coverage["initiatives"].to_dict() == {"community": 1, "acute": 2, "social_care": 1, "empty_lane": 0}
    assert coverage["coverage_gap"].to_dict() == pytest.approx({
        "community": 0.25 - 210 / 805, "acute": 0.5 - 560 / 805, "social_care": 0.25 - 35 / 805,
        "empty_lane": 0.0})
    assert coverage.loc["acute", "initiative_names"] == "Frailty pathway;Front door"


def test_coverage_without_initiatives_has_no_shares(measured: MeasuredMap) -> None:
    tables = map_tables()
    bare = service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows")))
    coverage = initiative_coverage(comparable_graph(bare, measured), LANES)
    assert coverage["initiative_share"].isna().all() and (coverage["initiative_links"] == 0).all()


def test_analysis_tables_bundle(graph: nx.DiGraph, measured: MeasuredMap) -> None:
    tables = map_tables()
    found = analysis_tables(graph, LANES, tables["initiatives"], tables["organisations"], measured)
    assert set(found) == {"key_services", "loops", "lane_summary", "coverage", "initiatives", "service_totals",
                          "lane_totals"}
    initiatives = found["initiatives"].set_index("initiative_id")
    assert initiatives.loc["frailty", "lead_organisation"] == "Org One"
    assert initiatives.loc["frailty", "demand_touched"] == 470 + 35  # B (300 + 170) and E (0 + 35)
    acute = found["lane_totals"][found["lane_totals"]["lane"] == "acute"].set_index("measure")
    assert acute["value"].to_dict() == {"admissions": 300.0, "contacts": 60.0, "delayed_bed_days": 40.0}
    assert acute["unit"].to_dict() == {"admissions": "people", "contacts": "contacts", "delayed_bed_days": "bed days"}
    assert acute.loc["admissions", "services"] == 1 and acute.loc["admissions", "months"] == 2
    assert list(found["lane_totals"]["lane"].drop_duplicates()) == ["community", "acute", "social_care"]
    assert initiatives.loc["frailty", "lanes"] == "acute;social_care"


def test_impact_refuses_an_empty_focus(graph: nx.DiGraph) -> None:
    with pytest.raises(UnknownReferenceError):
        impact(graph, [], hops=1)
