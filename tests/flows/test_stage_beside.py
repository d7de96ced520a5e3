"""How a refresh's sources are run: dealt into one Prefect task per thread (Prefect's bookkeeping grows with tasks,
not sources), and staged in the checks worker when it is idle, with the same outcome as here."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prefect.task_runners import ThreadPoolTaskRunner

import flows.staging
from expectations import worker
from flows.config import load_config
from flows.stage import extract_source, read_sources, shares, stage_source, staged_here_or_beside
from flows.staging import ready_to_stage
from sources.base import KINDS, SourceKind, register
from sources.tabular import CSV

SOURCES = ["nhs_services", "council_services", "nhs_activity", "nhs_flows"]


def test_sources_are_dealt_costliest_first_to_the_cheapest_share(mini_map: Path) -> None:
    config = load_config(mini_map)
    flows_file = mini_map.parent / "extracts" / "flows.csv"
    flows_file.write_text(flows_file.read_text() + "x" * 3_000_000)  # the costliest by far
    dealt = shares(config, config.sources, 2)
    assert dealt[0] == ["nhs_flows"] and sorted(dealt[1]) == ["council_services", "nhs_activity", "nhs_services"]
    assert shares(config, list(reversed(config.sources)), 2) == dealt  # bytes decide, not the config's order
    assert len(shares(config, config.sources, 9)) == 4  # never more shares than sources


class CountingRunner(ThreadPoolTaskRunner):  # type: ignore[type-arg]
    """A thread runner that counts the tasks it is sent."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self.sent: list[list[str]] = []

    def submit(self, task: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self.sent.append(parameters["source_ids"])
        return super().submit(task, parameters, *args, **kwargs)


@pytest.mark.usefixtures("prefect_server")
def test_a_refresh_sends_one_task_per_thread_not_per_source(mini_map: Path, tmp_path: Path) -> None:
    mini_map.write_text(mini_map.read_text() + "\n[runner]\nthreads = 2\n")
    config = load_config(mini_map)
    with CountingRunner(max_workers=2) as runner:
        runs = read_sources(runner, config, config.sources, str(tmp_path / "work"))
    assert len(runner.sent) == 2 and sorted(sum(runner.sent, [])) == sorted(SOURCES)
    assert sorted(runs) == sorted(SOURCES)
    assert all(run.outcome.error is None and run.outcome.rows_read > 0 for run in runs.values())


def ready_worker() -> None:
    """Wait until this process's checks worker has answered its first call (it imports GX first)."""
    worker.get_ready(ready_to_stage)
    deadline = time.monotonic() + 120
    while not worker.in_worker_if_idle(int, 0)[0]:
        assert time.monotonic() < deadline, "the checks worker never got ready"
        time.sleep(0.1)


def staged_frames(outcome: Any) -> dict[str, pd.DataFrame]:
    return {table: pd.read_parquet(path) for table, path in sorted(outcome.staged.items())}


def test_an_idle_checks_worker_stages_a_source_as_this_process_would(
        mini_map: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staged_here: Counter[str] = Counter()
    original = flows.staging.staged_from_parquet

    def counted(*args: Any, **kwargs: Any) -> Any:
        staged_here["stage"] += 1
        return original(*args, **kwargs)

    ready_worker()
    monkeypatch.setattr(flows.staging, "staged_from_parquet", counted)  # counts staging in this process only
    beside_work, here_work = str(tmp_path / "beside"), str(tmp_path / "here")
    beside = staged_here_or_beside(str(mini_map), extract_source(str(mini_map), "nhs_flows", beside_work),
                                   beside_work)
    assert staged_here["stage"] == 0  # the worker staged it
    here = stage_source(str(mini_map), extract_source(str(mini_map), "nhs_flows", here_work), here_work)
    assert staged_here["stage"] == 1
    assert (beside.status, beside.rows_read, beside.rows_accepted) == (here.status, here.rows_read, here.rows_accepted)
    for (table, left), (_, right) in zip(staged_frames(beside).items(), staged_frames(here).items(), strict=True):
        pd.testing.assert_frame_equal(left, right, obj=table)

    busy = threading.Thread(target=worker.in_worker, args=(time.sleep, 1.0))
    busy.start()
    time.sleep(0.2)
    try:
        busy_work = str(tmp_path / "busy")
        staged_here_or_beside(str(mini_map), extract_source(str(mini_map), "nhs_flows", busy_work), busy_work)
        assert staged_here["stage"] == 2  # the worker was busy: staged here, without waiting for it
    finally:
        busy.join()


def test_a_source_the_worker_cannot_stage_is_staged_here(mini_map: Path, tmp_path: Path) -> None:
    """A source kind registered in this process only is unknown to the worker: this process stages it."""
    register(SourceKind(name="local_csv", read=CSV.read, options=CSV.options))
    try:
        mini_map.write_text(mini_map.read_text().replace(
            'id = "nhs_flows"\npartner = "nhs"\nkind = "csv"', 'id = "nhs_flows"\npartner = "nhs"\nkind = "local_csv"'))
        ready_worker()
        work = str(tmp_path / "work")
        outcome = staged_here_or_beside(str(mini_map), extract_source(str(mini_map), "nhs_flows", work), work)
        assert outcome.error is None and outcome.rows_accepted > 0
    finally:
        KINDS.pop("local_csv")


def test_a_worker_not_started_is_neither_waited_for_nor_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "_WORKER", [])  # as in a process that never started it
    assert worker.in_worker_if_idle(int, 0) == (False, None)
    assert worker._WORKER == []
