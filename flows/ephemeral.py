"""The temporary Prefect server a run starts for itself (when no PREFECT_API_URL is set), tied to the run's life.

Prefect starts it as a child process and stops it at exit, which a run killed with SIGKILL never reaches: the server
(~220 MB) would live on, and under a schedule such servers pile up. So a run starts the server up front, records its
pid under PREFECT_HOME, and leaves a small watcher (its own session, no Prefect import) that stops the server once
the run is gone. Should the watcher die too, the next run reaps every recorded server whose run is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVER_MARK = "prefect.server.api.server:create_app"  # in the command line of Prefect's temporary server only
POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 5.0


def records_folder() -> Path:
    """Where each running temporary server is recorded: one JSON file per server, under Prefect's home."""
    return Path(os.environ.get("PREFECT_HOME", ".ism/prefect")) / "ism-temporary-servers"


def process_started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), to tell it from a later process that
    reuses its pid; None when there is no such process, it has ended (a zombie), or there is no /proc to ask."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int, started: int | None) -> bool:
    return started is not None and process_started(pid) == started


def _stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after a grace period, to a recorded server still running."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while process_started(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_started(pid) is not None:
            os.kill(pid, signal.SIGKILL)


def _stop_if_orphaned(record: Path) -> bool:
    """Stop the recorded server when the run that started it is gone; True when the record is settled (removed)."""
    try:
        entry = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record.unlink(missing_ok=True)
        return True
    if _alive(entry["run"], entry["run_started"]):
        return False
    if _alive(entry["server"], entry["server_started"]) and SERVER_MARK in _command_line(entry["server"]):
        _stop(entry["server"])
    record.unlink(missing_ok=True)
    return True


def reaped_servers() -> int:
    """Stop every recorded temporary server whose run is gone (killed before its watcher could act); how many
    records were settled."""
    folder = records_folder()
    return sum(_stop_if_orphaned(record) for record in sorted(folder.glob("*.json"))) if folder.is_dir() else 0


def _watch(record: Path) -> None:
    """The watcher's loop: wait until the run is gone (then stop its server) or the record is removed (the run
    stopped its server itself)."""
    while record.exists() and not _stop_if_orphaned(record):
        time.sleep(POLL_SECONDS)


def tied_temporary_server() -> int | None:
    """Start Prefect's temporary server now (the one its client would otherwise start) and tie it to this run;
    its pid, or None when PREFECT_API_URL names a server. Servers left by killed runs are reaped first."""
    reaped_servers()
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # Prefect's client reuses this instance: one server per process
    server.start()
    if server.server_process is None:
        return None
    pid = server.server_process.pid
    folder = records_folder()
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{pid}.json"
    record.write_text(json.dumps({"server": pid, "server_started": process_started(pid), "run": os.getpid(),
                                  "run_started": process_started(os.getpid())}), encoding="utf-8")
    atexit.register(record.unlink, missing_ok=True)  # runs before Prefect's own stop (registered earlier)
    subprocess.Popen([sys.executable, "-m", "flows.ephemeral", str(record)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    return pid


if __name__ == "__main__":
    _watch(Path(sys.argv[1]))
