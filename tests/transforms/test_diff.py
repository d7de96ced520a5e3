"""What changed between two maps: two versions of the hand-built five-service map, differences stated by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from expectations.measures import builtin_catalogue
from tests.transforms.analysis_map import APRIL, APRIL_END, MAY, MAY_END, A, B, C, D, E, map_tables
from transforms.consolidate import service_id
from transforms.diff import (
    MapState,
    VersionFacts,
    _unremarkable,
    _value_row,
    change_counts,
    comparison_lines,
    map_changes,
    map_state,
    version_comparison,
)
from transforms.totals import measured_map

F = service_id("nhs", "F")


def _graph(tables: dict[str, pd.DataFrame], facts: VersionFacts | None = None) -> MapState:
    """The state of a version (named _graph for the tests written before totals by measure)."""
    return map_state(tables, measured_map(tables["activity"], tables["flows"], builtin_catalogue()), facts)


def _second_version() -> dict[str, pd.DataFrame]:
    """v2: Charlie renamed, Delta moved lane, Echo gone (its flows too), Foxtrot new; A->B +9% (under 10%),
    B->D 90 -> 120 (+33%), D->B unchanged; Alpha attendances 200 -> 150 (-25%); Bravo admissions unchanged."""
    tables = map_tables()
    services = tables["services"]
    services.loc[services["service_id"] == C, "name"] = "Charlie Hub"
    services.loc[services["service_id"] == D, "lane"] = "community"
    foxtrot = services[services["service_id"] == A].assign(service_id=F, name="Foxtrot")
    tables["services"] = pd.concat([services[services["service_id"] != E], foxtrot], ignore_index=True)
    flows = tables["flows"]
    flows = flows[(flows["from_service_id"] != E) & (flows["to_service_id"] != E)].copy()
    flows.loc[(flows["from_service_id"] == A) & (flows["to_service_id"] == B), "value"] = 109.0
    flows.loc[(flows["from_service_id"] == B) & (flows["to_service_id"] == D), "value"] = 120.0
    tables["flows"] = pd.concat([flows, flows.head(1).assign(from_service_id=F, to_service_id=B, value=7.0)])
    activity = tables["activity"]
    activity.loc[activity["service_id"] == A, "value"] = 150.0
    tables["activity"] = activity[activity["service_id"] != E]
    return tables


def test_services_flows_and_activity_beyond_the_threshold() -> None:
    changes = map_changes(_graph(map_tables()), _graph(_second_version()), threshold=0.1)
    rows = {(r.element, r.change, r.attribute, r.name): (r.before, r.after, r.value_before, r.value_after)
            for r in changes.itertuples()}
    assert set(rows) == {
        ("service", "added", "lane", "Foxtrot"),
        ("service", "removed", "lane", "Echo"),
        ("service", "changed", "name", "Charlie Hub"),
        ("service", "changed", "lane", "Delta"),
        ("flow", "added", "referrals", "Foxtrot → Bravo"),
        ("flow", "removed", "referrals", "Bravo → Echo"),
        ("flow", "removed", "referrals", "Echo → Alpha"),
        ("flow", "removed", "referrals", "Charlie → Echo"),
        ("flow", "changed", "referrals", "Bravo → Delta"),
        ("activity", "changed", "attendances", "Alpha"),
    }
    assert rows[("service", "changed", "name", "Charlie Hub")][:2] == ("Charlie", "Charlie Hub")
    assert rows[("service", "changed", "lane", "Delta")][:2] == ("acute", "community")
    assert rows[("flow", "changed", "referrals", "Bravo → Delta")][2:] == (90.0, 120.0)
    assert rows[("activity", "changed", "attendances", "Alpha")][2:] == (200.0, 150.0)
    relative = changes.set_index("name")["relative_change"]
    assert relative["Bravo → Delta"] == pytest.approx(30 / 90) and relative["Alpha"] == pytest.approx(-0.25)
    assert list(changes["element"]) == ["service"] * 4 + ["flow"] * 5 + ["activity"]
    assert change_counts(changes) == {"service added": 1, "service removed": 1, "service changed": 2,
                                      "flow added": 1, "flow removed": 3, "flow changed": 1, "activity changed": 1}


def test_a_lower_threshold_lists_smaller_changes() -> None:
    changes = map_changes(_graph(map_tables()), _graph(_second_version()), threshold=0.05)
    assert "Alpha → Bravo" in set(changes["name"])  # +9%


def test_the_same_map_has_no_changes() -> None:
    assert map_changes(_graph(map_tables()), _graph(map_tables())).empty


def _monthly(value_april: float | None, value_may: float | None) -> pd.DataFrame:
    """Alpha's attendances in two months; None is a suppressed cell."""
    return pd.DataFrame([
        (A, APRIL, APRIL_END, "attendances", value_april, None if value_april is not None else "c"),
        (A, MAY, MAY_END, "attendances", value_may, None if value_may is not None else "c"),
    ], columns=["service_id", "period_start", "period_end", "measure", "value", "qualifier"]).assign(source_id="act")


def test_a_change_in_suppressed_months_says_suppression_changed_not_growth() -> None:
    before, after = map_tables(), map_tables()
    before["activity"] = _monthly(117.0, None)  # ≥ 117, one of two months suppressed
    after["activity"] = _monthly(117.0, 473.0)  # 590, nothing suppressed: +404% if read as growth
    changes = map_changes(_graph(before), _graph(after), threshold=0.1)
    row = changes[changes["element"] == "activity"].iloc[0]
    assert (row["change"], row["attribute"], row["value_before"], row["value_after"]) == (
        "changed", "attendances", 117.0, 590.0)
    assert math.isnan(row["relative_change"])
    assert row["note"] == "suppression changed: 1 of 2 → 0 of 2 months suppressed"
    assert (row["display_before"], row["display_after"], row["unit"]) == ("≥ 117 (1 of 2 months suppressed)", "590",
                                                                          "people")


def test_a_stock_is_compared_as_its_period_figure_not_its_sum() -> None:
    before, after = map_tables(), map_tables()
    caseload = _monthly(100.0, 100.0).assign(measure="caseload")
    before["activity"], after["activity"] = caseload, caseload.assign(value=[100.0, 104.0])
    # mean 100 -> 102: +2%, under the threshold (summed over months it would still be 200 -> 204, the same
    # share, but a stock's total is its mean, 102, never 204)
    assert map_changes(_graph(before), _graph(after), threshold=0.01).set_index("attribute").loc[
        "caseload", "value_after"] == 102.0
    assert map_changes(_graph(before), _graph(after), threshold=0.1).empty


def test_a_service_whose_source_went_missing_is_source_missing_not_removed() -> None:
    before, after = map_tables(), map_tables()
    before["services"].loc[before["services"]["service_id"] == E, ["source_id", "source_ids"]] = "council_services"
    after["services"] = after["services"][after["services"]["service_id"] != E]
    after["activity"] = after["activity"][after["activity"]["service_id"] != E]
    after["flows"] = after["flows"][(after["flows"]["from_service_id"] != E) & (after["flows"]["to_service_id"] != E)]
    first = VersionFacts("v0001", ("2025-04", "2025-05"), "aaa", {"council_services": "ok", "svc": "ok", "act": "ok",
                                                                  "flw": "ok"})
    second = VersionFacts("v0002", ("2025-04", "2025-05"), "aaa", {"council_services": "missing", "svc": "ok",
                                                                   "act": "ok", "flw": "ok"})
    changes = map_changes(_graph(before, first), _graph(after, second), threshold=0.1)
    echo = changes[(changes["element"] == "service") & (changes["name"] == "Echo")].iloc[0]
    assert echo["change"] == "source missing" and echo["note"] == "source missing: council_services (missing)"
    # the same service gone while its source is fine: removed
    fine = VersionFacts("v0002", ("2025-04", "2025-05"), "aaa", dict.fromkeys(first.sources, "ok"))
    changes = map_changes(_graph(before, first), _graph(after, fine), threshold=0.1)
    assert changes[(changes["element"] == "service") & (changes["name"] == "Echo")].iloc[0]["change"] == "removed"


def test_two_versions_with_different_periods_name_both_in_the_first_lines() -> None:
    first = VersionFacts("v0001", ("2025-04", "2026-03"), "a" * 64, {"x": "ok", "y": "ok"})
    second = VersionFacts("v0002", ("2025-05", "2026-04"), "b" * 64, {"x": "ok", "y": "blocked", "z": "ok"})
    lines = comparison_lines(first, second)
    assert lines[0] == ("v0001 covers 2025-04 to 2026-03; v0002 covers 2025-05 to 2026-04 (the periods differ: "
                        "totals cover different months, so a change is not growth).")
    assert lines[1].startswith("Config: aaaaaaaaaaaa → bbbbbbbbbbbb (the config differs")
    assert lines[2] == ("Sources: 2 of 2 with data → 2 of 3 with data (without data in v0002: y (blocked); new data "
                        "in v0002: z).")
    table = version_comparison(first, second)
    assert table["differs"].tolist() == [True, True, True]
    assert version_comparison(first, first)["differs"].tolist() == [False, False, False]
    before, after = map_tables(), map_tables()
    after["activity"].loc[after["activity"]["service_id"] == A, "value"] = 300.0
    changes = map_changes(_graph(before, first), _graph(after, second), threshold=0.1)
    assert changes.set_index("name").loc["Alpha", "note"] == "over different periods"


def _reference_sources(frame: pd.DataFrame, key: list[str], column: str = "source_id") -> dict[tuple, frozenset]:
    """The groupby loop `_sources` replaced (December 2026)."""
    found = {}
    for group, part in frame.groupby(key, sort=False):
        ids: set[str] = set()
        for value in part[column].dropna():
            ids.update(str(value).split(";"))
        found[tuple(group) if isinstance(group, tuple) else (group,)] = frozenset(ids)
    return found


def test_sources_per_key_equal_the_groupby_reference_in_order_with_missing_keys_and_values() -> None:
    from transforms.diff import _sources

    rng = np.random.default_rng(7)
    rows = 500
    frame = pd.DataFrame({
        "service_id": rng.choice(["svc_a", "svc_b", "svc_c", None], rows, p=[0.3, 0.3, 0.3, 0.1]),
        "measure": rng.choice(["referrals", "admissions"], rows),
        "source_id": rng.choice(["s1", "s2;s3", None, "s4"], rows),
    })
    for dtype in ("object", "string[pyarrow]"):
        typed = frame.astype(dtype)
        for key in (["service_id"], ["service_id", "measure"]):
            found, expected = _sources(typed, key), _reference_sources(typed, key)
            assert found == expected and list(found) == list(expected)


def test_a_graph_built_already_with_the_versions_own_catalogue_gives_the_same_changes() -> None:
    from transforms.graph import service_graph

    after = _second_version()
    catalogue = _graph(after).measured.catalogue
    built = service_graph(*(after[t] for t in ("services", "organisations", "activity", "flows", "initiatives")),
                          measures=catalogue)
    given = map_state(after, _graph(after).measured, graph=built)
    expected = map_changes(_graph(map_tables()), _graph(after), threshold=0.1)
    pd.testing.assert_frame_equal(map_changes(_graph(map_tables()), given, threshold=0.1), expected)


_FIGURES = st.one_of(st.just(math.nan), st.sampled_from([0.0, 1.0, 10.0, 11.0, 9.0, -5.0]),
                     st.floats(-1e6, 1e6, allow_nan=False))


@given(st.lists(st.tuples(st.sampled_from(["both", "left_only", "right_only"]), _FIGURES, _FIGURES,
                          st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=30),
       st.sampled_from([0.0, 0.1, 0.25, 1.0]))
def test_the_rows_left_out_at_once_are_those_no_change_row_is_made_of(
        rows: list[tuple[str, float, float, int, int]], threshold: float) -> None:
    """`_unremarkable` finds, for a whole frame at once, merged totals that `_value_row` would turn into nothing:
    it must never leave out a row that says something (a big map's change list relies on it)."""
    merged = pd.DataFrame([{"service_id": f"s{i}", "measure": "admissions", "unit_b": "people", "unit_a": "people",
                            "value_b": before, "value_a": after, "months_b": 12, "months_a": 12,
                            "suppressed_months_b": suppressed_before, "suppressed_months_a": suppressed_after,
                            "display_b": None, "display_a": None, "_merge": side}
                           for i, (side, before, after, suppressed_before, suppressed_after) in enumerate(rows)])
    merged["_merge"] = pd.Categorical(merged["_merge"], categories=["left_only", "right_only", "both"])
    left_out = _unremarkable(merged, threshold)
    for row, out in zip(merged.to_dict("records"), left_out, strict=True):
        made = _value_row(row, ["service_id"], threshold, {}, None, periods_differ=False)
        assert (made is None) == out, (row, made)
