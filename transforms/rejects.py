"""Reject records as frames: every row not taken, traceable to source, file, row, column and check."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pandas as pd

from expectations.canonical import Reject, columns
from expectations.checks import CHECKS, RejectRecord

REJECT_COLUMNS = columns(Reject)


def rejects_frame(records: Iterable[RejectRecord]) -> pd.DataFrame:
    """A rejects table from individual records."""
    rows = [
        {
            "source_id": r.source_id,
            "location": r.location,
            "row_number": r.row_number,
            "column": r.column,
            "check": r.check,
            "severity": str(CHECKS[r.check].severity),
            "value": r.value,
            "message": r.message,
        }
        for r in records
    ]
    return normalised_rejects(pd.DataFrame(rows, columns=REJECT_COLUMNS))


def row_rejects(
    source_id: str,
    location: str | None,
    rows: pd.Series,
    values: pd.Series | None,
    column: str | None,
    check: str,
    message: str,
) -> pd.DataFrame:
    """Rejects for many rows at once (vectorised): one record per row number."""
    frame = pd.DataFrame(
        {
            "source_id": source_id,
            "location": location,
            "row_number": rows.to_numpy(),
            "column": column,
            "check": check,
            "severity": str(CHECKS[check].severity),
            "value": None if values is None else values.astype("object").where(values.notna(), None).to_numpy(),
            "message": message,
        },
        columns=REJECT_COLUMNS,
    )
    return normalised_rejects(frame)


def normalised_rejects(frame: pd.DataFrame) -> pd.DataFrame:
    """One dtype per column so frames from different steps concatenate and write cleanly."""
    if frame.empty:  # most sources and steps reject nothing: no per-column conversion (milliseconds each)
        return _no_rejects().copy()
    return _normalised(frame)


@cache
def _no_rejects() -> pd.DataFrame:
    return _normalised(pd.DataFrame(columns=REJECT_COLUMNS))


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=REJECT_COLUMNS)
    out = frame.astype({c: "str" for c in REJECT_COLUMNS if c != "row_number"})
    for column in REJECT_COLUMNS:
        if column != "row_number":
            out[column] = out[column].where(frame[column].notna(), None)
    out["row_number"] = pd.to_numeric(frame["row_number"], errors="coerce").astype("float64")
    return out


def concat_rejects(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return normalised_rejects(pd.DataFrame(columns=REJECT_COLUMNS))
    return normalised_rejects(pd.concat(frames, ignore_index=True))
