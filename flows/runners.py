"""Where and how the sources' tasks run: the task runner chosen by the map's `[runner]` table (threads in the
refresh's own process by default, an existing Dask cluster, or a temporary local one), a time limit per read, and
arguments Prefect hands to a task without walking through them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.config import MapConfig

T = TypeVar("T")


def source_task_runner(config: MapConfig) -> TaskRunner:  # type: ignore[type-arg]
    """A task runner for the map's sources' tasks (flows/stage.py `read_sources`); enter it (`with`) to start it.

    Dask workers must see the same paths as the refresh (publish root and extracts): tasks pass paths, not frames.
    """
    runner = config.runner
    if runner.dask_address is None and runner.local_dask_workers is None:
        return ThreadPoolTaskRunner(max_workers=runner.threads)
    from prefect_dask import DaskTaskRunner

    logging.getLogger("distributed").setLevel(logging.WARNING)  # Dask's INFO lines would bury the summary
    if runner.dask_address is not None:
        return DaskTaskRunner(address=runner.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": runner.local_dask_workers, "threads_per_worker": 1,
                                          "dashboard_address": None})


def unvisited(value: T) -> T:
    """`value` as a task argument Prefect hands over as it is: otherwise it walks every list, dict and dataclass in
    it for futures, twice a call, 0.2 s for a national map's 400 source outcomes (measured), though none holds one.
    ism's tasks take `cache_policy=NO_CACHE` too, or Prefect would hash every argument, and the task's source, for a
    cache key on each call (15 ms here); ism keys its own caches (flows/source_cache.py, outputs/store/reuse.py)."""
    return cast(T, quote(value))


def within_seconds(seconds: float | None, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, or TimeoutError when it has not returned within `seconds` (None: no limit).

    Prefect's own task timeout cannot interrupt blocking IO in a worker thread (and warns on every run), so the
    call runs in a daemon thread that is abandoned on timeout: the attempt fails on time and may be retried."""
    if seconds is None:
        return function(*args)
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=call, name="ism-source-read", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s (the source's timeout_seconds)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
