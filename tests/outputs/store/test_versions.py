"""The publish root: atomic versions, a catalog rebuilt from them, `latest`, leftovers, the lock."""

import json
from pathlib import Path

import pytest

from expectations.errors import PublishError
from outputs.store.versions import MANIFEST, SAME_CONTENT, SAME_CONTENT_KEPT, MapStore


def staged_version(store: MapStore, run_id: str, content: str) -> Path:
    staging = store.new_staging(run_id)
    (staging / "data.csv").write_text(content)
    (staging / MANIFEST).write_text(json.dumps({"version_id": "?", "content_hash": content, "sources": []}))
    return staging


def test_commit_makes_versions_visible_and_moves_latest(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    assert store.latest() is None and store.next_version_id() == "v0001"
    store.commit(staged_version(store, "r1", "one"), store.next_version_id())
    store.commit(staged_version(store, "r2", "two"), store.next_version_id())
    assert store.complete_versions() == ["v0001", "v0002"]
    assert store.latest() == "v0002"
    catalog = json.loads(store.catalog_path.read_text())
    assert catalog["latest"] == "v0002" and [v["content_hash"] for v in catalog["versions"]] == ["one", "two"]


def test_an_incomplete_version_is_never_published(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    staging = store.new_staging("r1")
    (staging / "data.csv").write_text("half")
    with pytest.raises(PublishError, match="not completely written"):
        store.commit(staging, "v0001")
    assert store.complete_versions() == [] and store.latest() is None
    assert store.clean_leftovers() == [staging] and not staging.exists()


def test_latest_ignores_a_pointer_to_a_missing_version(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    store.commit(staged_version(store, "r1", "one"), "v0001")
    (store.folder / "latest").write_text("v0099\n")
    assert store.latest() == "v0001"


def test_versions_are_never_rewritten(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    store.commit(staged_version(store, "r1", "one"), "v0001")
    with pytest.raises(PublishError, match="never rewritten"):
        store.commit(staged_version(store, "r2", "two"), "v0001")


def test_a_second_refresh_of_the_same_map_is_refused(tmp_path: Path) -> None:
    store = MapStore(tmp_path, "demo")
    with store.locked(), pytest.raises(PublishError, match="another refresh"), MapStore(tmp_path, "demo").locked():
        pass


def test_a_refresh_to_another_publish_root_sharing_the_private_area_is_refused(tmp_path: Path) -> None:
    """Its work folders and source cache live in the private area: a second refresh there would sweep the first
    one's work folder as a killed run's leftover."""
    private = tmp_path / "private"
    first, second = MapStore(tmp_path / "a", "demo", private), MapStore(tmp_path / "b", "demo", private)
    with first.locked(), pytest.raises(PublishError, match="another refresh"), second.locked():
        pass
    with first.locked():  # released: each root on its own again
        pass
    with MapStore(tmp_path / "c", "demo", tmp_path / "other").locked(), second.locked():
        pass


def test_inputs_that_made_a_versions_content_again_are_kept_privately_for_the_latest_version_only(
        tmp_path: Path) -> None:
    store = MapStore(tmp_path / "published", "demo", tmp_path / "private")
    staging = staged_version(store, "r1", "one")
    manifest = json.loads((staging / MANIFEST).read_text())
    (staging / MANIFEST).write_text(json.dumps({**manifest, "inputs": {"sources": {"a": "k1"}}}))
    store.commit(staging, "v0001")
    assert store.inputs_of("v0001") == [{"sources": {"a": "k1"}}]

    for number in range(SAME_CONTENT_KEPT + 2):
        store.keep_inputs("v0001", {"sources": {"a": f"again{number}"}})
    store.keep_inputs("v0001", {"sources": {"a": "again3"}})  # kept once, as the newest
    known = store.inputs_of("v0001")
    assert known[0] == {"sources": {"a": "k1"}} and len(known) == 1 + SAME_CONTENT_KEPT
    assert known[-1] == {"sources": {"a": "again3"}} and known.count({"sources": {"a": "again3"}}) == 1
    assert (store.private / SAME_CONTENT).is_file() and not (store.folder / SAME_CONTENT).exists()

    other_root = MapStore(tmp_path / "elsewhere", "demo", tmp_path / "private")  # the same private area
    other_root.commit(staged_version(other_root, "r1", "other content"), "v0001")
    assert other_root.inputs_of("v0001") == [None], "another root's v0001 is another version"

    store.commit(staged_version(store, "r2", "two"), "v0002")
    assert store.inputs_of("v0002") == [None]  # what made v0001 says nothing of v0002
    (store.private / SAME_CONTENT).write_text("{damaged")
    assert store.inputs_of("v0001") == [{"sources": {"a": "k1"}}]
    store.keep_inputs("v0002", {"sources": {"a": "k2"}})
    assert store.inputs_of("v0002") == [None, {"sources": {"a": "k2"}}]
