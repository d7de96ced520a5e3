"""The run's staged tables handed to consolidation: every accepted source's staged Parquet in the work area, as
`staged_<table>` tables or views of one DuckDB connection (transforms/consolidate.py reads only the connection)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from expectations.canonical import CANONICAL_TABLES, STAGED_MODELS, empty_frame

RECORD_TABLES = ("activity", "flows")  # the tables record-level logs feed
# the lines a staged row counts: a log counted by month lists them (transforms/staging_sql.py), other rows are one
NO_ROW_NUMBERS = ", NULL::BIGINT[] AS row_numbers"


def load_staged(con: duckdb.DuckDBPyConnection, table: str, parquet_paths: Sequence[str]) -> None:
    """Create `staged_<table>` from the staged Parquet files of every accepted source (or empty)."""
    name = f"staged_{table}"
    if parquet_paths and table in RECORD_TABLES:  # scanned where they lie, never copied
        listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in parquet_paths)
        scan = f"read_parquet([{listed}], union_by_name=true)"
        counted = "row_numbers" in con.sql(f"SELECT * FROM {scan} LIMIT 0").columns
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT *{'' if counted else NO_ROW_NUMBERS} FROM {scan}")
        return
    if parquet_paths:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet(?, union_by_name=true)",
                    [list(parquet_paths)])
    else:
        con.register("_empty_staged", empty_frame(STAGED_MODELS[table]))
        extra = NO_ROW_NUMBERS if table in RECORD_TABLES else ""
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT *{extra} FROM _empty_staged")
        con.unregister("_empty_staged")



def consolidated_tables(database: str) -> dict[str, pd.DataFrame]:
    """The canonical tables of a run's consolidated database but `rejects`, in their canonical order, then
    `consolidation_rejects` (the rows consolidation could not resolve)."""
    with duckdb.connect(database, read_only=True) as con:
        # measures is the catalogue (map config), not consolidated data: the publish step adds it
        tables = {t: con.table(t).df() for t in CANONICAL_TABLES if t not in ("rejects", "measures")}
        tables["consolidation_rejects"] = con.table("consolidation_rejects").df()
    return tables
