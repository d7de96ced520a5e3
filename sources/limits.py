"""Limits on what one source may read (bytes on disk, rows, the length of one field, and how far compressed input
may expand), checked before a parser commits memory to it, so an oversized file or a compressed bomb is refused
with a clear message.

An .xlsx is a zip: its central directory declares each member's uncompressed size, and Python's zipfile (which
openpyxl reads through) never returns more than that, so checking the declared sizes and ratios is enough. A
gzip stream declares nothing trustworthy, so it is first inflated and counted, a chunk at a time and nothing kept,
under the same byte cap and expansion ratio; only a stream that passes is inflated again to be read.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from expectations.errors import SourceError

# A source is read whole, holding about 5.5 times its decompressed size at peak (bench/results/hostile.md), so the
# default is set by what one refresh can hold, not by the disk: at 512 MiB a read stays near 3 GiB, a gzip that
# inflates to 2 GB of ordinary rows is refused while it is inflated, and the largest extract of the Scotland-sized
# benchmark (bench/generate.py L: 33 MB) or of the real open data in ../shared/data (4 MB) fits 15 times over or more.
DEFAULT_MAX_BYTES = 512 * 1024**2
DEFAULT_MAX_ROWS = 100_000_000
DEFAULT_MAX_FIELD_LENGTH = 64 * 1024  # characters in one cell: a name or a code, never a document
MAX_COMPRESSION_RATIO = 100  # worksheets of repeated rows compress ~15x; deflate bombs reach ~1000x
RATIO_CHECKED_FROM = 1024**2  # members smaller than this expand to nothing that matters, whatever the ratio
CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceLimits:
    """The most one source may read: bytes (on disk, and once decompressed), rows of any raw table, and characters
    in any one field."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_field_length: int = DEFAULT_MAX_FIELD_LENGTH


def size_text(size: float) -> str:
    """A byte count for people: 1536 -> '1.5 KiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _raise_hint(key: str) -> str:
    hint = f"raise `{key}` for this source in the map config if the extract really is this large"
    return hint + " (it is read whole: allow a few times its size in memory)" if key == "max_bytes" else hint


def files_size(paths: Iterable[Path]) -> int:
    """Bytes on disk of the files (and of every file inside the folders) given."""
    total = 0
    for path in paths:
        files = (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
        total += sum(file.stat().st_size for file in files)
    return total


def checked_size(paths: Iterable[Path], limits: SourceLimits, where: str) -> int:
    """The bytes a source would read; SourceError when over `max_bytes`."""
    size = files_size(paths)
    if size > limits.max_bytes:
        raise SourceError(f"{where}: the extract is {size_text(size)}, over the limit max_bytes = "
                          f"{size_text(limits.max_bytes)}; {_raise_hint('max_bytes')}")
    return size


def checked_rows(rows: int, limits: SourceLimits, where: str) -> None:
    """SourceError when a table has more rows than `max_rows`."""
    if rows > limits.max_rows:
        raise SourceError(f"{where}: more than max_rows = {limits.max_rows:,} rows; {_raise_hint('max_rows')}")


def checked_zip(path: Path, limits: SourceLimits, where: str) -> None:
    """Refuse a zip (an .xlsx) whose members would expand past `max_bytes`, or expand suspiciously (a bomb).

    Not a zip at all is left to the reader, which says so in its own words."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    total = sum(member.file_size for member in members)
    if total > limits.max_bytes:
        raise SourceError(f"{where}: the workbook expands to {size_text(total)} when unzipped, over the limit "
                          f"max_bytes = {size_text(limits.max_bytes)}; {_raise_hint('max_bytes')}")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise SourceError(
                f"{where}: part {member.filename!r} of the workbook expands {ratio:,.0f} times "
                f"(to {size_text(member.file_size)}), more than a real workbook does "
                f"({MAX_COMPRESSION_RATIO}x); it looks like a zip bomb: ask the partner to save it again"
            )


def checked_gzip_size(path: Path, limits: SourceLimits, where: str) -> int:
    """The decompressed size of a gzip file, counted while inflating a chunk at a time (nothing kept, so memory
    stays at one chunk); SourceError past `max_bytes`, or expanding more than a real extract does (a bomb)."""
    inflated = 0
    try:
        with path.open("rb") as packed, gzip.GzipFile(fileobj=packed, mode="rb") as stream:
            while chunk := stream.read(CHUNK):
                inflated += len(chunk)
                if inflated > limits.max_bytes:
                    raise SourceError(
                        f"{where}: the gzip file expands past max_bytes = {size_text(limits.max_bytes)} "
                        f"(the file itself is {size_text(path.stat().st_size)}); {_raise_hint('max_bytes')}"
                    )
                ratio = inflated / max(packed.tell(), 1)
                if inflated >= RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
                    raise SourceError(
                        f"{where}: the gzip file expands {ratio:,.0f} times (past {size_text(inflated)} from "
                        f"{size_text(packed.tell())} read), more than a real extract does "
                        f"({MAX_COMPRESSION_RATIO}x); it looks like a compression bomb: ask the partner to send it "
                        "again"
                    )
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise SourceError(f"{where}: not a complete gzip file ({error}); check options.compression") from None
    return inflated


def capped_gzip_bytes(path: Path, limits: SourceLimits, where: str) -> bytes:
    """The decompressed bytes of a gzip file that `checked_gzip_size` lets through (read in one go, sized ahead)."""
    size = checked_gzip_size(path, limits, where)
    with gzip.open(path, "rb") as stream:
        data = stream.read(size + 1)
    if len(data) != size:  # the file changed between the two reads
        raise SourceError(f"{where}: the gzip file changed while it was read; run again")
    return data


def field_too_long(where: str, row: int, column: str, length: int, limits: SourceLimits) -> SourceError:
    """The error for a field over `max_field_length`, naming its row (line or sheet row) and column."""
    return SourceError(
        f"{where}: row {row} column {column!r} holds {length:,} characters, over the limit max_field_length = "
        f"{limits.max_field_length:,}; a field is a name, a code or a number: check options.delimiter and quoting "
        f"(an unclosed quote swallows the rest of the file), or {_raise_hint('max_field_length')}"
    )
