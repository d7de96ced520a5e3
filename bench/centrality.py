"""networkx against transforms/centrality.py (igraph for betweenness, a pruned search for loops) on graphs of a
national map's size: the weighted and the unweighted betweenness and the loops (simple cycles up to
DEFAULT_LOOP_LENGTH services) that key_services and demand_loops compute, each timed (wall and this process's
CPU) and checked node by node. Writes bench/results/centrality.{json,md}.

    python -m bench.centrality                                   # synthetic graphs shaped like L
    python -m bench.centrality --version build/bench/runs/L/maps/<map>/versions/<v>   # also a published version
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np

from transforms.centrality import betweenness, bounded_cycles

RESULTS = Path(__file__).resolve().parent / "results"
LOOP_LENGTH = 4  # transforms.analyses.DEFAULT_LOOP_LENGTH, not imported: the benchmark measures the algorithms only
TOLERANCE = 1e-9
T = TypeVar("T")


def synthetic_map(services: int, pairs: int, areas: int = 31, seed: int = 7) -> nx.DiGraph:
    """A flow graph shaped like a national map: services in `areas` partnerships, 85 % of flows within one,
    the rest towards a few hundred shared acute units; volumes heavy-tailed counts (1 to a few thousand), distance
    1/volume as transforms/analyses sets it. Seeded: the same graph every run."""
    rng = np.random.default_rng(seed)
    area = rng.integers(0, areas, services)
    acute = rng.choice(services, size=max(services // 12, 1), replace=False)
    members = [np.flatnonzero(area == a) for a in range(areas)]
    graph = nx.DiGraph()
    graph.add_nodes_from(f"svc{i:05d}" for i in range(services))
    while graph.number_of_edges() < pairs:
        u = int(rng.integers(services))
        v = int(rng.choice(members[area[u]])) if rng.random() < 0.85 else int(rng.choice(acute))
        if u != v:
            volume = float(np.ceil(rng.pareto(1.2) * 5))
            if volume > 0:
                graph.add_edge(f"svc{u:05d}", f"svc{v:05d}", volume=volume, distance=1.0 / volume)
    return graph


def published_map(version: Path) -> nx.DiGraph:
    """The flows carrying demand of a published version (volume > 0, distance 1/volume), as key_services takes
    them."""
    from flows.analysis import graph_of, published_tables

    services = graph_of(published_tables(version))
    flowing = nx.DiGraph()
    flowing.add_nodes_from(services.nodes)
    flowing.add_edges_from((u, v, {"volume": d["volume"], "distance": 1.0 / d["volume"]})
                           for u, v, d in services.edges(data=True) if d.get("volume", 0) > 0)
    return flowing


def timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """The call's result, wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def canonical(cycles: Any) -> list[tuple[str, ...]]:
    rotated = []
    for cycle in cycles:
        start = cycle.index(min(cycle))
        rotated.append(tuple(cycle[start:] + cycle[:start]))
    return sorted(rotated)


def compared(name: str, graph: nx.DiGraph, with_networkx: bool) -> dict[str, Any]:
    """Each computation by networkx and by transforms/centrality, timed, and how far apart their answers are."""
    print(f"{name}: {graph.number_of_nodes():,} services, {graph.number_of_edges():,} flow pairs", flush=True)
    record: dict[str, Any] = {"services": graph.number_of_nodes(), "flow_pairs": graph.number_of_edges()}
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("betweenness by distance",
         lambda: nx.betweenness_centrality(graph, normalized=True, weight="distance"),
         lambda: betweenness(graph, weight="distance")),
        ("betweenness by steps", lambda: nx.betweenness_centrality(graph, normalized=True),
         lambda: betweenness(graph)),
        (f"loops (cycles up to {LOOP_LENGTH})", lambda: canonical(nx.simple_cycles(graph, length_bound=LOOP_LENGTH)),
         lambda: canonical(bounded_cycles(graph, LOOP_LENGTH))),
    ]
    for label, slow, fast in cases:
        ours, fast_wall, fast_cpu = timed(fast)
        row: dict[str, Any] = {"ism_seconds": round(fast_wall, 3), "ism_cpu_seconds": round(fast_cpu, 3)}
        if with_networkx:
            theirs, slow_wall, slow_cpu = timed(slow)
            row |= {"networkx_seconds": round(slow_wall, 3), "networkx_cpu_seconds": round(slow_cpu, 3),
                    "cpu_speedup": round(slow_cpu / fast_cpu, 1) if fast_cpu else None}
            if isinstance(ours, dict):
                differ = [n for n in theirs if abs(theirs[n] - ours[n]) > TOLERANCE]
                row |= {"nodes_differing": len(differ),
                        "largest_difference": max((abs(theirs[n] - ours[n]) for n in theirs), default=0.0)}
            else:
                row |= {"cycles": len(ours), "same_cycles": ours == theirs}
        elif not isinstance(ours, dict):
            row["cycles"] = len(ours)
        print(f"  {label}: {row}", flush=True)
        record[label] = row
    return record


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Betweenness and loops: networkx against transforms/centrality.py",
        "",
        f"Run {result['date']} on {result['machine']['cores']} cores (load average at start "
        f"{', '.join(f'{x:.1f}' for x in result['machine']['load_average_at_start'])}; at end "
        f"{', '.join(f'{x:.1f}' for x in result['load_average_at_end'])}: other engineers shared the cores, so CPU "
        f"seconds are the steadier figure). Python {result['versions']['python']}, networkx "
        f"{result['versions']['networkx']}, igraph {result['versions']['igraph']}. One process, one graph at a "
        "time, ism first.",
        "",
        "| graph | services | flow pairs | computation | networkx wall | networkx cpu | ism wall | ism cpu | "
        "cpu speed-up | answers |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, record in result["graphs"].items():
        for label, row in record.items():
            if not isinstance(row, dict):
                continue
            if "nodes_differing" in row:
                answers = (f"{row['nodes_differing']} nodes differ by > 1e-9 (largest "
                           f"{row['largest_difference']:.1e})")
            elif "same_cycles" in row:
                answers = f"{row['cycles']:,} cycles, {'the same' if row['same_cycles'] else '**not the same**'}"
            else:
                answers = f"{row.get('cycles', '–')} (networkx not run)"
            lines.append(f"| {name} | {record['services']:,} | {record['flow_pairs']:,} | {label} | "
                         f"{row.get('networkx_seconds', '–')} s | {row.get('networkx_cpu_seconds', '–')} s | "
                         f"{row['ism_seconds']} s | {row['ism_cpu_seconds']} s | {row.get('cpu_speedup', '–')} | "
                         f"{answers} |")
    lines += ["", "How: `python -m bench.centrality` (bench/centrality.py). " + result["note"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time networkx against transforms/centrality.py.")
    parser.add_argument("--version", type=Path, action="append", default=[],
                        help="also a published version folder (repeatable)")
    parser.add_argument("--sizes", default="1889x11854,3500x12000",
                        help="synthetic graphs, services x flow pairs, comma-separated")
    parser.add_argument("--no-networkx", dest="networkx", action="store_false", help="time ism only")
    args = parser.parse_args()
    import igraph

    started = datetime.now(UTC).replace(microsecond=0)
    load = list(os.getloadavg())
    graphs: dict[str, dict[str, Any]] = {}
    for folder in args.version:
        graphs[f"published: {folder.name} of {folder.parents[1].name}"] = compared(folder.name, published_map(folder),
                                                                                   args.networkx)
    for size in filter(None, args.sizes.split(",")):
        services, pairs = (int(x) for x in size.lower().split("x"))
        graphs[f"synthetic {services:,} x {pairs:,}"] = compared(size, synthetic_map(services, pairs), args.networkx)
    result = {
        "date": started.isoformat(), "machine": {"cores": os.cpu_count(), "load_average_at_start": load},
        "versions": {"python": platform.python_version(), "networkx": nx.__version__,
                     "igraph": igraph.__version__},
        "graphs": graphs, "tolerance": TOLERANCE, "load_average_at_end": list(os.getloadavg()),
        "note": ("Synthetic graphs: `synthetic_map` (31 areas, 85 % of flows within one, the rest to shared acute "
                 "units, heavy-tailed volumes); 1,889 x 11,854 is the size of bench L's published map. Betweenness "
                 "answers compared node by node (normalised); loops as sets of cycles rotated to their least "
                 "service. Where betweenness by distance differs, it is a tie between two path lengths that float "
                 "rounding splits for networkx and igraph counts (transforms/centrality.py)."),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "centrality.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "centrality.md").write_text(markdown(result), encoding="utf-8")
    print(f"results in {RESULTS / 'centrality.md'}")


if __name__ == "__main__":
    main()
