"""Profiles of a folder of partner extracts, for writing a first map config: each table's encoding, delimiter,
header, columns with inferred types, candidate keys, periods and likely measures. Reads files; judges nothing."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from expectations.errors import SourceError

ENCODINGS = ("utf-8-sig", "cp1252")  # cp1252 decodes any byte, so it is the last resort
DELIMITERS = ",;\t|"
TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".json": "json"}
HSDS_MARKER = "datapackage.json"
MAX_PROFILED_ROWS = 100_000  # enough to judge types and keys; a profile is a suggestion, not a check
EXAMPLES = 3

MONTH = re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$")
DAY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})$|^(\d{2})/(\d{2})/(\d{4})$")
INTEGER = re.compile(r"^-?\d+$")
NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
KEY_WORDS = re.compile(r"(code|key|id|ref)\b|(code|key|id|ref)$", re.IGNORECASE)
SUPPRESSED = re.compile(r"^(c|x|z|\*|-|\.\.|:|<\d+)$", re.IGNORECASE)
AREA_CODE = re.compile(r"\bS37\d{6}\b")  # a Scottish Health and Social Care Partnership


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its inferred type (integer, number, month, date, text or empty), distinct and blank counts and
    a few example values."""

    name: str
    type: str
    distinct: int
    blanks: int
    examples: tuple[str, ...]
    minimum: str | None = None  # for months and dates: the first and last seen
    maximum: str | None = None


@dataclass(frozen=True)
class TableProfile:
    """One table in a file (a CSV, a sheet of a workbook, a list of records in a JSON document, or an HSDS folder)
    and how to read it."""

    location: Path  # relative to the profiled folder
    kind: str  # a source kind: csv, excel, json or hsds
    rows: int
    columns: tuple[ColumnProfile, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # what the kind needs to read it (encoding, sheet, ...)
    truncated: bool = False  # only the first MAX_PROFILED_ROWS rows were profiled
    area_codes: tuple[str, ...] = ()  # HSCP codes (S37...) seen anywhere in the file

    @property
    def candidate_keys(self) -> list[str]:
        """Columns with a value in every row and no value twice: what could name a service."""
        return [c.name for c in self.columns if self.rows and c.blanks == 0 and c.distinct == self.rows
                and (c.type == "text" or (c.type == "integer" and KEY_WORDS.search(c.name)))]

    @property
    def periods(self) -> list[ColumnProfile]:
        """Columns holding months or dates."""
        return [c for c in self.columns if c.type in ("month", "date")]

    @property
    def measures(self) -> list[str]:
        """Numeric columns that are not keys: likely counts such as admissions or referrals."""
        keys = set(self.candidate_keys)
        return [c.name for c in self.columns if c.type in ("integer", "number") and c.name not in keys]


def column_type(values: Sequence[str]) -> str:
    """The narrowest type every non-blank value fits."""
    filled = [v for v in values if v]
    if not filled:
        return "empty"
    for name, pattern in (("month", MONTH), ("date", DAY), ("integer", INTEGER), ("number", NUMBER)):
        if all(pattern.match(v) for v in filled):
            return name
    # counts with a few suppression marks ("c", "*", "<5") are still counts
    other = [v for v in filled if not NUMBER.match(v)]
    return "number" if len(other) <= 0.1 * len(filled) and all(SUPPRESSED.match(v) for v in other) else "text"


def column_profile(name: str, values: Sequence[str]) -> ColumnProfile:
    """The profile of one column's values (as text, trimmed)."""
    cleaned = [v.strip() for v in values]
    filled = [v for v in cleaned if v]
    kind = column_type(cleaned)
    examples = tuple(dict.fromkeys(filled))[:EXAMPLES]
    ordered = sorted(_sortable(v) for v in filled) if kind in ("month", "date") else []
    return ColumnProfile(name, kind, len(set(filled)), len(cleaned) - len(filled), examples,
                         ordered[0] if ordered else None, ordered[-1] if ordered else None)


def _sortable(value: str) -> str:
    """A month or date as YYYY-MM(-DD), so that they sort in time order."""
    month = MONTH.match(value)
    if month:
        return f"{month.group(1)}-{month.group(2)}"
    day = DAY.match(value)
    assert day is not None
    return value if day.group(1) else f"{day.group(6)}-{day.group(5)}-{day.group(4)}"


def table_profile(location: Path, kind: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
                  options: dict[str, Any], truncated: bool = False) -> TableProfile:
    """The profile of a table read as a header and rows of cells."""
    text_rows = [[_cell_text(cell) for cell in row] for row in rows]
    columns = tuple(column_profile(str(name), [row[i] if i < len(row) else "" for row in text_rows])
                    for i, name in enumerate(header))
    return TableProfile(location, kind, len(text_rows), columns, options, truncated)


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    return cell.isoformat() if isinstance(cell, date) else str(cell)


def _area_codes(text: str) -> tuple[str, ...]:
    return tuple(sorted(set(AREA_CODE.findall(text))))


def decoded(path: Path) -> tuple[str, str]:
    """The file's text and the first encoding in ENCODINGS that decodes it."""
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise SourceError(f"{path}: not text in any of {', '.join(ENCODINGS)}")  # unreachable: cp1252 decodes all


def csv_profile(path: Path, relative: Path) -> TableProfile:
    """A delimited text file: its encoding, delimiter and columns."""
    text, encoding = decoded(path)
    sample = "\n".join(text.splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix == ".tsv" else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = next(reader, [])
    if not header:
        raise SourceError(f"{path}: empty file, nothing to profile")
    rows = [row for _, row in zip(range(MAX_PROFILED_ROWS), reader, strict=False) if any(c.strip() for c in row)]
    truncated = next(reader, None) is not None
    options: dict[str, Any] = {}
    if encoding != "utf-8-sig":
        options["encoding"] = encoding
    if delimiter != ",":
        options["delimiter"] = delimiter
    profile = table_profile(relative, "csv", [h.strip() for h in header], rows, options, truncated)
    return replace(profile, area_codes=_area_codes(text))


def excel_profiles(path: Path, relative: Path) -> Iterator[TableProfile]:
    """One profile per sheet of a workbook; the header is the first of the top rows with the most cells filled
    (titles and blank rows above a table are skipped)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for a file that is not a workbook
        raise SourceError(f"{path}: not a readable .xlsx workbook ({error})") from None
    try:
        for sheet in workbook.worksheets:
            cells = [list(row) for _, row in zip(range(MAX_PROFILED_ROWS + 20), sheet.iter_rows(values_only=True),
                                                 strict=False)]
            counts = [sum(c is not None and str(c).strip() != "" for c in row) for row in cells[:20]]
            if not counts or max(counts) == 0:
                continue
            header_at = counts.index(max(counts))
            width = max(i + 1 for i, c in enumerate(cells[header_at]) if c is not None)
            header = [str(c).strip() if c is not None else f"column_{i + 1}" for i, c in
                      enumerate(cells[header_at][:width])]
            body = [row[:width] for row in cells[header_at + 1:] if any(c is not None for c in row)]
            options = {"sheet": sheet.title, "header_row": header_at + 1}
            profile = table_profile(relative, "excel", header, body, options)
            yield replace(profile, area_codes=_area_codes(" ".join(_cell_text(c) for row in cells for c in row)))
    finally:
        workbook.close()


def _record_lists(document: Any, path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every list of records (objects) in a JSON document, with its dotted path."""
    if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
        yield path, document
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from _record_lists(value, f"{path}.{key}" if path else str(key))


def json_profiles(path: Path, relative: Path) -> Iterator[TableProfile]:
    """One profile per list of records in a JSON document."""
    text, encoding = decoded(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}: line {error.lineno}: not JSON ({error.msg})") from None
    for records_path, records in _record_lists(document):
        header = list(dict.fromkeys(key for record in records for key in record))
        rows = [[_json_cell(record.get(key)) for key in header] for record in records[:MAX_PROFILED_ROWS]]
        options: dict[str, Any] = {"records_path": records_path} if records_path else {}
        if encoding != "utf-8-sig":
            options["encoding"] = encoding
        profile = table_profile(relative, "json", header, rows, options, len(records) > MAX_PROFILED_ROWS)
        yield replace(profile, area_codes=_area_codes(text))


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value) if isinstance(value, dict | list) else str(value)


def profiled_folder(folder: Path) -> list[TableProfile]:
    """The profile of every table in `folder` and below, in path order. A folder holding an HSDS datapackage.json
    is one HSDS source (its files are not profiled one by one); files of other types are skipped."""
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder; give the folder holding the partners' extracts")
    hsds = sorted(p.parent for p in folder.rglob(HSDS_MARKER))
    profiles: list[TableProfile] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        home = next((h for h in hsds if path.is_relative_to(h)), None)
        if home is not None:
            if path.name == HSDS_MARKER:
                profiles.append(TableProfile(home.relative_to(folder), "hsds", 0))
            continue
        kind = TABULAR_SUFFIXES.get(path.suffix.lower())
        if kind == "csv":
            profiles.append(csv_profile(path, relative))
        elif kind == "excel":
            profiles.extend(excel_profiles(path, relative))
        elif kind == "json":
            profiles.extend(json_profiles(path, relative))
    return profiles
