"""The `refresh_map` flow: extract and stage every source concurrently (flows/stage.py), consolidate and check
them (flows/gate.py), build the graph, publish one immutable version. Tasks pass paths and small records, never
big frames."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import wait
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from expectations import worker
from expectations.status import FRESH, RunStatus
from flows.analysis import deferred_analyses, graph_of, measured_of, prepare_previous_state
from flows.config import MapConfig, load_config
from flows.config_measures import published_measures
from flows.faults import checkpoint
from flows.gate import check_quality, consolidate_sources, quality_gate, run_tables, with_all_rejects
from flows.outcomes import ExtractOutcome, RunResult, SourceOutcome, result_json  # noqa: F401  (re-exported)
from flows.progress import announce
from flows.publish import artefacts_beside, send_early, write_artefacts
from flows.runners import source_task_runner, unvisited
from flows.safety import logs_redacted, refuse_leaked_secrets, safety_quality, secret_values
from flows.shortcut import unchanged_result
from flows.source_cache import config_digest, inputs_complete, keys_before_reading, run_inputs
from flows.stage import (  # noqa: F401  (re-exported)
    SourceRun,
    cached_source,
    read_sources,
    refresh_source,
    refresh_sources,
    source_detail,
)
from flows.staging import ready_to_stage
from flows.volumes import keep_volumes
from outputs import dataset
from outputs.context import LaneStyle, PosterOptions, PublishedVersion
from outputs.manifest import source_entry, version_manifest
from outputs.poster import start_layout
from outputs.run_log import REPORT_FILE, new_run_id, update_run
from outputs.store.cache import prune_cache
from outputs.store.last_good import keep_last_good
from outputs.store.reuse import Reuse, artefact_keys, keep_artefact_keys
from outputs.store.versions import MANIFEST, QUALITY_FOLDER, MapStore
from transforms.diff import VersionFacts
from transforms.rejects import concat_rejects
from transforms.totals import MeasuredMap

DEFAULT_LICENCE = {"name": "OGL-UK-3.0", "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                   "title": "Open Government Licence v3.0"}


def _version(config: MapConfig, previous: Path | None, staging: Path, version_id: str, tables: dict[str, Any],
             sources: list[dict[str, Any]], quality: dict[str, Any], layouts: Path
             ) -> tuple[PublishedVersion, MeasuredMap]:
    """What every artefact writer is handed (its analyses still to add), and the tables' totals. Its poster's
    layout is started at once: Graphviz works in other processes while the tables and first artefacts are
    written (a layout an unchanged run leaves running ends within outputs/layout.py UNNEEDED_SHARE x its budget).
    `previous`: the latest complete version's folder, if any."""
    measured = measured_of(tables)  # once: the graph and the analyses read the same totals
    graph = graph_of(tables, measured)
    version = PublishedVersion(
        folder=staging, version_id=version_id, map_id=config.map_id, title=config.title,
        area_code=", ".join(config.area.codes), area_name=config.area.name, population=config.population,
        period_start=config.period.start, period_end=config.period.end,
        lanes=[LaneStyle(lane.id, lane.label, lane.colour) for lane in config.lanes],
        sector_colours=dict(config.sectors), partners={pid: p.name for pid, p in config.partners.items()},
        attributions=sorted({s.attribution for s in config.sources if s.attribution}),
        licences=dataset.package_licences(DEFAULT_LICENCE, [s.licence for s in config.sources]),
        tables=tables,
        graph=graph,
        sources=sources,
        previous=previous,
        analyses={},  # filled before the first writer that needs them
        quality=quality,
        poster=PosterOptions(**config.poster.model_dump()), layouts=layouts, area_kind=config.area.kind,
    )
    start_layout(version)
    return version, measured


def _analyses(config: MapConfig, version: PublishedVersion, measured: MeasuredMap, private: Path,
              content_hash: str) -> Callable[[], dict[str, pd.DataFrame]]:
    """The version's analyses, against the previous version if any, made when first asked for: after the writers
    that do not need them, so that the spreadsheet reaches the worker first. The version's state is kept in the
    map's `private` area for the next refresh to compare with."""
    facts = VersionFacts(version.version_id, (config.period.start, config.period.end), config_digest(config),
                         {str(s["source_id"]): str(s["status"]) for s in version.sources})
    return deferred_analyses(version.graph, version.tables, config.lane_ids, version.previous, facts=facts,
                             measured=measured, private=private, content_hash=content_hash)


@task(name="publish", cache_policy=NO_CACHE)
def publish_version(config_path: str, outcomes: list[SourceOutcome], database: str, root: str,
                    run_id: str, quality: str | None = None, inputs: dict[str, Any] | None = None) -> RunResult:
    """Write a version in a staging folder, then make it visible with one atomic rename. `quality` is the run's
    quality summary (JSON path, from check_quality)."""
    config = load_config(config_path)
    store = config.store(root)
    tables = run_tables(database, outcomes)
    tables["measures"], undeclared = published_measures(config.measures, tables["activity"], tables["flows"])
    tables["rejects"] = concat_rejects([tables["rejects"], undeclared])
    outcomes = with_all_rejects(outcomes, tables["rejects"])
    beside = artefacts_beside(tables)  # now: the worker imports the writers while this process writes the tables
    staging = store.new_staging(run_id)
    latest = store.latest()
    previous = store.version_path(latest) if latest else None
    version_id = store.next_version_id()
    sources = [source_entry(o, config.source(o.source_id).location, config.source(o.source_id).licence,
                            config.source(o.source_id).attribution) for o in outcomes]
    with duckdb.connect(database, read_only=True) as con:
        quality_of_version = {**_quality_of(quality), **safety_quality(con, tables["rejects"])}
    version, measured = _version(config, previous, staging, version_id, tables, sources, quality_of_version,
                                 store.layouts)
    early = send_early(version, beside)  # the workbook, by the worker while this process writes the tables
    try:
        reuse = Reuse(previous, artefact_keys(store.private, previous)) if previous else Reuse()
        digests = dataset.write_tables(staging, tables, reuse)
        content_hash = dataset.content_hash(digests, config_digest(config))
        unchanged = latest is not None and store.manifest(latest).get("content_hash") == content_hash
        if not unchanged:
            write_artefacts(version, _analyses(config, version, measured, store.private, content_hash), beside,
                            early)
    finally:
        wait(early)  # never leave the worker writing into a folder that may be removed
    counts = {table: len(frame) for table, frame in tables.items()}
    if unchanged and latest is not None:
        shutil.rmtree(staging)
        _keep_last_good(store, outcomes, latest, inputs)
        if inputs is not None and inputs_complete(inputs):  # the next run of these inputs is answered at once
            store.keep_inputs(latest, inputs)
        return RunResult(config.map_id, RunStatus.UNCHANGED, latest, str(store.version_path(latest)), content_hash,
                         outcomes, counts)
    keep_volumes(store.private, Path(database).parent, content_hash)
    manifest = version_manifest(
        version_id=version_id, map_id=config.map_id, title=config.title, area=config.area.described(),
        population=config.population, period=(config.period.start, config.period.end), content_hash=content_hash,
        schema_version=dataset.SCHEMA_VERSION, sources=sources, counts=counts, digests=digests,
        disclosure=version.quality.get("disclosure"), inputs=inputs, status=version.quality.get("status"))
    checkpoint("mid_publish")
    refuse_leaked_secrets(staging, config)
    dataset.write_json(staging / MANIFEST, manifest)  # written last: a version without it is incomplete
    path = store.commit(staging, version_id, on_renamed=lambda: checkpoint("after_rename"))
    store.prune(config.publish.keep_versions)
    keep_artefact_keys(store.private, path, reuse.keys, store.complete_versions())
    _keep_last_good(store, outcomes, version_id, inputs)
    return RunResult(config.map_id, RunStatus.PUBLISHED, version_id, str(path), content_hash, outcomes, counts)


def _quality_of(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _keep_last_good(store: MapStore, outcomes: list[SourceOutcome], version_id: str,
                    inputs: dict[str, Any] | None) -> None:
    """After a publish, each fresh source's staged tables become its last good extract (for quarantine)."""
    keys = (inputs or {}).get("sources") or {}
    for o in outcomes:
        if o.status in FRESH and o.staged:
            keep_last_good(store.private, o.source_id, o.staged, o.provenance or {}, version_id, o.rows_accepted,
                           keys.get(o.source_id))


def _source_outcomes(config: MapConfig, store: MapStore, work: Path, timings: dict[str, float]
                     ) -> tuple[list[SourceOutcome], dict[str, str]]:
    """Every source's outcome and input key. A source whose key is cached is neither read nor validated again;
    the others are read (with the source's retries, backoff and timeout) and staged on the map's task runner,
    and their outcomes cached. Adds the seconds spent extracting and staging to `timings`."""
    outcomes, keys, reading = {}, {}, []
    known = keys_before_reading(config, store.private)
    for source in config.sources:
        key = known[source.id]
        cached = cached_source(store.private, source.id, key)
        if key and cached:
            outcomes[source.id], keys[source.id] = cached, key
            announce("sources", source.id, "cached", source_detail(cached))
        else:
            reading.append(source)
    if reading:  # the checks will need GX (and the worker stages sources meanwhile), the analyses the previous version
        worker.get_ready(ready_to_stage)
        if latest := store.latest():
            prepare_previous_state(store.version_path(latest), store.private)
        with source_task_runner(config) as runner:
            runs = read_sources(runner, config, reading, str(work), str(store.private))
        for source_id, run in runs.items():
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
        run_id = new_run_id()
        work = store.work / run_id
        work.mkdir(parents=True)  # even when every source comes from the cache, consolidation writes here
        timings: dict[str, float] = {}
        lap = time.perf_counter()
        try:
            with _task_seconds(timings, refresh_sources, consolidate_sources, check_quality, publish_version):
                announce("sources")
                outcomes, keys = _source_outcomes(config, store, work, timings)
                timings["sources_wall"], lap = time.perf_counter() - lap, time.perf_counter()
                checkpoint("after_extract")
                inputs = run_inputs(config, keys)
                unchanged = unchanged_result(config, store, inputs, outcomes, run_id)
                if unchanged is not None:
                    return replace(unchanged, timings={**timings, "flow": time.perf_counter() - started})
                outcomes, database, quality = quality_gate(config, outcomes, store, str(work), run_id=run_id)
                timings["gate_wall"], lap = time.perf_counter() - lap, time.perf_counter()
                announce("publish")
                result = publish_version(str(config.path), unvisited(outcomes), database, str(root), run_id,
                                         quality.path, unvisited(inputs))
                timings["publish_wall"] = time.perf_counter() - lap
                update_run(store.private, run_id, outcome=result.status, version_id=result.version_id,
                           report=str(Path(result.path) / QUALITY_FOLDER / REPORT_FILE))
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
