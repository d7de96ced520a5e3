"""Prefect flows, the CLI and the map config: the only layer that knows Prefect, the config file and the order of
steps. Importing it keeps Prefect quiet and offline: its home lives in the work folder and analytics are off."""

import os
from pathlib import Path

WORK_DIR = Path(os.environ.get("ISM_WORK_DIR", ".ism")).resolve()
os.environ.setdefault("PREFECT_HOME", str(WORK_DIR / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
# The temporary local server can take well over Prefect's default 20 s to start on a loaded machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
