"""The `ism check` benchmark (`python -m bench.check`): `ism check SOURCE` on each source of the demo map, each in
its own process as a person runs it (interpreter start, imports, reading, staging, checks), timed by wall clock.
Results: bench/results/check.json and check.md. Target: under 3 s per source on this machine."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 3.0


def timed_check(config: Path, source_id: str) -> dict[str, Any]:
    """One `ism check SOURCE CONFIG --json` in a fresh process: its wall seconds, exit code and counts."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", "check", source_id, str(config), "--json"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    found = json.loads(done.stdout)["sources"][0] if done.stdout.strip() else {}
    return {"source_id": source_id, "seconds": round(seconds, 2), "exit_code": done.returncode,
            "status": found.get("status"), "rows_read": found.get("rows_read"),
            "rows_rejected": found.get("rows_rejected"), "load": round(load, 1)}


def results_markdown(rows: list[dict[str, Any]], header: dict[str, Any]) -> str:
    over = [r["source_id"] for r in rows if r["seconds"] >= TARGET_SECONDS]
    lines = ["# `ism check` benchmark", "",
             f"`python -m bench.check`, {header['at']}, {header['cpus']} CPUs, Python {header['python']}. One fresh "
             "process per source (interpreter, imports, read, stage, checks); wall seconds; the load average "
             "(1 min) just before each run is shown, since other work shares the machine.", "",
             "| source | status | rows read | rejected | seconds | load |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['source_id']} | {r['status']} | {r['rows_read'] or 0:,} | {r['rows_rejected'] or 0:,} | "
              f"{r['seconds']:.2f} | {r['load']} |" for r in rows]
    seconds = sorted(r["seconds"] for r in rows)
    lines += ["", f"Median {seconds[len(seconds) // 2]:.2f} s, slowest {seconds[-1]:.2f} s. Target: under "
              f"{TARGET_SECONDS:.0f} s per source: **{'met' if not over else 'not met for ' + ', '.join(over)}**."]
    return "\n".join(lines) + "\n"


def main() -> None:
    from examples import DEMO_CONFIG
    from flows.config import load_config

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG)
    args = parser.parse_args()
    config = load_config(args.config)
    rows = [timed_check(args.config, source.id) for source in config.sources]
    header = {"at": datetime.now(UTC).replace(microsecond=0).isoformat(), "cpus": os.cpu_count(),
              "python": platform.python_version(), "config": str(args.config.name), "target_seconds": TARGET_SECONDS}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "check.json").write_text(json.dumps({**header, "sources": rows}, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "check.md").write_text(results_markdown(rows, header), encoding="utf-8")
    print(results_markdown(rows, header))


if __name__ == "__main__":
    main()
