"""Staging record-level extracts in DuckDB gives what the pandas path gives (transforms/staging_sql.py vs
staged_table), from the file as the csv kind reads it to the staged Parquet."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expectations.canonical import STAGED_MODELS
from flows.stage import staged_from_parquet
from outputs.store.workarea import write_frame
from sources import SourceRequest
from sources.base import as_pandas
from sources.tabular import CSV, csv_frame
from transforms.staging_sql import WHITESPACE, staged_records_sql
from transforms.standardise import SourceMapping, Staged, staged_table

REFERRALS = """Referral Date;Practice Code;Referred To;Note
01/04/2025;P1;AE;
02/04/2025; P2 ;DN;x
2025-04-03;P1;XX;
15/05/2025;P2;;
31/02/2025;P1;AE;
2025-04-03 10:30;P2;AE;
01/01/2024;P1;DN;
 ;P1;AE;
07/05/2025;P1;DN;
"""
MAPPING = SourceMapping(
    source_id="gp_referrals", partner="gp", location="extracts/referrals.csv",
    columns={"from_key": "Practice Code", "to_key": "Referred To", "period": "Referral Date"},
    constants={"measure": "referrals"}, codes={"to_key": {"AE": "acute:ED", "DN": "community:DN"}},
    map_period=(date(2025, 4, 1), date(2026, 3, 31)),
)


def _both(tmp_path: Path, text: str, table: str, mapping: SourceMapping, delimiter: str = ";"
          ) -> tuple[Staged, Staged]:
    """The pandas path on csv_frame's rows, and the production path: the csv kind's reader (DuckDB, Arrow), the
    raw Parquet, staged in DuckDB."""
    path = tmp_path / "extract.csv"
    path.write_text(text, encoding="utf-8")
    request = SourceRequest(source_id=mapping.source_id, location=path, table=table, folder=tmp_path,
                            options=CSV.options(delimiter=delimiter))
    raw = CSV.read(request).tables[table]
    assert isinstance(raw, pa.Table)  # one line per record: DuckDB read it
    staged = staged_from_parquet(write_frame(tmp_path / "raw.parquet", raw), table, mapping)
    return staged_table(csv_frame(text, mapping.location, delimiter), table, mapping), staged


def _rejects(staged: Staged) -> list[tuple[object, ...]]:
    frame = staged.rejects.sort_values(["row_number", "check", "column"], kind="stable")
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]


def _rows(staged: Staged) -> list[tuple[object, ...]]:
    """One row per extract line, its period as the month consolidation counts it in: a counted log expanded."""
    frame = as_pandas(staged.frame)
    if "row_numbers" in frame:
        frame = frame.explode("row_numbers").drop(columns="row_number").rename(columns={"row_numbers": "row_number"})
        frame = frame.astype({"row_number": "int64"}).assign(value=1.0)
    frame = frame.assign(period_start=frame["period_start"].dt.to_period("M").dt.start_time,
                         period_end=frame["period_start"].dt.to_period("M").dt.end_time.dt.normalize())
    frame = frame.sort_values("row_number")[list(STAGED_MODELS[staged.table].to_schema().columns)]
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]


def test_a_referral_log_stages_as_the_pandas_path_stages_it(tmp_path: Path) -> None:
    pandas_path, sql_path = _both(tmp_path, REFERRALS, "flows", MAPPING)
    assert isinstance(sql_path.frame, pa.Table)
    assert list(sql_path.frame.column_names) == [*pandas_path.frame.columns, "row_numbers"]
    assert _rows(sql_path) == _rows(pandas_path)
    assert sql_path.rows_accepted == len(pandas_path.frame) == 4  # the rest is refused, one reject each
    assert _rejects(sql_path) == _rejects(pandas_path)
    checks = {r[4] for r in _rejects(pandas_path)}
    assert {"unknown_column", "unmapped_code", "missing_value", "bad_period", "outside_map_period",
            "mixed_date_formats"} <= checks
    assert (sql_path.rows_read, sql_path.rows_clipped) == (pandas_path.rows_read, pandas_path.rows_clipped) == (9, 0)
    for column, dtype in pandas_path.frame.dtypes.items():
        assert as_pandas(sql_path.frame)[column].dtype == dtype, column
    write_frame(tmp_path / "sql.parquet", sql_path.frame)
    write_frame(tmp_path / "pandas.parquet", pandas_path.frame)
    counted = pq.read_schema(tmp_path / "sql.parquet")
    assert counted.remove(counted.get_field_index("row_numbers")) == pq.read_schema(tmp_path / "pandas.parquet")


def test_a_log_is_counted_by_month_with_the_lines_each_count_stands_for(tmp_path: Path) -> None:
    text = ("Referral Date;Practice Code;Referred To\n01/04/2025;P1;AE\n30/04/2025;P1;AE\n02/04/2025;P2;AE\n"
            "01/05/2025;P1;AE\n15/04/2025;P1;AE\n")
    pandas_path, sql_path = _both(tmp_path, text, "flows", MAPPING)
    assert _rows(sql_path) == _rows(pandas_path) and sql_path.rows_accepted == 5
    counted = as_pandas(sql_path.frame)
    assert [(r.from_key, r.period_start.month, r.value, list(r.row_numbers)) for r in counted.itertuples()] == [
        ("P1", 4, 3.0, [2, 3, 6]), ("P2", 4, 1.0, [4]), ("P1", 5, 1.0, [5])]


def test_cells_are_trimmed_of_any_whitespace_as_python_trims_them(tmp_path: Path) -> None:
    text = "Referral Date;Practice Code;Referred To\n01/04/2025;\u00a0P1\u2003;AE\n02/04/2025;P2;\u3000DN\t\n"
    pandas_path, sql_path = _both(tmp_path, text, "flows", MAPPING)
    assert _rows(sql_path) == _rows(pandas_path)
    assert as_pandas(sql_path.frame)["from_key"].tolist() == ["P1", "P2"]


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\x1c", "\x85", "\u2028", "\t", "\v"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_whitespace_at_either_end_or_alone_is_trimmed_as_python_trims_it(tmp_path: Path, space: str) -> None:
    cells = [f"{space}P1", f"P2{space}", f"P{space}3", space * 2, f"{space}P4{space}"]
    text = "Referral Date;Practice Code;Referred To\n" + "".join(f"0{d}/04/2025;{c};AE\n"
                                                                for d, c in enumerate(cells, start=1))
    pandas_path, sql_path = _both(tmp_path, text, "flows", MAPPING)
    assert _rows(sql_path) == _rows(pandas_path) and _rejects(sql_path) == _rejects(pandas_path)
    assert as_pandas(sql_path.frame)["from_key"].tolist() == ["P1", "P2", f"P{space}3", "P4"]


def test_clipping_qualifiers_and_the_measure_contract_match(tmp_path: Path) -> None:
    text = ("month,service,what,qf\n2025-03,A,attendances,\n2025-04,A,Attendances,\n2025-04,B,attendances,x\n"
            "2025-05,B,attendances,e\n202506,A,bed_days,\n")
    mapping = SourceMapping(source_id="ae", partner="nhs", location="ae.csv",
                            columns={"service_key": "service", "period": "month", "measure": "what",
                                     "qualifier": "qf"},
                            namespaces={"service_key": "phs_location"},
                            map_period=(date(2025, 4, 1), date(2026, 3, 31)), clip_to_map_period=True)
    pandas_path, sql_path = _both(tmp_path, text, "activity", mapping, ",")
    assert _rows(sql_path) == _rows(pandas_path) and len(pandas_path.frame) == 2
    assert _rejects(sql_path) == _rejects(pandas_path)
    assert sql_path.rows_clipped == pandas_path.rows_clipped == 1
    # the bad qualifier and the upper-case measure; 2025-04 beside 202506 is a warning, the row kept
    assert {r[4] for r in _rejects(pandas_path)} == {"invalid_value", "mixed_date_formats"}


def test_a_missing_column_blocks_the_source_as_in_pandas(tmp_path: Path) -> None:
    mapping = SourceMapping(**{**MAPPING.__dict__, "columns": {**MAPPING.columns, "to_key": "Destination"}})
    pandas_path, sql_path = _both(tmp_path, REFERRALS, "flows", mapping)
    assert len(sql_path.frame) == 0 and _rejects(sql_path) == _rejects(pandas_path)
    assert "missing_column" in {r[4] for r in _rejects(sql_path)}


def test_an_extract_with_counts_stays_on_the_pandas_path(tmp_path: Path) -> None:
    mapping = SourceMapping(**{**MAPPING.__dict__, "columns": {**MAPPING.columns, "value": "Note"}})
    with duckdb.connect() as con:
        con.register("raw", csv_frame(REFERRALS, "x", ";"))
        with pytest.raises(ValueError, match="record-level"):
            staged_records_sql(con, "raw", "flows", mapping)
    staged = staged_from_parquet(write_frame(tmp_path / "raw.parquet", csv_frame(REFERRALS, "x", ";")), "flows",
                                 mapping)
    assert isinstance(staged.frame, pd.DataFrame)


def test_one_interface_stages_a_log_in_duckdb_and_a_log_with_steps_in_pandas(tmp_path: Path) -> None:
    from transforms.source_steps import Condition, SourceSteps
    from transforms.staging import staged, stages_in_sql

    path = tmp_path / "extract.csv"
    path.write_text(REFERRALS, encoding="utf-8")
    request = SourceRequest(source_id=MAPPING.source_id, location=path, table="flows", folder=tmp_path,
                            options=CSV.options(delimiter=";"))
    raw = write_frame(tmp_path / "raw.parquet", CSV.read(request).tables["flows"])
    steps = SourceSteps(where=(Condition("Practice Code", "equals", "P1"),))
    with duckdb.connect() as con:
        con.read_parquet(raw).create_view("raw")
        plain = staged((con, "raw"), "flows", MAPPING)
        selected = staged((con, "raw"), "flows", MAPPING, steps)
    assert stages_in_sql(["Referral Date", "Practice Code", "Referred To"], "flows", MAPPING)
    assert not stages_in_sql(["Referral Date", "Practice Code", "Referred To"], "flows", MAPPING, steps)
    assert isinstance(plain.frame, pa.Table) and isinstance(selected.frame, pd.DataFrame)
    assert selected.rows_read == plain.rows_read == 9 and selected.rows_filtered == 3  # " P2 " is trimmed
    assert set(selected.frame["from_key"]) == {"P1"}
    kept = [row for row in _rows(plain) if row[3] == "P1"]  # the same P1 rows, whichever engine
    assert _rows(selected) == kept


@pytest.mark.parametrize("partial", [{"keep_unlisted": ("to_key",)}, {"code_defaults": {"to_key": "community:DN"}}])
def test_partial_codes_stage_alike_in_duckdb_and_pandas(tmp_path: Path, partial: dict[str, object]) -> None:
    from dataclasses import replace

    mapping = replace(MAPPING, **partial)  # type: ignore[arg-type]
    pandas_path, sql_path = _both(tmp_path, REFERRALS, "flows", mapping)
    assert _rows(sql_path) == _rows(pandas_path) and _rejects(sql_path) == _rejects(pandas_path)
    assert "unmapped_code" not in {r[4] for r in _rejects(sql_path)}


@pytest.mark.parametrize("map_period", [MAPPING.map_period, None])
def test_a_period_in_a_far_off_year_is_refused_with_its_row_on_both_paths(tmp_path: Path,
                                                                          map_period: tuple[date, date] | None
                                                                          ) -> None:
    """Days a nanosecond timestamp cannot hold (before 1677-09-22, after 2262-04-11) once ended staging with an
    internal error (pandas; DuckDB without a map period): now each is its row's reject, outside the map period, or
    with none a bad period, alike on both paths."""
    log = "Referral Date;Practice Code;Referred To\n" + "".join(
        f"{period};P1;AE\n" for period in ("0001-01-01", "1677-09-01", "2262-04-30", "9999-12-31", "2025-05-15"))
    mapping = SourceMapping(**{**MAPPING.__dict__, "map_period": map_period})
    pandas_path, sql_path = _both(tmp_path, log, "flows", mapping)
    assert len(pandas_path.frame) == 1 and _rows(sql_path) == _rows(pandas_path)
    refused = pandas_path.rejects.sort_values("row_number")
    assert refused["row_number"].tolist() == [2, 3, 4, 5]
    assert set(refused["check"]) == {"outside_map_period" if map_period else "bad_period"}
    assert _rejects(sql_path) == _rejects(pandas_path)


@pytest.mark.parametrize(("written", "check"), [("0001Q1", "outside_map_period"), ("2262Q2", "outside_map_period"),
                                                ("0000/01", "outside_map_period"), ("2025Q2", None)])
def test_a_published_period_in_a_far_off_year_is_a_reject_not_an_error(written: str, check: str | None) -> None:
    """Quarters and financial years of such years ended in an internal error too, and 0001Q1 read as 2001 Q1."""
    frame = pd.DataFrame({"__row__": [2], "Unit": ["ED"], "Month": [written], "Count": ["1"]}, dtype="str")
    mapping = SourceMapping(source_id="acute", partner="acute", location="activity.csv",
                            columns={"service_key": "Unit", "period": "Month", "value": "Count"},
                            constants={"measure": "attendances"}, map_period=(date(2025, 4, 1), date(2026, 3, 31)))
    staged = staged_table(frame, "activity", mapping)
    assert staged.rejects["check"].tolist() == ([check] if check else [])
    assert len(staged.frame) == (0 if check else 1)


def test_the_whitespace_trimmed_is_what_python_strips() -> None:
    """The characters the SQL path trims, written out, are exactly those str.isspace() finds in this Python."""
    found = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert found == WHITESPACE


def test_dates_written_yyyymmdd_as_public_health_scotland_writes_them_stage_alike(tmp_path: Path) -> None:
    """20250415 is a day on both paths; 20251301 (no month 13) and 2025041 (seven digits) are bad periods."""
    log = "Referral Date;Practice Code;Referred To\n" + "".join(
        f"{period};P1;AE\n" for period in ("20250415", "20250430", "20251301", "2025041", "20250501"))
    pandas_path, sql_path = _both(tmp_path, log, "flows", MAPPING)
    assert _rows(sql_path) == _rows(pandas_path) and _rejects(sql_path) == _rejects(pandas_path)
    days = as_pandas(pandas_path.frame).sort_values("row_number")
    assert list(zip(days["row_number"], days["period_start"].dt.strftime("%Y-%m-%d"), strict=True)) == [
        (2, "2025-04-15"), (3, "2025-04-30"), (6, "2025-05-01")]
    assert [(r[2], r[4]) for r in _rejects(pandas_path)] == [(4, "bad_period"), (5, "bad_period")]
