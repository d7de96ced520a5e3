"""The `phs_ae` kind on PHS's real monthly A&E file and hospital site list."""

from __future__ import annotations

import csv
import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from expectations.errors import SourceError
from sources import RawTables, SourceRequest, extract
from sources.base import ROW_COLUMN
from sources.phs_ae import PHS_AE, PhsAeOptions

AE_FILE = "monthly_ae_waitingtimes_202204.csv"
SITE_LIST = "hospital_site_list.csv"
DATA_ROWS = 15_715


def request(location: Path, folder: Path | None = None, **options: object) -> SourceRequest:
    return SourceRequest(
        source_id="phs",
        location=location,
        table=None,
        options=PHS_AE.options(**options),
        folder=folder or location.parent,
    )


@cache
def read_real(phs: Path) -> RawTables:
    """The real file with its site list, read once for the tests that only look."""
    return PHS_AE.read(request(phs / AE_FILE, site_list=SITE_LIST))


@pytest.fixture
def phs(shared_data: Path) -> Path:
    return shared_data / "phs"


def test_every_file_row_is_one_attendance_row_and_five_discharge_flows(phs: Path) -> None:
    raw = read_real(phs)
    assert set(raw.tables) == {"services", "activity", "flows"}
    assert len(raw.tables["activity"]) == DATA_ROWS
    assert len(raw.tables["flows"]) == 5 * DATA_ROWS
    assert raw.problems == []
    for frame in raw.tables.values():
        assert frame[ROW_COLUMN].dtype == "int64"
        assert all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns if c != ROW_COLUMN)


def test_known_values_are_read_as_text_with_their_qualifiers(phs: Path) -> None:
    raw = read_real(phs)
    activity, flows = raw.tables["activity"], raw.tables["flows"]
    crosshouse = activity[(activity["service_key"] == "A111H") & (activity["month"] == "200707")]
    assert crosshouse[["measure", "value"]].values.tolist() == [["attendances", "5414"]]
    assert crosshouse["qualifier"].isna().all()

    out_of_crosshouse = flows[(flows["from_key"] == "A111H") & (flows["month"] == "200707")]
    assert dict(zip(out_of_crosshouse["to_key"], out_of_crosshouse["value"], strict=True)) == {
        "A111H:admission_same": "1985",
        "A111H:other_specialty": "11",
        "residence": "3374",
        "transfer": "44",
        "unknown": "0",
    }
    assert (out_of_crosshouse["measure"] == "discharges").all()

    # Arran's minor injury unit reports no destinations: empty cells, and the qualifier "z" says why
    out_of_arran = flows[(flows["from_key"] == "A101H") & (flows["month"] == "200707")]
    assert len(out_of_arran) == 5
    assert out_of_arran["value"].isna().all()
    assert (out_of_arran["qualifier"] == "z").all()


def test_row_numbers_are_the_lines_of_the_file(phs: Path) -> None:
    raw = read_real(phs)
    activity, flows = raw.tables["activity"], raw.tables["flows"]
    assert activity[ROW_COLUMN].tolist() == list(range(2, DATA_ROWS + 2))
    with (phs / AE_FILE).open(newline="", encoding="utf-8-sig") as handle:
        lines = {number: record for number, record in enumerate(csv.reader(handle), start=1)}
    for _, row in activity.sample(25, random_state=7).iterrows():
        month, _, _, site, _, attendances, *_ = lines[row[ROW_COLUMN]]
        assert (month, site, attendances) == (row["month"], row["service_key"].split(":")[0], row["value"])
    assert flows[ROW_COLUMN].value_counts().eq(5).all()


def test_sites_are_named_from_the_site_list_and_typed_by_their_latest_department(phs: Path) -> None:
    services = read_real(phs).tables["services"].set_index("service_key")
    ayr = services.loc["A210H"]
    assert (ayr["name"], ayr["setting"], ayr["lane_code"]) == (
        "University Hospital Ayr",
        "Emergency Department",
        "Emergency Department",
    )
    assert ayr["external_ids"] == "phs_location:A210H"
    assert ayr[ROW_COLUMN] == 5  # the site's first row in the file
    sites = services[services["external_ids"].notna()]
    assert len(sites) == 103
    assert not sites["name"].str.match(r".*\s$").any() and not sites["setting"].str.match(r".*\s$").any()
    assert services.loc["H221B", "name"] == "A&E H221B"  # a site the site list does not know

    # New Stobhill had an ED and an MIU; its latest month is an MIU
    source = pd.read_csv(phs / AE_FILE, dtype=str)
    stobhill = source[source["TreatmentLocation"] == "G207H"].sort_values("Month")
    assert stobhill["DepartmentType"].nunique() == 2
    assert services.loc["G207H", "setting"] == stobhill["DepartmentType"].iloc[-1] == "Minor Injury Unit or Other"


def test_a_site_with_two_departments_in_one_month_has_a_service_per_department(phs: Path) -> None:
    raw = read_real(phs)
    services = raw.tables["services"].set_index("service_key")
    activity, flows = raw.tables["activity"], raw.tables["flows"]
    # New Victoria ran an ED beside its MIU until May 2015; the site keeps its code as the MIU it became
    assert services.loc["G306H", ["name", "setting", "external_ids"]].tolist() == [
        "New Victoria Hospital",
        "Minor Injury Unit or Other",
        "phs_location:G306H",
    ]
    ed = services.loc["G306H:emergency_department"]
    assert (ed["name"], ed["setting"], ed["lane_code"]) == (
        "New Victoria Hospital – Emergency Department",
        "Emergency Department",
        "Emergency Department",
    )
    assert pd.isna(ed["external_ids"])
    september = activity[(activity["month"] == "200909") & activity["service_key"].str.startswith("G306H")]
    assert dict(zip(september["service_key"], september["value"], strict=True)) == {
        "G306H": "1328",
        "G306H:emergency_department": "4750",
    }
    ed_flows = flows[(flows["from_key"] == "G306H:emergency_department") & (flows["month"] == "200909")]
    assert ed_flows[["to_key", "value"]].values.tolist()[0] == ["G306H:admission_same", "1452"]
    split = services.index[services.index.str.match(r"^[A-Z]\d{3}[A-Z]:[a-z_]+_(department|other)$")]
    assert sorted(split) == [f"{site}:emergency_department" for site in ("F805H", "G207H", "G306H", "G516H", "V201H")]
    # what stays: Queen Elizabeth reported two ED rows for May 2015 (lines 8857 and 8858), left for standardise
    twice = activity[activity.duplicated(["service_key", "month"], keep=False)]
    assert twice[["service_key", "month", ROW_COLUMN]].values.tolist() == [
        ["G405H", "201505", 8857],
        ["G405H", "201505", 8858],
    ]


def test_destinations_are_synthesised_services_that_every_flow_reaches(phs: Path) -> None:
    raw = read_real(phs)
    services, flows = raw.tables["services"], raw.tables["flows"]
    assert services["service_key"].is_unique
    assert set(flows["to_key"]) | set(flows["from_key"]) <= set(services["service_key"])
    destinations = services[services[ROW_COLUMN] == 0].set_index("service_key")
    assert destinations["external_ids"].isna().all()
    assert len(destinations) == 2 * 103 + 3
    assert destinations.loc["A210H:admission_same"].to_dict() == {
        "name": "University Hospital Ayr – admitted to same hospital",
        "setting": "inpatient",
        "lane_code": "admission_same",
        "external_ids": destinations.loc["A210H:admission_same", "external_ids"],
        ROW_COLUMN: 0,
    }
    assert destinations.loc["A210H:other_specialty", "name"] == "University Hospital Ayr – admitted to other specialty"
    assert destinations.loc["A210H:other_specialty", "lane_code"] == "other_specialty"
    assert destinations.loc[["residence", "transfer", "unknown"], "name"].tolist() == [
        "Home / usual residence",
        "Transfer to another hospital",
        "Discharge destination unknown",
    ]
    assert destinations.loc[["residence", "transfer", "unknown"], "lane_code"].tolist() == [
        "residence",
        "transfer",
        "unknown",
    ]


def test_without_a_site_list_sites_are_named_by_code(phs: Path) -> None:
    services = PHS_AE.read(request(phs / AE_FILE, treatment_locations=["A210H"])).tables["services"]
    assert services["name"].tolist() == [
        "A&E A210H",
        "A&E A210H – admitted to same hospital",
        "A&E A210H – admitted to other specialty",
        "Home / usual residence",
        "Transfer to another hospital",
        "Discharge destination unknown",
    ]


def test_treatment_location_filter_keeps_only_those_sites(phs: Path) -> None:
    raw = PHS_AE.read(request(phs / AE_FILE, site_list=SITE_LIST, treatment_locations=["A111H", "A210H"]))
    activity, flows, services = raw.tables["activity"], raw.tables["flows"], raw.tables["services"]
    assert set(activity["service_key"]) == {"A111H", "A210H"}
    assert len(activity) == 2 * 178  # both sites report every month from 2007-07 to 2022-04
    assert len(flows) == 5 * len(activity)
    assert set(flows["from_key"]) == {"A111H", "A210H"}
    assert sorted(services["service_key"]) == sorted(
        [
            "A111H",
            "A210H",
            "A111H:admission_same",
            "A111H:other_specialty",
            "A210H:admission_same",
            "A210H:other_specialty",
            "residence",
            "transfer",
            "unknown",
        ]
    )


def test_health_board_filter_keeps_only_that_boards_sites(phs: Path) -> None:
    raw = PHS_AE.read(request(phs / AE_FILE, health_boards=["S08000028"]))
    assert set(raw.tables["activity"]["service_key"]) == {"W106H", "W107H", "W108H"}
    last = raw.tables["activity"].iloc[-1]
    assert (last["service_key"], last["month"], last[ROW_COLUMN]) == ("W108H", "202204", DATA_ROWS + 1)


def test_a_filter_code_the_file_never_has_is_an_error(phs: Path) -> None:
    with pytest.raises(SourceError, match=r"treatment_locations names A999H"):
        PHS_AE.read(request(phs / AE_FILE, treatment_locations=["A210H", "A999H"]))


def test_missing_columns_are_named_with_the_file(phs: Path, tmp_path: Path) -> None:
    source = pd.read_csv(phs / AE_FILE, dtype=str, nrows=20)
    broken = tmp_path / "ae.csv"
    source.drop(columns=["DischargeDestinationTransferQF", "HBT"]).to_csv(broken, index=False)
    with pytest.raises(SourceError) as error:
        PHS_AE.read(request(broken))
    assert "HBT, DischargeDestinationTransferQF" in str(error.value)
    assert "ae.csv" in str(error.value) and str(tmp_path) not in str(error.value)  # relative to the config


def test_blank_lines_and_quoted_line_breaks_keep_row_numbers_true(phs: Path, tmp_path: Path) -> None:
    lines = (phs / AE_FILE).read_text(encoding="utf-8").splitlines()
    odd = tmp_path / "ae.csv"
    # a blank line after line 2, and a department type broken over two lines on file line 5
    fourth = lines[3].replace('"Minor Injury Unit or Other"', '"Minor Injury Unit\nor Other"')
    odd.write_text("\n".join([lines[0], lines[1], "", lines[2], fourth, lines[4]]) + "\n", encoding="utf-8")
    activity = PHS_AE.read(request(odd)).tables["activity"]
    assert activity[["service_key", ROW_COLUMN]].values.tolist() == [
        ["A101H", 2],
        ["A111H", 4],
        ["A207H", 5],
        ["A210H", 7],
    ]


def test_site_list_is_relative_to_the_config_folder_and_hashed(phs: Path, tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    shutil.copy(phs / SITE_LIST, tmp_path / "ref" / SITE_LIST)
    options = PhsAeOptions(site_list=f"ref/{SITE_LIST}", treatment_locations=["A210H"])
    request = SourceRequest("phs", phs / AE_FILE, None, options, folder=tmp_path)
    raw = PHS_AE.read(request)
    assert raw.tables["services"]["name"].iloc[0] == "University Hospital Ayr"
    assert PHS_AE.hashed_files is not None
    assert PHS_AE.hashed_files(request) == [tmp_path / "ref" / SITE_LIST]


def test_provenance_hashes_the_file_and_site_list_stably(phs: Path, tmp_path: Path) -> None:
    first = extract(PHS_AE, request(phs / AE_FILE, site_list=SITE_LIST))
    second = extract(PHS_AE, request(phs / AE_FILE, site_list=SITE_LIST))
    assert first.provenance.sha256 == second.provenance.sha256
    assert len(first.provenance.sha256) == 64
    assert first.provenance.kind == "phs_ae"
    assert first.provenance.rows == sum(len(frame) for frame in first.tables.values()) == 6 * DATA_ROWS + 317

    shutil.copy(phs / AE_FILE, tmp_path / AE_FILE)
    shutil.copy(phs / SITE_LIST, tmp_path / SITE_LIST)
    copied = extract(PHS_AE, request(tmp_path / AE_FILE, site_list=SITE_LIST))
    assert copied.provenance.sha256 == first.provenance.sha256  # same bytes and names, wherever they sit

    (tmp_path / SITE_LIST).unlink()
    (tmp_path / SITE_LIST).write_bytes((phs / SITE_LIST).read_bytes().replace(b"Ayr", b"Ayr (Dalmellington Rd)"))
    changed = extract(PHS_AE, request(tmp_path / AE_FILE, site_list=SITE_LIST))
    assert changed.provenance.sha256 != first.provenance.sha256
    assert "University Hospital Ayr (Dalmellington Rd)" in set(changed.tables["services"]["name"])


def test_sites_the_site_list_lacks_are_named_by_any_other_list(phs: Path) -> None:
    raw = PHS_AE.read(request(phs / AE_FILE, site_list=SITE_LIST, health_boards=["S08000024"],
                              site_names="current-hospital_flagged20211216.csv"))
    names = dict(zip(raw.tables["services"]["service_key"], raw.tables["services"]["name"], strict=True))
    assert names["S319H"] == "Royal Hospital for Children and Young People"  # not in the A&E site list
    assert names["S314H"] == "Royal Infirmary Of Edinburgh"  # the A&E site list's name comes first
    assert raw.rows_filtered == DATA_ROWS - len(raw.tables["activity"])  # other boards' rows, counted


def test_sites_with_no_row_in_the_map_period_are_filtered_and_counted() -> None:
    from transforms.staging import staged_with_active_services
    from transforms.standardise import Staged

    services = pd.DataFrame({"service_key": ["S314H", "S102H", "S314H:admission_same", "residence"]})
    activity = pd.DataFrame({"service_key": ["S314H"]})
    flows = pd.DataFrame({"from_key": ["S314H"], "to_key": ["S314H:admission_same"]})
    results = {"services": Staged("services", services, pd.DataFrame(), 4),
               "activity": Staged("activity", activity, pd.DataFrame(), 1),
               "flows": Staged("flows", flows, pd.DataFrame(), 1)}
    kept = staged_with_active_services(results)
    assert kept.frame["service_key"].tolist() == ["S314H", "S314H:admission_same"] and kept.rows_filtered == 2
