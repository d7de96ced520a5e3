"""The run's working area: staged tables and rejects per source as Parquet, so steps pass paths, not frames."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.identifiers import SAMPLE_ROWS, sample_positions


def write_frame(path: Path, frame: pd.DataFrame | pa.Table) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(frame, pa.Table):
        pq.write_table(frame, path)
    else:
        frame.to_parquet(path, index=False)
    return str(path)


def read_frame(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def read_frames(paths: Iterable[str | Path]) -> list[pd.DataFrame]:
    """The frames of these Parquet files that have rows (a file's footer says how many, without reading it: most
    sources' reject files are empty)."""
    return [pd.read_parquet(path) for path in paths if pq.read_metadata(path).num_rows]


def parquet_columns(path: str | Path) -> list[str]:
    """A Parquet file's column names, from its footer (no rows read)."""
    return pq.read_schema(path).names


WHOLE_READ_ROWS = 2_000_000  # reading this many raw rows costs about a second; beyond, sample row groups


def parquet_sample(path: str | Path, rows: int = SAMPLE_ROWS) -> tuple[pd.DataFrame, int]:
    """About `rows` rows spread through a Parquet file, and the file's row count. A file of up to
    WHOLE_READ_ROWS rows is read whole and sampled evenly; a larger one gives the head of each row group, read
    without loading the rest."""
    parquet = pq.ParquetFile(path)
    groups = parquet.metadata.num_row_groups
    if groups == 0:
        return parquet.schema_arrow.empty_table().to_pandas(), 0
    if parquet.metadata.num_rows <= WHOLE_READ_ROWS:
        table = parquet.read()  # sampled in Arrow: only the sample becomes pandas
        return table.take(sample_positions(table.num_rows, rows)).to_pandas(), table.num_rows
    per_group = max(1, math.ceil(rows / groups))
    batches = [next(parquet.iter_batches(batch_size=per_group, row_groups=[group]), None) for group in range(groups)]
    table = pa.Table.from_batches([b for b in batches if b is not None], schema=parquet.schema_arrow)
    return table.to_pandas(), parquet.metadata.num_rows
