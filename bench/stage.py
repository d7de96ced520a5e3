"""CPU of the sources phase without Prefect: read and stage every source of a generated map in this one process,
with the functions a refresh's source task and `ism check` use (sources.extract, flows/staging.py), and report the
CPU of each step per source (read, steps, standardise, validate, write) and in total. With `--profile` the run is
also profiled (cProfile) and its top functions listed. With `--keep DIR` the staged tables and rejects are kept,
so two versions of the code can be compared table by table.

    python -m bench.stage --size M [--profile] [--keep build/stage-before]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import pstats
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.run import generated_config

STEPS = ("read", "identifiers", "steps", "standardise", "validate", "write", "other")
# (module, attribute, step): the functions whose CPU, less that of the steps they call, a step is
TIMED = (
    ("sources.base", "extract", "read"),
    ("flows.staging", "read_frame", "write"),
    ("flows.staging", "write_frame", "write"),
    ("flows.staging", "parquet_columns", "write"),
    ("flows.staging", "identifier_rejects", "identifiers"),
    ("transforms.staging", "shaped", "steps"),
    ("transforms.staging", "staged_table", "standardise"),
    ("transforms.staging", "staged_records_sql", "standardise"),
    ("transforms.standardise", "_validated", "validate"),
    ("transforms.staging_sql", "_validated_rows", "validate"),
)


class StepClock:
    """CPU seconds (process time: DuckDB's and Arrow's threads count) per step, each step's own: a step called
    inside another is taken out of the outer one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list[Any]] = []

    def timed(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([step, time.process_time(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                name, started, inner = self._stack.pop()
                spent = time.process_time() - started
                self.seconds[name] += spent - inner
                if self._stack:
                    self._stack[-1][2] += spent
        return wrapper


@contextmanager
def clocked(clock: StepClock) -> Iterator[None]:
    """The TIMED functions wrapped by `clock` while inside, restored after."""
    import importlib

    saved = []
    for module_name, attribute, step in TIMED:
        module = importlib.import_module(module_name)
        if hasattr(module, attribute):
            saved.append((module, attribute, getattr(module, attribute)))
            setattr(module, attribute, clock.timed(step, getattr(module, attribute)))
    try:
        yield
    finally:
        for module, attribute, original in saved:
            setattr(module, attribute, original)


def source_seconds(config_path: Path, work: Path) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Per source, CPU seconds of each step and in total; and rows read per source."""
    import sources
    from expectations.errors import SourceError
    from flows.config import load_config
    from flows.outcomes import ExtractOutcome
    from flows.staging import raw_outcome, stage_source

    config = load_config(config_path)
    seconds: dict[str, dict[str, float]] = {}
    rows: dict[str, int] = {}
    for source in config.sources:
        clock = StepClock()
        started = time.process_time()
        with clocked(clock):
            try:  # an unreadable source is staged as a blocked one, as `ism check` stages it
                result = sources.base.extract(sources.kind_named(source.kind), config.request(source))
                extracted = raw_outcome(config, source, result, str(work))
            except SourceError as error:
                extracted = ExtractOutcome(source_id=source.id, error=str(error))
            outcome = stage_source(str(config_path), extracted, str(work))
        total = time.process_time() - started
        seconds[source.id] = {**{s: clock.seconds.get(s, 0.0) for s in STEPS[:-1]}, "total": total}
        seconds[source.id]["other"] = total - sum(clock.seconds.values())
        rows[source.id] = outcome.rows_read
    return seconds, rows


def report(size: str, seconds: dict[str, dict[str, float]], rows: dict[str, int], wall: float,
           profile: str | None) -> str:
    """The results as Markdown: totals per step, then the costliest sources."""
    columns = [*STEPS, "total"]
    totals = {c: sum(s[c] for s in seconds.values()) for c in columns}
    lines = [f"# Staging CPU, size {size}", "",
             f"{len(seconds)} sources, {sum(rows.values()):,} rows read; {wall:.1f} s wall, "
             f"{totals['total']:.1f} s CPU (process time, one process, no Prefect; load average "
             f"{os.getloadavg()[0]:.1f}).", "",
             "| step | CPU s |", "|---|---:|", *[f"| {c} | {totals[c]:.2f} |" for c in columns], "",
             "| source | rows | " + " | ".join(columns) + " |", "|---|---:|" + "---:|" * len(columns)]
    for source_id, spent in sorted(seconds.items(), key=lambda item: -item[1]["total"]):
        lines.append(f"| {source_id} | {rows[source_id]:,} | " + " | ".join(f"{spent[c]:.2f}" for c in columns)
                     + " |")
    if profile:
        lines += ["", "## Profile (cProfile, top by cumulative and by own time)", "", "```", profile, "```"]
    return "\n".join(lines) + "\n"


def differences(before: Path, after: Path) -> list[str]:
    """The Parquet files of two kept work areas that differ (schema, metadata or any value), or exist in one only."""
    import pyarrow.parquet as pq

    names = {p.relative_to(before) for p in before.rglob("*.parquet")} | {
        p.relative_to(after) for p in after.rglob("*.parquet")}
    found = []
    for name in sorted(names):
        if not (before / name).is_file() or not (after / name).is_file():
            found.append(f"{name}: in one work area only")
        elif not pq.read_table(before / name).equals(pq.read_table(after / name), check_metadata=True):
            found.append(f"{name}: differs")
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CPU of reading and staging every source, per step.")
    parser.add_argument("--size", choices=("S", "M", "L"), default="M")
    parser.add_argument("--config", type=Path, help="stage this map config instead of a generated size")
    parser.add_argument("--profile", action="store_true", help="also profile the run with cProfile")
    parser.add_argument("--keep", type=Path, help="keep the work area (staged tables, rejects) in this folder")
    parser.add_argument("--compare", type=Path, help="then compare the kept tables with those kept in this folder")
    parser.add_argument("--out", type=Path, help="write the Markdown report here (default: print it)")
    args = parser.parse_args(argv)

    config_path = args.config.resolve() if args.config else generated_config(args.size, regenerate=False)[0]
    work = Path(tempfile.mkdtemp(prefix="ism-stage-")) if args.keep is None else args.keep
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    import flows.staging  # noqa: F401  (imports out of the timings)

    profiler = cProfile.Profile(time.process_time) if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    seconds, rows = source_seconds(config_path, work)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    shown = None
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(40)
        shown = text.getvalue()
    markdown = report(str(args.config or args.size), seconds, rows, wall, shown)
    if args.out:
        args.out.write_text(markdown, encoding="utf-8")
    print(markdown)
    if args.compare and args.keep:
        found = differences(args.compare, args.keep)
        print("\n".join(found) or f"every staged table and reject file equals {args.compare}'s")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
