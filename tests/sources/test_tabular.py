"""The generic `csv`, `excel` and `json` kinds on tiny files written in the test."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from expectations.errors import SourceError
from sources import SourceKind, SourceRequest
from sources.base import ROW_COLUMN, as_pandas, sha256_of
from sources.tabular import CSV, EXCEL, JSON, csv_frame, csv_table


def read(kind: SourceKind, path: Path, **options: object) -> pd.DataFrame:
    request = SourceRequest(
        source_id="x", location=path, table="services", options=kind.options(**options), folder=path.parent
    )
    raw = kind.read(request)
    assert list(raw.tables) == ["services"] and raw.problems == []
    return as_pandas(raw.tables["services"])


def rows(frame: pd.DataFrame) -> list[list[object]]:
    """The frame's rows with missing cells as None, for plain comparisons."""
    return frame.astype("object").where(frame.notna(), None).values.tolist()


def test_csv_cells_stay_text_and_rows_are_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("id,name,count\n007,Day centre,12\n008,,\n", encoding="utf-8")
    frame = read(CSV, path)
    assert list(frame.columns) == [ROW_COLUMN, "id", "name", "count"]
    assert rows(frame) == [[2, "007", "Day centre", "12"], [3, "008", None, None]]


@pytest.mark.parametrize("text", [
    "id;name\r\n1;A\r\n;\r\n2; b \r\n\r\n",  # CRLF, a line of empty cells, cells kept untrimmed, trailing blank
    'id,name\n1,"x, y"\n2,"say ""hi"""\n3,""\n',  # quoted delimiters, doubled quotes, a quoted empty cell
    "title\n\nid,name\n1,A\n",  # the header below a title and a blank line (header_row = 3)
    "id,name\n1,\u00e9t\u00e9\n",
    "id\n1\n\n  \n2\n",  # blank lines are read as empty records and dropped, the numbers kept
    "id,name\n1,A\n\n2,B\n",
])
def test_duckdb_reads_one_line_records_as_the_careful_reader_does(text: str) -> None:
    delimiter, header_row = (";" if ";" in text else ","), (3 if text.startswith("title") else 1)
    fast = csv_table(text, delimiter, '"', header_row, where="x")
    assert fast is not None
    assert rows(as_pandas(fast)) == rows(csv_frame(text, "x", delimiter, '"', header_row))
    assert as_pandas(fast).dtypes.tolist() == csv_frame(text, "x", delimiter, '"', header_row).dtypes.tolist()


@pytest.mark.parametrize("text", [
    "id,name\n1,A\n  \n2,B\n",  # a line of spaces has one field where the header has two
    'id,name\n1,"two\nlines"\n2,B\n',  # a record spanning lines
    "id,name\n1,A,extra\n",  # malformed: the careful reader words the error
])
def test_other_files_are_left_to_the_careful_reader(text: str) -> None:
    assert csv_table(text, ",", '"', 1, where="x") is None


def test_a_multi_line_record_keeps_the_line_it_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text('id,name\n1,"two\nlines"\n\n2,B\n', encoding="utf-8")
    assert rows(read(CSV, path)) == [[2, "1", "two\nlines"], [5, "2", "B"]]


def test_csv_delimiter_and_cp1252_encoding(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_bytes("id;name\n1;Café – drop-in\n".encode("cp1252"))
    assert rows(read(CSV, path, delimiter=";", encoding="cp1252")) == [[2, "1", "Café – drop-in"]]
    with pytest.raises(
        SourceError, match=r"services\.csv: line 2 \(byte 13\) is not utf-8-sig text; set options\.encoding"
    ):
        read(CSV, path, delimiter=";")


def test_csv_byte_order_mark_and_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_bytes("id,name\r\n1,Clinic\r\n2,Ward\r\n".encode("utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = read(CSV, path)
    assert list(frame.columns) == [ROW_COLUMN, "id", "name"]
    assert rows(frame) == [[2, "1", "Clinic"], [3, "2", "Ward"]]


def test_csv_header_below_a_title_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("Services extract, March 2025\n\nid,name\n1,Clinic\n\n2,Ward\n", encoding="utf-8")
    assert rows(read(CSV, path, header_row=3)) == [[4, "1", "Clinic"], [6, "2", "Ward"]]
    with pytest.raises(SourceError, match=r"no header at line 2 \(the line is blank\)"):
        read(CSV, path, header_row=2)


def test_csv_line_break_inside_quotes_is_kept_and_later_rows_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text('id,name\n1,"Clinic\nnorth wing"\n2,Ward\n', encoding="utf-8")
    assert rows(read(CSV, path)) == [[2, "1", "Clinic\nnorth wing"], [4, "2", "Ward"]]


def test_csv_ragged_row_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("id,name\n1,Clinic\n2,Ward,extra\n", encoding="utf-8")
    with pytest.raises(
        SourceError, match=r"services\.csv: line 3 has 3 fields where the header \(line 1\) has 2"
    ):
        read(CSV, path)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_csv_empty_file_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "services.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=r"no header at line 1 \(the file is empty\)"):
        read(CSV, path)


def test_csv_repeated_column_names_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("id,name,name\n1,a,b\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"the header names 'name' more than once"):
        read(CSV, path)


def test_excel_header_below_a_title_row(tmp_path: Path) -> None:
    path = tmp_path / "services.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Services"
    sheet.append(["Services extract, March 2025"])
    sheet.append(["id", "name", "beds"])
    sheet.append(["A1", "Clinic", 12])
    sheet.append([])
    sheet.append(["A2", "Ward", None])
    workbook.save(path)
    frame = read(EXCEL, path, sheet="Services", header_row=2)
    assert list(frame.columns) == [ROW_COLUMN, "id", "name", "beds"]
    assert rows(frame) == [[3, "A1", "Clinic", "12"], [5, "A2", "Ward", None]]
    with pytest.raises(SourceError, match=r"Worksheet named 'Missing' not found \(check options\.sheet\)"):
        read(EXCEL, path, sheet="Missing")


def test_excel_that_is_not_a_workbook_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "services.xlsx"
    path.write_text("id,name\n1,Clinic\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"not an Excel \.xlsx workbook"):
        read(EXCEL, path)


def test_json_records_path_and_values_as_json_text(tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    records = [
        {"id": 7, "name": "Clinic", "open": True, "org": {"id": "o1"}},
        {"id": 8, "name": "Ward", "tags": ["acute", "beds"]},
    ]
    path.write_text(json.dumps({"data": {"items": records}}), encoding="utf-8")
    frame = read(JSON, path, records_path="data.items")
    assert list(frame.columns) == [ROW_COLUMN, "id", "name", "open", "org.id", "tags"]
    # a gap in a column of numbers must not turn 7 into "7.0"
    assert rows(frame) == [
        [1, "7", "Clinic", "true", "o1", None],
        [2, "8", "Ward", None, None, '["acute", "beds"]'],
    ]
    with pytest.raises(SourceError, match=r"no key 'records' on the records path 'data\.records'"):
        read(JSON, path, records_path="data.records")


def test_json_that_is_not_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    path.write_text('[{"id": 1},\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"not valid JSON at line 2"):
        read(JSON, path)


def test_a_files_hash_is_remembered_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    extract = tmp_path / "a.csv"
    extract.write_text("code,n\nED,1\n")
    first = sha256_of([extract])
    assert sha256_of([extract]) == first == hashlib.sha256(b"a.csv" + extract.read_bytes()).hexdigest()
    times = extract.stat()
    extract.write_text("code,n\nED,2\n")  # same size, and its modification time put back
    os.utime(extract, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert sha256_of([extract]) == hashlib.sha256(b"a.csv" + extract.read_bytes()).hexdigest() != first


def test_the_same_files_under_another_root_hash_by_their_names_there(tmp_path: Path) -> None:
    (tmp_path / "outer" / "inner").mkdir(parents=True)
    (tmp_path / "outer" / "inner" / "a.json").write_text("{}")
    inner, outer = sha256_of([tmp_path / "outer" / "inner"]), sha256_of([tmp_path / "outer"])
    assert inner == hashlib.sha256(b"a.json{}").hexdigest()
    assert outer == hashlib.sha256(b"inner/a.json{}").hexdigest()
