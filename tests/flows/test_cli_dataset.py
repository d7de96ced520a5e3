"""`ism versions` and `ism show` on a published small map: text and --json, version selectors, and one-line errors
with the right exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.refresh import refresh_map
from tests.conftest import write_mini_map

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def published(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini map published twice (the second time with one more activity row): v0001 and v0002. The commands
    only read, so the tests share it."""
    mini_map = write_mini_map(tmp_path_factory.mktemp("mini"))
    refresh_map(str(mini_map))
    activity = mini_map.parent / "extracts" / "activity.csv"
    activity.write_text(activity.read_text() + "AMU,2025-05,40\n")
    refresh_map(str(mini_map))
    return mini_map


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_versions_lists_id_period_hash_sources_and_status(published: Path) -> None:
    code, out, _ = run("versions", str(published))
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["version", "created", "as", "of"]
    assert lines[1].startswith("  v0001 ") and lines[2].startswith("* v0002 ")
    assert "2025-04..2025-05" in lines[2] and " amber " in lines[2] and "4 sources (1 warn)" in lines[2]

    code, out, _ = run("versions", str(published), "--json")
    listing = json.loads(out)
    assert code == 0 and listing["latest"] == "v0002" and listing["map_id"] == "mini"
    first, second = listing["versions"]
    assert first["content_hash"] != second["content_hash"] and second["content_hash"][:12] in lines[2]
    assert second["as_of"] == {"start": "2025-04", "end": "2025-05"} and second["schema_version"]
    assert [s["source_id"] for s in second["sources"]] == ["nhs_services", "council_services", "nhs_activity",
                                                          "nhs_flows"]


def test_versions_of_an_unpublished_map_says_so(mini_map: Path) -> None:
    code, out, err = run("versions", str(mini_map))
    assert code == 0 and out == "" and err.startswith("no versions of mini published yet")
    code, out, _ = run("versions", str(mini_map), "--json")
    assert json.loads(out) == {"map_id": "mini", "latest": None, "versions": []}


def test_show_summarises_tables_sources_lanes_and_hash(published: Path) -> None:
    code, out, _ = run("show", "latest", str(published), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["version_id"] == "v0002" and summary["latest"] is True
    assert summary["tables"]["activity"] == 4 and summary["tables"]["services"] == 4
    assert {s["source_id"]: s["status"] for s in summary["sources"]}["nhs_flows"] == "warn"
    assert all(len(s["sha256"]) == 64 for s in summary["sources"])
    assert summary["lanes"] == [{"id": "urgent_care", "label": "Urgent care", "services": 1},
                                {"id": "acute", "label": "Acute", "services": 1},
                                {"id": "social_care", "label": "Social care", "services": 2}]
    assert len(summary["content_hash"]) == 64 and summary["created_at"]

    code, out, _ = run("show", "v0001", str(published))
    assert code == 0
    assert out.startswith("mini v0001: Mini map\n")
    assert any(line.split() == ["activity", "3"] for line in out.splitlines())
    assert any(line.split()[:3] == ["nhs_flows", "warn", summary["sources"][3]["sha256"][:12]]
               for line in out.splitlines())
    assert any(line.split() == ["Social", "care", "2"] for line in out.splitlines())


def test_show_takes_a_date_and_reports_bad_selectors_in_one_line(published: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    code, out, _ = run("show", today, str(published), "--json")
    assert code == 0 and json.loads(out)["version_id"] == "v0002"
    code, _, err = run("show", "2001-01-01", str(published))
    assert code == 3 and err.count("\n") == 1 and "no version of map 'mini' was created on or before 2001-01-01" in err
    code, _, err = run("show", "v0042", str(published))
    assert code == 3 and err.strip().endswith("no version 'v0042'; known: v0001, v0002")
    code, _, err = run("show", "yesterday", str(published))
    assert code == 3 and err.startswith("ism: error: version 'yesterday': use latest") and err.count("\n") == 1
    code, _, err = run("show", "latest", str(published.parent / "missing.toml"))
    assert code == 2 and "map config not found" in err
