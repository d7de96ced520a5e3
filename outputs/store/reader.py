"""Reading a published map version for Python consumers: pick a version (latest, an id, or as of a date) and get
its tables as DataFrames, a read-only DuckDB connection, its graph and its manifest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import networkx as nx
import pandas as pd

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, columns
from expectations.errors import PublishError, UnknownReferenceError
from expectations.measures import PeriodFigure, catalogue_of
from outputs.store.versions import DATAPACKAGE, LATEST, VERSION_PATTERN, MapStore

GraphBuilder = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame], nx.DiGraph]
"""Builds a graph from (services, organisations, activity, flows), e.g. `transforms.graph.service_graph`."""

VersionSelector = str | date | datetime
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _created_at(manifest: dict[str, Any]) -> datetime:
    created = datetime.fromisoformat(str(manifest["created_at"]))
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def version_as_of(store: MapStore, moment: date | datetime) -> str:
    """The newest complete version created on or before `moment` (a date means the end of that day, UTC)."""
    if isinstance(moment, datetime):
        limit = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        chosen = [v for v in store.complete_versions() if _created_at(store.manifest(v)) <= limit]
    else:
        chosen = [v for v in store.complete_versions() if _created_at(store.manifest(v)).date() <= moment]
    if not chosen:
        first = store.complete_versions()
        since = f"; the first, {first[0]}, was created {store.manifest(first[0])['created_at']}" if first else ""
        raise UnknownReferenceError(f"{store.folder}: no version of map {store.map_id!r} was created on or before "
                           f"{moment.isoformat()}{since}")
    return chosen[-1]


def resolve_version(store: MapStore, version: VersionSelector = LATEST) -> str:
    """The version id a selector names: "latest", an id such as "v0003", or a date ("2026-01-31", a `date` or a
    `datetime`) meaning the newest version created on or before it. Raises UnknownReferenceError for a malformed
    selector or a version that does not exist, PublishError when the map has no version yet."""
    if isinstance(version, date):
        return version_as_of(store, version)
    text = version.strip()
    if text == LATEST:
        latest = store.latest()
        if latest is None:
            raise PublishError(f"{store.folder}: map {store.map_id!r} has no published version yet")
        return latest
    if VERSION_PATTERN.match(text):
        known = store.complete_versions()
        if text not in known:
            raise UnknownReferenceError(f"{store.folder}: no version {text!r}; known: {', '.join(known) or 'none'}")
        return text
    if ISO_DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise UnknownReferenceError(f"version {version!r}: not a real date; use YYYY-MM-DD") from None
        return version_as_of(store, day)
    raise UnknownReferenceError(f"version {version!r}: use latest, a version id such as v0003, or a date YYYY-MM-DD")


@dataclass
class MapVersion:
    """One complete, published version. Tables are read from Parquet on first use and typed as their contracts
    say (dates as datetime64); the version folder is never written to."""

    path: Path
    manifest: dict[str, Any]
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def version_id(self) -> str:
        return str(self.manifest["version_id"])

    @property
    def map_id(self) -> str:
        return str(self.manifest["map_id"])

    @property
    def datapackage(self) -> dict[str, Any]:
        return json.loads((self.path / DATAPACKAGE).read_text(encoding="utf-8"))

    def table(self, name: str) -> pd.DataFrame:
        """One canonical table as a DataFrame (a copy: change it freely)."""
        if name not in CANONICAL_TABLES:
            raise KeyError(f"no table {name!r}; tables: {', '.join(CANONICAL_TABLES)}")
        if name not in self._tables:
            frame = pd.read_parquet(self.path / f"{name}.parquet")
            schema = CANONICAL_MODELS[name].to_schema().columns
            for column in columns(CANONICAL_MODELS[name]):
                if column in frame and str(schema[column].dtype).startswith("datetime"):
                    frame[column] = pd.to_datetime(frame[column])
            self._tables[name] = frame
        return self._tables[name].copy()

    @property
    def organisations(self) -> pd.DataFrame:
        return self.table("organisations")

    @property
    def services(self) -> pd.DataFrame:
        return self.table("services")

    @property
    def activity(self) -> pd.DataFrame:
        return self.table("activity")

    @property
    def flows(self) -> pd.DataFrame:
        return self.table("flows")

    @property
    def initiatives(self) -> pd.DataFrame:
        return self.table("initiatives")

    @property
    def rejects(self) -> pd.DataFrame:
        return self.table("rejects")

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the version's DuckDB file (close it when done, or use `with`)."""
        return duckdb.connect(str(self.path / "map.duckdb"), read_only=True)

    def graph(self, builder: GraphBuilder | None = None) -> nx.DiGraph:
        """The map as a DiGraph. With `builder` (e.g. `transforms.graph.service_graph`, which gives every measure
        its period figure whatever its kind), the graph it builds from (services, organisations, activity, flows).
        Without, the plain structure as published, following the version's own `measures` table: a node per
        service carrying its columns, an edge per pair of services with a known flow value, carrying `measures`
        (measure -> the sum of its known values over the period, for count measures only: a stock, average,
        percentage or rate has no period sum) and `volume` (the flow in the catalogue's demand unit: the sums of
        the measures counted as inflow, 0.0 when none)."""
        if builder is not None:
            return builder(self.services, self.organisations, self.activity, self.flows)
        # a version from before the measures table: the built-in catalogue
        catalogue = catalogue_of(self.table("measures") if (self.path / "measures.parquet").is_file() else None)
        graph = nx.DiGraph()
        for row in self.services.to_dict("records"):
            graph.add_node(row["service_id"], **{k: _plain(v) for k, v in row.items() if k != "service_id"})
        flows = self.flows
        known = flows[flows["value"].notna()]
        sums = known.groupby(["from_service_id", "to_service_id", "measure"])["value"].sum()
        for (source, target, measure), total in sums.items():
            if not graph.has_edge(source, target):
                graph.add_edge(source, target, volume=0.0, measures={})
            if catalogue.get(measure).period_figure == PeriodFigure.SUM:
                graph.edges[source, target]["measures"][measure] = float(total)
            if catalogue.counts_as_inflow(measure):
                graph.edges[source, target]["volume"] += float(total)
        return graph


def _plain(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def open_version(root: str | Path, map_id: str, version: VersionSelector = LATEST) -> MapVersion:
    """Open one published version of a map under a publish root: "latest", an id such as "v0003", or a date
    (the newest version created on or before it)."""
    store = MapStore(Path(root), map_id)
    if not store.folder.is_dir():
        raise PublishError(f"{store.folder}: no published map {map_id!r} under {root}")
    version_id = resolve_version(store, version)
    return MapVersion(store.version_path(version_id), store.manifest(version_id))
