"""The small records a refresh passes and returns: a source's extract and staged outcome, and the run's result.
Plain dataclasses, free of Prefect, Great Expectations and pandera, so the CLI can answer a nothing-changed
refresh (flows/shortcut.py) without importing them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from expectations.status import RunStatus, SourceStatus
from outputs.json_text import json_text


@dataclass(frozen=True)
class ExtractOutcome:
    source_id: str
    raw: dict[str, str] = field(default_factory=dict)  # table -> raw parquet path
    problems: str | None = None  # rejects parquet path of problems met while reading
    provenance: dict[str, Any] | None = None
    error: str | None = None
    rows_filtered: int = 0  # rows the kind's own options left out by design (such as phs_ae health_boards)


@dataclass(frozen=True, kw_only=True)
class SourceOutcome:
    """What one source contributed: staged tables, rejects and counts. Blocked sources contribute nothing.
    Built by keyword only: twelve fields, several of them counts, are too easy to swap by position."""

    source_id: str
    partner: str
    kind: str
    status: SourceStatus
    staged: dict[str, str]
    rejects: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_clipped: int
    provenance: dict[str, Any] | None
    error: str | None = None
    stale: dict[str, Any] | None = None  # the last good extract a stale source publishes (flows/quarantine.py)
    rows_filtered: int = 0  # rows left out by design (the source's `where`, idle services), never rejects

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", SourceStatus(self.status))  # a cached or recorded outcome: a bare word

    @classmethod
    def blocked(cls, source_id: str, partner: str, kind: str, rejects: str, provenance: dict[str, Any] | None,
                error: str) -> SourceOutcome:
        """A source that contributes nothing: its rejects say why, `error` in one line."""
        return cls(source_id=source_id, partner=partner, kind=kind, status=SourceStatus.BLOCKED, staged={},
                   rejects=rejects, rows_read=0, rows_accepted=0, rows_rejected=0, rows_clipped=0,
                   provenance=provenance, error=error)


@dataclass(frozen=True)
class RunResult:
    map_id: str
    status: RunStatus
    version_id: str
    path: str
    content_hash: str
    sources: list[SourceOutcome]
    counts: dict[str, int]
    # seconds: each task's running time summed over its runs (extract, stage, consolidate, check, publish) and the
    # wall time of each phase of the flow (*_wall, flow); measured by refresh_map, for the benchmark (bench/).
    # A refresh answered before the flow starts (flows/shortcut.py) has {"flow": 0.0, "shortcut": seconds}.
    timings: dict[str, float] = field(default_factory=dict)


def result_json(result: RunResult) -> str:
    return json_text(asdict(result), indent=2, default=str)
