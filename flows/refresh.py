"""The `refresh_map` flow: extract and stage every source concurrently, consolidate in DuckDB, build the graph,
publish one immutable version. Tasks pass paths and small records, never big frames."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext, TaskRunContext
from prefect.tasks import exponential_backoff

from expectations.canonical import CANONICAL_TABLES, STAGED_TABLES
from expectations.checks import RejectRecord, Severity
from expectations.errors import QualityGateError, SourceError
from expectations.suite import SuiteLimits, consolidated_suite, import_in_background, suite_results
from flows.analysis import started_analyses
from flows.config import MapConfig, Source, load_config
from flows.faults import checkpoint
from flows.outcomes import ExtractOutcome, RunResult, SourceOutcome, result_json  # noqa: F401  (re-exported)
from flows.publish import ARTEFACT_WRITERS, NEEDS_ANALYSES
from flows.quality import artifact_key, quality_artifacts, quarantined
from flows.runners import source_task_runner, within_seconds
from flows.safety import (
    identifier_rejects,
    logs_redacted,
    redacted,
    refuse_leaked_secrets,
    safety_quality,
    secret_values,
    suppress_consolidated,
)
from flows.shortcut import unchanged_result
from flows.source_cache import config_digest, run_inputs, source_key, source_key_before_reading
from outputs import dataset
from outputs.context import LaneStyle, PosterOptions, PublishedVersion
from outputs.store.cache import cache_outcome, cached_outcome, prune_cache
from outputs.store.last_good import keep_last_good
from outputs.store.versions import MANIFEST, MapStore
from outputs.store.workarea import parquet_columns, read_frame, write_frame
from sources import extract, kind_named
from transforms.consolidate import InitiativeSpec, PartnerInfo, consolidate, load_staged
from transforms.graph import service_graph
from transforms.numbers import NumberRule
from transforms.quality import (
    FRESH,
    MEASURED_TABLES,
    checked_sources,
    lane_counts,
    month_coverage,
    quality_summary,
    reject_share,
    service_flags,
    volume_changes,
)
from transforms.rejects import concat_rejects, rejects_frame
from transforms.staging_sql import is_record_level, staged_records_sql
from transforms.standardise import SourceMapping, Staged, staged_table

CONSOLIDATION_MEMORY = "1536MB"
DEFAULT_LICENCE = {"name": "OGL-UK-3.0", "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                   "title": "Open Government Licence v3.0"}


def relative_location(config: MapConfig, location: str | Path) -> str:
    """Locations as the config names them (relative to its folder), so outputs never carry machine paths."""
    try:
        return str(Path(location).resolve().relative_to(config.folder))
    except ValueError:
        return str(location)


def source_location(config: MapConfig, source: Source) -> str:
    """Where a source's data is, as outputs show it: its path relative to the config's folder, or for a database
    its URL with the password masked."""
    kind = kind_named(source.kind)
    if kind.describe is not None:
        return kind.describe(config.request(source))
    return relative_location(config, config.folder / source.location)


def source_mapping(config: MapConfig, source: Source, table: str) -> SourceMapping:
    """Kind defaults merged with the source's own mapping from the config."""
    kind = kind_named(source.kind)
    return SourceMapping(
        source_id=source.id,
        partner=source.partner,
        location=source_location(config, source),
        columns={**kind.default_columns.get(table, {}), **source.columns},
        constants={**kind.default_constants.get(table, {}), **source.constants},
        codes=source.codes,
        namespaces=source.namespaces,
        same_as=source.same_as,
        lanes=tuple(config.lane_ids),
        map_period=(config.period.first_day, config.period.last_day),
        clip_to_map_period=source.clip_to_map_period,
        outlier_ratio=config.quality.outlier_ratio,
        numbers=NumberRule(source.decimal, source.thousands),
    )


def _io_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: only IO errors and timeouts are worth another attempt (bad data stays bad)."""
    return isinstance(state.data, OSError)


@task(name="source", retries=2, retry_delay_seconds=exponential_backoff(5.0), retry_condition_fn=_io_error,
      task_run_name="source {source_id}")
def refresh_source(config_path: str, source_id: str, work: str, timeout_seconds: float | None = None,
                   root: str | None = None) -> SourceRun:
    """One source read and staged: one task per source, so Prefect's bookkeeping grows with sources, not steps.
    With the publish `root`, a source whose key is cached (a database: known once its rows are read) is not
    staged again, and a fresh outcome is cached for the next run."""
    started = time.perf_counter()
    extracted = extract_source(config_path, source_id, work, timeout_seconds)
    read = time.perf_counter()
    key, cached = None, None
    config = load_config(config_path)
    store = config.store(root) if root is not None else None
    if extracted.provenance is not None:
        key = source_key(config, config.source(source_id), extracted.provenance["sha256"])
        cached = _cached(store, source_id, key) if store is not None else None
    outcome = cached or stage_source(config_path, extracted, work)
    if cached is None and key is not None and store is not None and outcome.status in ("ok", "warn"):
        outcome = SourceOutcome(**cache_outcome(store.private, source_id, key, asdict(outcome), Path(work)))
    return SourceRun(outcome, key, {"extract": read - started, "stage": time.perf_counter() - read})


def source_task(source: Source) -> Any:
    """The source task with the source's own retries and exponential backoff (delay, 2 x delay, 4 x delay...)."""
    return refresh_source.with_options(retries=source.retries,
                                       retry_delay_seconds=exponential_backoff(source.retry_delay_seconds))


def extract_source(config_path: str, source_id: str, work: str, timeout_seconds: float | None = None
                   ) -> ExtractOutcome:
    """Read one partner extract once and keep its raw tables as Parquet in the work area. An IO error or a read
    longer than `timeout_seconds` is raised for Prefect to retry the source task with backoff; once the retries
    are spent (or for bad data, never retried) the source is reported unreadable."""
    config = load_config(config_path)
    source = config.source(source_id)
    try:
        result = within_seconds(timeout_seconds, extract, kind_named(source.kind), config.request(source))
    except SourceError as error:
        return ExtractOutcome(source_id=source_id, error=redacted(str(error), secret_values(config)))
    except OSError as error:
        context = TaskRunContext.get()
        attempt = context.task_run.run_count if context and context.task_run else 1
        if context and attempt <= context.task.retries:
            raise
        return ExtractOutcome(source_id=source_id, error=redacted(f"{source_id}: could not be read in {attempt} "
                                                                  f"attempt(s) ({type(error).__name__}): {error}",
                                                                  secret_values(config)))
    folder = Path(work) / "raw" / source_id
    raw = {table: write_frame(folder / f"{table}.parquet", frame) for table, frame in result.tables.items()}
    problems = write_frame(folder / "problems.parquet", rejects_frame(result.problems))
    provenance = {**asdict(result.provenance), "location": source_location(config, source)}
    return ExtractOutcome(source_id=source_id, raw=raw, problems=problems, provenance=provenance)


def staged_from_parquet(raw_path: str, table: str, mapping: SourceMapping) -> Staged:
    """A raw table (Parquet in the work area) staged: a record-level log in DuckDB, the rest (small aggregates and
    reference tables) by `staged_table` in pandas."""
    if not is_record_level(parquet_columns(raw_path), table, mapping):
        return staged_table(read_frame(raw_path), table, mapping)
    with duckdb.connect() as con:
        con.read_parquet(raw_path).create_view("raw")
        return staged_records_sql(con, "raw", table, mapping)


def stage_source(config_path: str, extracted: ExtractOutcome, work: str) -> SourceOutcome:
    """Standardise and validate one source's tables; rows that fail become rejects."""
    config = load_config(config_path)
    source = config.source(extracted.source_id)
    folder = Path(work) / "staged" / source.id
    location = source_location(config, source)
    if extracted.error is not None:
        unreadable = extracted.error.replace(f"{config.folder}/", "")  # files named as the config names them
        rejects = rejects_frame([RejectRecord(source.id, "source_unreadable", unreadable, location, 0)])
        return SourceOutcome(source.id, source.partner, source.kind, "blocked", {},
                             write_frame(folder / "rejects.parquet", rejects), 0, 0, 0, 0, None, unreadable)
    personal = identifier_rejects(source, extracted.raw, location)  # before any value can reach a reject
    if len(personal):
        return SourceOutcome(source.id, source.partner, source.kind, "blocked", {},
                             write_frame(folder / "rejects.parquet", personal), 0, 0, 0, 0, extracted.provenance,
                             f"{source.id}: {personal.iloc[0]['message']}")
    found = [read_frame(extracted.problems)] if extracted.problems else []
    staged, read, accepted, clipped = {}, 0, 0, 0
    for table, raw_path in extracted.raw.items():
        result = staged_from_parquet(raw_path, table, source_mapping(config, source, table))
        staged[table] = write_frame(folder / f"{table}.parquet", result.frame)
        found.append(result.rejects)
        read += result.rows_read
        accepted += result.rows_accepted
        clipped += result.rows_clipped
    rejects = concat_rejects(found)
    errors = rejects[rejects["severity"] == str(Severity.ERROR)]
    whole_file = errors[errors["row_number"] == 0]
    if read == 0:
        empty = RejectRecord(source.id, "source_empty", f"{location} has no data rows (a header at most); ask the "
                             "partner for a complete extract", location, 0)
        whole_file = rejects_frame([empty])
        rejects = concat_rejects([rejects, whole_file])
    status = "blocked" if len(whole_file) else ("warn" if len(rejects) else "ok")
    error = None if status != "blocked" else f"{source.id}: {whole_file.iloc[0]['message']}"
    return SourceOutcome(
        source.id, source.partner, source.kind, status, staged if status != "blocked" else {},
        write_frame(folder / "rejects.parquet", rejects), read, accepted if status != "blocked" else 0,
        int((errors["row_number"] != 0).sum()), clipped, extracted.provenance, error,
    )


@task(name="consolidate")
def consolidate_sources(config_path: str, outcomes: list[SourceOutcome], work: str) -> str:
    """One DuckDB database of the run with the consolidated tables; returns its path."""
    config = load_config(config_path)
    path = Path(work) / "consolidated.duckdb"
    accepted = [o for o in outcomes if o.status != "blocked"]
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


def _tables(database: str, outcomes: list[SourceOutcome]) -> dict[str, pd.DataFrame]:
    with duckdb.connect(database, read_only=True) as con:
        tables = {t: con.table(t).df() for t in CANONICAL_TABLES if t != "rejects"}
        consolidation_rejects = con.table("consolidation_rejects").df()
    tables["rejects"] = concat_rejects([*(read_frame(o.rejects) for o in outcomes), consolidation_rejects])
    return tables


@task(name="publish")
def publish_version(config_path: str, outcomes: list[SourceOutcome], database: str, root: str,
                    run_id: str, quality: str | None = None, inputs: dict[str, Any] | None = None) -> RunResult:
    """Write a version in a staging folder, then make it visible with one atomic rename. `quality` is the run's
    quality summary (JSON path, from check_quality)."""
    config = load_config(config_path)
    store = config.store(root)
    tables = _tables(database, outcomes)
    outcomes = _with_all_rejects(outcomes, tables["rejects"])
    staging = store.new_staging(run_id)
    digests = dataset.write_tables(staging, tables)
    content_hash = dataset.content_hash(digests, config_digest(config))
    counts = {table: len(frame) for table, frame in tables.items()}
    latest = store.latest()
    if latest and store.manifest(latest).get("content_hash") == content_hash:
        shutil.rmtree(staging)
        _keep_last_good(store, outcomes, latest)
        return RunResult(config.map_id, "unchanged", latest, str(store.version_path(latest)), content_hash,
                         outcomes, counts)

    version_id = store.next_version_id()
    sources = [_source_entry(config, o) for o in outcomes]
    graph = service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows", "initiatives")))
    analyses = started_analyses(graph, tables, config.lane_ids, store.version_path(latest) if latest else None)
    version = PublishedVersion(
        folder=staging, version_id=version_id, map_id=config.map_id, title=config.title,
        area_code=config.area.code, area_name=config.area.name, population=config.population,
        period_start=config.period.start, period_end=config.period.end,
        lanes=[LaneStyle(lane.id, lane.label, lane.colour) for lane in config.lanes],
        sector_colours=dict(config.sectors), partners={pid: p.name for pid, p in config.partners.items()},
        attributions=sorted({s.attribution for s in config.sources if s.attribution}),
        licences=dataset.package_licences(DEFAULT_LICENCE, [s.licence for s in config.sources]),
        tables=tables,
        graph=graph,
        sources=sources,
        previous=store.version_path(latest) if latest else None,
        analyses={},  # filled before the first writer that needs them
        quality={**_quality_of(quality), **safety_quality(database, tables["rejects"])},
        poster=PosterOptions(**config.poster.model_dump()),
    )
    for number, write in enumerate(ARTEFACT_WRITERS):
        if number == NEEDS_ANALYSES:
            version.analyses.update(analyses())
        write(version)
    manifest = {
        "version_id": version_id,
        "map_id": config.map_id,
        "title": config.title,
        "area": config.area.model_dump(),
        "population": config.population,
        "as_of": {"start": config.period.start, "end": config.period.end},
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "content_hash": content_hash,
        "schema_version": dataset.SCHEMA_VERSION,
        "status": "warn" if any(o.status != "ok" for o in outcomes) else "ok",
        "sources": sources,
        "counts": counts,
        "tables": digests,
        "disclosure": version.quality.get("disclosure"),
        "inputs": inputs,  # config digest and source keys: the next run with equal inputs is `unchanged`
    }
    checkpoint("mid_publish")
    refuse_leaked_secrets(staging, config)
    dataset.write_json(staging / MANIFEST, manifest)  # written last: a version without it is incomplete
    path = store.commit(staging, version_id, on_renamed=lambda: checkpoint("after_rename"))
    store.prune(config.publish.keep_versions)
    _keep_last_good(store, outcomes, version_id)
    return RunResult(config.map_id, "published", version_id, str(path), content_hash, outcomes, counts)


def _quality_of(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _keep_last_good(store: MapStore, outcomes: list[SourceOutcome], version_id: str) -> None:
    """After a publish, each fresh source's staged tables become its last good extract (for quarantine)."""
    for o in outcomes:
        if o.status in FRESH and o.staged:
            keep_last_good(store.private, o.source_id, o.staged, o.provenance or {}, version_id, o.rows_accepted)


def _with_all_rejects(outcomes: list[SourceOutcome], rejects: pd.DataFrame) -> list[SourceOutcome]:
    """Outcomes counting every rejected row of each source, consolidation's included."""
    rows = rejects[(rejects["severity"] == str(Severity.ERROR)) & (rejects["row_number"] != 0)]
    counts = rows.groupby("source_id").size()
    updated = []
    for outcome in outcomes:
        rejected = int(counts.get(outcome.source_id, 0))
        status = "warn" if outcome.status == "ok" and rejected else outcome.status
        updated.append(replace(outcome, rows_rejected=rejected, status=status,
                               rows_accepted=outcome.rows_accepted - (rejected - outcome.rows_rejected)))
    return updated


def _source_entry(config: MapConfig, outcome: SourceOutcome) -> dict[str, Any]:
    provenance = outcome.provenance or {}
    source = config.source(outcome.source_id)
    return {
        "source_id": outcome.source_id, "partner": outcome.partner, "kind": outcome.kind,
        "location": provenance.get("location", source.location), "sha256": provenance.get("sha256"),
        "extracted_at": provenance.get("extracted_at"), "status": outcome.status, "rows_read": outcome.rows_read,
        "rows_accepted": outcome.rows_accepted, "rows_rejected": outcome.rows_rejected,
        "rows_clipped": outcome.rows_clipped, "licence": source.licence, "attribution": source.attribution,
    }


@dataclass(frozen=True)
class SourceRun:
    """What the source task hands back: the outcome, the key the source was read under (None when it could not
    be read) and the seconds of each step, for RunResult.timings."""

    outcome: SourceOutcome
    key: str | None
    seconds: dict[str, float]


@dataclass(frozen=True)
class QualityOutcome:
    """The run's quality summary (JSON in the work area) and what the gate needs from it."""

    path: str
    status: str  # green | amber | red
    over_reject_share: dict[str, str]  # fresh source -> why it is over [quality] max_reject_share
    errors: list[str]  # failed error-severity checks of the consolidated map


def _previous_tables(store: MapStore, version_id: str | None) -> dict[str, pd.DataFrame] | None:
    if version_id is None:
        return None
    try:
        return {t: read_frame(store.version_path(version_id) / f"{t}.parquet") for t in MEASURED_TABLES}
    except (OSError, ValueError):
        return None  # an unreadable previous version: report no change rather than fail the run


def _named_location(config: MapConfig, source: Source) -> str:
    """Where the report says a source is: as the config names it (never a machine path); a database masked."""
    return source_location(config, source) if kind_named(source.kind).describe is not None else source.location


@task(name="check")
def check_quality(config_path: str, outcomes: list[SourceOutcome], database: str, root: str,
                  work: str) -> QualityOutcome:
    """Check the consolidated map with the GX suite (integrity, coverage, lanes, reject shares, change against
    the previous version) and write the run's quality summary (shape: outputs/quality.py)."""
    config = load_config(config_path)
    store = config.store(root)
    tables = _tables(database, outcomes)
    counted = _with_all_rejects(outcomes, tables["rejects"])
    latest = store.latest()
    entries: list[dict[str, Any]] = [{
        "source_id": o.source_id, "partner": o.partner, "kind": o.kind,
        "location": _named_location(config, config.source(o.source_id)),
        "on_error": config.source(o.source_id).on_error, "status": o.status, "rows_read": o.rows_read,
        "rows_accepted": max(0, o.rows_accepted), "rows_rejected": o.rows_rejected, "rows_clipped": o.rows_clipped,
        "stale": o.stale, "error": o.error,
    } for o in counted]
    claims = {o.source_id: [t for t in config.source(o.source_id).tables if t in MEASURED_TABLES]
              for o in counted if o.staged}
    frames = {
        **{t: tables[t] for t in ("organisations", "services", "activity", "flows")},
        "sources": checked_sources(pd.DataFrame(entries)),
        "coverage": month_coverage(tables, config.period.months, {s: t for s, t in claims.items() if t}),
        "volumes": volume_changes(tables, _previous_tables(store, latest)),
        "lanes": lane_counts(tables["services"], config.lane_ids),
    }
    limits = SuiteLimits(tuple(config.lane_ids), config.quality.max_reject_share, config.quality.max_volume_change)
    run = suite_results(frames, consolidated_suite(tables["services"]["service_id"],
                                                   tables["organisations"]["organisation_id"], limits))
    summary = quality_summary(
        sources=entries, rejects=tables["rejects"], results=run.results, volumes=frames["volumes"],
        counts={t: len(f) for t, f in tables.items()},
        previous_counts=store.manifest(latest).get("counts") if latest else None, previous_version=latest,
        flags=service_flags(tables, config.quality.outlier_ratio,
                            [o.source_id for o in counted if o.status == "stale"]),
        thresholds=config.quality.model_dump(),
        header={"map_id": config.map_id, "title": config.title,
                "period": {"start": config.period.start, "end": config.period.end},
                "checked_at": datetime.now(UTC).replace(microsecond=0).isoformat()},
    )
    path = Path(work) / "quality.json"
    dataset.write_json(path, {**summary, "gx": run.validations})
    limit = config.quality.max_reject_share
    over = {e["source_id"]: (f"{e['source_id']}: {reject_share(e['rows_rejected'], e['rows_read']):.0%} of its rows "
                             f"were rejected ({e['rows_rejected']:,} of {e['rows_read']:,}), above [quality] "
                             f"max_reject_share {limit:.0%}; see the top reasons in the quality report")
            for e in entries if e["status"] in FRESH and reject_share(e["rows_rejected"], e["rows_read"]) > limit}
    errors = [f"{r.code} ({r.table}.{r.column}): {r.message}" for r in run.failed
              if r.severity == str(Severity.ERROR) and r.code != "reject_share"]
    return QualityOutcome(str(path), summary["status"], over, errors)


def _with_policy(config: MapConfig, outcome: SourceOutcome, store: MapStore, work: str) -> SourceOutcome:
    """A blocked source under quarantine becomes stale (last good extract) or missing; others stay as they are."""
    if outcome.status == "blocked" and config.source(outcome.source_id).on_error == "quarantine":
        return quarantined(outcome, store.private, Path(work))
    return outcome


def _blocked(outcome: SourceOutcome, reason: str, work: str) -> SourceOutcome:
    """A fresh source blocked after consolidation (too many rejects), the reason added to its rejects."""
    record = rejects_frame([RejectRecord(outcome.source_id, "reject_share", reason,
                                         (outcome.provenance or {}).get("location"), 0)])
    rejects = write_frame(Path(work) / "staged" / outcome.source_id / "rejects_gated.parquet",
                          concat_rejects([read_frame(outcome.rejects), record]))
    return replace(outcome, status="blocked", staged={}, rows_accepted=0, rejects=rejects, error=reason)


def _quality_gate(config: MapConfig, outcomes: list[SourceOutcome], store: MapStore, work: str,
                  enforce: bool = True, artifact: str = "quality") -> tuple[list[SourceOutcome], str, QualityOutcome]:
    """Apply each blocked source's on_error policy, consolidate and check. A fresh source over max_reject_share is
    blocked in turn and the map consolidated again. Under `fail`, a blocked source (or a failed error check of the
    consolidated map) publishes nothing: QualityGateError, after the quality artifacts are written."""
    outcomes = [_with_policy(config, o, store, work) for o in outcomes]
    while True:
        database = consolidate_sources(str(config.path), outcomes, work)
        checked = check_quality(str(config.path), outcomes, database, str(store.root), work)
        over = set(checked.over_reject_share)
        if not over or any(o.status == "blocked" for o in outcomes) or any(
                config.source(sid).on_error == "fail" for sid in over):
            break  # nothing more to quarantine, or the run fails anyway: its report is this one
        outcomes = [_with_policy(config, _blocked(o, checked.over_reject_share[o.source_id], work), store, work)
                    if o.source_id in over else o for o in outcomes]
    with open(checked.path, encoding="utf-8") as handle:
        quality_artifacts(json.load(handle), artifact)
    failing = [o.error or o.source_id for o in outcomes if o.status == "blocked"]
    too_many = [why for sid, why in checked.over_reject_share.items() if config.source(sid).on_error == "fail"]
    if failing and too_many:  # rows pointing at a blocked source's services are rejected too: a consequence
        too_many = [f"{len(too_many)} more source(s) over max_reject_share (quality artifact "
                    f"{artifact_key(config.map_id, artifact)})"]
    failing += too_many
    if enforce and (failing or checked.errors):
        raise QualityGateError(
            "nothing published; "
            + (("blocked source(s) under on_error = \"fail\": " + "; ".join(failing)) if failing else "")
            + ("; " if failing and checked.errors else "")
            + ("failed checks of the consolidated map: " + "; ".join(checked.errors) if checked.errors else "")
        )
    return outcomes, database, checked


def _cached(store: MapStore, source_id: str, key: str | None) -> SourceOutcome | None:
    document = cached_outcome(store.private, source_id, key) if key else None
    try:
        return SourceOutcome(**document) if document is not None else None
    except TypeError:
        return None  # an entry of another shape: a miss


def _source_outcomes(config: MapConfig, store: MapStore, work: Path, timings: dict[str, float]
                     ) -> tuple[list[SourceOutcome], dict[str, str]]:
    """Every source's outcome and input key. A source whose key is cached is neither read nor validated again;
    the others are read (with the source's retries, backoff and timeout) and staged on the map's task runner,
    and their outcomes cached. Adds the seconds spent extracting and staging to `timings`."""
    path, outcomes, keys = str(config.path), {}, {}
    with source_task_runner(config) as runner:
        running: dict[str, Any] = {}
        for source in config.sources:
            key = source_key_before_reading(config, source)
            cached = _cached(store, source.id, key)
            if key and cached:
                outcomes[source.id], keys[source.id] = cached, key
                continue
            if not running:
                import_in_background()  # there is work: the checks will need GX
            running[source.id] = runner.submit(source_task(source), {
                "config_path": path, "source_id": source.id, "work": str(work),
                "timeout_seconds": source.timeout_seconds, "root": str(store.root)})
        for source_id, future in running.items():
            run: SourceRun = future.result()
            outcomes[source_id] = run.outcome
            if run.key is not None:
                keys[source_id] = run.key
            for step, seconds in run.seconds.items():  # summed over sources, as task times are
                timings[step] = timings.get(step, 0.0) + seconds
    prune_cache(store.private, [s.id for s in config.sources])
    return [outcomes[s.id] for s in config.sources], keys


@flow(name="refresh-map", log_prints=False, validate_parameters=False)
def refresh_map(config_path: str, publish_root: str | None = None, wait: bool = False) -> RunResult:
    """Refresh one map: every source, consolidated, published as a new immutable version (or `unchanged`).
    With `wait`, a refresh of the same map already running is waited for instead of refused."""
    started = time.perf_counter()
    config = load_config(config_path)
    store = config.store(publish_root)
    root = store.root
    waiting = f"waiting for another refresh of map {config.map_id!r} to finish ..."
    with store.locked(wait, on_wait=lambda: get_run_logger().warning(waiting)), logs_redacted(secret_values(config)):
        store.clean_leftovers()
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-{os.getpid()}"
        work = store.work / run_id
        work.mkdir(parents=True)  # even when every source comes from the cache, consolidation writes here
        timings: dict[str, float] = {}
        lap = time.perf_counter()
        try:
            with _task_seconds(timings, refresh_source, consolidate_sources, check_quality, publish_version):
                outcomes, keys = _source_outcomes(config, store, work, timings)
                timings["sources_wall"], lap = time.perf_counter() - lap, time.perf_counter()
                checkpoint("after_extract")
                inputs = run_inputs(config, keys)
                unchanged = unchanged_result(config, store, inputs, outcomes)
                if unchanged is not None:
                    return replace(unchanged, timings={**timings, "flow": time.perf_counter() - started})
                outcomes, database, quality = _quality_gate(config, outcomes, store, str(work))
                timings["gate_wall"], lap = time.perf_counter() - lap, time.perf_counter()
                result = publish_version(str(config.path), outcomes, database, str(root), run_id, quality.path,
                                         inputs)
                timings["publish_wall"] = time.perf_counter() - lap
            return replace(result, timings={**timings, "flow": time.perf_counter() - started})
        finally:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _task_seconds(spent: dict[str, float], *tasks: Any) -> Iterator[None]:
    """While open, add to `spent[task name]` the running time of each run of these tasks in the current flow run.
    The hook runs where the task runs: on a Dask runner the per-source times stay out of `spent`."""
    context = FlowRunContext.get()
    flow_run_id = context.flow_run.id if context and context.flow_run else None
    finished: list[tuple[str, float]] = []  # list.append is atomic: the hook is called from worker threads

    def record(task: Any, task_run: Any, state: Any) -> None:
        if task_run.flow_run_id == flow_run_id:
            finished.append((task.name, task_run.total_run_time.total_seconds()))

    for each in tasks:
        each.on_completion_hooks.append(record)
        each.on_failure_hooks.append(record)
    try:
        yield
    finally:
        for each in tasks:
            each.on_completion_hooks.remove(record)
            each.on_failure_hooks.remove(record)
        for name, seconds in finished:
            spent[name] = spent.get(name, 0.0) + seconds
