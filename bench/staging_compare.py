"""How much the DuckDB staging prototype (transforms/staging_sql.py) saves on one record-level source of a
benchmark map: today's path (sources.tabular.csv_frame + standardise.staged_table) against DuckDB's CSV reader +
staged_records_sql, in this process, on the same file; both results are checked to be the same.

    python -m bench.staging_compare --size M --source hscp01_gp_referrals
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import duckdb

from bench.run import BUILD

# reading inside DuckDB: line numbers are record index + header line + 1, true when every record is one line
# (the check below compares the count of line breaks; a file with blank lines or multi-line cells would fall back)
READ_SQL = """
CREATE OR REPLACE TABLE raw AS
SELECT (row_number() OVER () + $header_row)::BIGINT AS __row__, *
FROM read_csv($path, header = true, all_varchar = true, delim = $delimiter, quote = $quote,
              skip = $header_row - 1, encoding = $encoding, parallel = false)
"""


def compare(size: str, source_id: str) -> dict[str, Any]:
    from flows.config import load_config
    from flows.refresh import source_mapping
    from sources.tabular import csv_frame, decoded_text
    from transforms.staging_sql import staged_records_sql
    from transforms.standardise import staged_table

    config = load_config(BUILD / size / "ism.toml")
    source = config.source(source_id)
    mapping = source_mapping(config, source, str(source.table))
    path = config.folder / source.location
    options = config.request(source).options

    cpu, wall = time.process_time(), time.perf_counter()
    text = decoded_text(path, options.encoding, source_id)  # type: ignore[attr-defined]
    raw = csv_frame(text, source_id, options.delimiter, options.quotechar, options.header_row)  # type: ignore[attr-defined]
    read_pandas = (time.process_time() - cpu, time.perf_counter() - wall)
    cpu, wall = time.process_time(), time.perf_counter()
    pandas_path = staged_table(raw, str(source.table), mapping)
    stage_pandas = (time.process_time() - cpu, time.perf_counter() - wall)

    with duckdb.connect() as con:
        cpu, wall = time.process_time(), time.perf_counter()
        encoding = "latin-1" if options.encoding.lower() in ("cp1252", "latin-1") else "utf-8"  # type: ignore[attr-defined]
        con.execute(READ_SQL, {"path": str(path), "header_row": options.header_row,  # type: ignore[attr-defined]
                               "delimiter": options.delimiter, "quote": options.quotechar,  # type: ignore[attr-defined]
                               "encoding": encoding})
        read_sql = (time.process_time() - cpu, time.perf_counter() - wall)
        lines = path.read_bytes().count(b"\n")
        one_line_each = lines == len(raw) + options.header_row  # type: ignore[attr-defined]
        cpu, wall = time.process_time(), time.perf_counter()
        sql_path = staged_records_sql(con, "raw", str(source.table), mapping)
        stage_sql = (time.process_time() - cpu, time.perf_counter() - wall)

    same = (len(sql_path.frame) == len(pandas_path.frame) and len(sql_path.rejects) == len(pandas_path.rejects)
            and sql_path.frame["row_number"].tolist() == pandas_path.frame["row_number"].tolist())
    return {"source": source_id, "rows": len(raw), "one_line_per_record": one_line_each, "same_result": same,
            "pandas": {"read": read_pandas, "stage": stage_pandas},
            "duckdb": {"read": read_sql, "stage": stage_sql}}


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare staging a record-level source in pandas and in DuckDB.")
    parser.add_argument("--size", default="M")
    parser.add_argument("--source", default="hscp01_gp_referrals")
    args = parser.parse_args()
    result = compare(args.size, args.source)
    (pr, ps), (dr, ds) = ((result[p]["read"], result[p]["stage"]) for p in ("pandas", "duckdb"))
    print(f"{result['source']}: {result['rows']:,} rows; same result: {result['same_result']}; "
          f"one line per record: {result['one_line_per_record']}")
    print(f"  pandas path: read {pr[0]:.2f}s cpu / {pr[1]:.2f}s wall, stage {ps[0]:.2f}s cpu / {ps[1]:.2f}s wall")
    print(f"  duckdb path: read {dr[0]:.2f}s cpu / {dr[1]:.2f}s wall, stage {ds[0]:.2f}s cpu / {ds[1]:.2f}s wall")
    total_pandas, total_duckdb = pr[0] + ps[0], dr[0] + ds[0]
    print(f"  cpu: {total_pandas:.2f}s -> {total_duckdb:.2f}s ({total_pandas / max(total_duckdb, 1e-9):.0f}x less)")


if __name__ == "__main__":
    main()
