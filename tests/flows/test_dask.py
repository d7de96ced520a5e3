"""The same flow on a Dask cluster: per-source tasks run on Dask workers and publish the same content hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster, get_worker
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

import flows.stage
import flows.staging
from expectations.errors import ConfigError
from flows.config import load_config
from flows.refresh import refresh_map
from flows.runners import source_task_runner

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A small Dask cluster in this process (threads, real TCP scheduler), closed after the test."""
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as local:
        yield local


def test_a_dask_cluster_publishes_the_same_content_as_the_default_runner(
        mini_map: Path, tmp_path: Path, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    # tasks travel to the workers pickled (by value), so the spies write to a file, not to a list of this test
    ran_on = tmp_path / "ran_on.txt"

    def on_a_worker(step: str, function: Any) -> Any:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            with ran_on.open("a") as log:
                log.write(f"{step} {get_worker().address}\n")  # get_worker raises outside a Dask worker
            return function(*args, **kwargs)
        return recorded

    default = refresh_map(str(mini_map), str(tmp_path / "threads"))
    # a private root of its own, so the source cache of the first run does not spare this one its tasks
    text = mini_map.read_text()
    mini_map.write_text(f'private_root = ".ism-dask"\n{text}\n[runner]\ndask_address = "{cluster.scheduler_address}"\n')
    monkeypatch.setattr(flows.stage, "within_seconds", on_a_worker("extract", flows.stage.within_seconds))
    monkeypatch.setattr(flows.staging, "staged_from_parquet",  # where stage_source finds it
                        on_a_worker("stage", flows.staging.staged_from_parquet))
    on_dask = refresh_map(str(mini_map), str(tmp_path / "dask"))
    assert on_dask.status == default.status == "published"
    assert on_dask.content_hash == default.content_hash
    steps = [line.split() for line in ran_on.read_text().splitlines()]
    assert sorted(step for step, _ in steps) == ["extract"] * 4 + ["stage"] * 4
    assert {address for _, address in steps} == {worker.address for worker in cluster.workers.values()}


def test_the_runner_table_chooses_the_task_runner(mini_map: Path) -> None:
    threads = source_task_runner(load_config(mini_map))
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 4
    text = mini_map.read_text()
    mini_map.write_text(text + "\n[runner]\nlocal_dask_workers = 2\n")
    local = source_task_runner(load_config(mini_map))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 2
    mini_map.write_text(text + '\n[runner]\ndask_address = "tcp://10.0.0.5:8786"\nlocal_dask_workers = 2\n')
    with pytest.raises(ConfigError, match=r"runner: set dask_address .* or local_dask_workers .* not both"):
        load_config(mini_map)
