"""The rendering benchmark (`python -m bench.render`): a seeded synthetic map of N services and M flows, drawn as
the poster (layout, SVG, PNG, PDF), the interactive map and the exports, timed step by step. Each case runs in its
own child process, so no layout is reused from an earlier case. Results: bench/results/render.json and render.md.

Cases: 300 services / 1,000 flows and 500 / 3,000, each with the default `[poster]` table (flows under 0.5% of
all flow volume are not drawn, so at most 200 are) and with `min_flow_share = 0` (every flow drawn: the layout
budget and its cheaper layouts are what keep it bounded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
CASES = [(300, 1000, 0.005), (300, 1000, 0.0), (500, 3000, 0.005), (500, 3000, 0.0)]
TARGET_SECONDS = 10.0  # poster (all formats) and HTML of 300 services / 1,000 flows
LANES = [("prevention", "Home and prevention"), ("third_sector", "Third sector"), ("housing", "Housing"),
         ("primary_care", "Primary care"), ("urgent_care", "Urgent care"), ("acute", "Acute hospital"),
         ("intermediate_care", "Intermediate care"), ("social_care", "Social care"), ("care_homes", "Care homes")]
COLOURS = ["#b3de69", "#8dd3c7", "#ffffb3", "#80b1d3", "#fb8072", "#bebada", "#fdb462", "#fccde5", "#bc80bd"]
SECTORS = ["nhs", "local_authority", "third_sector", "independent", "housing"]
MEASURES = ["referrals", "contacts", "admissions", "bed_days", "attendances"]
WORDS = ["Community", "Rapid", "Response", "Team", "Hospital", "Ward", "Unit", "Support", "Service", "Care",
         "Home", "Frailty", "Mental", "Health", "Nursing", "District", "Assessment", "Discharge", "Day", "Centre"]


def synthetic_tables(services: int, flows: int, seed: int = 20250401) -> dict[str, pd.DataFrame]:
    """Canonical tables of a made-up map: services spread over nine lanes (more in the middle lanes), a year of
    monthly activity in one to three measures each, and `flows` distinct service pairs with a year of monthly
    referrals (heavy-tailed volumes, about 2% of months suppressed)."""
    rng = np.random.default_rng(seed)
    organisations = pd.DataFrame({
        "organisation_id": [f"org_{i:012x}" for i in range(40)], "name": [f"Organisation {i}" for i in range(40)],
        "sector": [SECTORS[i % len(SECTORS)] for i in range(40)], "partner": [f"partner_{i % 12}" for i in range(40)],
        "email": None, "phone": None, "website": None, "source_id": "bench"})
    ids = [f"svc_{i:012x}" for i in range(services)]
    lane_weights = np.array([1, 2, 1, 3, 2, 4, 3, 3, 1], dtype=float)
    lanes = rng.choice(len(LANES), size=services, p=lane_weights / lane_weights.sum())
    names = [" ".join(rng.choice(WORDS, size=rng.integers(2, 5))) + f" {i}" for i in range(services)]
    services_frame = pd.DataFrame({
        "service_id": ids, "name": names, "organisation_id": [f"org_{int(i):012x}" for i in rng.integers(0, 40,
                                                                                                       services)],
        "lane": [LANES[i][0] for i in lanes], "setting": None,
        "client_groups": [[None, "Adults", "Older people", "Adults;Older people"][i]
                          for i in rng.integers(0, 4, size=services)],
        "locality": None, "area_code": "S37000000", "status": None, "external_ids": None,
        "source_id": "bench", "source_ids": "bench"})
    months = pd.date_range("2025-04-01", periods=12, freq="MS")
    rows = []
    for sid in ids:
        for measure in rng.choice(MEASURES, size=rng.integers(1, 4), replace=False):
            level = rng.lognormal(5, 1.2)
            values = np.round(level * rng.uniform(0.8, 1.2, size=12))
            rows.append(pd.DataFrame({"service_id": sid, "period_start": months, "measure": measure,
                                      "value": values}))
    activity = pd.concat(rows, ignore_index=True)
    activity["period_end"] = activity["period_start"] + pd.offsets.MonthEnd(0)
    activity["qualifier"] = None
    activity["source_id"] = "bench"
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < flows:
        a, b = rng.integers(0, services, size=2)
        if a != b:
            pairs.add((int(a), int(b)))
    ordered = sorted(pairs)
    pair_level = rng.lognormal(3, 1.5, size=len(ordered))
    flow_rows = pd.DataFrame({
        "from_service_id": np.repeat([ids[a] for a, _ in ordered], 12),
        "to_service_id": np.repeat([ids[b] for _, b in ordered], 12),
        "period_start": np.tile(months, len(ordered)),
        "value": np.round(np.repeat(pair_level, 12) * rng.uniform(0.5, 1.5, size=12 * len(ordered))) + 1,
    })
    withheld = rng.random(len(flow_rows)) < 0.02
    flow_rows["qualifier"] = pd.Series(withheld).map({True: "c", False: None})
    flow_rows.loc[withheld, "value"] = np.nan
    flow_rows["period_end"] = flow_rows["period_start"] + pd.offsets.MonthEnd(0)
    flow_rows["measure"] = "referrals"
    flow_rows["source_id"] = "bench"
    chosen = rng.choice(ids, size=max(1, services // 20), replace=False)
    initiatives = pd.DataFrame({"initiative_id": ["bench"], "name": ["Bench initiative"], "status": ["active"],
                                "service_ids": [";".join(chosen)], "lead_organisation_id": [None]})
    return {"organisations": organisations, "services": services_frame, "activity": activity, "flows": flow_rows,
            "initiatives": initiatives}


def run_case(services: int, flows: int, min_share: float) -> dict[str, Any]:
    """Generate one map, then time each rendering step (in this process)."""
    from outputs.context import LaneStyle, PosterOptions
    from outputs.exports import write_exports
    from outputs.exports.records import export_graph
    from outputs.interactive import write_interactive_map
    from outputs.poster import PosterInfo, render_poster, suppressions
    from transforms.graph import service_graph

    tables = synthetic_tables(services, flows)
    graph: nx.DiGraph = service_graph(tables["services"], tables["organisations"], tables["activity"],
                                      tables["flows"], tables["initiatives"])
    lanes = [LaneStyle(lane, label, colour) for (lane, label), colour in zip(LANES, COLOURS, strict=True)]
    info = PosterInfo(title=f"Synthetic map: {services} services, {flows} flows", area="Benchmark (S37000000)",
                      population="adults", period="2025-04 to 2026-03", version="v0001",
                      partners=[f"Partner {i}" for i in range(12)], licences=["Open Government Licence v3.0"])
    options = PosterOptions(min_flow_share=min_share)
    withheld = suppressions(tables["activity"], tables["flows"])
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ism-bench-render-") as folder:
        started = time.monotonic()
        poster = render_poster(graph, lanes, info, Path(folder), ("svg", "png", "pdf"), options, withheld)
        poster_seconds = time.monotonic() - started
        started = time.monotonic()
        page = write_interactive_map(graph, lanes, info, Path(folder), tables, options, withheld)
        html_seconds = time.monotonic() - started
        started = time.monotonic()
        write_exports(export_graph(graph, lanes, info.title, {}, tables["services"], tables["flows"], withheld),
                      Path(folder) / "exports")
        exports_seconds = time.monotonic() - started
        sizes = {p.suffix.lstrip("."): p.stat().st_size for p in [*poster.paths, page]}
    total = sum(d["volume"] for _, _, d in graph.edges(data=True))
    return {
        "services": services, "flows": flows, "min_flow_share": min_share,
        "flows_drawn": sum(1 for _, _, d in graph.edges(data=True) if d["volume"] >= min_share * total),
        "layout_method": poster.method, "layout_budget_seconds": options.layout_seconds,
        "seconds": {**{k: round(v, 3) for k, v in poster.seconds.items()}, "poster_total": round(poster_seconds, 3),
                    "html": round(html_seconds, 3), "poster_and_html": round(poster_seconds + html_seconds, 3),
                    "exports": round(exports_seconds, 3)},
        "bytes": sizes, "load_average_before": round(load_before, 2),
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Rendering benchmark",
        "",
        f"`python -m bench.render`, {report['created_at']}, {report['machine']['cpus']} CPUs, "
        f"Python {report['machine']['python']}. Each case in its own process; seconds of wall time; the load "
        "average (1 min) of the machine just before each case is shown, since other work shares it.",
        "",
        "| services | flows | min share | drawn | layout | layout s | svg s | png s | pdf s | html s | "
        "poster + html s | exports s | load |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in report["cases"]:
        s = case["seconds"]
        lines.append(
            f"| {case['services']} | {case['flows']:,} | {case['min_flow_share']:.1%} | {case['flows_drawn']:,} | "
            f"{case['layout_method']} | {s['layout']:.2f} | {s['svg']:.2f} | {s['png']:.2f} | {s['pdf']:.2f} | "
            f"{s['html']:.2f} | **{s['poster_and_html']:.2f}** | {s['exports']:.2f} | "
            f"{case['load_average_before']:.1f} |")
    lines += ["", f"Target: poster (layout, SVG, PNG, PDF) and HTML of 300 services / 1,000 flows in under "
              f"{TARGET_SECONDS:.0f} s: **{'met' if report['target_met'] else 'not met'}**. The layout budget "
              "(`[poster] layout_seconds`, default 4 s) bounds the full Graphviz layout; past it the poster uses "
              "`dot` with straight flows, or a fallback that places services by lane and draws flows as direct "
              "curves, and says so in its footer.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", help="run one case SERVICES,FLOWS,MIN_SHARE and print its JSON (used by the "
                                       "runner for each child process)")
    arguments = parser.parse_args(argv)
    if arguments.case:
        services, flows, share = arguments.case.split(",")
        print(json.dumps(run_case(int(services), int(flows), float(share))))
        return 0
    cases = []
    for services, flows, share in CASES:
        child = subprocess.run([sys.executable, "-m", "bench.render", "--case", f"{services},{flows},{share}"],
                               capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
        case = json.loads(child.stdout.strip().splitlines()[-1])
        cases.append(case)
        print(f"{services} services, {flows} flows, min share {share}: {case['layout_method']}, "
              f"poster + html {case['seconds']['poster_and_html']:.2f} s", file=sys.stderr)
    target = next(c for c in cases if (c["services"], c["flows"], c["min_flow_share"]) == CASES[0])
    report = {
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "target_seconds": TARGET_SECONDS,
        "target_met": all(c["seconds"]["poster_and_html"] < TARGET_SECONDS for c in cases
                          if (c["services"], c["flows"]) == (target["services"], target["flows"])),
        "cases": cases,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "render.md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
