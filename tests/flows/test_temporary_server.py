"""A killed run leaves no Prefect temporary server behind: its watcher stops it, or the next run reaps it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from flows import ephemeral
from tests.conftest import write_mini_map
from tests.flows.processes import ISM, ism_env, started, wait_until


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    folder = ephemeral.records_folder()
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def fake_server() -> Iterator[subprocess.Popen[bytes]]:
    """A process whose command line carries the temporary server's mark, as Prefect's uvicorn child does."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", ephemeral.SERVER_MARK])
    yield process
    with suppress(ProcessLookupError):
        process.kill()
    process.wait()


def _record(folder: Path, server: int, run: int, run_started: int | None) -> Path:
    record = folder / f"{server}.json"
    record.write_text(json.dumps({"server": server, "server_started": ephemeral.process_started(server),
                                  "run": run, "run_started": run_started}))
    return record


def test_the_next_run_reaps_a_server_whose_run_is_gone(records: Path, fake_server: subprocess.Popen[bytes]) -> None:
    run = subprocess.Popen([sys.executable, "-c", "pass"])
    run_started = ephemeral.process_started(run.pid)
    run.wait()
    record = _record(records, fake_server.pid, run.pid, run_started)
    assert ephemeral.reaped_servers() == 1
    assert fake_server.wait(10) == -signal.SIGTERM and not record.exists()


def test_a_server_whose_run_is_alive_or_a_stranger_reusing_the_pid_is_left_alone(
        records: Path, fake_server: subprocess.Popen[bytes]) -> None:
    _record(records, fake_server.pid, os.getpid(), ephemeral.process_started(os.getpid()))
    assert ephemeral.reaped_servers() == 0 and fake_server.poll() is None
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # no server mark
    try:
        _record(records, stranger.pid, 999_999_999, None)
        assert ephemeral.reaped_servers() == 1 and stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.slow
def test_a_refresh_killed_with_sigkill_leaves_no_temporary_server(tmp_path: Path) -> None:
    (tmp_path / "map").mkdir()
    config = write_mini_map(tmp_path / "map")
    env = ism_env(tmp_path / "home", None)  # no API URL: the run starts its own temporary server
    folder = tmp_path / "home" / "prefect" / "ism-temporary-servers"
    server = 0
    with started([str(ISM), "refresh", str(config), "--publish-root", str(tmp_path / "out")], env,
                 tmp_path / "logs" / "refresh") as run:
        try:
            wait_until(lambda: any(folder.glob("*.json")), 180, "the run to record its temporary server")
            server = json.loads(next(folder.glob("*.json")).read_text())["server"]
            assert ephemeral.SERVER_MARK in Path(f"/proc/{server}/cmdline").read_bytes().decode(errors="replace")
            os.kill(run.pid, signal.SIGKILL)  # the run alone: its server is left to the watcher
            run.wait(10)
            wait_until(lambda: ephemeral.process_started(server) is None, 60, "the orphaned server to stop")
            wait_until(lambda: not any(folder.glob("*.json")), 10, "the record to be removed")
        finally:
            with suppress(ProcessLookupError):
                if server and ephemeral.process_started(server) is not None:
                    os.kill(server, signal.SIGKILL)
