"""Standardise on small literal frames: every refused row is a reject naming row, column and check."""

from datetime import date

import pandas as pd
import pytest

from transforms.standardise import SourceMapping, parsed_counts, parsed_periods, period_formats, staged_table

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
    start, end = parsed_periods(pd.Series(["2025-04", "202505", "2025-06-15", "01/07/2025", "20250803", "Apr 25",
                                           "20251301", None]))
    assert list(start.dt.strftime("%Y-%m-%d")[:5]) == ["2025-04-01", "2025-05-01", "2025-06-15", "2025-07-01",
                                                       "2025-08-03"]
    assert list(end.dt.strftime("%Y-%m-%d")[:5]) == ["2025-04-30", "2025-05-31", "2025-06-15", "2025-07-01",
                                                     "2025-08-03"]
    assert start[5:].isna().all()


def test_a_period_column_is_parsed_as_each_of_its_values_alone() -> None:
    values = ["2025-04", None, "2025-04", "2022Q3", "2021/22", "2022-W05", "01/07/2025", "2025-06-15 10:30", "",
              "2025-13", "2021/23", "202505", "2022Q3", " 2025-04", "2025-06-15 10:30", "Apr 25", "2025-04",
              "20220703", "20221301"]
    text = pd.Series(values, dtype="object", index=range(100, 100 + len(values)))
    start, end = parsed_periods(text)
    formats = period_formats(text)
    assert list(start.index) == list(end.index) == list(formats.index) == list(text.index)
    assert start.dtype == end.dtype == "datetime64[us]" and formats.dtype == "object"  # any year written reads
    for position, value in enumerate(values):
        alone_start, alone_end = parsed_periods(pd.Series([value], dtype="object"))
        assert (start.iloc[position], end.iloc[position]) == (alone_start[0], alone_end[0]) or (
            pd.isna(start.iloc[position]) and pd.isna(alone_start[0]) and pd.isna(alone_end[0])), value
        alone = period_formats(pd.Series([value], dtype="object"))[0]
        assert formats.iloc[position] == alone or pd.isna(formats.iloc[position]) and pd.isna(alone), value
    assert formats.fillna("-").tolist()[:8] == ["YYYY-MM", "-", "YYYY-MM", "YYYYQn", "YYYY/YY", "YYYY-Www",
                                                "DD/MM/YYYY", "YYYY-MM-DD hh:mm"]


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
        staged.frame[["service_key", "value", "qualifier"]].notna(), None).values.tolist() == [["ED", None, "c"]]
    assert staged.frame["service_ns"].unique().tolist() == ["acute"]
    got = {(int(r.row_number), r.column, r.check) for r in staged.rejects.itertuples()}
    assert got == {
        (4, "Month", "bad_period"), (5, "Unit", "missing_value"), (6, "Month", "outside_map_period"),
        (7, "Count", "negative_value"), (8, "Count", "not_a_number"),
        (2, "Month", "duplicate_period"), (9, "Month", "duplicate_period"),  # both: neither wins by row order
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


def test_periods_as_published_quarters_financial_years_and_weeks_keep_their_span() -> None:
    start, end = parsed_periods(pd.Series(["2022Q3", "2021/22", "2022-W05", "2021/23", "2022Q5"]))
    spans = [(s.strftime("%Y-%m-%d"), e.strftime("%Y-%m-%d")) for s, e in zip(start[:3], end[:3], strict=True)]
    assert spans == [("2022-07-01", "2022-09-30"), ("2021-04-01", "2022-03-31"), ("2022-01-31", "2022-02-06")]
    assert start[3:].isna().all()  # 2021/23 is not a financial year, Q5 not a quarter
    start, end = parsed_periods(pd.Series(["0001Q1", "2262/63", "0000-W01"]))
    assert [str(day)[:10] for day in [*start[:2], *end[:2]]] == ["0001-01-01", "2262-04-01", "0001-03-31", "2263-03-31"]
    assert pd.isna(start[2])  # 0001Q1 once read as 2001 Q1, and 2262/63 ended in an error


def test_the_map_period_takes_the_periods_that_overlap_it() -> None:
    frame = raw([{"Unit": "W", "Month": "2025Q1", "Count": "1"}, {"Unit": "W", "Month": "2025Q2", "Count": "2"},
                 {"Unit": "W", "Month": "2026Q1", "Count": "3"}, {"Unit": "W", "Month": "2026Q2", "Count": "4"}])
    staged = staged_table(frame, "activity", activity_mapping(clip_to_map_period=True))
    assert staged.frame["value"].tolist() == [2.0, 3.0] and staged.rows_clipped == 2 and staged.rejects.empty


def test_partial_codes_keep_unlisted_values_or_give_them_a_default() -> None:
    frame = raw([{"code": "A", "name": "Alpha", "type": "ED"}, {"code": "B", "name": "Beta", "type": "Ward 7"}])
    base = dict(source_id="s", partner="p", location="s.csv", lanes=("urgent_care", "acute"),
                columns={"service_key": "code", "name": "name", "lane": "type", "setting": "type"},
                codes={"lane": {"ED": "urgent_care"}, "setting": {"ED": "emergency department"}})
    total = staged_table(frame, "services", SourceMapping(**base))  # type: ignore[arg-type]
    assert total.frame["service_key"].tolist() == ["A"] and total.rejects["check"].tolist() == ["unmapped_code"]
    partial = staged_table(frame, "services", SourceMapping(**base, keep_unlisted=("setting",),  # type: ignore[arg-type]
                                                            code_defaults={"lane": "acute"}))
    assert partial.frame[["lane", "setting"]].values.tolist() == [["urgent_care", "emergency department"],
                                                                  ["acute", "Ward 7"]]
    assert partial.rejects.empty


def test_declared_duplicates_add_up_whatever_their_order() -> None:
    rows = [{"Unit": "ED", "Month": "2025-04", "Count": "10"}, {"Unit": "ED", "Month": "2025-04", "Count": "<5"},
            {"Unit": "ED", "Month": "2025-04", "Count": "7"}, {"Unit": "ED", "Month": "2025-05", "Count": "1"}]
    summed = [staged_table(raw(order), "activity", activity_mapping(duplicates="sum")).frame
              for order in (rows, rows[::-1])]
    for frame in summed:
        frame = frame.sort_values("period_start")
        got = frame[["value", "qualifier"]].astype(object).where(frame[["value", "qualifier"]].notna(), None)
        assert got.values.tolist() == [[17.0, "c"], [1.0, None]]  # a suppressed part suppresses the total
    rejected = staged_table(raw(rows), "activity", activity_mapping())
    assert rejected.frame["value"].tolist() == [1.0] and len(rejected.rejects) == 3
