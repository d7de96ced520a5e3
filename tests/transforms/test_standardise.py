"""Standardise on small literal frames: every refused row is a reject naming row, column and check."""

from datetime import date

import pandas as pd
import pytest

from transforms.standardise import SourceMapping, parsed_counts, parsed_periods, staged_table

PERIOD = (date(2025, 4, 1), date(2026, 3, 31))


def activity_mapping(**overrides: object) -> SourceMapping:
    base = dict(source_id="acute_activity", partner="acute", location="acute/activity.csv",
                columns={"service_key": "Unit", "period": "Month", "value": "Count"},
                constants={"measure": "attendances"}, map_period=PERIOD)
    return SourceMapping(**{**base, **overrides})  # type: ignore[arg-type]


def raw(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype="str")
    frame.insert(0, "__row__", range(2, 2 + len(frame)))
    return frame


def test_periods_parse_months_and_dates() -> None:
    start, end = parsed_periods(pd.Series(["2025-04", "202505", "2025-06-15", "01/07/2025", "Apr 25", None]))
    assert list(start.dt.strftime("%Y-%m-%d")[:4]) == ["2025-04-01", "2025-05-01", "2025-06-15", "2025-07-01"]
    assert list(end.dt.strftime("%Y-%m-%d")[:4]) == ["2025-04-30", "2025-05-31", "2025-06-15", "2025-07-01"]
    assert start[4:].isna().all()


def test_counts_parse_thousands_and_suppression() -> None:
    value, suppressed, bad = parsed_counts(pd.Series(["1,234", " 7 ", "<5", "*", "x", ""]))
    assert value.tolist()[:2] == [1234.0, 7.0]
    assert suppressed.tolist() == [False, False, True, True, False, False]
    assert bad.notna().tolist() == [False, False, False, False, True, False]


def test_activity_rows_become_staged_or_rejects() -> None:
    frame = raw([
        {"Unit": "ED", "Month": "2025-04", "Count": "1,200"},
        {"Unit": "ED", "Month": "2025-05", "Count": "<5"},
        {"Unit": "ED", "Month": "never", "Count": "3"},
        {"Unit": "", "Month": "2025-04", "Count": "3"},
        {"Unit": "AMU", "Month": "2024-01", "Count": "3"},
        {"Unit": "AMU", "Month": "2025-04", "Count": "-2"},
        {"Unit": "AMU", "Month": "2025-05", "Count": "lots"},
        {"Unit": "ED", "Month": "2025-04", "Count": "9"},
    ])
    staged = staged_table(frame, "activity", activity_mapping())
    assert staged.frame[["service_key", "value", "qualifier"]].astype(object).where(
        staged.frame[["service_key", "value", "qualifier"]].notna(), None).values.tolist() == [
        ["ED", 1200.0, None], ["ED", None, "c"]]
    assert staged.frame["service_ns"].unique().tolist() == ["acute"]
    got = {(int(r.row_number), r.column, r.check) for r in staged.rejects.itertuples()}
    assert got == {
        (4, "Month", "bad_period"), (5, "Unit", "missing_value"), (6, "Month", "outside_map_period"),
        (7, "Count", "negative_value"), (8, "Count", "not_a_number"), (9, "Month", "duplicate_period"),
    }
    assert len(staged.frame) + len(staged.rejects) == len(frame)  # nothing silently dropped
    assert (staged.rejects["location"] == "acute/activity.csv").all()


def test_clipped_rows_are_counted_not_rejected() -> None:
    frame = raw([{"Unit": "ED", "Month": "2024-01", "Count": "1"}, {"Unit": "ED", "Month": "2025-04", "Count": "2"}])
    staged = staged_table(frame, "activity", activity_mapping(clip_to_map_period=True))
    assert len(staged.frame) == 1 and staged.rows_clipped == 1 and staged.rejects.empty


def test_record_level_rows_count_one_each() -> None:
    frame = raw([{"Date": "2025-04-03", "From": "999", "To": "ED"}, {"Date": "2025-04-03", "From": "999", "To": "ED"}])
    mapping = SourceMapping(source_id="amb", partner="amb", location="amb.csv",
                            columns={"from_key": "From", "to_key": "To", "period": "Date"},
                            constants={"measure": "conveyances"}, namespaces={"to_key": "acute"}, map_period=PERIOD)
    staged = staged_table(frame, "flows", mapping)
    assert staged.frame["value"].tolist() == [1.0, 1.0]
    assert staged.frame[["from_ns", "to_ns"]].values.tolist() == [["amb", "acute"], ["amb", "acute"]]


def test_codes_map_lanes_and_unmapped_codes_are_rejected() -> None:
    frame = raw([{"code": "A", "nm": "Alpha", "type": "X"}, {"code": "B", "nm": "Beta", "type": "Q"},
                 {"code": "A", "nm": "Again", "type": "X"}])
    mapping = SourceMapping(source_id="s", partner="p", location="s.csv",
                            columns={"service_key": "code", "name": "nm", "lane": "type"},
                            codes={"lane": {"X": "acute"}}, lanes=("acute",), same_as={"A": "other:1"})
    staged = staged_table(frame, "services", mapping)
    assert staged.frame[["service_key", "lane", "same_as"]].values.tolist() == [["A", "acute", "other:1"]]
    assert {(int(r.row_number), r.column, r.check, r.value) for r in staged.rejects.itertuples()} == {
        (3, "type", "unmapped_code", "Q"), (4, "code", "duplicate_key", "A")}


@pytest.mark.parametrize("columns, missing", [
    ({"service_key": "Unit", "period": "Month", "value": "Nope"}, "Nope"),
    ({"period": "Month", "value": "Count"}, "service_key"),
])
def test_missing_columns_block_the_whole_file(columns: dict[str, str], missing: str) -> None:
    frame = raw([{"Unit": "ED", "Month": "2025-04", "Count": "1"}])
    staged = staged_table(frame, "activity", activity_mapping(columns=columns))
    assert staged.frame.empty
    record = staged.rejects.iloc[0]
    assert (record["row_number"], record["column"], record["check"]) == (0, missing, "missing_column")


def test_unused_columns_are_warned_about() -> None:
    frame = raw([{"Unit": "ED", "Month": "2025-04", "Count": "1", "Notes": "x"}])
    staged = staged_table(frame, "activity", activity_mapping())
    assert staged.rejects[["column", "check", "severity"]].values.tolist() == [["Notes", "unknown_column", "warn"]]
    assert len(staged.frame) == 1
