"""Disclosure control: primary suppression of small counts and secondary suppression wherever a published total
would give a suppressed cell away."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms.disclosure import suppressed_tables

APRIL, MAY = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-01")


def activity(*rows: tuple) -> pd.DataFrame:
    """Rows of (service, month, measure, value[, qualifier])."""
    records = [
        {"service_id": r[0], "period_start": r[1], "period_end": r[1] + pd.offsets.MonthEnd(0), "measure": r[2],
         "value": r[3], "qualifier": r[4] if len(r) > 4 else None, "source_id": "s"}
        for r in rows
    ]
    return pd.DataFrame(records, columns=["service_id", "period_start", "period_end", "measure", "value",
                                          "qualifier", "source_id"]).astype({"value": "float64",
                                                                              "qualifier": "object"})


def flows(*rows: tuple) -> pd.DataFrame:
    """Rows of (from, to, month, measure, value[, qualifier])."""
    records = [
        {"from_service_id": r[0], "to_service_id": r[1], "period_start": r[2],
         "period_end": r[2] + pd.offsets.MonthEnd(0), "measure": r[3], "value": r[4],
         "qualifier": r[5] if len(r) > 5 else None, "source_id": "s"}
        for r in rows
    ]
    return pd.DataFrame(records, columns=["from_service_id", "to_service_id", "period_start", "period_end",
                                          "measure", "value", "qualifier", "source_id"]).astype(
        {"value": "float64", "qualifier": "object"})


def phs_site(attendances: float, destinations: list[float], month: pd.Timestamp = APRIL,
             site: str = "ED") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A PHS A&E site month: attendances are exactly the sum of the five discharge destinations."""
    names = ["same", "other", "home", "transfer", "unknown"]
    return (activity((site, month, "attendances", attendances)),
            flows(*[(site, f"{site}:{n}", month, "discharges", v) for n, v in zip(names, destinations, strict=True)]))


def exposed_cells(original_a: pd.DataFrame, original_f: pd.DataFrame, published_a: pd.DataFrame,
                  published_f: pd.DataFrame) -> list[str]:
    """Brute force, independent of the implementation: every suppressed cell that one exact equation
    `activity = sum(flows out of / into the service that month)` would give away."""
    exposed = []
    for i, total in original_a.iterrows():
        for column in ("from_service_id", "to_service_id"):
            same = (original_f[column] == total["service_id"]) & (original_f["period_start"] == total["period_start"])
            for measure in [None, *original_f.loc[same, "measure"].unique()]:
                parts = same if measure is None else same & (original_f["measure"] == measure)
                if not parts.any() or original_f.loc[parts, "value"].isna().any() or pd.isna(total["value"]):
                    continue
                if abs(original_f.loc[parts, "value"].sum() - total["value"]) > 1e-9:
                    continue
                hidden = [("a", i)] if pd.isna(published_a.loc[i, "value"]) else []
                hidden += [("f", j) for j in original_f.index[parts] if pd.isna(published_f.loc[j, "value"])]
                if len(hidden) == 1:
                    exposed.append(f"{hidden[0]} via activity row {i} and {column} {measure or 'all'}")
    return exposed


def test_small_counts_are_suppressed_and_zero_and_large_counts_are_not() -> None:
    result = suppressed_tables(activity(("A", APRIL, "contacts", 4), ("A", MAY, "contacts", 5),
                                        ("B", APRIL, "contacts", 0), ("B", MAY, "contacts", 1)), flows(), 5)
    assert result.activity["value"].tolist()[1:3] == [5, 0]
    assert result.activity["value"].isna().tolist() == [True, False, False, True]
    assert result.activity["qualifier"].tolist() == ["c", None, None, "c"]
    assert (result.suppressed_cells, result.secondary_cells) == (2, 0)


def test_inputs_are_not_changed() -> None:
    original = activity(("A", APRIL, "contacts", 3))
    suppressed_tables(original, flows(), 5)
    assert original["value"].tolist() == [3]


def test_a_partner_suppressed_cell_is_published_empty_even_with_a_known_part() -> None:
    result = suppressed_tables(activity(("A", APRIL, "contacts", 120, "c")), flows(), 5)
    assert result.activity["value"].isna().all() and result.activity["qualifier"].tolist() == ["c"]
    assert (result.partner_cells, result.suppressed_cells) == (1, 0)


def test_threshold_zero_publishes_small_numbers_and_says_so() -> None:
    result = suppressed_tables(activity(("A", APRIL, "contacts", 1)), flows(("A", "B", APRIL, "referrals", 2)), 0)
    assert result.activity["value"].tolist() == [1] and result.flows["value"].tolist() == [2]
    assert result.summary()["threshold"] == 0 and "internal use only" in result.summary()["warning"]


def test_a_custom_threshold() -> None:
    result = suppressed_tables(activity(("A", APRIL, "contacts", 9), ("A", MAY, "contacts", 10)), flows(), 10)
    assert result.activity["value"].isna().tolist() == [True, False]


def test_phs_attendances_minus_four_destinations_cannot_reveal_the_fifth() -> None:
    acts, flow = phs_site(4078, [1099, 8, 2811, 157, 3])
    result = suppressed_tables(acts, flow, 5)
    published = result.flows["value"].tolist()
    assert np.isnan(published[4])  # 3: primary
    assert np.isnan(published[1])  # 8: the smallest other destination, secondary
    assert published[0] == 1099 and published[2] == 2811 and published[3] == 157
    assert result.activity["value"].tolist() == [4078]
    assert result.flows["qualifier"].tolist() == [None, "c", None, None, "c"]
    assert (result.suppressed_cells, result.secondary_cells) == (1, 1)
    assert exposed_cells(acts, flow, result.activity, result.flows) == []
    primary_only = flow.assign(value=flow["value"].where(flow["value"] >= 5))
    assert exposed_cells(acts, flow, acts, primary_only) != []  # the checker sees what primary alone leaves


def test_two_small_destinations_protect_each_other() -> None:
    acts, flow = phs_site(4000, [1000, 2, 2996, 1, 1])
    result = suppressed_tables(acts, flow, 5)
    assert result.secondary_cells == 0 and result.suppressed_cells == 3


def test_no_secondary_suppression_when_the_equation_does_not_hold() -> None:
    # flows out of a GP practice are a few of its contacts, not their sum: subtracting reveals nothing
    acts = activity(("GP", APRIL, "contacts", 5000))
    flow = flows(("GP", "ED", APRIL, "referrals", 30), ("GP", "CMHT", APRIL, "referrals", 2))
    result = suppressed_tables(acts, flow, 5)
    assert result.flows["value"].tolist()[0] == 30 and result.secondary_cells == 0


def test_two_small_parts_need_no_secondary_and_a_small_total_is_primary() -> None:
    acts = activity(("T", APRIL, "referrals", 7))
    flow = flows(("A", "T", APRIL, "referrals", 3), ("B", "T", APRIL, "referrals", 4), ("C", "T", APRIL,
                                                                                          "referrals", 0))
    result = suppressed_tables(acts, flow, 5)
    # 3 and 4 are both primary: two hidden cells, nothing to add
    assert result.secondary_cells == 0
    acts = activity(("T", APRIL, "referrals", 3))
    flow = flows(("A", "T", APRIL, "referrals", 3), ("B", "T", APRIL, "referrals", 0))
    assert suppressed_tables(acts, flow, 5).activity["value"].isna().all()  # the total itself is primary


def test_the_total_is_hidden_when_every_other_part_is_zero() -> None:
    # X's outflows (110 = 4 + 106) lose 106 as X's secondary cell; Y's inflows are then 106 (hidden) + 0, so Y's
    # activity of 106 would give it back: with only a zero part left, Y's total is hidden
    acts = activity(("X", APRIL, "referrals", 110), ("Y", APRIL, "referrals", 106))
    flow = flows(("X", "Z", APRIL, "referrals", 4), ("X", "Y", APRIL, "referrals", 106),
                 ("W", "Y", APRIL, "referrals", 0))
    result = suppressed_tables(acts, flow, 5)
    assert result.activity["value"].tolist()[0] == 110 and np.isnan(result.activity["value"].tolist()[1])
    assert result.flows["value"].tolist()[2] == 0 and result.flows["value"].isna().tolist() == [True, True, False]
    assert (result.suppressed_cells, result.secondary_cells) == (1, 2)
    assert exposed_cells(acts, flow, result.activity, result.flows) == []


def test_secondary_suppression_cascades_until_nothing_is_exposed() -> None:
    # X's outflows sum to its activity; the secondary cell chosen there (X->Y, 6) is also one of Y's inflows,
    # which sum to Y's activity: Y's equation needs a second hidden cell of its own
    acts = activity(("X", APRIL, "referrals", 9), ("Y", APRIL, "referrals", 106))
    flow = flows(("X", "Z", APRIL, "referrals", 3), ("X", "Y", APRIL, "referrals", 6),
                 ("W", "Y", APRIL, "referrals", 100))
    result = suppressed_tables(acts, flow, 5)
    assert result.flows["value"].isna().tolist() == [True, True, True]
    assert result.activity["value"].tolist() == [9, 106]
    assert (result.suppressed_cells, result.secondary_cells) == (1, 2)
    assert exposed_cells(acts, flow, result.activity, result.flows) == []


def test_unknown_values_are_not_protected_but_protect() -> None:
    # an MIU month: attendances known, every destination "z" (not applicable): nothing to do
    acts, flow = phs_site(636, [np.nan] * 5)
    flow["qualifier"] = "z"
    result = suppressed_tables(acts, flow, 5)
    assert result.secondary_cells == 0 and result.activity["value"].tolist() == [636]
    # one destination not available and one small: two unknowns in the equation, nothing to add
    acts, flow = phs_site(100, [50, np.nan, 40, 3, 7])
    flow.loc[1, "qualifier"] = ":"
    assert suppressed_tables(acts, flow, 5).secondary_cells == 0


@pytest.mark.parametrize("seed", range(12))
def test_random_maps_expose_no_suppressed_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    act_rows, flow_rows = [], []
    services = [f"S{i}" for i in range(6)]
    for month in (APRIL, MAY):
        for service in services:
            targets = rng.choice([s for s in services if s != service], size=rng.integers(1, 4), replace=False)
            values = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 40], size=len(targets))
            flow_rows += [(service, t, month, "referrals", float(v)) for t, v in zip(targets, values, strict=True)]
            exact = rng.random() < 0.7
            act_rows.append((service, month, "referrals", float(values.sum() + (0 if exact else 7))))
    acts, flow = activity(*act_rows), flows(*flow_rows)
    result = suppressed_tables(acts, flow, 5)
    assert exposed_cells(acts, flow, result.activity, result.flows) == []
    small = (flow["value"] > 0) & (flow["value"] < 5)
    assert result.flows.loc[small, "value"].isna().all()
    assert (result.flows.loc[result.flows["value"].isna(), "qualifier"] == "c").all()
    assert result.flows["value"].dropna().ge(5).sum() + (result.flows["value"] == 0).sum() == \
        result.flows["value"].notna().sum()


def test_groups_per_flow_measure_and_over_all_measures_without_repeats() -> None:
    from transforms.disclosure import additive_groups

    acts = activity(("X", APRIL, "referrals", 10))
    one_measure = flows(("X", "Y", APRIL, "referrals", 4), ("X", "Z", APRIL, "referrals", 6))
    assert additive_groups(acts, one_measure)["group"].nunique() == 1
    two_measures = flows(("X", "Y", APRIL, "referrals", 4), ("X", "Z", APRIL, "discharges", 6),
                         ("W", "X", APRIL, "referrals", 10))
    groups = additive_groups(acts, two_measures)
    parts = groups[~groups["is_total"]].groupby("group")["cell"].apply(sorted).tolist()
    assert sorted(parts) == [[1], [1, 2], [2], [3]]  # out: referrals, discharges, both; in: referrals
    assert (groups[groups["is_total"]]["cell"] == 0).all()
