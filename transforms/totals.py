"""Period totals that follow each measure's kind (expectations/measures.py) and say how many months were suppressed.
Every total a person reads comes from here: one figure per service (or flow, or group of services) and measure,
never a sum over unlike measures.

The API, for every writer that shows a total (analysis tables, poster, interactive map, exports, spreadsheet):

- `service_totals(activity, catalogue)`: one row per service_id x measure; `flow_totals(flows, catalogue)`: one row
  per from_service_id x to_service_id x measure; `group_totals(service_totals, groups, catalogue)`: one row per
  group (e.g. lane) x measure; `source_totals(rows, key, catalogue)`: one row per source_id x measure of activity
  (key SERVICE_KEY) or flows (FLOW_KEY) rows, totalled as group_totals does. Each row carries TOTAL_COLUMNS:
  `measure`, `label`, `unit`, `kind` (from the catalogue); `value` (the period figure: counts summed, stocks the
  mean or last month, averages the day-weighted mean, percentages and rates recomputed from the numerator and
  denominator totals; NaN when nothing was published or the kind has no period figure); `months` (calendar months
  the rows cover); `suppressed_months` (months with a suppressed cell, qualifier "c"); `numerator`, `denominator`
  (the totals a ratio was recomputed from, else NaN); `display` (what a person reads, e.g. "1,234",
  "≥ 117 (10 of 12 months suppressed)", "75.6%", "per month only").
- `total_display(...)`: the display string of any one figure.
- `measured_map(activity, flows, catalogue)`: the catalogue with both tables of totals (`MeasuredMap`);
  `comparable_graph(graph, measured)`: the map graph with edge volumes in the demand unit only.
- `service_demand(service_totals, flow_totals, catalogue)`: per service, the activity in the catalogue's demand
  measures, the flow in and out in the demand unit, and demand (activity + inflow), all in one unit.

- `totals_records(totals, key)`: the same rows as plain records per service (key "service_id") or flow (key
  ("from_service_id", "to_service_id")), ready for a JSON panel, a node attribute or a spreadsheet row.

Writers in outputs/ may not import transforms/ (DESIGN.md layers): flows/ builds the totals once, e.g.
`measured_map(tables["activity"], tables["flows"], catalogue_of(tables["measures"]))` (catalogue_of in
expectations/measures.py), and hands the frames or records to the writers (a field of PublishedVersion).

Totals stay sums (or means) of published cells: nothing suppressed can be worked out from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from expectations.measures import Measure, MeasureCatalogue, MeasureKind, PeriodFigure

SUPPRESSED = "c"  # the qualifier of a cell withheld by the disclosure rule (or by the partner)
TOTAL_COLUMNS = ["measure", "label", "unit", "kind", "value", "months", "suppressed_months", "numerator",
                 "denominator", "display"]
SERVICE_KEY = ["service_id"]
FLOW_KEY = ["from_service_id", "to_service_id"]
DEMAND_COLUMNS = ["service_id", "demand_activity", "in_volume", "out_volume", "demand", "suppressed_cells"]


def _month_index(stamp: pd.Timestamp) -> int:
    return stamp.year * 12 + stamp.month - 1


def _months_of(start: pd.Timestamp, end: pd.Timestamp) -> range:
    return range(_month_index(start), _month_index(end) + 1)


def _number(value: float, kind: MeasureKind) -> str:
    if kind == MeasureKind.PERCENTAGE:
        return f"{value:,.1f}%"
    if kind == MeasureKind.RATE:
        return f"{value:,.2f}"
    if value == int(value) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def total_display(value: float, kind: MeasureKind | str, months: int, suppressed_months: int,
                  figure: PeriodFigure | str | None = None, across_services: bool = False) -> str:
    """What a person reads for one period figure: the number, "≥" before a count missing suppressed months, how
    many of its months were suppressed, "per month only" for a ratio without numerator and denominator."""
    kind = MeasureKind(kind)
    if figure is not None and PeriodFigure(figure) == PeriodFigure.MONTHLY:
        return "per month only"
    where = "with suppressed cells" if across_services else "suppressed"
    of_months = f"of {months} month{'' if months == 1 else 's'}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if suppressed_months:
            return f"suppressed ({suppressed_months} {of_months})"
        if kind == MeasureKind.AVERAGE and across_services:
            return "not added over services (average)"
        return "–"
    text = _number(float(value), kind)
    if not suppressed_months:
        return text
    at_least = "≥ " if kind == MeasureKind.COUNT else ""
    return f"{at_least}{text} ({suppressed_months} {of_months} {where})"


def _empty(key: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in [*key, *TOTAL_COLUMNS]})
    for column in ("value", "numerator", "denominator"):
        frame[column] = frame[column].astype("float64")
    for column in ("months", "suppressed_months"):
        frame[column] = frame[column].astype("int64")
    return frame


def _period_cells(rows: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per key x measure x period: the published sum (NaN when no cell has a value), whether a cell was
    suppressed, the days and the calendar months the period covers."""
    frame = rows[[*key, "measure", "period_start", "period_end", "value", "qualifier"]].copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["suppressed"] = frame["value"].isna() & (frame["qualifier"] == SUPPRESSED)
    grouped = frame.groupby([*key, "measure", "period_start", "period_end"], sort=True, dropna=False)
    cells = pd.concat([grouped["value"].sum(min_count=1), grouped["suppressed"].any()], axis=1).reset_index()
    cells["days"] = (cells["period_end"] - cells["period_start"]).dt.days + 1
    return cells


def _ratio(by_key: Mapping[tuple[object, ...], pd.DataFrame], ids: list[object], entry: Measure,
           suppressed: set[int]) -> tuple[float, float, float]:
    """A ratio's value, numerator and denominator from its two measures' cells over the months both published;
    adds the months either suppressed to `suppressed`."""
    numerator = denominator = float("nan")
    parts = [by_key.get((*ids, m)) for m in (entry.numerator, entry.denominator)]
    if all(p is not None for p in parts):
        both = parts[0].merge(parts[1], on=["period_start", "period_end"], suffixes=("_n", "_d"))  # type: ignore[union-attr]
        usable = both[both["value_n"].notna() & both["value_d"].notna()]
        suppressed |= _months(both[both["suppressed_n"] | both["suppressed_d"]])
        if not usable.empty:
            numerator, denominator = float(usable["value_n"].sum()), float(usable["value_d"].sum())
    value = numerator / denominator * entry.ratio_scale if denominator else float("nan")
    return value, numerator, denominator


def _months(cells: pd.DataFrame) -> set[int]:
    found: set[int] = set()
    for start, end in zip(cells["period_start"], cells["period_end"], strict=True):
        found.update(_months_of(start, end))
    return found


EXACT_INTEGERS = 2.0**53  # below it, sums of integer-valued doubles are exact whatever the order of adding


@dataclass(frozen=True)
class _Cells:
    """The period cells of the groups (key..., measure) as arrays, sorted by group and, within one, by period:
    group `g` is positions `start[g]:start[g + 1]`."""

    code: np.ndarray  # int64 group number of each cell, in the order the groups' keys sort
    value: np.ndarray  # float64, NaN: nothing published
    days: np.ndarray  # int64
    suppressed: np.ndarray  # bool
    first_month: np.ndarray  # int64 month index of period_start
    last_month: np.ndarray  # int64 month index of period_end
    start: np.ndarray  # int64, one more than there are groups
    frame: pd.DataFrame  # the cells themselves, in the same order

    @property
    def groups(self) -> int:
        return len(self.start) - 1

    def positions(self, group: int) -> np.ndarray:
        return np.arange(self.start[group], self.start[group + 1])


def _cell_arrays(cells: pd.DataFrame, key: list[str]) -> _Cells:
    numbers = cells.groupby([*key, "measure"], sort=True).ngroup()  # NaN keys: no group, left out as before
    kept = numbers.notna().to_numpy()
    order = np.argsort(numbers.to_numpy()[kept], kind="stable")  # stable: a group's cells stay in period order
    frame = cells[kept].iloc[order].reset_index(drop=True)
    code = numbers.to_numpy()[kept][order].astype("int64")
    starts, ends = frame["period_start"], frame["period_end"]
    groups = int(code[-1]) + 1 if len(code) else 0
    return _Cells(code, frame["value"].to_numpy(dtype="float64", na_value=np.nan),
                  frame["days"].to_numpy(dtype="int64"), frame["suppressed"].to_numpy(dtype=bool),
                  (starts.dt.year * 12 + starts.dt.month - 1).to_numpy(dtype="int64"),
                  (ends.dt.year * 12 + ends.dt.month - 1).to_numpy(dtype="int64"),
                  np.searchsorted(code, np.arange(groups + 1)).astype("int64"), frame)


def _month_set(first: np.ndarray, last: np.ndarray) -> set[int]:
    found: set[int] = set()
    for start, end in zip(first.tolist(), last.tolist(), strict=True):
        found.update(range(start, end + 1))
    return found


def _month_counts(cells: _Cells, chosen: np.ndarray) -> np.ndarray:
    """Per group, the calendar months its `chosen` cells cover (a quarter covers three)."""
    code, first, last = cells.code[chosen], cells.first_month[chosen], cells.last_month[chosen]
    if not len(code):
        return np.zeros(cells.groups, dtype="int64")
    lengths = last - first + 1
    ends = np.cumsum(lengths)
    month = np.repeat(first, lengths) + np.arange(ends[-1]) - np.repeat(ends - lengths, lengths)
    span = int(month.max() - month.min()) + 1
    pairs = np.unique(np.repeat(code, lengths) * span + (month - month.min()))
    return np.bincount(pairs // span, minlength=cells.groups).astype("int64")


def _value(cells: _Cells, positions: np.ndarray, entry: Measure) -> float:
    """The period figure of one non-ratio group. Sums are numpy's over the published values in period order, as
    pandas' Series.sum made them (the same float bits)."""
    if entry.period_figure == PeriodFigure.MONTHLY:
        return float("nan")
    values = cells.value[positions]
    known = ~np.isnan(values)
    if not known.any():
        return float("nan")
    values = values[known]
    if entry.kind == MeasureKind.AVERAGE:
        days = cells.days[positions][known]
        return float((values * days).sum() / days.sum())
    if entry.period_figure == PeriodFigure.SUM:
        return float(values.sum())
    if entry.period_figure == PeriodFigure.LAST:
        return float(values[-1])
    return float(values.sum() / len(values))


def _values(cells: _Cells, entries: list[Measure]) -> np.ndarray:
    """The period figure of every non-ratio group (NaN for ratios), all at once where every sum is of whole numbers
    (exact in any order); a group adding a fraction is summed on its own, as `_value` does, for the same bits."""
    known = ~np.isnan(cells.value)
    weighted = np.where(known, cells.value * cells.days, 0.0)
    plain = np.where(known, cells.value, 0.0)
    count = np.bincount(cells.code, weights=known, minlength=cells.groups)
    fraction = np.bincount(cells.code, weights=(plain != np.floor(plain)) | (weighted != np.floor(weighted)),
                           minlength=cells.groups)
    large = np.bincount(cells.code, weights=np.abs(weighted) + np.abs(plain), minlength=cells.groups)
    sums = np.bincount(cells.code, weights=plain, minlength=cells.groups)
    weighted_sums = np.bincount(cells.code, weights=weighted, minlength=cells.groups)
    known_days = np.bincount(cells.code, weights=np.where(known, cells.days, 0), minlength=cells.groups)
    last = np.full(cells.groups, -1)
    np.maximum.at(last, cells.code[known], np.flatnonzero(known))
    out = np.full(cells.groups, np.nan)
    for group, entry in enumerate(entries):
        if entry.period_figure in (PeriodFigure.RATIO, PeriodFigure.MONTHLY) or not count[group]:
            continue
        if fraction[group] or large[group] >= EXACT_INTEGERS:
            out[group] = _value(cells, cells.positions(group), entry)
        elif entry.kind == MeasureKind.AVERAGE:
            out[group] = weighted_sums[group] / known_days[group]
        elif entry.period_figure == PeriodFigure.SUM:
            out[group] = sums[group]
        elif entry.period_figure == PeriodFigure.LAST:
            out[group] = cells.value[last[group]]
        else:
            out[group] = sums[group] / count[group]
    return out


def _totals(rows: pd.DataFrame, key: list[str], catalogue: MeasureCatalogue) -> pd.DataFrame:
    if rows.empty:
        return _empty(key)
    cells = _cell_arrays(_period_cells(rows, key), key)
    firsts = cells.frame.iloc[cells.start[:-1]]
    measures = firsts["measure"].tolist()
    entries = [catalogue.get(str(measure)) for measure in measures]
    values = _values(cells, entries)
    months = _month_counts(cells, np.ones(len(cells.code), dtype=bool))
    suppressed = _month_counts(cells, cells.suppressed)
    numerators, denominators = np.full(cells.groups, np.nan), np.full(cells.groups, np.nan)
    ids = list(zip(*(firsts[column].tolist() for column in key), strict=True))
    group_of = {(*i, m): g for g, (i, m) in enumerate(zip(ids, measures, strict=True))}
    by_key: dict[tuple[object, ...], pd.DataFrame] = {}  # built only for the groups a ratio reads
    for group, entry in enumerate(entries):
        if entry.period_figure != PeriodFigure.RATIO:
            continue
        for part in ((*ids[group], entry.numerator), (*ids[group], entry.denominator)):
            if part in group_of and part not in by_key:
                by_key[part] = cells.frame.iloc[cells.positions(group_of[part])]
        positions = cells.positions(group)
        hidden = positions[cells.suppressed[positions]]
        hidden_months = _month_set(cells.first_month[hidden], cells.last_month[hidden])
        values[group], numerators[group], denominators[group] = _ratio(by_key, list(ids[group]), entry,
                                                                       hidden_months)
        hidden_months &= _month_set(cells.first_month[positions], cells.last_month[positions])
        suppressed[group] = len(hidden_months)
    columns: dict[str, list[object]] = {column: [i[n] for i in ids] for n, column in enumerate(key)}
    result = pd.DataFrame({
        **columns, "measure": measures, "label": [e.label for e in entries], "unit": [e.unit for e in entries],
        "kind": [str(e.kind) for e in entries], "value": values, "months": months, "suppressed_months": suppressed,
        "numerator": numerators, "denominator": denominators,
        "display": [total_display(v, e.kind, m, h, e.period_figure) for v, e, m, h in
                    zip(values.tolist(), entries, months.tolist(), suppressed.tolist(), strict=True)],
    }, columns=[*key, *TOTAL_COLUMNS])
    return result.astype({"value": "float64", "numerator": "float64", "denominator": "float64",
                          "months": "int64", "suppressed_months": "int64"})


def service_totals(activity: pd.DataFrame, catalogue: MeasureCatalogue) -> pd.DataFrame:
    """Per service and measure over all the rows' periods (canonical `activity` rows; any period length)."""
    return _totals(activity, SERVICE_KEY, catalogue)


def flow_totals(flows: pd.DataFrame, catalogue: MeasureCatalogue) -> pd.DataFrame:
    """Per flow (from -> to) and measure over all the rows' periods (canonical `flows` rows)."""
    return _totals(flows, FLOW_KEY, catalogue)


def group_totals(totals: pd.DataFrame, groups: Mapping[str, str], catalogue: MeasureCatalogue,
                 group_column: str = "group") -> pd.DataFrame:
    """Per group (e.g. lane: `groups` maps service_id -> group) and measure: counts and stocks summed over the
    group's services, percentages and rates recomputed from the summed numerator and denominator; averages are
    not added over services (value NaN). `months` is the largest number any service covers; `suppressed_months`
    the largest number of months any one service had suppressed (the display says "with suppressed cells")."""
    frame = totals[totals["service_id"].isin(list(groups))].assign(
        **{group_column: lambda f: f["service_id"].map(groups)})
    return _grouped(frame, group_column, catalogue)


def _grouped(frame: pd.DataFrame, group_column: str, catalogue: MeasureCatalogue) -> pd.DataFrame:
    """group_totals over per-key totals that already carry their `group_column`. Each group's figures are summed
    by numpy over its rows in frame order, missing ones as 0, as pandas' Series.sum does (the same float bits)."""
    if frame.empty:
        return _empty([group_column])
    grouped = frame.groupby([group_column, "measure"], sort=True)
    numbers = grouped.ngroup().to_numpy()
    order = np.argsort(numbers, kind="stable")
    bounds = np.searchsorted(numbers[order], np.arange(grouped.ngroups + 1))
    value, numerator_of, denominator_of = (frame[c].to_numpy(dtype="float64", na_value=np.nan)[order]
                                           for c in ("value", "numerator", "denominator"))
    months_of, hidden_of = frame["months"].to_numpy()[order], frame["suppressed_months"].to_numpy()[order]
    firsts = frame.iloc[order[bounds[:-1]]]
    rows = []
    for number, (group, measure) in enumerate(zip(firsts[group_column].tolist(), firsts["measure"].tolist(),
                                                  strict=True)):
        part = slice(bounds[number], bounds[number + 1])
        entry = catalogue.get(measure)
        numerator = denominator = float("nan")
        if entry.kind in (MeasureKind.COUNT, MeasureKind.STOCK):
            value_now = _sum(value[part]) if not np.isnan(value[part]).all() else float("nan")
        elif entry.period_figure == PeriodFigure.RATIO and not np.isnan(denominator_of[part]).all():
            numerator, denominator = _sum(numerator_of[part]), _sum(denominator_of[part])
            value_now = numerator / denominator * entry.ratio_scale if denominator else float("nan")
        else:
            value_now = float("nan")
        months, suppressed = int(months_of[part].max()), int(hidden_of[part].max())
        rows.append({group_column: group, "measure": measure, "label": entry.label, "unit": entry.unit,
                     "kind": str(entry.kind), "value": value_now, "months": months, "suppressed_months": suppressed,
                     "numerator": numerator, "denominator": denominator,
                     "display": total_display(value_now, entry.kind, months, suppressed, entry.period_figure,
                                              across_services=True)})
    return pd.DataFrame(rows, columns=[group_column, *TOTAL_COLUMNS]).astype(
        {"value": "float64", "months": "int64", "suppressed_months": "int64"})


def _sum(values: np.ndarray) -> float:
    """Series.sum of these values: the missing ones as 0."""
    return float(np.where(np.isnan(values), 0.0, values).sum())


def source_totals(rows: pd.DataFrame, key: list[str], catalogue: MeasureCatalogue) -> pd.DataFrame:
    """Per source_id and measure of canonical `activity` (key SERVICE_KEY) or `flows` (key FLOW_KEY) rows: each
    source's rows totalled per service (or flow) as service_totals and flow_totals do, then over its services (or
    flows) as group_totals does: counts and stocks summed, percentages and rates recomputed from the summed
    numerator and denominator, averages not added (NaN; a source with one service or flow keeps its day-weighted
    mean). Columns: source_id, TOTAL_COLUMNS and `suppressed_cells`
    (service or flow x months with a suppressed cell): two figures whose suppressed cells differ do not compare."""
    per_key = _totals(rows, ["source_id", *key], catalogue)
    grouped = _grouped(per_key, "source_id", catalogue)
    ident = ["source_id", "measure"]
    by_source = per_key.groupby(ident)
    # an average of a source with one service (or flow) is that service's figure: nothing is added
    single = per_key[by_source["measure"].transform("size").to_numpy() == 1].set_index(ident)
    wanted = pd.MultiIndex.from_frame(grouped[ident])
    alone = (grouped["kind"] == str(MeasureKind.AVERAGE)).to_numpy() & wanted.isin(single.index)
    if alone.any():
        grouped.loc[alone, ["value", "display"]] = single.loc[wanted[alone], ["value", "display"]].to_numpy()
    cells = by_source["suppressed_months"].sum()
    grouped["suppressed_cells"] = cells.reindex(wanted).fillna(0).to_numpy(dtype="int64")
    return grouped


def service_demand(service_totals: pd.DataFrame, flow_totals: pd.DataFrame, catalogue: MeasureCatalogue,
                   service_ids: list[str] | None = None) -> pd.DataFrame:
    """Per service (every one of `service_ids`, default: those in the totals), in the catalogue's demand unit:
    activity in the demand measures, flow in and out (flow measures counted as inflow), demand = activity + flow
    in, and how many of those figures include suppressed months (`suppressed_cells`)."""
    ids = sorted(set(service_totals["service_id"]) | set(flow_totals["from_service_id"])
                 | set(flow_totals["to_service_id"])) if service_ids is None else list(service_ids)
    activity = service_totals[service_totals["measure"].isin(catalogue.demand)]
    flows = flow_totals[flow_totals["measure"].map(catalogue.counts_as_inflow).astype(bool)] \
        if len(flow_totals) else flow_totals
    frame = pd.DataFrame({"service_id": ids})
    frame["demand_activity"] = frame["service_id"].map(activity.groupby("service_id")["value"].sum()).fillna(0.0)
    frame["in_volume"] = frame["service_id"].map(flows.groupby("to_service_id")["value"].sum()).fillna(0.0)
    frame["out_volume"] = frame["service_id"].map(flows.groupby("from_service_id")["value"].sum()).fillna(0.0)
    frame["demand"] = frame["demand_activity"] + frame["in_volume"]
    incomplete = pd.concat([
        activity.loc[activity["suppressed_months"] > 0, "service_id"],
        flows.loc[flows["suppressed_months"] > 0, "to_service_id"].rename("service_id"),
    ])
    frame["suppressed_cells"] = frame["service_id"].map(incomplete.value_counts()).fillna(0).astype("int64")
    return frame[DEMAND_COLUMNS]


def totals_records(totals: pd.DataFrame, key: str | tuple[str, ...] = "service_id",
                   ) -> dict[object, list[dict[str, object]]]:
    """Per service (or flow: a (from, to) tuple) its totals as records of TOTAL_COLUMNS, by measure label; NaN
    figures are None (JSON-safe)."""
    columns = list(key) if isinstance(key, tuple) else [key]
    found: dict[object, list[dict[str, object]]] = {}
    ordered = totals.sort_values([*columns, "label", "measure"], kind="mergesort")
    idents = (zip(*(ordered[c].tolist() for c in columns), strict=True) if isinstance(key, tuple)
              else ordered[key].tolist())
    values = zip(*(ordered[c].tolist() for c in TOTAL_COLUMNS), strict=True)  # column by column: no records frame
    for ident, row in zip(idents, values, strict=True):
        found.setdefault(ident, []).append({c: (None if isinstance(v, float) and math.isnan(v) else v)
                                            for c, v in zip(TOTAL_COLUMNS, row, strict=True)})
    return found


@dataclass(frozen=True)
class MeasuredMap:
    """A map's totals by measure: the catalogue, per service x measure and per flow x measure."""

    catalogue: MeasureCatalogue
    services: pd.DataFrame  # service_totals
    flows: pd.DataFrame  # flow_totals

    def demand(self, service_ids: list[str] | None = None) -> pd.DataFrame:
        return service_demand(self.services, self.flows, self.catalogue, service_ids)


def measured_map(activity: pd.DataFrame, flows: pd.DataFrame, catalogue: MeasureCatalogue) -> MeasuredMap:
    return MeasuredMap(catalogue, service_totals(activity, catalogue), flow_totals(flows, catalogue))


def comparable_graph(graph: nx.DiGraph, measured: MeasuredMap) -> nx.DiGraph:
    """A copy of a `transforms.graph.service_graph` graph (whose edge `volume`, `in_volume` and `out_volume` are
    already in the demand unit) without the edges that carry no flow in that unit, each node with
    `demand_activity`, its activity in the demand measures. Loops, betweenness, lane demand and coverage read this
    graph, so no figure of theirs adds unlike units and no edge of another unit joins their paths."""
    comparable = nx.DiGraph()
    demand = measured.demand(list(graph.nodes))
    activity = dict(zip(demand["service_id"], demand["demand_activity"].astype("float64").tolist(), strict=True))
    for node, data in graph.nodes(data=True):
        comparable.add_node(node, **{**data, "demand_activity": activity[node]})
    comparable.add_edges_from((u, v, data) for u, v, data in graph.edges(data=True) if data.get("volume", 0.0) > 0)
    return comparable
