"""One source changed: the dataset files whose content did not change are hard-linked from the previous version,
byte for byte what a full rebuild writes, and the version's content hash is the full rebuild's."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flows import publish
from flows.config import load_config
from flows.refresh import refresh_map
from outputs.dataset import table_key
from outputs.store.reuse import artefact_keys

pytestmark = pytest.mark.usefixtures("prefect_server")

CHANGED_ACTIVITY = "code,month,n\nED,2025-04,5\nED,2025-05,7\n"


def test_unchanged_tables_are_linked_from_the_previous_version_and_equal_a_full_rebuild(
        mini_map: Path, tmp_path: Path) -> None:
    store = load_config(mini_map).store()
    assert refresh_map(str(mini_map)).version_id == "v0001"
    first = store.version_path("v0001")
    (mini_map.parent / "extracts" / "activity.csv").write_text(CHANGED_ACTIVITY)
    second = refresh_map(str(mini_map))
    assert second.status == "published" and second.version_id == "v0002"
    folder = Path(second.path)

    linked = {p.name for p in folder.iterdir() if p.is_file() and (first / p.name).is_file()
              and p.stat().st_ino == (first / p.name).stat().st_ino}
    assert {"services.csv", "services.parquet", "organisations.csv", "organisations.parquet"} <= linked
    assert not {"activity.csv", "activity.parquet"} & linked  # what changed is written anew
    keys = artefact_keys(store.private, folder)
    assert keys["services.csv"] == artefact_keys(store.private, first)["services.csv"]
    assert keys["activity.csv"] != artefact_keys(store.private, first)["activity.csv"]

    # the same inputs published on a fresh root: nothing to reuse, every table written
    fresh = refresh_map(str(mini_map), publish_root=str(tmp_path / "fresh"))
    assert fresh.status == "published" and fresh.content_hash == second.content_hash
    # the fresh root's v0001 shares the private area and the id, not the keys: v0001's here are still its own
    assert artefact_keys(store.private, first) == {}  # overwritten for the fresh root's v0001
    assert artefact_keys(store.private, Path(fresh.path))["activity.csv"] == keys["activity.csv"]
    for name in linked:
        assert (folder / name).read_bytes() == (Path(fresh.path) / name).read_bytes(), name
    for table in ("activity", "flows", "services", "organisations", "initiatives", "measures", "rejects"):
        for suffix in (".csv", ".parquet"):
            assert (folder / f"{table}{suffix}").read_bytes() == (Path(fresh.path) / f"{table}{suffix}").read_bytes()


def test_a_version_outlives_the_one_it_shares_files_with(mini_map: Path) -> None:
    mini_map.write_text(mini_map.read_text() + "\n[publish]\nkeep_versions = 1\n")
    store = load_config(mini_map).store()
    refresh_map(str(mini_map))
    expected = (store.version_path("v0001") / "services.csv").read_bytes()
    (mini_map.parent / "extracts" / "activity.csv").write_text(CHANGED_ACTIVITY)
    assert refresh_map(str(mini_map)).version_id == "v0002"
    assert store.complete_versions() == ["v0002"]  # v0001 pruned: the linked files stay whole in v0002
    assert (store.version_path("v0002") / "services.csv").read_bytes() == expected
    assert sorted(p.name for p in (store.private / ".artefact_keys").iterdir()) == ["v0002.json"]


def test_without_the_previous_keys_every_file_is_written(mini_map: Path) -> None:
    store = load_config(mini_map).store()
    refresh_map(str(mini_map))
    shutil.rmtree(store.private / ".artefact_keys")
    (mini_map.parent / "extracts" / "activity.csv").write_text(CHANGED_ACTIVITY)
    second = Path(refresh_map(str(mini_map)).path)
    first = store.version_path("v0001")
    assert all(p.stat().st_ino != (first / p.name).stat().st_ino for p in second.iterdir()
               if p.is_file() and (first / p.name).is_file())


@pytest.mark.parametrize("first,second", [
    ([1, True], [1, 1]),  # equal to pandas' hashing (1 == True), written "True" and "1"
    (["1", "2"], [1, 2]),
    ([0.0, 1.5], [-0.0, 1.5]),  # "-0" in the CSV
    ([date(2025, 4, 1)], ["2025-04-01"]),
])
def test_a_table_key_tells_apart_what_its_files_would(first: list[object], second: list[object]) -> None:
    frames = [pd.DataFrame({"value": pd.Series(values, dtype="float64" if isinstance(values[0], float) else object)})
              for values in (first, second)]
    assert table_key(frames[0]) != table_key(frames[1])
    assert table_key(frames[0]) == table_key(frames[0].copy())


def test_a_workbook_sent_early_is_waited_for_when_the_run_publishes_nothing(
        mini_map: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big version's workbook is written by the worker while the tables are: when the tables then equal the
    latest version's, nothing is published and the staging folder goes only once the worker is done with it."""
    monkeypatch.setattr(publish, "BESIDE_FROM_ROWS", 0)
    store = load_config(mini_map).store()
    first = refresh_map(str(mini_map))
    assert first.status == "published" and (Path(first.path) / "exports" / "map.xlsx").is_file()
    activity = mini_map.parent / "extracts" / "activity.csv"
    header, *rows = activity.read_text().splitlines()
    activity.write_text("\n".join([header, *reversed(rows)]) + "\n")  # other bytes, the same content
    again = refresh_map(str(mini_map))
    assert again.status == "unchanged" and again.version_id == first.version_id
    assert not store.staging.exists() or not any(store.staging.iterdir())
