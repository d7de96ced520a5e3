"""Contracts for the staged tables (one source, standardised) and the canonical published tables."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
from pandera.typing import Series

SECTORS = ("nhs", "local_authority", "third_sector", "independent", "national", "housing", "other")

# PHS-style qualifier codes (a qualifier is data: it stays next to its value).
QUALIFIERS: dict[str, str] = {
    "d": "derived",
    "c": "confidential (suppressed)",
    "z": "not applicable",
    ":": "not available",
    "e": "estimated",
    "p": "provisional",
    "~": "rounds to zero",
    "b": "break in series",
    "u": "low reliability",
}

MEASURE_PATTERN = r"^[a-z][a-z0-9_]*$"
LIST_SEPARATOR = ";"  # list-valued columns (client_groups, external_ids, source_ids) are ';'-joined text

STAGED_TABLES = ("organisations", "services", "activity", "flows", "initiatives")
CANONICAL_TABLES = ("organisations", "services", "activity", "flows", "initiatives", "measures", "rejects")


class _Strict(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = "filter"  # extra columns are dropped only after standardise has reported them

    @classmethod
    def build_schema_(cls, **kwargs: Any) -> pa.DataFrameSchema:
        """pandera's schema of the contract, built as pandera builds a model's columns but without asking which
        index types exist: pandera answers that by importing all of Dask (1.2 s of CPU per process), installed here
        by prefect-dask, and every contract here is columns only (tests/expectations/test_canonical.py checks the
        schemas are pandera's own)."""
        columns: dict[str, pa.Column] = {}
        for attribute, (annotation, field) in cls.__fields__.items():
            if annotation.origin is not Series or annotation.metadata or field.dtype_kwargs:
                raise TypeError(f"{cls.__name__}.{field.name}: a contract column is declared as Series[type]")
            nullable = field.nullable if field.nullable_explicit else annotation.nullable
            if annotation.arg is int and nullable:  # pandera would coerce to pandas' nullable Int64
                raise TypeError(f"{cls.__name__}.{field.name}: a nullable whole number is declared as float")
            columns[field.name] = pa.Column(**field.column_properties(
                annotation.arg, nullable=annotation.nullable, required=not annotation.is_optional_field,
                checks=cls.__checks__.get(attribute, []), parsers=cls.__parsers__.get(attribute, []),
                name=field.name))
        return pa.DataFrameSchema(columns, checks=cls.__root_checks__, parsers=cls.__root_parsers__, **kwargs)


# ---- staged: one source after standardising, keys still in the partner's own namespace ----------------------


class StagedOrganisation(_Strict):
    source_id: Series[str]
    row_number: Series[int] = pa.Field(ge=0)
    organisation_key: Series[str] = pa.Field(str_length={"min_value": 1})
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    sector: Series[str] = pa.Field(isin=SECTORS)
    partner: Series[str]
    email: Series[str] = pa.Field(nullable=True)
    phone: Series[str] = pa.Field(nullable=True)
    website: Series[str] = pa.Field(nullable=True)


class StagedService(_Strict):
    source_id: Series[str]
    row_number: Series[int] = pa.Field(ge=0)
    partner: Series[str]
    service_key: Series[str] = pa.Field(str_length={"min_value": 1})
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    description: Series[str] = pa.Field(nullable=True)
    organisation_key: Series[str] = pa.Field(nullable=True)
    lane: Series[str]
    setting: Series[str] = pa.Field(nullable=True)
    client_groups: Series[str] = pa.Field(nullable=True)
    locality: Series[str] = pa.Field(nullable=True)
    area_code: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=True)
    external_ids: Series[str] = pa.Field(nullable=True)
    same_as: Series[str] = pa.Field(nullable=True)


class StagedActivity(_Strict):
    source_id: Series[str]
    row_number: Series[int] = pa.Field(ge=0)
    service_ns: Series[str]
    service_key: Series[str] = pa.Field(str_length={"min_value": 1})
    period_start: Series[pd.Timestamp]
    period_end: Series[pd.Timestamp]
    measure: Series[str] = pa.Field(str_matches=MEASURE_PATTERN)
    value: Series[float] = pa.Field(ge=0, nullable=True)
    qualifier: Series[str] = pa.Field(nullable=True, isin=list(QUALIFIERS))


class StagedFlow(_Strict):
    source_id: Series[str]
    row_number: Series[int] = pa.Field(ge=0)
    from_ns: Series[str]
    from_key: Series[str] = pa.Field(str_length={"min_value": 1})
    to_ns: Series[str]
    to_key: Series[str] = pa.Field(str_length={"min_value": 1})
    period_start: Series[pd.Timestamp]
    period_end: Series[pd.Timestamp]
    measure: Series[str] = pa.Field(str_matches=MEASURE_PATTERN)
    value: Series[float] = pa.Field(ge=0, nullable=True)
    qualifier: Series[str] = pa.Field(nullable=True, isin=list(QUALIFIERS))


class StagedInitiative(_Strict):
    """Improvement work from a partner's list: `services` are ';'-separated keys of the partner's own services or
    `partner:key` / `scheme:value` references to others'."""

    source_id: Series[str]
    row_number: Series[int] = pa.Field(ge=0)
    partner: Series[str]
    initiative_key: Series[str] = pa.Field(str_length={"min_value": 1})
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    status: Series[str] = pa.Field(nullable=True)
    services: Series[str] = pa.Field(str_length={"min_value": 1})
    lead_partner: Series[str] = pa.Field(nullable=True)


STAGED_MODELS: dict[str, type[_Strict]] = {
    "organisations": StagedOrganisation,
    "services": StagedService,
    "activity": StagedActivity,
    "flows": StagedFlow,
    "initiatives": StagedInitiative,
}

# ---- canonical: the published dataset ---------------------------------------------------------------------


class Organisation(_Strict):
    organisation_id: Series[str] = pa.Field(unique=True, str_matches=r"^org_[0-9a-f]{12}$")
    name: Series[str]
    sector: Series[str] = pa.Field(isin=SECTORS)
    partner: Series[str]
    email: Series[str] = pa.Field(nullable=True)
    phone: Series[str] = pa.Field(nullable=True)
    website: Series[str] = pa.Field(nullable=True)
    source_id: Series[str]


class Service(_Strict):
    service_id: Series[str] = pa.Field(unique=True, str_matches=r"^svc_[0-9a-f]{12}$")
    name: Series[str]
    description: Series[str] = pa.Field(nullable=True)
    organisation_id: Series[str]
    lane: Series[str]
    setting: Series[str] = pa.Field(nullable=True)
    client_groups: Series[str] = pa.Field(nullable=True)
    locality: Series[str] = pa.Field(nullable=True)
    area_code: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=True)
    external_ids: Series[str] = pa.Field(nullable=True)
    source_id: Series[str]
    source_ids: Series[str]


class Activity(_Strict):
    service_id: Series[str]
    period_start: Series[pd.Timestamp]
    period_end: Series[pd.Timestamp]
    measure: Series[str] = pa.Field(str_matches=MEASURE_PATTERN)
    value: Series[float] = pa.Field(ge=0, nullable=True)
    qualifier: Series[str] = pa.Field(nullable=True)
    source_id: Series[str]


class Flow(_Strict):
    from_service_id: Series[str]
    to_service_id: Series[str]
    period_start: Series[pd.Timestamp]
    period_end: Series[pd.Timestamp]
    measure: Series[str] = pa.Field(str_matches=MEASURE_PATTERN)
    value: Series[float] = pa.Field(ge=0, nullable=True)
    qualifier: Series[str] = pa.Field(nullable=True)
    source_id: Series[str]


class Initiative(_Strict):
    initiative_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    status: Series[str] = pa.Field(nullable=True)
    service_ids: Series[str]
    lead_organisation_id: Series[str] = pa.Field(nullable=True)


class MeasureEntry(_Strict):
    """The measure catalogue of a version (expectations/measures.py): every measure its activity and flows use."""

    measure: Series[str] = pa.Field(unique=True, str_matches=MEASURE_PATTERN)
    label: Series[str]
    unit: Series[str]
    kind: Series[str] = pa.Field(isin=["count", "stock", "average", "percentage", "rate"])
    period_figure: Series[str] = pa.Field(isin=["sum", "mean", "last", "ratio", "monthly"])
    numerator: Series[str] = pa.Field(nullable=True)
    denominator: Series[str] = pa.Field(nullable=True)
    scale: Series[float] = pa.Field(nullable=True, gt=0)
    part_of: Series[str] = pa.Field(nullable=True)
    demand: Series[bool]
    origin: Series[str] = pa.Field(isin=["builtin", "config", "undeclared"])


class Reject(_Strict):
    source_id: Series[str]
    location: Series[str] = pa.Field(nullable=True)
    row_number: Series[float] = pa.Field(nullable=True)  # 0 = header / whole file, NaN = not row-bound
    column: Series[str] = pa.Field(nullable=True)
    check: Series[str]
    severity: Series[str] = pa.Field(isin=["error", "warn"])
    value: Series[str] = pa.Field(nullable=True)
    message: Series[str]


CANONICAL_MODELS: dict[str, type[_Strict]] = {
    "organisations": Organisation,
    "services": Service,
    "activity": Activity,
    "flows": Flow,
    "initiatives": Initiative,
    "measures": MeasureEntry,
    "rejects": Reject,
}

PRIMARY_KEYS: dict[str, list[str]] = {
    "organisations": ["organisation_id"],
    "services": ["service_id"],
    "activity": ["service_id", "period_start", "measure", "source_id"],
    "flows": ["from_service_id", "to_service_id", "period_start", "measure", "source_id"],
    "initiatives": ["initiative_id"],
    "measures": ["measure"],
}

FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "services": [("organisation_id", "organisations", "organisation_id")],
    "activity": [("service_id", "services", "service_id"), ("measure", "measures", "measure")],
    "flows": [("from_service_id", "services", "service_id"), ("to_service_id", "services", "service_id"),
              ("measure", "measures", "measure")],
    "initiatives": [("lead_organisation_id", "organisations", "organisation_id")],
}


def columns(model: type[pa.DataFrameModel]) -> list[str]:
    """Column names of a contract, in declared order."""
    return list(model.to_schema().columns)


def month_label(series: pd.Series) -> pd.Series:
    """Each date's month as `YYYY-MM` (missing stays missing), formatted once per distinct date: a map's tables
    hold a few months over hundreds of thousands of rows."""
    codes, distinct = pd.factorize(pd.to_datetime(series))
    labels = np.asarray(pd.DatetimeIndex(distinct).strftime("%Y-%m"), dtype=object)
    found = labels[np.where(codes >= 0, codes, 0)] if len(labels) else np.full(len(codes), None, dtype=object)
    return pd.Series(np.where(codes >= 0, found, np.nan), index=series.index, dtype="str")


def empty_frame(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """A zero-row frame with the contract's columns and dtypes, as `model.validate` coerces them. With no rows
    nothing can fail, so pandera's validation backends (half a second or more to load, once per process) stay
    unloaded: a refresh whose only changed source is staged in DuckDB needs no other."""
    schema = _schema(model)
    empty = pd.Series(dtype="object")
    return pd.DataFrame({name: column.dtype.try_coerce(empty) if schema.coerce or column.coerce else empty
                         for name, column in schema.columns.items()})


@cache
def _schema(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    return model.to_schema()


def passing_frame(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> pd.DataFrame | None:
    """What `model.validate(frame)` returns when every row passes the contract, or None when a row may fail (the
    caller then lets pandera name the failures). The same coercions and checks as pandera's, without its
    per-column bookkeeping (deep copies of each column's schema, failure-case tables built for passing checks):
    a staged table of a few hundred rows is checked in a quarter of the time (tests/expectations)."""
    schema = _schema(model)
    if schema.checks or list(frame.columns) != list(schema.columns):
        return None
    out: dict[str, pd.Series] = {}
    for name, column in schema.columns.items():
        series = frame[name]
        if schema.coerce or column.coerce:
            try:
                series = column.dtype.try_coerce(series)  # as pandera coerces each column
            except (pa_errors.ParserError, TypeError, ValueError):
                return None
        if column.unique or (not column.nullable and series.isna().any()):
            return None
        if not all(check(series).check_passed for check in column.checks):
            return None
        out[name] = series
    return pd.DataFrame(out, index=frame.index)
