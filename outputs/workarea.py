"""The run's working area: staged tables and rejects per source as Parquet, so steps pass paths, not frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_frame(path: Path, frame: pd.DataFrame) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return str(path)


def read_frame(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)
