"""`ism init FOLDER`: a starter map config from a folder of extracts, which loads with the config loader."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from examples import DEMO_CONFIG
from flows.cli import app
from flows.config import load_config

DEMO_EXTRACTS = DEMO_CONFIG.parent / "extracts"
RUNNER = CliRunner()


def test_init_on_the_demo_extracts_writes_a_config_that_loads(tmp_path: Path) -> None:
    out = tmp_path / "ism.toml"
    result = RUNNER.invoke(app, ["init", str(DEMO_EXTRACTS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out) and "profiled 31 tables from 10 partners" in result.stderr
    config = load_config(out)
    assert (config.area.code, config.period.start, config.period.end) == ("S37900001", "2025-04", "2026-03")
    assert sorted(config.partners)[:3] == ["glenmuir_council", "glenmuir_gp_cluster", "glenmuir_housing"]
    assert config.partners["nhs_glenmuir_acute"].sector == "nhs"
    sources = {s.id: s for s in config.sources}
    assert len(sources) == 31 and sum(s.kind == "hsds" for s in sources.values()) == 1
    units = sources["units"]
    assert (units.partner, units.kind, units.table) == ("nhs_glenmuir_acute", "csv", "services")
    assert units.columns == {"service_key": "Unit Code", "name": "Unit Name", "lane": "Unit Type"}
    assert (config.folder / units.location).resolve() == DEMO_EXTRACTS / "nhs_glenmuir_acute" / "units.csv"
    assert sources["practices"].options == {"encoding": "cp1252", "delimiter": ";"}
    assert sources["transfers"].table == "flows" and sources["transfers"].columns == {
        "from_key": "From Unit", "to_key": "To Unit", "period": "Month", "value": "Patients"}
    assert sources["transfers"].constants == {"measure": "patients"}
    assert sources["community_health_2025_26_activity"].options == {"sheet": "Activity", "header_row": 3}
    assert sources["sw_activity"].columns["measure"] == "Measure" and sources["sw_activity"].table == "activity"
    triage = sources["scotline111_glenmuir_2025_26_extract_volumes"]
    assert triage.options == {"records_path": "extract.volumes"} and triage.table == "activity"
    text = out.read_text(encoding="utf-8")
    assert "#   'Unit Code': text, 16 distinct, 0 blank; e.g. " in text  # the profile, as comments above the source
    assert "#   likely measures: 'Patients'" in text


def test_init_refuses_to_replace_a_config_and_an_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "ism.toml"
    out.write_text("# mine\n")
    refused = RUNNER.invoke(app, ["init", str(DEMO_EXTRACTS), "--out", str(out)])
    assert refused.exit_code == 2 and "exists; choose another --out or pass --force" in refused.stderr
    assert out.read_text() == "# mine\n"
    (tmp_path / "empty").mkdir()
    nothing = RUNNER.invoke(app, ["init", str(tmp_path / "empty"), "--out", str(tmp_path / "new.toml")])
    assert nothing.exit_code == 2 and "no CSV, Excel (.xlsx), JSON or HSDS extracts found" in nothing.stderr
    assert not (tmp_path / "new.toml").exists()
    missing = RUNNER.invoke(app, ["init", str(tmp_path / "nowhere"), "--out", str(tmp_path / "new.toml")])
    assert missing.exit_code == 1 and "not a folder" in missing.stderr


def test_a_config_inside_the_folder_needs_no_allowed_roots(tmp_path: Path) -> None:
    (tmp_path / "extracts" / "council").mkdir(parents=True)
    (tmp_path / "extracts" / "council" / "services.csv").write_text("Code,Name\nA1,Alpha\nB2,Bravo\n")
    out = tmp_path / "ism.toml"
    assert RUNNER.invoke(app, ["init", str(tmp_path / "extracts"), "--out", str(out)]).exit_code == 0
    config = load_config(out)
    assert config.allowed_roots == [] and config.sources[0].location == "extracts/council/services.csv"
    assert config.sources[0].columns == {"service_key": "Code", "name": "Name"}
