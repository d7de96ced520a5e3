"""One interface to stage a source's raw table, whichever engine does it: the source's shaping steps
(transforms/source_steps.py) then `staged_table` in pandas, or, for a record-level log with no shaping steps,
`staged_records_sql` in DuckDB (the steps are pandas only: a log that declares them is staged in pandas)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import duckdb
import pandas as pd

from transforms.rejects import concat_rejects, row_rejects
from transforms.source_steps import EXTERNAL_IDS_COLUMN, ROW_COLUMN, SourceSteps, missing_columns, shaped
from transforms.staging_sql import is_record_level, staged_records_sql
from transforms.standardise import SourceMapping, Staged, layout_hint, staged_table

NO_STEPS = SourceSteps()


def stages_in_sql(raw_columns: Sequence[str], table: str, mapping: SourceMapping,
                  steps: SourceSteps = NO_STEPS) -> bool:
    """Whether `staged` stages this table in DuckDB: a record-level log without shaping steps."""
    return not steps and is_record_level(raw_columns, table, mapping)


def staged(raw: pd.DataFrame | tuple[duckdb.DuckDBPyConnection, str], table: str, mapping: SourceMapping,
           steps: SourceSteps = NO_STEPS) -> Staged:
    """The staged `table` of one source: `raw` is the raw frame (text columns plus `__row__`), or a DuckDB
    connection and the name of a table or view holding it. Rows `where` leaves out are counted in
    `rows_filtered`; step rejects (lookup misses, missing step columns) join the staging rejects."""
    if isinstance(raw, tuple):
        con, name = raw
        if stages_in_sql(con.table(name).columns, table, mapping, steps):
            return staged_records_sql(con, name, table, mapping)
        raw = con.table(name).df()
    if not steps:
        return staged_table(raw, table, mapping)
    absent = missing_columns([str(c) for c in raw.columns], steps)
    if absent:
        found = [str(c) for c in raw.columns if c != ROW_COLUMN]
        header = staged_table(raw, table, mapping)
        problems = [_missing(mapping, column, key, found) for column, key in absent]
        return Staged(table, header.frame.iloc[0:0], concat_rejects([*problems, header.rejects]), len(raw))
    result = shaped(raw, steps, mapping.source_id, mapping.location)
    frame, mapping = _with_step_columns(result.frame, mapping, steps)
    done = staged_table(frame, table, mapping)
    return replace(done, rejects=concat_rejects([result.rejects, done.rejects]), rows_read=len(raw),
                   rows_filtered=result.rows_filtered)


def _with_step_columns(frame: pd.DataFrame, mapping: SourceMapping, steps: SourceSteps
                       ) -> tuple[pd.DataFrame, SourceMapping]:
    """The shaped frame without the columns only the steps used (they are not `unknown_column`s), and the
    mapping with the external ids the steps built."""
    columns = dict(mapping.columns)
    if steps.external_ids:
        own = columns.get("external_ids")
        if own is not None and own in frame.columns:
            both = frame[[own, EXTERNAL_IDS_COLUMN]].apply(
                lambda row: ";".join(v.strip() for v in row if isinstance(v, str) and v.strip()) or None, axis=1)
            frame = frame.assign(**{EXTERNAL_IDS_COLUMN: both}).drop(columns=own)
        columns["external_ids"] = EXTERNAL_IDS_COLUMN
    used = {each.column for condition in steps.where for each in (condition.any_of or (condition,))}
    used |= {lookup.on for lookup in steps.lookups} | set(steps.external_ids.values())
    dropped = [c for c in frame.columns if c in used and c not in columns.values() and c != ROW_COLUMN]
    return frame.drop(columns=dropped), replace(mapping, columns=columns)


def _missing(mapping: SourceMapping, column: str, key: str, found: list[str]) -> pd.DataFrame:
    return row_rejects(mapping.source_id, mapping.location, pd.Series([0]), pd.Series([None]), column,
                       "missing_column", f"column {column!r} named in {key} of the source is not in the header of "
                       f"{mapping.location or 'the extract'}; columns found: {', '.join(found) or 'none'}"
                       + layout_hint(found))


def staged_with_active_services(results: dict[str, Staged]) -> Staged:
    """The source's staged services keeping those its own staged activity or flows name (so within the map
    period); the others are counted as filtered. A source with no measured table keeps every service."""
    measured = [results[t].frame for t in ("activity", "flows") if t in results]
    services = results["services"]
    if not measured:
        return services
    named: set[str] = set()
    for frame in measured:
        for column in ("service_key", "from_key", "to_key"):
            if column in (frame.column_names if hasattr(frame, "column_names") else frame.columns):
                values = frame[column].to_pylist() if hasattr(frame, "column_names") else frame[column].tolist()
                named.update(v for v in values if isinstance(v, str))
    frame = services.frame
    active = frame["service_key"].isin(named)
    return replace(services, frame=frame[active].reset_index(drop=True),
                   rows_filtered=services.rows_filtered + int((~active).sum()))
