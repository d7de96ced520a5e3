"""The benchmark runner (`make bench SIZE=S|M|L`): generate the size's map if needed, then, in one run so the
ratios hold, measure the bare DuckDB limit, ism's full / nothing-changed / one-source-changed refreshes and
Prefect's own start-up and per-task cost, each as a fresh child process. Results go to bench/results/SIZE.json
and SIZE.md, and the summary table into the README between the `bench:start` / `bench:end` markers.

`--prefect server` (the default) measures ism as a national team runs it: against one long-running Prefect server
(bench/prefect_server.py) started for the run, whose start-up and memory are reported apart from ism's.
`--prefect ephemeral` lets each ism process start Prefect's temporary server, as a bare `ism refresh` does. Either
way an empty flow is timed in both set-ups, so the results show what the server saves per process.

`--rounds N` (`make bench ROUNDS=N`) measures the figures the targets compare (the limit, an empty flow in the run's
mode, the full, nothing-changed and one-changed refreshes) N times one after another: on a shared machine whose
speed drifts by a third within minutes, each ratio is then the median of the rounds', and the round with the
median headline ratio is the one reported in detail.

Children run ism from a copy of its packages taken when the run starts (build/bench/code), so that one run
measures one version of the code even while the working tree is being edited; with Python's bytecode cache on
(in build/bench/pycache), as on any normal installation, Prefect's
home in build/bench/prefect and 180 s for its temporary server to start (not 20: a busy machine needs more); a
warm-up refresh of a tiny map fills both before anything is timed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.generate import CHANGED_SOURCE, SIZES, changed_extract, generate
from bench.measure import Measured, run_measured
from bench.prefect_server import PrefectServer, ServerStartError, prefect_server

# the working tree (children run from a copy of the code, and are told where the tree is)
ROOT = Path(os.environ.get("ISM_BENCH_ROOT") or Path(__file__).resolve().parents[1])
BUILD = ROOT / "build" / "bench"
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
ISM = ROOT / ".venv" / "bin" / "ism"
PREFECT = ROOT / ".venv" / "bin" / "prefect"
PREFECT_MODES = ("server", "ephemeral")
GIB = 1024**3
CODE = ("flows", "sources", "transforms", "outputs", "expectations", "bench")  # copied for each run
TARGETS = {"full_over_limit": 3.0, "unchanged_over_full": 0.10, "one_changed_over_full": 0.25, "peak_rss_gib_L": 4.0,
           "render_seconds": 10.0, "full_over_empty_flow_S": 2.0}
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def code_snapshot() -> tuple[Path, str]:
    """A copy of ism's packages for every child of this run, and its hash: the figures of one run measure one
    version of the code, and ism's source cache (keyed on a hash of its own code) is not invalidated by someone
    editing the working tree meanwhile."""
    target = BUILD / "code"
    shutil.rmtree(target, ignore_errors=True)
    digest = hashlib.sha256()
    for package in CODE:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "results"))
        for file in sorted((target / package).rglob("*.py")):
            digest.update(file.relative_to(target).as_posix().encode() + b"\0" + file.read_bytes())
    return target, digest.hexdigest()


def child_environment(code: Path) -> dict[str, str]:
    """The children's environment: the code snapshot first on the path, bytecode cached outside the tree,
    Prefect's home of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code)
    env["ISM_BENCH_ROOT"] = str(ROOT)
    env["ISM_WORK_DIR"] = str(BUILD / "work")
    env["PYTHONPYCACHEPREFIX"] = str(BUILD / "pycache")
    env["PREFECT_HOME"] = str(BUILD / "prefect")
    env.pop("PREFECT_API_URL", None)  # the run chooses the server (or none), never the caller's shell
    # Prefect gives its temporary server 20 s to start; on a busy machine that is too short and the run fails
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    return env


def generated_config(size: str, regenerate: bool) -> tuple[Path, float]:
    """The size's map config, generated (and timed) unless an up-to-date one is there."""
    out = BUILD / size
    stamp = out / "generated.json"
    fingerprint = {"generator": hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()}
    if not regenerate and stamp.is_file() and json.loads(stamp.read_text()) == fingerprint:
        return out / "ism.toml", 0.0
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    config = generate(SIZES[size], out)
    seconds = time.perf_counter() - started
    stamp.write_text(json.dumps(fingerprint))
    return config, seconds


def measured(label: str, command: list[str], env: dict[str, str]) -> Measured:
    print(f"  {label} ...", end="", flush=True)
    cap = float(env.get("ISM_BENCH_MEMORY_CAP_GIB", "0")) * GIB
    result = run_measured(command, env=env, cwd=Path(env["PYTHONPATH"]), memory_cap_bytes=int(cap) or None)
    print(f" {result.wall_seconds:.1f}s wall, {result.cpu_seconds:.1f}s cpu, "
          f"{result.peak_tree_rss_bytes / GIB:.2f} GiB", flush=True)
    if result.killed_over_memory:
        raise SystemExit(f"bench: {label} passed the memory cap of {cap / GIB:.0f} GiB and was killed after "
                         f"{result.wall_seconds:.0f} s; try --max-workers 2 (or raise --memory-cap-gib)")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"bench: {label} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result


def figure(result: Measured) -> dict[str, Any]:
    document = asdict(result)
    del document["stdout"], document["stderr"]
    return document


def last_json(text: str) -> dict[str, Any]:
    """The JSON document a child printed last on stdout."""
    start = text.find("{")
    return json.loads(text[start:]) if start >= 0 else {}


def fresh_private_area(config: Path) -> None:
    """Remove the map's private area: the source cache an earlier bench run of the same code left there would
    otherwise turn the full refresh into a cached one."""
    private_root = tomllib.loads(config.read_text(encoding="utf-8")).get("private_root", ".ism")
    shutil.rmtree(config.parent / private_root, ignore_errors=True)


def refresh(label: str, config: Path, root: Path, env: dict[str, str]) -> tuple[Measured, dict[str, Any]]:
    result = measured(label, [str(ISM), "refresh", str(config), "--publish-root", str(root), "--json"], env)
    return result, last_json(result.stdout)


CELLS_SQL = """
SELECT count(*) FILTER (WHERE i.k IS NULL) AS only_in_limit,
       count(*) FILTER (WHERE l.k IS NULL) AS only_in_ism,
       count(*) FILTER (WHERE i.k IS NOT NULL AND l.k IS NOT NULL) AS both,
       count(*) FILTER (WHERE i.value IS NOT NULL AND l.value IS NOT NULL AND i.value <> l.value) AS values_differ,
       count(*) FILTER (WHERE i.value IS NOT NULL AND l.k IS NOT NULL AND l.value IS NULL) AS published_but_small,
       count(*) FILTER (WHERE i.k IS NOT NULL AND i.value IS NULL AND l.value IS NOT NULL) AS secondary_suppressed,
       sum(i.value) AS ism_value, sum(l.value) FILTER (WHERE i.value IS NOT NULL) AS limit_value_where_published
FROM (SELECT {key} AS k, value FROM read_parquet($ism)) i
FULL JOIN (SELECT {key} AS k, value FROM read_parquet($limit)) l ON i.k = l.k
"""
CELL_KEYS = {  # constants: the cell key of each table, the same in both
    "activity": "(service_id, period_start::DATE, measure, source_id)",
    "flows": "(from_service_id, to_service_id, period_start::DATE, measure, source_id)",
}


def limit_check(version: Path, limit: Path) -> dict[str, Any]:
    """Does the limit compute what ism published? Cell by cell: the same cells (service or pair, month, measure,
    source), the same value wherever both publish one; ism may hide more cells than the limit (its secondary
    suppression), never fewer. And the same services."""
    import duckdb

    with duckdb.connect() as con:
        tables: dict[str, Any] = {}
        for table, key in CELL_KEYS.items():
            row = con.execute(CELLS_SQL.format(key=key), {"ism": str(version / f"{table}.parquet"),
                                                          "limit": str(limit / f"{table}.parquet")}).fetchone()
            names = ("only_in_limit", "only_in_ism", "both", "values_differ", "published_but_small",
                     "secondary_suppressed", "ism_value", "limit_value_where_published")
            tables[table] = dict(zip(names, row or (), strict=True))
        services = con.execute(
            "SELECT count(*) FILTER (WHERE i.service_id IS NULL OR l.service_id IS NULL) FROM "
            "read_parquet($ism) i FULL JOIN read_parquet($limit) l USING (service_id)",
            {"ism": str(version / "services.parquet"), "limit": str(limit / "services.parquet")}).fetchone()
    tables["services_not_in_both"] = services[0] if services else None
    matches = tables["services_not_in_both"] == 0 and all(
        t["only_in_limit"] == 0 and t["only_in_ism"] == 0 and t["values_differ"] == 0 and t["published_but_small"] == 0
        for name, t in tables.items() if name in CELL_KEYS)
    return {"matches": matches, **tables}


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "ram_gib": round(memory / 1024**2, 1), "cpu_model": cpu,
            "load_average_at_start": list(os.getloadavg())}


def versions() -> dict[str, Any]:
    """The versions measured, from the installed packages' metadata: importing Prefect here, in a fresh clone,
    warned that it could not create its home (the Makefile's, .ism/prefect, whose parent does not exist yet)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    packages = {name: version(name) for name in ("duckdb", "pandas", "prefect", "pyarrow")}
    return {"python": platform.python_version(), **packages, "ism_commit": git("rev-parse", "HEAD"),
            "ism_tree_modified": bool(git("status", "--porcelain", "--untracked-files=no"))}


def render_benchmark(env: dict[str, str]) -> dict[str, Any]:
    """The render benchmark (bench/render.py, another engineer's), run from the working tree so its own results
    (bench/results/render.*) land there; summarised here by its 500 services / 3,000 flows cases."""
    script = ROOT / "bench" / "render.py"
    if not script.is_file():
        return {"todo": "bench/render.py (render of 500 services / 3,000 flows) does not exist yet; "
                        "re-run make bench once it does"}
    live = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "ISM_BENCH_ROOT")}
    result = run_measured([str(PYTHON), "-m", "bench.render"], env=live, cwd=ROOT)
    if result.returncode:
        return {**figure(result), "error": result.stderr.strip()[-1000:]}
    report = json.loads((RESULTS / "render.json").read_text(encoding="utf-8"))
    cases = [{"min_flow_share": c["min_flow_share"], "flows_drawn": c["flows_drawn"],
              "layout_method": c["layout_method"], "poster_and_html_seconds": c["seconds"]["poster_and_html"]}
             for c in report.get("cases", []) if (c["services"], c["flows"]) == (500, 3000)]
    return {**figure(result), "cases_500_services_3000_flows": cases, "target_met": report.get("target_met"),
            "details": "bench/results/render.md"}


def ratio(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole else float("nan")


def beyond_empty_flow(full: Measured, full_timings: dict[str, float], empty: Measured,
                      empty_json: dict[str, Any]) -> dict[str, float]:
    """Where the full refresh's wall time goes beyond an empty Prefect flow's, both fresh processes in the same
    Prefect mode: the process outside the flow (imports, Prefect client, start-up and shutdown) beyond the empty
    flow's, and the flow call beyond the empty flow call; the flow call's phases, and its rest (the flow run's
    own Prefect work, anything between phases), add up to it with the empty call: flow_call = phases + rest -
    empty_flow_call."""
    full_flow = full_timings.get("flow", float("nan"))
    empty_call = empty_json.get("flow_call_seconds", float("nan"))
    phases = {name: full_timings.get(f"{name}_wall", 0.0) for name in ("sources", "gate", "publish")}
    return {
        "total": round(full.wall_seconds - empty.wall_seconds, 2),
        "outside_the_flow": round((full.wall_seconds - full_flow) - (empty.wall_seconds - empty_call), 2),
        "flow_call": round(full_flow - empty_call, 2),
        **{f"{name}_phase": round(seconds, 2) for name, seconds in phases.items()},
        "rest_of_the_flow": round(full_flow - sum(phases.values()), 2),
        "empty_flow_call": round(empty_call, 2),
    }


def parts_of(refresh: Measured, timings: dict[str, float]) -> dict[str, float]:
    """A refresh's wall time in parts that add up to it: its process outside the flow (imports, Prefect client,
    start-up and shutdown), each phase of the flow, and the flow's rest (Prefect's flow run, between phases)."""
    flow = timings.get("flow", 0.0)
    phases = {f"{name}_phase": timings.get(f"{name}_wall", 0.0) for name in ("sources", "gate", "publish")}
    return {"outside_the_flow": round(refresh.wall_seconds - flow, 2),
            **{name: round(seconds, 2) for name, seconds in phases.items()},
            "rest_of_the_flow": round(flow - sum(phases.values()), 2)}


def missed_targets(size: str, ratios: dict[str, float], seconds: dict[str, float],
                   parts: dict[str, dict[str, float]], fixed: dict[str, float]) -> list[dict[str, Any]]:
    """Each wall-time target of `size` whose ratio (the median over the rounds) this run missed, with the reported
    round's budget in seconds, what the figure took there, by part, and the fixed costs any refresh in a fresh
    process pays before its own work (an empty Prefect flow, importing ism, and Great Expectations' import in the
    checks worker, which runs beside the others), all measured here."""
    limits = ([("full_over_empty_flow", "full", "empty_flow", "full_over_empty_flow_S")] if size == "S" else
              [("full_over_limit", "full", "limit", "full_over_limit"),
               ("unchanged_over_full", "unchanged", "full", "unchanged_over_full"),
               ("one_changed_over_full", "one_changed", "full", "one_changed_over_full")])
    # what any refresh in a fresh process pays before its own work, one after the other (GX's import runs beside)
    floor = fixed.get("empty_prefect_flow", 0.0) + fixed.get("ism_imports", 0.0)
    missed = []
    for name, key, whole, target in limits:
        if ratios[name] <= TARGETS[target]:
            continue
        budget = TARGETS[target] * seconds[whole]
        missed.append({"target": target, "ratio": ratios[name], "figure": key, "budget_seconds": round(budget, 2),
                       "seconds": round(seconds[key], 2), "over_by_seconds": round(seconds[key] - budget, 2),
                       "parts": parts.get(key, {}),
                       "fixed_costs": {name: round(value, 2) for name, value in fixed.items()},
                       "fixed_floor_seconds": round(floor, 2), "left_for_own_work_seconds": round(budget - floor, 2),
                       **_left_after_sources(budget - floor, parts.get(key, {}))})
    return missed


def _left_after_sources(left: float, parts: dict[str, float]) -> dict[str, float]:
    """What the budget leaves, after the fixed costs and the figure's own sources phase (reading what changed,
    keying the rest), for consolidating, checking and publishing the whole map, against what those took."""
    if "sources_phase" not in parts:
        return {}
    return {"left_after_sources_seconds": round(left - parts["sources_phase"], 2),
            "consolidate_check_publish_seconds": round(parts.get("gate_phase", 0.0) + parts.get("publish_phase", 0.0),
                                                       2)}


def full_over_empty_flow(result: dict[str, Any]) -> float | None:
    """The S target's ratio: the full refresh's wall over an empty Prefect flow's in the run's Prefect mode (both
    in the same run); worked out from the figures for results written before the field existed."""
    if "full_over_empty_flow" in result:
        return float(result["full_over_empty_flow"])
    empty = result.get("prefect", {}).get("empty_flow_process_seconds", {}).get(result.get("prefect_mode", "ephemeral"))
    return ratio(result["seconds"]["full"], empty) if empty else None


def started_server(env: dict[str, str]) -> contextlib.AbstractContextManager[PrefectServer]:
    """The benchmark's long-running Prefect server: its home and log under build/bench."""
    print("  starting a Prefect server (prefect server start) ...", end="", flush=True)
    return prefect_server(PREFECT, BUILD / "prefect-server", BUILD / "prefect-server.log", env)


def server_record(server: PrefectServer, serves: str) -> dict[str, Any]:
    """What the JSON keeps of the server: start-up, its own peak memory and CPU (never part of ism's figures),
    where it logged."""
    return {"serves": serves, "port": server.port, "startup_seconds": round(server.startup_seconds, 2),
            "startup_cpu_seconds": round(server.startup_cpu_seconds, 2), "cpu_seconds": round(server.cpu_seconds, 2),
            "peak_rss_bytes": server.peak_rss_bytes, "peak_rss_gib": round(server.peak_rss_bytes / GIB, 3),
            "home": str((BUILD / "prefect-server").relative_to(ROOT)), "log": str(server.log.relative_to(ROOT))}


def empty_flow(label: str, env: dict[str, str]) -> Measured:
    return measured(label, [str(PYTHON), "-m", "bench.prefect_overhead", "--tasks", "0"], env)


@dataclass(frozen=True)
class Round:
    """The figures the targets compare, measured one after another: the limit, an empty Prefect flow in the run's
    mode, and ism's full, nothing-changed and one-source-changed refreshes (with what each printed)."""

    limit: Measured
    empty: Measured
    full: Measured
    unchanged: Measured
    one: Measured
    full_json: dict[str, Any]
    unchanged_json: dict[str, Any]
    one_json: dict[str, Any]
    limit_out: Path

    def ratios(self) -> dict[str, float]:
        return {"full_over_limit": ratio(self.full.wall_seconds, self.limit.wall_seconds),
                "unchanged_over_full": ratio(self.unchanged.wall_seconds, self.full.wall_seconds),
                "one_changed_over_full": ratio(self.one.wall_seconds, self.full.wall_seconds),
                "full_over_empty_flow": ratio(self.full.wall_seconds, self.empty.wall_seconds)}


def measured_round(number: int, config: Path, scratch: Path, env: dict[str, str]) -> Round:
    """One round, into a publish root and limit output of its own (a full refresh starts with no source cache)."""
    print(f"  round {number}:", flush=True)
    limit_out, root = scratch / f"limit-{number}", scratch / f"maps-{number}"
    limit = measured("limit (bare DuckDB pass)", [str(PYTHON), "-m", "bench.limit", str(config), "--json",
                                                  "--out", str(limit_out)], env)
    empty = empty_flow("empty Prefect flow, same mode", env)
    fresh_private_area(config)
    full, full_json = refresh("ism full refresh", config, root, env)
    unchanged, unchanged_json = refresh("ism refresh, nothing changed", config, root, env)
    changed_path, line = changed_extract(config)
    original = changed_path.read_bytes()
    try:
        changed_path.write_bytes(original + line)
        one, one_json = refresh(f"ism refresh, one source changed ({CHANGED_SOURCE})", config, root, env)
    finally:
        changed_path.write_bytes(original)
    return Round(limit, empty, full, unchanged, one, full_json, unchanged_json, one_json, limit_out)


def median_round(rounds: list[Round], size: str) -> Round:
    """The round whose headline ratio (S: full over the empty flow; M and L: full over the limit) is the median
    (the lower of the two middle ones for an even count): its figures are the ones reported in detail."""
    headline = "full_over_empty_flow" if size == "S" else "full_over_limit"
    ordered = sorted(rounds, key=lambda r: r.ratios()[headline])
    return ordered[(len(ordered) - 1) // 2]


def run(size: str, regenerate: bool, render: bool, profile: bool, max_workers: int | None = None,
        memory_cap_gib: float = 12.0, prefect_mode: str = "server", rounds: int = 1) -> dict[str, Any]:
    """Every figure of one size, measured in this one run; the ism children use a long-running Prefect server
    (`prefect_mode` "server", stopped at the end whatever happens) or each start the temporary one ("ephemeral").
    The figures the targets compare are measured in `rounds` rounds; each ratio is its median over them."""
    if prefect_mode not in PREFECT_MODES:
        raise ValueError(f"prefect_mode must be one of {', '.join(PREFECT_MODES)}, not {prefect_mode!r}")
    started = datetime.now(UTC).replace(microsecond=0)
    code, code_sha256 = code_snapshot()
    ephemeral_env = child_environment(code)
    ephemeral_env["ISM_BENCH_MEMORY_CAP_GIB"] = str(memory_cap_gib)
    if max_workers:  # Prefect's thread runner starts a thread per task unless told otherwise
        ephemeral_env["PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS"] = str(max_workers)
    info = {"machine": machine(), "versions": {**versions(), "code_sha256": code_sha256}}
    print(f"bench {size}: generating ...", flush=True)
    config, generate_seconds = generated_config(size, regenerate)
    extracts = [p for p in (config.parent / "extracts").rglob("*") if p.is_file()]
    scratch = BUILD / "runs" / size
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    server_info: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        server: PrefectServer | None = None
        env = ephemeral_env
        if prefect_mode == "server":
            server = stack.enter_context(started_server(ephemeral_env))
            print(f" answered in {server.startup_seconds:.1f}s on port {server.port}", flush=True)
            env = {**ephemeral_env, "PREFECT_API_URL": server.api_url}

        print("  warming up (bytecode cache, Prefect database) on a tiny map ...", flush=True)
        warm = generate(SIZES["S"], BUILD / "warmup", scale=0.001)
        measured("warm-up refresh", [str(ISM), "refresh", str(warm), "--publish-root", str(scratch / "warm"),
                                     "--json"], env)

        sources = config.read_text(encoding="utf-8").count("[[sources]]")
        cli = measured("ism --help (imports)", [str(ISM), "--help"], env)
        if server:
            empty_flow("warm-up: empty flow, temporary server (its database)", ephemeral_env)
            empty = {"server": empty_flow("empty Prefect flow, long-running server", env),
                     "ephemeral": empty_flow("empty Prefect flow, temporary server", ephemeral_env)}
        else:  # a server only for its empty-flow figure, stopped before the figures it would compete with
            empty = {"ephemeral": empty_flow("empty Prefect flow, temporary server", env)}
            with started_server(ephemeral_env) as side:
                print(f" answered in {side.startup_seconds:.1f}s on port {side.port}", flush=True)
                side_env = {**ephemeral_env, "PREFECT_API_URL": side.api_url}
                empty_flow("warm-up: empty flow, long-running server (its database)", side_env)
                empty["server"] = empty_flow("empty Prefect flow, long-running server", side_env)
            server_info = server_record(side, "only the empty flow against a server; ism used the temporary one")
        # ism's checks worker on its own: it imports GX as it starts, then ends at once (its input is empty)
        gx = measured("Great Expectations' import (ism's checks worker, alone)",
                      [str(PYTHON), "-m", "expectations.worker"], env)
        tasks = measured(f"Prefect flow with {2 * sources} no-op tasks ({prefect_mode})",
                         [str(PYTHON), "-m", "bench.prefect_overhead", "--tasks", str(2 * sources)], env)
        measured_rounds = [measured_round(number, config, scratch, env) for number in range(1, rounds + 1)]
        print("  render benchmark ...", flush=True)
        rendered = render_benchmark(env) if render else {"skipped": "--no-render"}
        if profile:
            measured("profile of a full refresh (bench/profile.py)",
                     [str(PYTHON), "-m", "bench.profile", "--size", size], env)
    if server:  # read after it stopped: its peak covers the whole run
        server_info = server_record(server, "every ism figure (PREFECT_API_URL)")
        print(f"  Prefect server stopped; its own peak RSS {server.peak_rss_bytes / GIB:.2f} GiB", flush=True)

    chosen = median_round(measured_rounds, size)
    limit, full, unchanged, one = chosen.limit, chosen.full, chosen.unchanged, chosen.one
    full_json, unchanged_json, one_json = chosen.full_json, chosen.unchanged_json, chosen.one_json
    check = {**limit_check(Path(full_json["path"]), chosen.limit_out), "limit": last_json(limit.stdout)}
    empty_json = {mode: last_json(result.stdout) for mode, result in empty.items()}  # Prefect alone, measured once
    tasks_json = last_json(tasks.stdout)
    full_flow = full_json.get("timings", {}).get("flow", float("nan"))
    same_mode = chosen.empty  # the S target compares the full refresh with an empty flow in its own mode
    # ism's own process trees only: the long-running server is not a descendant of any figure's child
    peak = max(r.peak_rss_bytes for each in measured_rounds for r in (each.full, each.unchanged, each.one))
    peak_tree = max(r.peak_tree_rss_bytes for each in measured_rounds for r in (each.full, each.unchanged, each.one))
    ratios = {name: round(statistics.median(each.ratios()[name] for each in measured_rounds), 3)
              for name in measured_rounds[0].ratios()}
    rows_read = sum(s.get("rows_read", 0) for s in full_json.get("sources", []))
    seconds = {"limit": limit.wall_seconds, "full": full.wall_seconds, "unchanged": unchanged.wall_seconds,
               "one_changed": one.wall_seconds, "empty_flow": same_mode.wall_seconds}
    parts = {key: parts_of(result, document.get("timings", {}))
             for key, result, document in (("full", full, full_json), ("unchanged", unchanged, unchanged_json),
                                           ("one_changed", one, one_json))}
    fixed = {"empty_prefect_flow": same_mode.wall_seconds, "ism_imports": cli.wall_seconds,
             "gx_import": gx.wall_seconds}
    return {
        "size": size,
        "date": started.isoformat(),
        "prefect_mode": prefect_mode,
        "task_runner_max_workers": max_workers or "Prefect default (a thread per task)",
        **info,
        **ratios,
        "rounds": [{**each.ratios(), "seconds": {"limit": each.limit.wall_seconds, "full": each.full.wall_seconds,
                                                 "unchanged": each.unchanged.wall_seconds,
                                                 "one_changed": each.one.wall_seconds,
                                                 "empty_flow": each.empty.wall_seconds},
                    "reported": each is chosen} for each in measured_rounds],
        "peak_rss_gib": round(max(peak, peak_tree) / GIB, 3),
        "seconds": seconds,
        "cpu_seconds": {"limit": limit.cpu_seconds, "full": full.cpu_seconds, "unchanged": unchanged.cpu_seconds,
                        "one_changed": one.cpu_seconds, "empty_flow": same_mode.cpu_seconds},
        "cpu_ratios": {"full_over_limit": ratio(full.cpu_seconds, limit.cpu_seconds),
                       "unchanged_over_full": ratio(unchanged.cpu_seconds, full.cpu_seconds),
                       "one_changed_over_full": ratio(one.cpu_seconds, full.cpu_seconds),
                       "full_over_empty_flow": ratio(full.cpu_seconds, same_mode.cpu_seconds)},
        "full_beyond_empty_flow_seconds": beyond_empty_flow(full, full_json.get("timings", {}), same_mode,
                                                            last_json(same_mode.stdout)),
        "missed_targets": missed_targets(size, ratios, seconds, parts, fixed),
        "workload": {"hscps": len(list((config.parent / "extracts").glob("hscp*"))), "sources": sources,
                     "rows_read": rows_read, "extract_files": len(extracts),
                     "extract_mib": round(sum(p.stat().st_size for p in extracts) / 1024**2, 1),
                     "generate_seconds": round(generate_seconds, 2), "changed_source": CHANGED_SOURCE,
                     "published": full_json.get("counts", {})},
        "figures": {"limit": figure(limit), "full": figure(full), "unchanged": figure(unchanged),
                    "one_changed": figure(one), "empty_flow_same_mode": figure(same_mode), "cli_import": figure(cli),
                    "gx_import": figure(gx),
                    "prefect_empty_flow_server": figure(empty["server"]),
                    "prefect_empty_flow_ephemeral": figure(empty["ephemeral"]), "prefect_tasks_flow": figure(tasks)},
        "statuses": {"full": full_json.get("status"), "unchanged": unchanged_json.get("status"),
                     "one_changed": one_json.get("status")},
        "timings": {"full": full_json.get("timings", {}), "unchanged": unchanged_json.get("timings", {}),
                    "one_changed": one_json.get("timings", {})},
        "prefect_server": server_info,
        "prefect": {
            # a fresh process running an empty flow, against the long-running server and with the temporary one
            "empty_flow_process_seconds": {mode: result.wall_seconds for mode, result in empty.items()},
            "empty_flow_cpu_seconds": {mode: result.cpu_seconds for mode, result in empty.items()},
            "empty_flow_call_seconds": {mode: doc.get("flow_call_seconds") for mode, doc in empty_json.items()},
            "server_saves_per_process_seconds": round(
                empty["ephemeral"].wall_seconds - empty["server"].wall_seconds, 2),
            # the no-op flow's own time inside the flow, per task: two process walls differ by more than this noise
            "per_task_ms": round(1000 * tasks_json.get("inside_flow_seconds", float("nan")) / max(2 * sources, 1), 2),
            "full_refresh_outside_flow_seconds": round(full.wall_seconds - full_flow, 2),
        },
        "limit_check": check,
        "render": rendered,
        "targets": TARGETS,
        "load_average_at_end": list(os.getloadavg()),
    }


def _s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:,.1f} s"


def prefect_setup_line(result: dict[str, Any]) -> str:
    """One sentence: where this run's ism processes found Prefect, and the server's own cost."""
    server = result["prefect_server"]
    started = (f"`prefect server start` answered its health check {_s(server['startup_seconds'])} after launch "
               f"({_s(server['startup_cpu_seconds'])} cpu); its own peak RSS {server['peak_rss_gib']:.2f} GiB and "
               f"{_s(server['cpu_seconds'])} cpu from start to stop")
    if result["prefect_mode"] == "server":
        return (f"Prefect: **server**. Every ism process used one long-running Prefect server on 127.0.0.1 "
                f"(`PREFECT_API_URL`), as a scheduled team runs it; {started}, none of it counted in ism's figures "
                f"(the server answers every figure's API calls, so part of that cpu is work done for ism).")
    return (f"Prefect: **ephemeral**. Every ism process started and stopped Prefect's temporary server, as a bare "
            f"`ism refresh` does; a long-running server was started only for the empty-flow figure ({started}).")


def markdown(result: dict[str, Any]) -> str:
    """SIZE.md: the figures, the ratios against their targets, the per-step times and what was measured."""
    s, cpu, w, p, t = (result["seconds"], result["cpu_seconds"], result["workload"], result["prefect"],
                       result["timings"]["full"])
    f = result["figures"]
    rows = [("limit: one bare DuckDB pass", "limit"), ("ism full refresh", "full"),
            ("ism refresh, nothing changed", "unchanged"), ("ism refresh, one source changed", "one_changed")]
    empty_key = f"prefect_empty_flow_{result['prefect_mode']}"
    lines = [
        f"# Benchmark {result['size']}: {w['hscps']} HSCP(s), {w['sources']} sources, {w['rows_read']:,} rows read",
        "",
        f"Run {result['date']} on {result['machine']['cores']} cores, {result['machine']['ram_gib']} GiB, "
        f"{result['machine']['cpu_model']} (load average at start "
        f"{', '.join(f'{x:.1f}' for x in result['machine']['load_average_at_start'])}; at end "
        f"{', '.join(f'{x:.1f}' for x in result['load_average_at_end'])}). Python {result['versions']['python']}, "
        f"DuckDB {result['versions']['duckdb']}, pandas {result['versions']['pandas']}, Prefect "
        f"{result['versions']['prefect']}; ism {result['versions']['ism_commit'][:10]}"
        f"{' + uncommitted changes' if result['versions']['ism_tree_modified'] else ''} (code snapshot "
        f"{result['versions']['code_sha256'][:10]}).",
        "",
        prefect_setup_line(result),
        "",
        f"Workload: {w['extract_files']} files, {w['extract_mib']} MiB of extracts (generated in "
        f"{w['generate_seconds']} s; 0 = reused); published {w['published'].get('services', '?')} services, "
        f"{w['published'].get('activity', '?'):,} activity rows, {w['published'].get('flows', '?'):,} flow rows, "
        f"{w['published'].get('rejects', '?'):,} rejects.",
        "",
        "| figure | wall | cpu | peak RSS (largest process) | peak RSS (process tree) | status |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, key in rows:
        fig = f[key]
        lines.append(f"| {label} | {_s(s[key])} | {_s(cpu[key])} | {fig['peak_rss_bytes'] / GIB:.2f} GiB | "
                     f"{fig['peak_tree_rss_bytes'] / GIB:.2f} GiB | {result['statuses'].get(key, 'ok')} |")
    if "empty_flow_same_mode" in f or empty_key in f:
        fig = f.get("empty_flow_same_mode") or f[empty_key]
        lines.append(f"| empty Prefect flow, same mode ({result['prefect_mode']}) | {_s(fig['wall_seconds'])} | "
                     f"{_s(fig['cpu_seconds'])} | {fig['peak_rss_bytes'] / GIB:.2f} GiB | "
                     f"{fig['peak_tree_rss_bytes'] / GIB:.2f} GiB | ok |")
    lines += [
        "",
        "| ratio | wall | cpu | target |",
        "|---|---:|---:|---:|",
        f"| full / limit | {result['full_over_limit']} | {result['cpu_ratios']['full_over_limit']} | ≤ 3 |",
        f"| nothing changed / full | {result['unchanged_over_full']} | "
        f"{result['cpu_ratios']['unchanged_over_full']} | ≤ 0.10 |",
        f"| one source changed / full | {result['one_changed_over_full']} | "
        f"{result['cpu_ratios']['one_changed_over_full']} | ≤ 0.25 |",
        f"| full / empty Prefect flow (same mode) | {_ratio(full_over_empty_flow(result))} | "
        f"{_ratio(result['cpu_ratios'].get('full_over_empty_flow'))} | ≤ 2 at S |",
        f"| peak RSS | {result['peak_rss_gib']} GiB | | ≤ 4 GiB at L |",
        "",
        *_rounds_lines(result),
        *_beyond_lines(result),
        *_missed_lines(result),
        "Where the full refresh's time goes (RunResult.timings; task times are summed over runs, and per-source "
        "tasks run concurrently in threads, so their sum overlaps and can exceed the phase's wall time):",
        "",
        "| step | seconds |",
        "|---|---:|",
        ("| process start-up and Prefect client (CLI wall − flow) | " if result["prefect_mode"] == "server" else
         "| process start-up, Prefect start-up and shutdown (CLI wall − flow) | ")
        + f"{p['full_refresh_outside_flow_seconds']} |",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in t.items()],
        "",
        "Prefect alone, a fresh process running an empty flow:",
        "",
        "| Prefect | wall | cpu | the flow call |",
        "|---|---:|---:|---:|",
        *[f"| {label} | {_s(p['empty_flow_process_seconds'][mode])} | {_s(p['empty_flow_cpu_seconds'][mode])} | "
          f"{_s(p['empty_flow_call_seconds'][mode])} |"
          for label, mode in (("long-running server", "server"), ("temporary server", "ephemeral"))],
        "",
        f"The long-running server saves {_s(p['server_saves_per_process_seconds'])} per process. Each no-op task "
        f"costs {p['per_task_ms']} ms inside the flow (measured with {2 * w['sources']} tasks, "
        f"{result['prefect_mode']}); `ism --help` (imports only) takes {_s(f['cli_import']['wall_seconds'])}.",
        "",
        "Limit check (cell by cell against the published version): "
        + ("the same services, activity and flow cells, and the same values wherever both publish one"
           if result["limit_check"]["matches"] else "**MISMATCH**, see limit_check in the JSON")
        + f"; ism hid {result['limit_check']['activity']['secondary_suppressed']} activity and "
        f"{result['limit_check']['flows']['secondary_suppressed']} flow cells more (secondary suppression).",
        "",
        "Render benchmark (bench/render.py, details in bench/results/render.md): " + _render_line(result["render"]),
        "",
        "How: `make bench SIZE=" + result["size"] + "` (bench/run.py). Every figure is a fresh child process; wall and "
        "cpu (user + system, children included) from `os.wait4`; peak RSS of the largest process from its "
        "`ru_maxrss`, and of the whole process tree by sampling /proc every 0.1 s ("
        + ("ism's processes only: the long-running server is sampled apart" if result["prefect_mode"] == "server"
           else "ism and the temporary Prefect server it starts")
        + "). The limit is bench/limit.py. One source changed = one referral appended to "
        f"`{w['changed_source']}`. Other engineers' work shared the 2 cores during the run: see the load average.",
    ]
    return "\n".join(lines) + "\n"


def _ratio(value: float | None) -> str:
    return "–" if value is None else str(value)


def _rounds_lines(result: dict[str, Any]) -> list[str]:
    """With more than one round: each round's ratios, and which round the figures above are from."""
    rounds = result.get("rounds", [])
    if len(rounds) < 2:
        return []
    lines = [f"Measured in {len(rounds)} rounds, one after another; each ratio above is the median of the rounds' "
             "(wall), the figures are the round marked *:", "",
             "| round | limit | empty flow | full | nothing changed | one changed | full / limit | one / full | "
             "full / empty flow |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for number, each in enumerate(rounds, start=1):
        s = each["seconds"]
        lines.append(f"| {number}{' *' if each['reported'] else ''} | {_s(s['limit'])} | {_s(s['empty_flow'])} | "
                     f"{_s(s['full'])} | {_s(s['unchanged'])} | {_s(s['one_changed'])} | {each['full_over_limit']} | "
                     f"{each['one_changed_over_full']} | {each['full_over_empty_flow']} |")
    return [*lines, ""]


def _beyond_lines(result: dict[str, Any]) -> list[str]:
    """The full refresh's wall time beyond the empty flow's, by part (results written since the field exists)."""
    beyond = result.get("full_beyond_empty_flow_seconds")
    if not beyond:
        return []
    head = f"Beyond the empty flow ({result['prefect_mode']} mode), the full refresh took {_s(beyond['total'])} more"
    phases = (f"sources phase {_s(beyond['sources_phase'])}, gate {_s(beyond['gate_phase'])}, publish "
              f"{_s(beyond['publish_phase'])}")
    if result["prefect_mode"] == "ephemeral":  # ism starts the temporary server before its flow call (flows/ephemeral)
        return [f"{head}: {phases}, the rest in start-up, imports and shutdown. ism starts Prefect's temporary server "
                "before its flow call, the empty flow inside its own, so their times outside the flow call do not "
                "compare part by part.", ""]
    return [
        f"{head}: {_s(beyond['outside_the_flow'])} outside the flow (imports, Prefect client, start-up and shutdown, "
        f"beyond the empty flow's) and {_s(beyond['flow_call'])} in the flow call beyond the empty one's "
        f"{_s(beyond['empty_flow_call'])}: {phases}, the rest of the flow (Prefect's flow run, between phases) "
        f"{_s(beyond['rest_of_the_flow'])}.",
        "",
    ]


PART_NAMES = {"outside_the_flow": "outside the flow", "sources_phase": "sources", "gate_phase": "gate",
              "publish_phase": "publish", "rest_of_the_flow": "rest of the flow"}
FIXED_NAMES = {"empty_prefect_flow": "an empty Prefect flow", "ism_imports": "`ism --help`",
               "gx_import": "importing Great Expectations"}


def _missed_lines(result: dict[str, Any]) -> list[str]:
    """Each target the run missed: its budget, what the figure took by part, and the fixed costs measured beside
    it (results written since the field exists)."""
    missed = result.get("missed_targets")
    if missed is None:
        return []
    if not missed:
        return ["Every wall-time target of this size was met in this run.", ""]
    lines = ["Targets missed in this run, and what holds each back (seconds of wall time, measured here):", ""]
    for miss in missed:
        parts = ", ".join(f"{PART_NAMES.get(name, name)} {_s(value)}" for name, value in miss["parts"].items())
        fixed = ", ".join(f"{FIXED_NAMES.get(name, name)} {_s(value)}" for name, value in miss["fixed_costs"].items())
        lines.append(f"- **{miss['target']}** ({miss.get('ratio', '–')}): the {miss['figure'].replace('_', ' ')} "
                     "refresh took "
                     f"{_s(miss['seconds'])} against a budget of {_s(miss['budget_seconds'])} "
                     f"({_s(miss['over_by_seconds'])} over): {parts}. Fixed costs, each a fresh process timed in "
                     f"this run: {fixed} (ism imports Great Expectations in a worker of its own while it reads "
                     f"the sources).{_floor_words(miss)}")
    return [*lines, ""]


def _floor_words(miss: dict[str, Any]) -> str:
    """What the fixed costs leave of the budget, or that they alone exceed it; then what the sources phase leaves
    for the rest of the refresh (results written since each field)."""
    left = miss.get("left_for_own_work_seconds")
    if left is None:
        return ""
    floor = _s(miss["fixed_floor_seconds"])
    if left < 0:
        return (f" Out of reach from a fresh process in this run: an empty Prefect flow and ism's imports alone, one "
                f"after the other, take {floor}, {_s(-left)} over the budget before any of ism's own work.")
    words = f" An empty Prefect flow and ism's imports take {floor} of it, leaving {_s(left)} for ism's own work."
    after = miss.get("left_after_sources_seconds")
    if after is None:
        return words
    took = _s(miss["consolidate_check_publish_seconds"])
    if after <= 0:
        return words + (f" The sources phase alone takes that and more ({_s(-after)} over): nothing is left for "
                        f"consolidating, checking and publishing the map, which took {took} here.")
    return words + (f" After the sources phase, {_s(after)} is left for consolidating, checking and publishing the "
                    f"map, which took {took} here ({miss['consolidate_check_publish_seconds'] / after:.1f} "
                    "x that).")


def _render_line(render: dict[str, Any]) -> str:
    if "todo" in render or "skipped" in render or "error" in render:
        return str(render.get("todo") or render.get("skipped") or f"failed: {render.get('error')}")
    return "poster (layout, SVG, PNG, PDF) and interactive HTML of 500 services / 3,000 flows: " + "; ".join(
        f"{c['poster_and_html_seconds']:.1f} s with {c['flows_drawn']:,} flows drawn ({c['layout_method']} layout)"
        for c in render.get("cases_500_services_3000_flows", [])) + " (target: under 10 s)."


def readme_table() -> str:
    """The README's benchmark block: the latest result of each size."""
    lines = [START, "", "| size | HSCPs | sources | rows read | limit | full | nothing changed | one changed | "
             "full / limit | one changed / full | full / empty flow | peak RSS | Prefect | rounds | run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    for size in ("S", "M", "L"):
        path = RESULTS / f"{size}.json"
        if not path.is_file():
            continue
        r = json.loads(path.read_text())
        w, s = r["workload"], r["seconds"]
        lines.append(f"| {size} | {w['hscps']} | {w['sources']} | {w['rows_read']:,} | {_s(s['limit'])} | "
                     f"{_s(s['full'])} | {_s(s['unchanged'])} | {_s(s['one_changed'])} | {r['full_over_limit']} | "
                     f"{r.get('one_changed_over_full', '–')} | {_ratio(full_over_empty_flow(r))} | "
                     f"{r['peak_rss_gib']} GiB | {r.get('prefect_mode', 'ephemeral')} | "
                     f"{len(r.get('rounds', [])) or 1} | {r['date'][:10]} |")
    lines += ["", "Targets at M and L: full ≤ 3 × limit, nothing changed ≤ 10 % of full, one source changed ≤ 25 %, "
              "peak memory ≤ 4 GiB at L; at S: full ≤ 2 × an empty Prefect flow in the same Prefect mode, timed in "
              "the same run (full / empty flow). Prefect: `server` = every ism process used one long-running Prefect "
              "server (as `ism serve` does; its memory is not in peak RSS), `ephemeral` = each started Prefect's "
              "temporary server. Ratios are medians over the rounds (seconds: the median round's). Details in "
              "`bench/results/<SIZE>.md`; run `make bench SIZE=S|M|L ROUNDS=3`.",
              "", END]
    return "\n".join(lines)


def update_readme() -> bool:
    """Rewrite the README's block between the markers; False when the markers are missing."""
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    README.write_text(pattern.sub(lambda _: readme_table(), text, count=1), encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the national-scale benchmark for one size.")
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--regenerate", action="store_true", help="write the extracts again even if up to date")
    parser.add_argument("--no-render", dest="render", action="store_false", help="skip the render benchmark")
    parser.add_argument("--profile", action="store_true", help="also profile a full refresh (SIZE.profile.md)")
    parser.add_argument("--max-workers", type=int, help="cap Prefect's thread pool for the per-source tasks")
    parser.add_argument("--prefect", choices=PREFECT_MODES, default="server",
                        help="ism's processes use one long-running Prefect server (default), or each starts the "
                             "temporary one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the figures the targets compare this many times; report each ratio's median")
    parser.add_argument("--memory-cap-gib", type=float, default=12.0,
                        help="kill a figure whose process tree passes this much memory (default 12)")
    args = parser.parse_args()
    if not ISM.exists():
        sys.exit(f"bench: {ISM} not found; run `make bench` (it creates the virtual environment first)")
    if not PREFECT.exists():
        sys.exit(f"bench: {PREFECT} not found; run `make bench` (it creates the virtual environment first)")
    try:
        result = run(args.size, args.regenerate, args.render, args.profile, args.max_workers, args.memory_cap_gib,
                     args.prefect, max(1, args.rounds))
    except ServerStartError as error:
        sys.exit(f"\nbench: {error}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.size}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{args.size}.md").write_text(markdown(result), encoding="utf-8")
    readme = "README updated" if update_readme() else "README has no bench markers: not updated"
    print(f"bench {args.size} ({args.prefect}): full/limit {result['full_over_limit']}, "
          f"unchanged/full {result['unchanged_over_full']}, "
          f"one changed/full {result['one_changed_over_full']}, full/empty flow {result['full_over_empty_flow']}, "
          f"peak {result['peak_rss_gib']} GiB; "
          f"results in {RESULTS / (args.size + '.md')}; {readme}")


if __name__ == "__main__":
    main()
