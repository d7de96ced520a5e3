"""The spreadsheet export: a README sheet explaining the map and every column, a sheet per table with real dates
and numbers, text that never turns into a formula, and tables longer than Excel's limit continued on more sheets."""

from __future__ import annotations

import math
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, columns
from expectations.measures import builtin_catalogue
from flows.publish import ARTEFACT_WRITERS
from outputs import spreadsheet
from outputs.context import LaneStyle, PublishedVersion
from outputs.dataset import MAP_LICENCES, publishable
from outputs.spreadsheet import spreadsheet_artefact, write_spreadsheet
from tests.outputs.store import test_reader as reader_tests
from transforms.graph import service_graph

GRAPH_TABLES = ("services", "organisations", "activity", "flows", "initiatives")
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (PHS)"


def version_of(tables: dict[str, pd.DataFrame], folder: Path) -> PublishedVersion:
    return PublishedVersion(
        folder=folder, version_id="v0007", map_id="mini", title="Mini map", area_code="S37000001",
        area_name="Mini", population="adults", period_start="2025-04", period_end="2025-05",
        lanes=[LaneStyle("urgent_care", "Urgent care", "#e06666"), LaneStyle("acute", "Acute", "#6fa8dc"),
               LaneStyle("social_care", "Social care", "#93c47d")],
        sector_colours={}, partners={"nhs": "NHS Mini"}, attributions=[ATTRIBUTION],
        licences=[MAP_LICENCES["OGL-UK-3.0"], MAP_LICENCES["CC-BY-SA-4.0"]], tables=tables,
        graph=service_graph(*(tables[t] for t in GRAPH_TABLES), measures=tables["measures"]),
        sources=[{"source_id": "nhs_flows", "partner": "nhs", "kind": "csv", "location": "extracts/flows.csv",
                  "sha256": "ab" * 32, "status": "ok", "licence": "OGL-UK-3.0", "attribution": ATTRIBUTION}],
    )


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    tables = reader_tests.map_tables('=HYPERLINK("http://x","click")')
    tables["services"]["setting"] = pd.Series([None, "ward\x07 7", None], dtype="object")
    return tables


def test_the_workbook_has_a_readme_then_a_sheet_per_table_with_dates_and_numbers(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    path = write_spreadsheet(version_of(tables, tmp_path), tmp_path / "exports" / "map.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["README", *CANONICAL_TABLES, "activity_over_period", "flows_over_period"]
    activity = workbook["activity"]
    expected = columns(CANONICAL_MODELS["activity"])
    expected[1:1] = ["service_name", "lane"]  # readable next to the id
    assert [c.value for c in activity[1]] == expected
    first = {header.value: cell for header, cell in zip(activity[1], activity[2], strict=True)}
    assert first["period_start"].value == datetime(2025, 4, 1) and first["period_start"].is_date
    assert first["value"].value == 1200 and first["value"].data_type == "n"
    assert first["qualifier"].value is None
    flows = workbook["flows"]
    header = [c.value for c in flows[1]]
    assert header[:6] == ["from_service_id", "from_service_name", "from_lane", "to_service_id", "to_service_name",
                          "to_lane"]
    rows = [dict(zip(header, row, strict=True)) for row in flows.iter_rows(min_row=2, values_only=True)]
    assert [row["value"] for row in rows] == [300, 250, None, 20]  # key order
    names = dict(zip(tables["services"]["service_id"], tables["services"]["name"], strict=True))
    lanes = dict(zip(tables["services"]["service_id"], tables["services"]["lane"], strict=True))
    for row in rows:
        assert row["from_service_name"] == names[row["from_service_id"]]
        assert row["to_lane"] == lanes[row["to_service_id"]]
    header = [c.value for c in workbook["services"][1]]
    services = {row[0]: dict(zip(header, row, strict=True))
                for row in workbook["services"].iter_rows(min_row=2, values_only=True)}
    named = workbook["services"]["B2"]
    assert named.value == '=HYPERLINK("http://x","click")' and named.data_type == "s"  # text, not a formula
    assert services[reader_tests.SVC[1]]["setting"] == "ward\ufffd 7"  # a control character XML cannot hold
    assert workbook["initiatives"].max_row == 1  # an empty table keeps its header


def test_a_sheet_sums_each_flow_over_the_period_per_measure(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    workbook = load_workbook(write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx"))
    sheet = workbook["flows_over_period"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    flows = tables["flows"]
    expected = flows.groupby(["from_service_id", "to_service_id", "measure"])["value"].sum(min_count=1)
    assert {(r["from_service_id"], r["to_service_id"], r["measure"]): r["value"] for r in rows} == {
        key: (None if pd.isna(value) else value) for key, value in expected.items()}
    names = dict(zip(tables["services"]["service_id"], tables["services"]["name"], strict=True))
    assert all(r["from_service_name"] == names[r["from_service_id"]] for r in rows)
    assert all(isinstance(r["months"], int) and isinstance(r["suppressed_months"], int) for r in rows)
    by_pair = {(r["from_service_id"], r["to_service_id"]): r for r in rows}
    svc = reader_tests.SVC
    assert by_pair[(svc[0], svc[1])]["display"] == "550" and by_pair[(svc[0], svc[1])]["months"] == 2
    withheld = by_pair[(svc[1], svc[0])]  # its only month suppressed: no figure, never 0
    assert (withheld["value"], withheld["suppressed_months"], withheld["display"]) == (
        None, 1, "suppressed (1 of 1 month)")
    readme = [row for row in workbook["README"].iter_rows(values_only=True) if row[0] == "flows_over_period"]
    assert readme and readme[0][1] == len(rows)


def test_a_sheet_gives_each_service_s_activity_over_the_period_as_its_kind_says(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    svc = reader_tests.SVC
    months = pd.to_datetime(["2025-04-01", "2025-05-01", "2025-04-01", "2025-05-01"])
    tables["activity"] = pd.DataFrame({
        "service_id": [svc[0], svc[0], svc[2], svc[2]], "period_start": months,
        "period_end": months + pd.offsets.MonthEnd(0), "measure": ["attendances", "attendances", "caseload",
                                                                   "caseload"],
        "value": [1200.0, None, 40.0, 50.0], "qualifier": [None, "c", None, None], "source_id": "nhs_activity",
    }).reindex(columns=tables["activity"].columns)
    tables["measures"] = builtin_catalogue().frame(["attendances", "caseload", *tables["flows"]["measure"]])
    workbook = load_workbook(write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx"))
    sheet = workbook["activity_over_period"]
    header = [c.value for c in sheet[1]]
    rows = {(r["service_id"], r["measure"]): r for r in
            (dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True))}
    attendances, caseload = rows[(svc[0], "attendances")], rows[(svc[2], "caseload")]
    assert (attendances["value"], attendances["suppressed_months"]) == (1200, 1)
    assert attendances["display"] == "≥ 1,200 (1 of 2 months suppressed)"  # a count missing a month: at least
    assert (caseload["kind"], caseload["value"], caseload["display"]) == ("stock", 45, "45")  # a stock: the mean


def _as_read(value: object) -> object:
    """A published table's value as a spreadsheet reader gets it back."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value.replace("\x07", "\ufffd") if isinstance(value, str) else value


def test_every_sheet_reads_back_cell_for_cell_as_its_published_table(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    workbook = load_workbook(write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx"))
    services = publishable("services", tables["services"])
    for table in CANONICAL_TABLES:
        frame = spreadsheet.named(table, publishable(table, tables[table]), services)
        rows = [list(row) for row in workbook[table].iter_rows(values_only=True)]
        assert rows[0] == list(frame.columns)
        assert rows[1:] == [[_as_read(v) for v in row] for row in frame.itertuples(index=False, name=None)], table


def test_the_readme_sheet_explains_the_map_its_licences_and_every_column(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    path = write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx")
    rows = [[v for v in row if v is not None] for row in load_workbook(path)["README"].iter_rows(values_only=True)]
    assert rows[0] == ["Mini map"]
    facts = {row[0]: row[1] for row in rows if len(row) == 2}
    assert facts["Version"] == "v0007" and facts["Period"] == "2025-04 to 2025-05"
    assert facts["Open Government Licence v3.0"].startswith("https://www.nationalarchives.gov.uk/")
    assert "Creative Commons Attribution-ShareAlike 4.0" in facts
    assert [ATTRIBUTION] in rows
    described = {(row[0], row[1]): row[-1] for row in rows if len(row) >= 5 and row[0] in CANONICAL_TABLES}
    for table in CANONICAL_TABLES:
        for column in columns(CANONICAL_MODELS[table]):
            assert described.get((table, column)), f"README sheet does not describe {table}.{column}"
    assert ["activity", 2, "activity", "Monthly activity at each service, per measure and source."] in rows


def test_a_table_longer_than_a_sheet_continues_on_more_sheets(
    tables: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_DATA_ROWS", 3)
    path = write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx")
    workbook = load_workbook(path)
    assert [name for name in workbook.sheetnames if name.startswith("flows (") or name == "flows"] == [
        "flows", "flows (2)"]
    assert workbook["flows"].max_row == 4 and workbook["flows (2)"].max_row == 2
    assert workbook["flows (2)"]["A1"].value == "from_service_id"  # every part has its header
    readme = [row for row in workbook["README"].iter_rows(values_only=True) if row[0] == "flows"]
    assert readme[0][:3] == ("flows", 4, "flows, flows (2)")


def test_the_artefact_writes_exports_map_xlsx_and_is_registered(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    assert spreadsheet_artefact in ARTEFACT_WRITERS
    assert spreadsheet_artefact(version_of(tables, tmp_path)) == [tmp_path / "exports" / "map.xlsx"]
    assert load_workbook(tmp_path / "exports" / "map.xlsx", read_only=True).sheetnames[0] == "README"


SOFFICE = shutil.which("soffice")
ALL_SHEETS_AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.mark.office
def test_libreoffice_opens_the_workbook_and_reads_every_sheet_as_published(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    path = write_spreadsheet(version_of(tables, tmp_path), tmp_path / "map.xlsx")
    subprocess.run([str(SOFFICE), "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", ALL_SHEETS_AS_CSV, "--outdir", str(tmp_path / "csv"), str(path)],
                   check=True, capture_output=True, timeout=180)
    services_published = publishable("services", tables["services"])
    for table in CANONICAL_TABLES:
        read = pd.read_csv(tmp_path / "csv" / f"map-{table}.csv", dtype=str, keep_default_na=False)
        frame = spreadsheet.named(table, publishable(table, tables[table]), services_published)
        assert (list(read.columns), len(read)) == (list(frame.columns), len(frame)), table
    services = pd.read_csv(tmp_path / "csv" / "map-services.csv", dtype=str)
    assert '=HYPERLINK("http://x","click")' in services["name"].tolist()  # text in LibreOffice too, not a formula
