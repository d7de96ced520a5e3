"""The benchmark's long-running Prefect server helpers, against fake servers (no Prefect started)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.prefect_server import (
    ServerStartError,
    free_port,
    is_healthy,
    prefect_server,
    server_environment,
    stop,
    wait_until_healthy,
)

FAKE_PREFECT = """\
import http.server, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
print("fake prefect server on", port, flush=True)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"true" if self.path == "/api/health" else b"no"
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


@pytest.fixture
def slow_health() -> Iterator[tuple[str, list[int]]]:
    """A health endpoint that answers 503 twice, then 200 `true`; yields its URL and the request count."""
    requests = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests[0] += 1
            ready = requests[0] > 2
            self.send_response(200 if ready else 503)
            self.end_headers()
            self.wfile.write(b"true" if ready else b"starting")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/health", requests
    server.shutdown()
    server.server_close()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))


def test_wait_until_healthy_polls_until_the_server_answers_true(slow_health: tuple[str, list[int]],
                                                                tmp_path: Path) -> None:
    url, requests = slow_health
    seconds = wait_until_healthy(url, timeout=10, exited=lambda: None, log=tmp_path / "log", poll=0.01)
    assert requests[0] == 3
    assert 0 <= seconds < 10
    assert is_healthy(url)


def test_wait_until_healthy_times_out_with_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("starting\nstill migrating the database\n")
    url = f"http://127.0.0.1:{free_port()}/api/health"  # nothing listens there
    with pytest.raises(ServerStartError, match=r"did not answer .* within 0 s(.|\n)*still migrating the database"):
        wait_until_healthy(url, timeout=0.2, exited=lambda: None, log=log, poll=0.05)


def test_wait_until_healthy_stops_when_the_server_exits(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("Address already in use\n")
    url = f"http://127.0.0.1:{free_port()}/api/health"
    with pytest.raises(ServerStartError, match=r"exited with code 1(.|\n)*Address already in use"):
        wait_until_healthy(url, timeout=60, exited=lambda: 1, log=log)


def test_server_environment_has_its_own_home_and_no_api_url(tmp_path: Path) -> None:
    env = server_environment({"PREFECT_API_URL": "http://elsewhere/api", "PATH": "/bin", "PYTHONPATH": "x"},
                             tmp_path)
    assert env == {"PATH": "/bin", "PREFECT_HOME": str(tmp_path), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "DO_NOT_TRACK": "1"}


def test_stop_kills_a_server_that_ignores_terminate() -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                               "print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, start_new_session=True)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    stop(stubborn, grace=0.3)
    assert stubborn.returncode == -9
    stubborn.stdout.close()


@pytest.fixture
def fake_prefect(tmp_path: Path) -> Path:
    """An executable standing in for `prefect`: `server start --port N` serves /api/health on N."""
    script = tmp_path / "prefect"
    script.write_text(f"#!{sys.executable}\n{FAKE_PREFECT}")
    script.chmod(0o755)
    return script


def test_prefect_server_starts_times_samples_and_stops(fake_prefect: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "server.log"
    with prefect_server(fake_prefect, tmp_path / "home", log, dict(os.environ), interval=0.05) as server:
        assert is_healthy(f"http://127.0.0.1:{server.port}/api/health")
        assert server.api_url == f"http://127.0.0.1:{server.port}/api"
        assert 0 < server.startup_seconds < 60
        pid = server.pid
    assert server.peak_rss_bytes > 0
    assert server.cpu_seconds > 0 and server.cpu_seconds >= server.startup_cpu_seconds
    assert not Path(f"/proc/{pid}").exists()  # terminated and reaped
    assert f"fake prefect server on {server.port}" in log.read_text()


def test_prefect_server_is_stopped_when_the_run_fails(fake_prefect: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), prefect_server(fake_prefect, tmp_path / "home", tmp_path / "log",
                                                          dict(os.environ)) as server:
        raise KeyboardInterrupt
    assert not Path(f"/proc/{server.pid}").exists()


def test_prefect_server_reports_a_server_that_cannot_start(tmp_path: Path) -> None:
    broken = tmp_path / "prefect"
    broken.write_text(f"#!{sys.executable}\nimport sys\nprint('no such database', flush=True)\nsys.exit(3)\n")
    broken.chmod(0o755)
    with pytest.raises(ServerStartError, match=r"exited with code 3(.|\n)*no such database"), \
            prefect_server(broken, tmp_path / "home", tmp_path / "log", dict(os.environ)):
        pytest.fail("the server should not have started")
