"""Pure quality helpers on small literal frames: reject shares, coverage, volume change, lanes, outliers, the
top reasons for rejection and the run's summary; and pandera validating big frames in slices."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from expectations.canonical import month_label
from expectations.checks import RejectRecord
from expectations.measures import Measure, MeasureKind, builtin_catalogue, extended_catalogue
from expectations.suite import CheckResult
from transforms import standardise
from transforms.quality_summary import (
    checked_sources,
    lane_counts,
    month_coverage,
    monthly_outliers,
    quality_summary,
    reject_share,
    service_flags,
    top_rejects,
    volume_changes,
)
from transforms.rejects import rejects_frame

MONTHS = ["2025-04", "2025-05", "2025-06"]
CATALOGUE = builtin_catalogue()


def measured(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """source_id, service_id, month, value rows as an activity frame."""
    starts = pd.to_datetime([f"{r[2]}-01" for r in rows])
    return pd.DataFrame({
        "source_id": [r[0] for r in rows], "service_id": [r[1] for r in rows],
        "period_start": starts, "period_end": starts + pd.offsets.MonthEnd(0), "measure": "attendances",
        "value": [r[3] for r in rows], "qualifier": pd.Series([None] * len(rows), dtype="object"),
    })


def test_reject_share_only_gates_fresh_sources() -> None:
    assert reject_share(3, 0) == 0.0 and reject_share(1, 4) == 0.25 and reject_share(9, 4) == 1.0
    sources = pd.DataFrame({"source_id": ["a", "b", "c"], "rows_read": [10, 10, 10], "rows_rejected": [1, 5, 5],
                            "status": ["ok", "warn", "stale"]})
    shares = checked_sources(sources)
    assert shares["reject_share"].tolist()[:2] == [0.1, 0.5] and pd.isna(shares["reject_share"][2])


def test_month_coverage_lists_the_missing_months_per_source_and_table() -> None:
    tables = {"activity": measured([("a", "s", "2025-04", 1), ("a", "s", "2025-06", 1)]),
              "flows": measured([])}
    coverage = month_coverage(tables, MONTHS, {"a": ["activity"], "f": ["flows"]})
    assert coverage.values.tolist() == [["a", "activity", 1, "2025-05"], ["f", "flows", 3, " ".join(MONTHS)]]


def test_volume_change_against_the_previous_version() -> None:
    now = {"activity": measured([("a", "s", "2025-04", 30), ("new", "s", "2025-04", 5)]), "flows": measured([])}
    before = {"activity": measured([("a", "s", "2025-04", 10), ("gone", "s", "2025-04", 8)]),
              "flows": measured([])}
    changes = volume_changes(now, before, CATALOGUE).set_index("source_id")
    assert changes.loc["a", "change"] == 2.0 and changes.loc["a", "change_display"] == "+200%"
    assert changes.loc["gone", "change"] == -1.0 and changes.loc["gone", "volume"] == 0.0
    assert changes.loc["gone", "change_display"] == "-100%"
    assert pd.isna(changes.loc["new", "change"]) and pd.isna(changes.loc["new", "previous"])
    assert changes.loc["new", "change_display"] == "new"
    first = volume_changes(now, None, CATALOGUE)
    assert first["change"].isna().all() and set(first["change_display"]) == {"–"}


def kinds_rows(source: str, service: str, measure: str, values: list[float | None]) -> list[dict[str, object]]:
    """Activity rows of April, May and June 2025 (30, 31, 30 days); None is a suppressed cell ("c")."""
    return [{"source_id": source, "service_id": service, "measure": measure,
             "period_start": pd.Timestamp(f"{m}-01"), "period_end": pd.Timestamp(f"{m}-01") + pd.offsets.MonthEnd(0),
             "value": v, "qualifier": "c" if v is None else None} for m, v in zip(MONTHS, values, strict=True)]


def kinds_activity(extra: list[dict[str, object]] = ()) -> pd.DataFrame:  # type: ignore[assignment]
    rows = [*kinds_rows("beds", "h1", "occupied_bed_days", [80, 90, 100]),
            *kinds_rows("beds", "h2", "occupied_bed_days", [10, 20, 30]),
            *kinds_rows("beds", "h1", "staffed_bed_days", [100, 100, 100]),
            *kinds_rows("beds", "h2", "staffed_bed_days", [50, 50, 50]),
            *kinds_rows("beds", "h1", "percentage_occupancy", [80, 90, 100]),
            *kinds_rows("beds", "h2", "percentage_occupancy", [20, 40, 60]),
            *kinds_rows("beds", "h1", "average_available_beds", [3, 3, 4]),
            *kinds_rows("beds", "h2", "average_available_beds", [2, 2, 2]),
            *kinds_rows("beds", "h1", "caseload", [10, 20, 30]),
            *kinds_rows("beds", "h2", "caseload", [5, 5, 5]),
            *kinds_rows("one", "s", "average_available_beds", [3, 3, 4]),
            *kinds_rows("one", "s", "percent_seen", [50, 60, 70]), *extra]
    return pd.DataFrame(rows)


def test_volume_figures_follow_each_measures_kind_never_adding_percentages_or_averages() -> None:
    catalogue = extended_catalogue([Measure("percent_seen", "Seen", "%", MeasureKind.PERCENTAGE)])
    tables = {"activity": kinds_activity(), "flows": pd.DataFrame()}
    figures = volume_changes(tables, tables, catalogue).set_index(["source_id", "measure"])
    beds = figures.loc["beds"]
    assert beds.loc["occupied_bed_days", "volume"] == 330.0  # 270 + 60: a count adds
    assert beds.loc["percentage_occupancy", "volume"] == pytest.approx(330 / 450 * 100)  # not 80+90+...+60 = 390
    assert beds.loc["percentage_occupancy", "display"] == "73.3%"
    assert beds.loc["caseload", "volume"] == 25.0  # a stock: the mean month per service (20 and 5), then added
    assert pd.isna(beds.loc["average_available_beds", "volume"])  # two hospitals' averages are not added
    assert beds.loc["average_available_beds", "display"] == "not added over services (average)"
    one = figures.loc["one"]
    assert one.loc["average_available_beds", "volume"] == pytest.approx((3 * 30 + 3 * 31 + 4 * 30) / 91)
    assert pd.isna(one.loc["percent_seen", "volume"]) and one.loc["percent_seen", "display"] == "per month only"
    assert (beds["unit"].to_dict() == {"average_available_beds": "beds", "caseload": "people",
                                       "occupied_bed_days": "bed days", "percentage_occupancy": "%",
                                       "staffed_bed_days": "bed days"})
    assert figures.loc[figures["volume"].notna(), "change"].eq(0.0).all()
    assert (figures["months"] == 3).all()


def test_a_change_in_suppression_is_said_not_measured_and_trips_no_check() -> None:
    now = kinds_activity(kinds_rows("ref", "s", "referrals", [10, None, 5]))
    before = kinds_activity(kinds_rows("ref", "s", "referrals", [10, 7, 5]))
    changes = volume_changes({"activity": now}, {"activity": before}, CATALOGUE).set_index(["source_id", "measure"])
    referrals = changes.loc[("ref", "referrals")]
    assert (referrals["volume"], referrals["previous"]) == (15.0, 22.0)
    assert referrals["display"] == "≥ 15 (1 of 3 months with suppressed cells)"
    assert referrals["previous_display"] == "22"
    assert (referrals["suppressed_months"], referrals["previous_suppressed_months"]) == (1, 0)
    assert pd.isna(referrals["change"]) and referrals["change_display"] == "suppression changed"


def test_lane_counts_keep_empty_lanes_in_map_order() -> None:
    services = pd.DataFrame({"lane": ["acute", "acute"]})
    assert lane_counts(services, ["social_care", "acute"]).values.tolist() == [["social_care", 0], ["acute", 2]]


def test_monthly_outliers_need_three_months_and_a_big_ratio() -> None:
    frame = measured([("a", "s", "2025-04", 100), ("a", "s", "2025-05", 110), ("a", "s", "2025-06", 5000),
                      ("a", "t", "2025-04", 1), ("a", "t", "2025-05", 500),  # two months: no median to trust
                      ("a", "u", "2025-04", 100), ("a", "u", "2025-05", 90), ("a", "u", "2025-06", 1900)])
    found = monthly_outliers(frame, ["source_id", "service_id", "measure"], 20)
    assert found[["service_id", "month", "total", "median", "row"]].values.tolist() == [
        ["s", "2025-06", 5000.0, 110.0, 2]]


def test_top_rejects_put_errors_first_with_samples() -> None:
    records = [RejectRecord("a", "unknown_column", "not used", "a.csv", 0, "Notes")] + [
        RejectRecord("a", "negative_value", "count is negative", "a.csv", row, "n", "-1") for row in (5, 3, 9)]
    top = top_rejects(rejects_frame(records), samples=2)
    assert [(r["check"], r["severity"], r["count"]) for r in top] == [("negative_value", "error", 3),
                                                                      ("unknown_column", "warn", 1)]
    assert [s["row_number"] for s in top[0]["samples"]] == [3, 5]
    assert top[0]["samples"][0] == {"source_id": "a", "location": "a.csv", "row_number": 3, "column": "n",
                                    "value": "-1", "message": "count is negative"}


def test_summary_gives_each_source_its_colour() -> None:
    entries = [{"source_id": sid, "partner": "p", "kind": "csv", "location": f"{sid}.csv", "on_error": "quarantine",
                "status": status, "rows_read": 10, "rows_accepted": 10, "rows_rejected": 0, "rows_clipped": 0,
                "stale": None, "error": None}
               for sid, status in [("ok", "ok"), ("flagged", "ok"), ("old", "stale"), ("gone", "missing"),
                                   ("many", "warn")]]
    gate = CheckResult("reject_share", "error", "sources", "reject_share", "x", False, 1, 5, "too many",
                       [{"source_id": "many"}], ["many"])
    coverage = CheckResult("month_missing", "warn", "coverage", "months_missing", "x", False, 1, 5, "gap",
                           [{"source_id": "flagged"}], ["flagged"])
    summary = quality_summary(
        sources=entries, rejects=rejects_frame([]), results=[gate, coverage],
        volumes=pd.DataFrame(columns=["source_id", "table", "measure", "volume", "previous", "change"]),
        counts={"services": 2}, previous_counts=None, previous_version=None, flags={}, thresholds={},
        header={"map_id": "m"}).as_json()
    assert {s["source_id"]: s["rag"] for s in summary["sources"]} == {
        "ok": "green", "flagged": "amber", "old": "amber", "gone": "red", "many": "red"}
    assert summary["status"] == "red" and summary["map_id"] == "m"
    old = next(s for s in summary["sources"] if s["source_id"] == "old")
    assert old["checks_failed"] == [{"code": "source_stale", "severity": "warn", "count": 1}]


def test_service_flags_name_outliers_and_stale_data() -> None:
    activity = measured([("a", "s", "2025-04", 100), ("a", "s", "2025-05", 110), ("a", "s", "2025-06", 5000),
                         ("old", "t", "2025-04", 1)])
    tables = {"activity": activity, "flows": measured([]).rename(columns={"service_id": "from_service_id"}).assign(
        to_service_id=pd.Series(dtype=object)),
              "services": pd.DataFrame({"service_id": ["s", "t"], "source_ids": ["a", "old;x"]})}
    flags = service_flags(tables, 20, ["old"])
    assert [f["code"] for f in flags["s"]] == ["outlier_value"]
    assert flags["s"][0]["message"] == "attendances in 2025-06 (5,000) is 45x the usual month (110) in a"
    assert flags["t"] == [{"code": "source_stale", "severity": "warn",
                           "message": "old is the last good extract, not this run's"}]


def test_big_frames_are_validated_in_slices_with_the_same_result(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows = [{"Unit": f"U{i % 7}", "Month": f"2025-{4 + i // 7:02d}", "Count": str(i if i % 5 else -i),
             "Measure": "Bad Measure" if i % 3 == 0 else "attendances"} for i in range(35)]
    frame = pd.DataFrame(rows, dtype="str")
    frame.insert(0, "__row__", range(2, 2 + len(frame)))
    mapping = standardise.SourceMapping(
        source_id="s", partner="p", location="s.csv", columns={"service_key": "Unit", "period": "Month",
                                                              "value": "Count", "measure": "Measure"},
        map_period=(date(2025, 4, 1), date(2025, 8, 31)))
    whole = standardise.staged_table(frame, "activity", mapping)
    monkeypatch.setattr(standardise, "VALIDATION_CHUNK_ROWS", 4)
    sliced = standardise.staged_table(frame, "activity", mapping)
    pd.testing.assert_frame_equal(whole.frame, sliced.frame)
    pd.testing.assert_frame_equal(whole.rejects.sort_values("row_number").reset_index(drop=True),
                                  sliced.rejects.sort_values("row_number").reset_index(drop=True))
    contract = sliced.rejects[sliced.rejects["check"] == "invalid_value"]
    assert len(contract) == 10 and set(contract["column"]) == {"Measure"} and len(sliced.frame) == 19
    assert contract["message"].iloc[0].startswith("measure must be lower-case letters")


@pytest.mark.parametrize("dates", [
    pd.Series(pd.to_datetime(["2025-06-30", None, "2024-12-01", "2025-06-01"]), index=[7, 3, 5, 1]),
    pd.Series([date(2025, 4, 1), None, date(2026, 3, 31)], dtype=object),
    pd.Series(["2025-04-01", "2025-04-15"]),
    pd.Series([], dtype="datetime64[us]"),
    pd.Series([None, None], dtype=object),
])
def test_month_labels_are_the_months_of_the_dates_in_place(dates: pd.Series) -> None:
    expected = pd.to_datetime(dates).dt.strftime("%Y-%m")  # formatted row by row
    found = month_label(dates)
    assert found.index.equals(dates.index) and found.dtype == expected.dtype
    assert found.isna().tolist() == expected.isna().tolist()
    assert found.dropna().tolist() == expected.dropna().tolist()
