"""A big version's slowest writers run in the worker process (flows/publish.py): what they write there is byte for
byte what they write in the refresh's own process, and their failure is the publish's."""

from __future__ import annotations

import os
import pickle
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from flows import publish
from flows.publish import BESIDE, EARLY, artefacts_beside, send_early, write_artefacts
from outputs.context import PublishedVersion
from outputs.dataset import dataset_artefact
from outputs.poster import render as poster_render
from outputs.poster import version_layout, write_laid_out
from tests.outputs.small_map import small_tables, small_version


def _files(folder: Path) -> dict[str, bytes]:
    """Every file a version's writers wrote, the workbook by its parts (its creation time aside)."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                found.update({f"{name}:{part}": book.read(part) for part in book.namelist()
                              if part != "docProps/core.xml"})
        elif path.suffix not in (".pdf", ".png"):  # drawn by Graphviz with their own creation dates
            found[name] = path.read_bytes()
    return found


def _no_analyses() -> dict:
    return {}


@pytest.fixture(autouse=True)
def _without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The small map's version has no source entries for a data package: its writer is left out."""
    monkeypatch.setattr(publish, "ARTEFACT_WRITERS",
                        [(lambda version: []) if w is dataset_artefact else w for w in publish.ARTEFACT_WRITERS])


def test_writers_beside_write_what_they_write_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = []
    send = publish.in_worker_pickled

    def spied(call: bytes) -> object:
        sent.append(pickle.loads(call)[1][0].__name__)  # noqa: S301  (our own pickle)
        return send(call)

    monkeypatch.setattr(publish, "in_worker_pickled", spied)
    write_artefacts(small_version(tmp_path / "here"), _no_analyses)
    assert sent == []
    write_artefacts(small_version(tmp_path / "beside"), _no_analyses, beside=True)
    assert sent == [write.__name__ for write in BESIDE]
    sent.clear()
    early = small_version(tmp_path / "early")
    write_artefacts(early, _no_analyses, beside=True, early=send_early(early, True))
    assert sent == [write.__name__ for write in (*EARLY, *(w for w in BESIDE if w not in EARLY))]
    here = _files(tmp_path / "here")
    assert any(name.startswith("exports/") for name in here) and any(".xlsx:" in name for name in here)
    for folder in ("beside", "early"):
        there = _files(tmp_path / folder)
        assert sorted(there) == sorted(here)
        for name, data in here.items():
            assert there[name] == data, (folder, name)


def test_a_laid_out_poster_crosses_to_another_process_whole(tmp_path: Path) -> None:
    layout = version_layout(small_version(tmp_path))
    copy = pickle.loads(pickle.dumps(layout))  # noqa: S301
    assert copy.node_boxes() == layout.node_boxes() and copy.lane_boxes() == layout.lane_boxes()
    assert copy.edge_paths() == layout.edge_paths() and copy.bundle_paths() == layout.bundle_paths()
    assert copy.selection == layout.selection and copy.method == layout.method


def test_a_writer_handed_the_layout_does_not_lay_out_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = version_layout(small_version(tmp_path / "made"))
    monkeypatch.setattr(poster_render, "poster_layout", lambda *args: pytest.fail("laid out again"))
    found = write_laid_out(lambda version: [version_layout(version)], small_version(tmp_path / "handed"), layout)
    assert found == [layout]


def failing_spreadsheet(version: PublishedVersion) -> list[Path]:
    """A writer that fails in the worker (imported there by name)."""
    raise ValueError(f"no workbook for {version.version_id} (in process {os.getpid()})")


@pytest.mark.parametrize("sent_early", [False, True])
def test_a_writer_failing_beside_fails_the_publish_once_the_others_are_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent_early: bool) -> None:
    spreadsheet = BESIDE[0]
    monkeypatch.setattr(publish, "ARTEFACT_WRITERS",
                        [failing_spreadsheet if w is spreadsheet else w for w in publish.ARTEFACT_WRITERS])
    monkeypatch.setattr(publish, "BESIDE", (failing_spreadsheet, *BESIDE[1:]))
    monkeypatch.setattr(publish, "EARLY", (failing_spreadsheet,))
    version = small_version(tmp_path)
    early = send_early(version, sent_early)
    assert len(early) == sent_early  # a small version sends nothing early
    with pytest.raises(ValueError, match="no workbook") as failed:
        write_artefacts(version, _no_analyses, beside=True, early=early)
    assert f"(in process {os.getpid()})" not in str(failed.value)
    assert (tmp_path / "diagrams" / "map.html").is_file()  # the writers after it went on
    assert (tmp_path / "exports" / "map.gexf").is_file()  # and the other one beside was waited for


def test_only_a_big_version_starts_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    started = []
    monkeypatch.setattr(publish, "get_ready", started.append)
    assert not artefacts_beside(small_tables())
    monkeypatch.setattr(publish, "BESIDE_FROM_ROWS", 3)
    assert artefacts_beside(small_tables())
    assert started == [publish._ready]


def test_the_gx_site_is_built_while_the_writers_after_it_write(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """GX's Data Docs are built in the worker: the refresh does not wait for them before the next writer,
    only before the version is complete, and their failure is the publish's."""
    next_writer_started, written = threading.Event(), []

    def gx_site(version: PublishedVersion) -> list[Path]:
        assert next_writer_started.wait(20), "the next writer waited for the GX site"
        written.append("gx")
        raise ValueError("no Data Docs")

    def next_writer(version: PublishedVersion) -> list[Path]:
        next_writer_started.set()
        return []

    monkeypatch.setattr(publish.os, "cpu_count", lambda: 2)  # a core free for the worker
    monkeypatch.setattr(publish, "ARTEFACT_WRITERS", [gx_site, next_writer])
    monkeypatch.setattr(publish, "IN_WORKER", (gx_site,))
    with pytest.raises(ValueError, match="no Data Docs"):
        write_artefacts(small_version(tmp_path), _no_analyses)
    assert written == ["gx"]


def test_the_worker_writes_gxs_site_beside_with_a_core_to_itself_or_when_it_writes_others_anyway(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, beside, expected in [(1, False, False), (2, False, True), (1, True, True), (2, True, True),
                                    (None, False, False)]:
        monkeypatch.setattr(publish.os, "cpu_count", lambda cores=cores: cores)
        assert publish.gx_site_beside(beside) is expected, (cores, beside)


def test_a_writer_failing_before_the_layout_is_needed_ends_the_publish_without_waiting_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PNG writer waits for the layout without asking for it; when the publish fails first, the layout is told
    it is needed, so its cheapest candidate stops at its grace instead of running on while the error waits."""
    seen: list[threading.Event] = []
    lay_out = poster_render.poster_layout

    def slow_until_needed(*args: Any, needed: threading.Event, **options: Any) -> poster_render.PosterLayout:
        seen.append(needed)
        needed.wait(30)  # without the signal the failure would wait for this
        return lay_out(*args, needed=needed, **options)

    def failing(version: PublishedVersion) -> list[Path]:
        raise ValueError("no dataset")

    monkeypatch.setattr(poster_render, "poster_layout", slow_until_needed)
    monkeypatch.setattr(publish, "ARTEFACT_WRITERS", [poster_render.poster_png_artefact, failing])
    version = small_version(tmp_path)
    poster_render.start_layout(version)  # as the refresh does when it makes the version
    with pytest.raises(ValueError, match="no dataset"):
        write_artefacts(version, _no_analyses)
    assert seen and seen[0].is_set()
    assert (tmp_path / "diagrams" / "poster.png").is_file()  # the writer sent before the failure finished
