"""Importing flows changes nothing; the process start prepares Prefect's environment."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prefect import flow_engine

from flows.environment import PREFECT_DEFAULTS, heartbeats_left_to_stop, prepare_prefect

REPO = Path(__file__).resolve().parents[2]
IMPORT_EVERY_FLOWS_MODULE = """
import importlib, json, os, pkgutil, sys
import flows
for module in pkgutil.walk_packages(flows.__path__, "flows."):
    importlib.import_module(module.name)
print(json.dumps(sorted(k for k in os.environ if k.startswith("PREFECT_") or k == "DO_NOT_TRACK")))
"""


def test_importing_every_flows_module_sets_no_variable_and_creates_no_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISM_")) and k != "DO_NOT_TRACK"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERY_FLOWS_MODULE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []


def test_prepare_prefect_sets_home_and_quiet_defaults_but_keeps_what_the_caller_chose(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("PREFECT_HOME", "ISM_WORK_DIR", *PREFECT_DEFAULTS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    monkeypatch.chdir(tmp_path)
    home = prepare_prefect()
    assert home == tmp_path / ".ism" / "prefect" and home.is_dir()
    assert os.environ["PREFECT_HOME"] == str(home)
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"


def test_prepare_prefect_uses_the_work_folder_or_the_home_given(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.setenv("ISM_WORK_DIR", str(tmp_path / "work"))
    assert prepare_prefect() == tmp_path / "work" / "prefect"
    monkeypatch.delenv("PREFECT_HOME")
    assert prepare_prefect(tmp_path / "elsewhere") == tmp_path / "elsewhere"


def test_flow_runs_are_left_to_stop_their_heartbeat_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's engine asks to join the heartbeat thread; ism's hook hands it on with join_on_exit False, once
    however often it is installed, and keeps the drain's progress line off the terminal."""
    asked: list[tuple[object, bool]] = []

    @contextmanager
    def send_heartbeats(engine: object, join_on_exit: bool = True) -> Iterator[None]:
        asked.append((engine, join_on_exit))
        yield

    monkeypatch.setattr(flow_engine, "_send_heartbeats", send_heartbeats)
    events_worker = logging.getLogger("EventsWorker")
    monkeypatch.setattr(events_worker, "filters", [])
    heartbeats_left_to_stop()
    heartbeats_left_to_stop()
    with flow_engine._send_heartbeats("engine"):
        pass
    assert asked == [("engine", False)]
    assert len(events_worker.filters) == 1
    draining = logging.LogRecord("EventsWorker", logging.WARNING, "", 0, "Still processing items: 1 items remaining...",
                                 None, None)
    failing = logging.LogRecord("EventsWorker", logging.WARNING, "", 0, "Service failed to process item", None, None)
    assert not events_worker.filter(draining) and events_worker.filter(failing)


def test_a_heartbeat_hook_of_another_shape_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def send_heartbeats(engine: Any) -> Any:
        raise AssertionError("never called here")

    monkeypatch.setattr(flow_engine, "_send_heartbeats", send_heartbeats)
    heartbeats_left_to_stop()
    assert flow_engine._send_heartbeats is send_heartbeats


def test_the_prefect_ism_pins_still_has_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails when an upgraded Prefect renames or reshapes it: see whether its flow runs still wait for the heartbeat
    thread's second, and change or drop `heartbeats_left_to_stop`."""
    monkeypatch.setattr(flow_engine, "_send_heartbeats", flow_engine._send_heartbeats)
    monkeypatch.setattr(logging.getLogger("EventsWorker"), "filters", [])
    heartbeats_left_to_stop()
    assert getattr(flow_engine._send_heartbeats, "ism_left_to_stop", False)
