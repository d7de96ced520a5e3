"""The map config's shaping steps of a source (`where`, `unpivot`, `lookups`, `external_ids`), as pydantic
models, and their conversion to the pure step records of transforms/source_steps.py (lookup tables read here,
through the source kinds, so they obey the same allowed roots and limits)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from expectations.errors import ConfigError, SourceError
from transforms.numbers import NumberRule
from transforms.source_steps import OPERATORS, Condition, Lookup, SourceSteps, Unpivot, selected_rows

if TYPE_CHECKING:
    from flows.config import MapConfig
    from flows.config_sources import Source


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Where(_Model):
    """One row test on a raw column, e.g. `{ column = "AgeGroup", equals = "18plus" }`, or
    `{ any_of = [...] }` (true when one of them is). Exactly one operator per test."""

    column: str | None = None
    equals: str | int | float | None = None
    not_equals: str | int | float | None = None
    in_: list[str | int | float] | None = Field(default=None, alias="in")
    not_in: list[str | int | float] | None = None
    lt: str | int | float | None = None
    le: str | int | float | None = None
    gt: str | int | float | None = None
    ge: str | int | float | None = None
    empty: bool | None = None
    any_of: list[Where] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Where:
        given = [op for op in OPERATORS if getattr(self, "in_" if op == "in" else op) is not None]
        if self.any_of is not None:
            if given or self.column is not None:
                raise ValueError("any_of combines whole tests: put column and operator inside each of them")
            if not self.any_of:
                raise ValueError("any_of needs at least one test")
            return self
        if self.column is None:
            raise ValueError("a test needs `column` (a raw column of the extract)")
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(OPERATORS)} (found {', '.join(given) or 'none'})")
        return self

    def condition(self) -> Condition:
        if self.any_of is not None:
            return Condition(any_of=tuple(each.condition() for each in self.any_of))
        op = next(op for op in OPERATORS if getattr(self, "in_" if op == "in" else op) is not None)
        value = getattr(self, "in_" if op == "in" else op)
        return Condition(str(self.column), op, tuple(value) if isinstance(value, list) else value)


class UnpivotSpec(_Model):
    """Wide to long: `columns` names each value column's measure, or `matching` (a regular expression over the
    header) takes every matching column with its measure derived from the header (TotalBeds -> total_beds)."""

    columns: dict[str, str] = Field(default_factory=dict)  # value column -> measure
    matching: str | None = None
    qualifier_suffix: str | None = None  # PHS: "QF", the paired qualifier column of each value column

    @model_validator(mode="after")
    def _one_way(self) -> UnpivotSpec:
        if bool(self.columns) == (self.matching is not None):
            raise ValueError("give `columns` (value column -> measure) or `matching` (a regular expression), "
                             "one of the two")
        if self.matching is not None:
            try:
                re.compile(self.matching)
            except re.error as error:
                raise ValueError(f"matching is not a regular expression: {error}") from None
        return self

    def unpivot(self, header: list[str]) -> Unpivot:
        from transforms.source_steps import measure_from_header

        measures = dict(self.columns)
        if self.matching is not None:
            suffix = self.qualifier_suffix or "\0"
            measures = {c: measure_from_header(c) for c in header
                        if re.fullmatch(self.matching, c) and not c.endswith(suffix)}
        return Unpivot(measures, self.qualifier_suffix)


class LookupSpec(_Model):
    """A reference table joined on a key: `file` (a CSV, relative to the config, inside the allowed roots) or
    `source` (another source of the map, read again). `on` is this source's raw column, `key` the table's."""

    file: str | None = None
    source: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # csv options of `file` (delimiter, encoding...)
    on: str
    key: str
    take: dict[str, str] = Field(min_length=1)  # table column -> new raw column of this source
    where: list[Where] = Field(default_factory=list)  # rows of the table kept (e.g. not archived)
    unmatched: Literal["reject", "keep"] = "reject"
    table: str | None = None  # for a kind that yields several tables: the one looked up (such as "services")

    @model_validator(mode="after")
    def _one_table(self) -> LookupSpec:
        if (self.file is None) == (self.source is None):
            raise ValueError("give `file` (a CSV relative to the config) or `source` (a source id), one of the two")
        return self


class SourceStepsSpec(_Model):
    """The step keys of a source (mixed into Source)."""

    where: list[Where] = Field(default_factory=list)
    unpivot: UnpivotSpec | None = None
    lookups: list[LookupSpec] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(default_factory=dict)  # scheme -> raw column: "scheme:value" ids
    codes_keep_unlisted: list[str] = Field(default_factory=list)  # canonical columns: unlisted codes kept
    codes_default: dict[str, str] = Field(default_factory=dict)  # canonical column -> value of unlisted codes
    duplicates: Literal["reject", "sum"] = "reject"  # same key, measure and period twice
    max_reject_share: float | None = Field(default=None, ge=0, le=1)  # overrides [quality] max_reject_share
    idle_services: Literal["keep", "filter"] | None = None  # services with no row in the map period

    @field_validator("external_ids")
    @classmethod
    def _schemes(cls, value: dict[str, str]) -> dict[str, str]:
        for scheme in value:
            if not re.match(r"^[a-z][a-z0-9_\-]*$", scheme):
                raise ValueError(f"external id scheme {scheme!r} must be lower-case letters, digits, _ or -")
        return value


STEP_KEYS = tuple(SourceStepsSpec.model_fields)
"""Source keys added for shaping steps: left out of a source's dump while at their defaults, so configs that do
not use them keep their content hash."""
STEP_DEFAULTS = {key: SourceStepsSpec.model_fields[key].get_default(call_default_factory=True) for key in STEP_KEYS}
"""Each step key's default, made once (pydantic inspects the factory's signature on every call)."""


def source_steps(config: MapConfig, source: Source, table: str, header: list[str]) -> SourceSteps:
    """The pure step records of one source table (its lookup tables read), given the raw table's header."""
    single = source.table is not None
    lookups = tuple(_lookup(config, source, n, spec) for n, spec in enumerate(source.lookups)
                    if spec.table is None or spec.table == table)
    return SourceSteps(
        where=tuple(each.condition() for each in source.where) if single else (),
        unpivot=source.unpivot.unpivot(header) if single and source.unpivot is not None else None,
        lookups=lookups,
        external_ids=source.external_ids if single or table == "services" else {},
        numbers=NumberRule(source.decimal, source.thousands),
    )


def lookup_paths(config: MapConfig, source: Source) -> dict[str, Path]:
    """The files a source's lookups read, by config key (they must lie inside the allowed roots)."""
    return {f"lookups[{n}].file": config.folder / spec.file for n, spec in enumerate(source.lookups) if spec.file}


def lookup_files(config: MapConfig, source: Source) -> list[Path]:
    """Every file a source's lookups read (their content belongs in the source's cache key)."""
    return [config.folder / (spec.file if spec.file else config.source(str(spec.source)).location)
            for spec in source.lookups]


def _lookup(config: MapConfig, source: Source, number: int, spec: LookupSpec) -> Lookup:
    where = f"{source.id}: lookups[{number}]"
    if spec.file is not None:
        name, path, options = spec.file, config.folder / spec.file, tuple(sorted(spec.options.items()))
        frame = _read_table("csv", str(path), options, source.id, _stamp(path))
    else:
        other = config.source(str(spec.source))
        name, path = f"source {other.id} ({other.location})", config.folder / other.location
        frame = _read_table(other.kind, str(path), tuple(sorted(other.options.items())), other.id, _stamp(path))
    absent = [c for c in (spec.key, *spec.take) if c not in frame.columns]
    if absent:
        raise ConfigError(f"{config.path}: sources[{config.sources.index(source)}].lookups[{number}]: column(s) "
                          f"{', '.join(absent)} are not in {name}; columns found: "
                          f"{', '.join(c for c in frame.columns if c != '__row__')}")
    frame, _ = selected_rows(frame, [each.condition() for each in spec.where])
    table = frame[[spec.key, *spec.take]].apply(lambda c: c.str.strip()).dropna(subset=[spec.key])
    table = table.drop_duplicates()
    clashing = table[table.duplicated(spec.key, keep=False)]
    if len(clashing):
        raise SourceError(f"{where}: {name} gives key {clashing[spec.key].iloc[0]!r} of column {spec.key!r} more "
                          "than one value; narrow the table with the lookup's `where` (such as archived rows)")
    return Lookup(name, table.reset_index(drop=True), spec.on, spec.key, spec.take, spec.unmatched)


def _stamp(path: Path) -> tuple[int, int]:
    """When and how big the file is: a changed file is read again."""
    try:
        status = path.stat()
    except OSError:
        return (0, 0)  # reading it raises the clear error
    return (status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=16)
def _read_table(kind_name: str, path: str, options: tuple[tuple[str, Any], ...], source_id: str,
                stamp: tuple[int, int]) -> pd.DataFrame:
    """A reference table read once per process by a source kind (its text columns), whatever the number of
    tables and sources that look it up."""
    from sources import SourceRequest, extract, kind_named
    from sources.base import as_pandas

    kind = kind_named(kind_name)
    request = SourceRequest(source_id, Path(path), None, kind.options.model_validate(dict(options)), Path(path).parent)
    tables = extract(kind, request).tables
    return as_pandas(next(iter(tables.values())))
