"""The run's working area: staged tables and rejects per source as Parquet, so steps pass paths, not frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_frame(path: Path, frame: pd.DataFrame | pa.Table) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(frame, pa.Table):
        pq.write_table(frame, path)
    else:
        frame.to_parquet(path, index=False)
    return str(path)


def read_frame(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def parquet_columns(path: str | Path) -> list[str]:
    """A Parquet file's column names, from its footer (no rows read)."""
    return pq.read_schema(path).names
