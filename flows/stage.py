"""The sources' tasks of a refresh: read each partner extract once (with its retries, backoff and timeout), stage
and validate its tables, and hand back a small outcome record per source (paths and counts, never frames)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from expectations import worker
from expectations.errors import SourceError
from expectations.status import FRESH
from flows.config import MapConfig, Source, load_config
from flows.outcomes import ExtractOutcome, SourceOutcome
from flows.progress import announce
from flows.runners import within_seconds
from flows.safety import redacted, secret_values
from flows.source_cache import source_key
from flows.staging import (  # noqa: F401  (re-exported: the source tasks' helpers live there)
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
from sources.base import source_size


@dataclass(frozen=True)
class SourceRun:
    """What reading a source hands back: the outcome, the key the source was read under (None when it could not
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


# A share's cost before reading: its files' bytes, and per source what staging even a tiny table costs (about as
# much as a megabyte of CSV, measured at bench M: ~70 ms against ~15 MB/s for record-level extracts).
SOURCE_COST_BYTES = 1_000_000
STAGE_BESIDE = True  # sources may be staged in the checks worker while it is idle (`staged_here_or_beside`)


def read_sources(runner: TaskRunner, config: MapConfig, sources: Sequence[Source], work: str,  # type: ignore[type-arg]
                 private: str | None = None) -> dict[str, SourceRun]:
    """Every one of `sources` read and staged on `runner`, by source id, each source's progress announced as it
    goes. On threads of this process the sources are dealt into one task per thread (`shares`), each reading its
    sources one after another; elsewhere (Dask) each source is a task of its own."""
    here = isinstance(runner, ThreadPoolTaskRunner)
    groups = shares(config, sources, config.runner.threads if here else len(sources))
    if not here:
        for source in sources:
            announce("sources", source.id, "reading")
    parameters = {"config_path": str(config.path), "work": work, "private": private, "here": here}
    running = [runner.submit(refresh_sources, {**parameters, "source_ids": group}) for group in groups]
    runs: dict[str, SourceRun] = {}
    for future in running:
        for run in future.result():
            runs[run.outcome.source_id] = run
            if not here:
                announce("sources", run.outcome.source_id, run.outcome.status, source_detail(run.outcome))
    return runs


def shares(config: MapConfig, sources: Sequence[Source], count: int) -> list[list[str]]:
    """The source ids dealt into at most `count` shares of about equal cost (bytes of their files and
    SOURCE_COST_BYTES each), costliest first, each to the share that costs least so far; the same files give the
    same shares."""
    totals = [0] * max(1, min(count, len(sources)))
    dealt: list[list[str]] = [[] for _ in totals]
    for cost, _, source_id in sorted(((_cost(config, s), n, s.id) for n, s in enumerate(sources)),
                                     key=lambda item: (-item[0], item[1])):
        cheapest = totals.index(min(totals))
        dealt[cheapest].append(source_id)
        totals[cheapest] += cost
    return [share for share in dealt if share]


def _cost(config: MapConfig, source: Source) -> int:
    size = source_size(kind_named(source.kind), config.request(source))
    return SOURCE_COST_BYTES + (size or 0)  # a database's size is known once read


@task(name="sources", cache_policy=NO_CACHE)
def refresh_sources(config_path: str, source_ids: list[str], work: str, private: str | None = None,
                    here: bool = False) -> list[SourceRun]:
    """A share of the map's sources read and staged one after another (`refresh_source`), each with its own
    retries. `here`: the task runs in the refresh's own process (on its threads), so each source's progress is
    announced as it goes, and the process's checks worker may stage sources while it waits for the checks.

    One task per share rather than per source: Prefect's server spends ~40-70 ms of CPU on each task run
    (measured: 73 and 146 no-op tasks), which for bench M's 73 sources took a core for 4-6 s during the sources."""
    runs = []
    for source_id in source_ids:
        if here:
            announce("sources", source_id, "reading")
        run = refresh_source(config_path, source_id, work, private, stage_beside=here)
        if here:
            announce("sources", source_id, run.outcome.status, source_detail(run.outcome))
        runs.append(run)
    return runs


def refresh_source(config_path: str, source_id: str, work: str, private: str | None = None,
                   stage_beside: bool = False) -> SourceRun:
    """One source read (with its retries, backoff and timeout) and staged (with `stage_beside`, perhaps in the
    checks worker: `staged_here_or_beside`). With the map's `private` folder (its store's), a source whose key is
    cached (a database: known once its rows are read) is not staged again, and a fresh outcome is cached for the
    next run."""
    started = time.perf_counter()
    config = load_config(config_path)
    extracted = read_source(config_path, config.source(source_id), work)
    read = time.perf_counter()
    key, cached = None, None
    if extracted.provenance is not None:
        key = source_key(config, config.source(source_id), extracted.provenance["sha256"])
        cached = cached_source(Path(private), source_id, key) if private is not None else None
    outcome = cached or (staged_here_or_beside(config_path, extracted, work) if stage_beside
                         else stage_source(config_path, extracted, work))
    if cached is None and key is not None and private is not None and outcome.status in FRESH:
        outcome = SourceOutcome(**cache_outcome(Path(private), source_id, key, asdict(outcome), Path(work)))
    return SourceRun(outcome, key, {"extract": read - started, "stage": time.perf_counter() - read})


def retry_delays(source: Source) -> list[float]:
    """The waits before each retry of the source's read: retry_delay_seconds, then twice as long each time."""
    return [source.retry_delay_seconds * 2**n for n in range(source.retries)]


def read_source(config_path: str, source: Source, work: str) -> ExtractOutcome:
    """`extract_source` with the source's retries: an IO error or a read longer than timeout_seconds is tried
    again after each of `retry_delays`; bad data never is. Once the retries are spent the source is unreadable."""
    attempts = source.retries + 1
    for attempt, delay in enumerate([*retry_delays(source), 0.0], start=1):
        try:
            return extract_source(config_path, source.id, work, source.timeout_seconds, attempt, attempts)
        except OSError as error:
            _logger().warning("%s: read attempt %d of %d failed (%s: %s); trying again in %g s", source.id, attempt,
                              attempts, type(error).__name__, redacted(str(error), secret_values(
                                  load_config(config_path))), delay)
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns")


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run's logger (shown in its UI) inside a run; this module's outside one."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def staged_here_or_beside(config_path: str, extracted: ExtractOutcome, work: str) -> SourceOutcome:
    """`stage_source`, in the checks worker when it is ready and idle (STAGE_BESIDE), else in this process.

    Staging holds this process's interpreter (pandas and pandera hold the GIL), so the sources' threads keep little
    more than one core busy while the checks worker sits idle between importing GX and the checks. Its output is
    the same either way: files in the work area and this outcome record."""
    if STAGE_BESIDE:
        try:
            sent, outcome = worker.in_worker_if_idle(stage_source, config_path, extracted, work)
        except Exception:  # noqa: BLE001  (the worker could not do as this process would, such as with a source
            sent = False   # kind registered here only: staged here, where any error of its own is raised)
        if sent:
            return outcome  # type: ignore[return-value]
    return stage_source(config_path, extracted, work)


def source_detail(outcome: SourceOutcome) -> str:
    """A source's counts (or why it was blocked), for the progress display."""
    if outcome.error:
        return outcome.error
    return f"{outcome.rows_read:,} read, {outcome.rows_accepted:,} accepted, {outcome.rows_rejected:,} rejected"


def extract_source(config_path: str, source_id: str, work: str, timeout_seconds: float | None = None,
                   attempt: int = 1, attempts: int = 1) -> ExtractOutcome:
    """Read one partner extract once and keep its raw tables as Parquet in the work area. An IO error or a read
    longer than `timeout_seconds` is raised while `attempt` is not the last of `attempts` (`read_source` tries
    again); on the last, and for bad data (never retried), the source is reported unreadable."""
    config = load_config(config_path)
    source = config.source(source_id)
    try:
        result = within_seconds(timeout_seconds, extract, kind_named(source.kind), config.request(source))
    except SourceError as error:
        return ExtractOutcome(source_id=source_id, error=redacted(str(error), secret_values(config)))
    except OSError as error:
        if attempt < attempts:
            raise
        return ExtractOutcome(source_id=source_id, error=redacted(f"{source_id}: could not be read in {attempt} "
                                                                  f"attempt(s) ({type(error).__name__}): {error}",
                                                                  secret_values(config)))
    return raw_outcome(config, source, result, work)


