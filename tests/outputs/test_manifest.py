"""The version manifest: a source's record takes its provenance over the config's location, and the version is
its run's green / amber / red (else its worst source's)."""

from __future__ import annotations

from expectations.status import Rag
from flows.outcomes import SourceOutcome
from outputs.manifest import source_entry, version_manifest


def outcome(status: str, provenance: dict | None) -> SourceOutcome:
    return SourceOutcome(source_id="s", partner="p", kind="csv", status=status, staged={}, rejects="",  # type: ignore[arg-type]
                         rows_read=10, rows_accepted=9, rows_rejected=1, rows_clipped=0, provenance=provenance)


def test_a_read_source_is_recorded_where_it_was_read_and_an_unread_one_where_the_config_says() -> None:
    read = source_entry(outcome("warn", {"location": "data/s.csv", "sha256": "ab", "extracted_at": "t"}),
                        "s.csv", "OGL-UK-3.0", None)
    assert (read["location"], read["sha256"], read["status"], read["rows_rejected"]) == ("data/s.csv", "ab", "warn", 1)
    assert source_entry(outcome("blocked", None), "s.csv", None, "x")["location"] == "s.csv"


def test_the_manifest_takes_the_run_status_else_its_worst_source_rag() -> None:
    def manifest(*statuses: str, status: str | None = None) -> dict:
        return version_manifest(version_id="v0001", map_id="m", title="T", area={}, population=None,
                                period=("2025-04", "2026-03"), content_hash="h", schema_version="1",
                                sources=[{"status": s} for s in statuses], counts={}, digests={}, disclosure=None,
                                inputs=None, status=status)
    assert manifest("ok", "ok")["status"] == Rag.GREEN
    assert manifest("ok", "stale")["status"] == "amber"
    assert manifest("ok", "ok", status=Rag.RED)["status"] == "red"  # the report's word: a failed check
    assert manifest("ok")["as_of"] == {"start": "2025-04", "end": "2026-03"}
