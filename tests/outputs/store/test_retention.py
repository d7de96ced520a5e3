"""Retention (`[publish] keep_versions`) and the repair of a map folder a killed run left behind."""

from __future__ import annotations

import json
from pathlib import Path

from outputs.store.versions import MANIFEST, MapStore


def publish(store: MapStore, count: int) -> None:
    for number in range(count):
        staging = store.new_staging(f"run{number}")
        (staging / "data.csv").write_text(f"version {number}\n")
        (staging / MANIFEST).write_text(json.dumps({"content_hash": f"h{number}", "sources": []}))
        store.commit(staging, store.next_version_id())


def catalog_ids(store: MapStore) -> tuple[list[str], str | None]:
    catalog = json.loads(store.catalog_path.read_text())
    return [v["version_id"] for v in catalog["versions"]], catalog["latest"]


def test_retention_deletes_the_oldest_versions_and_keeps_the_catalog_consistent(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    publish(store, 5)
    assert store.prune(None) == [] and store.prune(5) == []
    assert store.prune(2) == ["v0001", "v0002", "v0003"]
    assert sorted(p.name for p in store.versions.iterdir()) == ["v0004", "v0005"]
    assert catalog_ids(store) == (["v0004", "v0005"], "v0005")
    assert not any(store.trash.iterdir())
    publish(store, 1)  # ids keep counting up after deletions
    assert store.complete_versions()[-1] == "v0006"


def test_retention_never_deletes_latest(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    publish(store, 3)
    (store.folder / "latest").write_text("v0001\n")  # e.g. pinned by hand after a bad release
    assert store.prune(1) == ["v0002"]
    assert store.complete_versions() == ["v0001", "v0003"] and store.latest() == "v0001"


def test_leftovers_of_a_killed_run_are_removed_and_catalog_and_latest_repaired(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    publish(store, 2)
    # a run killed after renaming v0003 into place, before it wrote the catalog and moved `latest`
    staging = store.new_staging("killed")
    (staging / MANIFEST).write_text(json.dumps({"content_hash": "h3", "sources": []}))
    (store.folder / "latest").unlink()
    store.commit(staging, "v0003")
    (store.folder / "latest").write_text("v0002\n")
    store.catalog_path.write_text(json.dumps({"map_id": "demo", "latest": "v0002", "versions": [
        {"version_id": "v0001"}, {"version_id": "v0002"}]}))
    leftovers = [store.new_staging("half"), store.work / "run" / "raw", store.trash / "v0001-dead",
                 store.private / ".cache" / "src" / ".partial-1", store.folder / ".catalog.json.tmp-9-abc"]
    for path in leftovers[1:4]:
        path.mkdir(parents=True)
    leftovers[4].write_text("{")
    removed = store.clean_leftovers()
    assert {leftovers[0], store.work / "run", leftovers[2], leftovers[3], leftovers[4]} == set(removed)
    assert not any(p.exists() for p in leftovers)
    assert catalog_ids(store) == (["v0001", "v0002", "v0003"], "v0003")
    assert (store.folder / "latest").read_text() == "v0003\n"


def test_the_catalog_follows_a_manifest_that_changed_since_it_was_last_read(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    publish(store, 2)  # each commit rebuilt the catalog, the entries of the versions before remembered
    manifest = store.version_path("v0001") / MANIFEST
    manifest.write_text(json.dumps({"content_hash": "mended by hand, a different length", "sources": []}))
    store.repair()
    entries = json.loads(store.catalog_path.read_text())["versions"]
    assert [e["content_hash"] for e in entries] == ["mended by hand, a different length", "h1"]
