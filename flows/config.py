"""The map config: one TOML file per map, validated with pydantic into `MapConfig`.

A mistake gives one line naming the file, the key, what was found and what is allowed.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from expectations.canonical import SECTORS, STAGED_TABLES
from expectations.errors import ConfigError, IsmError
from sources import KINDS, SourceRequest, kind_named

IDENTIFIER = r"^[a-z][a-z0-9_\-]*$"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lane(_Model):
    id: str = Field(pattern=IDENTIFIER)
    label: str
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class Partner(_Model):
    name: str
    sector: Literal[SECTORS]  # type: ignore[valid-type]


class Period(_Model):
    start: str  # YYYY-MM, first month covered
    end: str  # YYYY-MM, last month covered

    @field_validator("start", "end")
    @classmethod
    def _month(cls, value: str) -> str:
        match = MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"expected a month as YYYY-MM, found {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before start {self.start}")
        return self

    @property
    def first_day(self) -> date:
        year, month = map(int, self.start.split("-"))
        return date(year, month, 1)

    @property
    def last_day(self) -> date:
        year, month = map(int, self.end.split("-"))
        next_first = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(next_first.toordinal() - 1)

    @property
    def months(self) -> list[str]:
        year, month = map(int, self.start.split("-"))
        out = []
        while f"{year:04d}-{month:02d}" <= self.end:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


class Area(_Model):
    code: str = Field(pattern=r"^S37\d{6}$", description="HSCP code (S37...)")
    name: str


class Source(_Model):
    id: str = Field(pattern=IDENTIFIER)
    partner: str
    kind: str
    location: str
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
        return self

    @property
    def tables(self) -> tuple[str, ...]:
        kind = KINDS[self.kind]
        return kind.tables if kind.tables is not None else (self.table,)


class Initiative(_Model):
    id: str = Field(pattern=IDENTIFIER)
    name: str
    status: str | None = None
    services: list[str]  # "partner:key" references
    lead_partner: str | None = None


class MapConfig(_Model):
    map_id: str = Field(pattern=IDENTIFIER)
    title: str
    area: Area
    population: str
    period: Period
    publish_root: str = "published"
    lanes: list[Lane] = Field(min_length=1)
    sectors: dict[str, str] = Field(default_factory=dict)  # sector -> colour
    partners: dict[str, Partner]
    sources: list[Source] = Field(min_length=1)
    initiatives: list[Initiative] = Field(default_factory=list)
    path: Path = Field(default=Path("."), exclude=True)  # the config file, set on load

    @field_validator("sectors")
    @classmethod
    def _known_sectors(cls, value: dict[str, str]) -> dict[str, str]:
        for sector, colour in value.items():
            if sector not in SECTORS:
                raise ValueError(f"unknown sector {sector!r}; allowed: {', '.join(SECTORS)}")
            if not re.match(r"^#[0-9a-fA-F]{6}$", colour):
                raise ValueError(f"sector {sector!r} colour {colour!r} is not #rrggbb")
        return value

    @model_validator(mode="after")
    def _references(self) -> MapConfig:
        ids = [s.id for s in self.sources]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"source ids must be unique; repeated: {', '.join(duplicates)}")
        lanes = [lane.id for lane in self.lanes]
        if len(set(lanes)) != len(lanes):
            raise ValueError("lane ids must be unique")
        for source in self.sources:
            if source.partner not in self.partners:
                raise ValueError(
                    f"source {source.id!r} names partner {source.partner!r}, "
                    f"which is not in [partners]; known: {', '.join(sorted(self.partners))}"
                )
        return self

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def lane_ids(self) -> list[str]:
        return [lane.id for lane in self.lanes]

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise ConfigError(f"{self.path}: no source with id {source_id!r}")

    def publish_path(self) -> Path:
        return (self.folder / self.publish_root).resolve()

    def request(self, source: Source) -> SourceRequest:
        """The source-kind request for one source, with its options validated by the kind."""
        kind = kind_named(source.kind)
        index = self.sources.index(source)
        try:
            options = kind.options.model_validate(source.options)
        except ValidationError as error:
            raise ConfigError(_one_line(self.path, error, prefix=f"sources[{index}].options")) from None
        return SourceRequest(
            source_id=source.id,
            location=(self.folder / source.location),
            table=source.table,
            options=options,
            folder=self.folder,
        )


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _one_line(path: Path, error: ValidationError, prefix: str = "") -> str:
    first = error.errors()[0]
    key = _location(tuple(first["loc"]))
    key = f"{prefix}.{key}" if prefix and key else (prefix or key or "(top level)")
    message = first["msg"].removeprefix("Value error, ")
    found = first.get("input")
    shown = "" if first["type"] == "missing" or isinstance(found, dict | list) else f" (found {found!r})"
    more = f" [+{error.error_count() - 1} more]" if error.error_count() > 1 else ""
    return f"{path}: {key}: {message}{shown}{more}"


def load_config(path: str | Path) -> MapConfig:
    """Read and validate a map config; every mistake raises ConfigError with one clear line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: map config not found (pass the path to a map's TOML file)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from None
    try:
        config = MapConfig.model_validate({**raw, "path": path.resolve()})
    except ValidationError as error:
        raise ConfigError(_one_line(path, error)) from None
    except IsmError as error:
        raise ConfigError(f"{path}: {error}") from None
    for source in config.sources:
        config.request(source)  # validates every kind's options up front
    return config
