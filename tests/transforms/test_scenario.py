"""To-be scenarios on the hand-built five-service map: each expected table row is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.errors import ConfigError
from expectations.measures import builtin_catalogue
from tests.transforms.analysis_map import LANES, A, B, C, D, E, map_tables
from transforms.consolidate import service_id
from transforms.diff import diff_graph
from transforms.scenario import ChangeSet, LaneChange, Merge, NewService, Removal, Reroute, applied_scenario
from transforms.totals import service_totals

HAH = service_id("scenario", "hah")
FULL = ChangeSet(
    title="To-be",
    add=(NewService("hah", "Hospital at Home", "community", "nhs", "home", {"contacts": 120}),),
    reroute=(Reroute("Alpha", "nhs:B", "scenario:hah", 0.2),),
    merge=(Merge(("Delta", "Echo"), "Delta and Echo"),),
    change_lane=(LaneChange("Charlie", "acute"),),
)


def _flows(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str], float]:
    flows = tables["flows"]
    return flows.groupby(["from_service_id", "to_service_id"])["value"].sum().to_dict()


def _change(changes: pd.DataFrame, element: str, change: str) -> set[str]:
    return set(changes.loc[(changes["element"] == element) & (changes["change"] == change), "name"])


def test_add_reroute_merge_and_move_give_the_to_be_tables() -> None:
    result = applied_scenario(map_tables(), FULL, LANES)
    # A->B 100: 20% (20) re-routed to the new service; E merged into D: B->E 30 joins B->D 90, E->A becomes D->A,
    # C->E becomes C->D
    assert _flows(result.tables) == {(A, B): 80.0, (A, HAH): 20.0, (C, B): 50.0, (B, D): 120.0, (D, B): 20.0,
                                     (D, A): 10.0, (C, D): 5.0}
    services = result.tables["services"].set_index("service_id")
    assert sorted(services.index) == sorted([A, B, C, D, HAH])
    assert services.loc[D, "name"] == "Delta and Echo" and services.loc[C, "lane"] == "acute"
    assert services.loc[HAH, ["name", "lane", "setting", "source_id"]].tolist() == [
        "Hospital at Home", "community", "home", "scenario"]
    activity = result.tables["activity"]
    # D contacts 60 + E contacts 100; the new service's 120 contacts spread over the map's two months
    assert activity.loc[activity["service_id"] == D, "value"].tolist() == [160.0]
    assert activity.loc[activity["service_id"] == HAH, "value"].tolist() == [60.0, 60.0]
    assert result.tables["initiatives"].set_index("initiative_id").loc["frailty", "service_ids"] == ";".join(
        sorted([B, D]))
    assert result.to_be.nodes[HAH]["in_volume"] == 20.0 and result.as_is.edges[A, B]["volume"] == 100.0


def test_changes_say_what_was_added_removed_and_changed() -> None:
    changes = applied_scenario(map_tables(), FULL, LANES).changes
    assert _change(changes, "service", "added") == {"Hospital at Home"}
    assert _change(changes, "service", "removed") == {"Echo"}
    assert _change(changes, "flow", "added") == {"Alpha → Hospital at Home", "Delta and Echo → Alpha",
                                                 "Charlie → Delta and Echo"}
    assert _change(changes, "flow", "removed") == {"Bravo → Echo", "Echo → Alpha", "Charlie → Echo"}
    flows = changes[(changes["element"] == "flow") & (changes["change"] == "changed")].set_index("name")
    assert flows.loc["Alpha → Bravo", ["value_before", "value_after", "relative_change"]].tolist() == [
        100.0, 80.0, pytest.approx(-0.2)]
    assert flows.loc["Alpha → Bravo", "note"] == "20% re-routed to Hospital at Home"
    assert flows.loc["Bravo → Delta and Echo", "relative_change"] == pytest.approx(30 / 90)
    services = changes[changes["element"] == "service"].set_index(["name", "attribute"])
    assert services.loc[("Echo", "lane"), "note"] == "merged into Delta and Echo"
    assert services.loc[("Delta and Echo", "merged"), "note"] == "merged with Echo"
    assert services.loc[("Delta and Echo", "name"), ["before", "after"]].tolist() == ["Delta", "Delta and Echo"]
    assert services.loc[("Charlie", "lane"), ["before", "after"]].tolist() == ["community", "acute"]
    untouched = changes[changes["name"].isin(["Charlie → Bravo", "Delta and Echo → Bravo"])]
    assert untouched.empty  # flows that did not move are not listed


def test_diff_graph_marks_added_removed_and_changed() -> None:
    result = applied_scenario(map_tables(), FULL, LANES)
    graph = diff_graph(result.as_is, result.to_be, result.changes)
    assert {n: graph.nodes[n]["change"] for n in graph} == {
        A: "unchanged", B: "unchanged", C: "changed", D: "changed", E: "removed", HAH: "added"}
    assert graph.edges[E, A]["change"] == "removed" and graph.edges[A, HAH]["change"] == "added"
    assert graph.edges[A, B]["change"] == "changed" and graph.edges[C, B]["change"] == "unchanged"


def test_merging_drops_the_flow_between_the_merged_services() -> None:
    result = applied_scenario(map_tables(), ChangeSet("m", merge=(Merge((B, D)),)), LANES)
    # B->D 90 and D->B 20 become internal; A->B, C->B, B->E stay
    assert _flows(result.tables) == {(A, B): 100.0, (C, B): 50.0, (B, E): 30.0, (E, A): 10.0, (C, E): 5.0}
    note = result.changes.set_index("attribute").loc["merged", "note"]
    assert note == "merged with Delta; the flow between them (110) is now internal"


def test_removing_a_service_drops_its_activity_flows_and_initiative_links() -> None:
    result = applied_scenario(map_tables(), ChangeSet("r", remove=(Removal("Echo"),)), LANES)
    assert _flows(result.tables) == {(A, B): 100.0, (C, B): 50.0, (B, D): 90.0, (D, B): 20.0}
    assert E not in set(result.tables["activity"]["service_id"])
    assert result.tables["initiatives"].set_index("initiative_id").loc["frailty", "service_ids"] == B


@pytest.mark.parametrize(("change_set", "message"), [
    (ChangeSet("x", reroute=(Reroute("Alpha", "Charlie", "Bravo", 0.5, "reroute[0]"),)),
     r"reroute\[0\]: the as-is map has no flow from 'Alpha' to 'Charlie'"),
    (ChangeSet("x", reroute=(Reroute("Alpha", "Bravo", "Brav", 0.5, "reroute[0]"),)),
     r"reroute\[0\]\.instead_to: unknown service 'Brav'; close matches: 'Bravo'"),
    (ChangeSet("x", change_lane=(LaneChange("Alpha", "nowhere", "change_lane[0]"),)),
     r"change_lane\[0\]\.lane: unknown lane 'nowhere'"),
    (ChangeSet("x", add=(NewService("n", "Alpha", "acute", "nhs", where="add[0]"),)),
     r"add\[0\]\.name: a service named 'Alpha' is already on the map"),
    (ChangeSet("x", add=(NewService("n", "New", "acute", "nobody", where="add[0]"),)),
     r"add\[0\]\.organisation: unknown organisation 'nobody'"),
    (ChangeSet("x", merge=(Merge(("Alpha", "alpha"), where="merge[1]"),)),
     r"merge\[1\]\.services: name at least two different services"),
])
def test_a_wrong_change_set_names_the_key(change_set: ChangeSet, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        applied_scenario(map_tables(), change_set, LANES)


def _with_beds(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """D and E each report caseload (a stock) and average available beds in April."""
    april = tables["activity"][tables["activity"]["service_id"] == D].iloc[0]
    extra = pd.DataFrame([
        {**april.to_dict(), "service_id": D, "measure": "caseload", "value": 40.0},
        {**april.to_dict(), "service_id": E, "measure": "caseload", "value": 10.0},
        {**april.to_dict(), "service_id": D, "measure": "average_available_beds", "value": 20.0},
        {**april.to_dict(), "service_id": E, "measure": "average_available_beds", "value": 12.0},
    ])
    tables["activity"] = pd.concat([tables["activity"], extra], ignore_index=True)
    return tables


def test_a_merge_adds_stocks_but_not_averages_and_a_new_service_repeats_a_stock() -> None:
    change_set = ChangeSet("To-be", add=(NewService("hah", "Hospital at Home", "community", "nhs",
                                                    activity={"caseload": 30, "contacts": 120}),),
                           merge=(Merge(("Delta", "Echo")),))
    result = applied_scenario(_with_beds(map_tables()), change_set, LANES)
    activity = result.tables["activity"]

    def values(sid: str, measure: str) -> list[float]:
        return activity.loc[(activity["service_id"] == sid) & (activity["measure"] == measure), "value"].tolist()

    assert values(D, "caseload") == [50.0]  # caseloads add over services
    found = activity[(activity["service_id"] == D) & (activity["measure"] == "average_available_beds")]
    assert found["value"].isna().all() and found["qualifier"].tolist() == [":"]  # averages do not add
    assert values(HAH, "caseload") == [30.0, 30.0]  # a stock is its figure every month
    assert values(HAH, "contacts") == [60.0, 60.0]  # a count is spread over the months
    merged = result.changes[result.changes["attribute"] == "merged"].iloc[0]
    assert "average_available_beds of the merged services cannot be added" in merged["note"]
    totals = service_totals(result.tables["activity"], builtin_catalogue()).set_index(["service_id", "measure"])
    assert totals.loc[(HAH, "caseload"), "value"] == 30.0  # the mean of the months, as declared
    delta = result.changes[(result.changes["element"] == "activity") & (result.changes["name"] == "Delta")]
    assert delta.set_index("attribute").loc["caseload", ["value_before", "value_after", "unit"]].tolist() == [
        40.0, 50.0, "people"]
    assert set(result.tables["measures"]["measure"]) >= {"caseload", "average_available_beds", "contacts"}
