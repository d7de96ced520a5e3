"""`ism init FOLDER`: a starter map config from a folder of extracts, which loads with the config loader."""

from __future__ import annotations

import json
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


def test_init_on_public_health_scotland_files_suggests_what_their_mappings_need(tmp_path: Path,
                                                                                 shared_data: Path) -> None:
    """The real PHS tables: wide files unpivoted with their QF qualifiers, quarters as periods, the total rows kept
    ("All Specialties"), repeats named, the finest place as the key, a lane guessed from words, full postcodes
    named, the last twelve months as the map period with national history clipped; then `ism check` takes the beds
    file whole."""
    out = tmp_path / "ism.toml"
    made = RUNNER.invoke(app, ["init", str(shared_data / "phs"), "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "profiled 7 tables from 1 partner;" in made.stderr
    config = load_config(out)
    assert (config.period.start, config.period.end) == ("2021-10", "2022-09")
    assert (config.title, config.partners["phs"].name) == ("PHS", "PHS")
    sources = {s.id: s for s in config.sources}
    beds = sources["beds_by_nhs_board_of_treatment_and_specialty_q3_2022"]
    assert (beds.table, beds.columns) == ("activity", {"service_key": "Location", "period": "Quarter"})
    assert beds.unpivot is not None and beds.unpivot.qualifier_suffix == "QF"
    assert beds.unpivot.columns == {  # the catalogue's measures, with their units and kinds (as examples/lothian)
        "AllStaffedBeddays": "staffed_bed_days", "TotalOccupiedBeddays": "occupied_bed_days",
        "AverageAvailableStaffedBeds": "average_available_beds", "AverageOccupiedBeds": "average_occupied_beds",
        "PercentageOccupancy": "percentage_occupancy"}
    assert [(w.column, w.equals) for w in beds.where] == [("SpecialtyName", "All Specialties")]
    assert beds.clip_to_map_period
    delays = sources["source_2022_09_delayed_discharge_beddays_health_board"]
    assert [(w.column, w.equals) for w in delays.where] == [("ReasonForDelay", "All Delay Reasons")]
    assert delays.columns == {"service_key": "HBT", "period": "MonthOfDelay"}
    text = out.read_text(encoding="utf-8")
    assert "# rows repeat per 'AgeGroup' ('18plus', '18-74', '75plus'): keep one value with where" in text
    assert sources["monthly_ae_waitingtimes_202204"].columns == {"service_key": "TreatmentLocation",
                                                                 "period": "Month"}
    sites = sources["hospital_site_list"]
    assert sites.columns == {"service_key": "TreatmentLocationCode", "name": "TreatmentLocationName",
                             "lane": "CurrentDepartmentType"}
    assert sites.codes == {"lane": {"Emergency Department": "urgent_care", "Minor Injury Unit or Other": "urgent_care"}}
    assert sources["hb14_hb19"].table == "services"  # dates enacted are not a period of activity
    assert sources["current_hospital_flagged20211216"].constants == {"lane": "acute"}
    # said before a refresh refuses the file for it (a hospital's address: the person decides)
    assert "# column 'Postcode' looks like full postcodes: 277 of 277 values; remove the column" in text
    checked = RUNNER.invoke(app, ["check", beds.id, str(out), "--json"])
    assert checked.exit_code == 0, checked.output
    found = json.loads(checked.stdout)["sources"][0]
    # every row of the file once: left out by `where`, accepted, or outside the map period (never per value)
    assert (found["rows_read"], found["rows_filtered"], found["rows_accepted"], found["rows_rejected"],
            found["rows_clipped"]) == (30328, 29231, 208, 0, 889)


def test_init_on_the_open_referral_examples_offers_each_hsds_document_as_one_source(tmp_path: Path,
                                                                                    shared_data: Path) -> None:
    """HSDS JSON documents (a service, an organization, a page of them) are read by the hsds kind, not as lists of
    nested records; with the sector and lane it suggests, each passes `ism check`."""
    out = tmp_path / "ism.toml"
    assert RUNNER.invoke(app, ["init", str(shared_data / "hsds3"), "--out", str(out)]).exit_code == 0
    sources = {s.id: s for s in load_config(out).sources}
    hsds = sorted(s.id for s in sources.values() if s.kind == "hsds")
    assert hsds == ["csv", "organization_full", "organization_list", "service_at_location_full",
                    "service_at_location_list", "service_full", "service_list"]
    assert sources["service_full"].constants == {"sector": "third_sector", "lane": "third_sector"}
    assert not any(s.options.get("records_path", "").endswith(".csv") for s in sources.values())  # unnameable
    for source_id in ("service_full", "organization_full", "csv"):
        checked = RUNNER.invoke(app, ["check", source_id, str(out), "--json"])
        assert checked.exit_code == 0, checked.output
        assert json.loads(checked.stdout)["sources"][0]["rows_accepted"] > 0, source_id


def test_a_log_of_events_and_a_practice_code_written_as_a_number_are_suggested_as_such(tmp_path: Path) -> None:
    """A discharge log (a date-time, from, to, no value column) is a flows log whose rows ism counts; a whole
    number named as a code is a key, not a measure; measure codes are guessed from the catalogue."""
    (tmp_path / "acute").mkdir()
    (tmp_path / "acute" / "discharges.csv").write_text(
        "Discharge Date,Unit Code,Destination\n2025-04-01 16:00,AMU,HOME\n2025-04-02 08:30,MED,H01-CH\n")
    (tmp_path / "gp").mkdir()
    (tmp_path / "gp" / "contacts.csv").write_text(
        "Practice Code;Month;Contact Type;Contacts\n70100;2025-04;F2F;12\n70101;2025-04;TEL;7\n")
    (tmp_path / "community").mkdir()
    (tmp_path / "community" / "activity.csv").write_text(
        "Team Code,Period,Measure,Count\nDN,2025-04,Admissions,3\nDN,2025-04,Occupied bed days,40\n"
        "DN,2025-04,Caseload,12\nDN,2025-04,Waits,5\n")
    out = tmp_path / "ism.toml"
    assert RUNNER.invoke(app, ["init", str(tmp_path), "--out", str(out)]).exit_code == 0
    sources = {s.id: s for s in load_config(out).sources}
    log = sources["discharges"]
    assert (log.table, log.columns, log.constants) == (
        "flows", {"from_key": "Unit Code", "to_key": "Destination", "period": "Discharge Date"},
        {"measure": "discharges"})
    assert "# one row per event: ism counts the rows" in out.read_text(encoding="utf-8")
    assert sources["contacts"].columns == {"service_key": "Practice Code", "period": "Month",
                                           "measure": "Contact Type", "value": "Contacts"}
    # measure codes that name the catalogue's measures are mapped to them; the rest are left for a person
    assert sources["activity"].codes == {"measure": {"Admissions": "admissions", "Occupied bed days":
                                                     "occupied_bed_days", "Caseload": "caseload"}}
    assert "# codes.measure: also map 'Waits' (to a measure, e.g. admissions)" in out.read_text(encoding="utf-8")


def test_a_file_that_cannot_be_profiled_is_named_and_left_out_not_the_end_of_init(tmp_path: Path) -> None:
    """One broken file among good ones: the starter config is written, the file named on stderr and at the end of
    the config; with no good file at all, init fails naming each."""
    (tmp_path / "council").mkdir()
    (tmp_path / "council" / "services.csv").write_text("Code,Name\nA1,Alpha\n")
    (tmp_path / "council" / "broken.json").write_text("not json")
    (tmp_path / "council" / "empty.csv").write_text("")
    out = tmp_path / "ism.toml"
    made = RUNNER.invoke(app, ["init", str(tmp_path), "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "ism: warning: not profiled: " in made.stderr and "broken.json: line 1: not JSON" in made.stderr
    assert "(2 file(s) not profiled, listed at the end of the config)" in made.stderr
    assert out.read_text(encoding="utf-8").rstrip().splitlines()[-1].endswith("empty.csv: empty file, nothing to "
                                                                              "profile")
    assert [s.id for s in load_config(out).sources] == ["services"]
    (tmp_path / "council" / "services.csv").unlink()
    failed = RUNNER.invoke(app, ["init", str(tmp_path), "--out", str(tmp_path / "other.toml")])
    assert failed.exit_code == 2 and "no extract could be profiled: " in failed.stderr
    assert "broken.json" in failed.stderr and "empty.csv" in failed.stderr
