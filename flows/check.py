"""`ism check`'s work: read one source and stage it exactly as a refresh does (the same functions: sources.extract,
flows/staging.stage_source), without Prefect or Great Expectations, and say what came of it: the raw columns
found, the head of each mapped table, the counts and the rejects by reason with examples and the fix."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from expectations.errors import SourceError
from expectations.status import SourceStatus
from flows.config import MapConfig
from flows.outcomes import ExtractOutcome
from flows.safety import redacted, secret_values
from flows.staging import raw_outcome, stage_source
from outputs.store.workarea import parquet_columns, read_frame
from sources import extract, kind_named
from transforms.quality_summary import top_rejects

HEAD_ROWS = 5


@dataclass(frozen=True)
class SourceCheck:
    """What `ism check` found in one source."""

    source_id: str
    partner: str
    location: str
    status: str
    error: str | None
    raw_columns: dict[str, list[str]]  # canonical table -> the columns found in the extract
    head: dict[str, list[dict[str, Any]]]  # canonical table -> its first mapped rows
    rows_read: int
    rows_filtered: int  # left out by design (the source's `where`), never rejects
    rows_accepted: int
    rows_rejected: int
    rows_clipped: int
    reasons: list[dict[str, Any]] = field(default_factory=list)  # top_rejects: check, count, advice, samples

    @property
    def passed(self) -> bool:
        return self.status != SourceStatus.BLOCKED

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def _plain(value: Any) -> Any:
    """A cell as JSON takes it: missing values are null, timestamps ISO dates, numpy scalars Python ones."""
    if isinstance(value, np.ndarray):  # an array cell (a list column)
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or (not isinstance(value, dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value.item() if hasattr(value, "item") else value


def checked_source(config: MapConfig, source_id: str, head_rows: int = HEAD_ROWS) -> SourceCheck:
    """One source read, mapped and checked as a refresh would; nothing written outside a temporary folder."""
    source = config.source(source_id)
    with tempfile.TemporaryDirectory(prefix=f"ism-check-{source_id}-") as work:
        try:
            extracted = raw_outcome(config, source, extract(kind_named(source.kind), config.request(source)), work)
        except (SourceError, OSError) as error:
            extracted = ExtractOutcome(source_id=source_id, error=redacted(str(error), secret_values(config)))
        outcome = stage_source(str(config.path), extracted, work)
        raw_columns = {table: [c for c in parquet_columns(path) if not c.startswith("__")]  # not ism's own
                       for table, path in (extracted.raw or {}).items()}
        head = {table: [{k: _plain(v) for k, v in row.items()}
                        for row in read_frame(path).head(head_rows).to_dict("records")]
                for table, path in outcome.staged.items()}
        rejects = read_frame(outcome.rejects) if outcome.rejects else None
    return SourceCheck(
        source_id=source_id, partner=source.partner, location=source.location, status=str(outcome.status),
        error=outcome.error, raw_columns=raw_columns, head=head, rows_read=outcome.rows_read,
        rows_filtered=outcome.rows_filtered,
        rows_accepted=outcome.rows_accepted, rows_rejected=outcome.rows_rejected, rows_clipped=outcome.rows_clipped,
        reasons=[{**r, "samples": [{k: _plain(v) for k, v in s.items()} for s in r["samples"]]}
                 for r in (top_rejects(rejects) if rejects is not None else [])],
    )
