"""The period totals' per-group arithmetic (transforms/totals.py) gives exactly the answers, to the last bit, of the
per-group pandas loop it replaced (kept here as the reference): the same rows, figures, months and displays on
random maps with every measure kind, quarterly periods, suppressed and missing cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from expectations.measures import Measure, MeasureCatalogue, MeasureKind, PeriodFigure, builtin_catalogue
from transforms.totals import (
    FLOW_KEY,
    SERVICE_KEY,
    SUPPRESSED,
    TOTAL_COLUMNS,
    _empty,
    _months_of,
    _period_cells,
    _totals,
    group_totals,
    source_totals,
    total_display,
)


def _reference_figure(cells: pd.DataFrame, figure: PeriodFigure) -> float:
    known = cells[cells["value"].notna()]
    if known.empty:
        return float("nan")
    if figure == PeriodFigure.SUM:
        return float(known["value"].sum())
    if figure == PeriodFigure.LAST:
        return float(known.sort_values("period_start", kind="mergesort")["value"].iloc[-1])
    return float(known["value"].mean())


def _reference_weighted_mean(cells: pd.DataFrame) -> float:
    known = cells[cells["value"].notna()]
    if known.empty:
        return float("nan")
    return float((known["value"] * known["days"]).sum() / known["days"].sum())


def _reference_months(cells: pd.DataFrame) -> set[int]:
    found: set[int] = set()
    for start, end in zip(cells["period_start"], cells["period_end"], strict=True):
        found.update(_months_of(start, end))
    return found


def reference_totals(rows: pd.DataFrame, key: list[str], catalogue: MeasureCatalogue) -> pd.DataFrame:
    """The per-group pandas loop transforms/totals.py used until December 2026."""
    if rows.empty:
        return _empty(key)
    cells = _period_cells(rows, key)
    by_key = {k: g for k, g in cells.groupby([*key, "measure"], sort=True)}
    out = []
    for group_key, group in by_key.items():
        *ids, measure = group_key
        entry = catalogue.get(measure)
        figure = entry.period_figure
        months = _reference_months(group)
        suppressed = _reference_months(group[group["suppressed"]])
        numerator = denominator = float("nan")
        if figure == PeriodFigure.RATIO:
            parts = [by_key.get((*ids, m)) for m in (entry.numerator, entry.denominator)]
            if all(p is not None for p in parts):
                both = parts[0].merge(parts[1], on=["period_start", "period_end"], suffixes=("_n", "_d"))  # type: ignore[union-attr]
                usable = both[both["value_n"].notna() & both["value_d"].notna()]
                suppressed |= _reference_months(both[both["suppressed_n"] | both["suppressed_d"]])
                if not usable.empty:
                    numerator, denominator = float(usable["value_n"].sum()), float(usable["value_d"].sum())
            value = numerator / denominator * entry.ratio_scale if denominator else float("nan")
        elif figure == PeriodFigure.MONTHLY:
            value = float("nan")
        elif entry.kind == MeasureKind.AVERAGE:
            value = _reference_weighted_mean(group)
        else:
            value = _reference_figure(group, figure)
        suppressed &= months
        out.append({**dict(zip(key, ids, strict=True)), "measure": measure, "label": entry.label,
                    "unit": entry.unit, "kind": str(entry.kind), "value": value, "months": len(months),
                    "suppressed_months": len(suppressed), "numerator": numerator, "denominator": denominator,
                    "display": total_display(value, entry.kind, len(months), len(suppressed), figure)})
    frame = pd.DataFrame(out, columns=[*key, *TOTAL_COLUMNS])
    return frame.astype({"value": "float64", "numerator": "float64", "denominator": "float64",
                         "months": "int64", "suppressed_months": "int64"})


def reference_grouped(frame: pd.DataFrame, group_column: str, catalogue: MeasureCatalogue) -> pd.DataFrame:
    """The per-group pandas loop of group_totals until December 2026."""
    if frame.empty:
        return _empty([group_column])
    rows = []
    for (group, measure), part in frame.groupby([group_column, "measure"], sort=True):
        entry = catalogue.get(measure)
        numerator = denominator = float("nan")
        if entry.kind in (MeasureKind.COUNT, MeasureKind.STOCK):
            value = float(part["value"].sum(min_count=1))
        elif entry.period_figure == PeriodFigure.RATIO and part["denominator"].notna().any():
            numerator, denominator = float(part["numerator"].sum()), float(part["denominator"].sum())
            value = numerator / denominator * entry.ratio_scale if denominator else float("nan")
        else:
            value = float("nan")
        months, suppressed = int(part["months"].max()), int(part["suppressed_months"].max())
        rows.append({group_column: group, "measure": measure, "label": entry.label, "unit": entry.unit,
                     "kind": str(entry.kind), "value": value, "months": months, "suppressed_months": suppressed,
                     "numerator": numerator, "denominator": denominator,
                     "display": total_display(value, entry.kind, months, suppressed, entry.period_figure,
                                              across_services=True)})
    return pd.DataFrame(rows, columns=[group_column, *TOTAL_COLUMNS]).astype(
        {"value": "float64", "months": "int64", "suppressed_months": "int64"})


def reference_source_totals(rows: pd.DataFrame, key: list[str], catalogue: MeasureCatalogue) -> pd.DataFrame:
    """source_totals until December 2026 (over the reference loops)."""
    per_key = reference_totals(rows, ["source_id", *key], catalogue)
    grouped = reference_grouped(per_key, "source_id", catalogue)
    single = per_key.groupby(["source_id", "measure"]).filter(lambda g: len(g) == 1).set_index(["source_id", "measure"])
    for index, row in grouped[grouped["kind"] == str(MeasureKind.AVERAGE)].iterrows():
        ident = (row["source_id"], row["measure"])
        if ident in single.index:
            grouped.loc[index, ["value", "display"]] = single.loc[ident, ["value", "display"]].to_list()
    cells = per_key.groupby(["source_id", "measure"])["suppressed_months"].sum()
    grouped["suppressed_cells"] = pd.Series(
        [int(cells.get((s, m), 0)) for s, m in zip(grouped["source_id"], grouped["measure"], strict=True)],
        index=grouped.index, dtype="int64")
    return grouped


MEASURES = ["referrals", "attendances", "caseload", "average_available_beds", "occupied_bed_days",
            "staffed_bed_days", "percentage_occupancy", "delayed_bed_days", "made_up_measure"]


def _random_rows(seed: int, key: list[str], rows: int, kind: str = "mixed") -> pd.DataFrame:
    """Rows of a canonical activity or flows table: a few services, every kind of measure, monthly and quarterly
    periods (some repeated: several sources), fractional values, suppressed and other missing cells. `kind`:
    "mixed" (whole numbers and thirds), "whole" (whole numbers only), or "huge" (whole, some past 2**53 / 12)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2025-01-01", periods=15, freq="MS")
    starts = months[rng.integers(0, len(months), rows)]
    quarterly = rng.random(rows) < 0.2
    ends = [s + pd.offsets.MonthEnd(3 if q else 1) for s, q in zip(starts, quarterly, strict=True)]
    gamma = rng.gamma(2.0, 40.0, rows)
    values = np.where(rng.random(rows) < 0.5, np.round(gamma), gamma / 3)  # thirds: sums whose order shows
    if kind != "mixed":
        values = np.round(gamma) * np.where(rng.random(rows) < 0.1, 3.0e15 if kind == "huge" else 1.0, 1.0)
    missing = rng.random(rows) < 0.15
    frame = pd.DataFrame({column: rng.choice([f"svc_{i}" for i in range(3)], rows) for column in key})
    frame["measure"] = rng.choice(MEASURES, rows)
    frame["period_start"], frame["period_end"] = starts, ends
    frame["value"] = np.where(missing, np.nan, values)
    frame["qualifier"] = np.where(missing & (rng.random(rows) < 0.7), SUPPRESSED, None)
    frame["source_id"] = rng.choice(["s1", "s2", "s3"], rows)
    return frame


def _catalogue() -> MeasureCatalogue:
    entries = dict(builtin_catalogue().entries)
    entries["caseload"] = Measure("caseload", "Caseload", "people", MeasureKind.STOCK, stock_figure=PeriodFigure.LAST)
    return MeasureCatalogue(entries, builtin_catalogue().demand)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("key", [SERVICE_KEY, FLOW_KEY])
@pytest.mark.parametrize("values", ["mixed", "whole", "huge"])
def test_totals_equal_the_per_group_reference_to_the_last_bit(seed: int, key: list[str], values: str) -> None:
    rows = _random_rows(seed, key, 300 + 100 * seed, values)
    for catalogue in (builtin_catalogue(), _catalogue()):
        found, expected = _totals(rows, key, catalogue), reference_totals(rows, key, catalogue)
        pd.testing.assert_frame_equal(found, expected, check_exact=True)
        pd.testing.assert_frame_equal(source_totals(rows, key, catalogue),
                                      reference_source_totals(rows, key, catalogue), check_exact=True)
        if key == SERVICE_KEY:
            lanes = {"svc_0": "acute", "svc_1": "acute", "svc_2": "community"}
            pd.testing.assert_frame_equal(group_totals(found, lanes, catalogue, "lane"),
                                          reference_grouped(found.assign(lane=found["service_id"].map(lanes)),
                                                            "lane", catalogue), check_exact=True)


def test_a_missing_key_is_left_out_as_before() -> None:
    rows = _random_rows(99, SERVICE_KEY, 300)
    rows.loc[rows.index[:20], "service_id"] = None
    pd.testing.assert_frame_equal(_totals(rows, SERVICE_KEY, builtin_catalogue()),
                                  reference_totals(rows, SERVICE_KEY, builtin_catalogue()), check_exact=True)
