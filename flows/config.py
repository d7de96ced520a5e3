"""The map config: one TOML file per map, validated with pydantic into `MapConfig`.

A mistake gives one line naming the file, the key, what was found and what is allowed.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationError, field_validator, model_validator

from expectations.canonical import SECTORS, STAGED_TABLES
from expectations.errors import ConfigError, IsmError
from outputs.store.versions import MapStore
from sources import KINDS, SourceRequest, kind_named
from sources.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_FIELD_LENGTH, DEFAULT_MAX_ROWS, SourceLimits
from transforms.numbers import DecimalMark, NumberRule, ThousandsMark

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
        if kind.describe is not None and self.location:
            raise ValueError(f"kind {self.kind!r} reads a database named in `options`: remove `location`")
        return self

    @model_validator(mode="after")
    def _numbers_readable(self) -> Source:
        NumberRule(self.decimal, self.thousands)  # ValueError when the two separators are the same
        return self

    @property
    def tables(self) -> tuple[str, ...]:
        kind = KINDS[self.kind]
        return kind.tables if kind.tables is not None else (str(self.table),)  # a generic kind has `table` set


class Initiative(_Model):
    id: str = Field(pattern=IDENTIFIER)
    name: str
    status: str | None = None
    services: list[str]  # "partner:key" references
    lead_partner: str | None = None


class Disclosure(_Model):
    """The `[disclosure]` table: counts from 1 to threshold - 1 are suppressed (transforms/disclosure.py)."""

    threshold: int = Field(default=5, ge=0)  # 0: no suppression, for internal maps only (flagged in every output)


class Limits(_Model):
    """The `[limits]` table: the most any one source may read (each source may set its own)."""

    max_bytes: ByteSize = ByteSize(DEFAULT_MAX_BYTES)
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1)
    max_field_length: int = Field(default=DEFAULT_MAX_FIELD_LENGTH, ge=1)  # characters in any one field


class Quality(_Model):
    """The map's `[quality]` table: tolerances of the checks (defaults suit most maps)."""

    max_reject_share: float = Field(default=0.05, ge=0, le=1)  # above it a source fails check reject_share
    max_volume_change: float = Field(default=0.5, ge=0)  # a source's total vs the previous version (0.5 = ±50%)
    outlier_ratio: float = Field(default=20.0, gt=1)  # a month above this many times the usual month is flagged


class Schedule(_Model):
    """The `[schedule]` table: when `ism serve` refreshes the map."""

    cron: str  # five fields, e.g. "0 6 * * 1-5": 06:00 on weekdays
    timezone: str = "UTC"  # an IANA name such as "Europe/London", so the run follows daylight saving time

    @model_validator(mode="after")
    def _valid(self) -> Schedule:
        from prefect.client.schemas.schedules import CronSchedule  # Prefect's own check, the one serve applies

        try:
            CronSchedule(cron=self.cron, timezone=self.timezone)
        except ValidationError as error:
            reason = error.errors()[0]["msg"].removeprefix("Value error, ")
            raise ValueError(f"{reason} (cron has five fields: minute hour day-of-month month day-of-week; "
                             "timezone is an IANA name such as Europe/London)") from None
        return self


class Runner(_Model):
    """The `[runner]` table: where the per-source tasks run. Default: threads in the refresh's own process."""

    dask_address: str | None = Field(default=None, pattern=r"^[a-z]+://\S+$")  # an existing Dask scheduler
    local_dask_workers: int | None = Field(default=None, ge=1, le=256)  # a temporary local Dask cluster
    # Threads reading sources at once in the default runner: unbounded, a national map read 400 extracts at once
    # (8.8 GiB at benchmark size L against 4.9 GiB with two).
    threads: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _one_runner(self) -> Runner:
        if self.dask_address is not None and self.local_dask_workers is not None:
            raise ValueError("set dask_address (an existing cluster) or local_dask_workers (a temporary one), "
                             "not both")
        return self


class PublishPolicy(_Model):
    """The `[publish]` table: how many versions to keep."""

    keep_versions: int | None = Field(default=None, ge=1)  # the newest N are kept (always `latest`); None: all


class PosterSettings(_Model):
    """The `[poster]` table: what the poster draws and the page it is laid out for (outputs/poster.py)."""

    min_flow_share: float = Field(default=0.005, ge=0, le=1)  # flows under this share of all flow volume are hidden
    label_flow_share: float = Field(default=0.05, ge=0, le=1)  # flows from this share up have their volume written
    page: Literal["A0", "A1", "A2", "A3", "A4"] = "A1"
    orientation: Literal["landscape", "portrait"] = "landscape"
    layout_seconds: float = Field(default=4.0, gt=0, le=600)  # beyond this the full layout gives way to a cheaper one


OPERATIONAL_KEYS = {"path", "publish_root", "private_root", "schedule", "runner", "publish", "allowed_roots", "limits"}
"""Map config keys that say where, when and how a map is run, never what it contains (left out of content hashes)."""
OPERATIONAL_SOURCE_KEYS = {"retries", "retry_delay_seconds", "timeout_seconds", "max_bytes", "max_rows"}


class MapConfig(_Model):
    map_id: str = Field(pattern=IDENTIFIER)
    title: str
    area: Area
    population: str
    period: Period
    publish_root: str = "published"
    # Working data with unsuppressed values (run files, source cache, last good extracts): kept out of the
    # publish root so that sharing published maps never shares it.
    private_root: str = ".ism"
    lanes: list[Lane] = Field(min_length=1)
    sectors: dict[str, str] = Field(default_factory=dict)  # sector -> colour
    partners: dict[str, Partner]
    sources: list[Source] = Field(min_length=1)
    initiatives: list[Initiative] = Field(default_factory=list)
    quality: Quality = Field(default_factory=Quality)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    limits: Limits = Field(default_factory=Limits)
    allowed_roots: list[str] = Field(default_factory=list)  # folders beyond the config's own that sources may read
    schedule: Schedule | None = None
    runner: Runner = Field(default_factory=Runner)
    publish: PublishPolicy = Field(default_factory=PublishPolicy)
    poster: PosterSettings = Field(default_factory=PosterSettings)
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

    def store(self, publish_root: str | Path | None = None) -> MapStore:
        """The map's store: versions under the (checked) publish root, working data under the private root."""
        root = self.checked_publish_root(publish_root)
        private = (self.folder / self.private_root).resolve()
        if private == root or root in private.parents:
            raise ConfigError(f"{self.path}: private_root {self.private_root!r} lies inside the publish root "
                              f"{root}; working data holds unsuppressed values and must stay apart")
        return MapStore(root, self.map_id, private)

    def request(self, source: Source) -> SourceRequest:
        """The source-kind request for one source, with its options validated by the kind."""
        kind = kind_named(source.kind)
        try:
            options = kind.options.model_validate(source.options)
        except ValidationError as error:
            index = next(i for i, each in enumerate(self.sources) if each is source)
            raise ConfigError(_one_line(self.path, error, prefix=f"sources[{index}].options")) from None
        return SourceRequest(
            source_id=source.id,
            location=(self.folder / source.location),
            table=source.table,
            options=options,
            folder=self.folder,
            limits=SourceLimits(int(source.max_bytes or self.limits.max_bytes),
                                source.max_rows or self.limits.max_rows,
                                source.max_field_length or self.limits.max_field_length),
        )

    def allowed_folders(self) -> list[Path]:
        """The real folders sources may read from: the config's own and its `allowed_roots`."""
        return [self.folder.resolve(), *((self.folder / root).resolve() for root in self.allowed_roots)]

    def source_paths(self, source: Source) -> dict[str, Path]:
        """Every path a source reads, by its config key: `location` and the kind's path options."""
        if kind_named(source.kind).describe is not None:
            return {}  # a database: nothing on disk
        options = self.request(source).options
        paths = {"location": self.folder / source.location}
        for option in type(options).path_options:
            value = getattr(options, option)
            if value is not None:
                paths[f"options.{option}"] = self.folder / value
        return paths

    def checked_publish_root(self, publish_root: str | Path | None = None) -> Path:
        """The real publish root (the config's, or the one given); ConfigError when it lies inside a folder a
        source reads from, where published files would mix with partner data."""
        root = Path(publish_root).resolve() if publish_root else self.publish_path()
        for index, source in enumerate(self.sources):
            for key, path in self.source_paths(source).items():
                real = path.resolve()
                folder = real if real.is_dir() else real.parent
                if root.is_relative_to(folder):
                    raise ConfigError(
                        f"{self.path}: publish root {root} lies inside {folder}, the folder of source "
                        f"{source.id!r} (sources[{index}].{key}); publish outside the partners' data "
                        "(set publish_root or --publish-root)"
                    )
        return root


def check_contained_paths(config: MapConfig) -> None:
    """Every source location and option path must resolve (symlinks followed) inside the config's folder or an
    allowed root: a `..` or a symlink cannot lead a map config to read files elsewhere on the machine."""
    allowed = config.allowed_folders()
    for index, source in enumerate(config.sources):
        for key, path in config.source_paths(source).items():
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in allowed):
                raise ConfigError(
                    f"{config.path}: sources[{index}].{key}: source {source.id!r} reads {str(path)!r}, which resolves "
                    f"to {real}, outside the map config's folder {config.folder} and its allowed_roots; move the "
                    "extract inside, or add its folder to allowed_roots (relative to the config file)"
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


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML document at `path` (`what` it should be, for the message when it is missing or unreadable)."""
    if not path.is_file():
        raise ConfigError(f"{path}: {what} not found (pass the path to {what}'s TOML file)")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from None


def load_config(path: str | Path) -> MapConfig:
    """Read and validate a map config; every mistake raises ConfigError with one clear line. Each task of a run
    loads the config by path: a config already loaded in this process with the same bytes is not parsed again
    (a national map's 400 sources take ~0.5 s to validate, and a run has two tasks per source)."""
    path = Path(path)
    if not path.is_file():
        read_toml(path, "map config")  # raises its clear error
    return _loaded(path, path.resolve(), hashlib.sha256(path.read_bytes()).hexdigest())


@lru_cache(maxsize=8)
def _loaded(path: Path, resolved: Path, content: str) -> MapConfig:
    raw = read_toml(path, "map config")
    try:
        config = MapConfig.model_validate({**raw, "path": resolved})
    except ValidationError as error:
        raise ConfigError(_one_line(path, error)) from None
    except IsmError as error:
        raise ConfigError(f"{path}: {error}") from None
    for source in config.sources:
        config.request(source)  # validates every kind's options up front
    check_contained_paths(config)
    return config
