"""The map dataset as one Excel workbook (`exports/map.xlsx`) for readers without data tools: a README sheet that
explains the map and every column, then one sheet per table with real dates and numbers."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from expectations.canonical import CANONICAL_TABLES, QUALIFIERS
from outputs.context import PublishedVersion
from outputs.dataset import (
    SCHEMA_VERSION,
    TABLE_DESCRIPTIONS,
    field_constraints,
    field_description,
    field_type,
    field_unit,
    publishable,
)

MAX_DATA_ROWS = 1_048_575  # Excel's row limit less the header row: a longer table continues on another sheet
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def _text(value: str) -> str:
    # characters XML cannot carry (control codes) are shown as U+FFFD rather than failing the whole workbook
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def _cell(sheet: WriteOnlyWorksheet, value: Any, font: Font | None = None) -> Any:
    """A cell value for a write-only sheet: numbers as numbers, dates as dates, text never a formula."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, str):
        value = _text(value)
        if value.startswith("=") or font is not None:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # a leading "=" would make openpyxl write a formula
            if font is not None:
                cell.font = font
            return cell
        return value
    if font is not None:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = font
        return cell
    return value


def _table_rows(frame: pd.DataFrame, sheet: WriteOnlyWorksheet) -> Iterator[list[Any]]:
    for row in frame.itertuples(index=False, name=None):
        yield [_cell(sheet, value) for value in row]


def sheet_names(table: str, rows: int) -> list[str]:
    """The sheets a table fills: its name, then "<name> (2)", ... past Excel's row limit."""
    parts = max(1, math.ceil(rows / MAX_DATA_ROWS))
    return [table if part == 0 else f"{table} ({part + 1})" for part in range(parts)]


def _write_table(workbook: Workbook, table: str, frame: pd.DataFrame) -> None:
    for part, name in enumerate(sheet_names(table, len(frame))):
        sheet = workbook.create_sheet(name)
        chunk = frame.iloc[part * MAX_DATA_ROWS:(part + 1) * MAX_DATA_ROWS]
        for index, column in enumerate(frame.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(48, len(column) + 4))
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(chunk) + 1}"
        sheet.append([_cell(sheet, column, BOLD) for column in frame.columns])
        for row in _table_rows(chunk, sheet):
            sheet.append(row)


def readme_rows(version: PublishedVersion, row_counts: dict[str, int]) -> list[list[Any]]:
    """The README sheet's rows: what the map is, its licences and sources, and every table and column."""
    rows: list[list[Any]] = [
        [version.title],
        ["An Interconnected Systems Map dataset: it describes the system; it does not forecast or recommend."],
        [],
        ["Map", version.map_id],
        ["Version", version.version_id],
        ["Schema version", SCHEMA_VERSION],
        ["Area", version.area_label],
        ["Population", version.population],
        ["Period", version.period_label],
        ["Partners", ", ".join(version.partners.values())],
        [],
        ["Licences"],
        *[[licence.get("title") or licence.get("name"), licence.get("path")] for licence in version.licences],
        [],
        ["Attributions"],
        *[[attribution] for attribution in version.attributions],
        [],
        ["Sources", "partner", "kind", "location", "sha256", "status", "licence", "attribution"],
        *[[s["source_id"], s.get("partner"), s.get("kind"), s.get("location"), s.get("sha256"), s.get("status"),
           s.get("licence"), s.get("attribution")] for s in version.sources],
        [],
        ["How to read it: one sheet per table; dates are dates, counts are numbers, an empty cell is a missing "
         "value (see qualifier); lists are joined with ';'. Ids (service_id, organisation_id) are stable across "
         "versions."],
        [],
        ["Tables", "rows", "sheets", "description"],
        *[[table, row_counts[table], ", ".join(sheet_names(table, row_counts[table])), TABLE_DESCRIPTIONS[table]]
          for table in CANONICAL_TABLES],
        [],
        ["Qualifier codes", "meaning"],
        *[[code, meaning] for code, meaning in QUALIFIERS.items()],
        [],
        ["Columns: table", "column", "type", "required", "unit", "allowed values", "description"],
    ]
    for table in CANONICAL_TABLES:
        for column in publishable(table, version.tables[table].head(0)).columns:
            constraints = field_constraints(table, column, [lane.id for lane in version.lanes])
            rows.append([table, column, field_type(table, column), "yes" if constraints.get("required") else "no",
                         field_unit(table, column), ", ".join(map(str, constraints.get("enum", []))) or None,
                         field_description(table, column)])
    return rows


HEADINGS = {"Licences", "Attributions", "Sources", "Tables", "Qualifier codes", "Columns: table"}


def _write_readme(workbook: Workbook, rows: Sequence[list[Any]]) -> None:
    sheet = workbook.create_sheet("README")
    for letter, width in zip("ABCDEFGH", (28, 30, 14, 40, 20, 30, 60, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    for number, row in enumerate(rows):
        font = TITLE if number == 0 else (BOLD if row and row[0] in HEADINGS else None)
        sheet.append([_cell(sheet, value, font) for value in row])


def write_spreadsheet(version: PublishedVersion, path: Path) -> Path:
    """The workbook: README first, then a sheet per table in contract order (rows written as they stream)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = {table: publishable(table, version.tables[table]) for table in CANONICAL_TABLES}
    workbook = Workbook(write_only=True)
    _write_readme(workbook, readme_rows(version, {table: len(frame) for table, frame in frames.items()}))
    for table, frame in frames.items():
        _write_table(workbook, table, frame)
    workbook.save(path)
    return path


def spreadsheet_artefact(version: PublishedVersion) -> list[Path]:
    """`exports/map.xlsx`: the dataset for spreadsheet readers."""
    return [write_spreadsheet(version, version.folder / "exports" / "map.xlsx")]

