"""Bad partner inputs, end to end without a Prefect server: each extract is read by its kind, staged and
consolidated as a refresh does (the flow's task functions, called directly), and each problem must come back as a
record naming the source, file, row and column, with a message that says what to do."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook

from flows.gate import consolidate_sources
from flows.outcomes import SourceOutcome
from flows.stage import extract_source, stage_source
from outputs.store.workarea import read_frame

MAP = """
map_id = "bad-inputs"
title = "Bad inputs"
population = "adults"
[area]
code = "S37000001"
name = "Testshire"
[period]
start = "{start}"
end = "{end}"
[[lanes]]
id = "urgent_care"
label = "Urgent care"
colour = "#e06666"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.nhs]
name = "NHS Testshire"
sector = "nhs"
[partners.council]
name = "Testshire Council"
sector = "local_authority"
[[sources]]
id = "units"
partner = "nhs"
kind = "csv"
location = "units.csv"
table = "services"
columns = { service_key = "code", name = "name", lane = "lane" }
"""
UNITS = "code,name,lane\nED,Emergency Department,urgent_care\nAMU,Acute Medical Unit,acute\n"
ACTIVITY = """
[[sources]]
id = "bad"
partner = "nhs"
kind = "csv"
location = "activity.csv"
table = "activity"
columns = {{ service_key = "unit", period = "month", value = "n"{extra} }}
constants = {{ measure = "attendances" }}
{options}
"""
FLOWS = """
[[sources]]
id = "bad"
partner = "nhs"
kind = "csv"
location = "flows.csv"
table = "flows"
columns = { from_key = "from", to_key = "to", period = "month", value = "n" }
constants = { measure = "referrals" }
"""
SERVICES = """
[[sources]]
id = "bad"
partner = "council"
kind = "csv"
location = "services.csv"
table = "services"
columns = { service_key = "code", name = "name", lane = "lane" }
"""
EXCEL = """
[[sources]]
id = "bad"
partner = "nhs"
kind = "excel"
location = "activity.xlsx"
table = "activity"
columns = {{ service_key = "Unit", period = "Month", value = "Attendances" }}
constants = {{ measure = "attendances" }}
{options}
"""


def activity(extra: str = "", options: str = "") -> str:
    return ACTIVITY.format(extra=extra, options=options)


@dataclass
class Run:
    """One bad source after staging and consolidation: its outcome, its records, and its staged activity."""

    outcome: SourceOutcome
    records: pd.DataFrame
    staged: dict[str, pd.DataFrame] = field(default_factory=dict)

    def record(self, check: str, column: str | None = None) -> pd.Series:
        found = self.records[(self.records["check"] == check)
                             & ((self.records["column"] == column) if column else True)]
        assert len(found) == 1, f"expected one {check} record, found:\n{self.records.to_string()}"
        return found.iloc[0]


def run(tmp_path: Path, source: str, files: dict[str, str | bytes], period: tuple[str, str] = ("2025-04", "2025-06"),
        consolidated: bool = False) -> Run:
    """Write the map and its files, then extract and stage (and with `consolidated`, consolidate with the units
    source) as refresh_map does."""
    (tmp_path / "units.csv").write_text(UNITS)
    for name, content in files.items():
        target = tmp_path / name
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content, encoding="utf-8")
    config = tmp_path / "ism.toml"
    config.write_text(MAP.replace("{start}", period[0]).replace("{end}", period[1]) + source)
    work = str(tmp_path / "work")
    sources = ("units", "bad") if consolidated else ("bad",)
    outcomes = [stage_source(str(config), extract_source(str(config), sid, work), work) for sid in sources]
    records = [read_frame(outcomes[-1].rejects)]
    if consolidated:
        with duckdb.connect(consolidate_sources.fn(str(config), outcomes, work), read_only=True) as con:
            records.append(con.table("consolidation_rejects").df())
    found = pd.concat(records, ignore_index=True)
    staged = {table: read_frame(path) for table, path in outcomes[-1].staged.items()}
    return Run(outcomes[-1], found[found["source_id"] == "bad"].reset_index(drop=True), staged)


def assert_named(record: pd.Series, location: str, row: int, column: str | None) -> None:
    """The record names the source, the file, the row and the column."""
    assert record["source_id"] == "bad"
    assert record["location"] == location
    assert record["row_number"] == row
    assert (None if pd.isna(record["column"]) else record["column"]) == column


def test_empty_file_blocks_the_source(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": ""})
    assert result.outcome.status == "blocked"
    record = result.record("source_unreadable")
    assert_named(record, "activity.csv", 0, None)
    assert "activity.csv: no header at line 1 (the file is empty)" in record["message"]
    assert record["message"].startswith("bad: ")


def test_header_only_blocks_the_source(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n\n"})
    assert result.outcome.status == "blocked"
    record = result.record("source_empty")
    assert_named(record, "activity.csv", 0, None)
    assert record["message"] == "activity.csv has no data rows (a header at most); ask the partner for a complete " \
                                "extract"


def test_missing_required_column_blocks_the_source_and_lists_what_was_found(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,n\nED,5\n"})
    assert result.outcome.status == "blocked"
    record = result.record("missing_column")
    assert_named(record, "activity.csv", 0, "month")
    assert record["message"] == ("column 'month' named in the mapping is not in the header of activity.csv; "
                                 "columns found: unit, n")
    assert result.outcome.error == f"bad: {record['message']}"


def test_unknown_extra_column_is_a_warning_and_the_rows_are_taken(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n,Notes\nED,2025-04,5,x\n"})
    assert result.outcome.status == "warn"
    record = result.record("unknown_column")
    assert_named(record, "activity.csv", 0, "Notes")
    assert record["severity"] == "warn"
    assert "column 'Notes' is not used by the mapping" in record["message"]
    assert result.staged["activity"]["value"].tolist() == [5.0]


def test_wrong_delimiter_says_which_option_to_set(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit;month;n\nED;2025-04;5\n"})
    assert result.outcome.status == "blocked"
    assert set(result.records["column"]) == {"unit", "month", "n"}  # one record per mapped column
    record = result.record("missing_column", "unit")
    assert_named(record, "activity.csv", 0, "unit")
    assert record["message"].endswith("columns found: unit;month;n; the header looks ';'-separated: "
                                      "set options.delimiter = ';'")


def test_utf8_byte_order_mark_is_read_as_utf8(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "\ufeffunit,month,n\nED,2025-04,5\n".encode()})
    assert result.outcome.status == "ok" and result.records.empty
    assert result.staged["activity"][["service_key", "value"]].values.tolist() == [["ED", 5.0]]


def test_windows_1252_bytes_in_a_utf8_source_name_the_line_and_the_option(tmp_path: Path) -> None:
    data = "unit,month,n\nED,2025-04,5\nCafé,2025-04,3\n".encode("cp1252")
    result = run(tmp_path, activity(), {"activity.csv": data})
    assert result.outcome.status == "blocked"
    record = result.record("source_unreadable")
    assert_named(record, "activity.csv", 0, None)
    assert "activity.csv: line 3 (byte 29) is not utf-8-sig text" in record["message"]
    assert 'set options.encoding (for example "cp1252")' in record["message"]


def test_ragged_row_names_its_line_and_the_field_counts(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n\nED,2025-04,5\nAMU,2025-04,3,oops\n"})
    assert result.outcome.status == "blocked"
    record = result.record("source_unreadable")
    assert "activity.csv: line 3 has 4 fields where the header (line 1) has 3" in record["message"]


def test_duplicate_ids_reject_the_later_row(tmp_path: Path) -> None:
    result = run(tmp_path, SERVICES, {"services.csv": "code,name,lane\nCAH,Care at home,acute\nCAH,Again,acute\n"})
    record = result.record("duplicate_key")
    assert_named(record, "services.csv", 3, "code")
    assert (record["value"], record["message"]) == ("CAH", "service_key appears earlier in this extract")
    assert result.staged["services"]["name"].tolist() == ["Care at home"]


def test_flows_to_unknown_services_are_rejected_at_consolidation(tmp_path: Path) -> None:
    result = run(tmp_path, FLOWS, {"flows.csv": "from,to,month,n\nED,AMU,2025-04,5\nED,ZZZ,2025-04,3\n"},
                 consolidated=True)
    record = result.record("unknown_service")
    assert_named(record, "flows.csv", 3, "to_key")
    assert (record["value"], record["message"]) == ("nhs:ZZZ", "flow end names a service no source lists")


def test_negative_counts_are_rejected(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n\nED,2025-04,-5\nAMU,2025-04,2\n"})
    record = result.record("negative_value")
    assert_named(record, "activity.csv", 2, "n")
    assert (record["value"], record["message"]) == ("-5", "count is negative")
    assert result.staged["activity"]["service_key"].tolist() == ["AMU"]


def test_counts_written_as_text(tmp_path: Path) -> None:
    text = "unit,month,n\nED,2025-04,<5\nED,2025-05,*\nED,2025-06,\"1,234\"\nAMU,2025-04,lots\n"
    result = run(tmp_path, activity(), {"activity.csv": text})
    staged = result.staged["activity"]
    assert staged["value"].tolist()[2] == 1234.0
    assert staged["value"].isna().tolist() == [True, True, False]
    assert staged["qualifier"].tolist()[:2] == ["c", "c"]  # suppressed small counts: kept, marked confidential
    record = result.record("not_a_number")
    assert_named(record, "activity.csv", 5, "n")
    assert record["value"] == "lots" and record["message"].startswith("count is not a number under this source's rule")


def test_mixed_date_formats_are_read_and_warned_about(tmp_path: Path) -> None:
    text = "unit,month,n\nED,2025-04,1\nED,01/05/2025,2\nED,June 2025,3\n"
    result = run(tmp_path, activity(), {"activity.csv": text})
    warning = result.record("mixed_date_formats")
    assert_named(warning, "activity.csv", 0, "month")
    assert warning["severity"] == "warn"
    assert warning["message"] == ("column 'month' mixes date formats: YYYY-MM (1 rows, first on row 2), "
                                  "DD/MM/YYYY (1 rows, first on row 3)")
    bad = result.record("bad_period")
    assert_named(bad, "activity.csv", 4, "month")
    assert bad["value"] == "June 2025"
    assert result.staged["activity"]["period_start"].dt.strftime("%Y-%m").tolist() == ["2025-04", "2025-05"]


def test_periods_outside_the_map_period_are_rejected(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n\nED,2024-01,1\nED,2025-04,2\n"})
    record = result.record("outside_map_period")
    assert_named(record, "activity.csv", 2, "month")
    assert (record["value"], record["message"]) == ("2024-01", "period is outside the map period 2025-04 to 2025-06")


def test_the_same_period_twice_rejects_both_rows(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {"activity.csv": "unit,month,n\nED,2025-04,1\nED,202504,2\n"})
    found = result.records[result.records["check"] == "duplicate_period"].sort_values("row_number")
    assert found["row_number"].tolist() == [2, 3] and found["value"].tolist() == ["2025-04", "202504"]
    assert_named(found.iloc[1], "activity.csv", 3, "month")
    assert result.staged["activity"].empty  # neither wins by row order


def test_file_not_found_names_the_file_and_the_key_to_fix(tmp_path: Path) -> None:
    result = run(tmp_path, activity(), {})
    assert result.outcome.status == "blocked"
    record = result.record("source_unreadable")
    assert_named(record, "activity.csv", 0, None)
    assert record["message"].startswith("bad: file not found: ")
    assert "activity.csv (check `location` in the map config" in record["message"]


def workbook(path: Path) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Testshire acute activity, April to June 2025"])
    sheet.append(["Unit", "Month", "Attendances"])
    sheet.append(["ED", "2025-04", 120])
    sheet.append(["AMU", "2025-05", 80])
    book.save(path)
    return path.read_bytes()


def test_excel_title_row_above_the_header(tmp_path: Path) -> None:
    data = workbook(tmp_path / "book.xlsx")
    result = run(tmp_path, EXCEL.format(options=""), {"activity.xlsx": data})
    assert result.outcome.status == "blocked"
    record = result.record("missing_column", "Unit")
    assert_named(record, "activity.xlsx", 0, "Unit")
    assert record["message"].endswith("the first row looks like a title, not a header: set options.header_row to "
                                      "the header's row")

    (tmp_path / "fixed").mkdir()
    fixed = run(tmp_path / "fixed", EXCEL.format(options="options = { header_row = 2 }"), {"activity.xlsx": data})
    assert fixed.outcome.status == "ok"
    assert fixed.staged["activity"][["row_number", "service_key", "value"]].values.tolist() == [
        [3, "ED", 120.0], [4, "AMU", 80.0]]


def test_absurd_outlier_is_reported_and_kept(tmp_path: Path) -> None:
    text = "unit,month,n\nED,2025-04,100\nED,2025-05,110\nED,2025-06,5000\n"
    result = run(tmp_path, activity(), {"activity.csv": text})
    record = result.record("outlier_value")
    assert_named(record, "activity.csv", 4, "n")
    assert record["severity"] == "warn" and record["value"] == "5000"
    assert record["message"] == ("attendances for ED in 2025-06 total 5,000, 45x the usual month (110) in this "
                                 "extract; kept, check it with the partner")
    assert result.staged["activity"]["value"].tolist() == [100.0, 110.0, 5000.0]


def test_trailing_spaces_and_qualifier_codes_are_data(tmp_path: Path) -> None:
    text = "unit ,month,n,QF\nED ,2025-04, 12 ,\nAMU,2025-05,,z \n"
    result = run(tmp_path, activity(extra=', qualifier = "QF"'), {"activity.csv": text})
    assert result.outcome.status == "ok", result.records
    staged = result.staged["activity"]
    assert staged["service_key"].tolist() == ["ED", "AMU"]
    assert staged["value"].tolist()[0] == 12.0 and pd.isna(staged["value"].tolist()[1])
    assert staged["qualifier"].isna().tolist() == [True, False] and staged["qualifier"].tolist()[1] == "z"


def test_real_phs_file_keeps_its_qualifiers_and_trims_its_names(tmp_path: Path, shared_data: Path) -> None:
    for name in ("monthly_ae_waitingtimes_202204.csv", "hospital_site_list.csv"):
        shutil.copyfile(shared_data / "phs" / name, tmp_path / name)
    source = """
[[sources]]
id = "bad"
partner = "nhs"
kind = "phs_ae"
location = "monthly_ae_waitingtimes_202204.csv"
clip_to_map_period = true
options = { site_list = "hospital_site_list.csv", treatment_locations = ["A101H", "A111H"] }
[sources.codes.lane]
"Emergency Department" = "urgent_care"
"Minor Injury Unit or Other" = "urgent_care"
admission_same = "acute"
other_specialty = "acute"
residence = "urgent_care"
transfer = "acute"
unknown = "acute"
"""
    result = run(tmp_path, source, {}, period=("2021-04", "2022-03"))
    assert result.outcome.status == "ok", result.records.head().to_string()
    services, flows = result.staged["services"], result.staged["flows"]
    assert "University Hospital Crosshouse" in services["name"].tolist()
    assert not services["name"].str.endswith(" ").any()
    not_applicable = flows[flows["from_key"] == "A101H"]  # a minor injury unit: no destinations ("z")
    assert len(not_applicable) == 5 * 12
    assert set(not_applicable["qualifier"]) == {"z"} and not_applicable["value"].isna().all()
