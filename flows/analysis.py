"""The analysis step of a refresh, and reading a published version back: wires transforms/analyses and
transforms/diff to the tables of the version being written and of the one before it."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import networkx as nx
import pandas as pd

from expectations.errors import PublishError
from outputs.changelog import CHANGELOG_THRESHOLD
from outputs.store.reader import MapVersion, open_version
from outputs.store.versions import MANIFEST, MapStore
from transforms.analyses import DEFAULT_LOOP_LENGTH, DELAYED_MEASURES, analysis_tables
from transforms.diff import map_changes
from transforms.graph import service_graph

GRAPH_TABLES = ("services", "organisations", "activity", "flows", "initiatives")


def opened_version(store: MapStore, version: str = "latest") -> MapVersion:
    """A published version of the store's map ("latest", an id such as v0003, or a date YYYY-MM-DD)."""
    if not store.complete_versions():
        raise PublishError(f"{store.folder}: map {store.map_id!r} has no published version yet; "
                           "run `ism refresh` with its config first")
    return open_version(store.root, store.map_id, version)


def version_tables(version: MapVersion) -> dict[str, pd.DataFrame]:
    """The tables the map graph and the analyses read, from a published version."""
    return {table: version.table(table) for table in GRAPH_TABLES}


def published_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The same tables from a complete version folder (such as `PublishedVersion.previous`)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise PublishError(f"{folder}: not a complete map version (no {MANIFEST})")
    return version_tables(MapVersion(folder, json.loads(manifest.read_text(encoding="utf-8"))))


def graph_of(tables: Mapping[str, pd.DataFrame]) -> nx.DiGraph:
    return service_graph(*(tables[t] for t in GRAPH_TABLES))


def version_analyses(graph: nx.DiGraph, tables: Mapping[str, pd.DataFrame], lanes: Sequence[str],
                     previous: Path | None) -> dict[str, pd.DataFrame]:
    """Every analysis table of a version; with a previous version, also `changes` against it."""
    found = analysis_tables(graph, lanes, tables["initiatives"], tables["organisations"], DEFAULT_LOOP_LENGTH)
    if previous is not None:
        found["changes"] = map_changes(graph_of(published_tables(previous)), graph, CHANGELOG_THRESHOLD)
    found["parameters"] = pd.DataFrame([
        ("loop_length_cap", str(DEFAULT_LOOP_LENGTH), "loops list cycles of at most this many services"),
        ("change_threshold", str(CHANGELOG_THRESHOLD),
         "flows and activity totals are listed as changed when they moved by more than this share"),
        ("betweenness", "volume and steps", "betweenness: distance 1/volume; betweenness_unweighted: hops"),
        ("delayed_measures", ";".join(DELAYED_MEASURES), "activity measures read as delayed-discharge bed days"),
        ("demand", "activity + inflow", "a service's demand: activity of every measure plus the flow into it"),
    ], columns=["parameter", "value", "meaning"])
    return found


# Betweenness is pure-Python networkx: about 5 s on a national map (1,889 services, 11,854 flow pairs). From this
# many flow pairs a version's analyses run in a second process while the artefacts that do not need them are
# written; below it, starting a process would cost more than it saves.
ANALYSES_PROCESS_FROM_EDGES = 4_000


def started_analyses(graph: nx.DiGraph, tables: Mapping[str, pd.DataFrame], lanes: Sequence[str],
                     previous: Path | None, process_from_edges: int = ANALYSES_PROCESS_FROM_EDGES
                     ) -> Callable[[], dict[str, pd.DataFrame]]:
    """`version_analyses`, started: call the result for the tables. A big map's run in a second process (spawned:
    the refresh has threads of its own), a small one's here and now."""
    needed = {table: tables[table] for table in ("initiatives", "organisations")}
    if graph.number_of_edges() < process_from_edges:
        found = version_analyses(graph, needed, lanes, previous)
        return lambda: found
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    future = pool.submit(version_analyses, graph, needed, list(lanes), previous)
    pool.shutdown(wait=False)  # the worker ends with its one job

    def result() -> dict[str, pd.DataFrame]:
        try:
            return future.result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): do the work here instead
            return version_analyses(graph, needed, lanes, previous)

    return result
