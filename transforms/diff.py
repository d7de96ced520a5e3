"""What changed between two maps (two published versions, or an as-is and a to-be): services added, removed,
renamed or moved lane; flows and activity added, removed or changed beyond a relative threshold."""

from __future__ import annotations

import networkx as nx
import pandas as pd

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
CHANGE_COLUMNS = ["element", "change", "attribute", "service_id", "from_service_id", "to_service_id", "name",
                  "before", "after", "value_before", "value_after", "relative_change", "note"]
SERVICE_ATTRIBUTES = {"name": "renamed", "lane": "moved lane", "organisation_id": "organisation changed"}
ELEMENT_ORDER = {"service": 0, "flow": 1, "activity": 2}
CHANGE_ORDER = {ADDED: 0, REMOVED: 1, CHANGED: 2}


def _relative(before: float, after: float) -> float:
    return (after - before) / before if before else float("inf") if after else 0.0


def _flow_name(graph: nx.DiGraph, source: str, target: str) -> str:
    return f"{graph.nodes[source]['name']} → {graph.nodes[target]['name']}"


def map_changes(before: nx.DiGraph, after: nx.DiGraph, threshold: float = 0.1) -> pd.DataFrame:
    """One row per difference from `before` to `after` (both `transforms.graph.service_graph` graphs).

    element service: added, removed, or changed with attribute name ("renamed": same service_id, new name), lane
    or organisation_id. element flow (a from -> to pair, all measures): added, removed, or changed when the
    volume moved by more than `threshold` relative to before. element activity (a service and measure, for
    services on both maps): added, removed, or changed beyond `threshold`. relative_change = (after - before) /
    before."""
    rows: list[dict[str, object]] = []
    for sid in sorted(set(after) - set(before)):
        rows.append({"element": "service", "change": ADDED, "service_id": sid, "name": after.nodes[sid]["name"],
                     "after": after.nodes[sid]["lane"], "attribute": "lane",
                     "value_after": after.nodes[sid]["activity_total"]})
    for sid in sorted(set(before) - set(after)):
        rows.append({"element": "service", "change": REMOVED, "service_id": sid, "name": before.nodes[sid]["name"],
                     "before": before.nodes[sid]["lane"], "attribute": "lane",
                     "value_before": before.nodes[sid]["activity_total"]})
    both = sorted(set(before) & set(after))
    for sid in both:
        old, new = before.nodes[sid], after.nodes[sid]
        for attribute, label in SERVICE_ATTRIBUTES.items():
            if old.get(attribute) != new.get(attribute):
                rows.append({"element": "service", "change": CHANGED, "attribute": attribute, "service_id": sid,
                             "name": new["name"], "before": old.get(attribute), "after": new.get(attribute),
                             "note": label})
        for measure in sorted(set(old["activity"]) | set(new["activity"])):
            value_before, value_after = old["activity"].get(measure), new["activity"].get(measure)
            change = ADDED if value_before is None else REMOVED if value_after is None else CHANGED
            relative = None if change != CHANGED else _relative(value_before, value_after)  # type: ignore[arg-type]
            if relative is not None and abs(relative) <= threshold:
                continue
            rows.append({"element": "activity", "change": change, "attribute": measure, "service_id": sid,
                         "name": new["name"], "value_before": value_before, "value_after": value_after,
                         "relative_change": relative})
    for source, target in sorted(set(before.edges) | set(after.edges)):
        value_before = before.edges[source, target]["volume"] if before.has_edge(source, target) else None
        value_after = after.edges[source, target]["volume"] if after.has_edge(source, target) else None
        change = ADDED if value_before is None else REMOVED if value_after is None else CHANGED
        relative = None if change != CHANGED else _relative(value_before, value_after)  # type: ignore[arg-type]
        if relative is not None and abs(relative) <= threshold:
            continue
        graph = after if value_after is not None else before
        rows.append({"element": "flow", "change": change, "attribute": "volume", "from_service_id": source,
                     "to_service_id": target, "name": _flow_name(graph, source, target),
                     "value_before": value_before, "value_after": value_after, "relative_change": relative})
    return ordered_changes(pd.DataFrame(rows, columns=CHANGE_COLUMNS))


def ordered_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Changes in reading order (services, flows, activity; added, removed, changed; by name), one dtype per
    column so the table writes to Parquet and CSV the same way every time."""
    frame = frame.reindex(columns=CHANGE_COLUMNS).copy()
    for column in ("value_before", "value_after", "relative_change"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in [c for c in CHANGE_COLUMNS if c not in ("value_before", "value_after", "relative_change")]:
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
    for sid, data in before.nodes(data=True):
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
