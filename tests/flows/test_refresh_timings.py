"""RunResult.timings: the seconds of each step that refresh_map measures for the benchmark (bench/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.gate import check_quality, consolidate_sources
from flows.refresh import publish_version, refresh_map, result_json
from flows.runners import unvisited
from flows.stage import refresh_sources

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_refresh_reports_the_seconds_of_each_step(mini_map: Path) -> None:
    result = refresh_map(str(mini_map))
    timings = result.timings
    assert {"extract", "stage", "consolidate", "check", "publish"} <= set(timings)  # summed task run times
    assert {"sources_wall", "gate_wall", "publish_wall", "flow"} <= set(timings)
    assert all(seconds > 0 for seconds in timings.values())
    assert timings["sources_wall"] + timings["gate_wall"] + timings["publish_wall"] <= timings["flow"]
    assert timings["publish"] <= timings["publish_wall"] + 0.05  # the task runs inside the phase it is timed in
    assert json.loads(result_json(result))["timings"] == pytest.approx(timings)

    again = refresh_map(str(mini_map))
    assert again.status == "unchanged"
    assert "publish" not in again.timings and again.timings["sources_wall"] <= again.timings["flow"]


class ReadCounted(dict):  # type: ignore[type-arg]
    """A dict that counts how often its items are read through."""

    reads = 0

    def items(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().items()


def test_the_refreshs_tasks_are_handed_their_arguments_unread() -> None:
    """The gate's and the publish's tasks take every source's outcome: Prefect reads through each list, dict and
    dataclass of a task's arguments for futures, and hashes them for a cache key (0.2 s a call for 400 outcomes),
    unless the argument is `unvisited` and the task takes no cache key, as ism's do."""
    assert all(each.cache_policy is NO_CACHE
               for each in (refresh_sources, consolidate_sources, check_quality, publish_version))

    @task(cache_policy=NO_CACHE)
    def count(value: list[ReadCounted]) -> int:
        return len(value)

    @flow
    def hand_over() -> tuple[int, int]:
        walked, handed = [ReadCounted(a=1)], [ReadCounted(a=1)]
        assert count(walked) == count(unvisited(handed)) == 1
        return walked[0].reads, handed[0].reads

    walked_reads, handed_reads = hand_over()
    assert walked_reads > 0  # what Prefect does unasked: the test can fail
    assert handed_reads == 0
