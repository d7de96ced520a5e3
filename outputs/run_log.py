"""The record every run leaves, published or not, in the map's private working area (its report may hold
unsuppressed values, so it is never published from there):

    <private>/<map_id>/runs/<run_id>/report.html, report.json   the run's quality report
    <private>/<map_id>/runs/<run_id>/run.json                    what the run did (RUN_FIELDS)

`ism runs` lists them newest first. A run folder appears whole (written aside, then renamed); the oldest are
pruned past KEEP_RUNS."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNS_FOLDER = "runs"
RUN_FILE = "run.json"
REPORT_FILE = "report.html"
KEEP_RUNS = 100
# run.json: run_id, command (refresh | validate), map_id, finished_at, outcome (published | unchanged | failed |
# checked), status (green | amber | red), version_id (or null), blocked [source ids, root causes first],
# root_causes [lines], message (why nothing was published, or null), report (path of report.html)
RUN_FIELDS = ("run_id", "command", "map_id", "finished_at", "outcome", "status", "version_id", "blocked",
              "root_causes", "message", "report")


def new_run_id() -> str:
    """A run's id: its UTC start time to the microsecond first (so ids sort by time: two runs may start within one
    second), then random, then the process id."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S.%f}-{secrets.token_hex(3)}-{os.getpid()}"


def runs_folder(private: Path) -> Path:
    return private / RUNS_FOLDER


def _write_run(private: Path, run_id: str, record: Mapping[str, Any], write_reports: Any = None) -> Path:
    """Write a run's folder aside (its record, and the reports `write_reports(folder)` writes), then rename it
    into place; returns the final folder."""
    folder = runs_folder(private) / run_id
    partial = runs_folder(private) / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    if write_reports is not None:
        write_reports(partial)
    document = {**{name: None for name in RUN_FIELDS}, **record, "run_id": run_id}
    (partial / RUN_FILE).write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    _prune(private)
    return folder


def run_report(private: Path, run_id: str, quality: Mapping[str, Any], record: Mapping[str, Any]) -> Path:
    """Write the run's quality report (HTML and JSON) and its record; returns the report's path."""
    # imported here: the nothing-changed shortcut records its run without importing pandas
    from outputs.quality_report import report_html, report_json

    def reports(partial: Path) -> None:
        (partial / "report.json").write_text(json.dumps(report_json(quality), indent=2, default=str) + "\n",
                                             encoding="utf-8")
        (partial / REPORT_FILE).write_text(report_html(quality), encoding="utf-8")

    report = runs_folder(private) / run_id / REPORT_FILE
    return _write_run(private, run_id, {**record, "report": str(report)}, reports) / REPORT_FILE


def record_run(private: Path, run_id: str, record: Mapping[str, Any]) -> Path:
    """Write a run's record alone (e.g. an unchanged refresh, whose report is the latest version's); returns the
    record's path."""
    return _write_run(private, run_id, record) / RUN_FILE


def update_run(private: Path, run_id: str, **fields: Any) -> None:
    """Change fields of a run's record (e.g. its outcome once published), atomically."""
    path = runs_folder(private) / run_id / RUN_FILE
    if not path.is_file():
        return
    document = {**json.loads(path.read_text(encoding="utf-8")), **fields}
    aside = path.with_suffix(".json.partial")
    aside.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(aside, path)


def recent_runs(private: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The recorded runs, newest first (run ids start with their UTC time); unreadable records are skipped with
    a note in their `message`."""
    folder = runs_folder(private)
    if not folder.is_dir():
        return []
    found = []
    for run in sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name, reverse=True)[:limit]:
        try:
            found.append(json.loads((run / RUN_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            found.append({**{name: None for name in RUN_FIELDS}, "run_id": run.name, "outcome": "unknown",
                          "message": f"{run / RUN_FILE} could not be read ({type(error).__name__})"})
    return found


def _prune(private: Path) -> None:
    runs = sorted((p for p in runs_folder(private).iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)
    for old in runs[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
