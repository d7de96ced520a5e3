"""The fast .xlsx writer: a sheet's XML is what openpyxl's write-only mode writes for the same values, byte for
byte, however the rows are chunked; what openpyxl cannot write is refused or shown as U+FFFD."""

from __future__ import annotations

import math
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from outputs import xlsx
from outputs.xlsx import BOLD, TITLE, XlsxWriter, frame_rows_xml, row_xml

WIDTHS = [12, 20, 30, 14, 14, 14, 16, 12]


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": ["plain", '=HYPERLINK("http://x","click")', "#N/A", "  padded ", "a&b<c>\"d'", "line\r\nbreak",
                 "bell\x07", "é ü 😀 \u2028", "x" * 40_000, "", None],
        "number": [1.0, 2.5, -0.0, 1e20, float("nan"), float("inf"), 1 / 3, -7.0, 2.0**53, 0.1, None],
        "count": pd.Series([1, 2, None, 4, 5, 6, 7, 8, 9, 10, 11], dtype="Int64"),
        "day": [date(2025, 4, 1), None, date(2025, 5, 31), date(1900, 1, 2), *[date(2026, 3, 1)] * 7],
        "moment": pd.to_datetime(["2025-04-01", "2025-04-01 12:30", None, *["2025-05-02 06:00:01"] * 8],
                                 format="ISO8601"),
        "flag": [True, False] * 5 + [True],
        "mixed": ["1", 1, True, 2.0, "x", None, 0, "=1", date(2025, 1, 1), 1.5, False],
        "words": pd.Series(["a", "b", None, "a", "#REF!", "b", "a", "c", "a", "b", "a"], dtype="str"),
    })


def _openpyxl_value(sheet: Any, value: Any, font: Font | None = None) -> Any:
    """A value as the spreadsheet export handed it to openpyxl before it had its own writer."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith("=") or font is not None:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            if font is not None:
                cell.font = font
            return cell
    return value


def openpyxl_sheet(frame: pd.DataFrame, path: Path) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("table")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A2:H{len(frame) + 2}"
    sheet.append([_openpyxl_value(sheet, "A title", Font(bold=True, size=14))])  # style 1, as in the README
    sheet.append([_openpyxl_value(sheet, column, Font(bold=True)) for column in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_openpyxl_value(sheet, value) for value in row])
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def fast_sheet(frame: pd.DataFrame, path: Path) -> bytes:
    with XlsxWriter(path) as workbook:
        rows = [row_xml(1, ["A title"], TITLE), row_xml(2, list(frame.columns), BOLD),
                *frame_rows_xml(frame, first_row=3)]
        workbook.add_sheet("table", rows, WIDTHS, freeze_header=True, auto_filter=f"A2:H{len(frame) + 2}")
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_a_sheet_is_byte_for_byte_what_openpyxl_writes(tmp_path: Path) -> None:
    frame = hostile_frame()
    assert fast_sheet(frame, tmp_path / "fast.xlsx") == openpyxl_sheet(frame, tmp_path / "openpyxl.xlsx")


def test_chunked_rows_make_the_same_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = hostile_frame()
    whole = fast_sheet(frame, tmp_path / "whole.xlsx")
    monkeypatch.setattr(xlsx, "ROWS_PER_CHUNK", 3)
    assert fast_sheet(frame, tmp_path / "chunked.xlsx") == whole


def test_the_workbook_reads_back_with_types_styles_and_the_filter(tmp_path: Path) -> None:
    frame = hostile_frame()
    fast_sheet(frame, tmp_path / "fast.xlsx")
    sheet = load_workbook(tmp_path / "fast.xlsx")["table"]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14 and sheet["A2"].font.b and not sheet["A3"].font.b
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A2:H13"
    assert sheet.column_dimensions["C"].width == 30
    assert sheet["A4"].value == '=HYPERLINK("http://x","click")' and sheet["A4"].data_type == "s"
    assert sheet["A10"].value == "é ü 😀 \u2028" and sheet["A9"].value == "bell\ufffd"
    assert len(sheet["A11"].value) == 32_767
    assert sheet["B5"].value == 0 and sheet["B6"].value == 1e20 and sheet["B7"].value is None
    assert sheet["D3"].is_date and sheet["D3"].value == datetime(2025, 4, 1)
    assert sheet["D3"].number_format == "yyyy-mm-dd"
    assert sheet["E4"].value == datetime(2025, 4, 1, 12, 30) and sheet["E4"].number_format == "yyyy-mm-dd h:mm:ss"
    assert sheet["F3"].value is True and sheet["G5"].value is True and sheet["G4"].value == 1


def test_text_xml_cannot_carry_is_shown_as_replacement_characters(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": pd.Series(["half \ud800 pair", "not \ufffe a character"], dtype=object)})
    fast_sheet(frame, tmp_path / "fast.xlsx")
    sheet = load_workbook(tmp_path / "fast.xlsx")["table"]
    assert [sheet["A3"].value, sheet["A4"].value] == ["half \ufffd pair", "not \ufffd a character"]


def test_values_and_names_a_workbook_cannot_hold_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a list cannot be written"):
        list(frame_rows_xml(pd.DataFrame({"x": [[1, 2]]})))
    with pytest.raises(ValueError, match="no time zones"):
        row_xml(1, [pd.Timestamp("2025-04-01 10:00", tz="UTC")])
    with pytest.raises(ValueError, match="sheet name 'a/b'"), XlsxWriter(tmp_path / "bad.xlsx") as workbook:
        workbook.add_sheet("a/b", [])
    assert not (tmp_path / "bad.xlsx").exists()  # a failed workbook leaves no half-written file
