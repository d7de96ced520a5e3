"""The analysis step of a refresh, and reading a published version back: wires transforms/analyses and
transforms/diff to the tables of the version being written and of the one before it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx
import pandas as pd

from expectations.errors import ConfigError, PublishError
from outputs.changelog import CHANGELOG_THRESHOLD
from outputs.reader import MapVersion, VersionSelectorError, open_version
from outputs.versions import MANIFEST, MapStore
from transforms.analyses import DEFAULT_LOOP_LENGTH, DELAYED_MEASURES, analysis_tables
from transforms.diff import map_changes
from transforms.graph import service_graph

GRAPH_TABLES = ("services", "organisations", "activity", "flows", "initiatives")


def opened_version(store: MapStore, version: str = "latest") -> MapVersion:
    """A published version of the store's map ("latest", an id such as v0003, or a date YYYY-MM-DD)."""
    if not store.complete_versions():
        raise PublishError(f"{store.folder}: map {store.map_id!r} has no published version yet; "
                           "run `ism refresh` with its config first")
    try:
        return open_version(store.root, store.map_id, version)
    except VersionSelectorError as error:
        raise ConfigError(str(error)) from None


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
