"""The refresh flow end to end on a small map, through a real (temporary) Prefect server."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from expectations.canonical import CANONICAL_TABLES
from expectations.errors import QualityGateError
from flows.cli import app
from flows.refresh import refresh_map

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_refresh_publishes_a_complete_version(mini_map: Path) -> None:
    result = refresh_map(str(mini_map))
    assert result.status == "published" and result.version_id == "v0001"
    version = Path(result.path)
    assert version == mini_map.parent / "published" / "mini" / "versions" / "v0001"
    for table in CANONICAL_TABLES:
        assert (version / f"{table}.parquet").is_file() and (version / f"{table}.csv").is_file()
    assert (version / "diagrams" / "poster.svg").read_text().lstrip().startswith("<?xml")
    package = json.loads((version / "datapackage.json").read_text())
    assert [r["name"] for r in package["resources"]] == list(CANONICAL_TABLES)
    with duckdb.connect(str(version / "map.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM services").fetchone() == (4,)
    flows = pd.read_csv(version / "flows.csv")
    assert sorted(flows["value"]) == [20, 300]
    rejects = pd.read_csv(version / "rejects.csv")
    assert rejects[["source_id", "location", "row_number", "column", "check", "value"]].values.tolist() == [
        ["nhs_flows", "extracts/flows.csv", 4, "to_key", "unknown_service", "nhs:ZZZ"]]
    assert (mini_map.parent / "published" / "mini" / "latest").read_text().strip() == "v0001"
    assert not any((mini_map.parent / "published" / "mini" / ".staging").iterdir())
    published = {p.name for p in (mini_map.parent / "published").rglob("*")}
    assert not published & {".cache", ".last_good", "work"}  # unsuppressed working data stays private
    assert (mini_map.parent / ".ism" / "mini" / ".last_good").is_dir()


def test_same_inputs_give_the_same_content_hash(mini_map: Path, tmp_path: Path) -> None:
    first = refresh_map(str(mini_map), str(tmp_path / "one"))
    second = refresh_map(str(mini_map), str(tmp_path / "two"))
    assert first.content_hash == second.content_hash
    again = refresh_map(str(mini_map), str(tmp_path / "one"))
    assert again.status == "unchanged" and again.version_id == "v0001"
    (mini_map.parent / "extracts" / "activity.csv").write_text("code,month,n\nED,2025-04,5\n")
    changed = refresh_map(str(mini_map), str(tmp_path / "one"))
    assert changed.status == "published" and changed.version_id == "v0002"
    assert changed.content_hash != first.content_hash


def test_a_blocked_source_under_fail_publishes_nothing(mini_map: Path) -> None:
    refresh_map(str(mini_map))
    (mini_map.parent / "extracts" / "activity.csv").write_text("code,when,n\nED,2025-04,5\n")
    with pytest.raises(QualityGateError, match=r"nhs_activity: column 'month' named in the mapping"):
        refresh_map(str(mini_map))
    store = mini_map.parent / "published" / "mini"
    assert (store / "latest").read_text().strip() == "v0001"
    assert sorted(p.name for p in (store / "versions").iterdir()) == ["v0001"]


def test_cli_refresh_prints_a_summary_and_the_version_path(mini_map: Path) -> None:
    result = CliRunner().invoke(app, ["refresh", str(mini_map)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1].endswith("published/mini/versions/v0001")
    assert any(line.startswith("nhs_flows") and line.split()[1:] == ["warn", "3", "2", "1"] for line in lines)
    listed = CliRunner().invoke(app, ["versions", str(mini_map), "--json"])
    assert json.loads(listed.stdout)["latest"] == "v0001"


def test_cli_reports_every_mistake_of_a_bad_config_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('map_id = "Bad Id"\n')
    result = CliRunner().invoke(app, ["refresh", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"ism: error: {bad}: map_id: String should match pattern")
    assert [line.split(": ")[-2] for line in lines[1:]] == ["title", "area", "population", "period", "lanes",
                                                          "partners", "sources"]
