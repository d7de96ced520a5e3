"""The measure catalogue: what each activity and flow measure counts (label, unit) and how its monthly values make
a figure for a longer period (kind). Built-in entries cover the common measures; a map config extends or overrides
them ([measures] in the map config, flows/config_measures.py). Every total a person reads follows this catalogue:
unlike units are never added."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

import pandas as pd

from expectations.errors import ConfigError


class MeasureKind(StrEnum):
    COUNT = "count"  # adds over months and over services
    STOCK = "stock"  # a point in time (caseload): the period figure is the mean or the last month; adds over services
    AVERAGE = "average"  # a mean over the month (average available beds): averaged over months, weighted by days
    PERCENTAGE = "percentage"  # never added: recomputed as numerator / denominator x 100 where declared
    RATE = "rate"  # never added: recomputed as numerator / denominator x scale where declared


class PeriodFigure(StrEnum):
    """How the figure of a period longer than one month is made from the monthly values."""

    SUM = "sum"  # count
    MEAN = "mean"  # stock declared as mean, or average (weighted by the days each value covers)
    LAST = "last"  # stock declared as last: the value of the latest month
    RATIO = "ratio"  # percentage or rate: numerator total / denominator total x scale
    MONTHLY = "monthly"  # percentage or rate without numerator and denominator: shown per month only


class MeasureOrigin(StrEnum):
    BUILTIN = "builtin"
    CONFIG = "config"  # declared or overridden in the map config
    UNDECLARED = "undeclared"  # mapped by a source, known to no catalogue: treated as a count of its own unit


RATIO_KINDS = (MeasureKind.PERCENTAGE, MeasureKind.RATE)
STOCK_FIGURES = (PeriodFigure.MEAN, PeriodFigure.LAST)
# Lane demand and initiative coverage add these activity measures (and the flows in their unit): how people arrive
# at a service. A map config may declare its own set ([measures] demand = [...]); they must share one unit.
DEFAULT_DEMAND = ("referrals", "attendances", "admissions")
MEASURE_COLUMNS = ["measure", "label", "unit", "kind", "period_figure", "numerator", "denominator", "scale",
                   "part_of", "demand", "origin"]


@dataclass(frozen=True)
class Measure:
    """One catalogue entry. `stock_figure` is declared for stocks only (mean or last); `numerator` and
    `denominator` (count measures) for percentages and rates only; `scale` multiplies their ratio (100 for a
    percentage). `part_of` names the measure this one breaks down: never added to it."""

    measure: str
    label: str
    unit: str
    kind: MeasureKind
    stock_figure: PeriodFigure | None = None
    numerator: str | None = None
    denominator: str | None = None
    scale: float | None = None
    part_of: str | None = None
    origin: MeasureOrigin = MeasureOrigin.BUILTIN

    @property
    def period_figure(self) -> PeriodFigure:
        if self.kind == MeasureKind.COUNT:
            return PeriodFigure.SUM
        if self.kind == MeasureKind.STOCK:
            return self.stock_figure or PeriodFigure.MEAN
        if self.kind == MeasureKind.AVERAGE:
            return PeriodFigure.MEAN
        return PeriodFigure.RATIO if self.numerator and self.denominator else PeriodFigure.MONTHLY

    @property
    def ratio_scale(self) -> float:
        return self.scale if self.scale is not None else 100.0 if self.kind == MeasureKind.PERCENTAGE else 1.0

    @property
    def adds_over_services(self) -> bool:
        """Counts and stocks add over services (a lane's caseload is its services' caseloads); averages and
        ratios do not."""
        return self.kind in (MeasureKind.COUNT, MeasureKind.STOCK)


def _count(measure: str, label: str, unit: str, part_of: str | None = None) -> Measure:
    return Measure(measure, label, unit, MeasureKind.COUNT, part_of=part_of)


PEOPLE, BED_DAYS = "people", "bed days"
BUILTIN_MEASURES: tuple[Measure, ...] = (
    _count("referrals", "Referrals", PEOPLE),
    _count("attendances", "Attendances", PEOPLE),
    _count("admissions", "Admissions", PEOPLE),
    _count("discharges", "Discharges", PEOPLE),
    _count("transfers", "Transfers", PEOPLE),
    _count("conveyances", "Conveyances", PEOPLE),
    _count("see_and_treat", "Seen and treated at scene", PEOPLE),
    _count("dispositions", "Triage dispositions", PEOPLE),
    _count("patients", "Patients", PEOPLE),
    _count("new_starts", "New starts", PEOPLE),
    _count("approaches", "Approaches", PEOPLE),
    _count("assessments", "Assessments", "assessments"),
    _count("completions", "Completions", "cases"),
    _count("contacts", "Contacts", "contacts"),
    _count("face_to_face_contacts", "Face-to-face contacts", "contacts", part_of="contacts"),
    _count("telephone_contacts", "Telephone contacts", "contacts", part_of="contacts"),
    _count("home_visits", "Home visits", "contacts", part_of="contacts"),
    _count("consultations", "Consultations", "contacts"),
    _count("calls", "Calls", "calls"),
    _count("advice_given", "Calls closed with advice", "calls", part_of="calls"),
    _count("incidents", "Incidents", "incidents"),
    _count("bed_days", "Occupied bed days", BED_DAYS),
    _count("occupied_bed_days", "Occupied bed days", BED_DAYS),
    _count("staffed_bed_days", "Staffed bed days", BED_DAYS),
    _count("delayed_bed_days", "Delayed discharge bed days", BED_DAYS, part_of="bed_days"),
    _count("delayed_discharge_bed_days", "Delayed discharge bed days", BED_DAYS, part_of="bed_days"),
    _count("care_hours", "Care hours", "hours"),
    _count("equipment_deliveries", "Equipment deliveries", "deliveries"),
    Measure("caseload", "Caseload", PEOPLE, MeasureKind.STOCK, stock_figure=PeriodFigure.MEAN),
    Measure("average_available_beds", "Average available staffed beds", "beds", MeasureKind.AVERAGE),
    Measure("average_occupied_beds", "Average occupied beds", "beds", MeasureKind.AVERAGE),
    Measure("average_length_of_stay", "Average length of stay", "days", MeasureKind.AVERAGE),
    Measure("percentage_occupancy", "Percentage occupancy", "%", MeasureKind.PERCENTAGE,
            numerator="occupied_bed_days", denominator="staffed_bed_days"),
)


@dataclass(frozen=True)
class MeasureCatalogue:
    """Every declared measure by name, and the measures lane demand adds (`demand`, one unit)."""

    entries: Mapping[str, Measure]
    demand: tuple[str, ...] = DEFAULT_DEMAND
    demand_declared: bool = field(default=False, compare=False)  # False: DEFAULT_DEMAND, as documented

    def __post_init__(self) -> None:
        problems = catalogue_problems(self)
        if problems:
            raise ConfigError("measure catalogue: " + "; ".join(problems))

    def get(self, measure: str) -> Measure:
        """The entry of `measure`; a measure no catalogue declares is a count of its own unit (never added to
        anything else)."""
        found = self.entries.get(measure)
        if found is not None:
            return found
        return Measure(measure, measure.replace("_", " ").capitalize(), measure, MeasureKind.COUNT,
                       origin=MeasureOrigin.UNDECLARED)

    def undeclared(self, measures: Iterable[str]) -> list[str]:
        """The measures (of a source's rows) that the catalogue does not declare, sorted."""
        return sorted({m for m in measures if m not in self.entries})

    @property
    def demand_unit(self) -> str:
        return self.entries[self.demand[0]].unit

    def counts_as_inflow(self, measure: str) -> bool:
        """A flow measure counted in demand: a count in the demand unit that breaks down no other measure."""
        entry = self.get(measure)
        return entry.kind == MeasureKind.COUNT and entry.unit == self.demand_unit and entry.part_of is None

    def used(self, measures: Iterable[str]) -> list[Measure]:
        """The entries of `measures`, of the demand set and of everything they refer to (numerator, denominator,
        part_of), sorted by name: what a version publishes as its `measures` table."""
        wanted = set(measures) | set(self.demand)
        pending = sorted(wanted)
        while pending:
            entry = self.get(pending.pop())
            for ref in (entry.numerator, entry.denominator, entry.part_of):
                if ref and ref not in wanted:
                    wanted.add(ref)
                    pending.append(ref)
        return [self.get(m) for m in sorted(wanted)]

    def frame(self, measures: Iterable[str]) -> pd.DataFrame:
        """The `measures` table of a version whose activity and flows use `measures` (columns MEASURE_COLUMNS)."""
        rows = [{"measure": m.measure, "label": m.label, "unit": m.unit, "kind": str(m.kind),
                 "period_figure": str(m.period_figure), "numerator": m.numerator, "denominator": m.denominator,
                 "scale": m.ratio_scale if m.kind in RATIO_KINDS else None, "part_of": m.part_of,
                 "demand": m.measure in self.demand, "origin": str(m.origin)} for m in self.used(measures)]
        frame = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
        frame["scale"] = pd.to_numeric(frame["scale"]).astype("float64")
        frame["demand"] = frame["demand"].astype(bool)
        return frame


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def catalogue_of(frame: pd.DataFrame | None) -> MeasureCatalogue:
    """The catalogue a published `measures` table describes (a version from before the table: the built-in one)."""
    if frame is None:
        return builtin_catalogue()
    entries = {}
    for row in frame.to_dict("records"):
        kind = MeasureKind(row["kind"])
        figure = PeriodFigure(row["period_figure"])
        scale = row.get("scale")
        entries[row["measure"]] = Measure(
            row["measure"], row["label"], row["unit"], kind,
            stock_figure=figure if kind == MeasureKind.STOCK else None,
            numerator=_text(row.get("numerator")), denominator=_text(row.get("denominator")),
            scale=None if scale is None or pd.isna(scale) else float(scale), part_of=_text(row.get("part_of")),
            origin=MeasureOrigin(row["origin"]),
        )
    demand = tuple(sorted(m for m, d in zip(frame["measure"], frame["demand"], strict=True) if bool(d)))
    return MeasureCatalogue(entries, demand or DEFAULT_DEMAND, demand_declared=bool(demand))


def builtin_catalogue() -> MeasureCatalogue:
    return MeasureCatalogue({m.measure: m for m in BUILTIN_MEASURES})


def extended_catalogue(declared: Iterable[Measure], demand: Iterable[str] | None = None) -> MeasureCatalogue:
    """The built-in catalogue with `declared` entries added or replacing built-in ones of the same name, and the
    declared demand set (None: DEFAULT_DEMAND). Raises ConfigError naming every inconsistency."""
    entries = {m.measure: m for m in BUILTIN_MEASURES}
    for entry in declared:
        entries[entry.measure] = replace(entry, origin=MeasureOrigin.CONFIG)
    chosen = tuple(demand) if demand is not None else DEFAULT_DEMAND
    return MeasureCatalogue(entries, chosen, demand_declared=demand is not None)


def catalogue_problems(catalogue: MeasureCatalogue) -> list[str]:
    """Everything inconsistent in a catalogue, one sentence each naming the measure and field."""
    entries = catalogue.entries
    problems = []
    for name, entry in sorted(entries.items()):
        where = f"measures.{name}"
        if entry.kind == MeasureKind.STOCK and entry.stock_figure not in (None, *STOCK_FIGURES):
            problems.append(f"{where}.period: a stock's period figure is mean or last")
        if entry.kind != MeasureKind.STOCK and entry.stock_figure is not None:
            problems.append(f"{where}.period: only a stock declares mean or last (this is a {entry.kind})")
        refs = [r for r in (entry.numerator, entry.denominator) if r]
        if entry.kind not in RATIO_KINDS and (refs or entry.scale is not None):
            problems.append(f"{where}: only a percentage or rate has a numerator, denominator or scale")
        if entry.kind in RATIO_KINDS and len(refs) == 1:
            problems.append(f"{where}: declare both numerator and denominator, or neither (shown per month only)")
        for ref in refs:
            if ref not in entries:
                problems.append(f"{where}: numerator or denominator {ref!r} is not in the catalogue; declare it")
            elif entries[ref].kind != MeasureKind.COUNT:
                problems.append(f"{where}: numerator or denominator {ref!r} must be a count, not a "
                                f"{entries[ref].kind}")
        if entry.part_of:
            parent = entries.get(entry.part_of)
            if parent is None:
                problems.append(f"{where}.part_of: {entry.part_of!r} is not in the catalogue; declare it")
            elif parent.unit != entry.unit or parent.kind != entry.kind:
                problems.append(f"{where}.part_of: a breakdown has the kind and unit of its whole "
                                f"({entry.part_of!r} is a {parent.kind} in {parent.unit})")
            elif _ancestors(entries, name) is None:
                problems.append(f"{where}.part_of: the part_of chain loops back to {name!r}")
    if not catalogue.demand:
        problems.append("measures.demand: name at least one count measure")
    for name in catalogue.demand:
        chosen = entries.get(name)
        if chosen is None:
            problems.append(f"measures.demand: {name!r} is not in the catalogue; declare it under [measures]")
        elif chosen.kind != MeasureKind.COUNT:
            problems.append(f"measures.demand: {name!r} is a {chosen.kind}; demand adds counts only")
    units = sorted({entries[n].unit for n in catalogue.demand if n in entries})
    if len(units) > 1:
        problems.append(f"measures.demand: the measures must share one unit, found {', '.join(units)}")
    for name in catalogue.demand:
        overlap = set(_ancestors(entries, name) or ()) & set(catalogue.demand)
        if overlap:
            problems.append(f"measures.demand: {name!r} is part of {sorted(overlap)[0]!r}; adding both counts it "
                            "twice")
    return problems


def _ancestors(entries: Mapping[str, Measure], name: str) -> list[str] | None:
    """The measures `name` breaks down, nearest first; None when the chain loops."""
    found: list[str] = []
    current = entries[name].part_of if name in entries else None
    while current:
        if current == name or current in found:
            return None
        found.append(current)
        current = entries[current].part_of if current in entries else None
    return found
