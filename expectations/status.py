"""The statuses a refresh gives each source, the run and the map's quality, and the typed quality summary the
checks write (report.json's shape is documented in outputs/quality_report.py). StrEnums: each member is its own
string, so JSON, Parquet and every comparison with the bare word stay as they were."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SourceStatus(StrEnum):
    """What became of one source in a run."""

    OK = "ok"  # every row taken
    WARN = "warn"  # some rows rejected or flagged
    BLOCKED = "blocked"  # the new extract failed an error-severity check: nothing of it published
    STALE = "stale"  # blocked under quarantine: its last good extract is used
    MISSING = "missing"  # blocked under quarantine with no last good extract: left out


FRESH = (SourceStatus.OK, SourceStatus.WARN)  # statuses of a source whose new extract is in the map
BLOCKING = (SourceStatus.BLOCKED, SourceStatus.STALE, SourceStatus.MISSING)  # its new extract failed a check


class RunStatus(StrEnum):
    """What a refresh did: a new version, or the latest one answers (built from the same inputs)."""

    PUBLISHED = "published"
    UNCHANGED = "unchanged"


class Rag(StrEnum):
    """Red, amber or green: a source's quality and the run's."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


RAG_OF_STATUS = {SourceStatus.OK: Rag.GREEN, SourceStatus.WARN: Rag.AMBER, SourceStatus.STALE: Rag.AMBER,
                 SourceStatus.MISSING: Rag.RED, SourceStatus.BLOCKED: Rag.RED}


RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN)  # worst first


def worst_rag(rags: Sequence[str]) -> Rag:
    """The worst of some reds, ambers and greens (green when there are none)."""
    return next((rag for rag in RAG_ORDER if rag in rags), Rag.GREEN)


def version_status(statuses: Sequence[str]) -> Rag:
    """A version's status from its sources' statuses alone, for a manifest written without a quality summary.
    With one, a version's status is its run's (transforms/quality_summary.overall_status: the sources' and the
    consolidated checks'), the same word the report, the catalog, `ism versions` and the Prefect artifact show."""
    return worst_rag([RAG_OF_STATUS[SourceStatus(status)] for status in statuses])


@dataclass(frozen=True)
class QualitySummary:
    """The run's quality summary (report.json, documented in outputs/quality_report.py). `sources` are the
    per-source entries in config order; `as_json` gives the document, keys in the published order."""

    header: Mapping[str, Any]  # map_id, title, period, checked_at
    status: Rag
    thresholds: Mapping[str, float]
    previous_version: str | None
    sources: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    rejects: dict[str, Any]
    change: dict[str, Any]
    services: dict[str, list[dict[str, str]]]
    map_errors: list[str] = field(default_factory=list)  # what fails the whole map, e.g. no services at all
    root_causes: list[dict[str, Any]] = field(default_factory=list)  # blocked sources others' rejects follow from
    schema: str = "ism-quality/2"
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. the raw GX validations, written after the rest

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            **self.header,
            "status": self.status,
            "map_errors": self.map_errors,
            "root_causes": self.root_causes,
            "thresholds": dict(self.thresholds),
            "previous_version": self.previous_version,
            "sources": self.sources,
            "checks": self.checks,
            "rejects": self.rejects,
            "change": self.change,
            "services": self.services,
            **self.extra,
        }
