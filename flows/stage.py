"""The per-source task of a refresh: read one partner extract once (with retries, backoff and a timeout), stage
and validate its tables, and hand back a small outcome record (paths and counts, never frames)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from prefect import task
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

from expectations.checks import RejectRecord
from expectations.errors import SourceError
from expectations.status import FRESH, SourceStatus
from flows.config import MapConfig, Source, load_config
from flows.config_steps import source_steps
from flows.outcomes import ExtractOutcome, SourceOutcome
from flows.runners import within_seconds
from flows.safety import identifier_rejects, redacted, secret_values
from flows.source_cache import source_key
from outputs.store.cache import cache_outcome, cached_outcome
from outputs.store.versions import MapStore
from outputs.store.workarea import parquet_columns, read_frame, write_frame
from sources import extract, kind_named
from transforms.numbers import NumberRule
from transforms.rejects import concat_rejects, rejects_frame
from transforms.source_status import empty_source_message, error_rejects, staged_status
from transforms.source_steps import SourceSteps
from transforms.staging import NO_STEPS, staged, staged_with_active_services, stages_in_sql
from transforms.standardise import SourceMapping, Staged


@dataclass(frozen=True)
class SourceRun:
    """What the source task hands back: the outcome, the key the source was read under (None when it could not
    be read) and the seconds of each step, for RunResult.timings."""

    outcome: SourceOutcome
    key: str | None
    seconds: dict[str, float]


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


def named_location(config: MapConfig, source: Source) -> str:
    """Where the report says a source is: as the config names it (never a machine path); a database masked."""
    return source_location(config, source) if kind_named(source.kind).describe is not None else source.location


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
        keep_unlisted=tuple(source.codes_keep_unlisted),
        code_defaults=source.codes_default,
        duplicates=source.duplicates,
        numbers=NumberRule(source.decimal, source.thousands),
    )


def cached_source(store: MapStore, source_id: str, key: str | None) -> SourceOutcome | None:
    """The outcome cached under `key`, or None (no key, no entry, or an entry of another shape)."""
    document = cached_outcome(store.private, source_id, key) if key else None
    try:
        return SourceOutcome(**document) if document is not None else None
    except TypeError:
        return None  # an entry of another shape: a miss


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
        cached = cached_source(store, source_id, key) if store is not None else None
    outcome = cached or stage_source(config_path, extracted, work)
    if cached is None and key is not None and store is not None and outcome.status in FRESH:
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
    return ExtractOutcome(source_id=source_id, raw=raw, problems=problems, provenance=provenance,
                          rows_filtered=result.rows_filtered)


def staged_from_parquet(raw_path: str, table: str, mapping: SourceMapping, steps: SourceSteps = NO_STEPS) -> Staged:
    """A raw table (Parquet in the work area) staged through transforms/staging.py: a record-level log without
    shaping steps in DuckDB, the rest (small aggregates and reference tables) in pandas."""
    if not stages_in_sql(parquet_columns(raw_path), table, mapping, steps):
        return staged(read_frame(raw_path), table, mapping, steps)
    with duckdb.connect() as con:
        con.read_parquet(raw_path).create_view("raw")
        return staged((con, "raw"), table, mapping, steps)


def staged_tables(config: MapConfig, source: Source, raw: dict[str, str]) -> dict[str, Staged]:
    """Each raw table of a source staged with its shaping steps. With `idle_services = "filter"` (the default
    for phs_ae), services without a staged activity or flow row (in the map period) are counted as filtered."""
    results = {}
    for table, raw_path in raw.items():
        steps = source_steps(config, source, table, parquet_columns(raw_path))
        results[table] = staged_from_parquet(raw_path, table, source_mapping(config, source, table), steps)
    idle = source.idle_services or ("filter" if source.kind == "phs_ae" else "keep")
    if idle == "filter" and "services" in results:
        results["services"] = staged_with_active_services(results)
    return results


def _blocked_before_staging(source: Source, extracted: ExtractOutcome, config: MapConfig, folder: Path,
                            location: str) -> SourceOutcome | None:
    """A source blocked before any table is staged: unreadable, or carrying personal identifiers."""
    if extracted.error is not None:
        unreadable = extracted.error.replace(f"{config.folder}/", "")  # files named as the config names them
        rejects = rejects_frame([RejectRecord(source.id, "source_unreadable", unreadable, location, 0)])
        return SourceOutcome.blocked(source.id, source.partner, source.kind,
                                     write_frame(folder / "rejects.parquet", rejects), None, unreadable)
    personal = identifier_rejects(source, extracted.raw, location)  # before any value can reach a reject
    if len(personal):
        return SourceOutcome.blocked(source.id, source.partner, source.kind,
                                     write_frame(folder / "rejects.parquet", personal), extracted.provenance,
                                     f"{source.id}: {personal.iloc[0]['message']}")
    return None


def stage_source(config_path: str, extracted: ExtractOutcome, work: str) -> SourceOutcome:
    """Standardise and validate one source's tables; rows that fail become rejects."""
    config = load_config(config_path)
    source = config.source(extracted.source_id)
    folder = Path(work) / "staged" / source.id
    location = source_location(config, source)
    blocked = _blocked_before_staging(source, extracted, config, folder, location)
    if blocked is not None:
        return blocked
    found = [read_frame(extracted.problems)] if extracted.problems else []
    staged, read, accepted, clipped, filtered = {}, 0, 0, 0, extracted.rows_filtered
    for table, result in staged_tables(config, source, extracted.raw).items():
        staged[table] = write_frame(folder / f"{table}.parquet", result.frame)
        found.append(result.rejects)
        read += result.rows_read
        accepted += result.rows_accepted
        clipped += result.rows_clipped
        filtered += result.rows_filtered
    rejects = concat_rejects(found)
    errors = error_rejects(rejects)
    whole_file = errors[errors["row_number"] == 0]
    if read == 0:
        whole_file = rejects_frame([RejectRecord(source.id, "source_empty", empty_source_message(location),
                                                 location, 0)])
        rejects = concat_rejects([rejects, whole_file])
    status = staged_status(len(whole_file), len(rejects))
    blocking = status == SourceStatus.BLOCKED
    return SourceOutcome(
        source_id=source.id, partner=source.partner, kind=source.kind, status=status,
        staged={} if blocking else staged, rejects=write_frame(folder / "rejects.parquet", rejects),
        rows_read=read, rows_accepted=0 if blocking else accepted,
        rows_rejected=int((errors["row_number"] != 0).sum()), rows_clipped=clipped,
        provenance=extracted.provenance, error=f"{source.id}: {whole_file.iloc[0]['message']}" if blocking else None,
        rows_filtered=filtered,
    )
