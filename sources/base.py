"""The source-kind interface, its registry, and provenance (what was read, its hash, when)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from expectations.checks import RejectRecord
from expectations.errors import SourceError
from sources.limits import SourceLimits, checked_rows, checked_size, field_too_long

ROW_COLUMN = "__row__"  # every raw frame carries the record's line/row number in its file, for rejects


class KindOptions(BaseModel):
    """Base of every kind's options model: unknown options are an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")
    path_options: ClassVar[tuple[str, ...]] = ()  # options naming files: they must stay inside the allowed roots


@dataclass(frozen=True)
class SourceRequest:
    """What the map config asks of one source: where it is and how to read it."""

    source_id: str
    location: Path
    table: str | None  # the canonical table a generic (single-table) kind feeds
    options: KindOptions
    folder: Path = Path(".")  # the map config's folder: option paths are relative to it
    limits: SourceLimits = field(default_factory=SourceLimits)  # bytes and rows it may read (sources/limits.py)


@dataclass(frozen=True)
class Provenance:
    source_id: str
    kind: str
    location: str
    sha256: str
    rows: int
    extracted_at: str


# text columns plus ROW_COLUMN; a big CSV stays Arrow (sources/tabular.py csv_table): no Python object per cell
RawFrame: TypeAlias = pd.DataFrame | pa.Table


def shown_path(path: Path, folder: Path) -> str:
    """A path as messages and outputs show it: relative to the map config's folder (as the config names it), never
    the machine's absolute path; a path outside the folder (an allowed root) keeps the `..` steps to it."""
    try:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive: nothing relative exists
        return path.name


def source_where(request: SourceRequest, path: Path | None = None) -> str:
    """`source_id: location` for messages, the location relative to the map config."""
    return f"{request.source_id}: {shown_path(request.location if path is None else path, request.folder)}"


def _text_lengths(values: pd.Series | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pd.Series):
        try:
            values = pa.array(values, from_pandas=True, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (a database's numbers): measured as text
            values = pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.large_string())
    elif not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.large_string())
    return pc.utf8_length(values)


def checked_field_lengths(frame: RawFrame, limits: SourceLimits, where: str) -> None:
    """SourceError naming the row and column of the first field (in row order) longer than `max_field_length`."""
    names = frame.column_names if isinstance(frame, pa.Table) else [str(c) for c in frame.columns]
    rows = (frame.column(ROW_COLUMN).to_pandas() if isinstance(frame, pa.Table) else frame[ROW_COLUMN]).to_numpy()
    first: tuple[int, str, int] | None = None
    for column in (c for c in names if c != ROW_COLUMN):
        lengths = _text_lengths(frame.column(column) if isinstance(frame, pa.Table) else frame[column])
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= limits.max_field_length:
            continue
        position = pc.index(pc.greater(lengths, limits.max_field_length), True).as_py()
        found = (int(rows[position]), column, int(lengths[position].as_py()))
        first = found if first is None or found[0] < first[0] else first
    if first is not None:
        raise field_too_long(where, *first, limits)


def as_pandas(frame: RawFrame) -> pd.DataFrame:
    return frame.to_pandas() if isinstance(frame, pa.Table) else frame


@dataclass
class RawTables:
    """What a kind read: raw frames keyed by the canonical table they feed, and problems met while reading
    (such as broken references inside a partner's package) as reject records."""

    tables: dict[str, RawFrame]
    problems: list[RejectRecord] = field(default_factory=list)
    sha256: str | None = None  # kinds that read no file (a database) hash the rows they read
    rows_filtered: int = 0  # rows the kind's own options left out by design (counted, never rejected)


@dataclass
class Extract:
    """Raw frames keyed by the canonical table they feed, reading problems, and provenance."""

    tables: dict[str, RawFrame]
    problems: list[RejectRecord]
    provenance: Provenance
    rows_filtered: int = 0


@dataclass(frozen=True)
class SourceKind:
    """A registered kind: how to read it and, for structured kinds, the column mapping it implies."""

    name: str
    read: Callable[[SourceRequest], RawTables]
    options: type[KindOptions]
    tables: tuple[str, ...] | None = None  # None: a generic kind that feeds the table named in config
    default_columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> canonical -> raw
    default_constants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # table -> canonical -> value
    hashed_files: Callable[[SourceRequest], list[Path]] | None = None  # files beyond `location` that it reads
    # kinds that read no file (a database): where the data is, for provenance and rejects, credentials masked
    describe: Callable[[SourceRequest], str] | None = None


KINDS: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> SourceKind:
    KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> SourceKind:
    try:
        return KINDS[name]
    except KeyError:
        raise SourceError(f"unknown source kind {name!r}; known kinds: {', '.join(sorted(KINDS))}") from None


def sha256_of(paths: list[Path]) -> str:
    """One hash over the bytes of every file read (and, inside folders, their relative names), so the same
    content hashes the same wherever it lies. Remembered while no file's device, inode, size or times change (its
    change time moves with any write, and no user can set it): a refresh hashes every extract for its
    nothing-changed shortcut, then again in the flow, and a scheduled refresh in a fresh process takes the digests
    an earlier one kept (`lasting_digests`, `remember_digests`)."""
    named = [(path, sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]) for path in paths]
    started = time.time_ns()  # before the files' times are read: a write from here on moves them past it
    state = tuple((str(path.resolve()), *((str(file.resolve()), *_signature(file)) for file in files))
                  for path, files in named)  # the roots too: a file's name in the hash is relative to its root
    with _DIGESTS_LOCK:
        if state in _DIGESTS:
            known, hashed_at, _ = _DIGESTS[state]
            _DIGESTS[state] = (known, hashed_at, time.monotonic_ns())
            return known
    digest = hashlib.sha256()
    for path, files in named:
        for file in files:
            digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
            with file.open("rb") as handle:
                for block in iter(partial(handle.read, 1 << 20), b""):
                    digest.update(block)
    with _DIGESTS_LOCK:
        _DIGESTS[state] = (digest.hexdigest(), started, time.monotonic_ns())
        while len(_DIGESTS) > DIGESTS_KEPT:
            del _DIGESTS[next(iter(_DIGESTS))]
    return digest.hexdigest()


DIGESTS_KEPT = 10_000
# A digest is kept across processes only when each of its files was last written this long before hashing began:
# a file written again within its filesystem's clock tick could keep the same times (git's "racily clean" entries).
RACY_NS = 2_000_000_000
DigestState: TypeAlias = tuple[tuple[Any, ...], ...]  # per root: its path, then per file its path and _signature
# state -> (digest, when its hashing began (ns since the epoch), when last made or asked for (monotonic ns))
_DIGESTS: dict[DigestState, tuple[str, int, int]] = {}
_DIGESTS_LOCK = threading.Lock()


def _signature(file: Path) -> tuple[int, ...]:
    stat = file.stat()
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def lasting_digests(used_since: int = 0) -> list[list[Any]]:
    """The digests made or asked for since `used_since` (`time.monotonic_ns()`) that another process may trust,
    as JSON-able `[state, digest, hashed_at]` entries: every file's times at least RACY_NS before its hashing
    began."""
    with _DIGESTS_LOCK:
        entries = list(_DIGESTS.items())
    return [[state, digest, started] for state, (digest, started, used) in entries if used >= used_since
            and all(max(file[4], file[5]) <= started - RACY_NS for root in state for file in root[1:])]


def remember_digests(entries: list[list[Any]]) -> None:
    """Take digests another process kept (`lasting_digests`); an entry of the wrong shape is skipped (the file is
    then hashed again)."""
    taken = {}
    for entry in entries:
        try:
            state_rows, digest, started = entry
            if not isinstance(digest, str) or any(len(file) != 6 for root in state_rows for file in root[1:]):
                continue
            state = tuple((str(root[0]), *((str(f[0]), *(int(n) for n in f[1:])) for f in root[1:]))
                          for root in state_rows)
            taken[state] = (digest, int(started), 0)
        except (TypeError, ValueError, IndexError):
            continue
    with _DIGESTS_LOCK:
        for state, value in taken.items():
            _DIGESTS.setdefault(state, value)


def source_files(kind: SourceKind, request: SourceRequest) -> list[Path]:
    """Every file a file-reading kind reads for this source (the ones its hash covers)."""
    return [request.location, *(kind.hashed_files(request) if kind.hashed_files else [])]


def fingerprint(kind: SourceKind, request: SourceRequest) -> str | None:
    """The sha256 `extract` would record, from the bytes alone (no parsing, cheap); None when only reading can
    tell (a database) or a file cannot be read."""
    if kind.describe is not None:
        return None
    try:
        files = source_files(kind, request)
        return sha256_of(files) if all(f.exists() for f in files) else None
    except (OSError, ValueError):
        return None


def source_size(kind: SourceKind, request: SourceRequest) -> int | None:
    """The bytes of the files a file-reading kind reads for this source; None when only reading can tell (a
    database) or a file cannot be read."""
    if kind.describe is not None:
        return None
    try:
        return sum(f.stat().st_size for f in source_files(kind, request) if f.is_file())
    except (OSError, ValueError):
        return None


def extract(kind: SourceKind, request: SourceRequest) -> Extract:
    """Read one source with its kind and record provenance."""
    where = source_where(request) if kind.describe is None else f"{request.source_id}: {kind.describe(request)}"
    if kind.describe is None and not request.location.exists():
        raise SourceError(
            f"{request.source_id}: file not found: {shown_path(request.location, request.folder)} "
            "(check `location` in the map config; it is relative to the config file)"
        )
    if kind.describe is None:
        checked_size(source_files(kind, request), request.limits, where)
    extracted_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    raw = kind.read(request)
    for table, frame in raw.tables.items():
        checked_rows(len(frame), request.limits, f"{where}: {table}")
        if ROW_COLUMN in (frame.column_names if isinstance(frame, pa.Table) else frame.columns):
            checked_field_lengths(frame, request.limits, f"{where}: {table}" if table else where)
    provenance = Provenance(
        source_id=request.source_id,
        kind=kind.name,
        location=kind.describe(request) if kind.describe else shown_path(request.location, request.folder),
        sha256=raw.sha256 or sha256_of(source_files(kind, request)),
        rows=sum(len(frame) for frame in raw.tables.values()),
        extracted_at=extracted_at,
    )
    return Extract(tables=raw.tables, problems=raw.problems, provenance=provenance, rows_filtered=raw.rows_filtered)
