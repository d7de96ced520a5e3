"""What changed between two maps: two versions of the hand-built five-service map, differences stated by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.transforms.analysis_map import A, B, C, D, E, map_tables
from transforms.consolidate import service_id
from transforms.diff import change_counts, map_changes
from transforms.graph import service_graph

F = service_id("nhs", "F")


def _graph(tables: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    return service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows")))


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
        ("flow", "added", "volume", "Foxtrot → Bravo"),
        ("flow", "removed", "volume", "Bravo → Echo"),
        ("flow", "removed", "volume", "Echo → Alpha"),
        ("flow", "removed", "volume", "Charlie → Echo"),
        ("flow", "changed", "volume", "Bravo → Delta"),
        ("activity", "changed", "attendances", "Alpha"),
    }
    assert rows[("service", "changed", "name", "Charlie Hub")][:2] == ("Charlie", "Charlie Hub")
    assert rows[("service", "changed", "lane", "Delta")][:2] == ("acute", "community")
    assert rows[("flow", "changed", "volume", "Bravo → Delta")][2:] == (90.0, 120.0)
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
