"""Disclosure control: small counts in the published activity and flows are suppressed (value empty, qualifier
`c`), with secondary suppression wherever another published cell would give a suppressed one away.

The rule (README "Safe to publish" says the same for readers):

1. Primary: a monthly activity or flow value with 0 < value < threshold (default 5) is suppressed. Zero is
   published (it discloses no one). A value a partner already suppressed (qualifier `c`) is published empty too,
   even when consolidation summed a known part of the month with it.
2. Which totals can give a cell away? Every total the version draws or derives (a service's activity over the
   period, in and out volumes, lane totals, demand balance, poster labels, exports) is computed from the
   suppressed tables, so it is a sum of published cells only and reveals nothing new. The totals that matter are
   the ones inside the data: a published activity cell that is the sum of published flow cells, e.g. PHS A&E
   attendances at a site in a month = the five discharge-destination flows from it in that month, or a team's
   referrals received = the referral flows into it. So for every activity cell (service, month, measure, source)
   and each direction (flows out of the service, flows into it), the flows of that service and month (per flow
   measure, and over all measures) form a group `total = sum(parts)`. A group matters only if the equation holds
   exactly on the true values: otherwise subtracting gives a wrong number, not a disclosure. Groups with a value
   nobody knows (not available, not applicable, suppressed by the partner) never give away one of our cells:
   that unknown is a second unknown in the equation.
3. Secondary: while an exact group has exactly one hidden cell and we hid it, hide one more cell of the group:
   the smallest published non-zero part, else the total, else a zero part. Repeat until no group has a lone
   hidden cell (a cell hidden for one group can expose another). Each step hides a cell, so it ends.

The function is pure: frames in, frames and counts out; the flow applies it before anything is written, so the
tables of a version and everything derived from them are the suppressed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SUPPRESSED = "c"
DEFAULT_THRESHOLD = 5
GROUP_TOLERANCE = 1e-9  # counts are whole numbers; this only absorbs float sums


@dataclass(frozen=True)
class SuppressedTables:
    """The publishable activity and flows, and what was suppressed to make them so."""

    activity: pd.DataFrame
    flows: pd.DataFrame
    threshold: int
    suppressed_cells: int  # primary: 0 < value < threshold
    secondary_cells: int  # hidden so that a published total does not give a suppressed cell away
    partner_cells: int  # already suppressed by the partner (qualifier c), published empty

    def summary(self) -> dict[str, Any]:
        """The `disclosure` record for version.json, datapackage.json and the quality report."""
        record: dict[str, Any] = {
            "threshold": self.threshold,
            "suppressed_cells": self.suppressed_cells,
            "secondary_cells": self.secondary_cells,
            "partner_suppressed_cells": self.partner_cells,
            "rule": f"values from 1 to {self.threshold - 1} suppressed, with secondary suppression"
            if self.threshold > 1 else "no small-number suppression",
        }
        if self.threshold == 0:
            record["warning"] = ("disclosure threshold is 0: small numbers are published as they are; "
                                 "for internal use only, never share this version")
        return record


def suppressed_tables(activity: pd.DataFrame, flows: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD
                      ) -> SuppressedTables:
    """Activity and flows with small counts suppressed (primary) and every cell that would give one away
    (secondary) suppressed too: value NaN, qualifier `c`. Input frames are not changed."""
    if threshold < 0:
        raise ValueError(f"disclosure threshold must be 0 or more, found {threshold}")
    activity, flows = activity.copy(), flows.copy()
    partner = 0
    for frame in (activity, flows):
        frame["value"] = frame["value"].astype("float64")
        marked = (frame["qualifier"] == SUPPRESSED).fillna(False).to_numpy(dtype=bool)
        partner += int(marked.sum())
        frame.loc[marked, "value"] = np.nan
    if threshold == 0:
        return SuppressedTables(activity, flows, threshold, 0, 0, partner)

    values = np.concatenate([activity["value"].to_numpy(), flows["value"].to_numpy()])
    primary = (values > 0) & (values < threshold)
    hidden = primary | np.isnan(values)
    ours = primary.copy()
    members = _exact_groups(activity, flows, values)
    secondary = _secondary(members, values, hidden, ours)

    suppress = primary | secondary
    for frame, cells in ((activity, suppress[: len(activity)]), (flows, suppress[len(activity):])):
        frame.loc[cells, "value"] = np.nan
        frame.loc[cells, "qualifier"] = SUPPRESSED
    return SuppressedTables(activity, flows, threshold, int(primary.sum()), int(secondary.sum()), partner)


def additive_groups(activity: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """Every candidate `total = sum(parts)` group: one row per (group, cell), `is_total` marking the activity cell.

    Cells are numbered activity rows first (0..len(activity)-1), then flow rows."""
    if not len(activity) or not len(flows):
        return pd.DataFrame({"group": pd.Series(dtype="int64"), "cell": pd.Series(dtype="int64"),
                             "is_total": pd.Series(dtype="bool")})
    # a service in a month as one number, shared by activity and both ends of the flows: joins on it are cheap
    id_columns = ((activity, "service_id"), (flows, "from_service_id"), (flows, "to_service_id"))
    services, _ = pd.factorize(pd.concat([frame[column] for frame, column in id_columns], ignore_index=True))
    months, distinct_months = pd.factorize(pd.concat([frame["period_start"] for frame, _ in id_columns],
                                                     ignore_index=True))
    places = services.astype("int64") * (len(distinct_months) + 1) + months
    cells_a = pd.DataFrame({"place": places[:len(activity)], "cell": np.arange(len(activity))})
    flow_cells = np.arange(len(activity), len(activity) + len(flows))
    # each group's kind, "out:<measure>", "in:*" ..., as its rank among those texts: groups number as they did
    # when the kinds were the texts themselves
    measure_codes, measures = pd.factorize(flows["measure"].astype(str))
    kinds = sorted(f"{direction}:{measure}" for direction in ("out", "in") for measure in [*measures, "*"])
    rank = {kind: number for number, kind in enumerate(kinds)}
    parts = []
    for number, direction in enumerate(("out", "in")):
        ends = pd.DataFrame({"place": places[len(activity) + number * len(flows):][:len(flows)],
                             "cell": flow_cells})
        per_measure = np.array([rank[f"{direction}:{measure}"] for measure in measures], dtype="int64")
        parts.extend([ends.assign(key=per_measure[measure_codes], direction=direction, overall=False),
                      ends.assign(key=rank[f"{direction}:*"], direction=direction, overall=True)])
    components = pd.concat(parts, ignore_index=True)[["place", "key", "direction", "overall", "cell"]]
    pairs = cells_a.merge(components, on="place", suffixes=("_total", ""))
    pairs["group"] = pairs.groupby(["cell_total", "key"], sort=True).ngroup()
    # the group over all measures is a per-measure group again when it has as many parts (a superset as large
    # as a subset is the same set): drop it
    sizes = pairs.groupby("group").agg(total=("cell_total", "first"), direction=("direction", "first"),
                                       overall=("overall", "first"), parts=("cell", "size"))
    overall = sizes["overall"].to_numpy(dtype=bool)
    largest = sizes[~overall].groupby(["total", "direction"])["parts"].max()
    repeats = sizes[overall].join(largest.rename("largest"), on=["total", "direction"])
    dropped = repeats.index[repeats["parts"] == repeats["largest"]]
    pairs = pairs[~pairs["group"].isin(dropped)]
    kept = sizes.drop(index=dropped)
    rows = pd.concat([
        pd.DataFrame({"group": pairs["group"], "cell": pairs["cell"], "is_total": False}),
        pd.DataFrame({"group": kept.index, "cell": kept["total"].to_numpy(), "is_total": True}),
    ], ignore_index=True)
    return rows.astype({"group": "int64", "cell": "int64", "is_total": "bool"})


def _exact_groups(activity: pd.DataFrame, flows: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """The additive groups whose equation holds on the true values, every value known."""
    members = additive_groups(activity, flows)
    if members.empty:
        return members
    member_values = values[members["cell"].to_numpy()]
    signed = np.where(members["is_total"].to_numpy(), -member_values, member_values)
    frame = members.assign(signed=signed, unknown=np.isnan(member_values))
    by_group = frame.groupby("group").agg(balance=("signed", "sum"), unknown=("unknown", "any"))
    exact = by_group.index[(~by_group["unknown"]) & (by_group["balance"].abs() <= GROUP_TOLERANCE)]
    return members[members["group"].isin(exact)].reset_index(drop=True)


def _secondary(members: pd.DataFrame, values: np.ndarray, hidden: np.ndarray, ours: np.ndarray) -> np.ndarray:
    """Cells to hide so that no exact group has exactly one hidden cell of ours. Mutates `hidden` and `ours`."""
    secondary = np.zeros(len(values), dtype=bool)
    if members.empty:
        return secondary
    groups = members["group"].to_numpy()
    cells = members["cell"].to_numpy()
    is_total = members["is_total"].to_numpy()
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
    by_group = dict(zip(groups[order][starts].tolist(), np.split(order, starts[1:]), strict=True))
    while True:
        hidden_per_group = np.bincount(groups, weights=hidden[cells], minlength=groups.max() + 1)
        lone = np.flatnonzero(hidden_per_group == 1)
        changed = False
        for group in lone:
            rows = by_group[group]
            lone_hidden = cells[rows][hidden[cells[rows]]]
            if len(lone_hidden) != 1 or not ours[lone_hidden[0]]:
                continue  # fixed earlier in this pass, or the only unknown is not ours to protect
            candidates = [(_preference(bool(is_total[r]), values[cells[r]]), values[cells[r]], int(cells[r]))
                          for r in rows if not hidden[cells[r]]]
            chosen = min(candidates)[2]
            hidden[chosen] = ours[chosen] = secondary[chosen] = True
            changed = True
        if not changed:
            return secondary


def _preference(is_total: bool, value: float) -> int:
    """Which published cell of a group to hide first: a non-zero part, then the total, then a zero part."""
    if not is_total and value != 0:
        return 0
    return 1 if is_total else 2
