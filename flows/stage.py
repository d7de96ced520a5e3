"""The per-source task of a refresh: read one partner extract once (with retries, backoff and a timeout), stage
and validate its tables, and hand back a small outcome record (paths and counts, never frames)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

from expectations.errors import SourceError
from expectations.status import FRESH
from flows.config import Source, load_config
from flows.outcomes import ExtractOutcome, SourceOutcome
from flows.runners import within_seconds
from flows.safety import redacted, secret_values
from flows.source_cache import source_key
from flows.staging import (  # noqa: F401  (re-exported: the source task's helpers live there)
    raw_outcome,
    relative_location,
    source_location,
    source_mapping,
    stage_source,
    staged_from_parquet,
    staged_tables,
)
from outputs.store.cache import cache_outcome, cached_outcome
from sources import extract, kind_named


@dataclass(frozen=True)
class SourceRun:
    """What the source task hands back: the outcome, the key the source was read under (None when it could not
    be read) and the seconds of each step, for RunResult.timings."""

    outcome: SourceOutcome
    key: str | None
    seconds: dict[str, float]


def cached_source(private: Path, source_id: str, key: str | None) -> SourceOutcome | None:
    """The outcome cached under `key` in the map's `private` folder, or None (no key, no entry, or an entry of
    another shape)."""
    document = cached_outcome(private, source_id, key) if key else None
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
                   private: str | None = None) -> SourceRun:
    """One source read and staged: one task per source, so Prefect's bookkeeping grows with sources, not steps.
    With the map's `private` folder (its store's), a source whose key is cached (a database: known once its rows
    are read) is not staged again, and a fresh outcome is cached for the next run."""
    started = time.perf_counter()
    extracted = extract_source(config_path, source_id, work, timeout_seconds)
    read = time.perf_counter()
    key, cached = None, None
    config = load_config(config_path)
    if extracted.provenance is not None:
        key = source_key(config, config.source(source_id), extracted.provenance["sha256"])
        cached = cached_source(Path(private), source_id, key) if private is not None else None
    outcome = cached or stage_source(config_path, extracted, work)
    if cached is None and key is not None and private is not None and outcome.status in FRESH:
        outcome = SourceOutcome(**cache_outcome(Path(private), source_id, key, asdict(outcome), Path(work)))
    return SourceRun(outcome, key, {"extract": read - started, "stage": time.perf_counter() - read})


def source_detail(outcome: SourceOutcome) -> str:
    """A source's counts (or why it was blocked), for the progress display."""
    if outcome.error:
        return outcome.error
    return f"{outcome.rows_read:,} read, {outcome.rows_accepted:,} accepted, {outcome.rows_rejected:,} rejected"


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
    return raw_outcome(config, source, result, work)


