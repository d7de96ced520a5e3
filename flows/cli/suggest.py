"""What `ism init` suggests for one profiled table: the staged table it looks like, its column mappings, and for
the wide, repeated tables national publishers send (Public Health Scotland's), the unpivot, the rows to keep and
the lane codes. Every suggestion is written into the starter config for a person to check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from expectations.measures import BUILTIN_MEASURES
from sources.profile import QUALIFIER_SUFFIX
from transforms.source_steps import measure_from_header

if TYPE_CHECKING:
    from sources.profile import ColumnProfile, TableProfile

FROM_WORDS = re.compile(r"\b(from|source|referr(er|ing|ed from)|discharging|origin)\b|^from", re.IGNORECASE)
TO_WORDS = re.compile(r"\b(to|destination|dest|disposition|receiving|referred to)\b|^to", re.IGNORECASE)
KEY_WORDS = re.compile(r"code|key|\bid\b|_id$|ref|unit|team|service|practice|home|resource", re.IGNORECASE)
PLACE_WORDS = re.compile(r"location|site|hospital|\bhbt?\b", re.IGNORECASE)  # where a national file's rows are
NAME_WORDS = re.compile(r"name", re.IGNORECASE)
LANE_WORDS = re.compile(r"type|category|group|lane", re.IGNORECASE)
MEASURE_WORDS = re.compile(r"^(measure|metric|indicator|contact type)$", re.IGNORECASE)
VALUE_WORDS = re.compile(r"\b(value|count|number)\b", re.IGNORECASE)
# a lane from the words of a code, a file or a partner name: a guess for a person to check, never a rule
LANE_GUESSES = (
    ("urgent_care", r"emergency|\ba ?& ?e\b|\bed\b|minor injur|urgent|out of hours|\booh\b|\b111\b|triage|ambulanc"),
    ("care_homes", r"care.?home|nursing home|residential"),
    ("primary_care", r"\bgp\b|practice|general practi|pharmac|dental|optom"),
    ("intermediate_care", r"community|district nurs|rehab|reablement|intermediate|hospital at home"),
    ("social_care", r"social|home care|care at home|council"),
    ("housing", r"housing|homeless|tenan"),
    ("third_sector", r"voluntary|charit|third.?sector|befriend"),
    ("acute", r"hospital|acute|\bward|\bbeds?\b|inpatient|assessment unit|surg|medic|\bicu\b|\bccu\b|\bamu\b"),
)


@dataclass(frozen=True)
class Suggestion:
    """A source's suggested mapping, as map config keys (canonical -> raw column, and so on)."""

    table: str
    columns: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)
    unpivot: dict[str, Any] | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    where: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comment lines: what a person should look at


def guessed_lane(text: str, lanes: set[str]) -> str | None:
    """The lane the words of `text` suggest, if the map has it."""
    words = text.replace("_", " ")
    return next((lane for lane, pattern in LANE_GUESSES if lane in lanes and re.search(pattern, words, re.I)), None)


def _first(names: list[str], pattern: re.Pattern[str], taken: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    return next((n for n in names if pattern.search(n) and n not in taken), None)


def _key(columns: list[ColumnProfile], taken: set[str]) -> str | None:
    """The column that most likely names a service: a code whose name says so, else the finest place, else the
    column with most values (a name column only when there is nothing else)."""
    free = [c for c in columns if c.name not in taken]
    codes = [c for c in free if not NAME_WORDS.search(c.name)] or free
    places = [c for c in codes if PLACE_WORDS.search(c.name)]  # the finest: a hospital's rather than its board's
    return _first([c.name for c in codes], KEY_WORDS) or _most_values(places) or _most_values(codes)


def _most_values(columns: list[ColumnProfile]) -> str | None:
    return max(columns, key=lambda c: c.distinct).name if columns else None


def suggested_mapping(profile: TableProfile, lanes: set[str]) -> Suggestion:
    """The staged table a profile looks like (services, activity or flows) and how to map it, with a note on each
    column a refresh would refuse as personal data."""
    found = _mapping(profile, lanes)
    return replace(found, notes=[*found.notes, *_personal_notes(profile)])


def _personal_notes(profile: TableProfile) -> list[str]:
    """What the identifier scan will say of the profiled rows, before a refresh refuses the source for it."""
    import pandas as pd

    from expectations.identifiers import identifier_findings

    frame = pd.DataFrame(list(profile.cells), columns=[c.name for c in profile.columns], dtype="str")
    return [f"# {finding.message(profile.rows)}" for finding in identifier_findings(frame)]


def _mapping(profile: TableProfile, lanes: set[str]) -> Suggestion:
    """Flows when a period, a from and a to column are there (a value column, or a log whose rows are counted);
    activity when a period and a value are; services otherwise."""
    qualifiers = set(profile.qualifiers.values())
    text = [c for c in profile.codes if c.name not in qualifiers]
    names = [c.name for c in text]
    period = profile.periods[0] if profile.periods else None
    # counts written "1,234" profile as text: a column named so is still the value
    measures = profile.measures or [m for m in [_first(names, VALUE_WORDS)] if m]
    measure_column = _first(names, MEASURE_WORDS)
    codes, notes = _measure_codes(next((c for c in text if c.name == measure_column), None))
    target = _first(names, TO_WORDS)
    source = _first(names, FROM_WORDS, {target or ""}) or _first(names, KEY_WORDS, {target or "", measure_column or ""})
    if period and source and target:  # no value column: a log of one row per referral or discharge, counted
        columns = {"from_key": source, "to_key": target, "period": period.name,
                   "value": measures[0] if measures else None, "measure": measure_column}
        measure = _measure(measures[0]) if measures else _measure(profile.location.stem)
        counted = [] if measures else ["# one row per event: ism counts the rows"]
        return Suggestion("flows", _without_none(columns), {} if measure_column else {"measure": measure},
                          codes=codes, notes=[*notes, *counted])
    if period and measures:
        found = _activity(profile, text, period, measures, measure_column)
        return replace(found, codes=codes, notes=[*notes, *found.notes])
    return _services(profile, text, lanes)


def _activity(profile: TableProfile, text: list[ColumnProfile], period: ColumnProfile, measures: list[str],
              measure_column: str | None) -> Suggestion:
    """Activity: one value column and its measure, or several unpivoted (a wide table, each with its qualifier);
    rows kept at the totals of the columns that repeat them ("All Specialties")."""
    key = _key(text, {measure_column or ""})
    columns = _without_none({"service_key": key, "period": period.name, "measure": measure_column})
    one_row = [name for name in (key, period.name, measure_column) if name]
    keep: dict[str, str] = {}
    for column in text:  # a total row stands for the rows it adds up: keep it where it splits the rows
        if column.total and column.name not in one_row and profile.splitting(one_row, [column.name], keep):
            keep[column.name] = column.total
    others = [c.name for c in text if c.name not in one_row and c.name not in keep]
    repeating = set(profile.splitting(one_row, others, keep))
    notes = [f"# rows repeat per {c.name!r}{_listed(c)}: keep one value with "
             f'where = [{{ column = "{c.name}", equals = "..." }}]  # or duplicates = "sum" if they add up'
             for c in text if c.name in repeating]
    where = [{"column": name, "equals": value} for name, value in keep.items()]
    if len(measures) > 1 and not measure_column:
        unpivot: dict[str, Any] = {"columns": _measures(measures)}
        if any(m in profile.qualifiers for m in measures):
            unpivot["qualifier_suffix"] = QUALIFIER_SUFFIX
        return Suggestion("activity", columns, unpivot=unpivot, where=where, notes=notes)
    columns["value"] = measures[0]
    constants = {} if measure_column else {"measure": _measure(measures[0])}
    return Suggestion("activity", columns, constants, where=where, notes=notes)


def _listed(column: ColumnProfile) -> str:
    return f" ({', '.join(map(repr, column.values))})" if column.values else f" ({column.distinct:,} values)"


def _services(profile: TableProfile, text: list[ColumnProfile], lanes: set[str]) -> Suggestion:
    """Services: a key, a name and a lane, from a column (its values guessed to lanes) or from the file's words."""
    keys = [c for c in text if c.name in profile.candidate_keys] or text
    key = _key(keys, set())
    lane_column = next((c for c in text if LANE_WORDS.search(c.name) and c.name != key), None)
    columns = _without_none({"service_key": key, "name": _first([c.name for c in text], NAME_WORDS, {key or ""}),
                             "lane": lane_column.name if lane_column else None})
    if lane_column:
        guessed = {value: lane for value in lane_column.values if (lane := guessed_lane(value, lanes))}
        left = [value for value in lane_column.values if value not in guessed]
        notes = [f"# codes.lane: also map {', '.join(map(repr, left))}"] if left else []
        return Suggestion("services", columns, codes={"lane": guessed} if guessed else {}, notes=notes)
    lane = guessed_lane(profile.location.as_posix(), lanes)
    if lane:
        return Suggestion("services", columns, {"lane": lane})
    return Suggestion("services", columns, notes=['# constants = { lane = "..." }  # set the lane of these services'])


def catalogue_measure(text: str) -> str | None:
    """The built-in measure a header or code names, by its name or label inside the text's letters (the longest:
    `AllStaffedBeddays` -> staffed_bed_days, not bed_days), if any."""
    letters = re.sub(r"[^a-z]", "", text.lower())
    named = [(len(word), m.measure) for m in BUILTIN_MEASURES
             for word in {re.sub(r"[^a-z]", "", m.measure), re.sub(r"[^a-z]", "", m.label.lower())} if word in letters]
    return max(named)[1] if named else None


def _measure(column: str) -> str:
    return catalogue_measure(column) or measure_from_header(column) or "count"


def _measures(columns: list[str]) -> dict[str, str]:
    """Each value column's measure: a catalogue one where its header names it (once: a second column naming the
    same keeps its own words, as one measure from two columns would repeat every row)."""
    found: dict[str, str] = {}
    for column in columns:
        measure = _measure(column)
        found[column] = measure if measure not in found.values() else measure_from_header(column) or "count"
    return found


def _measure_codes(column: ColumnProfile | None) -> tuple[dict[str, dict[str, str]], list[str]]:
    """`codes.measure` for a measure column's values that name catalogue measures, and a note on the others."""
    if column is None or not column.values:
        return {}, []
    guessed = {value: measure for value in column.values if (measure := catalogue_measure(value))
               and value != measure}
    left = [value for value in column.values if value not in guessed and catalogue_measure(value) != value]
    notes = [f"# codes.measure: also map {', '.join(map(repr, left))} (to a measure, e.g. admissions)"] if left else []
    return ({"measure": guessed} if guessed else {}), notes


def _without_none(columns: dict[str, str | None]) -> dict[str, str]:
    return {canonical: raw for canonical, raw in columns.items() if raw is not None}
