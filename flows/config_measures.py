"""The map config's `[measures]` table: measures added to the built-in catalogue or overriding one of its entries,
and the set of comparable measures that lane demand adds (expectations/measures.py).

```toml
[measures]
demand = ["referrals", "attendances", "admissions"]      # optional; these are the default

[measures.catalogue.delayed_bed_days_code9]              # a measure the built-in catalogue does not know
label = "Delayed bed days: code 9"
unit = "bed days"
kind = "count"
part_of = "delayed_bed_days"

[measures.catalogue.caseload]                            # override part of a built-in entry
period = "last"
```
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd
from pydantic import Field, model_validator

from expectations.checks import RejectRecord
from expectations.errors import ConfigError
from expectations.measures import (
    BUILTIN_MEASURES,
    Measure,
    MeasureCatalogue,
    MeasureKind,
    PeriodFigure,
    extended_catalogue,
)
from flows.config_settings import ConfigModel
from transforms.rejects import rejects_frame

MEASURE_NAME = r"^[a-z][a-z0-9_]*$"



class MeasureSettings(ConfigModel):
    """One `[measures.catalogue.<measure>]` entry. For a built-in measure every field is optional (the rest is
    kept); a new measure needs label, unit and kind."""

    label: str | None = Field(default=None, min_length=1)
    unit: str | None = Field(default=None, min_length=1)
    kind: Literal["count", "stock", "average", "percentage", "rate"] | None = None
    period: Literal["mean", "last"] | None = None  # stocks only
    numerator: str | None = Field(default=None, pattern=MEASURE_NAME)  # percentages and rates only
    denominator: str | None = Field(default=None, pattern=MEASURE_NAME)
    scale: float | None = Field(default=None, gt=0)  # ratio x scale; default 100 for a percentage, 1 for a rate
    part_of: str | None = Field(default=None, pattern=MEASURE_NAME)


class MeasuresSettings(ConfigModel):
    """The `[measures]` table."""

    demand: list[str] | None = Field(default=None, min_length=1)
    catalogue: dict[str, MeasureSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> MeasuresSettings:
        try:
            measure_catalogue(self)
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return self


def declared_measure(name: str, settings: MeasureSettings) -> Measure:
    """The catalogue entry a config entry declares, on top of the built-in entry of the same name if any."""
    builtin = {m.measure: m for m in BUILTIN_MEASURES}.get(name)
    where = f"measures.catalogue.{name}"
    if builtin is None:
        missing = [f for f in ("label", "unit", "kind") if getattr(settings, f) is None]
        if missing:
            raise ConfigError(f"{where}: a measure the built-in catalogue does not know needs "
                              f"{', '.join(missing)}")
    kind = MeasureKind(settings.kind) if settings.kind else builtin.kind  # type: ignore[union-attr]
    same_kind = builtin is not None and builtin.kind == kind
    return Measure(
        measure=name,
        label=settings.label or builtin.label,  # type: ignore[union-attr]
        unit=settings.unit or builtin.unit,  # type: ignore[union-attr]
        kind=kind,
        stock_figure=PeriodFigure(settings.period) if settings.period else
        (builtin.stock_figure if same_kind else None),  # type: ignore[union-attr]
        numerator=settings.numerator or (builtin.numerator if same_kind else None),  # type: ignore[union-attr]
        denominator=settings.denominator or (builtin.denominator if same_kind else None),  # type: ignore[union-attr]
        scale=settings.scale if settings.scale is not None else (builtin.scale if same_kind else None),  # type: ignore[union-attr]
        part_of=settings.part_of or (builtin.part_of if builtin else None),
    )


def measure_catalogue(settings: MeasuresSettings) -> MeasureCatalogue:
    """The map's measure catalogue: built-in entries, extended or overridden by the config."""
    for name in settings.catalogue:
        if not re.match(MEASURE_NAME, name):
            raise ConfigError(f"measures.catalogue.{name}: a measure name is lower_snake_case, e.g. bed_days")
    declared = [declared_measure(name, entry) for name, entry in sorted(settings.catalogue.items())]
    return extended_catalogue(declared, settings.demand)


def published_measures(settings: MeasuresSettings, activity: pd.DataFrame, flows: pd.DataFrame,
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The version's `measures` table (every measure its activity and flows use, and what those refer to) and a
    warning (reject, severity warn) per source and measure no catalogue declares."""
    catalogue = measure_catalogue(settings)
    used = pd.concat([activity[["source_id", "measure"]], flows[["source_id", "measure"]]]).drop_duplicates()
    undeclared = set(catalogue.undeclared(used["measure"]))
    warnings = [
        RejectRecord(source_id, "measure_undeclared",
                     f"measure {measure!r} is in no measure catalogue: its totals are a count of its own unit, "
                     f"added to nothing else; declare it under [measures.catalogue.{measure}] (label, unit, kind)",
                     column="measure", value=measure)
        for source_id, measure in sorted(used.itertuples(index=False, name=None)) if measure in undeclared
    ]
    return catalogue.frame(used["measure"]), rejects_frame(warnings)
