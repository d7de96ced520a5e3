"""The extracts' digests are kept in the map's private area, so a refresh in a fresh process hashes only the files
written since (flows/source_cache.py `keys_before_reading`, sources/base.py `sha256_of`): trusted by each file's
signature, never for a file written just before it was hashed."""

from __future__ import annotations

import hashlib
import json
import os
import types
from pathlib import Path
from typing import Any

import pytest

import sources.base
from flows.config import load_config
from flows.source_cache import keys_before_reading
from outputs.store.cache import DIGESTS_FILE, kept_file_digests, remove_partial_entries
from sources.base import lasting_digests, remember_digests, sha256_of


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A fresh process's memo of digests; the list grows by one each time sha256_of hashes files."""
    monkeypatch.setattr(sources.base, "_DIGESTS", {})
    made: list[int] = []

    def counted(*args: Any) -> Any:
        made.append(1)
        return hashlib.sha256(*args)

    monkeypatch.setattr(sources.base, "hashlib", types.SimpleNamespace(sha256=counted))
    return made


def fresh_process(monkeypatch: pytest.MonkeyPatch, made: list[int]) -> None:
    monkeypatch.setattr(sources.base, "_DIGESTS", {})
    made.clear()


def test_a_fresh_process_hashes_only_the_files_written_since_an_earlier_one_kept_their_digests(
        mini_map: Path, hashed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.base, "RACY_NS", 0)  # the extracts were written a moment ago
    config = load_config(mini_map)
    private = config.store().private
    first = keys_before_reading(config, private)
    extracts = len(first)
    assert all(first.values()) and len(hashed) == extracts
    assert len(kept_file_digests(private)) == extracts

    fresh_process(monkeypatch, hashed)
    assert keys_before_reading(config, private) == first and hashed == []

    # the same size and modification time, other bytes: its change time moved, so it is hashed again
    activity = mini_map.parent / "extracts" / "activity.csv"
    before = activity.stat()
    text = activity.read_text()
    activity.write_text(text.replace("AMU", "ZMU"))
    os.utime(activity, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert activity.stat().st_size == before.st_size and activity.stat().st_mtime_ns == before.st_mtime_ns
    fresh_process(monkeypatch, hashed)
    changed = keys_before_reading(config, private)
    assert len(hashed) == 1
    assert {s for s in first if changed[s] != first[s]} == {"nhs_activity"}


def test_a_file_written_just_before_it_was_hashed_is_hashed_again_by_the_next_process(
        mini_map: Path, hashed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(mini_map)
    private = config.store().private
    keys = keys_before_reading(config, private)
    assert kept_file_digests(private) == []  # every extract was written within RACY_NS of its hashing
    fresh_process(monkeypatch, hashed)
    assert keys_before_reading(config, private) == keys and len(hashed) == len(keys)


def test_only_the_digests_of_this_keying_are_kept_and_a_damaged_file_of_them_is_made_again(
        mini_map: Path, tmp_path: Path, hashed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.base, "RACY_NS", 0)
    elsewhere = tmp_path / "other.csv"
    elsewhere.write_text("a,b\n1,2\n")
    sha256_of([elsewhere])  # another map's file, hashed earlier in this process
    config = load_config(mini_map)
    private = config.store().private
    keys = keys_before_reading(config, private)
    roots = {entry[0][0][0] for entry in kept_file_digests(private)}
    assert str(elsewhere.resolve()) not in roots and len(roots) == len(keys)

    for damaged in ("{not json", '{"a": 1}', json.dumps([[1, 2], ["x"], [[["p", "f", 1]], "d", 0]])):
        (private / DIGESTS_FILE).write_text(damaged)
        fresh_process(monkeypatch, hashed)
        assert keys_before_reading(config, private) == keys and len(hashed) == len(keys)
    assert len(kept_file_digests(private)) == len(keys)  # kept again, whole


def test_a_kept_digest_is_trusted_only_while_its_files_signatures_hold(
        tmp_path: Path, hashed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.base, "RACY_NS", 0)
    extract = tmp_path / "a.csv"
    extract.write_text("x\n1\n")
    real = sha256_of([extract])
    kept = lasting_digests()
    assert [entry[1] for entry in kept] == [real]

    fresh_process(monkeypatch, hashed)
    remember_digests([[kept[0][0], "f" * 64, kept[0][2]]])  # what the kept entry says is what is trusted
    assert sha256_of([extract]) == "f" * 64 and hashed == []
    extract.write_text("x\n2\n")  # same size
    assert sha256_of([extract]) == hashlib.sha256(b"a.csv" + extract.read_bytes()).hexdigest() != real
    assert len(hashed) == 1


def test_a_killed_writers_partial_digests_file_is_removed_with_the_other_leftovers(tmp_path: Path) -> None:
    leftover = tmp_path / f"{DIGESTS_FILE}.partial-0a1b2c3d"
    leftover.write_text("[")
    assert remove_partial_entries(tmp_path) == [leftover] and not leftover.exists()
