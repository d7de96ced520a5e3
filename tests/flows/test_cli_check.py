"""`ism check`: a starter config from `ism init` on the demo extracts, two mappings filled in, passes `ism check`;
a mapping left unfilled shows its rejects with the fix; the command never imports Prefect or Great Expectations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from examples import DEMO_CONFIG
from flows.cli import app

RUNNER = CliRunner()
FILLED = {  # source id in the starter config -> the lane codes a person adds (the demo's own)
    "units": '{ ED = "urgent_care", MIU = "urgent_care", AMU = "acute", SAU = "acute", FRAIL = "acute", '
             'CCU = "acute", ICU = "acute", WARD-MED = "acute", WARD-SURG = "acute", WARD-REHAB = "acute", '
             'DISCH-LOUNGE = "acute", HOME = "prevention_community" }',
    "practices": '{ GMS = "primary_care", OOH = "urgent_care", PHARM = "primary_care" }',
}


def starter_config(folder: Path) -> Path:
    out = folder / "ism.toml"
    written = RUNNER.invoke(app, ["init", str(DEMO_CONFIG.parent / "extracts"), "--out", str(out)])
    assert written.exit_code == 0, written.output
    return out


def fill_lane_codes(config: Path, source_id: str, codes: str) -> None:
    """Set `codes.lane` of one source of the starter config (in place of the guessed codes), under its columns."""
    lines = config.read_text(encoding="utf-8").splitlines()
    start = lines.index(f'id = "{source_id}"')
    at = next(n for n in range(start, len(lines)) if lines[n].startswith("columns = "))
    if lines[at + 1].startswith("codes.lane = "):
        del lines[at + 1]
    lines.insert(at + 1, f"codes.lane = {codes}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_starter_config_with_two_mappings_filled_passes_check(tmp_path: Path) -> None:
    config = starter_config(tmp_path)
    unfilled = RUNNER.invoke(app, ["check", "units", str(config), "--json"])
    assert unfilled.exit_code == 0, unfilled.output  # rows rejected, the source not blocked
    found = json.loads(unfilled.stdout)["sources"][0]
    # the unit types init could guess a lane for (ED, AMU, the wards, ...) pass; the others are rejects to map
    assert (found["rows_read"], found["rows_accepted"], found["rows_rejected"]) == (16, 11, 5)
    assert found["raw_columns"]["services"][:3] == ["Unit Code", "Unit Name", "Unit Type"]
    lane = found["reasons"][0]
    assert lane["check"] == "unmapped_code" and lane["count"] == 5 and "not in codes.lane" in \
        lane["samples"][0]["message"] and lane["samples"][0]["value"] == "MIU"
    assert "# codes.lane: also map 'MIU', 'SAU', 'FRAIL', 'DISCH-LOUNGE', 'HOME'" in config.read_text()

    for source_id, codes in FILLED.items():
        fill_lane_codes(config, source_id, codes)
    for source_id in FILLED:
        checked = RUNNER.invoke(app, ["check", source_id, str(config), "--json"])
        assert checked.exit_code == 0, checked.output
        found = json.loads(checked.stdout)["sources"][0]
        assert found["passed"] and found["rows_read"] > 0 and found["rows_rejected"] == 0
        assert found["rows_accepted"] == found["rows_read"]
        assert not [r for r in found["reasons"] if r["severity"] == "error"]
        assert found["head"]["services"][0]["lane"] in {"urgent_care", "acute", "primary_care"}
    text = RUNNER.invoke(app, ["check", "units", str(config)]).stdout
    assert text.startswith("units (nhs_glenmuir_acute, ") and "16 read, 0 filtered, 16 accepted, 0 rejected" in text


def test_a_blocked_source_exits_1_with_its_reason_and_the_demo_checks_all(tmp_path: Path) -> None:
    config = starter_config(tmp_path)
    broken = tmp_path / "units.csv"
    broken.write_text("Unit Code,Unit Name,Unit Type\nED,Emergency,ED,extra\n")
    lines = config.read_text(encoding="utf-8").splitlines()
    start = lines.index('id = "units"')
    at = next(n for n in range(start, len(lines)) if lines[n].startswith("location = "))
    lines[at] = 'location = "units.csv"'  # beside the config
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    blocked = RUNNER.invoke(app, ["check", "units", str(config)])
    assert blocked.exit_code == 1 and "blocked: units: " in blocked.stdout
    every = RUNNER.invoke(app, ["check", "--all", str(DEMO_CONFIG), "--json"])
    assert every.exit_code == 0, every.output
    assert len(json.loads(every.stdout)["sources"]) == 30  # every source of the demo map


def test_check_imports_neither_prefect_nor_great_expectations() -> None:
    script = ("import sys\nfrom flows.cli import app\nfrom typer.testing import CliRunner\n"
              f"r = CliRunner().invoke(app, ['check', 'acute_units', {str(DEMO_CONFIG)!r}])\n"
              "assert r.exit_code == 0, r.output\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'great_expectations')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "[]"


def test_a_whole_file_reject_reads_as_the_whole_file_not_row_0() -> None:
    """Rejects about the whole file or its header carry row 0 (docs/dataset.md); the text says so in words."""
    from flows.check import SourceCheck
    from flows.cli.check import check_text

    samples = [{"row_number": 0, "column": "QuarterQF", "value": None,
                "message": "column 'QuarterQF' is not used by the mapping"},
               {"row_number": 12, "column": "HB", "value": "S08", "message": "unknown code"},
               {"row_number": None, "column": None, "value": None, "message": "not bound to a row"}]
    found = SourceCheck("beds", "phs", "beds.csv", "warn", None, {}, {}, 3, 0, 3, 0, 0,
                        [{"severity": "warn", "check": "unknown_column", "count": 3, "message": "m", "advice": "",
                          "samples": samples}])
    lines = check_text(found).splitlines()
    assert "    e.g. the whole file, column QuarterQF, value -: column 'QuarterQF' is not used by the mapping" in lines
    assert "    e.g. row 12, column HB, value S08: unknown code" in lines
    assert "    e.g. no row, column -, value -: not bound to a row" in lines


def test_a_wide_file_counts_its_rows_not_its_values(tmp_path: Path) -> None:
    """Four rows of three measures each, unpivoted: one with a bad quarter (one row rejected, though three values
    are: the reject share is 1 in 4, not 3 in 4), one outside the map period (one row clipped), two accepted."""
    (tmp_path / "beds.csv").write_text("Site,Quarter,Staffed,Occupied,Average\n"
                                       "S1,2025Q2,90,80,1\nS2,202XQ2,90,80,1\nS3,2024Q1,90,80,1\nS4,2025Q3,90,80,1\n")
    (tmp_path / "sites.csv").write_text("Code,Name\nS1,One\nS2,Two\nS3,Three\nS4,Four\n")
    config = tmp_path / "ism.toml"
    config.write_text('''map_id = "wide"
title = "Wide"
population = "adults"
[area]
code = "S37000001"
name = "Wide"
[period]
start = "2025-04"
end = "2025-09"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.phs]
name = "PHS"
sector = "national"
[[sources]]
id = "sites"
partner = "phs"
kind = "csv"
location = "sites.csv"
table = "services"
columns = { service_key = "Code", name = "Name" }
constants = { lane = "acute" }
[[sources]]
id = "beds"
partner = "phs"
kind = "csv"
location = "beds.csv"
table = "activity"
unpivot = { columns = { Staffed = "staffed_bed_days", Occupied = "occupied_bed_days", Average = "average_occupied_beds" } }
columns = { service_key = "Site", period = "Quarter" }
clip_to_map_period = true
''', encoding="utf-8")
    checked = RUNNER.invoke(app, ["check", "beds", str(config), "--json"])
    assert checked.exit_code == 0, checked.output
    found = json.loads(checked.stdout)["sources"][0]
    assert (found["rows_read"], found["rows_accepted"], found["rows_rejected"], found["rows_clipped"]) == (4, 2, 1, 1)
    assert found["reasons"][0]["check"] == "bad_period" and found["reasons"][0]["count"] == 3  # the rejects: values
