"""A blocked source's `on_error = "quarantine"` policy: its last good extract, marked stale, or nothing, marked
missing."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from expectations.status import SourceStatus
from flows.outcomes import SourceOutcome
from outputs.store.last_good import last_good


def quarantined(outcome: SourceOutcome, map_folder: Path, work: Path) -> SourceOutcome:
    """A blocked source under quarantine: its last good staged tables (copied into the run's work area so the
    run never reads the store while it may change), marked stale with their age; or nothing, marked missing."""
    source_id = outcome.source_id
    found = last_good(map_folder, source_id)
    if found is None:
        return replace(outcome, status=SourceStatus.MISSING, staged={}, rows_accepted=0, stale=None)
    folder = work / "last_good" / source_id
    folder.mkdir(parents=True, exist_ok=True)
    staged = {}
    for table, path in found.tables.items():
        staged[table] = str(shutil.copyfile(path, folder / path.name))
    stale = {"extracted_at": found.extracted_at, "age_days": found.age_days(), "version_id": found.version_id,
             "saved_at": found.saved_at, "rows": found.rows, "sha256": found.provenance.get("sha256")}
    return replace(outcome, status=SourceStatus.STALE, staged=staged, rows_accepted=found.rows,
                   provenance=found.provenance, stale=stale)
