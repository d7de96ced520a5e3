"""Hostile sizes at the default limits: each case is read by `sources.extract` in a fresh process (as a refresh's
source task reads it), and the process's peak memory (ru_maxrss) is recorded with the refusal it met.

    python -m bench.hostile                  # writes bench/results/hostile.md
    python -m bench.hostile --inflated-gib 2 # the size the gzip case inflates to (default 2)

Files are generated in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "hostile.md"
READ_ONE = """
import json, resource, sys, time
from pathlib import Path
from expectations.errors import SourceError
from sources import extract, kind_named
from sources.base import SourceRequest
from sources.limits import SourceLimits
path, options = Path(sys.argv[1]), json.loads(sys.argv[2])
kind = kind_named(options.pop("kind"))
request = SourceRequest("hostile", path, "services", kind.options(**options), path.parent, SourceLimits())
started = time.perf_counter()
try:
    read = extract(kind, request)
    outcome = f"read {read.provenance.rows:,} rows"
except SourceError as error:
    outcome = f"refused: {error}"
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def gzip_bomb(path: Path, inflated: int) -> None:
    """A gzip CSV of one repeated row that inflates to `inflated` bytes (written a MiB at a time)."""
    block = b"S0001,Emergency Department,URG\n" * (1024**2 // 31)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b"code,name,type\n")
        for _ in range(inflated // len(block)):
            out.write(block)


def long_field(path: Path, length: int) -> None:
    """A CSV whose second service's name is `length` characters (a 12 MB name, say)."""
    path.write_bytes(b"code,name,type\nED,Emergency Department,URG\nAMU," + b"x" * length + b",ACU\n")


def unclosed_quote(path: Path, rows: int) -> None:
    """A CSV whose quote opened on line 3 is never closed: the rest of the file would be one field."""
    path.write_bytes(b"code,name,type\nED,Emergency,URG\nAMU,\"Acute,ACU\n" + b"S1,Service,URG\n" * rows)


def measured(path: Path, options: dict[str, str]) -> dict[str, object]:
    """Read one file in a fresh process: what happened, seconds, and that process's peak resident memory."""
    done = subprocess.run([sys.executable, "-c", READ_ONE, str(path), json.dumps(options)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inflated-gib", type=float, default=2.0)
    args = parser.parse_args()
    inflated = int(args.inflated_gib * 1024**3)
    cases: list[tuple[str, str, Callable[[Path], None], dict[str, str]]] = [
        ("unclosed quote, 1M rows after it", "quote.csv", lambda p: unclosed_quote(p, 1_000_000), {"kind": "csv"}),
        ("12 MB service name", "long.csv", lambda p: long_field(p, 12 * 1024**2), {"kind": "csv"}),
        (f"gzip inflating to {args.inflated_gib:g} GiB", "bomb.csv.gz", lambda p: gzip_bomb(p, inflated),
         {"kind": "csv", "compression": "gzip"}),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ism-hostile-") as folder:
        for label, name, write, options in cases:
            path = Path(folder) / name
            started = time.perf_counter()
            write(path)
            written = time.perf_counter() - started
            result = measured(path, options)
            rows.append((label, path.stat().st_size, written, result))
            path.unlink()
            print(label, result, flush=True)
    lines = ["# Hostile inputs at the default limits", "",
             f"`python -m bench.hostile` on {os.cpu_count()} cores; each file read by `sources.extract` in a fresh "
             "process (the peak is that process's resident memory, Python and imports included).", "",
             "| case | file on disk | peak memory | read in | outcome |", "|---|---:|---:|---:|---|"]
    for label, size, _, result in rows:
        peak = f"{result['peak_mib']:,.0f} MiB"
        outcome = str(result["outcome"]).replace("|", "\\|").replace(str(Path(tempfile.gettempdir())), "<tmp>")
        lines.append(f"| {label} | {size / 1024**2:,.1f} MiB | {peak} | {result['seconds']:.1f} s | {outcome} |")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(RESULTS)


if __name__ == "__main__":
    main()
