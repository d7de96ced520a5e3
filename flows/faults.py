"""Fault injection for the crash-safety tests: the refresh passes named checkpoints, and an environment variable
can make the process SIGKILL itself at one of them (ISM_CRASH_AT) or hold there (ISM_HOLD_AT) until a file goes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

CHECKPOINTS = ("after_extract", "after_consolidate", "mid_publish", "after_rename")
HOLD_LIMIT_SECONDS = 120.0


def checkpoint(name: str) -> None:
    """Do nothing, unless the environment asks to die or to hold at `name`.

    ISM_CRASH_AT=<name>: the process kills itself with SIGKILL (no cleanup, no `finally`, like a power cut).
    ISM_HOLD_AT=<name> with ISM_HOLD_FILE=<path>: write the path (our pid in it), then wait until it is deleted
    (at most HOLD_LIMIT_SECONDS), so a test can act while the run is at that point."""
    if os.environ.get("ISM_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("ISM_HOLD_AT") == name and os.environ.get("ISM_HOLD_FILE"):
        hold = Path(os.environ["ISM_HOLD_FILE"])
        hold.write_text(str(os.getpid()), encoding="utf-8")
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while hold.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
