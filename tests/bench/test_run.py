"""The runner's S target: the full refresh against an empty Prefect flow in the same mode, and where the
difference goes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.measure import Measured


def measured(wall: float, cpu: float) -> Measured:
    return Measured(command=["x"], returncode=0, wall_seconds=wall, cpu_seconds=cpu, system_seconds=0.0,
                    peak_rss_bytes=0, peak_tree_rss_bytes=0, stdout="", stderr="")


def test_the_full_refresh_beyond_the_empty_flow_splits_into_outside_and_phases() -> None:
    """Full: 10 s wall of which a 6 s flow (sources 3, gate 1.5, publish 1); empty flow: 2.5 s wall of which a
    1.2 s flow call. Beyond it: 7.5 s = 2.7 s outside the flow (4 - 1.3) + 4.8 s in the flow call (6 - 1.2);
    the flow's rest, 0.5 s, is the flow less its phases."""
    beyond = run.beyond_empty_flow(measured(10.0, 9.0), {"flow": 6.0, "sources_wall": 3.0, "gate_wall": 1.5,
                                                         "publish_wall": 1.0}, measured(2.5, 1.3),
                                   {"flow_call_seconds": 1.2})
    assert beyond == {"total": 7.5, "outside_the_flow": 2.7, "flow_call": 4.8, "sources_phase": 3.0,
                      "gate_phase": 1.5, "publish_phase": 1.0, "rest_of_the_flow": 0.5, "empty_flow_call": 1.2}


def test_full_over_empty_flow_uses_the_runs_own_prefect_mode() -> None:
    old = {"prefect_mode": "server", "seconds": {"full": 10.0},
           "prefect": {"empty_flow_process_seconds": {"server": 2.5, "ephemeral": 8.0}}}
    assert run.full_over_empty_flow(old) == 4.0
    assert run.full_over_empty_flow({**old, "prefect_mode": "ephemeral"}) == 1.25
    assert run.full_over_empty_flow({**old, "full_over_empty_flow": 3.3}) == 3.3
    assert run.full_over_empty_flow({"seconds": {"full": 10.0}}) is None


def test_the_readme_table_carries_full_over_empty_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = {"workload": {"hscps": 1, "sources": 18, "rows_read": 101_602},
              "seconds": {"limit": 1.0, "full": 10.0, "unchanged": 0.9, "one_changed": 7.8},
              "full_over_limit": 10.0, "full_over_empty_flow": 4.348, "peak_rss_gib": 0.5, "prefect_mode": "server",
              "date": "2026-12-02T12:00:00+00:00"}
    (tmp_path / "S.json").write_text(json.dumps(result))
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    table = run.readme_table()
    assert "| full / limit | full / empty flow |" in table
    assert "| 10.0 | 4.348 | 0.5 GiB | server | 2026-12-02 |" in table


@pytest.mark.parametrize("declared", ["", 'private_root = "work"\n'])
def test_the_full_refresh_starts_without_an_earlier_runs_source_cache(tmp_path: Path, declared: str) -> None:
    config = tmp_path / "ism.toml"
    config.write_text(f'map_id = "m"\n{declared}', encoding="utf-8")
    private = tmp_path / ("work" if declared else ".ism")
    (private / "m" / "cache").mkdir(parents=True)
    (tmp_path / "extracts").mkdir()
    run.fresh_private_area(config)
    assert not private.exists() and (tmp_path / "extracts").is_dir()
