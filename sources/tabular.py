"""Generic single-table kinds: `csv`, `excel` and `json`. Each feeds the canonical table named in config."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from pydantic import Field

from expectations.errors import SourceError
from sources.base import ROW_COLUMN, KindOptions, RawTables, SourceKind, SourceRequest, register, source_where
from sources.limits import SourceLimits, capped_gzip_bytes, checked_rows, checked_zip

# the csv module's own cap (128 KiB) would call a long field malformed CSV; fields are measured against the source's
# max_field_length instead, which names the row and column (sources/base.py checked_field_lengths)
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


class CsvOptions(KindOptions):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"  # utf-8, tolerating a byte-order mark
    header_row: int = Field(default=1, ge=1, description="1-based line of the header")
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    compression: Literal["none", "gzip"] = "none"  # gzip: inflated with a byte cap (max_bytes)


class ExcelOptions(KindOptions):
    sheet: str | int = 0
    header_row: int = Field(default=1, ge=1, description="1-based sheet row of the header")


class JsonOptions(KindOptions):
    records_path: str = Field(default="", description="dotted path to the list of records; empty: the root")
    encoding: str = "utf-8-sig"


def _with_rows(frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, ROW_COLUMN, range(first_row, first_row + len(frame)))
    return frame


def decoded_text(path: Path, encoding: str, where: str, compression: str = "none",
                 limits: SourceLimits | None = None) -> str:
    """The file's text; a wrong or unknown encoding is a SourceError that says which option to set."""
    data = capped_gzip_bytes(path, limits or SourceLimits(), where) if compression == "gzip" else path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if data[:2] == b"\x1f\x8b":
            raise SourceError(f'{where}: the file is gzip-compressed; set options.compression = "gzip"') from None
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(
            f"{where}: line {line} (byte {error.start}) is not {encoding} text; "
            'set options.encoding (for example "cp1252") in the map config'
        ) from None
    except LookupError:
        raise SourceError(f"{where}: unknown encoding {encoding!r} in options.encoding") from None


def header_names(cells: Sequence[str], where: str) -> list[str]:
    """Trimmed column names; a blank name becomes `column_<n>`, a repeated name is an error."""
    names = [cell.strip() or f"column_{number}" for number, cell in enumerate(cells, start=1)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SourceError(f"{where}: the header names {', '.join(map(repr, repeated))} more than once; "
                          "ask the partner for unique column names")
    return names


def _records_with_lines(
    reader: Iterator[list[str]], line_of: Callable[[], int], skipped: int
) -> Iterator[tuple[int, list[str]]]:
    """(physical line the record starts on, record) pairs; a quoted field may span several lines."""
    previous = 0
    for record in reader:
        yield skipped + previous + 1, record
        previous = line_of()


def csv_frame(
    text: str, where: str, delimiter: str = ",", quotechar: str = '"', header_row: int = 1,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Text columns of a CSV document (empty cells missing) plus ROW_COLUMN, the line each record starts on.

    Blank lines are not records; a record whose field count differs from the header's is a SourceError."""
    handle = io.StringIO(text, newline="")  # newline="": keep line breaks inside quoted fields
    for _ in range(header_row - 1):
        handle.readline()
    # strict: a quote closed before the end of its field (`"ab"c`) or never closed is an error, not a guess
    reader = csv.reader(handle, delimiter=delimiter, quotechar=quotechar, strict=True)
    numbered = _records_with_lines(reader, lambda: reader.line_num, header_row - 1)
    read_to = header_row - 1  # lines consumed by the records read so far: the next record starts after them
    try:
        header_line, header = next(numbered, (header_row, []))
        if not any(cell.strip() for cell in header):
            empty = "the file is empty" if not text.strip() else "the line is blank"
            raise SourceError(f"{where}: no header at line {header_row} ({empty}); check options.header_row")
        columns = header_names(header, where)
        lines: list[int] = []
        rows: list[list[str | None]] = []
        read_to = reader.line_num + header_row - 1
        for line, record in numbered:
            read_to = reader.line_num + header_row - 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                raise SourceError(
                    f"{where}: line {line} has {len(record)} fields where the header (line {header_line}) "
                    f"has {len(columns)}; check options.delimiter ({delimiter!r}) and quoting"
                )
            lines.append(line)
            rows.append([cell if cell != "" else None for cell in record])
            if max_rows is not None and len(rows) > max_rows:
                checked_rows(len(rows), SourceLimits(max_rows=max_rows), where)
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise SourceError(f"{where}: the quote ({quotechar}) opened in the record starting on line "
                              f"{max(read_to + 1, header_row)} is never closed; check options.quotechar and ask "
                              "the partner to double quotes inside quoted fields") from None
        raise SourceError(f"{where}: line {reader.line_num + header_row - 1} is not CSV: {error} (a quote inside "
                          "a quoted field must be doubled; check options.quotechar)") from None
    frame = pd.DataFrame(rows, columns=columns, dtype="str")
    frame.insert(0, ROW_COLUMN, pd.Series(lines, dtype="int64"))
    return frame


def csv_table(
    text: str, delimiter: str = ",", quotechar: str = '"', header_row: int = 1, max_rows: int | None = None,
    where: str = "",
) -> pa.Table | None:
    """What `csv_frame` reads, parsed by Arrow's CSV reader (no Python object per cell): for a CSV whose records
    are one line each, which is every big extract (a log of referrals, say). None when a quoted cell spans lines
    or a line is malformed (a line of spaces in a file of several columns, say): `csv_frame` then reads the file,
    and words any error."""
    start = 0
    for _ in range(header_row):  # the header's line and the lines above it
        end = text.find("\n", start)
        if end < 0:
            return None
        start = end + 1
    body = text[start:].rstrip("\r\n")
    if quotechar in body and not _quoting_is_rfc_4180(body, quotechar, delimiter):
        return None  # Arrow would read `"ab"c` as abc: csv_frame refuses it, naming the line
    if body.count("\r") != body.count("\r\n"):  # a lone CR ends a line for csv_frame's count, not for this one
        return None
    try:
        header = next(csv.reader([text[text.rfind("\n", 0, start - 1) + 1:start]], delimiter=delimiter,
                                 quotechar=quotechar, strict=True), [])
        if not body or not any(cell.strip() for cell in header):
            return None
        names = [f"c{i}" for i in range(len(header))]
        table = pa_csv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=1 << 24),
            # blank lines kept as records (of one empty cell: malformed unless the file has one column), so
            # record i is line i; the empty ones are dropped below, as csv_frame drops them
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char=quotechar, double_quote=True,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=True, null_values=[""]),
        )
    except (pa.ArrowInvalid, csv.Error):  # a line with more or fewer fields than the header, say
        return None
    lines = body.count("\n") + 1
    if table.num_rows != lines:  # a quoted cell spanning lines: record numbers are not line numbers
        return None
    numbers = pa.array(np.arange(header_row + 1, header_row + 1 + lines, dtype="int64"))
    table = table.rename_columns(header_names(header, where)).add_column(0, ROW_COLUMN, numbers)
    filled = [pc.not_equal(pc.utf8_trim_whitespace(table.column(c)), "") for c in range(1, table.num_columns)]
    table = table.filter(_any(filled))  # lines of empty cells are not records
    checked_rows(table.num_rows, SourceLimits() if max_rows is None else SourceLimits(max_rows=max_rows), where)
    return table


@functools.cache
def _quoted_line(quotechar: str, delimiter: str) -> re.Pattern[str]:
    """One line of RFC 4180 fields: quoted (quotes inside doubled) or plain (not starting with a quote)."""
    q, d = re.escape(quotechar), re.escape(delimiter)
    field = rf"(?:{q}(?:[^{q}]|{q}{q})*{q}|[^{q}{d}\r\n][^{d}\r\n]*|)"
    return re.compile(rf"{field}(?:{d}{field})*\r?")


def _quoting_is_rfc_4180(body: str, quotechar: str, delimiter: str) -> bool:
    """Whether every line holding a quote quotes whole fields, as csv_frame's strict reader requires (Arrow
    would read `"ab"c` as abc, or `"x"  ,1` as x with spaces, where csv_frame refuses them)."""
    valid = _quoted_line(quotechar, delimiter)
    with_quote = re.compile(rf"^[^\n]*{re.escape(quotechar)}[^\n]*$", re.MULTILINE)
    return all(valid.fullmatch(line.group()) for line in with_quote.finditer(body))


def _any(conditions: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    found = pc.fill_null(conditions[0], False)
    for condition in conditions[1:]:
        found = pc.or_(found, pc.fill_null(condition, False))
    return found


def _read_csv(request: SourceRequest) -> RawTables:
    options: CsvOptions = request.options  # type: ignore[assignment]
    where = source_where(request)
    text = decoded_text(request.location, options.encoding, where, options.compression, request.limits)
    read = (options.delimiter, options.quotechar, options.header_row, request.limits.max_rows)
    frame = csv_table(text, *read, where=where)
    return RawTables({request.table or "": frame if frame is not None else csv_frame(text, where, *read)})


def _read_excel(request: SourceRequest) -> RawTables:
    options: ExcelOptions = request.options  # type: ignore[assignment]
    where = source_where(request)
    checked_zip(request.location, request.limits, where)
    try:
        # header=None: the header is read as a row so repeated or blank names are caught, not renamed;
        # nrows: one row past the limit is enough to refuse it, without reading the rest
        sheet = pd.read_excel(request.location, sheet_name=options.sheet, header=None,
                              skiprows=options.header_row - 1, dtype="str", engine="openpyxl",
                              nrows=request.limits.max_rows + 2)
    except ValueError as error:
        hint = " (check options.sheet)" if "orksheet" in str(error) else ""
        raise SourceError(f"{where}: {error}{hint}") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise SourceError(
            f"{where}: not an Excel .xlsx workbook ({error}); use kind \"csv\" for text files"
        ) from None
    if sheet.empty or sheet.iloc[0].isna().all():
        raise SourceError(f"{where}: no header at sheet row {options.header_row}; check options.header_row")
    header = ["" if pd.isna(cell) else str(cell) for cell in sheet.iloc[0]]
    frame = sheet.iloc[1:].copy()
    frame.columns = header_names(header, where)
    frame = frame.dropna(how="all")
    checked_rows(len(frame), request.limits, where)
    # index 0 is the header row, so index i is sheet row header_row + i
    frame.insert(0, ROW_COLUMN, [options.header_row + int(i) for i in frame.index])
    return RawTables({request.table or "": frame.reset_index(drop=True)})


def _records_at(document: Any, dotted: str, where: str) -> list[dict[str, Any]]:
    node = document
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            raise SourceError(
                f"{where}: no key {part!r} on the records path {dotted!r} (check options.records_path)"
            )
        node = node[part]
    if not isinstance(node, list) or not all(isinstance(r, dict) for r in node):
        raise SourceError(f"{where}: records path {dotted or '(root)'!r} is not a list of objects")
    return node


def json_text(value: Any) -> str | None:
    """A JSON value as raw text: strings as they are; numbers, booleans and lists as JSON spells them."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = json_text(value)
    return out


def _read_json(request: SourceRequest) -> RawTables:
    options: JsonOptions = request.options  # type: ignore[assignment]
    where = source_where(request)
    try:
        document = json.loads(decoded_text(Path(request.location), options.encoding, where))
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{where}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    records = _records_at(document, options.records_path, where)
    checked_rows(len(records), request.limits, where)
    # flattened by hand: json_normalize infers numbers, so an id 7 in a column with gaps would become "7.0"
    frame = pd.DataFrame([_flat(record) for record in records], dtype="object")
    frame = frame.astype("object").where(frame.notna(), None)
    return RawTables({request.table or "": _with_rows(frame, 1)})


CSV = register(SourceKind(name="csv", read=_read_csv, options=CsvOptions))
EXCEL = register(SourceKind(name="excel", read=_read_excel, options=ExcelOptions))
JSON = register(SourceKind(name="json", read=_read_json, options=JsonOptions))
