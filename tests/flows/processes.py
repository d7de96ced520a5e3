"""Helpers for tests that run `ism` in real processes: environment, start, bounded waits, cleanup."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from outputs.store.versions import MapStore

ISM = Path(sys.executable).parent / "ism"


def ism_env(home: Path, api_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a child `ism`: its own Prefect home and work folder, the given Prefect API."""
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISM_", "PREFECT_"))}
    env.update({"ISM_WORK_DIR": str(home), "PREFECT_HOME": str(home / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **extra})
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@contextmanager
def started(args: list[str], env: dict[str, str], logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process with stdout/stderr in `logs`.out/.err, always ended (SIGTERM, then SIGKILL) on exit."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    with logs.with_suffix(".out").open("wb") as out, logs.with_suffix(".err").open("wb") as err:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err, cwd=logs.parent, start_new_session=True)
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """End a child we started and the processes it started (its own session), politely first."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(grace)
    else:
        with suppress(ProcessLookupError):  # children it may have left in its session
            os.killpg(process.pid, signal.SIGKILL)


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(0.1)


def output(logs: Path, stream: str = "err") -> str:
    path = logs.with_suffix(f".{stream}")
    return path.read_text(errors="replace") if path.exists() else ""


def tree_digest(folder: Path) -> str:
    """One hash over every file's relative name and bytes: equal digests, byte-identical trees."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def assert_consistent(store: MapStore, exactly: bool = True) -> None:
    """`latest` names a complete version; every catalog entry is a complete version with its manifest's hash
    (and, with `exactly`, the catalog lists every complete version and agrees with `latest`)."""
    complete = store.complete_versions()
    pointer = (store.folder / "latest").read_text().strip()
    assert pointer in complete, f"latest names {pointer!r}, complete versions: {complete}"
    catalog = json.loads(store.catalog_path.read_text())
    for entry in catalog["versions"]:
        assert entry["version_id"] in complete
        assert entry["content_hash"] == store.manifest(entry["version_id"])["content_hash"]
    if exactly:
        assert [e["version_id"] for e in catalog["versions"]] == complete
        assert catalog["latest"] == pointer == complete[-1]
