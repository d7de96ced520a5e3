"""Profiles of a folder of partner extracts, for writing a first map config: each table's encoding, delimiter,
header, columns with inferred types, candidate keys, periods and likely measures. Reads files; judges nothing."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from expectations.errors import SourceError
from expectations.periods import FINANCIAL_YEAR, ISO_WEEK, PERIOD_FORMATS, QUARTER, SPAN_FORMATS

ENCODINGS = ("utf-8-sig", "cp1252")  # cp1252 decodes any byte, so it is the last resort
DELIMITERS = ",;\t|"
TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".json": "json"}
HSDS_MARKER = "datapackage.json"
MAX_PROFILED_ROWS = 100_000  # enough to judge types and keys; a profile is a suggestion, not a check
EXAMPLES = 3

SPAN_KINDS = {QUARTER: "quarter", FINANCIAL_YEAR: "financial_year", ISO_WEEK: "week"}
PERIOD_TYPES = ("month", "date", *SPAN_KINDS.values())
INTEGER = re.compile(r"^-?\d+$")
NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
KEY_WORDS = re.compile(r"(code|key|id|ref)\b|(code|key|id|ref)$", re.IGNORECASE)
SUPPRESSED = re.compile(r"^(c|x|z|\*|-|\.\.|:|<\d+)$", re.IGNORECASE)
QUALIFIER_SUFFIX = "QF"  # Public Health Scotland: "<column>QF" holds the qualifier of <column>'s value
LISTED_VALUES = 30  # a column with no more distinct values than this lists them all (codes to map, rows to keep)
TOTAL_VALUE = re.compile(r"^(all\b.*|total|.*\btotal)$", re.IGNORECASE)  # "All Delay Reasons", "Scotland total"
AREA_CODE = re.compile(r"\bS37\d{6}\b")  # a Scottish Health and Social Care Partnership


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its inferred type (integer, number, a period's kind in PERIOD_TYPES, text or empty), distinct
    and blank counts and a few example values."""

    name: str
    type: str
    distinct: int
    blanks: int
    examples: tuple[str, ...]
    minimum: str | None = None  # for periods: the first month or day seen (YYYY-MM or YYYY-MM-DD)
    maximum: str | None = None  # and the last (a quarter's or a year's last day)
    values: tuple[str, ...] = ()  # every distinct value, as first seen, when there are at most LISTED_VALUES
    total: str | None = None  # a value that reads as the total of the others ("All Specialties")


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
    cells: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)  # the profiled rows, trimmed

    @property
    def candidate_keys(self) -> list[str]:
        """Columns with a value in every row and no value twice: what could name a service."""
        return [c.name for c in self.columns if self.rows and c.blanks == 0 and c.distinct == self.rows
                and (c.type == "text" or (c.type == "integer" and KEY_WORDS.search(c.name)))]

    @property
    def periods(self) -> list[ColumnProfile]:
        """Columns holding months, dates, quarters, financial years or weeks."""
        return [c for c in self.columns if c.type in PERIOD_TYPES]

    @property
    def measures(self) -> list[str]:
        """Numeric columns that are not keys nor named as codes: likely counts such as admissions or referrals."""
        keys = set(self.candidate_keys)
        return [c.name for c in self.columns if c.type in ("integer", "number") and c.name not in keys
                and not (c.type == "integer" and KEY_WORDS.search(c.name))]

    @property
    def codes(self) -> list[ColumnProfile]:
        """Columns that could name a service or a code: text, and whole numbers named as codes (a practice code)."""
        return [c for c in self.columns if c.type == "text" or (c.type == "integer" and KEY_WORDS.search(c.name))]

    def splitting(self, columns: Sequence[str], others: Sequence[str], keep: dict[str, str] | None = None
                  ) -> list[str]:
        """Which of `others` tell apart rows (among those kept) that `columns` alone do not."""
        kept = self._kept(keep or {})
        at = [self._at(name) for name in columns]
        together = len({tuple(row[i] for i in at) for row in kept})
        return [other for other in others
                if len({(*(row[i] for i in at), row[self._at(other)]) for row in kept}) > together]

    def _at(self, name: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.name == name)

    def _kept(self, keep: dict[str, str]) -> list[tuple[str, ...]]:
        at = {self._at(name): value for name, value in keep.items()}
        return [row for row in self.cells if all(row[i] == value for i, value in at.items())]

    @property
    def qualifiers(self) -> dict[str, str]:
        """Column -> the column holding its values' qualifiers (`HBT` -> `HBTQF`), for every such pair."""
        names = {c.name for c in self.columns}
        return {c.name: f"{c.name}{QUALIFIER_SUFFIX}" for c in self.columns
                if f"{c.name}{QUALIFIER_SUFFIX}" in names}


def column_type(values: Sequence[str]) -> str:
    """The narrowest type every non-blank value fits."""
    filled = [v for v in values if v]
    if not filled:
        return "empty"
    first = _period(filled[0])
    # a period column's values repeat: each parsed once; any other column stops at its first value that is not one
    if first and all((found := _period(v)) and found[0] == first[0] for v in dict.fromkeys(filled)):
        return first[0]
    for name, pattern in (("integer", INTEGER), ("number", NUMBER)):
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
    distinct = tuple(dict.fromkeys(filled))
    bounds = sorted(_bounds(v) for v in distinct) if kind in PERIOD_TYPES else []
    return ColumnProfile(name, kind, len(distinct), len(cleaned) - len(filled), distinct[:EXAMPLES],
                         bounds[0][0] if bounds else None, max(end for _, end in bounds) if bounds else None,
                         distinct if len(distinct) <= LISTED_VALUES else (),
                         _total(name, distinct) if kind == "text" else None)


def _total(name: str, values: Sequence[str]) -> str | None:
    """The value that reads as the total of a column's others: "All ..." or "Total", and of several the one that
    names the column's own words ("All Specialties" over "All Acute" in SpecialtyName)."""
    totals = [v for v in values if TOTAL_VALUE.match(v)]
    stems = [word[:6].lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name) if len(word) > 3]
    return next((v for v in totals if any(stem in v.lower() for stem in stems)), next(iter(totals), None))


def _period(value: str) -> tuple[str, date, date] | None:
    """The kind of period a value is written as, by the mapping's contract (expectations/periods.py: month, date,
    quarter, financial_year or week), with its first and last day; None for anything else or a day that does not
    exist."""
    for pattern, written, is_month, _ in PERIOD_FORMATS:
        if re.match(pattern, value):
            try:
                day = date.fromisoformat(value[:10]) if written is None else datetime.strptime(value, written).date()
            except ValueError:
                return None
            if is_month:
                return "month", day, date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)
            return "date", day, day
    for pattern, _ in SPAN_FORMATS:
        if found := re.match(pattern, value):
            return _span(SPAN_KINDS[pattern], int(found.group(1)), int(found.group(2)))
    return None


def _span(kind: str, year: int, part: int) -> tuple[str, date, date] | None:
    """A quarter (2022Q3), financial year (2021/22) or ISO week (2022-W05) with its first and last day."""
    try:
        if kind == "quarter":
            start = date(year, 3 * part - 2, 1)
            return kind, start, date(year + part // 4, 3 * part % 12 + 1, 1) - timedelta(days=1)
        if kind == "financial_year":
            return (kind, date(year, 4, 1), date(year + 1, 3, 31)) if (year + 1) % 100 == part else None
        start = date.fromisocalendar(year, part, 1)
        return kind, start, start + timedelta(days=6)
    except ValueError:
        return None


def _bounds(value: str) -> tuple[str, str]:
    """A period's first and last month (YYYY-MM) or day (YYYY-MM-DD), so that periods sort in time order."""
    found = _period(value)
    assert found is not None
    kind, first, last = found
    if kind == "month":
        return (f"{first:%Y-%m}",) * 2
    return first.isoformat(), last.isoformat()


def table_profile(location: Path, kind: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
                  options: dict[str, Any], truncated: bool = False) -> TableProfile:
    """The profile of a table read as a header and rows of cells."""
    width = len(header)
    text_rows = [[_cell_text(cell) for cell in row] for row in rows]
    cells = tuple(tuple((row[i] if i < len(row) else "").strip() for i in range(width)) for row in text_rows)
    columns = tuple(column_profile(str(name), [row[i] for row in cells]) for i, name in enumerate(header))
    return TableProfile(location, kind, len(text_rows), columns, options, truncated, cells=cells)


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
    """Every list of records (objects) in a JSON document, with its dotted path (the json kind's records_path,
    which cannot name a key holding a dot: lists below one are not offered)."""
    if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
        yield path, document
    elif isinstance(document, dict):
        for key, value in document.items():
            if "." not in str(key):
                yield from _record_lists(value, f"{path}.{key}" if path else str(key))


def json_profiles(path: Path, relative: Path) -> Iterator[TableProfile]:
    """One profile per list of records in a JSON document."""
    text, encoding = decoded(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}: line {error.lineno}: not JSON ({error.msg})") from None
    if hsds := _hsds_records(document):
        yield TableProfile(relative, "hsds", len(hsds))
        return
    for records_path, records in _record_lists(document):
        header = list(dict.fromkeys(key for record in records for key in record))
        rows = [[_json_cell(record.get(key)) for key in header] for record in records[:MAX_PROFILED_ROWS]]
        options: dict[str, Any] = {"records_path": records_path} if records_path else {}
        if encoding != "utf-8-sig":
            options["encoding"] = encoding
        profile = table_profile(relative, "json", header, rows, options, len(records) > MAX_PROFILED_ROWS)
        yield replace(profile, area_codes=_area_codes(text))


def _hsds_records(document: Any) -> list[dict[str, Any]]:
    """The records of an Open Referral HSDS document (services, organizations, service_at_location: what the hsds
    kind reads), or none when any record is something else."""
    from sources.hsds import ORGANISATION_MARKS, SERVICE_MARKS, hsds_records

    records = hsds_records(document)
    marks = SERVICE_MARKS | ORGANISATION_MARKS
    hsds = records and all(isinstance(r, dict) and (set(r) & marks or isinstance(r.get("service"), dict))
                           for r in records)
    return records if hsds else []


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value) if isinstance(value, dict | list) else str(value)


def profiled_folder(folder: Path, unreadable: Callable[[SourceError], None] | None = None) -> list[TableProfile]:
    """The profile of every table in `folder` and below, in path order. A folder holding an HSDS datapackage.json
    is one HSDS source (its files are not profiled one by one); files of other types are skipped. A file that
    cannot be profiled raises its SourceError, or with `unreadable` is handed to it and left out."""
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
        try:
            if kind == "csv":
                profiles.append(csv_profile(path, relative))
            elif kind == "excel":
                profiles.extend(excel_profiles(path, relative))
            elif kind == "json":
                profiles.extend(json_profiles(path, relative))
        except SourceError as error:
            if unreadable is None:
                raise
            unreadable(error)
    return profiles
