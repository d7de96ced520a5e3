"""The analysis step of a refresh, and reading a published version back: wires transforms/analyses and
transforms/diff to the tables of the version being written and of the one before it."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from expectations.errors import PublishError
from expectations.measures import DEFAULT_DEMAND, catalogue_of
from flows.source_cache import code_digest
from outputs.changelog import CHANGELOG_THRESHOLD
from outputs.store.kept import keep, kept
from outputs.store.reader import MapVersion, open_version
from outputs.store.versions import MANIFEST, MapStore
from transforms.analyses import DEFAULT_LOOP_LENGTH, DELAYED_MEASURES, analysis_tables
from transforms.diff import MapState, VersionFacts, map_changes, map_state, version_comparison
from transforms.graph import service_graph
from transforms.totals import MeasuredMap, measured_map

GRAPH_TABLES = ("services", "organisations", "activity", "flows", "initiatives")
KEPT_STATE = ".version_state.pickle"  # in the map's private area: the state of the version last written


def opened_version(store: MapStore, version: str = "latest") -> MapVersion:
    """A published version of the store's map ("latest", an id such as v0003, or a date YYYY-MM-DD)."""
    if not store.complete_versions():
        raise PublishError(f"{store.folder}: map {store.map_id!r} has no published version yet; "
                           "run `ism refresh` with its config first")
    return open_version(store.root, store.map_id, version)


def version_tables(version: MapVersion) -> dict[str, pd.DataFrame]:
    """The tables the map graph and the analyses read, from a published version (`measures` when the version has
    one: versions before schema 1.1.0 are read with the built-in catalogue)."""
    tables = {table: version.table(table) for table in GRAPH_TABLES}
    if (version.path / "measures.parquet").is_file():
        tables["measures"] = version.table("measures")
    return tables


def measured_of(tables: Mapping[str, pd.DataFrame]) -> MeasuredMap:
    """The totals by measure of a version's tables, following its own measure catalogue."""
    return measured_map(tables["activity"], tables["flows"], catalogue_of(tables.get("measures")))


def published_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The same tables from a complete version folder (such as `PublishedVersion.previous`)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise PublishError(f"{folder}: not a complete map version (no {MANIFEST})")
    return version_tables(MapVersion(folder, json.loads(manifest.read_text(encoding="utf-8"))))


def graph_of(tables: Mapping[str, pd.DataFrame], measured: MeasuredMap | None = None) -> nx.DiGraph:
    """The map graph of a version's tables (`measured`: their totals, when already made)."""
    return service_graph(*(tables[t] for t in GRAPH_TABLES), measures=measured or tables.get("measures"))


def facts_of(manifest: Mapping[str, Any]) -> VersionFacts:
    """What a published version was built from, from its manifest (version.json)."""
    as_of = manifest.get("as_of") or {}
    return VersionFacts(
        label=str(manifest.get("version_id", "?")),
        period=(as_of["start"], as_of["end"]) if as_of.get("start") and as_of.get("end") else None,
        config_digest=(manifest.get("inputs") or {}).get("config_digest"),
        sources={str(s["source_id"]): str(s.get("status")) for s in manifest.get("sources") or []},
    )


def version_state(version: MapVersion) -> MapState:
    """A published version as one side of a diff: its tables, totals by measure and facts."""
    tables = version_tables(version)
    return map_state(tables, measured_of(tables), facts_of(version.manifest))


def previous_state(folder: Path, private: Path | None = None) -> MapState:
    """The state of the complete version in `folder`, the version a new one is compared with: made once per
    process (a refresh may have started making it early: `prepare_previous_state`), or taken from the map's
    private area (`private`) when the refresh that wrote the version kept it there (`keep_state`)."""
    return _state_of(folder, in_background=False, private=private).result()


def prepare_previous_state(folder: Path, private: Path | None = None) -> None:
    """Start making `previous_state(folder, private)` in a thread. A refresh calls this as soon as it knows it has
    work: on a national map the previous version's totals and graph take seconds of pandas, made meanwhile while
    sources are hashed and read (mostly outside the GIL) instead of while the new version waits for them."""
    _state_of(folder, in_background=True, private=private)


def keep_state(private: Path, content_hash: str, state: MapState) -> None:
    """Keep the state of the version being written (content hash `content_hash`) for the next refresh, which
    compares its version with it: made again from the version's tables it takes seconds of pandas on a national
    map (bench L: 1.8 s of CPU, against 0.3 s to read it back). Its facts are read from the version's manifest
    again when it is taken."""
    keep(private / KEPT_STATE, (content_hash, code_digest()), replace(state, facts=None))


def _kept_state(private: Path, manifest: Mapping[str, Any]) -> MapState | None:
    """The state `keep_state` kept, when it is the state of the version of this manifest, made by this code."""
    state = kept(private / KEPT_STATE, (manifest.get("content_hash"), code_digest()))
    return replace(state, facts=facts_of(manifest)) if isinstance(state, MapState) else None


_STATES: dict[tuple[str, str], Future[MapState]] = {}  # (folder, digest of its manifest) -> its state
_STATES_LOCK = threading.Lock()


def _state_of(folder: Path, in_background: bool, private: Path | None) -> Future[MapState]:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise PublishError(f"{folder}: not a complete map version (no {MANIFEST})")
    text = manifest.read_bytes()
    key = (str(folder.resolve()), hashlib.sha256(text).hexdigest())  # a folder made again is another version
    with _STATES_LOCK:
        future = _STATES.get(key)
        if future is not None:
            return future
        _STATES.clear()  # one kept: a state holds a whole map's tables
        future = _STATES[key] = Future()

    def make() -> None:
        try:
            manifest = json.loads(text)
            kept = _kept_state(private, manifest) if private is not None else None
            future.set_result(kept or version_state(MapVersion(folder, manifest)))
        except BaseException as error:  # raised where the state is awaited; not kept for a later call
            with _STATES_LOCK:
                _STATES.pop(key, None)
            future.set_exception(error)

    if in_background:
        threading.Thread(target=make, name="previous-state", daemon=True).start()
    else:
        make()
    return future


def version_analyses(graph: nx.DiGraph, tables: Mapping[str, pd.DataFrame], lanes: Sequence[str],
                     previous: Path | None, facts: VersionFacts | None = None,
                     measured: MeasuredMap | None = None, private: Path | None = None,
                     content_hash: str | None = None) -> dict[str, pd.DataFrame]:
    """Every analysis table of a version; with a previous version, also `changes` against it and `comparison`
    (what differs between the two versions: period, config, sources; `facts` are this version's). `measured`:
    the tables' totals when the caller has them (`measured_of`). With the map's `private` area and the version's
    `content_hash`, the version's state is kept there for the next refresh (`keep_state`), and the previous
    version's taken from there when kept."""
    measured = measured or measured_of(tables)
    found = analysis_tables(graph, lanes, tables["initiatives"], tables["organisations"], measured,
                            DEFAULT_LOOP_LENGTH)
    after = map_state(tables, measured, facts, graph) if previous is not None or private is not None else None
    if private is not None and content_hash is not None and after is not None:
        keep_state(private, content_hash, after)
    if previous is not None and after is not None:
        before = previous_state(previous, private)
        found["changes"] = map_changes(before, after, CHANGELOG_THRESHOLD)
        if before.facts is not None and facts is not None:
            found["comparison"] = version_comparison(before.facts, facts)
    found["parameters"] = pd.DataFrame([
        ("loop_length_cap", str(DEFAULT_LOOP_LENGTH), "loops list cycles of at most this many services"),
        ("change_threshold", str(CHANGELOG_THRESHOLD),
         "flows and activity totals are listed as changed when they moved by more than this share"),
        ("betweenness", "volume and steps", "betweenness: distance 1/volume; betweenness_unweighted: hops"),
        ("delayed_measures", ";".join(DELAYED_MEASURES), "activity measures read as delayed-discharge bed days"),
        ("demand_measures", ";".join(measured.catalogue.demand),
         "lane demand and coverage add only these activity measures (map config [measures] demand; default "
         + ", ".join(DEFAULT_DEMAND) + ")"),
        ("demand_unit", measured.catalogue.demand_unit,
         "a service's demand: its activity in the demand measures plus the flow into it in measures of this unit"),
    ], columns=["parameter", "value", "meaning"])
    return found


def deferred_analyses(graph: nx.DiGraph, tables: Mapping[str, pd.DataFrame], lanes: Sequence[str],
                      previous: Path | None, facts: VersionFacts | None = None,
                      measured: MeasuredMap | None = None, private: Path | None = None,
                      content_hash: str | None = None) -> Callable[[], dict[str, pd.DataFrame]]:
    """`version_analyses`, made when the result is first called (then kept), so that the writers that do not need
    them go first. Betweenness (igraph) and loops (transforms/centrality.py) take well under a second of CPU on a
    national map (bench/results/centrality.md), so a second process would cost more to start than it saves."""
    needed = {table: tables[table] for table in (*GRAPH_TABLES, "measures") if table in tables}

    @cache
    def made() -> dict[str, pd.DataFrame]:
        return version_analyses(graph, needed, lanes, previous, facts, measured, private, content_hash)

    return made
