"""Where a full refresh spends its time: run `refresh_map` in this process on a fresh publish root with a CPU-time
profiler (cProfile on `time.thread_time`) in every thread. The per-source tasks run one at a time (one worker
thread): with Prefect's default of a thread per task, threads contending for the GIL burn CPU that the profiler
would pin on whatever call was waiting. Writes SIZE.profile.md: the CPU of each step, CPU by package, and the top
functions. (The Prefect server ism starts beside itself is another process: its CPU is not in the profile; the
runner's prefect_* figures measure it.)

    python -m bench.profile --size M
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.run import BUILD, RESULTS

Key = tuple[str, int, str]  # (file, line, function) as pstats keys them

# Each step: the functions whose cumulative CPU it is (summed over threads and calls).
STEPS: list[tuple[str, str, str]] = [  # step, file suffix, function
    ("extract: read partner files (sources/)", "sources/base.py", "extract"),
    ("stage: standardise + validate (pandas or DuckDB)", "flows/stage.py", "staged_from_parquet"),
    ("  of which pandera validation", "transforms/standardise.py", "_validated"),
    ("stage task in all (incl. Parquet in/out)", "flows/stage.py", "stage_source"),
    ("extract task in all (incl. Parquet out, hashing)", "flows/stage.py", "extract_source"),
    ("consolidate (DuckDB)", "flows/gate.py", "consolidate_sources"),
    ("  of which disclosure control", "transforms/disclosure.py", "suppressed_tables"),
    ("check (consolidated checks, quality report data)", "flows/gate.py", "check_quality"),
    ("publish task in all", "flows/refresh.py", "publish_version"),
    ("  graph (networkx)", "transforms/graph.py", "service_graph"),
    ("  dataset tables (Parquet + CSV)", "outputs/dataset.py", "write_tables"),
    ("  artefact: dataset (DuckDB file, datapackage)", "outputs/dataset.py", "dataset_artefact"),
    ("  artefact: poster (Graphviz)", "outputs/poster.py", "poster_artefact"),
    ("  artefact: spreadsheet", "outputs/spreadsheet.py", "spreadsheet_artefact"),
    ("  artefact: analyses", "outputs/analysis.py", "analysis_artefact"),
    ("  artefact: changelog", "outputs/changelog.py", "changelog_artefact"),
    ("  artefact: quality report", "outputs/quality_report.py", "quality_artefact"),
    ("  artefact: GX Data Docs (waits for the checks worker)", "outputs/quality_report.py", "gx_site_artefact"),
    ("  artefact: interactive HTML", "outputs/interactive.py", "interactive_artefact"),
]
PACKAGES = ("prefect", "pandas", "pandera", "great_expectations", "pyarrow", "numpy", "networkx", "pygraphviz",
            "openpyxl", "pydantic", "duckdb", "sqlalchemy", "httpx", "anyio", "jinja2", "typer")
OWN = ("flows", "sources", "transforms", "outputs", "expectations")
# Blocking waits: a waiting thread's CPU clock showed as much "CPU" in them as all the other threads' work
# together (profiled total minus process CPU), so they are left out of the totals as artefacts of the profiler.
WAITS = ("<method 'acquire' of '_thread.lock' objects>", "<method 'acquire' of '_thread.RLock' objects>",
         "<method 'poll' of 'select.epoll' objects>", "<built-in method time.sleep>")


def package_of(key: Key) -> str:
    """Which package a profiled function belongs to (C functions by the name of their type or module)."""
    file, _, name = key
    if file == "~":
        for package in PACKAGES:
            if package in name.lower():
                return package
        if "graphviz" in name.lower():
            return "pygraphviz"
        return "C builtins (read, write, hash, compile, ...)"
    parts = Path(file).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    for own in OWN:
        if f"/{own}/" in file:
            return f"ism: {own}/"
    return "python stdlib"


class ThreadProfiles:
    """A thread_time cProfile in this thread and in every thread started while installed."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def _start(self, *_: Any) -> None:
        sys.setprofile(None)  # the first event in a new thread: hand over to a profiler of its own
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(profile)
        profile.enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start)
        self._start()
        return self

    def __exit__(self, *_: Any) -> None:
        threading.setprofile(None)
        self.profiles[0].disable()

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


def cumulative(stats: pstats.Stats, suffix: str, function: str) -> float | None:
    found = [v[3] for k, v in stats.stats.items() if k[0].endswith(suffix) and k[2] == function]  # type: ignore[attr-defined]
    return sum(found) if found else None


def report(size: str, stats: pstats.Stats, wall: float, cpu: float, timings: dict[str, float], top: int) -> str:
    entries: dict[Key, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    waits = sum(v[2] for k, v in entries.items() if k[0] == "~" and k[2] in WAITS)
    profiled = sum(v[2] for v in entries.values()) - waits
    by_package: dict[str, float] = defaultdict(float)
    for key, value in entries.items():
        if not (key[0] == "~" and key[2] in WAITS):
            by_package[package_of(key)] += value[2]
    lines = [
        f"# Profile of a full refresh, size {size}",
        "",
        f"In-process `refresh_map` on a fresh publish root: {wall:,.1f} s wall, {cpu:,.1f} s CPU of this process "
        f"({profiled:,.1f} s profiled over its threads, leaving out {waits:,.1f} s the profiler put on blocking waits; "
        "cProfile on thread CPU time, one worker thread for the per-source tasks; the profiler's own cost "
        "inflates call-heavy Python code, so read the shares, not the seconds).",
        "",
        "## CPU by step (cumulative over threads and calls)",
        "",
        "| step | CPU s | share of profiled CPU |",
        "|---|---:|---:|",
    ]
    for label, suffix, function in STEPS:
        seconds = cumulative(stats, suffix, function)
        if seconds is not None:
            lines.append(f"| {label} | {seconds:,.1f} | {seconds / profiled:.0%} |")
    lines += ["", "RunResult.timings of this run (wall; task sums overlap):", "",
              "| step | seconds |", "|---|---:|", *[f"| {k} | {v:,.2f} |" for k, v in timings.items()],
              "", "## CPU by package (self time)", "", "| package | CPU s | share |", "|---|---:|---:|"]
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:20]:
        lines.append(f"| {package} | {seconds:,.1f} | {seconds / profiled:.0%} |")
    for title, index in (("cumulative", 3), ("self", 2)):
        lines += ["", f"## Top {top} functions by {title} CPU", "", "| function | calls | self s | cumulative s |",
                  "|---|---:|---:|---:|"]
        kept = [(k, v) for k, v in entries.items() if not (k[0] == "~" and k[2] in WAITS)]
        ranked = sorted(kept, key=lambda item: -item[1][index])[:top]
        for (file, line, name), (_, calls, self_time, cum_time, _) in ranked:
            where = name if file == "~" else f"{_short(file)}:{line} {name}"
            lines.append(f"| `{where}` | {calls:,} | {self_time:,.2f} | {cum_time:,.2f} |")
    lines += deepcopy_callers(entries)
    return "\n".join(lines) + "\n"


def deepcopy_callers(entries: dict[Key, tuple[int, int, float, float, Any]], top: int = 10) -> list[str]:
    """Who calls `copy.deepcopy` from outside the copy module: its cumulative time is spread over many callers."""
    calls: dict[Key, tuple[int, float]] = {}
    for (file, _, name), value in entries.items():
        if file.endswith("copy.py") and name == "deepcopy":
            for caller, edge in value[4].items():
                if not caller[0].endswith("copy.py"):
                    count, seconds = calls.get(caller, (0, 0.0))
                    calls[caller] = (count + edge[1], seconds + edge[3])
    if not calls:
        return []
    lines = ["", "## Callers of copy.deepcopy (outside the copy module)", "", "| caller | calls | cumulative s |",
             "|---|---:|---:|"]
    for (file, line, name), (count, seconds) in sorted(calls.items(), key=lambda item: -item[1][1])[:top]:
        lines.append(f"| `{_short(file)}:{line} {name}` | {count:,} | {seconds:,.2f} |")
    return lines


def _short(file: str) -> str:
    parts = Path(file).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    return "/".join(parts[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile one full refresh of a benchmark map, in process.")
    parser.add_argument("--size", default="M")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    config = BUILD / args.size / "ism.toml"
    if not config.is_file():
        sys.exit(f"bench: {config} not found; run `make bench SIZE={args.size}` (or python -m bench.generate) first")
    root = BUILD / "runs" / args.size / "profile"
    shutil.rmtree(root, ignore_errors=True)
    os.environ["PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS"] = "1"
    from flows.environment import prepare_prefect

    prepare_prefect()  # as the `ism` entry point does, before Prefect is imported
    from flows.refresh import refresh_map  # imported before timing: start-up is measured by the runner

    cpu_before, started = time.process_time(), time.perf_counter()
    with ThreadProfiles() as profiles:
        result = refresh_map(str(config), str(root))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    stats = profiles.stats()
    stats.dump_stats(str(BUILD / "runs" / args.size / "profile.pstats"))
    path = RESULTS / f"{args.size}.profile.md"
    path.write_text(report(args.size, stats, wall, cpu, result.timings, args.top), encoding="utf-8")
    print(f"profile {args.size}: {result.status} in {wall:.1f}s wall, {cpu:.1f}s CPU; {path}")


if __name__ == "__main__":
    main()
