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


def test_in_ephemeral_mode_the_page_does_not_split_outside_from_inside_the_flow_call() -> None:
    """ism starts the temporary server before its flow call, the empty flow inside it: the parts would not compare
    (a run's page said "-5.4 s in the flow call")."""
    beyond = run.beyond_empty_flow(measured(19.0, 23.0), {"flow": 5.0, "sources_wall": 2.2, "gate_wall": 1.2,
                                                          "publish_wall": 1.6}, measured(13.2, 12.4),
                                   {"flow_call_seconds": 10.4})
    assert beyond["flow_call"] < 0  # what the split gives here
    for mode, split in (("server", True), ("ephemeral", False)):
        text = " ".join(run._beyond_lines({"prefect_mode": mode, "full_beyond_empty_flow_seconds": beyond}))
        assert "5.8 s more" in text and "sources phase 2.2 s" in text
        assert ("in the flow call beyond" in text) is split


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
              "one_changed_over_full": 0.78, "rounds": [{}, {}, {}], "date": "2026-12-02T12:00:00+00:00"}
    (tmp_path / "S.json").write_text(json.dumps(result))
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    table = run.readme_table()
    assert "| full / limit | one changed / full | full / empty flow |" in table
    assert "| 10.0 | 0.78 | 4.348 | 0.5 GiB | server | 3 | 2026-12-02 |" in table


@pytest.mark.parametrize("declared", ["", 'private_root = "work"\n'])
def test_the_full_refresh_starts_without_an_earlier_runs_source_cache(tmp_path: Path, declared: str) -> None:
    config = tmp_path / "ism.toml"
    config.write_text(f'map_id = "m"\n{declared}', encoding="utf-8")
    private = tmp_path / ("work" if declared else ".ism")
    (private / "m" / "cache").mkdir(parents=True)
    (tmp_path / "extracts").mkdir()
    run.fresh_private_area(config)
    assert not private.exists() and (tmp_path / "extracts").is_dir()


def test_a_refreshs_parts_add_up_to_its_wall_time() -> None:
    parts = run.parts_of(measured(12.0, 15.0), {"flow": 8.0, "sources_wall": 1.5, "gate_wall": 2.0,
                                                "publish_wall": 4.0})
    assert parts == {"outside_the_flow": 4.0, "sources_phase": 1.5, "gate_phase": 2.0, "publish_phase": 4.0,
                     "rest_of_the_flow": 0.5}
    assert run.parts_of(measured(1.2, 1.0), {"flow": 0.0})["outside_the_flow"] == 1.2  # nothing changed: no flow


def test_missed_targets_name_the_budget_the_parts_and_the_fixed_costs() -> None:
    """M: limit 6 s (budget 18 s) against a full refresh of 20 s, missed by 2 s; one changed 11 s against a
    quarter of 20 s, missed by 6 s; nothing changed 1.5 s is within a tenth (2 s), so not listed. Whether a target
    is missed is its median ratio's call (rounds); the seconds are the reported round's."""
    seconds = {"limit": 6.0, "full": 20.0, "unchanged": 1.5, "one_changed": 11.0, "empty_flow": 3.0}
    ratios = {"full_over_limit": 3.2, "unchanged_over_full": 0.075, "one_changed_over_full": 0.55,
              "full_over_empty_flow": 6.67}
    parts = {"full": {"sources_phase": 10.0}, "one_changed": {"gate_phase": 3.0}}
    fixed = {"empty_prefect_flow": 3.0, "ism_imports": 0.8, "gx_import": 4.2}
    missed = run.missed_targets("M", ratios, seconds, parts, fixed)
    assert [(m["target"], m["ratio"], m["figure"], m["budget_seconds"], m["over_by_seconds"]) for m in missed] == [
        ("full_over_limit", 3.2, "full", 18.0, 2.0), ("one_changed_over_full", 0.55, "one_changed", 5.0, 6.0)]
    assert missed[1]["parts"] == {"gate_phase": 3.0} and missed[1]["fixed_costs"] == fixed
    assert [m["target"] for m in run.missed_targets("M", {**ratios, "full_over_limit": 2.9}, seconds, parts,
                                                    fixed)] == ["one_changed_over_full"]
    # S is held to twice the empty flow only
    assert [m["target"] for m in run.missed_targets("S", ratios, seconds, parts, fixed)] == ["full_over_empty_flow_S"]
    assert run.missed_targets("S", {**ratios, "full_over_empty_flow": 2.0}, seconds, parts, fixed) == []
    lines = "\n".join(run._missed_lines({"missed_targets": missed}))
    assert "**one_changed_over_full** (0.55): the one changed refresh took 11.0 s against a budget of 5.0 s" in lines
    assert "gate 3.0 s" in lines and "importing Great Expectations 4.2 s" in lines
    assert run._missed_lines({"missed_targets": []}) == ["Every wall-time target of this size was met in this run.",
                                                         ""]
    assert run._missed_lines({}) == []  # results written before the field existed


def test_a_missed_target_says_what_the_fixed_costs_leave_of_its_budget() -> None:
    """The fixed costs of a fresh process (an empty flow, then ism's imports) against each missed budget: within
    it, what is left for ism's own work; past it, the target is out of reach from a fresh process in that run."""
    seconds = {"limit": 4.0, "full": 10.0, "unchanged": 0.6, "one_changed": 5.9, "empty_flow": 2.2}
    ratios = {"full_over_limit": 3.5, "unchanged_over_full": 0.06, "one_changed_over_full": 0.59,
              "full_over_empty_flow": 4.5}
    fixed = {"empty_prefect_flow": 2.2, "ism_imports": 0.5, "gx_import": 1.4}
    full, one = run.missed_targets("M", ratios, seconds, {}, fixed)
    assert (full["fixed_floor_seconds"], full["left_for_own_work_seconds"]) == (2.7, 9.3)
    assert (one["fixed_floor_seconds"], one["left_for_own_work_seconds"]) == (2.7, -0.2)
    lines = run._missed_lines({"missed_targets": [full, one]})
    assert "take 2.7 s of it, leaving 9.3 s for ism's own work" in lines[2]
    assert "Out of reach from a fresh process in this run" in lines[3]
    assert "take 2.7 s, 0.2 s over the budget" in lines[3]
    written_before = {k: v for k, v in one.items() if k not in ("fixed_floor_seconds", "left_for_own_work_seconds")}
    assert "Out of reach" not in run._missed_lines({"missed_targets": [written_before]})[2]


def test_a_missed_target_says_what_the_sources_phase_leaves_for_the_rest() -> None:
    """After the fixed costs (2.0 s of a 2.8 s budget), the figure's own sources phase: 0.7 s leaves 0.1 s for the
    gate and the publish (2.9 s here, 29 x that); 0.9 s leaves nothing. Parts without phases say neither."""
    seconds = {"limit": 4.0, "full": 11.2, "unchanged": 0.7, "one_changed": 5.8, "empty_flow": 1.6}
    ratios = {"full_over_limit": 2.8, "unchanged_over_full": 0.06, "one_changed_over_full": 0.52,
              "full_over_empty_flow": 7.0}
    fixed = {"empty_prefect_flow": 1.6, "ism_imports": 0.4, "gx_import": 1.5}
    phases = {"outside_the_flow": 2.3, "sources_phase": 0.7, "gate_phase": 1.0, "publish_phase": 1.9}
    [one] = run.missed_targets("M", ratios, seconds, {"one_changed": phases}, fixed)
    assert (one["left_for_own_work_seconds"], one["left_after_sources_seconds"],
            one["consolidate_check_publish_seconds"]) == (0.8, 0.1, 2.9)
    line = run._missed_lines({"missed_targets": [one]})[2]
    assert "After the sources phase, 0.1 s is left for consolidating, checking and publishing the map, which took " \
           "2.9 s here (29.0 x that)." in line
    [over] = run.missed_targets("M", ratios, seconds, {"one_changed": {**phases, "sources_phase": 0.9}}, fixed)
    assert over["left_after_sources_seconds"] == -0.1
    over_line = run._missed_lines({"missed_targets": [over]})[2]
    assert "The sources phase alone takes that and more (0.1 s over)" in over_line
    [bare] = run.missed_targets("M", ratios, seconds, {}, fixed)
    assert "left_after_sources_seconds" not in bare and "sources phase" not in run._missed_lines(
        {"missed_targets": [bare]})[2]


def a_round(limit: float, full: float, empty: float = 3.0) -> run.Round:
    return run.Round(measured(limit, limit), measured(empty, empty), measured(full, full), measured(1.0, 1.0),
                     measured(full / 2, full / 2), {}, {}, {}, Path("limit"))


def test_the_reported_round_is_the_median_by_the_sizes_headline_ratio() -> None:
    rounds = [a_round(6.0, 24.0), a_round(6.0, 18.0), a_round(5.0, 20.0, empty=4.0)]  # full/limit 4, 3, 4
    assert rounds[0].ratios() == {"full_over_limit": 4.0, "unchanged_over_full": 0.042, "one_changed_over_full": 0.5,
                                  "full_over_empty_flow": 8.0}
    assert run.median_round(rounds, "M") is rounds[0]  # 3, 4, 4: the middle one is a 4 (the first in order)
    assert run.median_round(rounds, "S") is rounds[1]  # full / empty flow: 8, 6, 5
    assert run.median_round(rounds[1:], "M") is rounds[1]  # two: the lower middle
    lines = run._rounds_lines({"rounds": [{**r.ratios(), "seconds": {"limit": r.limit.wall_seconds,
                                                                     "full": r.full.wall_seconds, "unchanged": 1.0,
                                                                     "one_changed": r.one.wall_seconds,
                                                                     "empty_flow": r.empty.wall_seconds},
                                           "reported": r is rounds[0]} for r in rounds]})
    assert lines[0].startswith("Measured in 3 rounds") and "| 1 * | 6.0 s | 3.0 s | 24.0 s |" in lines[4]
    assert run._rounds_lines({"rounds": [{}]}) == []
