"""The reader API: choosing a version (latest, an id, as of a date), tables typed as their contracts, a read-only
DuckDB connection and the graph, on a publish root written in the test."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd
import pytest

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, empty_frame
from expectations.errors import PublishError, UnknownReferenceError
from expectations.measures import builtin_catalogue
from outputs import dataset
from outputs.store.reader import open_version
from outputs.store.versions import MANIFEST, MapStore
from transforms.graph import service_graph

ORG, SVC = "org_000000000001", ["svc_00000000000a", "svc_00000000000b", "svc_00000000000c"]


def map_tables(name_of_first: str = "Emergency Department", extra_flows: pd.DataFrame | None = None,
               ) -> dict[str, pd.DataFrame]:
    """A tiny map: three services, activity, and flows (one with a suppressed value only), plus `extra_flows`."""
    organisations = pd.DataFrame({"organisation_id": [ORG], "name": ["NHS Mini"], "sector": ["nhs"],
                                  "partner": ["nhs"], "email": [None], "phone": [None], "website": [None],
                                  "source_id": ["config"]})
    services = pd.DataFrame({"service_id": SVC, "name": [name_of_first, "Acute Medical Unit", "Care at home"],
                             "organisation_id": ORG, "lane": ["urgent_care", "acute", "social_care"],
                             "source_id": "nhs_services", "source_ids": "nhs_services"})
    months = pd.to_datetime(["2025-04-01", "2025-05-01"])
    activity = pd.DataFrame({"service_id": [SVC[0], SVC[0]], "period_start": months,
                             "period_end": months + pd.offsets.MonthEnd(0), "measure": "attendances",
                             "value": [1200.0, 1300.0], "qualifier": [None, "p"], "source_id": "nhs_activity"})
    starts = months[[0, 1, 0, 0]]
    flows = pd.DataFrame({"from_service_id": [SVC[0], SVC[0], SVC[1], SVC[1]],
                          "to_service_id": [SVC[1], SVC[1], SVC[2], SVC[0]],
                          "period_start": starts, "period_end": starts + pd.offsets.MonthEnd(0),
                          "measure": ["referrals", "referrals", "discharges", "referrals"],
                          "value": [300.0, 250.0, 20.0, None], "qualifier": [None, None, None, "c"],
                          "source_id": "nhs_flows"})
    flows = pd.concat([flows, extra_flows], ignore_index=True) if extra_flows is not None else flows
    tables = {"organisations": organisations, "services": services, "activity": activity, "flows": flows,
              "initiatives": empty_frame(CANONICAL_MODELS["initiatives"]),
              "measures": builtin_catalogue().frame([*activity["measure"], *flows["measure"]]),
              "rejects": empty_frame(CANONICAL_MODELS["rejects"])}
    return {table: frame.reindex(columns=dataset.columns(CANONICAL_MODELS[table])) for table, frame in tables.items()}


def publish(store: MapStore, created_at: str, name_of_first: str = "Emergency Department",
            extra_flows: pd.DataFrame | None = None) -> str:
    """Commit one version with the given creation time, the way the refresh flow lays it out."""
    staging = store.new_staging(created_at.replace(":", ""))
    digests = dataset.write_tables(staging, map_tables(name_of_first, extra_flows))
    dataset.write_duckdb(staging / "map.duckdb", staging)
    version_id = store.next_version_id()
    (staging / "datapackage.json").write_text(json.dumps({"lanes": []}))
    (staging / MANIFEST).write_text(json.dumps({
        "version_id": version_id, "map_id": store.map_id, "created_at": created_at, "content_hash": version_id,
        "tables": digests, "sources": [], "counts": {},
    }))
    store.commit(staging, version_id)
    return version_id


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three versions (readers never write, so the tests share them)."""
    tmp_path = tmp_path_factory.mktemp("published")
    store = MapStore(tmp_path, "mini")
    publish(store, "2026-01-10T09:00:00+00:00")
    publish(store, "2026-01-31T23:30:00+00:00", "ED (renamed)")
    publish(store, "2026-02-15T08:00:00+00:00")
    return tmp_path


def test_a_version_is_chosen_by_latest_id_or_date(root: Path) -> None:
    assert open_version(root, "mini").version_id == "v0003"
    assert open_version(root, "mini", "latest").path == root / "mini" / "versions" / "v0003"
    assert open_version(root, "mini", "v0001").version_id == "v0001"
    # as of a date: the newest created on or before that day, the whole day counting
    assert open_version(root, "mini", "2026-01-31").version_id == "v0002"
    assert open_version(root, "mini", date(2026, 1, 30)).version_id == "v0001"
    assert open_version(root, "mini", "2026-12-31").version_id == "v0003"
    assert open_version(root, "mini", datetime(2026, 1, 31, 23, 0, tzinfo=UTC)).version_id == "v0001"
    assert open_version(root, "mini", datetime(2026, 1, 31, 23, 30)).version_id == "v0002"  # naive: UTC


def test_a_version_that_does_not_exist_or_a_malformed_selector_is_a_clear_error(root: Path) -> None:
    with pytest.raises(UnknownReferenceError, match=r"no version 'v0009'; known: v0001, v0002, v0003"):
        open_version(root, "mini", "v0009")
    with pytest.raises(UnknownReferenceError, match=r"before 2026-01-01; the first, v0001, was created 2026-01-10"):
        open_version(root, "mini", "2026-01-01")
    with pytest.raises(UnknownReferenceError, match=r"'newest': use latest, a version id such as v0003, or a date"):
        open_version(root, "mini", "newest")
    with pytest.raises(UnknownReferenceError, match="not a real date"):
        open_version(root, "mini", "2026-02-30")
    with pytest.raises(PublishError, match="no published map 'other'"):
        open_version(root, "other")


def test_tables_are_read_lazily_and_typed_as_their_contracts(root: Path) -> None:
    opened = open_version(root, "mini", "v0002")
    assert opened._tables == {}
    services = opened.services
    assert list(opened._tables) == ["services"]
    assert services.set_index("service_id").loc[SVC[0], "name"] == "ED (renamed)"
    for table in CANONICAL_TABLES:
        CANONICAL_MODELS[table].validate(opened.table(table))
    assert pd.api.types.is_datetime64_any_dtype(opened.activity["period_start"])
    opened.activity.drop(columns="value")  # callers get copies: the cached frame stays whole
    assert "value" in opened.activity
    with pytest.raises(KeyError, match="no table 'nodes'"):
        opened.table("nodes")


def test_the_plain_graph_sums_counts_only_and_its_volume_is_the_demand_unit(tmp_path: Path) -> None:
    starts = pd.to_datetime(["2025-04-01", "2025-05-01", "2025-04-01"])
    extra = pd.DataFrame({"from_service_id": SVC[0], "to_service_id": SVC[1], "period_start": starts,
                          "period_end": starts + pd.offsets.MonthEnd(0),
                          "measure": ["average_length_of_stay", "average_length_of_stay", "care_hours"],
                          "value": [3.0, 5.0, 40.0], "qualifier": None, "source_id": "nhs_flows"})
    publish(MapStore(tmp_path, "mini"), "2026-01-10T09:00:00+00:00", extra_flows=extra)
    edge = open_version(tmp_path, "mini").graph().edges[SVC[0], SVC[1]]
    # an average has no period sum (3 + 5 = 8 days would mean nothing); care hours are not people
    assert edge["measures"] == {"care_hours": 40.0, "referrals": 550.0}
    assert edge["volume"] == 550.0


def test_duckdb_connection_reads_the_version_and_cannot_write(root: Path) -> None:
    with open_version(root, "mini").duckdb() as con:
        assert con.execute("SELECT count(*) FROM services").fetchone() == (3,)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM services")


def test_graph_is_the_published_structure_or_what_a_builder_makes(root: Path) -> None:
    opened = open_version(root, "mini")
    graph = opened.graph()
    assert isinstance(graph, nx.DiGraph) and sorted(graph.nodes) == SVC
    assert graph.nodes[SVC[0]]["lane"] == "urgent_care" and graph.nodes[SVC[0]]["setting"] is None
    # the suppressed-only flow b -> a has no known value, so no edge (as on the poster)
    assert sorted(graph.edges) == [(SVC[0], SVC[1]), (SVC[1], SVC[2])]
    assert graph.edges[SVC[0], SVC[1]]["volume"] == 550.0
    assert graph.edges[SVC[1], SVC[2]]["measures"] == {"discharges": 20.0}
    built = opened.graph(service_graph)
    assert sorted(built.edges) == sorted(graph.edges) and sorted(built.nodes) == sorted(graph.nodes)
    assert built.nodes[SVC[0]]["activity"] == {"attendances": 2500.0}  # per measure, never a total across them
