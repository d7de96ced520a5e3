"""RunResult.timings: the seconds of each step that refresh_map measures for the benchmark (bench/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.refresh import refresh_map, result_json

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
