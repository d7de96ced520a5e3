"""The last good extract of each source: its staged tables, kept beside the map's versions after every publish, so
that a source under `on_error = "quarantine"` whose new extract fails is published from them (marked stale)
instead of with its bad rows.

    <private>/<map_id>/.last_good/<source_id>/<table>.parquet   staged tables of the last good extract
    <private>/<map_id>/.last_good/<source_id>/last_good.json    its provenance, the version it went into, its rows
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LAST_GOOD = ".last_good"
RECORD = "last_good.json"


@dataclass(frozen=True)
class LastGood:
    """A source's last good staged tables and what they were."""

    source_id: str
    tables: dict[str, Path]  # staged table -> parquet
    provenance: dict[str, Any]  # as the source's extract recorded it (sha256, extracted_at, location, ...)
    version_id: str  # the version it was published in
    saved_at: str
    rows: int

    @property
    def extracted_at(self) -> str | None:
        return self.provenance.get("extracted_at")

    def age_days(self, now: datetime | None = None) -> float | None:
        """Days since the extract was read (its age as data), None if unknown."""
        if not self.extracted_at:
            return None
        then = datetime.fromisoformat(self.extracted_at)
        return round(((now or datetime.now(UTC)) - then).total_seconds() / 86400, 1)


def last_good_folder(map_folder: Path, source_id: str) -> Path:
    return map_folder / LAST_GOOD / source_id


def keep_last_good(map_folder: Path, source_id: str, staged: Mapping[str, str | Path], provenance: Mapping[str, Any],
                   version_id: str, rows: int, key: str | None = None) -> Path:
    """Replace the source's last good tables with `staged` (written to a new folder first, then swapped in, so a
    crash leaves the old or the new set, never half of one). `key`: the source's input key (flows/source_cache.py);
    kept tables of the same key and rows are left as they are (with the first version they went into)."""
    target = last_good_folder(map_folder, source_id)
    if key is not None and _same_extract(target, key, rows, sorted(staged)):
        return target
    for leftover in target.parent.glob(f".*-{source_id}-*"):  # from a run killed while swapping
        shutil.rmtree(leftover, ignore_errors=True)
    fresh = target.with_name(f".new-{source_id}-{secrets.token_hex(4)}")
    fresh.mkdir(parents=True)
    for table, path in staged.items():
        shutil.copyfile(path, fresh / f"{table}.parquet")
    record = {"source_id": source_id, "tables": sorted(staged), "provenance": dict(provenance),
              "version_id": version_id, "saved_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
              "rows": int(rows), "key": key}
    (fresh / RECORD).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    old = target.with_name(f".old-{source_id}-{secrets.token_hex(4)}")
    if target.exists():
        os.rename(target, old)
    os.rename(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _same_extract(folder: Path, key: str, rows: int, tables: list[str]) -> bool:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (record.get("key") == key and record.get("rows") == rows and record.get("tables") == tables
            and all((folder / f"{table}.parquet").is_file() for table in tables))


def last_good(map_folder: Path, source_id: str) -> LastGood | None:
    """The source's last good extract, or None if it never had one (or the record is unreadable)."""
    folder = last_good_folder(map_folder, source_id)
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = {table: folder / f"{table}.parquet" for table in record.get("tables", [])}
    if not all(path.is_file() for path in tables.values()):
        return None
    return LastGood(source_id=source_id, tables=tables, provenance=record.get("provenance") or {},
                    version_id=str(record.get("version_id")), saved_at=str(record.get("saved_at")),
                    rows=int(record.get("rows", 0)))
