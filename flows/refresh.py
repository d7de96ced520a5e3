"""The `refresh_map` flow: extract and stage every source concurrently, consolidate in DuckDB, build the graph,
publish one immutable version. Tasks pass paths and small records, never big frames."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from prefect import flow, task
from prefect.futures import PrefectFuture

from expectations.canonical import CANONICAL_TABLES, STAGED_TABLES
from expectations.checks import RejectRecord, Severity
from expectations.errors import QualityGateError, SourceError
from flows.config import MapConfig, Source, load_config
from flows.publish import ARTEFACT_WRITERS
from outputs import dataset
from outputs.context import LaneStyle, PublishedVersion
from outputs.versions import MANIFEST, MapStore
from outputs.workarea import read_frame, write_frame
from sources import extract, kind_named
from transforms.consolidate import InitiativeSpec, PartnerInfo, consolidate, load_staged
from transforms.graph import service_graph
from transforms.rejects import concat_rejects, rejects_frame
from transforms.standardise import SourceMapping, staged_table

DEFAULT_LICENCE = {"name": "OGL-UK-3.0", "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                   "title": "Open Government Licence v3.0"}


@dataclass(frozen=True)
class ExtractOutcome:
    source_id: str
    raw: dict[str, str] = field(default_factory=dict)  # table -> raw parquet path
    problems: str | None = None  # rejects parquet path of problems met while reading
    provenance: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class SourceOutcome:
    """What one source contributed: staged tables, rejects and counts. Blocked sources contribute nothing."""

    source_id: str
    partner: str
    kind: str
    status: str  # ok | warn | blocked
    staged: dict[str, str]
    rejects: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_clipped: int
    provenance: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    map_id: str
    status: str  # published | unchanged
    version_id: str
    path: str
    content_hash: str
    sources: list[SourceOutcome]
    counts: dict[str, int]


def relative_location(config: MapConfig, location: str | Path) -> str:
    """Locations as the config names them (relative to its folder), so outputs never carry machine paths."""
    try:
        return str(Path(location).resolve().relative_to(config.folder))
    except ValueError:
        return str(location)


def source_mapping(config: MapConfig, source: Source, table: str) -> SourceMapping:
    """Kind defaults merged with the source's own mapping from the config."""
    kind = kind_named(source.kind)
    return SourceMapping(
        source_id=source.id,
        partner=source.partner,
        location=relative_location(config, config.folder / source.location),
        columns={**kind.default_columns.get(table, {}), **source.columns},
        constants={**kind.default_constants.get(table, {}), **source.constants},
        codes=source.codes,
        namespaces=source.namespaces,
        same_as=source.same_as,
        lanes=tuple(config.lane_ids),
        map_period=(config.period.first_day, config.period.last_day),
        clip_to_map_period=source.clip_to_map_period,
    )


@task(name="extract", retries=2, retry_delay_seconds=[2, 10], task_run_name="extract {source_id}")
def extract_source(config_path: str, source_id: str, work: str) -> ExtractOutcome:
    """Read one partner extract once and keep its raw tables as Parquet in the work area."""
    config = load_config(config_path)
    source = config.source(source_id)
    try:
        result = extract(kind_named(source.kind), config.request(source))
    except SourceError as error:
        return ExtractOutcome(source_id=source_id, error=str(error))
    folder = Path(work) / "raw" / source_id
    raw = {table: write_frame(folder / f"{table}.parquet", frame) for table, frame in result.tables.items()}
    problems = write_frame(folder / "problems.parquet", rejects_frame(result.problems))
    provenance = {**asdict(result.provenance), "location": relative_location(config, result.provenance.location)}
    return ExtractOutcome(source_id=source_id, raw=raw, problems=problems, provenance=provenance)


@task(name="stage", task_run_name="stage {extracted.source_id}")
def stage_source(config_path: str, extracted: ExtractOutcome, work: str) -> SourceOutcome:
    """Standardise and validate one source's tables; rows that fail become rejects."""
    config = load_config(config_path)
    source = config.source(extracted.source_id)
    folder = Path(work) / "staged" / source.id
    location = relative_location(config, config.folder / source.location)
    if extracted.error is not None:
        rejects = rejects_frame([RejectRecord(source.id, "source_unreadable", extracted.error, location, 0)])
        return SourceOutcome(source.id, source.partner, source.kind, "blocked", {},
                             write_frame(folder / "rejects.parquet", rejects), 0, 0, 0, 0, None, extracted.error)
    found = [read_frame(extracted.problems)] if extracted.problems else []
    staged, read, accepted, clipped = {}, 0, 0, 0
    for table, raw_path in extracted.raw.items():
        result = staged_table(read_frame(raw_path), table, source_mapping(config, source, table))
        staged[table] = write_frame(folder / f"{table}.parquet", result.frame)
        found.append(result.rejects)
        read += result.rows_read
        accepted += len(result.frame)
        clipped += result.rows_clipped
    rejects = concat_rejects(found)
    errors = rejects[rejects["severity"] == str(Severity.ERROR)]
    whole_file = errors[errors["row_number"] == 0]
    if read == 0:
        empty = RejectRecord(source.id, "source_empty", "the extract has no data rows", location, 0)
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
    with duckdb.connect(str(path)) as con:
        for table in STAGED_TABLES:
            load_staged(con, table, [o.staged[table] for o in accepted if table in o.staged])
        consolidate(
            con,
            partners={pid: PartnerInfo(p.name, p.sector) for pid, p in config.partners.items()},
            locations={s.id: relative_location(config, config.folder / s.location) for s in config.sources},
            initiatives=[InitiativeSpec(i.id, i.name, i.status, tuple(i.services), i.lead_partner)
                         for i in config.initiatives],
        )
    return str(path)


def config_digest(config: MapConfig) -> str:
    """Hash of everything in the config that shapes the content (not where it is published)."""
    text = config.model_dump_json(exclude={"path", "publish_root"})
    return hashlib.sha256(text.encode()).hexdigest()


def _tables(database: str, outcomes: list[SourceOutcome]) -> dict[str, pd.DataFrame]:
    with duckdb.connect(database, read_only=True) as con:
        tables = {t: con.table(t).df() for t in CANONICAL_TABLES if t != "rejects"}
        consolidation_rejects = con.table("consolidation_rejects").df()
    tables["rejects"] = concat_rejects([*(read_frame(o.rejects) for o in outcomes), consolidation_rejects])
    return tables


@task(name="publish")
def publish_version(config_path: str, outcomes: list[SourceOutcome], database: str, root: str,
                    run_id: str) -> RunResult:
    """Write a version in a staging folder, then make it visible with one atomic rename."""
    config = load_config(config_path)
    store = MapStore(Path(root), config.map_id)
    tables = _tables(database, outcomes)
    outcomes = _with_all_rejects(outcomes, tables["rejects"])
    staging = store.new_staging(run_id)
    digests = dataset.write_tables(staging, tables)
    content_hash = dataset.content_hash(digests, config_digest(config))
    counts = {table: len(frame) for table, frame in tables.items()}
    latest = store.latest()
    if latest and store.manifest(latest).get("content_hash") == content_hash:
        shutil.rmtree(staging)
        return RunResult(config.map_id, "unchanged", latest, str(store.version_path(latest)), content_hash,
                         outcomes, counts)

    version_id = store.next_version_id()
    sources = [_source_entry(config, o) for o in outcomes]
    version = PublishedVersion(
        folder=staging, version_id=version_id, map_id=config.map_id, title=config.title,
        area_code=config.area.code, area_name=config.area.name, population=config.population,
        period_start=config.period.start, period_end=config.period.end,
        lanes=[LaneStyle(lane.id, lane.label, lane.colour) for lane in config.lanes],
        sector_colours=dict(config.sectors), partners={pid: p.name for pid, p in config.partners.items()},
        attributions=sorted({s.attribution for s in config.sources if s.attribution}),
        licences=[DEFAULT_LICENCE],
        tables=tables,
        graph=service_graph(tables["services"], tables["organisations"], tables["activity"], tables["flows"]),
        sources=sources,
        previous=store.version_path(latest) if latest else None,
    )
    for write in ARTEFACT_WRITERS:
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
    }
    dataset.write_json(staging / MANIFEST, manifest)  # written last: a version without it is incomplete
    path = store.commit(staging, version_id)
    return RunResult(config.map_id, "published", version_id, str(path), content_hash, outcomes, counts)


def _with_all_rejects(outcomes: list[SourceOutcome], rejects: pd.DataFrame) -> list[SourceOutcome]:
    """Outcomes counting every rejected row of each source, consolidation's included."""
    rows = rejects[(rejects["severity"] == str(Severity.ERROR)) & (rejects["row_number"] != 0)]
    counts = rows.groupby("source_id").size()
    updated = []
    for outcome in outcomes:
        rejected = int(counts.get(outcome.source_id, 0))
        status = outcome.status if outcome.status == "blocked" or not rejected else "warn"
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
        "rows_clipped": outcome.rows_clipped,
    }


def _quality_gate(config: MapConfig, outcomes: list[SourceOutcome]) -> None:
    failing = [o for o in outcomes if o.status == "blocked" and config.source(o.source_id).on_error == "fail"]
    if failing:
        raise QualityGateError(
            "nothing published; blocked source(s) under on_error = \"fail\": "
            + "; ".join(o.error or o.source_id for o in failing)
        )


@flow(name="refresh-map", log_prints=False, validate_parameters=False)
def refresh_map(config_path: str, publish_root: str | None = None) -> RunResult:
    """Refresh one map: every source, consolidated, published as a new immutable version (or `unchanged`)."""
    config = load_config(config_path)
    root = Path(publish_root).resolve() if publish_root else config.publish_path()
    store = MapStore(root, config.map_id)
    with store.locked():
        store.clean_leftovers()
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-{os.getpid()}"
        work = store.folder / ".work" / run_id
        try:
            extracted: list[PrefectFuture[ExtractOutcome]] = [
                extract_source.submit(str(config.path), s.id, str(work)) for s in config.sources
            ]
            staged = [stage_source.submit(str(config.path), e, str(work)) for e in extracted]
            outcomes = [future.result() for future in staged]
            _quality_gate(config, outcomes)
            database = consolidate_sources(str(config.path), outcomes, str(work))
            return publish_version(str(config.path), outcomes, database, str(root), run_id)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def result_json(result: RunResult) -> str:
    return json.dumps(asdict(result), indent=2, default=str)
