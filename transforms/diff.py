"""What changed between two maps (two published versions, or an as-is and a to-be): services added, removed,
renamed or moved lane; flows and activity per measure added, removed or changed beyond a relative threshold; and
what differs between the two versions themselves (period, config, sources), so that a change is not read as growth
when the months, the config or the sources differ."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from expectations.status import SourceStatus
from transforms.graph import service_graph
from transforms.totals import MeasuredMap

ADDED, REMOVED, CHANGED, SOURCE_MISSING = "added", "removed", "changed", "source missing"
SUPPRESSION_CHANGED = "suppression changed"
CHANGE_COLUMNS = ["element", "change", "attribute", "service_id", "from_service_id", "to_service_id", "name",
                  "before", "after", "unit", "value_before", "value_after", "display_before", "display_after",
                  "relative_change", "note"]
NUMBER_COLUMNS = ("value_before", "value_after", "relative_change")
SERVICE_ATTRIBUTES = {"name": "renamed", "lane": "moved lane", "organisation_id": "organisation changed"}
ELEMENT_ORDER = {"service": 0, "flow": 1, "activity": 2}
CHANGE_ORDER = {ADDED: 0, REMOVED: 1, SOURCE_MISSING: 2, CHANGED: 3}
# a source with one of these contributed no data to its version (stale: its last good extract is used)
ABSENT_STATUSES = (str(SourceStatus.BLOCKED), str(SourceStatus.MISSING))
COMPARISON_COLUMNS = ["aspect", "before", "after", "differs", "note"]


@dataclass(frozen=True)
class VersionFacts:
    """What a version was built from: its label (a version id, "as-is"), period (first and last month, YYYY-MM),
    config digest and sources (source_id -> status: ok, warn, stale, blocked, missing)."""

    label: str
    period: tuple[str, str] | None = None
    config_digest: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def period_label(self) -> str:
        return "an unknown period" if self.period is None else f"{self.period[0]} to {self.period[1]}"

    def has_data_of(self, source_id: str) -> bool:
        return source_id in self.sources and self.sources[source_id] not in ABSENT_STATUSES


@dataclass(frozen=True)
class MapState:
    """One side of a comparison: the map graph (services, lanes, names), its totals by measure, which sources
    named each service, reported each activity measure and each flow, and the version's facts."""

    graph: nx.DiGraph
    measured: MeasuredMap
    service_sources: Mapping[str, frozenset[str]]
    activity_sources: Mapping[tuple[str, str], frozenset[str]]
    flow_sources: Mapping[tuple[str, str, str], frozenset[str]]
    facts: VersionFacts | None = None


def _sources(frame: pd.DataFrame, key: list[str], column: str = "source_id") -> dict[tuple[str, ...], frozenset[str]]:
    """Per key: every source id behind its rows (`column` may hold ';'-joined lists). Keys in the order they first
    appear; a row with a missing key part belongs to no key (as groupby leaves it out)."""
    keyed = frame.loc[frame[key].notna().all(axis=1), [*key, column]]
    keyed = keyed[~keyed.duplicated()]  # a key's months mostly repeat its sources: each pair is read once
    found: dict[tuple[str, ...], set[str]] = {}
    for *ident, value, known in zip(*(keyed[c].tolist() for c in key), keyed[column].tolist(),
                                    keyed[column].notna().tolist(), strict=True):
        ids = found.setdefault(tuple(ident), set())
        if known:
            ids.update(str(value).split(LIST_SEPARATOR))
    return {ident: frozenset(ids) for ident, ids in found.items()}


def map_state(tables: Mapping[str, pd.DataFrame], measured: MeasuredMap, facts: VersionFacts | None = None,
              graph: nx.DiGraph | None = None) -> MapState:
    """The state of a map from its canonical tables (services, organisations, activity, flows, initiatives).
    `graph`: the service_graph of these tables when the caller has built it already (with the version's own
    catalogue)."""
    if graph is None:
        graph = service_graph(tables["services"], tables["organisations"], tables["activity"], tables["flows"],
                              tables.get("initiatives"), measures=measured)
    services = tables["services"]
    named = services.assign(_ids=services["source_ids"].where(services["source_ids"].notna(), services["source_id"]))
    return MapState(
        graph=graph, measured=measured,
        service_sources={key[0]: ids for key, ids in _sources(named, ["service_id"], "_ids").items()},
        activity_sources=_sources(tables["activity"], ["service_id", "measure"]),  # type: ignore[arg-type]
        flow_sources=_sources(tables["flows"], ["from_service_id", "to_service_id", "measure"]),  # type: ignore[arg-type]
        facts=facts,
    )


def _relative(before: float, after: float) -> float:
    return (after - before) / before if before else float("inf") if after else 0.0


def _flow_name(graph: nx.DiGraph, source: str, target: str) -> str:
    return f"{graph.nodes[source]['name']} → {graph.nodes[target]['name']}"


def _gone_with_its_sources(sources: Iterable[str], after: VersionFacts | None) -> bool:
    """True when every source behind an element is absent from the later version (not in it, blocked or
    missing): the element disappeared because its data did, not because the service went."""
    ids = list(sources)
    return after is not None and bool(ids) and not any(after.has_data_of(s) for s in ids)


def _missing_note(sources: Iterable[str], after: VersionFacts | None) -> str:
    states = [f"{s} ({after.sources.get(s, 'not in the version') if after else '?'})" for s in sorted(sources)]
    return "source missing: " + ", ".join(states)


def _value_rows(before: pd.DataFrame, after: pd.DataFrame, key: list[str], threshold: float,
                sources: Mapping[tuple[str, ...], frozenset[str]], later: VersionFacts | None,
                periods_differ: bool) -> list[dict[str, object]]:
    """Rows for totals per key x measure present on either side: added, removed (or source missing), changed
    beyond the threshold, or with a different number of suppressed months ("suppression changed")."""
    columns = [*key, "measure", "unit", "value", "months", "suppressed_months", "display"]
    merged = before[columns].merge(after[columns], on=[*key, "measure"], how="outer", suffixes=("_b", "_a"),
                                   indicator=True)
    rows = (_value_row(row, key, threshold, sources, later, periods_differ)
            for row in merged[~_unremarkable(merged, threshold)].to_dict("records"))
    return [row for row in rows if row is not None]


def _value_row(row: Mapping[str, Any], key: list[str], threshold: float,
               sources: Mapping[tuple[str, ...], frozenset[str]], later: VersionFacts | None,
               periods_differ: bool) -> dict[str, object] | None:
    """The change row of one merged row of totals, or None when nothing changed that a reader should see."""
    ids = tuple(row[k] for k in key)
    base: dict[str, object] = {**dict(zip(key, ids, strict=True)), "attribute": row["measure"],
                               "unit": row["unit_a"] if isinstance(row["unit_a"], str) else row["unit_b"],
                               "value_before": row["value_b"], "value_after": row["value_a"],
                               "display_before": row["display_b"], "display_after": row["display_a"]}
    if row["_merge"] == "right_only":
        return {**base, "change": ADDED, "value_before": None, "display_before": None}
    if row["_merge"] == "left_only":
        behind = sources.get((*ids, row["measure"]), frozenset())
        if _gone_with_its_sources(behind, later):
            return {**base, "change": SOURCE_MISSING, "note": _missing_note(behind, later)}
        return {**base, "change": REMOVED, "value_after": None, "display_after": None}
    notes = ["over different periods"] if periods_differ else []
    if int(row["suppressed_months_b"]) != int(row["suppressed_months_a"]):
        notes.insert(0, f"{SUPPRESSION_CHANGED}: {int(row['suppressed_months_b'])} of {int(row['months_b'])} "
                        f"→ {int(row['suppressed_months_a'])} of {int(row['months_a'])} months suppressed")
        return {**base, "change": CHANGED, "relative_change": None, "note": "; ".join(notes)}
    value_before, value_after = row["value_b"], row["value_a"]
    if pd.isna(value_before) or pd.isna(value_after):
        return None  # nothing published on one side, and its suppression is unchanged: nothing to compare
    relative = _relative(float(value_before), float(value_after))
    if abs(relative) <= threshold:
        return None
    return {**base, "change": CHANGED, "relative_change": relative, "note": "; ".join(notes) or None}


def _unremarkable(merged: pd.DataFrame, threshold: float) -> pd.Series:
    """The merged rows `_value_row` leaves out, found at once (most of a big map's rows): on both sides, the same
    suppressed months, and no figure on one side or a relative change within the threshold."""
    value_before, value_after = merged["value_b"].astype("float64"), merged["value_a"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):  # as _relative: 0 -> 0 is no change, 0 -> x is infinite
        relative = np.where(value_before != 0, (value_after - value_before) / value_before,
                            np.where(value_after != 0, np.inf, 0.0))
    return ((merged["_merge"] == "both") & (merged["suppressed_months_b"] == merged["suppressed_months_a"])
            & (value_before.isna() | value_after.isna() | (np.abs(relative) <= threshold)))


def map_changes(before: MapState, after: MapState, threshold: float = 0.1) -> pd.DataFrame:
    """One row per difference from `before` to `after`.

    element service: added, removed, "source missing" (gone, and every source that named it is absent from the
    later version) or changed with attribute name ("renamed": same service_id, new name), lane or
    organisation_id. element flow (from -> to, attribute: the measure) and element activity (a service, attribute:
    the measure), compared as period figures that follow the measure's kind (transforms/totals.py): added,
    removed, source missing, changed when the figure moved by more than `threshold` relative to before, or changed
    with note "suppression changed" when the number of suppressed months differs (no relative change: that is
    not growth). relative_change = (after - before) / before; note "over different periods" when the versions'
    periods differ."""
    old_graph, new_graph, later = before.graph, after.graph, after.facts
    periods_differ = (before.facts is not None and later is not None and before.facts.period != later.period)
    rows: list[dict[str, object]] = []
    for sid in sorted(set(new_graph) - set(old_graph)):
        rows.append({"element": "service", "change": ADDED, "service_id": sid, "name": new_graph.nodes[sid]["name"],
                     "after": new_graph.nodes[sid]["lane"], "attribute": "lane"})
    for sid in sorted(set(old_graph) - set(new_graph)):
        behind = before.service_sources.get(sid, frozenset())
        missing = _gone_with_its_sources(behind, later)
        rows.append({"element": "service", "change": SOURCE_MISSING if missing else REMOVED, "service_id": sid,
                     "name": old_graph.nodes[sid]["name"], "before": old_graph.nodes[sid]["lane"],
                     "attribute": "lane", "note": _missing_note(behind, later) if missing else None})
    both = sorted(set(old_graph) & set(new_graph))
    for sid in both:
        old, new = old_graph.nodes[sid], new_graph.nodes[sid]
        for attribute, label in SERVICE_ATTRIBUTES.items():
            if old.get(attribute) != new.get(attribute):
                rows.append({"element": "service", "change": CHANGED, "attribute": attribute, "service_id": sid,
                             "name": new["name"], "before": old.get(attribute), "after": new.get(attribute),
                             "note": label})
    kept = set(both)
    old_totals, new_totals = before.measured.services, after.measured.services
    for row in _value_rows(old_totals[old_totals["service_id"].isin(kept)],
                           new_totals[new_totals["service_id"].isin(kept)], ["service_id"], threshold,
                           before.activity_sources, later, periods_differ):  # type: ignore[arg-type]
        rows.append({**row, "element": "activity", "name": new_graph.nodes[row["service_id"]]["name"]})
    for row in _value_rows(before.measured.flows, after.measured.flows, ["from_service_id", "to_service_id"],
                           threshold, before.flow_sources, later, periods_differ):  # type: ignore[arg-type]
        source, target = str(row["from_service_id"]), str(row["to_service_id"])
        graph = new_graph if source in new_graph and target in new_graph else old_graph
        if source not in graph or target not in graph:
            continue  # a flow of a service that is on neither map whole: its service rows say why
        rows.append({**row, "element": "flow", "name": _flow_name(graph, source, target)})
    return ordered_changes(pd.DataFrame(rows, columns=CHANGE_COLUMNS))


def version_comparison(before: VersionFacts, after: VersionFacts) -> pd.DataFrame:
    """What differs between two versions themselves: period, config digest, sources (one row each; `differs`
    True when they differ, `note` says how)."""
    period_note = ("the same months" if before.period == after.period else
                   "the periods differ: totals cover different months, so a change is not growth")
    config_note = ("the same config" if before.config_digest == after.config_digest else
                   "the config differs: mappings, suppression or measures may have changed what is counted")
    old, new = set(before.sources), set(after.sources)
    lost = sorted(s for s in old if before.has_data_of(s) and not after.has_data_of(s))
    gained = sorted(s for s in new if after.has_data_of(s) and not before.has_data_of(s))
    parts = []
    if lost:
        parts.append("without data in " + after.label + ": " + ", ".join(
            f"{s} ({after.sources.get(s, 'not in the version')})" for s in lost))
    if gained:
        parts.append("new data in " + after.label + ": " + ", ".join(gained))
    sources_note = "; ".join(parts) or "the same sources"
    return pd.DataFrame([
        ("period", before.period_label, after.period_label, before.period != after.period, period_note),
        ("config_digest", before.config_digest or "unknown", after.config_digest or "unknown",
         before.config_digest != after.config_digest, config_note),
        ("sources", f"{sum(before.has_data_of(s) for s in old)} of {len(old)} with data",
         f"{sum(after.has_data_of(s) for s in new)} of {len(new)} with data", bool(lost or gained), sources_note),
    ], columns=COMPARISON_COLUMNS)


def comparison_lines(before: VersionFacts, after: VersionFacts) -> list[str]:
    """The first lines of a diff or changelog: both periods, then config digests and sources, saying what
    differs."""
    table = version_comparison(before, after).set_index("aspect")
    period = table.loc["period"]
    lines = [f"{before.label} covers {before.period_label}; {after.label} covers {after.period_label}"
             + (" (the periods differ: totals cover different months, so a change is not growth)."
                if period["differs"] else " (the same months).")]
    config = table.loc["config_digest"]
    lines.append(f"Config: {str(config['before'])[:12]} → {str(config['after'])[:12]} ({config['note']}).")
    sources = table.loc["sources"]
    lines.append(f"Sources: {sources['before']} → {sources['after']} ({sources['note']}).")
    return lines


def ordered_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Changes in reading order (services, flows, activity; added, removed, source missing, changed; by name),
    one dtype per column so the table writes to Parquet and CSV the same way every time."""
    frame = frame.reindex(columns=CHANGE_COLUMNS).copy()
    for column in NUMBER_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in [c for c in CHANGE_COLUMNS if c not in NUMBER_COLUMNS]:
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
        frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    order = pd.DataFrame({"e": frame["element"].map(ELEMENT_ORDER), "c": frame["change"].map(CHANGE_ORDER)})
    keys = ["e", "c", "name", "attribute"]
    sortable = pd.concat([order, frame[["name", "attribute"]].fillna("")], axis=1)
    index = sortable.sort_values(keys, kind="mergesort").index
    return frame.loc[index].reset_index(drop=True)


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    """How many changes of each kind, e.g. {"service added": 1, "flow changed": 4}."""
    counts = changes.groupby(["element", "change"], sort=False).size()
    return {f"{element} {change}": int(n) for (element, change), n in counts.items()}


def diff_graph(before: nx.DiGraph, after: nx.DiGraph, changes: pd.DataFrame) -> nx.DiGraph:
    """The after map plus what was removed from the before map, each node and edge with `change`: added,
    removed, changed (a service attribute, its activity, or a flow volume changed) or unchanged."""
    graph = nx.DiGraph()
    for sid, data in before.nodes(data=True):  # a service whose source went missing is drawn as removed
        if sid not in after:
            graph.add_node(sid, **{**data, "change": REMOVED})
    for sid, data in after.nodes(data=True):
        graph.add_node(sid, **{**data, "change": ADDED if sid not in before else "unchanged"})
    for source, target, data in before.edges(data=True):
        if not after.has_edge(source, target):
            graph.add_edge(source, target, **{**data, "change": REMOVED})
    for source, target, data in after.edges(data=True):
        graph.add_edge(source, target, **{**data, "change": ADDED if not before.has_edge(source, target)
                                          else "unchanged"})
    for row in changes[changes["change"] == CHANGED].itertuples(index=False):
        if row.element == "flow" and graph.has_edge(row.from_service_id, row.to_service_id):
            graph.edges[row.from_service_id, row.to_service_id]["change"] = CHANGED
        elif row.element in ("service", "activity") and row.service_id in graph:
            graph.nodes[row.service_id]["change"] = CHANGED
    return graph


def changed_part(diff: nx.DiGraph) -> nx.DiGraph:
    """The part of a diff graph a change touches: every service added, removed or changed, both ends of every
    flow added, removed or changed, and all flows among those services (a copy)."""
    keep = {n for n, change in diff.nodes(data="change") if change != "unchanged"}
    for source, target, change in diff.edges(data="change"):
        if change != "unchanged":
            keep.update((source, target))
    return diff.subgraph(keep).copy()
