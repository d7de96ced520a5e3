"""RFC 4180 on every CSV path: generated tables written with quoted line breaks, doubled quotes, CR, LF or CRLF line
ends and an optional byte-order mark read back exactly, side by side, by the Arrow path (`csv_table`) and the
Python path (`csv_frame`), with each record's line number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.base import ROW_COLUMN, SourceRequest, as_pandas, extract
from sources.limits import SourceLimits
from sources.tabular import CSV, csv_frame, csv_table, decoded_text

PLAIN = "abcxyzABC019 é£-_./"
SPECIAL = ',"\r\n'  # what makes a cell need quotes
LINE_ENDS = ["\n", "\r\n", "\r"]


@dataclass(frozen=True)
class WrittenCsv:
    text: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # the physical line each row starts on


def _cell_text(cell: str, quoted: bool) -> str:
    if quoted or any(c in cell for c in SPECIAL) or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _line_breaks(text: str) -> int:
    return text.count("\r\n") + text.replace("\r\n", "").count("\r") + text.replace("\r\n", "").count("\n")


@st.composite
def written_csvs(draw: st.DrawFn) -> WrittenCsv:
    """A table (unique, non-blank header names; cells of any text with the characters that need quoting) and its
    CSV text, with the line end, quoting and blank lines drawn."""
    width = draw(st.integers(1, 4))
    header = draw(st.lists(st.text(alphabet="abcdefgh_", min_size=1, max_size=6), min_size=width, max_size=width,
                           unique=True))
    cell = st.text(alphabet=PLAIN + SPECIAL, max_size=8)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=6))
    rows = [row for row in rows if any(c.strip() for c in row)]  # blank records are not records: see below
    end = draw(st.sampled_from(LINE_ENDS))
    text, lines = ",".join(_cell_text(c, draw(st.booleans())) for c in header) + end, []
    for row in rows:
        if draw(st.booleans()) and width > 1:
            text += end  # a blank line between records: skipped, and still counted
        lines.append(_line_breaks(text) + 1)
        text += ",".join(_cell_text(c, draw(st.booleans())) for c in row) + end
    if rows and not draw(st.booleans()):
        text = text[: -len(end)]  # no line end after the last record
    return WrittenCsv(text, header, rows, lines)


def _expected(written: WrittenCsv) -> pd.DataFrame:
    frame = pd.DataFrame([[c if c != "" else None for c in row] for row in written.rows], columns=written.header,
                         dtype="object")
    frame.insert(0, ROW_COLUMN, written.lines)
    return frame


def _normalised(frame: pd.DataFrame) -> list[list[object]]:
    frame = as_pandas(frame).astype("object")
    return [[None if pd.isna(v) else (int(v) if isinstance(v, int | float) else v) for v in row]
            for row in frame.itertuples(index=False)]


@given(written_csvs())
def test_every_csv_path_reads_rfc_4180_exactly(written: WrittenCsv) -> None:
    expected = _expected(written)
    python_read = csv_frame(written.text, "x: t.csv")
    assert list(python_read.columns) == [ROW_COLUMN, *written.header]
    assert _normalised(python_read) == _normalised(expected)
    arrow_read = csv_table(written.text, where="x: t.csv")
    if arrow_read is not None:  # Arrow declines records spanning lines; it never reads them differently
        assert arrow_read.column_names == [ROW_COLUMN, *written.header]
        assert _normalised(arrow_read.to_pandas()) == _normalised(expected)


@given(written=written_csvs(), bom=st.booleans())
def test_a_file_with_or_without_a_byte_order_mark_reads_the_same(tmp_path_factory: pytest.TempPathFactory,
                                                                  written: WrittenCsv, bom: bool) -> None:
    path = tmp_path_factory.mktemp("bom") / "t.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + written.text.encode("utf-8"))
    text = decoded_text(path, "utf-8-sig", "x: t.csv")
    assert text == written.text
    read = extract(CSV, SourceRequest("x", path, "services", CSV.options(), path.parent, SourceLimits()))
    assert _normalised(read.tables["services"]) == _normalised(_expected(written))


QUOTED_FILES = {  # name -> (bytes, header, rows)
    "line breaks inside quotes, CRLF": (b'id,name\r\nA,"two\r\nlines"\r\nB,"lf\nonly"\r\n',
                                        ["id", "name"], [["A", "two\r\nlines"], ["B", "lf\nonly"]]),
    "doubled quotes, LF": (b'id,name\nA,"say ""hi"""\nB,""""\n', ["id", "name"], [["A", 'say "hi"'], ["B", '"']]),
    "CR line ends and a BOM": (b'\xef\xbb\xbfid,name\rA,x\rB,"y,z"\r', ["id", "name"], [["A", "x"], ["B", "y,z"]]),
}


@pytest.mark.parametrize("name", sorted(QUOTED_FILES))
def test_known_files_read_exactly_on_both_paths(name: str, tmp_path: Path) -> None:
    data, header, rows = QUOTED_FILES[name]
    path = tmp_path / "q.csv"
    path.write_bytes(data)
    text = decoded_text(path, "utf-8-sig", "q")
    readings = [csv_frame(text, "q")]
    arrow = csv_table(text, where="q")
    readings += [arrow.to_pandas()] if arrow is not None else []
    for read in readings:
        assert list(read.columns)[1:] == header
        assert [list(r)[1:] for r in read.astype("object").itertuples(index=False)] == rows
