"""A fast writer of .xlsx workbooks made of tables. It writes the parts and cell XML openpyxl's write-only mode
writes (inline strings, dates as serial numbers with a date format, numbers as `%.16g`, text that is never a
formula), but builds a sheet's XML column by column from each column's distinct values: openpyxl's cell-by-cell
writing was most of the publish phase on large maps."""

from __future__ import annotations

import math
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.compat.numbers import NUMERIC_TYPES
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.writer.theme import theme_xml

PLAIN, TITLE, BOLD = 0, 1, 2  # the cell styles a caller may ask for: plain, a title (bold, 14 pt), bold
DATE, DATETIME = 3, 4  # given to dates and date-times
MAX_TEXT = 32_767  # Excel's longest cell text; openpyxl cuts longer text here too
ROWS_PER_CHUNK = 50_000  # rows of a frame turned into XML at once: bounds the memory a large sheet takes
# Characters XML cannot carry: openpyxl's control codes, and surrogates and U+FFFE/U+FFFF, which lxml refuses.
XML_FORBIDDEN = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|[\ud800-\udfff\ufffe\uffff]")
INVALID_SHEET_NAME = re.compile(r"[\\*?:/\[\]]")

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts><fonts count="3"><font><name val="Calibri"/>'
    '<family val="2"/><color theme="1"/><sz val="11"/><scheme val="minor"/></font><font><b val="1"/><sz val="14"/>'
    '</font><font><b val="1"/></font></fonts><fills count="2"><fill><patternFill/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
    '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="5">'
    + "".join(f'<xf numFmtId="{number_format}" fontId="{font}" fillId="0" borderId="0" pivotButton="0" '
              f'quotePrefix="0" xfId="0"/>' for number_format, font in ((0, 0), (0, 1), (0, 2), (164, 0), (165, 0)))
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" hidden="0"/></cellStyles>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
    "</styleSheet>"
)
SHEET_END = '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>'


def _escaped(text: str) -> str:
    """Text as element content, in ASCII (as openpyxl's lxml writes it: other characters as references)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _number(value: Any) -> str:
    return "" if math.isnan(value) or math.isinf(value) else format(float(value), ".16g")  # as openpyxl: "%.16g"


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def cell_tail(value: Any, style: int = PLAIN) -> str | None:
    """The XML of one cell after `<c r="A1`: style, type and content; None for a missing value (no cell).
    Numbers stay numbers, dates dates; text is always text, even when it starts with `=`."""
    if _missing(value):
        return None
    styled = f' s="{style}"' if style else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        text = XML_FORBIDDEN.sub("\ufffd", value)[:MAX_TEXT]  # shown as U+FFFD rather than failing the workbook
        if not text:
            return f'"{styled} t="inlineStr"></c>'
        if not style and text in ERROR_CODES:  # what openpyxl makes of "#N/A" and its kind: an error value
            return f'"{styled} t="e"><v>{_escaped(text)}</v></c>'
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'"{styled} t="inlineStr"><is><t{space}>{_escaped(text)}</t></is></c>'
    if isinstance(value, bool | np.bool_):
        return f'"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, pd.Timestamp):
        value = value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, date):
        if style:
            raise ValueError(f"spreadsheet cell {value!r}: a date cannot take the style {style}")
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise ValueError(f"spreadsheet cell {value!r}: Excel has no time zones; convert it to naive local time")
        kind = DATETIME if isinstance(value, datetime) else DATE
        return f'" s="{kind}" t="n"><v>{_number(to_excel(value))}</v></c>'
    if isinstance(value, NUMERIC_TYPES):
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)  # -0.0 as 0, as the spreadsheet always wrote it
        return f'"{styled} t="n"><v>{_number(value)}</v></c>'
    raise ValueError(f"spreadsheet cell {value!r}: a {type(value).__name__} cannot be written; use text, a number "
                     "or a date")


def row_xml(number: int, values: Sequence[Any], style: int = PLAIN) -> str:
    """One row written value by value (for short rows: headers, notes)."""
    cells = []
    for index, value in enumerate(values, start=1):
        tail = cell_tail(value, style)
        if tail is not None:
            cells.append(f'<c r="{get_column_letter(index)}{number}{tail}')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _column_cells(values: pd.Series, letter: str, numbers: np.ndarray) -> np.ndarray:
    """The XML of each cell of one column, "" where the value is missing. Each distinct value is turned into XML
    once; `numbers` are the rows' numbers as text."""
    codes, uniques = pd.factorize(values)
    tails = np.array([cell_tail(value) for value in uniques.tolist()] + [""], dtype=object)  # code -1: missing
    cells = f'<c r="{letter}' + numbers + tails[codes]
    cells[codes < 0] = ""
    return cells


def _distinct_is_safe(values: pd.Series) -> bool:
    """Whether equal values of the column always make the same cell (True == 1 == 1.0 would not)."""
    if values.dtype != object:
        return True
    return pd.api.types.infer_dtype(values, skipna=True) in {
        "string", "empty", "floating", "integer", "mixed-integer-float", "decimal", "date", "boolean"}


def frame_rows_xml(frame: pd.DataFrame, first_row: int = 2) -> Iterator[str]:
    """The rows of a frame as sheet XML, in chunks, numbered from `first_row`."""
    letters = [get_column_letter(index) for index in range(1, len(frame.columns) + 1)]
    for start in range(0, len(frame), ROWS_PER_CHUNK):
        chunk = frame.iloc[start:start + ROWS_PER_CHUNK]
        numbers = np.arange(first_row + start, first_row + start + len(chunk)).astype(str).astype(object)
        columns = []
        for letter, (_, values) in zip(letters, chunk.items(), strict=True):
            if _distinct_is_safe(values):
                columns.append(_column_cells(values, letter, numbers))
            else:
                tails = [cell_tail(value) for value in values.tolist()]
                columns.append(np.array([f'<c r="{letter}{n}{tail}' if tail is not None else ""
                                         for n, tail in zip(numbers, tails, strict=True)], dtype=object))
        starts = '<row r="' + numbers + '">'
        yield "".join(map("".join, zip(starts, *columns, repeat("</row>"), strict=False)))


def _sheet_start(widths: Sequence[float], freeze_header: bool) -> str:
    if freeze_header:
        view = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/>')
    else:
        view = '<selection activeCell="A1" sqref="A1"/>'
    columns = "".join(f'<col width="{_number(width)}" customWidth="1" min="{index}" max="{index}"/>'
                      for index, width in enumerate(widths, start=1))
    columns = f"<cols>{columns}</cols>" if columns else ""
    return (f'<worksheet xmlns="{MAIN_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/>'
            f'</sheetPr><sheetViews><sheetView workbookViewId="0">{view}</sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>{columns}<sheetData>')


def _absolute(reference: str) -> str:
    """A1:H52 -> $A$1:$H$52."""
    return ":".join(re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", part) for part in reference.split(":"))


class XlsxWriter:
    """A workbook written sheet by sheet to `path` (a ZIP of XML parts); use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.sheets: list[tuple[str, str | None]] = []  # name, auto filter range
        self._folder = tempfile.TemporaryDirectory(prefix=".xlsx-", dir=path.parent)
        # level 1: a national map's sheets compress 4x faster than at the default level, ~20 % larger
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1)

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if error is None:
                self._finish()
        finally:
            self._zip.close()
            self._folder.cleanup()
        if error is not None:
            self.path.unlink(missing_ok=True)

    def add_sheet(self, name: str, rows: Iterable[str], widths: Sequence[float] = (), freeze_header: bool = False,
                  auto_filter: str | None = None) -> None:
        """A sheet of rows (row XML, e.g. from `row_xml` and `frame_rows_xml`), its column widths, the header row
        frozen or not, and an auto filter over a range such as A1:H52."""
        if not name or len(name) > 31 or INVALID_SHEET_NAME.search(name) or name in {n for n, _ in self.sheets}:
            raise ValueError(f"sheet name {name!r}: use 1-31 characters, none of \\*?:/[], not used before")
        self.sheets.append((name, auto_filter))
        part = Path(self._folder.name) / f"sheet{len(self.sheets)}.xml"
        with part.open("w", encoding="ascii") as out:  # on disk first: the ZIP entry then knows its size
            out.write(_sheet_start(widths, freeze_header))
            for chunk in rows:
                out.write(chunk)
            out.write("</sheetData>" + (f'<autoFilter ref="{auto_filter}"/>' if auto_filter else "") + SHEET_END)
        self._zip.write(part, f"xl/worksheets/sheet{len(self.sheets)}.xml")
        part.unlink()

    def _finish(self) -> None:
        count = len(self.sheets)
        self._zip.writestr("docProps/app.xml", '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                           '2006/extended-properties"><Application>ism</Application></Properties>')
        self._zip.writestr("docProps/core.xml", (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
            '<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">ism</dc:creator>'
            + "".join(f'<dcterms:{tag} xmlns:dcterms="http://purl.org/dc/terms/" '
                      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF">'
                      f"{self.created}</dcterms:{tag}>" for tag in ("created", "modified"))
            + "</cp:coreProperties>"))
        self._zip.writestr("xl/theme/theme1.xml", theme_xml)
        self._zip.writestr("xl/styles.xml", STYLES)
        self._zip.writestr("_rels/.rels", (
            f'<Relationships xmlns="{PACKAGE_REL_NS}">'
            f'<Relationship Type="{REL_NS}/officeDocument" Target="xl/workbook.xml" Id="rId1"/>'
            f'<Relationship Type="{PACKAGE_REL_NS}/metadata/core-properties" Target="docProps/core.xml" Id="rId2"/>'
            f'<Relationship Type="{REL_NS}/extended-properties" Target="docProps/app.xml" Id="rId3"/>'
            "</Relationships>"))
        sheets = "".join(f'<sheet xmlns:r="{REL_NS}" name={quoteattr(name)} sheetId="{index}" state="visible" '
                         f'r:id="rId{index}"/>' for index, (name, _) in enumerate(self.sheets, start=1))
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
            f"{_escape_text(quote_name(name))}!{_absolute(ref)}</definedName>"
            for index, (name, ref) in enumerate(self.sheets) if ref)
        self._zip.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN_NS}"><workbookPr/><workbookProtection/><bookViews><workbookView '
            'visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" showSheetTabs="1" '
            'tabRatio="600" firstSheet="0" activeTab="0" autoFilterDateGrouping="1"/></bookViews>'
            f'<sheets>{sheets}</sheets>{"<definedNames>" + filters + "</definedNames>" if filters else ""}'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'))
        relations = "".join(f'<Relationship Type="{REL_NS}/worksheet" Target="/xl/worksheets/sheet{index}.xml" '
                            f'Id="rId{index}"/>' for index in range(1, count + 1))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{PACKAGE_REL_NS}">{relations}'
            f'<Relationship Type="{REL_NS}/styles" Target="styles.xml" Id="rId{count + 1}"/>'
            f'<Relationship Type="{REL_NS}/theme" Target="theme/theme1.xml" Id="rId{count + 2}"/></Relationships>'))
        office = "application/vnd.openxmlformats-officedocument"
        overrides = [("/xl/styles.xml", f"{office}.spreadsheetml.styles+xml"),
                     ("/xl/theme/theme1.xml", f"{office}.theme+xml"),
                     ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                     ("/docProps/app.xml", f"{office}.extended-properties+xml"),
                     *((f"/xl/worksheets/sheet{index}.xml", SHEET_TYPE) for index in range(1, count + 1)),
                     ("/xl/workbook.xml", f"{office}.spreadsheetml.sheet.main+xml")]
        self._zip.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
            + "</Types>"))


def quote_name(name: str) -> str:
    """A sheet name as a formula reference writes it: 'name', inner quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
