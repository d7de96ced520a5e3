"""A source's shaping steps, applied to its raw table after reading and before standardising, in this order:
select rows (`where`) -> reshape wide to long (`unpivot`) -> look up reference tables (`lookups`) -> external ids
from columns. Rows left out by `where` are counted as filtered, never rejected; a key a lookup cannot find is a
reject naming the key, the lookup and its file. Pure: the lookup tables are handed in, already read."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from transforms.numbers import DEFAULT_RULE, NumberRule, parsed_numbers
from transforms.rejects import concat_rejects, row_rejects

ROW_COLUMN = "__row__"
EXTERNAL_IDS_COLUMN = "__external_ids__"  # the raw column `external_ids = { scheme = column }` builds
OPERATORS = ("equals", "not_equals", "in", "not_in", "lt", "le", "gt", "ge", "empty")


@dataclass(frozen=True)
class Condition:
    """One test on a raw column (`operator` one of OPERATORS), or `any_of` several (true when one is)."""

    column: str = ""
    operator: str = "equals"
    value: Any = None
    any_of: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Unpivot:
    """Wide to long: each value column becomes one row with its measure, value and (paired) qualifier."""

    measures: Mapping[str, str]  # value column -> measure
    qualifier_suffix: str | None = None  # the paired qualifier column is "<column><suffix>" (PHS: "QF")


@dataclass(frozen=True)
class Lookup:
    """A reference table joined on a key: `on` (a raw column of the source) matches `key` (a column of the
    table); `take` copies table columns into new raw columns (table column -> new column)."""

    name: str  # the file (as the config names it) or source it comes from, for messages
    table: pd.DataFrame  # text columns, whitespace trimmed, one row per key (checked when read)
    on: str
    key: str
    take: Mapping[str, str]
    unmatched: str = "reject"  # "reject" | "keep" (the taken columns stay empty)


@dataclass(frozen=True)
class SourceSteps:
    """Every shaping step of one source, from its map config (empty: the raw table passes unchanged)."""

    where: tuple[Condition, ...] = ()
    unpivot: Unpivot | None = None
    lookups: tuple[Lookup, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)  # scheme -> raw column
    numbers: NumberRule = DEFAULT_RULE  # how the source writes the numbers a `where` compares

    def __bool__(self) -> bool:
        return bool(self.where or self.unpivot or self.lookups or self.external_ids)


@dataclass
class Shaped:
    """The raw table after the steps: rows kept, rows left out by `where`, and lookup rejects."""

    frame: pd.DataFrame
    rows_filtered: int
    rejects: pd.DataFrame


def _text(series: pd.Series) -> pd.Series:
    text = series.astype("object").where(series.notna(), None)
    text = text.map(lambda v: None if v is None else str(v).strip())
    return text.where(text.map(lambda v: v is not None and v != ""), None)


def _number(series: pd.Series, rule: NumberRule) -> pd.Series:
    """Numbers read by the source's rule; a value the rule cannot read exactly compares as missing (not kept)."""
    return parsed_numbers(series, rule)[0]


def condition_mask(frame: pd.DataFrame, condition: Condition, rule: NumberRule = DEFAULT_RULE) -> pd.Series:
    """Rows of `frame` the condition holds for. Missing and empty cells are equal to nothing and are not in
    any list, so `not_equals` and `not_in` keep them; numbers compare as numbers when the value is a number."""
    if condition.any_of:
        masks = [condition_mask(frame, each, rule) for each in condition.any_of]
        out = masks[0]
        for mask in masks[1:]:
            out = out | mask
        return out
    text = _text(frame[condition.column])
    op, value = condition.operator, condition.value
    if op == "empty":
        return text.isna() if value else text.notna()
    if op in ("equals", "not_equals"):
        hit = text == str(value).strip()
        return hit if op == "equals" else ~hit
    if op in ("in", "not_in"):
        hit = text.isin([str(v).strip() for v in value])
        return hit if op == "in" else ~hit
    if isinstance(value, int | float) and not isinstance(value, bool):
        left: pd.Series = _number(frame[condition.column], rule)
    else:
        left, value = text, str(value)
    compared = {"lt": left < value, "le": left <= value, "gt": left > value, "ge": left >= value}[op]
    return compared.fillna(False).astype(bool) & left.notna()


def selected_rows(frame: pd.DataFrame, where: Sequence[Condition], rule: NumberRule = DEFAULT_RULE
                  ) -> tuple[pd.DataFrame, int]:
    """The rows every condition holds for (conditions combine with and), and how many were left out."""
    if not where:
        return frame, 0
    keep = pd.Series(True, index=frame.index)
    for condition in where:
        keep &= condition_mask(frame, condition, rule)
    return frame[keep], int((~keep).sum())


def measure_from_header(header: str) -> str:
    """A measure name from a column header: words split at capitals and non-letters, lower-case, joined by _
    (`TotalOccupiedBeddays` -> `total_occupied_beddays`)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def unpivoted(frame: pd.DataFrame, unpivot: Unpivot) -> pd.DataFrame:
    """Each row becomes one row per value column: the other columns kept (the qualifier columns paired with a
    value column dropped), plus `measure`, `value` and `qualifier`. Rows stay in file order, each row's values
    in the order the columns were declared; every long row keeps its source row's number."""
    paired = {column: f"{column}{unpivot.qualifier_suffix}" for column in unpivot.measures
              if unpivot.qualifier_suffix and f"{column}{unpivot.qualifier_suffix}" in frame.columns}
    dropped = set(unpivot.measures) | set(paired.values())
    kept = [c for c in frame.columns if c not in dropped and c not in ("measure", "value", "qualifier")]
    parts = []
    for position, (column, measure) in enumerate(unpivot.measures.items()):
        part = frame[kept].copy()
        part["measure"] = measure
        part["value"] = frame[column]
        part["qualifier"] = frame[paired[column]] if column in paired else None
        part["__order__"] = position
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values([ROW_COLUMN, "__order__"], kind="stable").drop(columns="__order__")
    return long.reset_index(drop=True)


def looked_up(frame: pd.DataFrame, lookup: Lookup, source_id: str, location: str) -> tuple[pd.DataFrame,
                                                                                             pd.DataFrame]:
    """The frame with the lookup's columns added (matched on `on` = `key`), and a reject for each row whose
    key the table does not hold (unless `unmatched = "keep"`)."""
    table = lookup.table[[lookup.key, *lookup.take]].rename(columns={lookup.key: "__lookup_key__", **lookup.take})
    keys = _text(frame[lookup.on])
    replaced = [c for c in lookup.take.values() if c in frame.columns]
    joined = frame.drop(columns=replaced)
    joined = joined.assign(__lookup_key__=keys.to_numpy()).merge(table, on="__lookup_key__", how="left",
                                                                 validate="many_to_one")
    joined.index = frame.index
    missing = ~joined["__lookup_key__"].isin(set(table["__lookup_key__"])) | joined["__lookup_key__"].isna()
    for column in replaced:  # a column the source already has: the table's value where the key is found
        joined[column] = joined[column].where(~missing, frame[column])
    rejects = pd.DataFrame()
    if lookup.unmatched == "reject" and missing.any():
        bad = joined[missing]
        rejects = row_rejects(source_id, location, bad[ROW_COLUMN], frame.loc[missing, lookup.on], lookup.on,
                              "lookup_unmatched",
                              f"{lookup.on} is not a {lookup.key} of lookup {lookup.name}; add it there, or set "
                              "unmatched = \"keep\" on the lookup")
        joined = joined[~missing]
    return joined.drop(columns="__lookup_key__"), rejects


def with_external_ids(frame: pd.DataFrame, external_ids: Mapping[str, str]) -> pd.DataFrame:
    """The frame with EXTERNAL_IDS_COLUMN: "scheme:value" for each declared scheme whose column is not empty,
    ';'-joined with any ids the source's mapped external_ids column already holds (added by staging)."""
    parts = [(scheme + ":" + _text(frame[column])) for scheme, column in sorted(external_ids.items())]
    joined = pd.concat(parts, axis=1).apply(lambda row: LIST_SEPARATOR.join(v for v in row if isinstance(v, str)),
                                            axis=1) if len(frame) else pd.Series([], dtype="object")
    return frame.assign(**{EXTERNAL_IDS_COLUMN: joined.where(joined != "", None)})


def shaped(raw: pd.DataFrame, steps: SourceSteps, source_id: str, location: str) -> Shaped:
    """The raw table after `steps`, in their fixed order: select, reshape, look up, external ids."""
    frame, filtered = selected_rows(raw, steps.where, steps.numbers)
    if steps.unpivot is not None:
        frame = unpivoted(frame, steps.unpivot)
    found = []
    for lookup in steps.lookups:
        frame, rejects = looked_up(frame, lookup, source_id, location)
        found.append(rejects)
    if steps.external_ids:
        frame = with_external_ids(frame, steps.external_ids)
    return Shaped(frame.reset_index(drop=True), filtered, concat_rejects(found))


def missing_columns(raw_columns: Sequence[str], steps: SourceSteps) -> list[tuple[str, str]]:
    """(column, config key) for every raw column a step names that the header lacks; lookups may name the
    columns earlier lookups add, and a column the unpivot produces."""
    have = set(raw_columns)
    out = []
    for index, condition in enumerate(steps.where):
        for each in condition.any_of or (condition,):
            if each.column not in have:
                out.append((each.column, f"where[{index}]"))
    if steps.unpivot is not None:
        out += [(c, "unpivot.columns") for c in steps.unpivot.measures if c not in have]
        have |= {"measure", "value", "qualifier"}
    for index, lookup in enumerate(steps.lookups):
        if lookup.on not in have:
            out.append((lookup.on, f"lookups[{index}].on"))
        have |= set(lookup.take.values())
    out += [(c, f"external_ids.{scheme}") for scheme, c in steps.external_ids.items() if c not in have]
    return out
