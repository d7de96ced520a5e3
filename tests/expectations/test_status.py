"""The statuses are their own words (JSON and comparisons unchanged) and the quality summary keeps its keys in
the published order."""

from __future__ import annotations

import json

from expectations.status import QualitySummary, Rag, SourceStatus, version_status


def test_statuses_serialise_as_the_bare_words() -> None:
    assert json.dumps({"status": SourceStatus.STALE, "rag": Rag.AMBER}) == '{"status": "stale", "rag": "amber"}'
    assert SourceStatus("warn") == "warn" and f"source_{SourceStatus.MISSING}" == "source_missing"


def test_a_version_without_a_summary_takes_its_worst_source_rag() -> None:
    assert version_status(["ok", "ok"]) is Rag.GREEN
    assert version_status(["ok", "stale"]) is Rag.AMBER
    assert version_status(["warn", "missing", "ok"]) is Rag.RED


def test_the_summary_document_has_the_header_after_the_schema_and_extras_last() -> None:
    summary = QualitySummary(header={"map_id": "m", "title": "T"}, status=Rag.GREEN, thresholds={"x": 0.1},
                             previous_version=None, sources=[], checks=[], rejects={}, change={}, services={},
                             extra={"gx": {}})
    assert list(summary.as_json()) == ["schema", "map_id", "title", "status", "map_errors", "root_causes",
                                       "thresholds", "previous_version",
                                       "sources", "checks", "rejects", "change", "services", "gx"]
