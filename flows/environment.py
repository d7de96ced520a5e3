"""The process environment Prefect needs, set where a process starts (the `ism` entry point, the test session),
never on import: Prefect stays quiet and offline, with its home in the work folder."""

from __future__ import annotations

import os
from pathlib import Path

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
