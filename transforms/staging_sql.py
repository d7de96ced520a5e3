"""Stage a record-level activity or flows extract inside DuckDB: the big referral and discharge logs (one row per
event, no value column: each row counts one), where per-value Python would dominate a refresh. Every row is checked
as `transforms.standardise.staged_table` checks it (tests/transforms/test_staging_sql.py compares the two); the
accepted rows are then counted as consolidation would count them, one staged row per keys, month, measure and
qualifier, whose `row_numbers` list the lines it counts (so a row consolidation rejects can still be named). A
national map's 20M referrals become about 100k staged rows.

The raw rows come in as a table or view of the connection (text columns plus `__row__`, the record's line in its
file). Header-level findings (missing or unused columns) come from the pandas path's own check (`header_rejects`),
so their wording cannot drift; every row check runs in one SQL pass, the first failing check of a row naming its
reject, as the pandas path's sequence of checks does. One known difference: the time part of `YYYY-MM-DD hh:mm` periods
is not validated (pandas refuses `25:99`); the date is. A log's rows are events, dated by day or month: a period
published for longer (a quarter, a financial year, a week) is refused here as `bad_period`, where pandas keeps its
span; a source whose log is written so is staged in pandas when it declares a shaping step
(transforms/staging.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from duckdb import ColumnExpression

from expectations.canonical import MEASURE_PATTERN, QUALIFIERS, STAGED_MODELS, columns, empty_frame
from expectations.checks import CHECKS
from transforms.rejects import REJECT_COLUMNS, concat_rejects, normalised_rejects
from transforms.standardise import (
    BAD_PERIOD,
    HELD_TIMES,
    MAPPABLE,
    NAMESPACE_OF,
    REQUIRED,
    ROW_COLUMN,
    SourceMapping,
    Staged,
    empty_staged,
    header_rejects,
    mapped_columns,
)

ROW_NUMBERS = "row_numbers"  # of a counted row: every line of the extract it counts (their rejects name them)
# what Python's str.strip() trims, as the pandas path trims: every character whose str.isspace() is true (tested;
# written out because finding them among all 1.1 million code points cost every process 60 ms)
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
              "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
PERIOD_SQL = r"""
CASE
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}') THEN struct_pack(s := try_strptime({p}, '%Y-%m'), month := true)
  WHEN regexp_full_match({p}, '\d{{6}}') THEN struct_pack(s := try_strptime({p}, '%Y%m'), month := true)
  WHEN regexp_full_match({p}, '\d{{8}}') THEN struct_pack(s := try_strptime({p}, '%Y%m%d'), month := false)
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}-\d{{2}}') THEN struct_pack(s := try_strptime({p}, '%Y-%m-%d'),
                                                                      month := false)
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}-\d{{2}}[T ][\d:.]+') THEN
       struct_pack(s := try_strptime(left({p}, 10), '%Y-%m-%d'), month := false)
  WHEN regexp_full_match({p}, '\d{{1,2}}/\d{{1,2}}/\d{{4}}') THEN struct_pack(s := try_strptime({p}, '%d/%m/%Y'),
                                                                          month := false)
END"""
FORMAT_SQL = r"""
CASE
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}') THEN 'YYYY-MM'
  WHEN regexp_full_match({p}, '\d{{6}}') THEN 'YYYYMM'
  WHEN regexp_full_match({p}, '\d{{8}}') THEN 'YYYYMMDD'
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}-\d{{2}}') THEN 'YYYY-MM-DD'
  WHEN regexp_full_match({p}, '\d{{4}}-\d{{2}}-\d{{2}}[T ][\d:.]+') THEN 'YYYY-MM-DD hh:mm'
  WHEN regexp_full_match({p}, '\d{{1,2}}/\d{{1,2}}/\d{{4}}') THEN 'DD/MM/YYYY'
END"""


def is_record_level(raw_columns: Sequence[str], table: str, mapping: SourceMapping) -> bool:
    """Whether an extract is one row per event (activity or flows with no value column nor constant)."""
    return (table in ("activity", "flows") and "value" not in mapped_columns(raw_columns, table, mapping)
            and "value" not in mapping.constants)


def staged_records_sql(con: duckdb.DuckDBPyConnection, raw: str, table: str, mapping: SourceMapping) -> Staged:
    """The staged `table` ("activity" or "flows") of a record-level extract held in `raw` (a table or view of
    `con`): what `staged_table` returns for it, its frame as Arrow. ValueError for an extract with a value column
    (those are aggregates, small: the pandas path stages them)."""
    relation = con.table(raw)
    if not is_record_level(relation.columns, table, mapping):
        raise ValueError(f"{mapping.source_id}: staged_records_sql stages record-level activity or flows extracts")
    header, stageable = header_rejects(relation.columns, table, mapping)
    rows_read = int(relation.aggregate("count(*)").fetchall()[0][0])
    if not stageable:
        return Staged(table, empty_staged(table), header, rows_read)
    mapped = mapped_columns(relation.columns, table, mapping)

    names = list(mapped) + [c for c in mapping.constants if c not in mapped and c in MAPPABLE[table]]
    # raw columns renamed to c0, c1, ... by the relational API, so no name from the data is ever written into SQL
    relation.select(ColumnExpression(ROW_COLUMN).alias("row_number"),
                    *[ColumnExpression(mapped[name]).alias(f"c{i}") for i, name in enumerate(names)
                      if name in mapped]).create_view("__staging_raw", replace=True)
    params: dict[str, Any] = {"ws": WHITESPACE, "source_id": mapping.source_id}
    params.update({ns: mapping.namespaces.get(key, mapping.partner) for key, ns in NAMESPACE_OF.items()})
    selected, coded, joins = _selected_and_coded(con, names, mapped, mapping, params)
    value_of = {name: f"v_{i}" for i, name in enumerate(names)}
    values = [f"{coded.get(name, f'b.raw_{i}')} AS v_{i}" for i, name in enumerate(names)]
    failures, clip = _row_checks(table, names, coded, mapping, params)
    position = {name: i for i, name in enumerate(names)}
    period = "period" if "period" in position else "period_start"
    ending = "period_end" if period == "period_start" and "period_end" in position else period
    raw_period = f"raw_{position[period]}"
    qualifier = value_of.get("qualifier", "NULL")

    verdict = "CASE " + " ".join(f"WHEN {condition} THEN {n}" for n, (condition, *_) in enumerate(failures)) + " END"
    shown = "CASE failed " + " ".join(f"WHEN {n} THEN {raw}" for n, (*_, raw) in enumerate(failures)) + " END"
    staged_columns = _staged_columns(table, mapping, value_of, "date_trunc('month', p_start)", "last_day(p_start)",
                                     qualifier)
    # layers: trimmed raw text; codes applied; each distinct period parsed once (a year of dates is a few hundred
    # values, however many rows); then each row's first failing check
    e = "pe" if ending != period else "ps"  # the end comes from period_end when the extract has one
    ends = f"UNION SELECT DISTINCT {value_of[ending]} FROM v" if ending != period else ""
    checked = f"""
        WITH b AS (SELECT {', '.join(selected)} FROM __staging_raw),
             v AS (SELECT b.*, {', '.join(values)} FROM b {' '.join(joins)}),
             periods AS (SELECT text, {PERIOD_SQL.format(p='text')} AS parsed
                         FROM (SELECT DISTINCT {value_of[period]} AS text FROM v {ends})),
             p AS (SELECT v.*, ps.parsed AS ps, {'pe.parsed' if ending != period else 'NULL'} AS pe FROM v
                   LEFT JOIN periods ps ON ps.text = v.{value_of[period]}
                   {f'LEFT JOIN periods pe ON pe.text = v.{value_of[ending]}' if ending != period else ''}),
             d AS (SELECT * EXCLUDE (ps, pe), CAST(ps.s AS TIMESTAMP) AS p_start,
                          CAST(CASE WHEN {e}.month THEN last_day({e}.s) ELSE {e}.s END AS TIMESTAMP) AS p_end
                   FROM p)
        SELECT *, {verdict} AS failed, {f'coalesce({clip}, false)' if clip else 'false'} AS clipped FROM d"""
    _run(con, f"CREATE OR REPLACE TEMP TABLE __staging_checked AS {checked}", params)
    # counted as consolidation counts them: one row per keys, month, measure and qualifier, with the lines it counts
    staged_columns.update(row_number="min(row_number)", value="count(*)::DOUBLE")
    select = ("SELECT " + ", ".join(f"{sql} AS {name}" for name, sql in staged_columns.items())
              + f", list(row_number ORDER BY row_number) AS {ROW_NUMBERS} FROM __staging_checked "
              "WHERE failed IS NULL AND NOT clipped GROUP BY ALL ORDER BY min(row_number)")
    frame = con.sql(select, params=_used(select, params)).to_arrow_table().cast(counted_schema(table))
    refused = _run(con, f"SELECT row_number, failed, {shown} AS value FROM __staging_checked "
                   "WHERE failed IS NOT NULL ORDER BY failed, row_number", params).df()
    clipped = int((con.execute("SELECT count(*) FROM __staging_checked WHERE failed IS NULL AND clipped")
                   .fetchone() or (0,))[0])
    formats = con.execute(
        f"SELECT {FORMAT_SQL.format(p='text')} AS name, sum(n)::BIGINT AS n, min(first) AS first "
        f"FROM (SELECT {raw_period} AS text, count(*) AS n, min(row_number) AS first FROM __staging_checked "
        "      WHERE failed IS NULL OR failed >= ? GROUP BY text) "
        "GROUP BY name HAVING name IS NOT NULL ORDER BY n DESC, first", [_first_period_check(failures)]).fetchall()
    con.execute("DROP TABLE __staging_checked")
    con.execute("DROP VIEW __staging_raw")
    for i, name in enumerate(names):
        if name in coded:
            con.execute(f"DROP TABLE __codes_{i}")

    found = [header, _mixed_formats(formats, mapping, mapped.get(period, period)),
             _row_rejects(refused, failures, mapping, mapped)]
    return Staged(table, frame, concat_rejects(found), rows_read, clipped)


def _selected_and_coded(con: duckdb.DuckDBPyConnection, names: list[str], mapped: dict[str, str],
                        mapping: SourceMapping, params: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    """The trimmed raw text of each column (constants bound as parameters), and for each coded column the SQL of
    its recoded value and the join of its code table (codes not listed: NULL, the raw code, or the default)."""
    selected = ["row_number"]
    for i, name in enumerate(names):
        if name in mapped:
            # trimmed only where an end is whitespace: trim over the whole set of whitespace characters took
            # most of a big log's staging, and most values have nothing to trim
            text = f"CAST(c{i} AS VARCHAR)"
            ends = f"contains($ws, left({text}, 1)) OR contains($ws, right({text}, 1))"
            selected.append(f"nullif(CASE WHEN {ends} THEN trim({text}, $ws) ELSE {text} END, '') AS raw_{i}")
        else:
            params[f"constant_{i}"] = None if mapping.constants[name] is None else str(mapping.constants[name])
            selected.append(f"CAST($constant_{i} AS VARCHAR) AS raw_{i}")
    coded, joins = {}, []
    for i, name in enumerate(names):
        codes = mapping.codes.get(name)
        if codes:  # a code list is a small table joined once, not a lookup evaluated per row
            con.execute(f"CREATE OR REPLACE TEMP TABLE __codes_{i} (code VARCHAR, value VARCHAR)")
            con.executemany(f"INSERT INTO __codes_{i} VALUES (?, ?)",
                            [(str(k).strip(), str(v)) for k, v in codes.items()])
            joins.append(f"LEFT JOIN __codes_{i} k{i} ON k{i}.code = b.raw_{i}")
            coded[name] = f"k{i}.value"
            if name in mapping.code_defaults:
                params[f"default_{i}"] = str(mapping.code_defaults[name])
                coded[name] = f"CASE WHEN b.raw_{i} IS NULL THEN NULL ELSE coalesce(k{i}.value, $default_{i}) END"
            elif name in mapping.keep_unlisted:
                coded[name] = f"coalesce(k{i}.value, b.raw_{i})"
    return selected, coded, joins


def _row_checks(table: str, names: list[str], coded: dict[str, str], mapping: SourceMapping,
                params: dict[str, Any]) -> tuple[list[tuple[str, str, str, str]], str]:
    """Each row check in the pandas path's order, as (SQL condition, failure code, canonical column, raw value),
    and the condition of rows clipped to the map period ("" when the source does not clip)."""
    value_of = {name: f"v_{i}" for i, name in enumerate(names)}
    position = {name: i for i, name in enumerate(names)}
    failures: list[tuple[str, str, str, str]] = []
    for name in mapping.codes:
        if name in coded and name not in mapping.code_defaults and name not in mapping.keep_unlisted:
            failures.append((f"raw_{position[name]} IS NOT NULL AND v_{position[name]} IS NULL", "unmapped_code",
                             name, f"raw_{position[name]}"))
    for name in REQUIRED[table]:
        if name in position:
            failures.append((f"{value_of[name]} IS NULL", "missing_value", name, f"raw_{position[name]}"))
    period = "period" if "period" in position else "period_start"
    raw_period = f"raw_{position[period]}"
    failures.append(("p_start IS NULL OR p_end IS NULL", "bad_period", period, raw_period))
    failures.append(("date_trunc('month', p_start) <> date_trunc('month', p_end)", "period_spans_months", period,
                     raw_period))
    clip = ""
    if mapping.map_period is not None:
        params["first"], params["last"] = mapping.map_period
        outside = "(p_start < $first OR p_end > $last)"
        if mapping.clip_to_map_period:
            clip = outside
        else:
            failures.append((outside, "outside_map_period", period, raw_period))
    params["held_first"], params["held_last"] = (moment.to_pydatetime() for moment in HELD_TIMES)
    failures.append(("p_start < $held_first OR p_end > $held_last", "bad_period", period, raw_period))
    qualifier = value_of.get("qualifier", "NULL")
    params["qualifiers"] = list(QUALIFIERS)
    if "qualifier" in position:
        failures.append((f"{qualifier} IS NOT NULL AND NOT list_contains($qualifiers, {qualifier})",
                         "invalid_value", "qualifier", f"raw_{position['qualifier']}"))
    params["measure_pattern"] = MEASURE_PATTERN.removeprefix("^").removesuffix("$")
    failures.append((f"NOT regexp_full_match({value_of['measure']}, $measure_pattern)", "contract", "measure",
                     value_of["measure"]))
    return failures, clip


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters the statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    return con.execute(sql, _used(sql, params))


def _staged_columns(table: str, mapping: SourceMapping, value_of: dict[str, str], start: str, end: str,
                    qualifier: str) -> dict[str, str]:
    """SQL of each column of the staged contract."""
    sql: dict[str, str] = {"source_id": "$source_id", "row_number": "row_number"}
    for key, ns in NAMESPACE_OF.items():
        sql[ns] = f"${ns}"
        sql[key] = value_of.get(key, "NULL")
    sql.update({"period_start": f"CAST({start} AS TIMESTAMP)", "period_end": f"CAST({end} AS TIMESTAMP)",
                "measure": value_of["measure"], "value": "1.0::DOUBLE", "qualifier": qualifier})
    wanted = columns(STAGED_MODELS[table])
    return {name: sql.get(name, "NULL") for name in wanted}


def _first_period_check(failures: list[tuple[str, str, str, str]]) -> int:
    """Rows refused before the period checks are not counted for the mixed-formats warning (as in pandas)."""
    return next(n for n, (_, code, _, _) in enumerate(failures) if code == "bad_period")


def _mixed_formats(formats: list[tuple[str, int, int]], mapping: SourceMapping, column: str) -> pd.DataFrame:
    if len(formats) < 2:
        return normalised_rejects(pd.DataFrame(columns=REJECT_COLUMNS))
    listed = ", ".join(f"{name} ({n:,} rows, first on row {int(first)})" for name, n, first in formats)
    return _records(mapping, [0], [None], [column], ["mixed_date_formats"],
                    [f"column {column!r} mixes date formats: {listed}"])


def _row_rejects(refused: pd.DataFrame, failures: list[tuple[str, str, str, str]], mapping: SourceMapping,
                 mapped: dict[str, str]) -> pd.DataFrame:
    """One reject per refused row, by failure then row (as `refused` comes), worded as the pandas path words it."""
    failed = refused["failed"].astype("int64").tolist()
    wording = {n: (mapped.get(failures[n][2], failures[n][2]), *_wording(failures[n][1], failures[n][2], mapping))
               for n in set(failed)}
    worded = [wording[n] for n in failed]
    return _records(mapping, refused["row_number"].tolist(), refused["value"].tolist(), [w[0] for w in worded],
                    [w[1] for w in worded], [w[2] for w in worded])


def _wording(code: str, canonical: str, mapping: SourceMapping) -> tuple[str, str]:
    """The check and message the pandas path gives each failure."""
    if code == "unmapped_code":
        return code, f"code not in codes.{canonical} of the map config"
    if code == "missing_value":
        return code, f"{canonical} is empty"
    if code == "bad_period":
        return code, BAD_PERIOD
    if code == "period_spans_months":
        return code, "period spans more than one calendar month"
    if code == "outside_map_period" and mapping.map_period is not None:
        first, last = mapping.map_period
        return code, f"period is outside the map period {first:%Y-%m} to {last:%Y-%m}"
    if code == "invalid_value":
        return code, f"qualifier is not a PHS code ({' '.join(QUALIFIERS)})"
    return "invalid_value", "measure must be lower-case letters, digits and _ (such as attendances or bed_days)"


def _records(mapping: SourceMapping, rows: list[Any], values: list[Any], column: list[str], check: list[str],
             messages: list[str]) -> pd.DataFrame:
    severity = [str(CHECKS[c].severity) for c in check]
    return normalised_rejects(pd.DataFrame({
        "source_id": mapping.source_id, "location": mapping.location, "row_number": rows, "column": column,
        "check": check, "severity": severity, "value": values, "message": messages,
    }, columns=REJECT_COLUMNS))


@cache
def staged_schema(table: str) -> pa.Schema:
    """The Arrow schema the pandas path writes for a staged table (the contract's dtypes, pandas metadata
    included), so every staged Parquet file reads back alike whichever path staged it."""
    return pa.Schema.from_pandas(empty_frame(STAGED_MODELS[table]), preserve_index=False)


@cache
def counted_schema(table: str) -> pa.Schema:
    """The staged schema of a record-level log counted by month: the contract's, plus the lines each row counts."""
    return staged_schema(table).append(pa.field(ROW_NUMBERS, pa.list_(pa.int64())))
