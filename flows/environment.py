"""The process environment Prefect needs, set where a process starts (the `ism` entry point, the test session),
never on import: Prefect stays quiet and offline, with its home in the work folder."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    # The temporary local server can take well over Prefect's default 20 s to start on a loaded machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}
"""Settings a caller has not chosen itself: analytics off, warnings only, a patient temporary server."""


def work_dir() -> Path:
    """The private work folder of this process: $ISM_WORK_DIR, else `.ism` in the current folder."""
    return Path(os.environ.get("ISM_WORK_DIR", ".ism")).resolve()


def prepare_prefect(home: Path | None = None) -> Path:
    """Point Prefect at `home` (default: `prefect` in the work folder) unless PREFECT_HOME is already set, keep it
    offline and quiet, and create the home. Call it once, before Prefect is imported; returns the home in use."""
    os.environ.setdefault("PREFECT_HOME", str(home if home is not None else work_dir() / "prefect"))
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    prefect_home = Path(os.environ["PREFECT_HOME"])
    prefect_home.mkdir(parents=True, exist_ok=True)
    return prefect_home


def heartbeats_left_to_stop() -> None:
    """Let this process's flow runs end without waiting for Prefect's heartbeat thread. Prefect's sync flow engine
    joins that thread as a run ends, and it sleeps in steps of a second: every run waited up to a second after its
    work was done (half a second on average; an empty flow's body returned after 1.0 s). The thread is a daemon that
    stops within that second without another heartbeat, as Prefect's async engine leaves it; heartbeats are
    unchanged. A run that ends at once can leave its first heartbeat event for Prefect's events worker to send as the
    process exits, which it does after a "Still processing items" warning: that line is kept off the terminal.
    Imports Prefect's flow engine: call it where a flow is about to run. Nothing happens if Prefect no longer has
    the hook it replaces (tests/flows/test_environment.py fails then)."""
    import inspect

    from prefect import flow_engine

    original = getattr(flow_engine, "_send_heartbeats", None)
    if original is None or getattr(original, "ism_left_to_stop", False):
        return
    if "join_on_exit" not in inspect.signature(original).parameters:
        return

    def left_to_stop(engine: Any, join_on_exit: bool = True) -> Any:
        return original(engine, join_on_exit=False)

    left_to_stop.ism_left_to_stop = True  # type: ignore[attr-defined]
    flow_engine._send_heartbeats = left_to_stop
    logging.getLogger("EventsWorker").addFilter(_not_draining_progress)


def _not_draining_progress(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Still processing items")
