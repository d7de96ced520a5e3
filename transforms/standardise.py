"""Standardise one source's raw frame to a staged table: rename, apply constants and code mappings, parse periods
and counts, and validate with the staged contract (pandera, in chunks for big frames). Every row not taken becomes
a reject; nothing is dropped. Findings that do not refuse a row (unused columns, mixed date formats, monthly
outliers) are reject records of `warn` severity: reported, the row kept."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
import pyarrow
import pyarrow.compute

from expectations.canonical import QUALIFIERS, SECTORS, STAGED_MODELS, columns, empty_frame, passing_frame
from expectations.periods import FINANCIAL_YEAR, PERIOD_FORMATS, QUARTER, SPAN_FORMATS
from transforms.numbers import DEFAULT_RULE, NumberRule, parsed_numbers
from transforms.quality_summary import monthly_outliers
from transforms.rejects import REJECT_COLUMNS, concat_rejects, normalised_rejects, row_rejects

ROW_COLUMN = "__row__"
VALIDATION_CHUNK_ROWS = 200_000  # pandera validates big frames in slices, so its failure report stays small
DEFAULT_OUTLIER_RATIO = 20.0
LIKELY_DELIMITERS = (";", "\t", "|", ",")
PERIOD_DTYPE = "datetime64[us]"  # periods as parsed: any year written reads
HELD_TIMES = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))  # the days a nanosecond period can hold
BAD_PERIOD = "period is not a month or a date (use YYYY-MM or YYYY-MM-DD)"
SUPPRESSED_MARKS = {"*", "c", "<5", "<3", "<10", "suppressed"}  # partner spellings of a suppressed small count
KEY_COLUMNS = {
    "organisations": ["organisation_key"],
    "services": ["service_key"],
    "activity": ["service_key"],
    "flows": ["from_key", "to_key"],
    "initiatives": ["initiative_key"],
}
NAMESPACE_OF = {"service_key": "service_ns", "from_key": "from_ns", "to_key": "to_ns"}
MAPPABLE: dict[str, list[str]] = {
    "organisations": ["organisation_key", "name", "sector", "email", "phone", "website"],
    "services": [
        "service_key", "name", "description", "organisation_key", "lane", "setting", "client_groups", "locality",
        "area_code", "status", "external_ids", "same_as",
    ],
    "activity": ["service_key", "period", "period_start", "period_end", "measure", "value", "qualifier"],
    "flows": ["from_key", "to_key", "period", "period_start", "period_end", "measure", "value", "qualifier"],
    "initiatives": ["initiative_key", "name", "status", "services", "lead_partner"],
}
REQUIRED: dict[str, list[str]] = {
    "organisations": ["organisation_key", "name", "sector"],
    "services": ["service_key", "name", "lane"],
    "activity": ["service_key", "measure"],
    "flows": ["from_key", "to_key", "measure"],
    "initiatives": ["initiative_key", "name", "services"],
}


@dataclass(frozen=True)
class SourceMapping:
    """How one source's raw columns become canonical ones (kind defaults merged with the map config)."""

    source_id: str
    partner: str
    location: str
    columns: Mapping[str, str] = field(default_factory=dict)  # canonical -> raw
    constants: Mapping[str, Any] = field(default_factory=dict)
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    namespaces: Mapping[str, str] = field(default_factory=dict)
    same_as: Mapping[str, str] = field(default_factory=dict)
    lanes: tuple[str, ...] = ()
    map_period: tuple[date, date] | None = None
    clip_to_map_period: bool = False
    outlier_ratio: float = DEFAULT_OUTLIER_RATIO  # a month above this many times the usual month is flagged
    keep_unlisted: tuple[str, ...] = ()  # canonical columns whose codes not in `codes` pass unchanged
    code_defaults: Mapping[str, str] = field(default_factory=dict)  # canonical -> value of codes not in `codes`
    duplicates: str = "reject"  # same key, measure and period twice: "reject" both, or "sum" them
    numbers: NumberRule = DEFAULT_RULE  # the source's decimal and thousands separators (transforms/numbers.py)


@dataclass
class Staged:
    """A staged table, its rejects, and rows set aside as outside the map period for a clipped source."""

    table: str
    frame: pd.DataFrame | pyarrow.Table  # Arrow when staged in DuckDB (transforms/staging_sql.py)
    rejects: pd.DataFrame
    rows_read: int
    rows_clipped: int = 0
    rows_filtered: int = 0  # rows left out by design (the source's `where`), counted, never rejected

    @property
    def rows_accepted(self) -> int:
        """Rows of the extract the frame holds: a log counted by month (`row_numbers`) holds several per row; a wide
        row unpivoted into one row per measure is one."""
        if isinstance(self.frame, pyarrow.Table) and "row_numbers" in self.frame.column_names:
            return int(pyarrow.compute.sum(pyarrow.compute.list_value_length(self.frame["row_numbers"])).as_py() or 0)
        if isinstance(self.frame, pd.DataFrame) and "row_number" in self.frame:
            return int(self.frame["row_number"].nunique())
        return len(self.frame)


class _Collector:
    """Accumulates rejects and removes the rejected rows from the working frame."""

    def __init__(self, mapping: SourceMapping) -> None:
        self.mapping = mapping
        self.frames: list[pd.DataFrame] = []

    def reject(self, frame: pd.DataFrame, mask: pd.Series, column: str | None, check: str, message: str,
               raw_column: str | None = None) -> pd.DataFrame:
        if not mask.any():
            return frame
        bad = frame[mask]
        shown = raw_column or column
        values = bad[f"__raw_{column}"] if column and f"__raw_{column}" in bad else (bad[column] if column else None)
        self.frames.append(
            row_rejects(self.mapping.source_id, self.mapping.location, bad[ROW_COLUMN], values, shown, check, message)
        )
        return frame[~mask]

    def whole_file(self, column: str | None, check: str, message: str, value: str | None = None) -> None:
        self.frames.append(
            row_rejects(self.mapping.source_id, self.mapping.location, pd.Series([0]),
                        pd.Series([value]), column, check, message)
        )

    def flag(self, rows: pd.Series, values: pd.Series, column: str | None, check: str, messages: pd.Series) -> None:
        """Warn-severity records for rows that stay in the table, each with its own message."""
        found = row_rejects(self.mapping.source_id, self.mapping.location, rows, values, column, check, "")
        found["message"] = messages.to_numpy()
        self.frames.append(found)


def _text(series: pd.Series) -> pd.Series:
    """Trimmed text with empty strings as missing: pandas' text dtype when a value is there, else all None."""
    # one Python pass over plain values: pandas' per-call costs (five calls here) dominated the small tables
    values = series.to_numpy(dtype="object", na_value=None)
    trimmed = [None if v is None else (v if isinstance(v, str) else str(v)).strip() for v in values]
    dtype = "str" if any(v is not None for v in trimmed) else "object"  # as pandas infers it from the values
    return pd.Series([v or None for v in trimmed], index=series.index, dtype=dtype, name=series.name)


def _distinct(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each value's position among the distinct values of `text` (missing read as ""), and those values, of the
    same dtype: a period column holds a few distinct months however many rows it has, so each is parsed once."""
    codes, uniques = pd.factorize(text.fillna(""))
    return codes, pd.Series(uniques)


def parsed_periods(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Period start and end from months ("2025-04", "202504") or dates ("2025-04-01", "20250401", "01/04/2025"),
    at microsecond resolution so that any year written reads (0001-01 is a month, if not one a map covers;
    `_measured` refuses what a staged table, in nanoseconds, cannot hold)."""
    codes, distinct = _distinct(text)
    start, end = _distinct_periods(distinct)
    return (pd.Series(start.to_numpy()[codes], index=text.index),
            pd.Series(end.to_numpy()[codes], index=text.index))


def _distinct_periods(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """parsed_periods of distinct values (in order of first appearance, so an ISO date-time's format is inferred
    from the same first value as it would be from the whole column)."""
    start = pd.Series(pd.NaT, index=text.index, dtype=PERIOD_DTYPE)
    end = start.copy()
    values = text.tolist()
    pending = np.ones(len(values), dtype=bool)  # no format has read the value yet
    for pattern, fmt, is_month, _ in PERIOD_FORMATS:
        hit = _matching(values, pattern) & pending
        if not hit.any():
            continue
        parsed = pd.to_datetime(text[hit], format=fmt, errors="coerce")
        if fmt is None:
            parsed = parsed.dt.normalize()
        start[hit] = parsed
        end[hit] = (parsed + pd.offsets.MonthEnd(0)) if is_month else parsed
        pending[hit] = parsed.isna().to_numpy()
    for pattern, _ in SPAN_FORMATS:
        hit = _matching(values, pattern) & pending
        if hit.any():
            span_start, span_end = _spans(text[hit].str.extract(pattern), pattern)
            start[hit], end[hit] = span_start, span_end
            pending[hit] = span_start.isna().to_numpy()
    return start, end


def _matching(values: list[Any], pattern: str) -> np.ndarray:
    """Which of `values` the pattern matches from their start, as pandas' `str.match` does (Python's `re`), in one
    Python pass: a period column's distinct values are few, and pandas' per-call costs were most of the parsing."""
    matcher = re.compile(pattern).match
    return np.fromiter((isinstance(value, str) and matcher(value) is not None for value in values), dtype=bool,
                       count=len(values))


def _spans(parts: pd.DataFrame, pattern: str) -> tuple[pd.Series, pd.Series]:
    """Start and end of quarters, financial years or ISO weeks from their captured parts (invalid: NaT)."""
    year = parts[0].astype(int).map("{:04d}".format)

    def day(text: pd.Series, written: str = "%Y-%m-%d") -> pd.Series:
        return pd.to_datetime(text, format=written, errors="coerce").astype(PERIOD_DTYPE)

    if pattern == QUARTER:
        start = day(year + "-" + ((parts[1].astype(int) - 1) * 3 + 1).map("{:02d}".format) + "-01")
        return start, start + pd.offsets.QuarterEnd(0)
    if pattern == FINANCIAL_YEAR:
        start = day(year + "-04-01")
        valid = (year.astype(int) + 1) % 100 == parts[1].astype(int)
        return start.where(valid), (start + pd.DateOffset(years=1) - pd.Timedelta(days=1)).where(valid)
    start = day(year + "-W" + parts[1] + "-1", "%G-W%V-%u")
    return start, start + pd.Timedelta(days=6)


def period_formats(text: pd.Series) -> pd.Series:
    """The name of the format each period is written in (YYYY-MM, DD/MM/YYYY, ...); missing where none fits."""
    codes, distinct = _distinct(text)
    formats = [(pattern, name) for pattern, _, _, name in PERIOD_FORMATS] + list(SPAN_FORMATS)
    named = np.full(len(distinct), np.nan, dtype="object")
    values = distinct.tolist()
    for pattern, name in formats:
        hit = _matching(values, pattern) & pd.isna(named)
        named[hit] = name
    return pd.Series(named[codes], index=text.index, dtype="object")


def layout_hint(found: list[str]) -> str:
    """Why the mapped columns may be missing, judged from the header that was found: a wrong delimiter (one
    column whose name holds another delimiter) or a title row above the header (blank or unnamed cells)."""
    if len(found) <= 2:
        for delimiter in LIKELY_DELIMITERS:
            if any(delimiter in name for name in found):
                return f"; the header looks {delimiter!r}-separated: set options.delimiter = {delimiter!r}"
    generated = [name for name in found if name.startswith("column_")]
    if found and len(generated) >= len(found) / 2:
        return "; the first row looks like a title, not a header: set options.header_row to the header's row"
    return ""


def parsed_counts(text: pd.Series, rule: NumberRule = DEFAULT_RULE) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers from count text ("1,234", " 12 ") read by the source's `rule`, suppression marks ("<5", "*") as
    missing + qualifier "c".

    Returns (value, suppressed mask, why each unreadable value is refused: missing where it was read)."""
    suppressed = text.fillna("").str.strip().str.lower().isin(SUPPRESSED_MARKS)
    value, reason = parsed_numbers(text.where(~suppressed), rule)
    return value, suppressed, reason


def header_rejects(raw_columns: Sequence[str], table: str, mapping: SourceMapping) -> tuple[pd.DataFrame, bool]:
    """The whole-file rejects an extract's header earns for `table` (missing, unmapped or unused columns), and
    whether its rows can be staged at all (no mapped or required column missing)."""
    rejects = _Collector(mapping)
    stageable = _checked_header(raw_columns, table, mapping, rejects) is not None
    return concat_rejects(rejects.frames), stageable


def mapped_columns(raw_columns: Sequence[str], table: str, mapping: SourceMapping) -> dict[str, str]:
    """Canonical column -> raw column: the mapping's, and raw columns already named canonically."""
    mapped = {**{c: c for c in MAPPABLE[table] if c in raw_columns and c not in mapping.columns}, **mapping.columns}
    return {canonical: rawname for canonical, rawname in mapped.items() if canonical in MAPPABLE[table]}


def _checked_header(raw_columns: Sequence[str], table: str, mapping: SourceMapping,
                    rejects: _Collector) -> dict[str, str] | None:
    """The mapped columns (`mapped_columns`), or None when the rows cannot be staged; the header's whole-file
    rejects go to `rejects`."""
    mapped = mapped_columns(raw_columns, table, mapping)
    missing = [rawname for rawname in mapped.values() if rawname not in raw_columns]
    found = [str(c) for c in raw_columns if c != ROW_COLUMN]
    for rawname in missing:
        rejects.whole_file(rawname, "missing_column",
                           f"column {rawname!r} named in the mapping is not in the header of "
                           f"{mapping.location or 'the extract'}; columns found: {', '.join(found) or 'none'}"
                           + layout_hint(found))
    lacking = [c for c in REQUIRED[table] if c not in mapped and c not in mapping.constants]
    if table in ("activity", "flows") and not ({"period", "period_start"} & (set(mapped) | set(mapping.constants))):
        lacking.append("period")
    for canonical in lacking:
        rejects.whole_file(canonical, "missing_column",
                           f"no column is mapped to the required {table} column {canonical!r}; "
                           f"add it under `columns` or `constants` in the map config")
    if missing or lacking:
        return None
    for unused in [c for c in raw_columns if c != ROW_COLUMN and c not in mapped.values()]:
        rejects.whole_file(unused, "unknown_column", f"column {unused!r} is not used by the mapping")
    return mapped


def staged_table(raw: pd.DataFrame, table: str, mapping: SourceMapping) -> Staged:
    """The staged `table` of one source, with every refused row as a reject."""
    rejects = _Collector(mapping)
    rows_read = len(raw)
    mapped = _checked_header(list(raw.columns), table, mapping, rejects)
    if mapped is None:
        return Staged(table, empty_staged(table), concat_rejects(rejects.frames), rows_read)

    frame = pd.DataFrame({ROW_COLUMN: raw[ROW_COLUMN].astype("int64")}, index=raw.index)
    for canonical, rawname in mapped.items():
        frame[canonical] = _text(raw[rawname])
        frame[f"__raw_{canonical}"] = frame[canonical]
    for canonical, value in mapping.constants.items():
        if canonical in MAPPABLE[table] and canonical not in mapped:
            frame[canonical] = None if value is None else str(value)
            frame[f"__raw_{canonical}"] = frame[canonical]

    for canonical, codes in mapping.codes.items():
        if canonical not in frame:
            continue
        lookup = {str(k).strip(): v for k, v in codes.items()}
        present = frame[canonical].notna()
        known = frame[canonical].isin(list(lookup))
        if canonical in mapping.code_defaults:
            default = mapping.code_defaults[canonical]
            frame[canonical] = frame[canonical].where(~present | known, default)
            known = present
        elif canonical not in mapping.keep_unlisted:
            frame = rejects.reject(frame, present & ~known, canonical, "unmapped_code",
                                   f"code not in codes.{canonical} of the map config", mapped.get(canonical))
        frame[canonical] = frame[canonical].map(lambda v, lk=lookup: lk.get(v, v) if v is not None else None)

    for canonical in [c for c in REQUIRED[table] if c in frame]:
        frame = rejects.reject(frame, frame[canonical].isna(), canonical, "missing_value",
                               f"{canonical} is empty", mapped.get(canonical))

    if table == "services":
        frame = _services(frame, mapping, rejects, mapped)
    elif table in ("organisations", "initiatives"):
        frame["partner"] = mapping.partner
    else:
        frame, clipped = _measured(frame, mapping, rejects, mapped)
        staged = _validated(frame, table, mapping, rejects, mapped)
        return Staged(table, staged, concat_rejects(rejects.frames), rows_read, clipped)

    frame = _first_of_each_key(frame, table, rejects, mapped)
    return Staged(table, _validated(frame, table, mapping, rejects, mapped), concat_rejects(rejects.frames), rows_read)


def _services(frame: pd.DataFrame, mapping: SourceMapping, rejects: _Collector, mapped: dict[str, str]) -> pd.DataFrame:
    frame["partner"] = mapping.partner
    if mapping.lanes:
        frame = rejects.reject(frame, ~frame["lane"].isin(list(mapping.lanes)), "lane", "invalid_value",
                               f"lane is not one of the map's lanes ({', '.join(mapping.lanes)}); "
                               "map it with codes.lane", mapped.get("lane"))
    crosswalk = frame["service_key"].map(mapping.same_as.get)
    frame["same_as"] = crosswalk.where(crosswalk.notna(), frame.get("same_as"))
    return frame


def _measured(frame: pd.DataFrame, mapping: SourceMapping, rejects: _Collector,
              mapped: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """Periods, counts and qualifiers for activity and flows."""
    for key, ns in NAMESPACE_OF.items():
        if key in frame:
            frame[ns] = mapping.namespaces.get(key, mapping.partner)

    if "period" in frame:
        start, end = parsed_periods(frame["period"])
    else:
        start, _ = parsed_periods(frame["period_start"])
        end_text = frame["period_end"] if "period_end" in frame else frame["period_start"]
        _, end = parsed_periods(end_text)
    frame["period_start"], frame["period_end"] = start, end
    period_column = "period" if "period" in mapped else "period_start"
    _warn_mixed_formats(frame[f"__raw_{period_column}"], frame[ROW_COLUMN], mapped.get(period_column, period_column),
                        rejects)
    frame = rejects.reject(frame, frame["period_start"].isna() | frame["period_end"].isna(), period_column,
                           "bad_period", BAD_PERIOD, mapped.get(period_column))
    if "period" not in frame:  # a start and end pair; a published period ("2022Q3", "2021/22") keeps its span
        spans = frame["period_start"].dt.to_period("M") != frame["period_end"].dt.to_period("M")
        frame = rejects.reject(frame, spans, period_column, "period_spans_months",
                               "period spans more than one calendar month", mapped.get(period_column))

    clipped = 0
    if mapping.map_period is not None:
        first, last = (pd.Timestamp(d) for d in mapping.map_period)
        outside = (frame["period_end"] < first) | (frame["period_start"] > last)  # the map period takes overlaps
        if mapping.clip_to_map_period:
            clipped = int(frame.loc[outside, ROW_COLUMN].nunique())  # rows of the file, not values of a wide row
            frame = frame[~outside]
        else:
            frame = rejects.reject(frame, outside, period_column, "outside_map_period",
                                   f"period is outside the map period {first:%Y-%m} to {last:%Y-%m}",
                                   mapped.get(period_column))
    held = frame["period_start"].between(*HELD_TIMES) & frame["period_end"].between(*HELD_TIMES)
    frame = rejects.reject(frame, ~held, period_column, "bad_period", BAD_PERIOD, mapped.get(period_column))
    frame = frame.astype({"period_start": "datetime64[ns]", "period_end": "datetime64[ns]"})

    if "qualifier" in frame:
        known = frame["qualifier"].isna() | frame["qualifier"].isin(list(QUALIFIERS))
        frame = rejects.reject(frame, ~known, "qualifier", "invalid_value",
                               f"qualifier is not a PHS code ({' '.join(QUALIFIERS)})", mapped.get("qualifier"))
    else:
        frame["qualifier"] = None

    if "value" in frame:
        value, suppressed, unreadable = parsed_counts(frame["value"], mapping.numbers)
        frame["value"] = value
        for reason in sorted(unreadable.dropna().unique()):
            frame = rejects.reject(frame, unreadable.reindex(frame.index) == reason, "value", "not_a_number",
                                   f"count is {reason}", mapped.get("value"))
        suppressed = suppressed.reindex(frame.index)
        frame.loc[suppressed, "qualifier"] = frame.loc[suppressed, "qualifier"].fillna("c")
        frame = rejects.reject(frame, frame["value"] < 0, "value", "negative_value", "count is negative",
                               mapped.get("value"))
        frame = rejects.reject(frame, frame["value"].isna() & frame["qualifier"].isna(), "value", "missing_value",
                               "count is empty and no qualifier says why", mapped.get("value"))
        frame = _without_duplicates(frame, mapping, rejects, period_column, mapped.get(period_column))
        _flag_outliers(frame, mapping, rejects, mapped.get("value", "value"))
    else:
        frame["value"] = 1.0  # a record-level extract: each row is one event
    return frame, clipped


def _without_duplicates(frame: pd.DataFrame, mapping: SourceMapping, rejects: _Collector, period_column: str,
                        raw_column: str | None) -> pd.DataFrame:
    """Rows with the same keys, measure and period: added up when the source says `duplicates = "sum"`, else
    every one of them rejected (keeping one would make the result depend on row order)."""
    keys = ["period_start", "period_end", "measure",
            *[k for k in ("service_key", "from_key", "to_key") if k in frame]]
    repeated = frame.duplicated(subset=keys, keep=False)
    if not repeated.any():
        return frame
    if mapping.duplicates != "sum":
        return rejects.reject(frame, repeated, period_column, "duplicate_period",
                              "the same key, measure and period appears more than once in this extract (both "
                              "rejected; set duplicates = \"sum\" on the source if they are parts to add up)",
                              raw_column)
    groups = frame[repeated].groupby(keys, sort=False, dropna=False)
    summed = groups.agg(**{ROW_COLUMN: (ROW_COLUMN, "min"), "value": ("value", lambda v: v.sum(min_count=1)),
                           "qualifier": ("qualifier", _qualifier_of_total)}).reset_index()
    first = frame[repeated].sort_values(ROW_COLUMN).drop_duplicates(keys)
    others = [c for c in first.columns if c not in summed.columns]
    summed = summed.merge(first[[*keys, *others]], on=keys, how="left")
    return pd.concat([frame[~repeated], summed[frame.columns]], ignore_index=True).sort_values(
        ROW_COLUMN, kind="stable").reset_index(drop=True)


def _qualifier_of_total(qualifiers: pd.Series) -> str | None:
    """As consolidation qualifies a total: suppressed if a part is, one shared qualifier kept, mixed ones derived."""
    found = set(qualifiers.dropna())
    if "c" in found:
        return "c"
    return found.pop() if len(found) == 1 else ("d" if found else None)


def _warn_mixed_formats(periods: pd.Series, rows: pd.Series, column: str, rejects: _Collector) -> None:
    """One whole-file warning when a period column mixes formats: 03/04/2025 beside 2025-04-03 may be a US date."""
    named = period_formats(periods).dropna()
    if named.nunique() < 2:
        return
    listed = ", ".join(f"{name} ({n:,} rows, first on row {int(rows[named[named == name].index[0]])})"
                       for name, n in named.value_counts().items())
    rejects.whole_file(column, "mixed_date_formats", f"column {column!r} mixes date formats: {listed}")


def _flag_outliers(frame: pd.DataFrame, mapping: SourceMapping, rejects: _Collector, column: str) -> None:
    """Warn (never reject) where a month's count is far above the usual month of the same key and measure."""
    keys = [k for k in ("service_key", "from_key", "to_key") if k in frame] + ["measure"]
    found = monthly_outliers(frame, keys, mapping.outlier_ratio)
    if found.empty:
        return
    rows = frame.loc[found["row"]]
    described = found[keys[:-1]].astype(str).agg(" -> ".join, axis=1)
    messages = [
        f"{measure} for {key} in {month} total {total:,.0f}, {total / median:,.0f}x the usual month "
        f"({median:,.0f}) in this extract; kept, check it with the partner"
        for key, measure, month, total, median in zip(described, found["measure"], found["month"], found["total"],
                                                      found["median"], strict=True)
    ]
    values = rows["__raw_value"] if "__raw_value" in rows else rows["value"]
    rejects.flag(rows[ROW_COLUMN], values, column, "outlier_value", pd.Series(messages))


def _first_of_each_key(frame: pd.DataFrame, table: str, rejects: _Collector, mapped: dict[str, str]) -> pd.DataFrame:
    key = KEY_COLUMNS[table][0]
    return rejects.reject(frame, frame.duplicated(subset=[key], keep="first"), key, "duplicate_key",
                          f"{key} appears earlier in this extract", mapped.get(key))


def _validated(frame: pd.DataFrame, table: str, mapping: SourceMapping, rejects: _Collector,
               mapped: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rows that pass the staged contract; failures become rejects. Pandera validates lazily (every failure at
    once), one slice of VALIDATION_CHUNK_ROWS rows at a time, so a big extract never builds one huge report."""
    model = STAGED_MODELS[table]
    wanted = columns(model)
    frame = frame.rename(columns={ROW_COLUMN: "row_number"})
    frame["source_id"] = mapping.source_id
    for column in wanted:
        if column not in frame:
            frame[column] = None
    frame = frame[wanted]
    slices = [frame.iloc[i:i + VALIDATION_CHUNK_ROWS] for i in range(0, len(frame), VALIDATION_CHUNK_ROWS)]
    valid = [_valid_rows(part, model, mapping, rejects, mapped or {}) for part in slices or [frame]]
    return (pd.concat(valid, ignore_index=True) if len(valid) > 1 else valid[0]).reset_index(drop=True)


def _contract_words(column: str, check: str) -> str:
    if column == "sector":
        return f"sector is not one of {', '.join(SECTORS)}"
    if column == "measure":
        return "measure must be lower-case letters, digits and _ (such as attendances or bed_days)"
    return f"{column} fails the contract check {check}"


def _valid_rows(frame: pd.DataFrame, model: type[pa.DataFrameModel], mapping: SourceMapping, rejects: _Collector,
                mapped: Mapping[str, str]) -> pd.DataFrame:
    passed = passing_frame(model, frame)
    if passed is not None:
        return passed
    try:
        return model.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as errors:
        cases = errors.failure_cases
        row_cases = cases[cases["index"].notna()]
        bad_index = pd.Index(row_cases["index"].unique())
        failed = frame.loc[bad_index]
        first = row_cases.drop_duplicates("index").set_index("index").loc[bad_index]
        rejects.frames.append(normalised_rejects(pd.DataFrame({
            "source_id": mapping.source_id,
            "location": mapping.location,
            "row_number": failed["row_number"].to_numpy(),
            "column": [mapped.get(str(c), str(c)) for c in first["column"]],
            "check": "invalid_value",
            "severity": "error",
            "value": first["failure_case"].astype(str).to_numpy(),
            "message": [_contract_words(str(c), str(k)) for c, k in zip(first["column"], first["check"], strict=True)],
        }, columns=REJECT_COLUMNS)))
        if len(cases[cases["index"].isna()]):
            raise
        return model.validate(frame.drop(index=bad_index))


def empty_staged(table: str) -> pd.DataFrame:
    return empty_frame(STAGED_MODELS[table])


