"""Profiles of small literal extracts: encodings, delimiters, headers below titles, JSON records, column types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from expectations.errors import SourceError
from sources.profile import column_profile, column_type, profiled_folder


def test_column_types_allow_suppression_marks_in_counts_but_not_codes() -> None:
    assert column_type(["2025-04", "202605", ""]) == "month"
    assert column_type(["2025-04-01", "30/04/2025", "1/5/2025", "20250601"]) == "date"
    assert column_type(["20251301", "20250601"]) == "integer"  # no month 13: a number, not a day
    assert column_type(["2025-0401"]) == "text"
    assert column_type(["2025-04-01 16:00", "2025-04-02T08:30:00"]) == "date"  # a time of day: its day
    assert column_type(["1", "2", "12"]) == "integer"
    assert column_type(["1.5"] * 9 + ["c"]) == "number"
    assert column_type(["79101"] * 9 + ["OOH"]) == "text"
    assert column_type(["", " "[:0]]) == "empty"


def test_a_cp1252_semicolon_file_is_profiled_with_its_options(tmp_path: Path) -> None:
    (tmp_path / "gp").mkdir()
    (tmp_path / "gp" / "practices.csv").write_bytes("Code;Name;Month;Patients\n"
                                                     "P1;Brae Médical;2025-04;10\nP2;Riverside;2025-05;12\n"
                                                     "P3;Kinloch;2025-06;7\n".encode("cp1252"))
    [profile] = profiled_folder(tmp_path)
    assert profile.location == Path("gp/practices.csv") and profile.kind == "csv" and profile.rows == 3
    assert profile.options == {"encoding": "cp1252", "delimiter": ";"}
    assert [c.type for c in profile.columns] == ["text", "text", "month", "integer"]
    assert profile.candidate_keys == ["Code", "Name"] and profile.measures == ["Patients"]
    month = profile.periods[0]
    assert (month.name, month.minimum, month.maximum) == ("Month", "2025-04", "2025-06")


def test_a_workbook_sheet_under_a_title_and_json_records_are_found(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Teams"
    sheet.append(["Community teams, S37900001"])
    sheet.append([])
    sheet.append(["Team Code", "Team Name", "Count"])
    sheet.append(["T1", "District nursing", 4])
    sheet.append(["T2", "Rehab", 5])
    book.save(tmp_path / "teams.xlsx")
    (tmp_path / "returns.json").write_text(json.dumps(
        {"meta": {"area": "S37900002"}, "data": {"rows": [{"id": "A", "n": 1}, {"id": "B", "n": None}]}}))
    excel, records = profiled_folder(tmp_path)[::-1]
    assert excel.options == {"sheet": "Teams", "header_row": 3} and excel.rows == 2
    assert [c.name for c in excel.columns] == ["Team Code", "Team Name", "Count"]
    assert excel.area_codes == ("S37900001",)
    assert records.options == {"records_path": "data.rows"} and records.rows == 2
    assert records.columns[1].blanks == 1 and records.area_codes == ("S37900002",)


def test_an_hsds_folder_is_one_table_and_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "hsds").mkdir()
    (tmp_path / "hsds" / "datapackage.json").write_text("{}")
    (tmp_path / "hsds" / "services.csv").write_text("id,name\n1,x\n")
    [profile] = profiled_folder(tmp_path)
    assert (profile.kind, profile.location) == ("hsds", Path("hsds"))
    with pytest.raises(SourceError, match="not a folder"):
        profiled_folder(tmp_path / "hsds" / "services.csv")


def test_periods_as_published_quarters_financial_years_weeks_and_days_with_their_bounds() -> None:
    """The periods the mapping reads (transforms/standardise.py) are periods here too, each with its first and
    last day, so that `ism init` can offer them as a source's period and the map's."""
    quarter = column_profile("Quarter", ["2022Q3", "2017Q3", "2022Q4"])
    assert (quarter.type, quarter.minimum, quarter.maximum) == ("quarter", "2017-07-01", "2022-12-31")
    year = column_profile("FinancialYear", ["2021/22", "2019/20"])
    assert (year.type, year.minimum, year.maximum) == ("financial_year", "2019-04-01", "2022-03-31")
    assert column_type(["2021/23"]) == "text"  # not one year's span
    week = column_profile("Week", ["2022-W05"])
    assert (week.type, week.minimum, week.maximum) == ("week", "2022-01-31", "2022-02-06")
    day = column_profile("WeekEndingDate", ["20220410", "20220403"])
    assert (day.type, day.minimum, day.maximum) == ("date", "2022-04-03", "2022-04-10")


def test_listed_values_totals_qualifiers_and_repeats(tmp_path: Path) -> None:
    """A column of few values lists them; a total among them ("All ...") is found, the one naming the column
    first; PHS's `<column>QF` pairs are known; `splitting` says which columns repeat rows among those kept."""
    (tmp_path / "beds.csv").write_text(
        "Quarter,Location,SpecialtyName,Beds,BedsQF\n"
        "2022Q1,A1,All Acute,5,\n2022Q1,A1,All Specialties,9,\n2022Q1,A1,Surgery,4,\n"
        "2022Q1,B2,All Specialties,7,\n2022Q2,A1,All Specialties,8,p\n")
    [profile] = profiled_folder(tmp_path)
    specialty = next(c for c in profile.columns if c.name == "SpecialtyName")
    assert specialty.values == ("All Acute", "All Specialties", "Surgery") and specialty.total == "All Specialties"
    assert profile.qualifiers == {"Beds": "BedsQF"} and profile.measures == ["Beds"]
    assert [c.name for c in profile.periods] == ["Quarter"]
    assert profile.splitting(["Location", "Quarter"], ["SpecialtyName", "Beds"]) == ["SpecialtyName", "Beds"]
    kept = {"SpecialtyName": "All Specialties"}  # the total rows: one per location and quarter
    assert profile.splitting(["Location", "Quarter"], ["SpecialtyName", "Beds"], kept) == []
    wide = column_profile("Code", [f"C{n}" for n in range(40)])
    assert wide.values == () and wide.distinct == 40  # too many to list
