"""Hostile sizes at the default limits: each case is read by `sources.extract` in a fresh process (as a refresh's
source task reads it), and the process's peak memory (ru_maxrss) is recorded with the refusal it met.

    python -m bench.hostile                   # writes bench/results/hostile.md
    python -m bench.hostile --inflated-gib 2  # the size the gzip cases inflate to (default 2)
    python -m bench.hostile --accepted-mib 0  # leave out the genuine gzip read under the limit (default 256)

Files are generated in a temporary folder, streaming (never whole in memory), and removed afterwards.
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

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "hostile.md"
REFERRALS_HEADER = b"Referral ID,Referral Date,Referred From,Referred To,Priority,Age Band,Outcome\n"
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


def gzip_bomb(path: Path, inflated: int) -> int:
    """A gzip CSV of one repeated row that inflates to `inflated` bytes (written a MiB at a time); its size."""
    block = b"S0001,Emergency Department,URG\n" * (1024**2 // 31)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b"code,name,type\n")
        for _ in range(inflated // len(block)):
            out.write(block)
    return len(b"code,name,type\n") + inflated // len(block) * len(block)


def referral_block(rows: int, seed: int = 15) -> bytes:
    """`rows` lines of an ordinary referral log (ids, dates, service codes, categories), with `{block}` in each id
    so that every block written is different. Gzip compresses such rows 5 to 10 times, as it does real extracts."""
    rng = np.random.default_rng(seed)
    services = [f"{kind}-{n:03d}" for kind in ("GP", "DN", "AMU", "ED", "REA", "CAH", "OT") for n in range(40)]
    weights = 1 / np.arange(1, len(services) + 1)  # a few services send and receive most referrals
    pick = {name: rng.choice(len(values), rows, p=weights[:len(values)] / weights[:len(values)].sum())
            for name, values in (("from", services), ("to", services), ("priority", range(3)), ("age", range(9)),
                                 ("outcome", range(5)))}
    days, minutes = np.sort(rng.integers(0, 365, rows)), rng.integers(0, 24 * 60, rows)  # in date order
    priorities, ages = ("routine", "urgent", "emergency"), ("0-17", "18-29", "30-44", "45-64", "65-74", "75-84",
                                                           "85+", "unknown", "not recorded")
    outcomes = ("seen", "declined", "waiting", "redirected", "discharged")
    lines = [f"R{{block}}{i:06d},{np.datetime64('2025-04-01') + int(days[i])} {minutes[i] // 60:02d}:"
             f"{minutes[i] % 60:02d},{services[pick['from'][i]]},{services[pick['to'][i]]},"
             f"{priorities[pick['priority'][i]]},{ages[pick['age'][i]]},{outcomes[pick['outcome'][i]]}\n"
             for i in range(rows)]
    return "".join(lines).encode()


def ordinary_gzip(path: Path, inflated: int, compresslevel: int = 6) -> int:
    """A gzip CSV of ordinary referral rows that inflates to about `inflated` bytes, written a block at a time
    (gzip's default level, as partners' tools write it); its inflated size."""
    block = referral_block(65_536)
    with gzip.open(path, "wb", compresslevel=compresslevel) as out:
        out.write(REFERRALS_HEADER)
        written, number = len(REFERRALS_HEADER), 0
        while written < inflated:
            data = block.replace(b"{block}", b"%05d" % number)
            out.write(data)
            written, number = written + len(data), number + 1
    return written


def long_field(path: Path, length: int) -> int:
    """A CSV whose second service's name is `length` characters (a 12 MB name, say); its size."""
    path.write_bytes(b"code,name,type\nED,Emergency Department,URG\nAMU," + b"x" * length + b",ACU\n")
    return path.stat().st_size


def unclosed_quote(path: Path, rows: int) -> int:
    """A CSV whose quote opened on line 3 is never closed: the rest of the file would be one field; its size."""
    path.write_bytes(b"code,name,type\nED,Emergency,URG\nAMU,\"Acute,ACU\n" + b"S1,Service,URG\n" * rows)
    return path.stat().st_size


def measured(path: Path, options: dict[str, str]) -> dict[str, object]:
    """Read one file in a fresh process: what happened, seconds, and that process's peak resident memory."""
    done = subprocess.run([sys.executable, "-c", READ_ONE, str(path), json.dumps(options)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


Case = tuple[str, str, Callable[[Path], int], dict[str, str]]  # label, file name, writer (-> inflated bytes), options


def cases(inflated: int, accepted: int) -> list[Case]:
    """What is generated and read: label, file name, writer, the source's options."""
    gzip_csv = {"kind": "csv", "compression": "gzip"}
    gib = f"{inflated / 1024**3:g} GiB"
    found: list[Case] = [
        ("unclosed quote, 1M rows after it", "quote.csv", lambda p: unclosed_quote(p, 1_000_000), {"kind": "csv"}),
        ("12 MB service name", "long.csv", lambda p: long_field(p, 12 * 1024**2), {"kind": "csv"}),
        (f"gzip bomb (one repeated row) inflating to {gib}", "bomb.csv.gz", lambda p: gzip_bomb(p, inflated),
         gzip_csv),
        (f"gzip of ordinary referral rows inflating to {gib}", "referrals.csv.gz",
         lambda p: ordinary_gzip(p, inflated), gzip_csv),
    ]
    if accepted:
        found.append((f"gzip of ordinary referral rows inflating to {accepted / 1024**2:g} MiB (a genuine extract "
                      "under the limit)", "genuine.csv.gz", lambda p: ordinary_gzip(p, accepted), gzip_csv))
    return found


def results_text(rows: list[tuple[str, int, int, float, dict[str, object]]]) -> str:
    """The results page: one line per case."""
    from sources.limits import SourceLimits, size_text

    limits = SourceLimits()
    lines = ["# Hostile inputs at the default limits", "",
             f"`python -m bench.hostile` on {os.cpu_count()} cores at the default limits (max_bytes = "
             f"{size_text(limits.max_bytes)}, max_rows = {limits.max_rows:,}, max_field_length = "
             f"{limits.max_field_length:,}); each file is generated streaming, read by `sources.extract` in a fresh "
             "process (the peak is that process's resident memory, Python and imports included), then deleted.",
             "", "| case | file on disk | inflates to | written in | peak memory | read in | outcome |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for label, size, inflated, written, result in rows:
        peak = f"{result['peak_mib']:,.0f} MiB"
        outcome = str(result["outcome"]).replace("|", "\\|").replace(str(Path(tempfile.gettempdir())), "<tmp>")
        lines.append(f"| {label} | {size_text(size)} | {size_text(inflated)} ({inflated / size:,.1f}x) | "
                     f"{written:.0f} s | {peak} | {result['seconds']:.1f} s | {outcome} |")
    baseline = min(float(str(result["peak_mib"])) for *_, result in rows)  # Python and the imports
    refusing = max(float(str(r["peak_mib"])) for *_, r in rows if str(r["outcome"]).startswith("refused"))
    lines += ["", f"Target (issue 15: each refused in a process under 1 GiB): "
              f"{'met' if refusing < 1024 else 'NOT met'}, the largest refusing process peaked at {refusing:,.0f} MiB."]
    for _, _, inflated, _, result in rows:
        if str(result["outcome"]).startswith("read"):
            held = (float(str(result["peak_mib"])) - baseline) * 1024**2 / inflated
            lines += ["", f"Reading a genuine extract ({size_text(inflated)} inflated) held {held:.1f} times that "
                      "size above the "
                      f"{baseline:,.0f} MiB of Python and the imports: at max_bytes = {size_text(limits.max_bytes)} a "
                      f"read needs about {size_text(baseline * 1024**2 + held * limits.max_bytes)}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inflated-gib", type=float, default=2.0)
    parser.add_argument("--accepted-mib", type=float, default=256.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ism-hostile-") as folder:
        for label, name, write, options in cases(int(args.inflated_gib * 1024**3), int(args.accepted_mib * 1024**2)):
            path = Path(folder) / name
            started = time.perf_counter()
            inflated = write(path)
            written = time.perf_counter() - started
            result = measured(path, options)
            rows.append((label, path.stat().st_size, inflated, written, result))
            path.unlink()
            print(label, result, flush=True)
    RESULTS.write_text(results_text(rows), encoding="utf-8")
    print(RESULTS)


if __name__ == "__main__":
    main()
