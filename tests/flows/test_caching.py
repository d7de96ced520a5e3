"""Unchanged sources are not read again, an unchanged map is not published again, and the cache stays bounded."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import flows.gate
import flows.stage
import flows.staging
from flows.cli import app
from flows.config import load_config
from flows.refresh import refresh_map
from flows.source_cache import config_digest, source_key
from outputs.store.cache import cache_outcome, cached_outcome, prune_cache, remove_partial_entries

pytestmark = pytest.mark.usefixtures("prefect_server")


def counting(calls: Counter[str], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return function(*args, **kwargs)
    return counted


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the run read a source, staged a table and consolidated the map."""
    seen: Counter[str] = Counter()
    monkeypatch.setattr(flows.stage, "STAGE_BESIDE", False)  # staged in the checks worker, it would go uncounted
    monkeypatch.setattr(flows.stage, "extract", counting(seen, "extract", flows.stage.extract))
    monkeypatch.setattr(flows.staging, "staged_from_parquet",  # where stage_source finds it
                        counting(seen, "stage", flows.staging.staged_from_parquet))
    monkeypatch.setattr(flows.gate, "consolidate", counting(seen, "consolidate", flows.gate.consolidate))
    return seen


def test_only_changed_sources_are_read_again_and_an_unchanged_map_is_not_published(
        mini_map: Path, calls: Counter[str]) -> None:
    with mini_map.open("a") as config:
        config.write("\n[publish]\nkeep_versions = 1\n")
    store = load_config(mini_map).store()
    first = refresh_map(str(mini_map))
    assert first.status == "published" and calls == {"extract": 4, "stage": 4, "consolidate": 1}
    inputs = store.manifest("v0001")["inputs"]
    assert inputs["config_digest"] == config_digest(load_config(mini_map))
    assert sorted(inputs["sources"]) == ["council_services", "nhs_activity", "nhs_flows", "nhs_services"]

    calls.clear()
    cli = CliRunner().invoke(app, ["refresh", str(mini_map)])
    assert cli.exit_code == 0, cli.output
    assert "unchanged: latest is mini v0001" in cli.stdout
    assert sum(calls.values()) == 0  # nothing read, staged or consolidated
    assert store.complete_versions() == ["v0001"]

    # how and when a map runs is not what it contains: still unchanged
    with mini_map.open("a") as config:
        config.write('\n[schedule]\ncron = "0 6 * * *"\n')
    text = mini_map.read_text().replace('id = "nhs_flows"', 'id = "nhs_flows"\nretries = 0\ntimeout_seconds = 60')
    mini_map.write_text(text)
    assert refresh_map(str(mini_map)).status == "unchanged" and sum(calls.values()) == 0

    (mini_map.parent / "extracts" / "activity.csv").write_text("code,month,n\nED,2025-04,5\nED,2025-05,7\n")
    second = refresh_map(str(mini_map))
    assert second.status == "published" and second.version_id == "v0002"
    assert calls == {"extract": 1, "stage": 1, "consolidate": 1}  # only nhs_activity was read again
    activity = {o.source_id: o for o in second.sources}["nhs_activity"]
    assert (activity.rows_read, activity.rows_accepted) == (2, 2)
    changed = store.manifest("v0002")["inputs"]["sources"]
    assert {s for s in changed if changed[s] != inputs["sources"][s]} == {"nhs_activity"}
    # one cache entry per source, the changed one replaced
    entries = {p.parent.name: p.name for p in (store.private / ".cache").glob("*/*")}
    assert entries == changed

    # retention: keep_versions = 1 keeps latest only, and the catalog agrees
    assert store.complete_versions() == ["v0002"] and store.latest() == "v0002"
    catalog = json.loads(store.catalog_path.read_text())
    assert [v["version_id"] for v in catalog["versions"]] == ["v0002"] and catalog["latest"] == "v0002"


def test_a_source_key_changes_with_its_content_options_mapping_and_map_settings(mini_map: Path) -> None:
    config = load_config(mini_map)
    source = config.source("nhs_activity")
    key = source_key(config, source, "a" * 64)
    assert key == source_key(config, source, "a" * 64)
    assert key != source_key(config, source, "b" * 64)
    for change in ({"options": {"delimiter": ";"}}, {"columns": {**source.columns, "value": "count"}},
                   {"constants": {"measure": "referrals"}}, {"clip_to_map_period": True}):
        assert source_key(config, source.model_copy(update=change), "a" * 64) != key, change
    assert source_key(config, source.model_copy(update={"retries": 9, "timeout_seconds": 5}), "a" * 64) == key
    period = config.period.model_copy(update={"end": "2025-06"})
    assert source_key(config.model_copy(update={"period": period}), source, "a" * 64) != key


def test_cache_entries_hold_their_files_and_partial_entries_are_never_read(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "staged" / "s1").mkdir(parents=True)
    (work / "staged" / "s1" / "services.parquet").write_bytes(b"PAR1 one")
    outcome = {"source_id": "s1", "staged": {"services": str(work / "staged" / "s1" / "services.parquet")},
               "rejects": str(work / "nowhere.parquet"), "error": "/etc/passwd is not a file of the run"}
    first = cache_outcome(tmp_path, "s1", "a" * 64, outcome, work)
    cached = Path(first["staged"]["services"])
    assert cached.is_relative_to(tmp_path / ".cache" / "s1" / ("a" * 64)) and cached.read_bytes() == b"PAR1 one"
    assert first["rejects"] == outcome["rejects"] and first["error"] == outcome["error"]  # not files of the run
    assert cached_outcome(tmp_path, "s1", "a" * 64) == first
    assert cached_outcome(tmp_path, "s1", "b" * 64) is None

    cache_outcome(tmp_path, "s1", "b" * 64, outcome, work)
    assert [p.name for p in (tmp_path / ".cache" / "s1").iterdir()] == ["b" * 64]  # one entry per source

    entry = tmp_path / ".cache" / "s1" / ("b" * 64)
    next(entry.rglob("*.parquet")).unlink()
    assert cached_outcome(tmp_path, "s1", "b" * 64) is None  # a file missing: a miss, not a broken run

    partial = tmp_path / ".cache" / "s1" / ".partial-0001"
    partial.mkdir()
    assert remove_partial_entries(tmp_path) == [partial] and not partial.exists()
    (tmp_path / ".cache" / "gone").mkdir()
    assert prune_cache(tmp_path, ["s1"]) == [tmp_path / ".cache" / "gone"]
