"""Standardise one source's raw frame to a staged table: rename, apply constants and code mappings, parse periods
and counts, and validate with the staged contract. Every row not taken becomes a reject; nothing is dropped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pandera.errors as pa_errors

from expectations.canonical import QUALIFIERS, STAGED_MODELS, columns
from transforms.rejects import REJECT_COLUMNS, concat_rejects, normalised_rejects, row_rejects

ROW_COLUMN = "__row__"
SUPPRESSED_MARKS = {"*", "c", "<5", "<3", "<10", "suppressed"}  # partner spellings of a suppressed small count
KEY_COLUMNS = {
    "organisations": ["organisation_key"],
    "services": ["service_key"],
    "activity": ["service_key"],
    "flows": ["from_key", "to_key"],
}
NAMESPACE_OF = {"service_key": "service_ns", "from_key": "from_ns", "to_key": "to_ns"}
MAPPABLE: dict[str, list[str]] = {
    "organisations": ["organisation_key", "name", "sector", "email", "phone", "website"],
    "services": [
        "service_key", "name", "organisation_key", "lane", "setting", "client_groups", "locality",
        "area_code", "status", "external_ids", "same_as",
    ],
    "activity": ["service_key", "period", "period_start", "period_end", "measure", "value", "qualifier"],
    "flows": ["from_key", "to_key", "period", "period_start", "period_end", "measure", "value", "qualifier"],
}
REQUIRED: dict[str, list[str]] = {
    "organisations": ["organisation_key", "name", "sector"],
    "services": ["service_key", "name", "lane"],
    "activity": ["service_key", "measure"],
    "flows": ["from_key", "to_key", "measure"],
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


@dataclass
class Staged:
    """A staged table, its rejects, and rows set aside as outside the map period for a clipped source."""

    table: str
    frame: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    rows_clipped: int = 0


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


def _text(series: pd.Series) -> pd.Series:
    """Trimmed text with empty strings as missing."""
    text = series.astype("object").where(series.notna(), None)
    text = text.map(lambda v: v.strip() if isinstance(v, str) else (None if v is None else str(v).strip()))
    return text.where(text.map(lambda v: v is not None and v != ""), None)


def parsed_periods(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Period start and end from months ("2025-04", "202504") or dates ("2025-04-01", "01/04/2025")."""
    text = text.fillna("")
    start = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    end = start.copy()
    patterns = [
        (r"^\d{4}-\d{2}$", "%Y-%m", True),
        (r"^\d{6}$", "%Y%m", True),
        (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d", False),
        (r"^\d{4}-\d{2}-\d{2}[T ][\d:.]+$", None, False),
        (r"^\d{1,2}/\d{1,2}/\d{4}$", "%d/%m/%Y", False),
    ]
    for pattern, fmt, is_month in patterns:
        hit = text.str.match(pattern) & start.isna()
        if not hit.any():
            continue
        parsed = pd.to_datetime(text[hit], format=fmt, errors="coerce")
        if fmt is None:
            parsed = parsed.dt.normalize()
        start[hit] = parsed
        end[hit] = (parsed + pd.offsets.MonthEnd(0)) if is_month else parsed
    return start, end


def parsed_counts(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers from count text ("1,234", " 12 "), suppression marks ("<5", "*") as missing + qualifier "c".

    Returns (value, suppressed mask, unparseable mask)."""
    cleaned = text.fillna("").str.replace(",", "", regex=False).str.strip()
    suppressed = cleaned.str.lower().isin(SUPPRESSED_MARKS)
    value = pd.to_numeric(cleaned.where(~suppressed & (cleaned != "")), errors="coerce")
    unparseable = value.isna() & ~suppressed & (cleaned != "")
    return value.astype("float64"), suppressed, unparseable


def staged_table(raw: pd.DataFrame, table: str, mapping: SourceMapping) -> Staged:
    """The staged `table` of one source, with every refused row as a reject."""
    rejects = _Collector(mapping)
    mapped = {**{c: c for c in MAPPABLE[table] if c in raw.columns and c not in mapping.columns}, **mapping.columns}
    mapped = {canonical: rawname for canonical, rawname in mapped.items() if canonical in MAPPABLE[table]}
    rows_read = len(raw)

    missing = [rawname for rawname in mapped.values() if rawname not in raw.columns]
    for rawname in missing:
        rejects.whole_file(rawname, "missing_column",
                           f"column {rawname!r} named in the mapping is not in the extract; "
                           f"columns found: {', '.join(c for c in raw.columns if c != ROW_COLUMN)}")
    lacking = [c for c in REQUIRED[table] if c not in mapped and c not in mapping.constants]
    if table in ("activity", "flows") and not ({"period", "period_start"} & (set(mapped) | set(mapping.constants))):
        lacking.append("period")
    for canonical in lacking:
        rejects.whole_file(canonical, "missing_column",
                           f"no column is mapped to the required {table} column {canonical!r}; "
                           f"add it under `columns` or `constants` in the map config")
    if missing or lacking:
        return Staged(table, _empty(table), concat_rejects(rejects.frames), rows_read)
    for unused in [c for c in raw.columns if c != ROW_COLUMN and c not in mapped.values()]:
        rejects.whole_file(unused, "unknown_column", f"column {unused!r} is not used by the mapping")

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
        frame = rejects.reject(frame, present & ~known, canonical, "unmapped_code",
                               f"code not in codes.{canonical} of the map config", mapped.get(canonical))
        frame[canonical] = frame[canonical].map(lambda v, lk=lookup: lk.get(v, v) if v is not None else None)

    for canonical in [c for c in REQUIRED[table] if c in frame]:
        frame = rejects.reject(frame, frame[canonical].isna(), canonical, "missing_value",
                               f"{canonical} is empty", mapped.get(canonical))

    if table == "services":
        frame = _services(frame, mapping, rejects, mapped)
    elif table == "organisations":
        frame["partner"] = mapping.partner
    else:
        frame, clipped = _measured(frame, mapping, rejects, mapped)
        staged = _validated(frame, table, mapping, rejects)
        return Staged(table, staged, concat_rejects(rejects.frames), rows_read, clipped)

    frame = _first_of_each_key(frame, table, rejects, mapped)
    return Staged(table, _validated(frame, table, mapping, rejects), concat_rejects(rejects.frames), rows_read)


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
    frame = rejects.reject(frame, frame["period_start"].isna() | frame["period_end"].isna(), period_column,
                           "bad_period", "period is not a month or a date (use YYYY-MM or YYYY-MM-DD)",
                           mapped.get(period_column))
    spans = frame["period_start"].dt.to_period("M") != frame["period_end"].dt.to_period("M")
    frame = rejects.reject(frame, spans, period_column, "period_spans_months",
                           "period spans more than one calendar month", mapped.get(period_column))

    clipped = 0
    if mapping.map_period is not None:
        first, last = (pd.Timestamp(d) for d in mapping.map_period)
        outside = (frame["period_start"] < first) | (frame["period_end"] > last)
        if mapping.clip_to_map_period:
            clipped = int(outside.sum())
            frame = frame[~outside]
        else:
            frame = rejects.reject(frame, outside, period_column, "outside_map_period",
                                   f"period is outside the map period {first:%Y-%m} to {last:%Y-%m}",
                                   mapped.get(period_column))

    if "qualifier" in frame:
        known = frame["qualifier"].isna() | frame["qualifier"].isin(list(QUALIFIERS))
        frame = rejects.reject(frame, ~known, "qualifier", "invalid_value",
                               f"qualifier is not a PHS code ({' '.join(QUALIFIERS)})", mapped.get("qualifier"))
    else:
        frame["qualifier"] = None

    if "value" in frame:
        value, suppressed, unparseable = parsed_counts(frame["value"])
        frame["value"] = value
        frame = rejects.reject(frame, unparseable, "value", "not_a_number", "count is not a number",
                               mapped.get("value"))
        suppressed = suppressed.reindex(frame.index)
        frame.loc[suppressed, "qualifier"] = frame.loc[suppressed, "qualifier"].fillna("c")
        frame = rejects.reject(frame, frame["value"] < 0, "value", "negative_value", "count is negative",
                               mapped.get("value"))
        frame = rejects.reject(frame, frame["value"].isna() & frame["qualifier"].isna(), "value", "missing_value",
                               "count is empty and no qualifier says why", mapped.get("value"))
        keys = ["period_start", "measure", *[k for k in ("service_key", "from_key", "to_key") if k in frame]]
        repeated = frame.duplicated(subset=keys, keep="first")
        frame = rejects.reject(frame, repeated, period_column, "duplicate_period",
                               "the same key, measure and period appears earlier in this extract",
                               mapped.get(period_column))
    else:
        frame["value"] = 1.0  # a record-level extract: each row is one event
    return frame, clipped


def _first_of_each_key(frame: pd.DataFrame, table: str, rejects: _Collector, mapped: dict[str, str]) -> pd.DataFrame:
    key = KEY_COLUMNS[table][0]
    return rejects.reject(frame, frame.duplicated(subset=[key], keep="first"), key, "duplicate_key",
                          f"{key} appears earlier in this extract", mapped.get(key))


def _validated(frame: pd.DataFrame, table: str, mapping: SourceMapping, rejects: _Collector) -> pd.DataFrame:
    """Rows that pass the staged contract; failures become rejects (pandera, lazy: every failure at once)."""
    model = STAGED_MODELS[table]
    wanted = columns(model)
    frame = frame.rename(columns={ROW_COLUMN: "row_number"})
    frame["source_id"] = mapping.source_id
    for column in wanted:
        if column not in frame:
            frame[column] = None
    try:
        return model.validate(frame[wanted], lazy=True).reset_index(drop=True)
    except pa_errors.SchemaErrors as errors:
        cases = errors.failure_cases
        row_cases = cases[cases["index"].notna()]
        bad_index = pd.Index(row_cases["index"].unique())
        failed = frame.loc[bad_index]
        first = row_cases.drop_duplicates("index").set_index("index")
        rejects.frames.append(normalised_rejects(pd.DataFrame({
            "source_id": mapping.source_id,
            "location": mapping.location,
            "row_number": failed["row_number"].to_numpy(),
            "column": first.loc[bad_index, "column"].to_numpy(),
            "check": "invalid_value",
            "severity": "error",
            "value": first.loc[bad_index, "failure_case"].astype(str).to_numpy(),
            "message": ("value fails the contract check " + first.loc[bad_index, "check"].astype(str)).to_numpy(),
        }, columns=REJECT_COLUMNS)))
        schema_level = cases[cases["index"].isna()]
        if len(schema_level):
            raise
        return model.validate(frame.drop(index=bad_index)[wanted]).reset_index(drop=True)


def _empty(table: str) -> pd.DataFrame:
    model = STAGED_MODELS[table]
    return model.validate(pd.DataFrame({c: pd.Series(dtype="object") for c in columns(model)}))


