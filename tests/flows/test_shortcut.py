"""A nothing-changed refresh is answered before Prefect starts (flows/shortcut.py), exactly as the flow would
answer it; anything the file hashes cannot settle is left to the flow."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config
from flows.outcomes import RunResult
from flows.refresh import refresh_map
from flows.shortcut import unchanged_before_running
from tests.conftest import write_mini_map
from tests.flows.processes import ism_env

pytestmark = pytest.mark.usefixtures("prefect_server")

HEAVY = ("prefect", "great_expectations", "pandera")


def shortcut(config: Path) -> RunResult | None:
    return unchanged_before_running(load_config(config), None)


def shown(result: RunResult) -> dict[str, Any]:
    """What a user sees of a run: its status, version, counts and each source's status and row counts."""
    return {"status": result.status, "version_id": result.version_id, "path": result.path,
            "content_hash": result.content_hash, "counts": result.counts,
            "sources": [(o.source_id, o.partner, o.kind, o.status, o.rows_read, o.rows_accepted, o.rows_rejected,
                         o.rows_clipped) for o in result.sources]}


def test_an_unchanged_map_is_answered_from_its_manifest_as_the_flow_answers_it(mini_map: Path) -> None:
    store = load_config(mini_map).store()
    assert shortcut(mini_map) is None and not store.folder.exists()  # nothing published yet: the flow decides
    published = refresh_map(str(mini_map))
    assert published.status == "published"

    answered = shortcut(mini_map)
    assert answered is not None
    assert answered.timings["flow"] == 0.0 and answered.timings["shortcut"] > 0
    by_flow = refresh_map(str(mini_map))
    assert by_flow.status == "unchanged" and "sources_wall" in by_flow.timings  # the flow really ran
    assert shown(answered) == shown(by_flow)
    assert shown(answered)["counts"] == published.counts and answered.version_id == "v0001"
    rows = {o.source_id: (o.rows_read, o.rows_rejected) for o in answered.sources}
    assert rows == {"nhs_services": (2, 0), "council_services": (2, 0), "nhs_activity": (3, 0), "nhs_flows": (3, 1)}

    # how and when a map runs is not what it contains: still answered
    with mini_map.open("a") as config:
        config.write('\n[schedule]\ncron = "0 6 * * *"\n')
    assert shortcut(mini_map) is not None


def test_changed_or_missing_inputs_are_left_to_the_flow_and_a_new_version_is_then_answered(mini_map: Path) -> None:
    store = load_config(mini_map).store()
    refresh_map(str(mini_map))
    activity = mini_map.parent / "extracts" / "activity.csv"
    original_config, original_activity = mini_map.read_text(), activity.read_text()

    activity.write_text(original_activity + "AMU,2025-05,40\n")
    assert shortcut(mini_map) is None, "a changed file"
    activity.unlink()
    assert shortcut(mini_map) is None, "a missing file"
    activity.write_text(original_activity)
    mini_map.write_text(original_config.replace('label = "Acute"', 'label = "Acute hospital"'))
    assert shortcut(mini_map) is None, "a changed config (a lane's label)"
    mini_map.write_text(original_config)
    assert shortcut(mini_map) is not None, "everything as published again"

    activity.write_text(original_activity + "AMU,2025-05,40\n")
    assert refresh_map(str(mini_map)).version_id == "v0002"
    assert store.complete_versions() == ["v0001", "v0002"]
    with mini_map.open("a") as config:
        config.write("\n[publish]\nkeep_versions = 1\n")  # retention is operational: the inputs stay equal
    answered = shortcut(mini_map)
    assert answered is not None and answered.version_id == "v0002"
    assert store.complete_versions() == ["v0002"], "the shortcut prunes old versions as the flow does"


def test_inputs_that_made_the_latest_versions_content_again_are_answered_next_time_without_the_flow(
        mini_map: Path) -> None:
    store = load_config(mini_map).store()
    assert refresh_map(str(mini_map)).version_id == "v0001"
    activity = mini_map.parent / "extracts" / "activity.csv"
    header, *rows = activity.read_text().splitlines()
    activity.write_text("\n".join([header, *reversed(rows)]) + "\n")  # other bytes, the same table
    assert shortcut(mini_map) is None, "the version was not built from these bytes"
    by_flow = refresh_map(str(mini_map))
    assert by_flow.status == "unchanged" and by_flow.version_id == "v0001" and "sources_wall" in by_flow.timings

    answered = shortcut(mini_map)
    assert answered is not None and shown(answered) == shown(by_flow)
    assert store.manifest("v0001")["inputs"] != store.inputs_of("v0001")[-1], "the version itself is not rewritten"


def test_a_database_source_is_left_to_the_flow(mini_map: Path, tmp_path: Path) -> None:
    database = tmp_path / "partner.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE services (code TEXT, name TEXT, type TEXT)")
        db.executemany("INSERT INTO services VALUES (?, ?, ?)",
                       [("ED", "Emergency Department", "URG"), ("AMU", "Acute Medical Unit", "ACU")])
    mini_map.write_text(mini_map.read_text().replace(
        'kind = "csv"\nlocation = "extracts/services.csv"\ntable = "services"',
        f'kind = "sql"\ntable = "services"\noptions = {{ url = "sqlite:///{database}", table = "services" }}'))
    assert refresh_map(str(mini_map)).status == "published"

    assert shortcut(mini_map) is None  # only reading the database can tell whether it changed
    assert refresh_map(str(mini_map)).status == "unchanged"


def test_a_map_another_refresh_holds_is_left_to_the_flow(mini_map: Path) -> None:
    store = load_config(mini_map).store()
    refresh_map(str(mini_map))
    with store.locked():
        assert shortcut(mini_map) is None  # the flow then refuses, or with --wait waits, as before
    assert shortcut(mini_map) is not None


def test_the_cli_answers_unchanged_itself_unless_told_to_run_the_flow(mini_map: Path) -> None:
    assert CliRunner().invoke(app, ["refresh", str(mini_map)]).exit_code == 0

    quick = CliRunner().invoke(app, ["refresh", str(mini_map), "--json"])
    assert quick.exit_code == 0, quick.output
    assert json.loads(quick.stdout)["timings"]["flow"] == 0.0 and "shortcut" in json.loads(quick.stdout)["timings"]
    text = CliRunner().invoke(app, ["refresh", str(mini_map)])
    assert text.exit_code == 0 and "unchanged: latest is mini v0001" in text.stdout

    flow = CliRunner().invoke(app, ["refresh", str(mini_map), "--json", "--no-shortcut"])
    assert flow.exit_code == 0, flow.output
    result = json.loads(flow.stdout)
    assert result["status"] == "unchanged" and "shortcut" not in result["timings"] and result["timings"]["flow"] > 0

    # every run is recorded, an unchanged one too (by the shortcut or the flow), its report the latest version's
    runs = json.loads(CliRunner().invoke(app, ["runs", str(mini_map), "--json"]).stdout)["runs"]
    assert [r["outcome"] for r in runs] == ["unchanged", "unchanged", "unchanged", "published"]
    assert {r["version_id"] for r in runs} == {"v0001"} and len({r["run_id"] for r in runs}) == 4
    assert all(Path(r["report"]).is_file() and r["status"] for r in runs)
    assert runs[0]["message"] == "no input changed since v0001: nothing published"


@dataclass(frozen=True)
class FreshProcess:
    exit_code: int
    result: dict[str, Any]
    loaded: list[str]  # which of HEAVY the process imported


# `ism refresh CONFIG --json` in a fresh process (argv: CONFIG, then package names); then which of the packages
# it imported, as the last line of stderr
FRESH_REFRESH = """
import json, sys
from flows.cli import main
config, packages = sys.argv[1], sys.argv[2:]
sys.argv = ["ism", "refresh", config, "--json"]
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"exit": code, "loaded": [p for p in packages if p in sys.modules]}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def fresh_unchanged_refresh(tmp_path_factory: pytest.TempPathFactory) -> FreshProcess:
    """A published mini map refreshed again, unchanged, by `ism refresh` in a fresh process."""
    folder = write_mini_map(tmp_path_factory.mktemp("fresh")).parent
    assert refresh_map(str(folder / "ism.toml")).status == "published"
    done = subprocess.run([sys.executable, "-c", FRESH_REFRESH, str(folder / "ism.toml"), *HEAVY], cwd=folder,
                          env=ism_env(folder / "home", None), capture_output=True, text=True, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return FreshProcess(report["exit"], json.loads(done.stdout), report["loaded"])


def test_a_fresh_process_answers_unchanged_without_importing_prefect_or_great_expectations(
        fresh_unchanged_refresh: FreshProcess) -> None:
    run = fresh_unchanged_refresh
    assert run.exit_code == 0 and run.result["status"] == "unchanged" and run.result["version_id"] == "v0001"
    assert "shortcut" in run.result["timings"]
    assert not {"prefect", "great_expectations"} & set(run.loaded), run.loaded
