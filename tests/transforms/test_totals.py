"""Period totals by measure kind, with hand-computed answers, and the real PHS quarterly beds file."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from expectations.errors import ConfigError
from expectations.measures import Measure, MeasureKind, builtin_catalogue, extended_catalogue
from transforms.graph import service_graph
from transforms.totals import (
    FLOW_KEY,
    SERVICE_KEY,
    comparable_graph,
    flow_totals,
    group_totals,
    measured_map,
    service_demand,
    service_totals,
    source_totals,
    total_display,
    totals_records,
)

BEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "phs" / \
    "beds_by_nhs_board_of_treatment_and_specialty_Q3_2022.csv"


def _month(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthEnd(0)


def _activity(rows: list[tuple[str, str, str, float | None, str | None]]) -> pd.DataFrame:
    records = []
    for service, month, measure, value, qualifier in rows:
        start, end = _month(month)
        records.append({"service_id": service, "period_start": start, "period_end": end, "measure": measure,
                        "value": float("nan") if value is None else float(value), "qualifier": qualifier,
                        "source_id": "s"})
    return pd.DataFrame(records)


def _one(totals: pd.DataFrame, measure: str, service: str = "a") -> pd.Series:
    found = totals[(totals["service_id"] == service) & (totals["measure"] == measure)]
    assert len(found) == 1
    return found.iloc[0]


def test_a_count_adds_over_months_and_says_how_many_were_suppressed() -> None:
    activity = _activity([("a", "2025-01", "referrals", 10, None), ("a", "2025-02", "referrals", 20, None),
                          ("a", "2025-03", "referrals", None, "c")])
    row = _one(service_totals(activity, builtin_catalogue()), "referrals")
    assert (row["value"], row["months"], row["suppressed_months"]) == (30.0, 3, 1)
    assert row["display"] == "≥ 30 (1 of 3 months suppressed)"
    assert (row["unit"], row["kind"], row["label"]) == ("people", "count", "Referrals")


def test_a_flow_with_ten_of_twelve_months_suppressed_reads_at_least_its_published_cells() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    values: list[float | None] = [None] * 10 + [50, 67]
    rows = []
    for month, value in zip(months, values, strict=True):
        start, end = _month(month)
        rows.append({"from_service_id": "a", "to_service_id": "b", "period_start": start, "period_end": end,
                     "measure": "referrals", "value": value, "qualifier": "c" if value is None else None,
                     "source_id": "s"})
    row = flow_totals(pd.DataFrame(rows), builtin_catalogue()).iloc[0]
    assert row["value"] == 117.0  # a sum of published cells: nothing suppressed is worked out
    assert row["display"] == "≥ 117 (10 of 12 months suppressed)"


def test_a_value_missing_for_another_reason_is_not_counted_as_suppressed() -> None:
    activity = _activity([("a", "2025-01", "referrals", 10, None), ("a", "2025-02", "referrals", None, "z")])
    row = _one(service_totals(activity, builtin_catalogue()), "referrals")
    assert (row["value"], row["months"], row["suppressed_months"], row["display"]) == (10.0, 2, 0, "10")


def test_every_month_suppressed_gives_no_figure() -> None:
    activity = _activity([("a", "2025-01", "referrals", None, "c"), ("a", "2025-02", "referrals", None, "c")])
    row = _one(service_totals(activity, builtin_catalogue()), "referrals")
    assert math.isnan(row["value"]) and row["display"] == "suppressed (2 of 2 months)"


def test_a_stock_is_the_mean_of_its_months_or_the_last_month_as_declared() -> None:
    activity = _activity([("a", "2025-01", "caseload", 100, None), ("a", "2025-02", "caseload", 110, None),
                          ("a", "2025-03", "caseload", 120, None)])
    assert _one(service_totals(activity, builtin_catalogue()), "caseload")["value"] == 110.0
    last = extended_catalogue([Measure("caseload", "Caseload", "people", MeasureKind.STOCK,
                                       stock_figure="last")])  # type: ignore[arg-type]
    assert _one(service_totals(activity, last), "caseload")["value"] == 120.0


def test_stocks_add_over_services_but_not_over_months() -> None:
    activity = _activity([("a", "2025-01", "caseload", 100, None), ("a", "2025-02", "caseload", 110, None),
                          ("b", "2025-01", "caseload", 40, None), ("b", "2025-02", "caseload", 60, None)])
    catalogue = builtin_catalogue()
    lane = group_totals(service_totals(activity, catalogue), {"a": "x", "b": "x"}, catalogue, "lane").iloc[0]
    assert lane["value"] == 105.0 + 50.0


def test_an_average_is_averaged_over_months_weighted_by_their_days() -> None:
    activity = _activity([("a", "2025-01", "average_available_beds", 10, None),
                          ("a", "2025-02", "average_available_beds", 20, None)])
    row = _one(service_totals(activity, builtin_catalogue()), "average_available_beds")
    assert row["value"] == pytest.approx((10 * 31 + 20 * 28) / 59)
    lane = group_totals(service_totals(activity, builtin_catalogue()), {"a": "x"}, builtin_catalogue()).iloc[0]
    assert math.isnan(lane["value"]) and lane["display"] == "not added over services (average)"


def test_a_percentage_is_recomputed_from_numerator_and_denominator_never_summed() -> None:
    activity = _activity([
        ("a", "2025-01", "occupied_bed_days", 80, None), ("a", "2025-02", "occupied_bed_days", 90, None),
        ("a", "2025-01", "staffed_bed_days", 100, None), ("a", "2025-02", "staffed_bed_days", 200, None),
        ("a", "2025-01", "percentage_occupancy", 80, None), ("a", "2025-02", "percentage_occupancy", 45, None),
        ("b", "2025-01", "occupied_bed_days", 30, None), ("b", "2025-01", "staffed_bed_days", 100, None),
        ("b", "2025-01", "percentage_occupancy", 30, None),
    ])
    catalogue = builtin_catalogue()
    totals = service_totals(activity, catalogue)
    row = _one(totals, "percentage_occupancy")
    assert row["value"] == pytest.approx(170 / 300 * 100)  # not 125 (summed), not 62.5 (mean of months)
    assert (row["numerator"], row["denominator"], row["display"]) == (170.0, 300.0, "56.7%")
    lane = group_totals(totals, {"a": "x", "b": "x"}, catalogue, "lane")
    assert lane.set_index("measure").loc["percentage_occupancy", "value"] == pytest.approx(200 / 400 * 100)


def test_a_percentage_without_numerator_and_denominator_is_shown_per_month_only() -> None:
    catalogue = extended_catalogue([Measure("seen_within_4h", "Seen within 4 hours", "%",
                                            MeasureKind.PERCENTAGE)])
    activity = _activity([("a", "2025-01", "seen_within_4h", 90, None), ("a", "2025-02", "seen_within_4h", 80, None)])
    row = _one(service_totals(activity, catalogue), "seen_within_4h")
    assert math.isnan(row["value"]) and row["display"] == "per month only"


def test_a_part_is_never_added_to_its_whole() -> None:
    activity = _activity([("a", "2025-01", "bed_days", 200, None), ("a", "2025-02", "bed_days", 100, None),
                          ("a", "2025-01", "delayed_bed_days", 40, None),
                          ("a", "2025-02", "delayed_bed_days", 20, None)])
    catalogue = builtin_catalogue()
    totals = service_totals(activity, catalogue)
    assert _one(totals, "bed_days")["value"] == 300.0
    assert _one(totals, "delayed_bed_days")["value"] == 60.0
    assert catalogue.get("delayed_bed_days").part_of == "bed_days"
    with pytest.raises(ConfigError, match="part of 'bed_days'"):
        extended_catalogue([], demand=["bed_days", "delayed_bed_days"])


def test_demand_adds_only_the_declared_measures_and_flows_in_their_unit() -> None:
    activity = _activity([("a", "2025-01", "admissions", 10, None), ("a", "2025-01", "bed_days", 500, None),
                          ("a", "2025-02", "caseload", 7, None)])
    start, end = _month("2025-01")
    flows = pd.DataFrame([
        {"from_service_id": "b", "to_service_id": "a", "period_start": start, "period_end": end,
         "measure": "transfers", "value": 4.0, "qualifier": None, "source_id": "s"},
        {"from_service_id": "b", "to_service_id": "a", "period_start": start, "period_end": end,
         "measure": "care_hours", "value": 99.0, "qualifier": None, "source_id": "s"},
    ])
    catalogue = builtin_catalogue()
    demand = service_demand(service_totals(activity, catalogue), flow_totals(flows, catalogue), catalogue)
    a = demand.set_index("service_id").loc["a"]
    assert (a["demand_activity"], a["in_volume"], a["demand"]) == (10.0, 4.0, 14.0)
    assert demand.set_index("service_id").loc["b", "out_volume"] == 4.0


def _flows(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    start, end = _month("2025-01")
    return pd.DataFrame([{"from_service_id": f, "to_service_id": t, "period_start": start, "period_end": end,
                          "measure": m, "value": float("nan") if v is None else v,
                          "qualifier": "c" if v is None else None, "source_id": "s"} for f, t, m, v in rows])


def test_graph_edges_and_node_volumes_are_flows_in_the_demand_unit_only() -> None:
    flows = _flows([("b", "a", "transfers", 4.0), ("b", "a", "referrals", 6.0), ("b", "a", "care_hours", 99.0),
                    ("b", "a", "home_visits", 3.0), ("a", "c", "care_hours", 50.0)])
    services = pd.DataFrame({"service_id": ["a", "b", "c"], "name": ["A", "B", "C"], "organisation_id": "o",
                             "lane": "acute"})
    organisations = pd.DataFrame({"organisation_id": ["o"], "name": ["O"], "sector": ["nhs"], "partner": ["p"]})
    activity = _activity([("a", "2025-01", "admissions", 10, None)])
    graph = service_graph(services, organisations, activity, flows)
    edge = graph.edges["b", "a"]
    assert edge["volume"] == 10.0  # transfers + referrals (people); not care hours, not home visits (contacts)
    assert edge["measures"] == {"care_hours": 99.0, "home_visits": 3.0, "referrals": 6.0, "transfers": 4.0}
    assert graph.edges["a", "c"]["volume"] == 0.0  # care hours only: drawn, but no flow in the demand unit
    assert (graph.nodes["a"]["in_volume"], graph.nodes["a"]["out_volume"], graph.nodes["b"]["out_volume"]) == (
        10.0, 0.0, 10.0)
    comparable = comparable_graph(graph, measured_map(activity, flows, builtin_catalogue()))
    assert list(comparable.edges) == [("b", "a")] and comparable.edges["b", "a"]["volume"] == 10.0
    assert comparable.nodes["a"]["demand_activity"] == 10.0 and comparable.nodes["a"]["in_volume"] == 10.0


def test_source_totals_follow_kinds_over_services_and_count_suppressed_cells() -> None:
    activity = _activity([("a", "2025-01", "referrals", 10, None), ("b", "2025-01", "referrals", None, "c"),
                          ("a", "2025-01", "caseload", 7, None), ("a", "2025-02", "caseload", 9, None),
                          ("b", "2025-01", "caseload", 2, None),
                          ("a", "2025-01", "average_available_beds", 3, None),
                          ("b", "2025-01", "average_available_beds", 5, None)])
    totals = source_totals(activity, SERVICE_KEY, builtin_catalogue()).set_index("measure")
    assert (totals.loc["referrals", "value"], totals.loc["referrals", "suppressed_cells"]) == (10.0, 1)
    assert totals.loc["referrals", "display"] == "≥ 10 (1 of 1 month with suppressed cells)"
    assert totals.loc["caseload", "value"] == 8.0 + 2.0  # the mean month of a (7, 9), plus b
    assert math.isnan(totals.loc["average_available_beds", "value"])  # two services' averages: not added
    flows = source_totals(_flows([("b", "a", "referrals", 6.0), ("c", "a", "referrals", 2.0)]), FLOW_KEY,
                          builtin_catalogue())
    assert flows[["source_id", "measure", "value"]].values.tolist() == [["s", "referrals", 8.0]]


def test_an_undeclared_measure_is_a_count_of_its_own_unit() -> None:
    catalogue = builtin_catalogue()
    assert catalogue.undeclared(["referrals", "widgets"]) == ["widgets"]
    assert catalogue.get("widgets").unit == "widgets"


def test_the_display_of_a_lane_total_says_its_cells_not_its_months_were_suppressed() -> None:
    assert total_display(117.0, "count", 12, 3, across_services=True) == "≥ 117 (3 of 12 months with suppressed cells)"


# ---- the real quarterly beds file ----------------------------------------------------------------------------


def _quarter(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Period(label, freq="Q").start_time.normalize()
    return start, pd.Period(label, freq="Q").end_time.normalize()


@pytest.fixture(scope="module")
def beds() -> pd.DataFrame:
    if not BEDS.is_file():
        pytest.skip(f"{BEDS} is not here (../shared/data is part of CI)")
    frame = pd.read_csv(BEDS, dtype=str, keep_default_na=False)
    frame = frame[(frame["SpecialtyName"] == "All Specialties")
                  & frame["Quarter"].isin(["2018Q1", "2018Q2", "2018Q3", "2018Q4"])]
    for column in ("AllStaffedBeddays", "TotalOccupiedBeddays", "AverageAvailableStaffedBeds",
                   "PercentageOccupancy"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _beds_activity(rows: pd.DataFrame) -> pd.DataFrame:
    """The activity frame of hospital rows: one row per hospital, quarter and measure."""
    measures = {"AllStaffedBeddays": "staffed_bed_days", "TotalOccupiedBeddays": "occupied_bed_days",
                "AverageAvailableStaffedBeds": "average_available_beds", "PercentageOccupancy": "percentage_occupancy"}
    records = []
    for row in rows.to_dict("records"):
        start, end = _quarter(row["Quarter"])
        for column, measure in measures.items():
            records.append({"service_id": row["Location"], "period_start": start, "period_end": end,
                            "measure": measure, "value": row[column], "qualifier": None, "source_id": "phs_beds"})
    return pd.DataFrame(records)


def test_real_beds_add_up_average_and_recompute_occupancy_as_the_file_does(beds: pd.DataFrame) -> None:
    scotland = "S92000003"
    boards = beds[(beds["Location"] == beds["HB"]) & (beds["HB"] != scotland)]  # each board's own total row
    country = beds[beds["Location"] == scotland]
    assert boards["Location"].nunique() >= 14 and len(country) == 4
    catalogue = builtin_catalogue()
    totals = service_totals(_beds_activity(boards), catalogue)
    whole = group_totals(totals, dict.fromkeys(boards["Location"], scotland), catalogue).set_index("measure")

    # staffed and occupied bed days add over quarters and boards to Scotland's own figures for the year
    assert whole.loc["staffed_bed_days", "value"] == country["AllStaffedBeddays"].sum()
    assert whole.loc["occupied_bed_days", "value"] == country["TotalOccupiedBeddays"].sum()
    assert whole.loc["staffed_bed_days", "months"] == 12

    # average available beds over the year: the day-weighted mean of the quarters = the year's staffed bed days / 365
    for board, part in boards.groupby("Location"):
        found = _one(totals, "average_available_beds", board)["value"]
        assert found == pytest.approx(part["AllStaffedBeddays"].sum() / 365, rel=1e-9)
        assert found != pytest.approx(part["AverageAvailableStaffedBeds"].sum())

    # occupancy over the year: occupied over staffed bed days, as the file computes each quarter's figure
    assert whole.loc["percentage_occupancy", "value"] == pytest.approx(
        100 * country["TotalOccupiedBeddays"].sum() / country["AllStaffedBeddays"].sum())
    for quarter, part in country.groupby("Quarter"):
        one = service_totals(_beds_activity(boards[boards["Quarter"] == quarter]), catalogue)
        recomputed = group_totals(one, dict.fromkeys(boards["Location"], scotland), catalogue).set_index("measure")
        assert recomputed.loc["percentage_occupancy", "value"] == pytest.approx(
            part["PercentageOccupancy"].iloc[0], rel=1e-9)
    for board, part in boards.groupby("Location"):
        assert _one(totals, "percentage_occupancy", board)["value"] == pytest.approx(
            100 * part["TotalOccupiedBeddays"].sum() / part["AllStaffedBeddays"].sum())


def test_totals_as_records_per_service_for_the_writers() -> None:
    activity = _activity([("a", "2025-01", "referrals", 10, None), ("a", "2025-02", "referrals", None, "c"),
                          ("a", "2025-01", "caseload", 7, None), ("b", "2025-01", "seen_within_4h", 90, None)])
    records = totals_records(service_totals(activity, builtin_catalogue()))
    assert [r["measure"] for r in records["a"]] == ["caseload", "referrals"]  # by label: Caseload, Referrals
    assert records["a"][1] == {"measure": "referrals", "label": "Referrals", "unit": "people", "kind": "count",
                               "value": 10.0, "months": 2, "suppressed_months": 1, "numerator": None,
                               "denominator": None, "display": "≥ 10 (1 of 2 months suppressed)"}
    assert records["b"][0]["unit"] == "seen_within_4h"  # undeclared: a count of its own unit
