"""A map config's `[[sources]]` entry: which kind reads what, how its raw columns map to the canonical ones, the
safety keys, the reading limits and retries, and the shaping steps it inherits from flows/config_steps.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    ByteSize,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from expectations.canonical import STAGED_TABLES
from flows.config_settings import IDENTIFIER
from flows.config_steps import STEP_DEFAULTS, STEP_KEYS, SourceStepsSpec
from sources import KINDS
from transforms.numbers import DecimalMark, NumberRule, ThousandsMark

NUMBER_AND_FIELD_KEYS = ("decimal", "thousands", "max_field_length")


class Source(SourceStepsSpec):
    """One `[[sources]]` entry: what to read, how its columns map, and its shaping steps (flows/config_steps.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=IDENTIFIER)
    partner: str
    kind: str
    location: str = ""  # a file or folder, relative to the config; empty for kinds that read a database
    table: Literal[STAGED_TABLES] | None = None  # type: ignore[valid-type]
    options: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict)  # canonical column -> raw column
    constants: dict[str, Any] = Field(default_factory=dict)  # canonical column -> fixed value
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)  # canonical column -> raw code -> value
    namespaces: dict[str, str] = Field(default_factory=dict)  # key column -> partner id or external-id scheme
    same_as: dict[str, str] = Field(default_factory=dict)  # own service key -> "partner_or_scheme:key"
    clip_to_map_period: bool = False
    on_error: Literal["fail", "quarantine"] = "fail"
    licence: str | None = None
    attribution: str | None = None
    # safe to publish (README "Safe to publish"): raw columns the personal-identifier guard skips, and limits
    safe_columns: list[str] = Field(default_factory=list)  # not personal data, though they may look like it
    pseudonymised_columns: list[str] = Field(default_factory=list)  # pseudonymised ids: never mapped, never published
    max_bytes: ByteSize | None = None  # default: [limits] max_bytes; "500 MiB" or a number of bytes
    max_rows: int | None = Field(default=None, ge=1)  # default: [limits] max_rows
    max_field_length: int | None = Field(default=None, ge=1)  # default: [limits] max_field_length (characters)
    decimal: DecimalMark = "."  # how the extract writes numbers (transforms/numbers.py): "12,5" with decimal = ","
    thousands: ThousandsMark = ","  # groups of three digits ("1,234"); "" when the extract never groups them
    # reading the source: IO errors and timeouts are retried with exponential backoff; bad data never is
    retries: int = Field(default=2, ge=0, le=10)
    retry_delay_seconds: float = Field(default=5.0, ge=0)  # before the first retry; doubles for each next one
    timeout_seconds: float | None = Field(default=600.0, gt=0)  # one attempt at most; then it counts as failed

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown source kind {value!r}; allowed: {', '.join(sorted(KINDS))}")
        return value

    @model_validator(mode="after")
    def _table_fits_kind(self) -> Source:
        kind = KINDS[self.kind]
        if kind.tables is None and self.table is None:
            raise ValueError(f"kind {self.kind!r} reads one table: set `table` to one of {', '.join(STAGED_TABLES)}")
        if kind.tables is not None and self.table is not None:
            raise ValueError(f"kind {self.kind!r} yields {', '.join(kind.tables)} itself: remove `table`")
        published = sorted(set(self.pseudonymised_columns) & set(self.columns.values()))
        if published:
            raise ValueError(f"pseudonymised column(s) {', '.join(map(repr, published))} are mapped under `columns`, "
                             "which would publish them; pseudonymised ids are never published: remove the mapping")
        if kind.describe is None and not self.location:
            raise ValueError(f"kind {self.kind!r} reads a file: set `location` (relative to this config file)")
        if kind.tables is not None and (self.where or self.unpivot is not None):
            raise ValueError(f"kind {self.kind!r} yields {', '.join(kind.tables)}: `where` and `unpivot` apply to "
                             "single-table kinds (csv, excel, json...); a lookup names its table with `table`")
        if kind.describe is not None and self.location:
            raise ValueError(f"kind {self.kind!r} reads a database named in `options`: remove `location`")
        return self

    @model_validator(mode="after")
    def _numbers_readable(self) -> Source:
        NumberRule(self.decimal, self.thousands)  # ValueError when the two separators are the same
        return self

    @model_serializer(mode="wrap")
    def _without_unused_steps(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Step keys at their defaults are left out, so a config that does not use them hashes as before."""
        dumped: dict[str, Any] = handler(self)
        for key in NUMBER_AND_FIELD_KEYS:  # at their defaults: a config that does not set them hashes as before
            if key in dumped and dumped[key] == Source.model_fields[key].default:
                del dumped[key]
        for key in STEP_KEYS:
            if key in dumped and getattr(self, key) == STEP_DEFAULTS[key]:
                del dumped[key]
        return dumped

    @property
    def tables(self) -> tuple[str, ...]:
        kind = KINDS[self.kind]
        return kind.tables if kind.tables is not None else (str(self.table),)  # a generic kind has `table` set


