"""As-is to to-be: apply a change-set (add, re-route, merge, change lane, remove) to a version's tables and
describe the difference. Pure: tables and value objects in, to-be tables and a changes frame out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from expectations.errors import ConfigError, UnknownReferenceError
from expectations.measures import MeasureCatalogue, MeasureKind, builtin_catalogue, catalogue_of
from transforms.consolidate import organisation_id, service_id
from transforms.diff import CHANGED, map_changes, map_state, ordered_changes
from transforms.lookup import resolved_service
from transforms.totals import measured_map

SCENARIO_SOURCE = "scenario"  # source_id of every row a change-set creates; also the namespace of added keys
SCENARIO_TABLES = ("organisations", "services", "activity", "flows", "initiatives", "measures")
FLOW_KEY = ["from_service_id", "to_service_id", "period_start", "period_end", "measure", "source_id"]
ACTIVITY_KEY = ["service_id", "period_start", "period_end", "measure", "source_id"]


@dataclass(frozen=True)
class NewService:
    """A service the to-be adds. Others refer to it as `scenario:<key>`, by its name, or by its service_id.
    `activity` is a figure per measure over the map period: a count is spread evenly over the map's months, any
    other kind (caseload, an average, a percentage) is that figure in every month."""

    key: str
    name: str
    lane: str
    organisation: str  # a partner id, organisation_id or organisation name
    setting: str | None = None
    activity: Mapping[str, float] = field(default_factory=dict)
    where: str = "add"


@dataclass(frozen=True)
class Reroute:
    """A share of the flow `source` -> `target` goes to `instead` (every month and measure)."""

    source: str
    target: str
    instead: str
    share: float
    where: str = "reroute"


@dataclass(frozen=True)
class Merge:
    """Services become one: the first keeps its id and takes the others' activity and flows (flows between them
    disappear: they become internal); optionally renamed and moved lane."""

    services: tuple[str, ...]
    name: str | None = None
    lane: str | None = None
    where: str = "merge"


@dataclass(frozen=True)
class LaneChange:
    service: str
    lane: str
    where: str = "change_lane"


@dataclass(frozen=True)
class Removal:
    """A service goes, with its activity and every flow into and out of it."""

    service: str
    where: str = "remove"


@dataclass(frozen=True)
class ChangeSet:
    """A to-be described as changes to the as-is, applied in this order: add, reroute, merge, change_lane,
    remove (so a re-route may send flow to an added service, and a removal sees the merged map)."""

    title: str
    add: tuple[NewService, ...] = ()
    reroute: tuple[Reroute, ...] = ()
    merge: tuple[Merge, ...] = ()
    change_lane: tuple[LaneChange, ...] = ()
    remove: tuple[Removal, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """The to-be tables, the as-is and to-be graphs, and the changes from one to the other."""

    tables: dict[str, pd.DataFrame]
    as_is: nx.DiGraph
    to_be: nx.DiGraph
    changes: pd.DataFrame


def _service(ref: str, services: pd.DataFrame, where: str) -> str:
    try:
        return resolved_service(ref, services)
    except UnknownReferenceError as error:  # a mistake in the change-set file: a config error
        raise ConfigError(f"{where}: {error}") from None


def _lane(lane: str, lanes: Sequence[str], where: str) -> str:
    if lane not in lanes:
        raise ConfigError(f"{where}: unknown lane {lane!r}; the map's lanes: {', '.join(lanes)}")
    return lane


def _organisation(ref: str, organisations: pd.DataFrame, where: str) -> str:
    text = ref.strip()
    partner_org = organisation_id(text)
    for candidate in (text, partner_org):
        if candidate in set(organisations["organisation_id"]):
            return candidate
    named = organisations[organisations["name"].str.lower() == text.lower()]
    if len(named) == 1:
        return str(named["organisation_id"].iloc[0])
    partners = ", ".join(sorted(set(organisations["partner"])))
    raise ConfigError(f"{where}.organisation: unknown organisation {ref!r}; use a partner id ({partners}), an "
                      "organisation_id or an organisation's exact name")


def _summed(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows that now share a key (after re-pointing) as one row: values summed, mixed qualifiers become 'd'."""
    if not frame.duplicated(key).any():
        return frame.reset_index(drop=True)
    grouped = frame.groupby(key, sort=False, dropna=False)
    value = grouped["value"].sum(min_count=1)
    qualifier = grouped["qualifier"].agg(lambda q: q.iloc[0] if q.nunique(dropna=False) == 1 else "d")
    return pd.concat([value, qualifier], axis=1).reset_index()[frame.columns]


def _merged_activity(activity: pd.DataFrame, catalogue: MeasureCatalogue) -> tuple[pd.DataFrame, list[str]]:
    """Activity rows that share a key after a merge as one row: counts and stocks summed (`_summed`); averages,
    percentages and rates not added (value empty, qualifier ':'). Also the measures that could not be added."""
    adds = activity["measure"].map(lambda m: catalogue.get(m).adds_over_services).astype(bool)
    clashing = activity.duplicated(ACTIVITY_KEY, keep=False) & ~adds
    unadded = sorted(set(activity.loc[clashing, "measure"]))
    apart = activity[clashing].drop_duplicates(ACTIVITY_KEY).assign(value=float("nan"), qualifier=":")
    merged = pd.concat([_summed(activity[~clashing], ACTIVITY_KEY), apart], ignore_index=True)
    return merged[activity.columns], unadded


def _months(tables: Mapping[str, pd.DataFrame]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    periods = pd.concat([tables["activity"][["period_start", "period_end"]],
                         tables["flows"][["period_start", "period_end"]]])
    periods = periods.assign(period_start=pd.to_datetime(periods["period_start"]),
                             period_end=pd.to_datetime(periods["period_end"])).drop_duplicates()
    return sorted(zip(periods["period_start"], periods["period_end"], strict=True))


def to_be_tables(tables: Mapping[str, pd.DataFrame], change_set: ChangeSet, lanes: Sequence[str],
                 catalogue: MeasureCatalogue | None = None) -> tuple[dict[str, pd.DataFrame], list[dict[str, str]]]:
    """The to-be tables and notes on what each change did (rows for the changes frame). A new service's count
    is spread evenly over the map's months; any other kind (a stock, average or percentage) is its figure in
    every month. Merged services' counts and stocks add; their averages and percentages do not, so a month where
    two merged services report one is not available (qualifier ':') and the merge note says so."""
    catalogue = catalogue or builtin_catalogue()
    work = {table: tables[table].copy() for table in ("services", "activity", "flows", "initiatives")}
    notes: list[dict[str, str]] = []
    _add_services(work, tables, change_set, lanes, catalogue, notes)
    _reroute_flows(work, change_set, notes)
    _merge_services(work, change_set, lanes, catalogue, notes)
    _move_and_remove(work, change_set, lanes, notes)
    activity, flows = work["activity"], work["flows"]
    to_be = {"organisations": tables["organisations"].copy(), "services": work["services"].reset_index(drop=True),
             "activity": activity.reset_index(drop=True), "flows": flows.reset_index(drop=True),
             "initiatives": work["initiatives"].reset_index(drop=True),
             "measures": catalogue.frame([*activity["measure"], *flows["measure"]])}
    return to_be, notes


def _add_services(work: dict[str, pd.DataFrame], tables: Mapping[str, pd.DataFrame], change_set: ChangeSet,
                  lanes: Sequence[str], catalogue: MeasureCatalogue, notes: list[dict[str, str]]) -> None:
    """The change-set's new services, with their activity spread over the map's months."""
    services, activity = work["services"], work["activity"]
    months = _months(tables)
    for new in change_set.add:
        sid = service_id(SCENARIO_SOURCE, new.key)
        if sid in set(services["service_id"]):
            raise ConfigError(f"{new.where}.key: {new.key!r} is added twice")
        clash = services["name"].str.lower() == new.name.lower()
        if clash.any():
            raise ConfigError(f"{new.where}.name: a service named {new.name!r} is already on the map "
                              f"({services.loc[clash, 'service_id'].iloc[0]}); give the new service its own name")
        row: dict[str, object] = dict.fromkeys(services.columns)
        row.update(service_id=sid, name=new.name, lane=_lane(new.lane, lanes, f"{new.where}.lane"),
                   organisation_id=_organisation(new.organisation, tables["organisations"], new.where),
                   setting=new.setting, source_id=SCENARIO_SOURCE, source_ids=SCENARIO_SOURCE)
        services = pd.concat([services, pd.DataFrame([row])], ignore_index=True)
        if new.activity and not months:
            raise ConfigError(f"{new.where}.activity: the as-is map has no months to spread activity over")
        added = [{"service_id": sid, "period_start": start, "period_end": end, "measure": measure,
                  "value": float(total) / len(months) if catalogue.get(measure).kind == MeasureKind.COUNT
                  else float(total), "qualifier": "e", "source_id": SCENARIO_SOURCE}
                 for measure, total in sorted(new.activity.items()) for start, end in months]
        if added:
            activity = pd.concat([activity, pd.DataFrame(added)], ignore_index=True)
        notes.append({"service_id": sid, "note": "added by the change-set"})

    work["services"], work["activity"] = services, activity


def _reroute_flows(work: dict[str, pd.DataFrame], change_set: ChangeSet, notes: list[dict[str, str]]) -> None:
    """A share of each named flow sent to another service instead."""
    services, flows = work["services"], work["flows"]
    for reroute in change_set.reroute:
        source = _service(reroute.source, services, f"{reroute.where}.from")
        target = _service(reroute.target, services, f"{reroute.where}.to")
        instead = _service(reroute.instead, services, f"{reroute.where}.instead_to")
        if instead in (source, target):
            raise ConfigError(f"{reroute.where}.instead_to: names the same service as `from` or `to`")
        chosen = (flows["from_service_id"] == source) & (flows["to_service_id"] == target)
        if not chosen.any():
            raise ConfigError(f"{reroute.where}: the as-is map has no flow from {reroute.source!r} to "
                              f"{reroute.target!r}")
        moved = flows[chosen].assign(to_service_id=instead, value=flows.loc[chosen, "value"] * reroute.share,
                                     source_id=SCENARIO_SOURCE)
        flows.loc[chosen, "value"] = flows.loc[chosen, "value"] * (1 - reroute.share)
        flows = _summed(pd.concat([flows, moved], ignore_index=True), FLOW_KEY)
        names = services.set_index("service_id")["name"]
        notes.append({"from_service_id": source, "to_service_id": target,
                      "note": f"{reroute.share:.0%} re-routed to {names[instead]}"})
        notes.append({"from_service_id": source, "to_service_id": instead, "note": f"re-routed from {names[target]}"})

    work["flows"] = flows


def _merge_services(work: dict[str, pd.DataFrame], change_set: ChangeSet, lanes: Sequence[str],
                    catalogue: MeasureCatalogue, notes: list[dict[str, str]]) -> None:
    """Services merged into the first one named: their flows, activity (as each kind adds) and initiatives."""
    services, activity, flows, initiatives = (work[t] for t in ("services", "activity", "flows", "initiatives"))
    for merge in change_set.merge:
        ids = [_service(ref, services, f"{merge.where}.services[{i}]") for i, ref in enumerate(merge.services)]
        if len(set(ids)) < 2:
            raise ConfigError(f"{merge.where}.services: name at least two different services to merge")
        keeper, absorbed = ids[0], [sid for sid in dict.fromkeys(ids[1:]) if sid != ids[0]]
        names = services.set_index("service_id")["name"]
        repoint = dict.fromkeys(absorbed, keeper)
        merged_note = "includes the flows of " + "; ".join(names[sid] for sid in absorbed) + " (merged)"
        touched = flows["from_service_id"].isin(absorbed) | flows["to_service_id"].isin(absorbed)
        for source, target in sorted(set(zip(flows.loc[touched, "from_service_id"].replace(repoint),
                                             flows.loc[touched, "to_service_id"].replace(repoint), strict=True))):
            if source != target:
                notes.append({"from_service_id": source, "to_service_id": target,
                              "note": merged_note})
        flows = flows.assign(from_service_id=flows["from_service_id"].replace(repoint),
                             to_service_id=flows["to_service_id"].replace(repoint))
        internal = flows["from_service_id"] == flows["to_service_id"]
        internal_volume = float(flows.loc[internal, "value"].sum())
        flows = _summed(flows[~internal], FLOW_KEY)
        activity, unadded = _merged_activity(activity.assign(service_id=activity["service_id"].replace(repoint)),
                                             catalogue)
        initiatives = initiatives.assign(service_ids=initiatives["service_ids"].map(
            lambda ids, r=repoint: _repointed(ids, r)))
        at = services["service_id"] == keeper
        if merge.name:
            services.loc[at, "name"] = merge.name
        if merge.lane:
            services.loc[at, "lane"] = _lane(merge.lane, lanes, f"{merge.where}.lane")
        services = services[~services["service_id"].isin(absorbed)].reset_index(drop=True)
        for sid in absorbed:
            notes.append({"service_id": sid, "note": f"merged into {merge.name or names[keeper]}"})
        internal_note = f"; the flow between them ({internal_volume:,.0f}) is now internal" if internal_volume else ""
        if unadded:
            internal_note += (f"; {', '.join(unadded)} of the merged services cannot be added: not available in "
                              "the months both report")
        notes.append({"service_id": keeper, "change": "merged",
                      "note": "merged with " + "; ".join(names[sid] for sid in absorbed) + internal_note})

    work.update(services=services, activity=activity, flows=flows, initiatives=initiatives)


def _move_and_remove(work: dict[str, pd.DataFrame], change_set: ChangeSet, lanes: Sequence[str],
                     notes: list[dict[str, str]]) -> None:
    """Services moved to another lane, and services removed with their activity and flows."""
    services, activity, flows, initiatives = (work[t] for t in ("services", "activity", "flows", "initiatives"))
    for move in change_set.change_lane:
        sid = _service(move.service, services, f"{move.where}.service")
        services.loc[services["service_id"] == sid, "lane"] = _lane(move.lane, lanes, f"{move.where}.lane")

    for removal in change_set.remove:
        sid = _service(removal.service, services, f"{removal.where}.service")
        services = services[services["service_id"] != sid].reset_index(drop=True)
        activity = activity[activity["service_id"] != sid].reset_index(drop=True)
        flows = flows[(flows["from_service_id"] != sid) & (flows["to_service_id"] != sid)].reset_index(drop=True)
        initiatives = initiatives.assign(service_ids=initiatives["service_ids"].map(
            lambda ids, gone=sid: _repointed(ids, {gone: None})))
        notes.append({"service_id": sid, "note": "removed with its activity and flows"})

    work.update(services=services, activity=activity, flows=flows, initiatives=initiatives)


def _repointed(ids: object, repoint: Mapping[str, str | None]) -> str:
    """A ';'-joined list of service ids with some replaced (or dropped, for None), each id once."""
    found = ids.split(LIST_SEPARATOR) if isinstance(ids, str) and ids else []
    mapped = [repoint.get(sid, sid) for sid in found]
    return LIST_SEPARATOR.join(sorted({sid for sid in mapped if sid}))


def applied_scenario(tables: Mapping[str, pd.DataFrame], change_set: ChangeSet, lanes: Sequence[str]) -> Scenario:
    """The to-be map of a change-set applied to the as-is tables, and every difference between them (per measure,
    following the as-is version's measure catalogue)."""
    catalogue = catalogue_of(tables.get("measures"))
    to_be, notes = to_be_tables(tables, change_set, lanes, catalogue)
    as_is = map_state(tables, measured_map(tables["activity"], tables["flows"], catalogue))
    after = map_state(to_be, measured_map(to_be["activity"], to_be["flows"], catalogue))
    changes = map_changes(as_is, after, threshold=0.0)
    return Scenario(tables=to_be, as_is=as_is.graph, to_be=after.graph, changes=_noted(changes, notes, after.graph))


def _noted(changes: pd.DataFrame, notes: list[dict[str, str]], to_be: nx.DiGraph) -> pd.DataFrame:
    """Changes with the change-set's own words: why a service went (removed or merged) or a flow moved."""
    changes = changes.copy()
    extra = []
    for note in notes:
        if "service_id" in note:
            at = (changes["element"] == "service") & (changes["service_id"] == note["service_id"])
        else:
            at = ((changes["element"] == "flow") & (changes["from_service_id"] == note["from_service_id"])
                  & (changes["to_service_id"] == note["to_service_id"]))
        if note.get("change") == "merged":
            extra.append({"element": "service", "change": CHANGED, "attribute": "merged",
                          "service_id": note["service_id"], "name": to_be.nodes[note["service_id"]]["name"],
                          "note": note["note"]})
        elif at.any():
            changes.loc[at, "note"] = [_joined(old, note["note"]) for old in changes.loc[at, "note"]]
    if extra:
        changes = pd.concat([changes, pd.DataFrame(extra)], ignore_index=True)
    return ordered_changes(changes)


def _joined(old: object, new: str) -> str:
    return new if not isinstance(old, str) or not old else f"{old}; {new}"
