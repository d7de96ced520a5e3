"""The per-source cache of staged outcomes, so a source whose inputs did not change is not read or validated again.

    <private>/<map_id>/.cache/<source_id>/<key>/   the staged Parquet files and outcome.json (written last)
    <private>/<map_id>/.file_digests.pickle         the extracts' digests by file signature (sources/base.py)

One entry per source: a new entry is written beside the old one, swapped in by a rename, and the old one is then
deleted. An entry without outcome.json is partial (a run was killed while writing it) and is never read.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from outputs.store.kept import keep, kept

CACHE_DIR = ".cache"
DIGESTS_FILE = ".file_digests.pickle"
DIGESTS_HEADER = ("file digests", 1)  # kept.py's header: the shape of the entries
OUTCOME = "outcome.json"
CACHED_FILE = "cached_file"  # marks a path inside the entry in outcome.json: {"cached_file": "staged/x.parquet"}
KEY_PATTERN = re.compile(r"^[0-9a-f]{16,128}$")


def cache_folder(map_folder: Path) -> Path:
    return map_folder / CACHE_DIR


def cached_outcome(map_folder: Path, source_id: str, key: str) -> dict[str, Any] | None:
    """The outcome cached for `source_id` under `key`, its file paths pointing into the entry; None on a miss."""
    entry = cache_folder(map_folder) / source_id / key
    try:
        document = json.loads((entry / OUTCOME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files: list[Path] = []
    outcome = _resolved(document, entry, files)
    return outcome if all(path.is_file() for path in files) else None


def cache_outcome(map_folder: Path, source_id: str, key: str, outcome: dict[str, Any], work: Path) -> dict[str, Any]:
    """Keep `outcome` as the source's one cache entry: every file it names under `work` is copied into the entry,
    outcome.json is written last and the entry swapped in by a rename. Returns the outcome pointing into the
    entry (so the run reads what the next run will reuse)."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"cache key {key!r} is not a hex digest")
    source_folder = cache_folder(map_folder) / source_id
    partial = source_folder / f".partial-{secrets.token_hex(4)}"
    partial.mkdir(parents=True)
    document = _relocated(outcome, Path(work).resolve(), partial)
    (partial / OUTCOME).write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    entry = source_folder / key
    if entry.exists():
        shutil.rmtree(entry)
    os.rename(partial, entry)
    for other in source_folder.iterdir():
        if other.name != key:
            shutil.rmtree(other, ignore_errors=True)
    return _resolved(document, entry)


def kept_file_digests(map_folder: Path) -> list[Any]:
    """The file digests an earlier process kept; none when there are none or the file is damaged (they are then
    made again from the files)."""
    entries = kept(map_folder / DIGESTS_FILE, DIGESTS_HEADER)
    return entries if isinstance(entries, list) else []


def keep_file_digests(map_folder: Path, entries: list[Any]) -> None:
    """Keep these file digests for later processes."""
    keep(map_folder / DIGESTS_FILE, DIGESTS_HEADER, entries)


def remove_partial_entries(map_folder: Path) -> list[Path]:
    """Delete cache entries and files of the private area a killed run left half written; returns what was
    removed."""
    removed = []
    for partial in sorted(cache_folder(map_folder).glob("*/.partial-*")):
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    for partial in sorted(map_folder.glob(".*.partial-*")):  # files of the private area replaced whole
        partial.unlink(missing_ok=True)
        removed.append(partial)
    return removed


def prune_cache(map_folder: Path, source_ids: Iterable[str]) -> list[Path]:
    """Delete the entries of sources no longer in the map, keeping the cache bounded; returns what was removed."""
    keep = set(source_ids)
    folder = cache_folder(map_folder)
    removed = []
    if folder.is_dir():
        for source_folder in sorted(folder.iterdir()):
            if source_folder.name not in keep:
                shutil.rmtree(source_folder, ignore_errors=True)
                removed.append(source_folder)
    return removed


def _relocated(value: Any, work: Path, entry: Path) -> Any:
    """`value` with every path of a file under `work` copied into `entry` and replaced by a relative marker."""
    if isinstance(value, dict):
        return {k: _relocated(v, work, entry) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_relocated(v, work, entry) for v in value]
    if isinstance(value, str) and os.path.isabs(value) and Path(value).is_file():
        path = Path(value).resolve()
        if path.is_relative_to(work):
            target = entry / path.relative_to(work)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            return {CACHED_FILE: path.relative_to(work).as_posix()}
    return value


def _resolved(value: Any, entry: Path, found: list[Path] | None = None) -> Any:
    """`value` with every marker replaced by the path of the file in `entry` (appended to `found`)."""
    if isinstance(value, dict):
        if set(value) == {CACHED_FILE}:
            path = entry / value[CACHED_FILE]
            if found is not None:
                found.append(path)
            return str(path)
        return {k: _resolved(v, entry, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, entry, found) for v in value]
    return value
