"""Data gaps a reader of the map must see where they look: services whose source is missing from this version,
is a stale last good extract (with its age) or whose values were flagged as outliers, and the missing and stale
sources by partner name. Read from the version's source outcomes and quality summary; a missing source's services
are the ones it reported in the previous version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from outputs.context import FLAG_OUTLIER, FLAG_STALE, SOURCE_ABSENT, SOURCE_STALE, PublishedVersion

GAP_MISSING, GAP_STALE, GAP_OUTLIER = "missing", "stale", "outlier"
GAP_MARKS = {GAP_MISSING: "⊘", GAP_STALE: "◷", GAP_OUTLIER: "⚠"}
GAP_LEGEND = {
    GAP_MISSING: "a source of this service is missing from this version (its numbers are incomplete)",
    GAP_STALE: "a source of this service is its last good extract, not this run's",
    GAP_OUTLIER: "a month of this service is far from its usual (flagged as an outlier)",
}


@dataclass(frozen=True)
class ServiceGap:
    kind: str  # GAP_MISSING | GAP_STALE | GAP_OUTLIER
    text: str  # what the reader should know, e.g. "council_activity missing (Glenmuir Council)"

    @property
    def mark(self) -> str:
        return GAP_MARKS[self.kind]


@dataclass(frozen=True)
class DataGaps:
    """Marks per service and the sources missing or stale, named by partner."""

    services: Mapping[str, tuple[ServiceGap, ...]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # "Partner name (source_id)"
    stale: tuple[str, ...] = ()  # "Partner name (source_id, last good extract 12 days old)"

    def kinds(self) -> list[str]:
        """The kinds of mark the map shows, in legend order."""
        found = {gap.kind for gaps in self.services.values() for gap in gaps}
        return [kind for kind in GAP_MARKS if kind in found]

    def marks(self, service: str) -> str:
        """The marks of one service, in legend order, e.g. `⊘ ⚠`."""
        kinds = {gap.kind for gap in self.services.get(service, ())}
        return " ".join(GAP_MARKS[kind] for kind in GAP_MARKS if kind in kinds)

    def notes(self) -> list[str]:
        """The footer's and header's sentences on missing and stale sources."""
        notes = []
        if self.missing:
            notes.append("Missing from this version: " + "; ".join(self.missing) + ".")
        if self.stale:
            notes.append("Shown from the last good extract: " + "; ".join(self.stale) + ".")
        return notes


def _age(stale: Mapping[str, Any] | None) -> str:
    age = (stale or {}).get("age_days")
    if age is None:
        return "last good extract"
    days = float(age)
    return f"last good extract {days:,.0f} day{'s' if round(days) != 1 else ''} old"


def _named(partners: Mapping[str, str], source: Mapping[str, Any], detail: str = "") -> str:
    partner = str(source.get("partner") or "")
    name = partners.get(partner, partner) or "unknown partner"
    inside = ", ".join(part for part in (str(source.get("source_id")), detail) if part)
    return f"{name} ({inside})"


def _services_of(sources: Iterable[str], tables: Mapping[str, pd.DataFrame]) -> dict[str, set[str]]:
    """Source id -> the services it reports (services, activity and the sending end of flows)."""
    wanted = set(sources)
    found: dict[str, set[str]] = {source: set() for source in wanted}
    services = tables.get("services")
    if services is not None and "source_ids" in services:
        for sid, listed in zip(services["service_id"], services["source_ids"], strict=True):
            for source in str(listed or "").split(LIST_SEPARATOR):
                if source in wanted:
                    found[source].add(str(sid))
    for table, column in (("activity", "service_id"), ("flows", "from_service_id")):
        frame = tables.get(table)
        if frame is not None and len(frame):
            rows = frame[frame["source_id"].isin(wanted)]
            for source, sid in zip(rows["source_id"], rows[column], strict=True):
                found[str(source)].add(str(sid))
    return found


def previous_tables(previous: Path | None) -> dict[str, pd.DataFrame]:
    """The previous version's activity and flows (source and service columns only), or none."""
    tables: dict[str, pd.DataFrame] = {}
    if previous is None:
        return tables
    for table, columns in (("activity", ["source_id", "service_id"]),
                           ("flows", ["source_id", "from_service_id"])):
        path = previous / f"{table}.parquet"
        if path.is_file():
            tables[table] = pd.read_parquet(path, columns=columns)
    return tables


def data_gaps(sources: Sequence[Mapping[str, Any]], quality: Mapping[str, Any], partners: Mapping[str, str],
              tables: Mapping[str, pd.DataFrame], previous: Mapping[str, pd.DataFrame], in_map: Iterable[str],
              ) -> DataGaps:
    """The gaps of a version: `sources` its source entries (the quality summary's, with stale ages, when there),
    `previous` the previous version's tables (where a missing source's services are found)."""
    services = set(map(str, in_map))
    marks: dict[str, list[ServiceGap]] = {}
    absent = [s for s in sources if s.get("status") in SOURCE_ABSENT]
    stale = [s for s in sources if s.get("status") == SOURCE_STALE]
    absent_services = _services_of([str(s["source_id"]) for s in absent], {**previous, **{"services": tables.get(
        "services", pd.DataFrame())}})
    for source in absent:
        for sid in sorted(absent_services[str(source["source_id"])] & services):
            marks.setdefault(sid, []).append(ServiceGap(GAP_MISSING, f"{_named(partners, source)}: missing"))
    stale_services = _services_of([str(s["source_id"]) for s in stale], tables)
    for source in stale:
        for sid in sorted(stale_services[str(source["source_id"])] & services):
            marks.setdefault(sid, []).append(ServiceGap(GAP_STALE, _named(partners, source, _age(source.get("stale")))))
    for sid, flags in (quality.get("services") or {}).items():
        for flag in flags if str(sid) in services else []:
            code = flag.get("code") if isinstance(flag, Mapping) else None
            kind = GAP_OUTLIER if code == FLAG_OUTLIER else GAP_STALE if code == FLAG_STALE else None
            if kind and not (kind == GAP_STALE and any(g.kind == GAP_STALE for g in marks.get(str(sid), []))):
                marks.setdefault(str(sid), []).append(ServiceGap(kind, str(flag.get("message") or "")))
    return DataGaps({sid: tuple(found) for sid, found in sorted(marks.items())},
                    tuple(_named(partners, s) for s in absent),
                    tuple(_named(partners, s, _age(s.get("stale"))) for s in stale))


def version_gaps(version: PublishedVersion) -> DataGaps:
    """The data gaps of a version being written."""
    sources = version.quality.get("sources") or version.sources
    return data_gaps(sources, version.quality, version.partners, version.tables, previous_tables(version.previous),
                     version.graph.nodes)
