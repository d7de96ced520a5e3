"""Generic single-table kinds: `csv`, `excel` and `json`. Each feeds the canonical table named in config."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from expectations.errors import SourceError
from sources.base import ROW_COLUMN, KindOptions, RawTables, SourceKind, SourceRequest, register


class CsvOptions(KindOptions):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"  # utf-8, tolerating a byte-order mark
    header_row: int = Field(default=1, ge=1, description="1-based line of the header")
    quotechar: str = Field(default='"', min_length=1, max_length=1)


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


def _read_csv(request: SourceRequest) -> RawTables:
    options: CsvOptions = request.options  # type: ignore[assignment]
    path = request.location
    try:
        text = path.read_text(encoding=options.encoding)
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{request.source_id}: {path}: byte {error.start} is not {options.encoding} text; "
            "set options.encoding (for example \"cp1252\") in the map config"
        ) from None
    lines = list(csv.reader(text.splitlines(), delimiter=options.delimiter, quotechar=options.quotechar))
    body = lines[options.header_row - 1 :]
    if not body or not any(cell.strip() for cell in body[0]):
        raise SourceError(f"{request.source_id}: {path}: no header at line {options.header_row} (the file is empty)")
    header = [cell.strip() for cell in body[0]]
    records = body[1:]
    for offset, record in enumerate(records):
        if len(record) != len(header) and any(cell.strip() for cell in record):
            line = options.header_row + 1 + offset
            raise SourceError(
                f"{request.source_id}: {path}: line {line} has {len(record)} fields where the header has "
                f"{len(header)}; check options.delimiter ({options.delimiter!r}) and quoting"
            )
    keep = [(offset, r) for offset, r in enumerate(records) if any(cell.strip() for cell in r)]
    frame = pd.DataFrame([r for _, r in keep], columns=header, dtype="str")
    frame.insert(0, ROW_COLUMN, [options.header_row + 1 + offset for offset, _ in keep])
    return RawTables({request.table or "": frame})


def _read_excel(request: SourceRequest) -> RawTables:
    options: ExcelOptions = request.options  # type: ignore[assignment]
    try:
        frame = pd.read_excel(
            request.location, sheet_name=options.sheet, header=options.header_row - 1, dtype="str", engine="openpyxl"
        )
    except ValueError as error:
        raise SourceError(f"{request.source_id}: {request.location}: {error} (check options.sheet)") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(how="all")
    frame.insert(0, ROW_COLUMN, [options.header_row + 1 + int(i) for i in frame.index])
    return RawTables({request.table or "": frame.reset_index(drop=True)})


def _records_at(document: Any, dotted: str, where: str) -> list[dict[str, Any]]:
    node = document
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            raise SourceError(f"{where}: no key {part!r} on the records path {dotted!r} (check options.records_path)")
        node = node[part]
    if not isinstance(node, list) or not all(isinstance(r, dict) for r in node):
        raise SourceError(f"{where}: records path {dotted or '(root)'!r} is not a list of objects")
    return node


def _read_json(request: SourceRequest) -> RawTables:
    options: JsonOptions = request.options  # type: ignore[assignment]
    where = f"{request.source_id}: {request.location}"
    try:
        document = json.loads(Path(request.location).read_text(encoding=options.encoding))
    except json.JSONDecodeError as error:
        raise SourceError(f"{where}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    records = _records_at(document, options.records_path, where)
    frame = pd.json_normalize(records, sep=".").astype("str").where(pd.json_normalize(records).notna(), None)
    return RawTables({request.table or "": _with_rows(frame, 1)})


CSV = register(SourceKind(name="csv", read=_read_csv, options=CsvOptions))
EXCEL = register(SourceKind(name="excel", read=_read_excel, options=ExcelOptions))
JSON = register(SourceKind(name="json", read=_read_json, options=JsonOptions))
