"""The map config's smaller tables: lanes, partners, the period, the area, initiatives and the map-wide settings
(quality, disclosure, limits, schedule, runner, publish, poster)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationError, field_validator, model_validator

from expectations.canonical import SECTORS
from sources.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_FIELD_LENGTH, DEFAULT_MAX_ROWS

IDENTIFIER = r"^[a-z][a-z0-9_\-]*$"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ConfigModel(BaseModel):
    """A part of a map config: unknown keys are mistakes, and a loaded config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Lane(ConfigModel):
    id: str = Field(pattern=IDENTIFIER)
    label: str
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class Partner(ConfigModel):
    name: str
    sector: Literal[SECTORS]  # type: ignore[valid-type]


class Period(ConfigModel):
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


AREA_KINDS = {"S37": "health and social care partnership", "S08": "health board", "S12": "council area",
              "S92": "country"}
AREA_CODE = re.compile(r"^S(37|08|12|92)\d{6}$")


class Area(ConfigModel):
    """The area the map covers: one code or several, each an HSCP (S37...), a health board (S08...), a council
    area (S12...) or Scotland (S92000003)."""

    code: str | list[str]
    name: str

    @field_validator("code")
    @classmethod
    def _codes(cls, value: str | list[str]) -> str | list[str]:
        codes = [value] if isinstance(value, str) else value
        if not codes:
            raise ValueError("give at least one area code")
        for code in codes:
            if not AREA_CODE.match(code):
                raise ValueError(f"area code {code!r} is not an HSCP (S37...), health board (S08...), council area "
                                 "(S12...) or Scotland (S92000003) code")
        return value

    @property
    def codes(self) -> list[str]:
        return [self.code] if isinstance(self.code, str) else list(self.code)

    @property
    def kind(self) -> str:
        """What the area is: "health board", "council area", ..., or "several areas" of mixed kinds."""
        kinds = {AREA_KINDS[code[:3]] for code in self.codes}
        return kinds.pop() if len(kinds) == 1 else "several areas"

    def described(self) -> dict[str, object]:
        """The area as version.json and the datapackage say it: name, code(s) and kind."""
        return {"code": self.code, "name": self.name, "codes": self.codes, "kind": self.kind}


class Initiative(ConfigModel):
    id: str = Field(pattern=IDENTIFIER)
    name: str
    status: str | None = None
    services: list[str]  # "partner:key" references
    lead_partner: str | None = None


class Disclosure(ConfigModel):
    """The `[disclosure]` table: counts from 1 to threshold - 1 are suppressed (transforms/disclosure.py)."""

    threshold: int = Field(default=5, ge=0)  # 0: no suppression, for internal maps only (flagged in every output)


class Limits(ConfigModel):
    """The `[limits]` table: the most any one source may read (each source may set its own)."""

    max_bytes: ByteSize = ByteSize(DEFAULT_MAX_BYTES)
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1)
    max_field_length: int = Field(default=DEFAULT_MAX_FIELD_LENGTH, ge=1)  # characters in any one field


class Quality(ConfigModel):
    """The map's `[quality]` table: tolerances of the checks (defaults suit most maps)."""

    max_reject_share: float = Field(default=0.05, ge=0, le=1)  # above it a source fails check reject_share
    max_volume_change: float = Field(default=0.5, ge=0)  # a source's figure per measure vs before (0.5 = ±50%)
    outlier_ratio: float = Field(default=20.0, gt=1)  # a month above this many times the usual month is flagged


class Schedule(ConfigModel):
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


class Runner(ConfigModel):
    """The `[runner]` table: where the sources' tasks run. Default: threads in the refresh's own process."""

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


class PublishPolicy(ConfigModel):
    """The `[publish]` table: how many versions to keep."""

    keep_versions: int | None = Field(default=None, ge=1)  # the newest N are kept (always `latest`); None: all


class PosterSettings(ConfigModel):
    """The `[poster]` table: what the poster draws and the page it is laid out for (outputs/poster.py)."""

    min_flow_share: float = Field(default=0.005, ge=0, le=1)  # flows under this share of their measure are bundled
    label_flow_share: float = Field(default=0.05, ge=0, le=1)  # flows from this share up have their volume written
    service_flows: int = Field(default=1, ge=0, le=20)  # each service's largest in- and outflows always drawn
    page: Literal["A0", "A1", "A2", "A3", "A4"] = "A1"
    orientation: Literal["landscape", "portrait"] = "landscape"
    layout_seconds: float = Field(default=4.0, gt=0, le=600)  # beyond this the full layout gives way to a cheaper one


