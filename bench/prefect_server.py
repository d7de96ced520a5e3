"""A long-running Prefect server for the benchmark, as a national team runs one (`make server`, `ism serve`): started
once per benchmark run on a free loopback port, timed until its health check answers, its memory sampled apart from
ism's, and always stopped at the end (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.measure import tree_cpu_seconds, tree_rss_bytes

STARTUP_TIMEOUT_SECONDS = 180.0
STOP_GRACE_SECONDS = 15.0


class ServerStartError(RuntimeError):
    """The Prefect server did not answer its health check; the message carries its log's tail."""


@dataclass
class PrefectServer:
    """A running server: where to reach it, how long it took to answer, and its own peak memory and CPU so far
    (the API calls it answers for ism's processes cost CPU here, not in theirs)."""

    pid: int
    port: int
    log: Path
    startup_seconds: float
    peak_rss_bytes: int = 0  # the server's own process tree, sampled from its start
    startup_cpu_seconds: float = 0.0  # CPU until the health check answered
    cpu_seconds: float = 0.0  # CPU from its start until it was stopped (or the latest sample while it runs)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log_tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {log})"
    return "\n".join(text.strip().splitlines()[-lines:]) or f"(empty log at {log})"


def is_healthy(health_url: str, timeout: float = 2.0) -> bool:
    """Does `health_url` answer 200 with the body `true`, as Prefect's /api/health does once the server is up?"""
    try:
        with urllib.request.urlopen(health_url, timeout=timeout) as response:  # noqa: S310 (a loopback URL we built)
            return bool(response.status == 200 and response.read().strip() == b"true")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_healthy(health_url: str, timeout: float, exited: Callable[[], int | None], log: Path,
                       poll: float = 0.25) -> float:
    """Poll `health_url` until it answers; return the seconds waited. Raise ServerStartError with the log's tail
    if the server process exits first (`exited` returns its exit code, None while it runs) or `timeout` passes."""
    started = time.perf_counter()
    while True:
        if is_healthy(health_url):
            return time.perf_counter() - started
        code = exited()
        if code is not None:
            raise ServerStartError(f"the Prefect server exited with code {code} before {health_url} answered; "
                                   f"last lines of {log}:\n{log_tail(log)}")
        if time.perf_counter() - started > timeout:
            raise ServerStartError(f"the Prefect server did not answer {health_url} within {timeout:.0f} s (a busy "
                                   f"machine may need longer); last lines of {log}:\n{log_tail(log)}")
        time.sleep(poll)


def server_environment(base: Mapping[str, str], home: Path) -> dict[str, str]:
    """The server's environment: its own Prefect home, analytics and tracking off, no API URL of its own."""
    env = {k: v for k, v in base.items() if k not in ("PREFECT_API_URL", "PYTHONPATH")}
    env["PREFECT_HOME"] = str(home)
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["DO_NOT_TRACK"] = "1"
    return env


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """Terminate the server's process group, and kill it if it is still there after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except BaseException as error:  # too slow, or Ctrl-C while waiting: never leave the server behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if not isinstance(error, subprocess.TimeoutExpired):
            raise


@contextlib.contextmanager
def prefect_server(prefect: Path, home: Path, log: Path, base_env: Mapping[str, str],
                   timeout: float = STARTUP_TIMEOUT_SECONDS, interval: float = 0.5) -> Iterator[PrefectServer]:
    """Start `prefect server start` on a free loopback port, wait for its health check, and yield it; its peak
    resident memory and CPU (the server's own process tree, never part of ism's) are sampled every `interval`
    seconds.
    The server is stopped on leaving, whatever happened (errors, Ctrl-C)."""
    home.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=output, stderr=subprocess.STDOUT, env=server_environment(base_env, home),
                                   start_new_session=True)  # its own process group: stopped as one, apart from ism
    server = PrefectServer(process.pid, port, log, startup_seconds=float("nan"))
    stopping = threading.Event()

    def sample() -> None:
        while not stopping.is_set():
            server.peak_rss_bytes = max(server.peak_rss_bytes, tree_rss_bytes(process.pid))
            server.cpu_seconds = max(server.cpu_seconds, tree_cpu_seconds(process.pid))
            stopping.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", timeout, process.poll, log)
        server.startup_seconds = time.perf_counter() - started
        server.startup_cpu_seconds = tree_cpu_seconds(process.pid)
        yield server
    finally:
        stopping.set()
        sampler.join()
        server.cpu_seconds = max(server.cpu_seconds, tree_cpu_seconds(process.pid))  # before it exits
        stop(process)
