"""The map dataset inside a version: each table as Parquet and CSV, one DuckDB file, and `datapackage.json`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, FOREIGN_KEYS, PRIMARY_KEYS, QUALIFIERS, columns
from outputs.context import PublishedVersion

SCHEMA_VERSION = "1.0.0"
DATE_COLUMNS = ("period_start", "period_end")
FIELD_DESCRIPTIONS: dict[str, str] = {
    "organisation_id": "Stable organisation id, derived from the partner and its own key.",
    "service_id": "Stable service id (map node), derived from the source's own key, never a row number.",
    "from_service_id": "Service the demand flows from.",
    "to_service_id": "Service the demand flows to.",
    "lane": "The map's grouping of the service (from the map config).",
    "sector": "nhs, local_authority, third_sector, independent, national, housing or other.",
    "period_start": "First day of the month.",
    "period_end": "Last day of the month.",
    "measure": "What is counted: attendances, admissions, referrals, bed_days, ...",
    "value": "The count for the month; empty when suppressed or not available (see qualifier).",
    "qualifier": "PHS-style qualifier: " + ", ".join(f"{k} {v}" for k, v in QUALIFIERS.items()) + ".",
    "source_id": "The source that supplied the row (provenance).",
    "source_ids": "Every source that named this service, ';'-separated.",
    "external_ids": "Ids of the service elsewhere, ';'-separated scheme:value (hsds, phs_location, ...).",
    "row_number": "Line or row of the record in its file (0: the whole file).",
}


def publishable(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table in contract column order, sorted by its key, dates as dates: the same content gives the same
    bytes."""
    frame = frame.reindex(columns=columns(CANONICAL_MODELS[table])).copy()
    for column in DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    order = PRIMARY_KEYS.get(table) or [c for c in frame.columns if c != "row_number"]
    if table == "rejects":
        order = ["source_id", "row_number", "column", "check", "value"]
    return frame.sort_values(order, na_position="first", kind="mergesort").reset_index(drop=True)


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Write each table as Parquet and CSV under `folder`; returns the sha256 of each table's CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for table in CANONICAL_TABLES:
        frame = publishable(table, tables[table])
        frame.to_parquet(folder / f"{table}.parquet", index=False)
        csv_bytes = frame.to_csv(index=False, float_format="%.15g", lineterminator="\n").encode("utf-8")
        (folder / f"{table}.csv").write_bytes(csv_bytes)
        digests[table] = hashlib.sha256(csv_bytes).hexdigest()
    return digests


def write_duckdb(path: Path, folder: Path) -> None:
    """One DuckDB file holding every table, read from the Parquet just written."""
    with duckdb.connect(str(path)) as con:
        for table in CANONICAL_TABLES:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(folder / f"{table}.parquet")])


def content_hash(table_digests: Mapping[str, str], config_digest: str) -> str:
    """The version's content hash: its tables and the map config, nothing that depends on when it ran."""
    digest = hashlib.sha256(config_digest.encode())
    for table in sorted(table_digests):
        digest.update(f"{table}:{table_digests[table]}".encode())
    return digest.hexdigest()


def _field_type(series: pd.Series, column: str) -> str:
    if column in DATE_COLUMNS:
        return "date"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "string"


def datapackage(
    map_id: str, title: str, version_id: str, tables: Mapping[str, pd.DataFrame], sources: list[dict[str, Any]],
    licences: list[dict[str, str]],
) -> dict[str, Any]:
    """A Frictionless Data Package describing every table, its keys and foreign keys."""
    resources = []
    for table in CANONICAL_TABLES:
        frame = publishable(table, tables[table])
        model_columns = CANONICAL_MODELS[table].to_schema().columns
        fields = []
        for column in frame.columns:
            field: dict[str, Any] = {"name": column, "type": _field_type(frame[column], column)}
            if column in FIELD_DESCRIPTIONS:
                field["description"] = FIELD_DESCRIPTIONS[column]
            if not model_columns[column].nullable:
                field["constraints"] = {"required": True}
            fields.append(field)
        schema: dict[str, Any] = {"fields": fields}
        if table in PRIMARY_KEYS:
            schema["primaryKey"] = PRIMARY_KEYS[table]
        if table in FOREIGN_KEYS:
            schema["foreignKeys"] = [
                {"fields": [column], "reference": {"resource": ref_table, "fields": [ref_column]}}
                for column, ref_table, ref_column in FOREIGN_KEYS[table]
            ]
        resources.append({
            "name": table, "path": f"{table}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "schema": schema,
        })
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": map_id,
        "title": title,
        "version": version_id,
        "ism_schema_version": SCHEMA_VERSION,
        "licenses": licences,
        "sources": sources,
        "resources": resources,
    }


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def dataset_artefact(version: PublishedVersion) -> list[Path]:
    """The DuckDB file and `datapackage.json` (the Parquet and CSV tables are written first, for the hash)."""
    write_duckdb(version.folder / "map.duckdb", version.folder)
    package = datapackage(version.map_id, version.title, version.version_id, version.tables,
                          [{"title": s["source_id"], "path": s["location"]} for s in version.sources],
                          list(version.licences))
    write_json(version.folder / "datapackage.json", package)
    return [version.folder / "map.duckdb", version.folder / "datapackage.json"]
