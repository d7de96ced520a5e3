"""`ism impact`, `stakeholders`, `scenario` and `diff` on two published versions of the small map, and the
analysis/ folder and CHANGELOG.md each version carries."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

import flows.analysis
import flows.volumes
from expectations.errors import PublishError
from flows.analysis import (
    KEPT_STATE,
    _kept_state,
    deferred_analyses,
    graph_of,
    opened_version,
    prepare_previous_state,
    previous_state,
    version_analyses,
    version_state,
    version_tables,
)
from flows.cli import app
from flows.config import load_config
from flows.config_measures import measure_catalogue
from flows.refresh import refresh_map
from flows.source_cache import code_digest
from flows.volumes import KEPT_VOLUMES
from outputs.store.kept import kept
from tests.conftest import MINI_CONFIG, write_mini_map
from transforms.diff import MapState
from transforms.quality_summary import MEASURED_TABLES, source_volumes

pytestmark = pytest.mark.usefixtures("prefect_server")
RUNNER = CliRunner()
INITIATIVE = """
[[initiatives]]
id = "front-door"
name = "Front door"
status = "live"
services = ["nhs:ED", "nhs:AMU"]
lead_partner = "nhs"
"""
# v2: ED -> AMU 300 -> 400 (+33%), AMU -> CAH 20 -> 21 (+5%), AMU -> REA 15 new; "Care at home" renamed
V2_FLOWS = "from,to,month,n\nED,AMU,2025-04,400\nAMU,council:CAH,2025-04,21\nAMU,council:REA,2025-05,15\n"
V2_COUNCIL = "id,service,kind\nCAH,Care at Home Service,SC\nREA,Reablement,SC\n"


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small map (with one initiative) published twice; returns its config path."""
    config = write_mini_map(tmp_path_factory.mktemp("mini"), INITIATIVE)
    folder = config.parent
    assert refresh_map(str(config)).version_id == "v0001"
    (folder / "extracts" / "flows.csv").write_text(V2_FLOWS)
    (folder / "extracts" / "council.csv").write_text(V2_COUNCIL)
    assert refresh_map(str(config)).version_id == "v0002"
    return config


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _error(args: list[str], code: int) -> str:
    result = RUNNER.invoke(app, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    return result.stderr


def test_each_version_carries_analysis_and_a_changelog(two_versions: Path) -> None:
    versions = two_versions.parent / "published" / "mini" / "versions"
    assert "First version" in (versions / "v0001" / "CHANGELOG.md").read_text()
    changelog = (versions / "v0002" / "CHANGELOG.md").read_text()
    assert "Against v0001" in changelog
    assert "- Renamed: Care at home → Care at Home Service" in changelog
    assert "- Changed: Emergency Department → Acute Medical Unit, referrals: 300 → 400 people (+33%)" in changelog
    assert "- Added: Acute Medical Unit → Reablement, referrals (15 people)" in changelog
    assert "Care at Home Service: 20 → 21" not in changelog  # +5%: under the 10% threshold
    for version in ("v0001", "v0002"):
        analysis = versions / version / "analysis"
        assert (analysis / "index.html").is_file() and (analysis / "key_services.parquet").is_file()
    coverage = (versions / "v0002" / "analysis" / "coverage.csv").read_text().splitlines()
    assert coverage[0].startswith("lane,demand,demand_share,initiatives,initiative_links,initiative_share")
    assert coverage[1].startswith("urgent_care,") and ",1,1,0.5," in coverage[1]  # ED: 1 of the 2 links


def test_impact_of_a_service_by_name_and_by_partner_key(two_versions: Path, tmp_path: Path) -> None:
    found = _json(["impact", "emergency department", str(two_versions), "--json",
                   "--out", str(tmp_path / "ego")])
    assert found["version"] == "v0002" and found["upstream"] == []
    assert [(r["name"], r["volume"], r["share_of_ring"]) for r in found["downstream"]] == [
        ("Acute Medical Unit", 400.0, 1.0)]
    assert [o["organisation"] for o in found["organisations"]] == ["NHS Mini"]
    assert (tmp_path / "ego" / "poster.svg").is_file() and found["diagram"] == [str(tmp_path / "ego" / "poster.svg")]
    two_hops = _json(["impact", "nhs:ED", "--hops", "2", str(two_versions), "--version", "v0001",
                      "--json", "--no-diagram"])
    # v1: ED -> AMU 300, AMU -> CAH 20 (the only flow out of AMU, so its ring share is 1)
    assert [(r["name"], r["hops"], r["volume"]) for r in two_hops["downstream"]] == [
        ("Acute Medical Unit", 1, 300.0), ("Care at home", 2, 20.0)]
    assert [p["partner"] for p in two_hops["partners"]] == ["nhs", "council"]


def test_impact_of_a_lane_and_its_text_view(two_versions: Path) -> None:
    found = _json(["impact", "--lane", "Social care", str(two_versions), "--json", "--no-diagram"])
    assert found["focus"] == "lane Social care" and found["inflow"] == 36.0
    result = RUNNER.invoke(app, ["impact", "--lane", "acute", str(two_versions), "--no-diagram"])
    assert result.exit_code == 0, result.output
    assert "Upstream (who sends it demand): 1 services" in result.stdout
    assert "Emergency Department [urgent_care] (NHS Mini)" in result.stdout


def test_stakeholders_ranked_with_contacts(two_versions: Path) -> None:
    found = _json(["stakeholders", "Acute Medical Unit", str(two_versions), "--json"])
    # AMU's flows: ED -> AMU 400, AMU -> CAH 21, AMU -> REA 15; NHS Mini holds ED and AMU, the council CAH, REA
    assert [(s["organisation"], s["role"], s["volume_touched"]) for s in found["stakeholders"]] == [
        ("NHS Mini", "focus", 436.0), ("Mini Council", "downstream", 36.0)]
    assert set(found["stakeholders"][0]) >= {"email", "phone", "website"}


def test_diff_between_two_versions(two_versions: Path) -> None:
    found = _json(["diff", "v0001", "v0002", str(two_versions), "--json"])
    assert found["counts"] == {"service changed": 1, "flow added": 1, "flow changed": 1}
    looser = _json(["diff", "v0001", "latest", str(two_versions), "--threshold", "0.5", "--json"])
    assert looser["to"] == "v0002" and looser["counts"] == {"service changed": 1, "flow added": 1}
    result = RUNNER.invoke(app, ["diff", "v0001", "v0002", str(two_versions)])
    assert result.exit_code == 0 and "renamed" not in result.stdout.split("\n")[0]
    assert "name: Care at home -> Care at Home Service" in result.stdout


def test_scenario_writes_the_to_be_and_its_diff(two_versions: Path, tmp_path: Path) -> None:
    change_set = tmp_path / "to_be.toml"
    change_set.write_text(f"""
title = "Same-day care at home"
map = "{two_versions}"
[[add]]
key = "sdc"
name = "Same-day care"
lane = "social_care"
organisation = "council"
[[reroute]]
from = "nhs:ED"
to = "Acute Medical Unit"
instead_to = "scenario:sdc"
share = 0.25
""")
    found = _json(["scenario", str(change_set), "--version", "v0001", "--out", str(tmp_path / "out"), "--json"])
    assert found["as_is_version"] == "v0001" and found["services"] == {"as_is": 4, "to_be": 5}
    assert found["counts"] == {"service added": 1, "flow added": 1, "flow changed": 1}
    assert found["flow_volume"]["unit"] == "people"  # edge volumes are flows in the demand unit only
    moved = {c["name"]: (c["value_before"], c["value_after"]) for c in found["changes"] if c["element"] == "flow"}
    assert moved == {"Emergency Department → Same-day care": (None, 75.0),
                     "Emergency Department → Acute Medical Unit": (300.0, 225.0)}
    for name in ("diff.svg", "poster.svg", "changes.csv", "scenario.json", "to_be/flows.parquet"):
        assert (tmp_path / "out" / name).is_file()


def test_user_errors_are_one_line(two_versions: Path, tmp_path: Path) -> None:
    config = str(two_versions)
    assert "close matches: 'Emergency Department'" in _error(["impact", "emergency dept", config], 3)
    assert "name one SERVICE or one --lane" in _error(["impact", "ED", "--lane", "acute", config], 2)
    assert "unknown lane 'nowhere'" in _error(["stakeholders", "--lane", "nowhere", config], 3)
    assert "no version 'v0009'; known: v0001, v0002" in _error(["diff", "v0001", "v0009", config], 3)
    bad = tmp_path / "bad.toml"
    bad.write_text(f'title = "x"\nmap = "{two_versions}"\n[[reroute]]\nfrom = "nhs:ED"\nto = "nhs:AMU"\n'
                   'instead_to = "council:REA"\nshare = 1.5\n')
    assert f"{bad}: reroute[0].share: Input should be less than or equal to 1" in _error(["scenario", str(bad)], 2)
    bad.write_text(f'title = "x"\nmap = "{two_versions}"\n[[remove]]\nservice = "Nowhere"\n')
    assert f"{bad}: remove[0].service: unknown service 'Nowhere'" in _error(["scenario", str(bad)], 2)
    empty = tmp_path / "fresh" / "ism.toml"
    empty.parent.mkdir()
    empty.write_text(MINI_CONFIG)
    assert "has no published version yet" in _error(["impact", "ED", str(empty)], 1)


def test_deferred_analyses_are_the_versions_analyses_made_once(two_versions: Path) -> None:
    config = load_config(two_versions)
    store = config.store()
    tables = version_tables(opened_version(store, "v0002"))
    graph, previous = graph_of(tables), store.version_path("v0001")
    here = version_analyses(graph, tables, config.lane_ids, previous)
    deferred = deferred_analyses(graph, tables, config.lane_ids, previous)
    started = deferred()
    assert deferred() is started  # made once
    assert sorted(started) == sorted(here) and "changes" in here
    for name, frame in here.items():
        pd.testing.assert_frame_equal(started[name], frame, check_exact=True)


def test_the_previous_state_made_early_is_the_one_made_on_demand(two_versions: Path, tmp_path: Path) -> None:
    store = load_config(two_versions).store()
    folder = store.version_path("v0001")
    prepare_previous_state(folder)
    early = previous_state(folder)
    assert previous_state(folder) is early  # made once
    fresh = version_state(opened_version(store, "v0001"))
    pd.testing.assert_frame_equal(early.measured.flows, fresh.measured.flows, check_exact=True)
    assert nx.utils.graphs_equal(early.graph, fresh.graph) and early.flow_sources == fresh.flow_sources
    copy = tmp_path / "v0001"  # the same version in another folder, then changed: its own state each time
    shutil.copytree(folder, copy)
    assert previous_state(copy) is not early
    manifest = json.loads((copy / "version.json").read_text(encoding="utf-8"))
    (copy / "version.json").write_text(json.dumps({**manifest, "sources": []}), encoding="utf-8")
    assert previous_state(copy).facts.sources == {}
    (copy / "version.json").unlink()
    with pytest.raises(PublishError, match="not a complete map version"):
        prepare_previous_state(copy)


def _same_state(one: MapState, other: MapState) -> None:
    assert sorted(one.graph.nodes(data=True)) == sorted(other.graph.nodes(data=True))
    assert sorted(one.graph.edges(data=True)) == sorted(other.graph.edges(data=True))
    assert one.graph.graph == other.graph.graph
    assert one.measured.catalogue == other.measured.catalogue
    pd.testing.assert_frame_equal(one.measured.services, other.measured.services, check_exact=True)
    pd.testing.assert_frame_equal(one.measured.flows, other.measured.flows, check_exact=True)
    assert one.service_sources == other.service_sources and one.activity_sources == other.activity_sources
    assert one.flow_sources == other.flow_sources and one.facts == other.facts


def test_the_state_a_refresh_keeps_is_the_one_made_from_its_versions_tables(
        two_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = load_config(two_versions).store()
    version = opened_version(store, "v0002")
    kept = _kept_state(store.private, version.manifest)
    assert kept is not None, "the refresh that wrote v0002 kept its state"
    _same_state(kept, version_state(version))
    copy = tmp_path / "v0002"  # another folder: a state of its own (one is made once per folder and manifest)
    shutil.copytree(store.version_path("v0002"), copy)
    with monkeypatch.context() as patched:
        patched.setattr(flows.analysis, "version_state", lambda version: pytest.fail("made from its tables"))
        _same_state(previous_state(copy, store.private), kept)

    assert _kept_state(store.private, opened_version(store, "v0001").manifest) is None  # another version's
    saved = (store.private / KEPT_STATE).read_bytes()
    try:
        (store.private / KEPT_STATE).write_bytes(saved[: len(saved) // 2])
        assert _kept_state(store.private, version.manifest) is None  # damaged: made again from the tables
    finally:
        (store.private / KEPT_STATE).write_bytes(saved)


def test_the_source_volumes_a_refresh_keeps_are_the_ones_made_from_its_versions_tables(
        two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(two_versions)
    store = config.store()
    catalogue = measure_catalogue(config.measures)
    manifest = store.manifest("v0002")
    volumes = kept(store.private / KEPT_VOLUMES, (manifest["content_hash"], code_digest(), catalogue))
    assert isinstance(volumes, pd.DataFrame) and len(volumes)
    tables = {t: pd.read_parquet(store.version_path("v0002") / f"{t}.parquet") for t in MEASURED_TABLES}
    pd.testing.assert_frame_equal(volumes, source_volumes(tables, catalogue), check_exact=True)
    other = manifest["content_hash"].replace(manifest["content_hash"][0], "x")
    assert kept(store.private / KEPT_VOLUMES, (other, code_digest(), catalogue)) is None

    with monkeypatch.context() as patched:  # the next run's check takes them as kept
        patched.setattr(flows.volumes, "read_frame", lambda path: pytest.fail(f"read {path}"))
        pd.testing.assert_frame_equal(flows.volumes.previous_volumes(store, "v0002", catalogue), volumes)
    other_catalogue = replace(catalogue, demand=("face_to_face_contacts",))  # another config's measures: made again
    pd.testing.assert_frame_equal(flows.volumes.previous_volumes(store, "v0002", other_catalogue),
                                  source_volumes(tables, other_catalogue), check_exact=True)
