"""A big refresh stages some sources in the staging worker (flows/stage.py): what it stages there is what it
stages in its own interpreter, table for table, and the version is the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows import stage
from flows.refresh import refresh_map
from tests.conftest import write_mini_map

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_sources_staged_beside_are_staged_as_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = refresh_map(str(write_mini_map(_folder(tmp_path / "here"))))
    sent: list[str] = []
    send = stage.in_worker

    def spied(function: Any, *args: Any, role: str) -> Any:
        sent.append(args[1].source_id if args else function.__name__)
        return send(function, *args, role=role)

    monkeypatch.setattr(stage, "in_worker", spied)
    monkeypatch.setattr(stage, "STAGE_BESIDE_FROM_BYTES", 0)
    beside = refresh_map(str(write_mini_map(_folder(tmp_path / "beside"))))
    assert "warm_up" in sent and set(sent) - {"warm_up"}  # at least one source was staged there
    assert beside.status == here.status == "published" and beside.content_hash == here.content_hash
    assert [(o.source_id, o.status, o.rows_read, o.rows_accepted, o.rows_rejected) for o in beside.sources] == [
        (o.source_id, o.status, o.rows_read, o.rows_accepted, o.rows_rejected) for o in here.sources]
    for table in ("activity", "flows", "services", "organisations", "rejects"):
        assert (Path(beside.path) / f"{table}.csv").read_bytes() == (Path(here.path) / f"{table}.csv").read_bytes()


def test_small_extracts_are_staged_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stage, "in_worker", lambda *args, **kwargs: pytest.fail("the worker was used"))
    assert refresh_map(str(write_mini_map(tmp_path))).status == "published"


def _folder(path: Path) -> Path:
    path.mkdir()
    return path
