"""bench/stage.py: the CPU of each staging step per source, on a tiny generated map."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.generate import SIZES, generate
from bench.stage import STEPS, differences, report, source_seconds


def test_every_source_is_staged_and_its_steps_add_up(tmp_path: Path) -> None:
    config = generate(SIZES["S"], tmp_path / "map", scale=0.01)
    seconds, rows = source_seconds(config, tmp_path / "work")
    assert seconds and set(seconds) == set(rows)
    for spent in seconds.values():
        assert abs(sum(spent[step] for step in STEPS) - spent["total"]) < 1e-6
        assert all(spent[step] >= 0 for step in STEPS if step != "other")
    assert sum(rows.values()) > 0
    markdown = report("S", seconds, rows, 1.0, None)
    assert "| total |" in markdown and all(source_id in markdown for source_id in seconds)


def test_two_kept_work_areas_compare_table_by_table(tmp_path: Path) -> None:
    config = generate(SIZES["S"], tmp_path / "map", scale=0.01)
    source_seconds(config, tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    assert differences(tmp_path / "one", tmp_path / "two") == []
    staged = next((tmp_path / "two" / "staged").rglob("*.parquet"))
    shutil.copy(next(p for p in (tmp_path / "two" / "raw").rglob("*.parquet") if p.name != "problems.parquet"),
                staged)
    assert differences(tmp_path / "one", tmp_path / "two") == [f"{staged.relative_to(tmp_path / 'two')}: differs"]
