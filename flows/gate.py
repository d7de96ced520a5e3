"""The quality gate of a run: consolidate the accepted sources, check the consolidated map, apply each blocked
source's on_error policy, block a fresh source with too many rejected rows and consolidate again. `ism refresh`
publishes what passes; `ism validate` runs the same gate and publishes nothing."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.canonical import STAGED_TABLES
from expectations.checks import RejectRecord, Severity
from expectations.errors import QualityGateError
from expectations.status import Rag, SourceStatus
from expectations.suite import CONSOLIDATED_TABLES, SuiteLimits, check_frames
from flows.config import MapConfig, load_config
from flows.config_measures import measure_catalogue
from flows.faults import checkpoint
from flows.outcomes import SourceOutcome
from flows.progress import announce
from flows.quality_artifacts import quality_artifacts
from flows.quarantine import quarantined
from flows.runners import unvisited
from flows.safety import suppress_consolidated
from flows.stage import source_location
from flows.volumes import previous_volumes, run_volumes
from outputs import dataset
from outputs.quality_report import report_json
from outputs.run_log import run_report
from outputs.staged_tables import consolidated_tables, load_staged
from outputs.store.versions import MapStore
from outputs.store.workarea import read_frame, read_frames, write_frame
from transforms.consolidate import InitiativeSpec, PartnerInfo, consolidate
from transforms.quality_summary import (
    MEASURED_TABLES,
    checked_sources,
    compared_volumes,
    lane_counts,
    month_coverage,
    quality_summary,
    service_flags,
)
from transforms.rejects import concat_rejects, rejects_frame
from transforms.source_status import (
    gate_refusal,
    no_services_message,
    over_reject_share,
    recounted_status,
    rejected_rows,
    root_cause_line,
    root_causes,
)

CONSOLIDATION_MEMORY = "1536MB"


@dataclass(frozen=True)
class QualityOutcome:
    """The run's quality summary (JSON in the work area) and what the gate needs from it."""

    path: str
    status: Rag
    over_reject_share: dict[str, str]  # fresh source -> why it is over [quality] max_reject_share
    errors: list[str]  # failed error-severity checks of the consolidated map
    report: str | None = None  # the run's report in the private working area, once written
    map_errors: tuple[str, ...] = ()  # what fails the whole map (no services at all)


@task(name="consolidate", cache_policy=NO_CACHE)
def consolidate_sources(config_path: str, outcomes: list[SourceOutcome], work: str) -> str:
    """One DuckDB database of the run with the consolidated tables; returns its path."""
    config = load_config(config_path)
    path = Path(work) / "consolidated.duckdb"
    accepted = [o for o in outcomes if o.status != SourceStatus.BLOCKED]
    # bounded: past it DuckDB spills to disk beside the database, so a national map stays within a few GiB
    with duckdb.connect(str(path), config={"memory_limit": CONSOLIDATION_MEMORY}) as con:
        for table in STAGED_TABLES:
            load_staged(con, table, [o.staged[table] for o in accepted if table in o.staged])
        consolidate(
            con,
            partners={pid: PartnerInfo(p.name, p.sector) for pid, p in config.partners.items()},
            locations={s.id: source_location(config, s) for s in config.sources},
            initiatives=[InitiativeSpec(i.id, i.name, i.status, tuple(i.services), i.lead_partner)
                         for i in config.initiatives],
        )
        suppress_consolidated(con, config.disclosure.threshold)  # before any check or artefact sees a value
    checkpoint("after_consolidate")
    return str(path)


def run_tables(database: str, outcomes: list[SourceOutcome]) -> dict[str, pd.DataFrame]:
    """The run's canonical tables, `rejects` holding every source's and consolidation's. Read once for the check
    and the publish step of a run (seconds on a big map): the last tables read are kept while their database file
    and reject files are the same."""
    global _LAST_READ
    key = tuple(_file_state(path) for path in (database, *(o.rejects for o in outcomes)))
    if _LAST_READ is None or _LAST_READ[0] != key:
        tables = consolidated_tables(database)
        consolidation_rejects = tables.pop("consolidation_rejects")
        tables["rejects"] = concat_rejects([*read_frames(o.rejects for o in outcomes), consolidation_rejects])
        _LAST_READ = (key, tables)
    return {name: frame.copy(deep=False) for name, frame in _LAST_READ[1].items()}  # copy on write: callers' own


_LAST_READ: tuple[tuple[object, ...], dict[str, pd.DataFrame]] | None = None


def _file_state(path: str) -> tuple[object, ...]:
    try:
        stat = os.stat(path)
    except OSError:
        return (path,)
    return (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def with_all_rejects(outcomes: list[SourceOutcome], rejects: pd.DataFrame) -> list[SourceOutcome]:
    """Outcomes counting every rejected row of each source, consolidation's included."""
    counts = rejected_rows(rejects)
    updated = []
    for outcome in outcomes:
        rejected = counts.get(outcome.source_id, 0)
        updated.append(replace(outcome, rows_rejected=rejected, status=recounted_status(outcome.status, rejected),
                               rows_accepted=outcome.rows_accepted - (rejected - outcome.rows_rejected)))
    return updated


def _quality_entries(config: MapConfig, counted: list[SourceOutcome]) -> list[dict[str, Any]]:
    return [{
        "source_id": o.source_id, "partner": o.partner, "kind": o.kind,
        "location": source_location(config, config.source(o.source_id)),
        "on_error": config.source(o.source_id).on_error, "status": o.status, "rows_read": o.rows_read,
        "rows_accepted": max(0, o.rows_accepted), "rows_rejected": o.rows_rejected, "rows_clipped": o.rows_clipped,
        "rows_filtered": o.rows_filtered, "stale": o.stale, "error": o.error,
    } for o in counted]


@task(name="check", cache_policy=NO_CACHE)
def check_quality(config_path: str, outcomes: list[SourceOutcome], database: str, root: str,
                  work: str) -> QualityOutcome:
    """Check the consolidated map with the GX suite (integrity, coverage, lanes, reject shares, change against
    the previous version) and write the run's quality summary (shape: outputs/quality_report.py)."""
    config = load_config(config_path)
    store = config.store(root)
    tables = run_tables(database, outcomes)
    counted = with_all_rejects(outcomes, tables["rejects"])
    latest = store.latest()
    entries = _quality_entries(config, counted)
    claims = {o.source_id: [t for t in config.source(o.source_id).tables if t in MEASURED_TABLES]
              for o in counted if o.staged}
    # the suite's reject_share check takes the loosest limit; the gate holds each source to its own
    loosest = max([config.quality.max_reject_share, *(s.max_reject_share or 0 for s in config.sources)])
    limits = SuiteLimits(tuple(config.lane_ids), loosest, config.quality.max_volume_change)
    catalogue = measure_catalogue(config.measures)
    ids = tables["services"]["service_id"].tolist(), tables["organisations"]["organisation_id"].tolist()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-tables") as checking:
        # the worker checks the consolidated tables while this process works out the frames checked after them
        checked_tables = checking.submit(check_frames, {t: tables[t] for t in CONSOLIDATED_TABLES}, *ids, limits)
        volumes = run_volumes(Path(work), tables, catalogue)
        frames = {
            "sources": checked_sources(pd.DataFrame(entries)),
            "coverage": month_coverage(tables, config.period.months, {s: t for s, t in claims.items() if t}),
            "volumes": compared_volumes(volumes, previous_volumes(store, latest, catalogue)),
            "lanes": lane_counts(tables["services"], config.lane_ids),
        }
        services_sources = {s.id: "external_ids" in s.columns for s in config.sources if "services" in s.tables}
        flags = service_flags(tables, config.quality.outlier_ratio,
                              [o.source_id for o in counted if o.status == SourceStatus.STALE])
        causes = root_causes(entries, services_sources, tables["rejects"])
        run = checked_tables.result().then(check_frames(frames, *ids, limits))
    map_errors = [] if len(tables["services"]) else [no_services_message(entries, services_sources)]
    summary = quality_summary(
        sources=entries, rejects=tables["rejects"], results=run.results, volumes=frames["volumes"],
        counts={t: len(f) for t, f in tables.items()},
        previous_counts=store.manifest(latest).get("counts") if latest else None, previous_version=latest,
        flags=flags,
        thresholds=config.quality.model_dump(),
        root_causes=causes,
        map_errors=map_errors,
        header={"map_id": config.map_id, "title": config.title,
                "partners": {pid: p.name for pid, p in config.partners.items()},
                "period": {"start": config.period.start, "end": config.period.end},
                "checked_at": datetime.now(UTC).replace(microsecond=0).isoformat()},
    )
    document = replace(summary, extra={"gx": run.validations}).as_json()
    path = Path(work) / "quality.json"
    dataset.write_json(path, document)
    errors = [f"{r.code} ({r.table}.{r.column}): {r.message}" for r in run.failed
              if r.severity == str(Severity.ERROR) and r.code != "reject_share"]
    over: dict[str, str] = {}
    for entry in entries:  # each source against its own max_reject_share, else the map's
        source = config.source(entry["source_id"])
        own = source.max_reject_share
        # its file named as its rejects name it: relative to the config, even where the config spells it absolute
        named = {**entry, "location": source_location(config, source)}
        over.update(over_reject_share([named], config.quality.max_reject_share if own is None else own,
                                      own_limit=own is not None))
    return QualityOutcome(str(path), summary.status, over, errors, map_errors=tuple(map_errors))


def _with_policy(config: MapConfig, outcome: SourceOutcome, store: MapStore, work: str) -> SourceOutcome:
    """A blocked source under quarantine becomes stale (last good extract) or missing; others stay as they are."""
    if outcome.status == SourceStatus.BLOCKED and config.source(outcome.source_id).on_error == "quarantine":
        return quarantined(outcome, store.private, Path(work))
    return outcome


def _blocked(outcome: SourceOutcome, reason: str, work: str) -> SourceOutcome:
    """A fresh source blocked after consolidation (too many rejects), the reason added to its rejects."""
    record = rejects_frame([RejectRecord(outcome.source_id, "reject_share", reason,
                                         (outcome.provenance or {}).get("location"), 0)])
    rejects = write_frame(Path(work) / "staged" / outcome.source_id / "rejects_gated.parquet",
                          concat_rejects([read_frame(outcome.rejects), record]))
    return replace(outcome, status=SourceStatus.BLOCKED, staged={}, rows_accepted=0, rejects=rejects, error=reason)


def quality_gate(config: MapConfig, outcomes: list[SourceOutcome], store: MapStore, work: str,
                 enforce: bool = True, artifact: str = "quality", run_id: str | None = None
                 ) -> tuple[list[SourceOutcome], str, QualityOutcome]:
    """Apply each blocked source's on_error policy, consolidate and check. A fresh source over max_reject_share is
    blocked in turn and the map consolidated again. With `run_id`, the run's quality report is written to the
    private working area (outputs/run_log.py) whatever happens next. Under `fail`, a blocked source (or a failed
    error check of the consolidated map) publishes nothing: QualityGateError naming every blocked source, root
    causes first, and the report's path, after the quality artifacts are written."""
    outcomes = [_with_policy(config, o, store, work) for o in outcomes]
    while True:
        announce("consolidate")
        database = consolidate_sources(str(config.path), unvisited(outcomes), work)
        announce("check")
        checked = check_quality(str(config.path), unvisited(outcomes), database, str(store.root), work)
        over = set(checked.over_reject_share)
        if not over or any(o.status == SourceStatus.BLOCKED for o in outcomes) or any(
                config.source(sid).on_error == "fail" for sid in over):
            break  # nothing more to quarantine, or the run fails anyway: its report is this one
        outcomes = [_with_policy(config, _blocked(o, checked.over_reject_share[o.source_id], work), store, work)
                    if o.source_id in over else o for o in outcomes]
    with open(checked.path, encoding="utf-8") as handle:
        summary = json.load(handle)
    quality_artifacts(summary, artifact)
    blocked = {o.source_id: o.error or o.source_id for o in outcomes if o.status == SourceStatus.BLOCKED}
    held = {o.source_id: f"{o.error or o.source_id} ({o.status})" for o in outcomes
            if o.status in (SourceStatus.STALE, SourceStatus.MISSING)}
    too_many = {sid: why for sid, why in checked.over_reject_share.items() if config.source(sid).on_error == "fail"}
    held.update({sid: why for sid, why in checked.over_reject_share.items()  # would be quarantined next round
                 if sid not in too_many and sid not in held})
    causes = summary.get("root_causes", [])
    refusal = gate_refusal(blocked=blocked, too_many=too_many, failed_checks=checked.errors, causes=causes,
                           map_errors=checked.map_errors, quarantined=held)
    report = None
    if run_id is not None:
        report = run_report(store.private, run_id, report_json(summary), {
            "command": "validate" if artifact == "validate" else "refresh", "map_id": config.map_id,
            "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "outcome": "failed" if enforce and refusal else "checked", "status": summary.get("status"),
            "blocked": _blocked_in_order(causes, blocked, too_many) + sorted(held),
            "root_causes": [root_cause_line(c) for c in causes], "message": refusal if enforce else None})
        checked = replace(checked, report=str(report))
    if enforce and refusal is not None:
        raise QualityGateError(gate_refusal(blocked=blocked, too_many=too_many, failed_checks=checked.errors,
                                            causes=causes, map_errors=checked.map_errors, quarantined=held,
                                            report=str(report) if report else None) or refusal)
    return outcomes, database, checked


def _blocked_in_order(causes: list[dict[str, Any]], blocked: dict[str, str], too_many: dict[str, str]) -> list[str]:
    """Every blocked source id, root causes first, then the sources that follow from them, then the others."""
    ordered = [sid for cause in causes for sid in cause["source_ids"]]
    ordered += [sid for cause in causes for sid in cause["sources"] if sid in too_many or sid in blocked]
    ordered += sorted({*blocked, *too_many})
    return list(dict.fromkeys(ordered))
