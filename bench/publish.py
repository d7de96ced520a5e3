"""What each artefact of the publish step costs: rebuild every artefact of a published version in this process,
one after another, timing CPU and wall per artefact. The inputs are read back from the version itself (its tables,
quality summary and manifest), so one refresh of the map is needed first:

    python -m bench.generate --size M && ism refresh build/bench/M/ism.toml --publish-root build/bench/M-pub
    python -m bench.publish --size M        # S: the demo map (`make demo`)

Each artefact is timed after one untimed warm-up run (a refresh has imported GX, igraph and Graphviz before it
publishes); of `--repeat` runs the one with the least CPU is reported. Appends a section to
bench/results/publish.md (`--label` names it). The version is its own previous version (so the change-list and
changelog do their full comparison), and nothing is committed: the staging folder is deleted. The poster's layout is
the one the map's private area keeps for this version's shape, as a refresh whose numbers alone changed finds it.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.run import RESULTS

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = {"S": ROOT / "build/maps/glenmuir-unscheduled-care", "M": ROOT / "build/bench/M-pub/bench-m",
            "L": ROOT / "build/bench/L-pub/bench-l"}
CONFIGS = {"S": ROOT / "examples/demo/ism.toml", "M": ROOT / "build/bench/M/ism.toml",
           "L": ROOT / "build/bench/L/ism.toml"}
REPORT = RESULTS / "publish.md"


def cpu_seconds() -> float:
    """CPU of this process and of its finished children (the poster's Graphviz layouts run as subprocesses)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def timed(timings: dict[str, tuple[float, float]], step: str) -> Iterator[None]:
    """Add the wall and CPU seconds (cpu_seconds) of the block to `timings[step]`."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    before = timings.get(step, (0.0, 0.0))
    timings[step] = (before[0] + time.perf_counter() - wall, before[1] + cpu_seconds() - cpu)


def version_inputs(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any], dict[str, Any]]:
    """The tables, quality summary and manifest of a published version, as the publish step was handed them."""
    from expectations.canonical import CANONICAL_TABLES

    tables = {table: pd.read_parquet(folder / f"{table}.parquet") for table in CANONICAL_TABLES}
    quality = json.loads((folder / "quality" / "report.json").read_text(encoding="utf-8"))
    gx = folder / "quality" / "gx" / "validation_results.json"
    if gx.is_file():
        quality["gx"] = json.loads(gx.read_text(encoding="utf-8"))
    manifest = json.loads((folder / "version.json").read_text(encoding="utf-8"))
    return tables, quality, manifest


def artefact_steps() -> list[tuple[str, Callable[[Any], Any]]]:
    """The publish step's artefacts in their order, the dataset one split into its two files."""
    from flows.publish import ARTEFACT_WRITERS
    from outputs import dataset

    steps: list[tuple[str, Callable[[Any], Any]]] = []
    for write in ARTEFACT_WRITERS:
        if write is dataset.dataset_artefact:
            steps += [("DuckDB file", lambda v: dataset.write_duckdb(v.folder / "map.duckdb", v.folder)),
                      ("datapackage.json", lambda v: dataset.write_json(v.folder / "datapackage.json",
                                                                        dataset.datapackage(v)))]
        else:
            steps.append((write.__name__.removesuffix("_artefact"), write))
    return steps


def publish_timings(size: str) -> tuple[dict[str, tuple[float, float]], dict[str, Any]]:
    """Rebuild every artefact of the size's latest version in a scratch folder; the timings and what was built."""
    from flows.config import load_config
    from flows.publish import NEEDS_ANALYSES
    from flows.refresh import _analyses, _version
    from outputs import dataset
    from outputs.store.versions import _fsync_tree

    config = load_config(str(CONFIGS[size]))
    store = config.store(str(VERSIONS[size].parent))
    folder = store.version_path(store.latest() or "")
    tables, quality, manifest = version_inputs(folder)
    timings: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as scratch:
        staging = Path(scratch) / "version"
        with timed(timings, "dataset tables (Parquet + CSV)"):
            digests = dataset.write_tables(staging, tables)
        with timed(timings, "graph and totals (computed)"):
            latest = store.latest()
            previous = store.version_path(latest) if latest else None
            version, measured = _version(config, previous, staging, "v9999", tables, manifest["sources"], quality,
                                         store.layouts)
            analyses = _analyses(config, version, measured)
        steps = artefact_steps()
        analysis_step = NEEDS_ANALYSES + 1  # the dataset writer is two steps here
        for number, (name, write) in enumerate(steps):
            if number == analysis_step:
                with timed(timings, "analyses (computed)"):
                    version.analyses.update(analyses())
            with timed(timings, name):
                write(version)
        with timed(timings, "commit (fsync of every file)"):
            _fsync_tree(staging)
        files = [p for p in staging.rglob("*") if p.is_file()]
        built = {"version": folder.name, "rows": {t: len(f) for t, f in tables.items()}, "files": len(files),
                 "bytes": sum(p.stat().st_size for p in files),
                 "hash_equal": dataset.content_hash(digests, manifest["inputs"]["config_digest"])
                 == manifest["content_hash"]}
    return timings, built


def report_section(size: str, label: str, timings: dict[str, tuple[float, float]], built: dict[str, Any]) -> str:
    """One markdown section: the wall and CPU seconds of each artefact and their total."""
    lines = [f"### {size}, {label} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", "",
             f"Version {built['version']} ({', '.join(f'{t} {n:,}' for t, n in built['rows'].items())}); "
             f"{built['files']} files, {built['bytes'] / 1e6:.1f} MB; content hash equal to the published one: "
             f"{built['hash_equal']}.", "", "| artefact | wall s | CPU s |", "|---|---:|---:|"]
    lines += [f"| {step} | {wall:.2f} | {cpu:.2f} |" for step, (wall, cpu) in timings.items()]
    lines.append(f"| **total** | **{sum(w for w, _ in timings.values()):.2f}** | "
                 f"**{sum(c for _, c in timings.values()):.2f}** |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Time each artefact of the publish step, in one process.")
    parser.add_argument("--size", choices=sorted(VERSIONS), default="S")
    parser.add_argument("--label", default="now", help="what this measurement is of (heads its section)")
    parser.add_argument("--repeat", type=int, default=2, help="runs; the one with the least CPU is reported")
    args = parser.parse_args()
    publish_timings(args.size)  # warm-up: a refresh has imported GX, igraph and Graphviz before it publishes
    runs = [publish_timings(args.size) for _ in range(args.repeat)]
    timings, built = min(runs, key=lambda run: sum(c for _, c in run[0].values()))
    section = report_section(args.size, args.label, timings, built)
    print(section)
    if not REPORT.exists():
        REPORT.write_text("# Publish step, per artefact\n\nWritten by `python -m bench.publish` (bench/publish.py): "
                          "every artefact of a published version rebuilt in one process.\n\n", encoding="utf-8")
    with REPORT.open("a", encoding="utf-8") as out:
        out.write("\n" + section)


if __name__ == "__main__":
    main()
