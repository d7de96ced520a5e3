"""`ism diff` and CHANGELOG.md between two versions of the small map that cover different periods: both periods
and both config digests come first, so a change is not read as growth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.refresh import refresh_map
from tests.conftest import write_mini_map

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def two_periods(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small map published for April-May, then for April-June with one more month of activity."""
    config = write_mini_map(tmp_path_factory.mktemp("periods"))
    assert refresh_map(str(config)).version_id == "v0001"
    config.write_text(config.read_text().replace('end = "2025-05"', 'end = "2025-06"'))
    activity = config.parent / "extracts" / "activity.csv"
    activity.write_text(activity.read_text() + "ED,2025-06,1400\n")
    assert refresh_map(str(config)).version_id == "v0002"
    return config


def test_the_diff_of_two_periods_names_both_in_its_first_lines(two_periods: Path) -> None:
    result = RUNNER.invoke(app, ["diff", "v0001", "v0002", str(two_periods)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("v0001 covers 2025-04 to 2025-05; v0002 covers 2025-04 to 2025-06 (the periods differ: "
                        "totals cover different months, so a change is not growth).")
    assert lines[1].startswith("Config: ") and "(the config differs" in lines[1]
    assert lines[2] == "Sources: 4 of 4 with data → 4 of 4 with data (the same sources)."
    ed = next(line for line in lines if "Emergency Department: attendances" in line)
    assert "2,500 -> 3,900 people (+56%)" in ed and "[over different periods]" in ed
    found = json.loads(RUNNER.invoke(app, ["diff", "v0001", "v0002", str(two_periods), "--json"]).stdout)
    assert [row["differs"] for row in found["comparison"]] == [True, True, False]


def test_the_changelog_of_the_second_period_says_the_periods_differ(two_periods: Path) -> None:
    changelog = (two_periods.parent / "published" / "mini" / "versions" / "v0002" / "CHANGELOG.md").read_text()
    lines = changelog.splitlines()
    assert lines[2] == ("v0001 covers 2025-04 to 2025-05; v0002 covers 2025-04 to 2025-06 (**the periods differ**: "
                        "totals cover different months, so a change is not growth).")
    assert "- Changed: Emergency Department, attendances: 2,500 → 3,900 people (+56%) over different periods" in lines
    comparison = (two_periods.parent / "published" / "mini" / "versions" / "v0002" / "analysis" / "comparison.csv")
    assert comparison.read_text().splitlines()[0] == "aspect,before,after,differs,note"
