"""The map dataset inside a version: each table as Parquet and CSV, one DuckDB file, and `datapackage.json`; and
the published contract itself (types, keys, descriptions, SCHEMA_VERSION) that docs/dataset.md documents."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from expectations.canonical import (
    CANONICAL_MODELS,
    CANONICAL_TABLES,
    FOREIGN_KEYS,
    LIST_SEPARATOR,
    PRIMARY_KEYS,
    QUALIFIERS,
    columns,
)
from outputs.context import PublishedVersion
from outputs.json_text import json_text
from outputs.safe_text import csv_text
from outputs.store.reuse import Reuse

# Semantic version of the published contract (tables, columns, types, keys): major for a breaking change
# (removed or renamed table or column, changed type or key), minor for an addition. See docs/dataset.md.
SCHEMA_VERSION = "1.1.0"  # 1.1.0: the measures table (the measure catalogue)
DATE_COLUMNS = ("period_start", "period_end")
TABLE_DESCRIPTIONS: dict[str, str] = {
    "organisations": "Every organisation on the map: each partner itself, and every organisation a partner lists.",
    "services": "The map's nodes: one row per real service, however many partners name it.",
    "activity": "Monthly activity at each service, per measure and source.",
    "flows": "The map's edges: monthly flows of demand from one service to another, per measure and source.",
    "initiatives": "The improvement work overlay: initiatives from the map config and the services they touch.",
    "measures": "The measure catalogue: what each measure of activity and flows counts, in which unit, and how its "
    "monthly values make a figure for a longer period. Every total follows it; unlike units are never added.",
    "rejects": "Every row (or whole file) not taken, traceable to source, file, row and column. Nothing is "
    "dropped silently.",
}
# A description per column; "table.column" where one name means different things in different tables.
FIELD_DESCRIPTIONS: dict[str, str] = {
    "organisation_id": "Stable organisation id, derived from the partner and its own key.",
    "organisations.organisation_id": "Stable organisation id: org_ and 12 hex digits derived from the partner id "
    "and the partner's own organisation key (a partner's own organisation: its id alone).",
    "organisations.name": "Name of the organisation (for a partner's own organisation: its name in the map config).",
    "sector": "Sector of the organisation.",
    "partner": "The data partner (map config [partners.<id>]) that is or listed the organisation.",
    "email": "Contact email, as the partner sent it.",
    "phone": "Contact phone number, as the partner sent it.",
    "website": "Website, as the partner sent it.",
    "organisations.source_id": "The source that listed the organisation; config for a partner's own organisation.",
    "service_id": "The service (services.service_id).",
    "services.service_id": "Stable service id (map node): svc_ and 12 hex digits derived from the partner and the "
    "source's own service key, never a row number; the same across runs, reordered sources and renamed services.",
    "services.name": "Name of the service, from the source its id derives from.",
    "description": "What the service does, as the partner describes it.",
    "services.organisation_id": "The organisation that runs the service (organisations.organisation_id).",
    "lane": "The map's grouping of the service: one of the map's lane ids (map config [[lanes]]; datapackage.json "
    "lists them).",
    "setting": "Where the service is delivered, as the partner describes it.",
    "client_groups": "Client groups served, ';'-separated.",
    "locality": "Locality within the partnership area, as the partner names it.",
    "area_code": "Area code of the service (e.g. HSCP S37...), as sent.",
    "services.status": "Operating status of the service, as the partner sent it.",
    "external_ids": "Ids of the service elsewhere, ';'-separated scheme:value (hsds, phs_location, ...).",
    "services.source_id": "The source whose record represents the service (the one its id derives from).",
    "source_ids": "Every source that named this service, ';'-separated.",
    "from_service_id": "Service the demand flows from (services.service_id).",
    "to_service_id": "Service the demand flows to (services.service_id).",
    "period_start": "First day of the month the row covers.",
    "period_end": "Last day of that month.",
    "measure": "What is counted, lower_snake_case: attendances, admissions, referrals, contacts, bed_days, "
    "caseload, ... (measures.measure: its label, unit and kind).",
    "measures.measure": "The measure, as activity.measure and flows.measure name it.",
    "label": "What a person reads for the measure.",
    "unit": "What one unit of the measure is (people, bed days, hours, %, ...); figures in different units are "
    "never added.",
    "kind": "count: adds over months and services; stock: a point in time (adds over services; over months the "
    "mean or the last month); average: a mean over the month (averaged over months weighted by days, not added "
    "over services); percentage or rate: never added, recomputed from numerator and denominator.",
    "period_figure": "How the figure of a longer period is made: sum, mean, last (month), ratio (numerator total / "
    "denominator total x scale) or monthly (shown per month only).",
    "numerator": "Percentage or rate: the count measure over the denominator; empty otherwise.",
    "denominator": "Percentage or rate: the count measure it is a share of; empty otherwise.",
    "scale": "Percentage or rate: the ratio is multiplied by this (100 for a percentage); empty otherwise.",
    "part_of": "The measure this one breaks down (e.g. delayed bed days of bed days): never added to it; empty: "
    "none.",
    "demand": "True for the comparable measures lane demand and initiative coverage add (one unit; map config "
    "[measures] demand).",
    "origin": "builtin: the built-in catalogue; config: declared or overridden in the map config; undeclared: no "
    "catalogue knows it (a warning), treated as a count of its own unit.",
    "activity.value": "Total of the measure at the service in the month; empty when suppressed or not available "
    "(see qualifier).",
    "flows.value": "Volume of the flow in the month, in the measure; empty when suppressed or not available "
    "(see qualifier).",
    "qualifier": "PHS-style qualifier code of the value (see the qualifier codes); empty: a plain value.",
    "activity.source_id": "The source that reported the activity.",
    "flows.source_id": "The source that reported the flow.",
    "initiative_id": "Id of the improvement initiative, from the map config.",
    "initiatives.name": "Name of the initiative.",
    "initiatives.status": "Status of the initiative, as the map config gives it (e.g. planned, in progress, live).",
    "service_ids": "Services the initiative touches, ';'-separated service ids; empty when it names none the map "
    "knows (each name the map does not know is a reject).",
    "lead_organisation_id": "Organisation leading the initiative (organisations.organisation_id); empty when none "
    "is named.",
    "rejects.source_id": "The source the rejected row came from; config for the map config itself.",
    "location": "File the row came from, relative to the map config.",
    "row_number": "Line or row of the record in its file; 0: the whole file or its header; empty: not bound to a "
    "row.",
    "column": "The canonical column (or config key) at fault.",
    "check": "Code of the failed check, from the check catalogue (expectations/checks.py).",
    "severity": "error: the row (or the whole source) was not taken; warn: reported only.",
    "rejects.value": "The offending value, as text.",
    "message": "What is wrong, in one sentence.",
}
FIELD_UNITS: dict[str, str] = {
    "activity.value": "the measure's unit (measures.unit)",
    "flows.value": "the measure's unit (measures.unit)",
    "row_number": "line or row in the file",
}
# Where the published type differs from the pandera dtype: row numbers are whole, but may be empty, so the
# frames (and Parquet) hold them as float.
FIELD_TYPE_OVERRIDES: dict[str, str] = {"rejects.row_number": "integer"}
# Required by the pandera contract, yet an empty list is written as an empty cell, which CSV cannot tell from a
# missing value: so not `required` in the published schema.
EMPTY_LISTS_ALLOWED = {"initiatives.service_ids"}
EXTRA_ALLOWED_VALUES: dict[str, tuple[str, ...]] = {"qualifier": tuple(QUALIFIERS)}

MAP_LICENCES: dict[str, dict[str, str]] = {
    "OGL-UK-3.0": {"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
                   "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"},
    "CC-BY-4.0": {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                  "path": "https://creativecommons.org/licenses/by/4.0/"},
    "CC-BY-SA-4.0": {"name": "CC-BY-SA-4.0", "title": "Creative Commons Attribution-ShareAlike 4.0",
                     "path": "https://creativecommons.org/licenses/by-sa/4.0/"},
    "CC0-1.0": {"name": "CC0-1.0", "title": "Creative Commons CC0 1.0",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/"},
    "ODbL-1.0": {"name": "ODbL-1.0", "title": "Open Data Commons Open Database License 1.0",
                 "path": "https://opendatacommons.org/licenses/odbl/1-0/"},
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


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame], reuse: Reuse | None = None) -> dict[str, str]:
    """Write each table as Parquet and CSV under `folder`; returns the sha256 of each table's CSV. With `reuse`,
    a table whose exact content equals the previous version's (table_key) is linked from it, not written: its CSV
    text is not even made (a fifth of the tables' time at bench L with one source changed)."""
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for table in CANONICAL_TABLES:
        frame = publishable(table, tables[table])
        key = table_key(frame)
        if reuse is not None and reuse.take(folder, f"{table}.csv", key):
            csv_bytes = (folder / f"{table}.csv").read_bytes()  # the digest of the file published, as linked
        else:
            csv_bytes = csv_text(frame).encode("utf-8")  # text cells that would run as formulas are quoted
            (folder / f"{table}.csv").write_bytes(csv_bytes)
        digests[table] = hashlib.sha256(csv_bytes).hexdigest()
        if reuse is None or not reuse.take(folder, f"{table}.parquet", key):
            frame.to_parquet(folder / f"{table}.parquet", index=False)
    return digests


def table_key(frame: pd.DataFrame) -> str:
    """What a table's Parquet and CSV are made from, exactly: column names and types, every value's bits (numbers as
    they are held: pandas' hashing makes -0.0 alike 0.0, which the CSV tells apart), the kind of values each text
    column holds (pandas hashes the text of mixed values, in which 1 and True are alike), and the versions of the
    libraries that write them."""
    kinds = [pd.api.types.infer_dtype(frame[c], skipna=False) if frame[c].dtype == object else "" for c in frame]
    digest = hashlib.sha256(f"{list(frame.columns)}|{[str(t) for t in frame.dtypes]}|{kinds}|"
                            f"{pd.__version__}|{pa.__version__}".encode())
    for column in frame:
        values = frame[column]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiubmM":
            digest.update(np.ascontiguousarray(values.to_numpy()).tobytes())
        else:
            digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return digest.hexdigest()


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


def _qualified(table: str, column: str) -> str:
    return f"{table}.{column}"


def field_description(table: str, column: str) -> str:
    """The description of one column (KeyError when the contract has a column nobody described)."""
    return FIELD_DESCRIPTIONS.get(_qualified(table, column)) or FIELD_DESCRIPTIONS[column]


def field_unit(table: str, column: str) -> str | None:
    return FIELD_UNITS.get(_qualified(table, column)) or FIELD_UNITS.get(column)


def field_type(table: str, column: str) -> str:
    """The Frictionless type of one column, from its pandera dtype (dates are published as dates)."""
    if _qualified(table, column) in FIELD_TYPE_OVERRIDES:
        return FIELD_TYPE_OVERRIDES[_qualified(table, column)]
    dtype = str(CANONICAL_MODELS[table].to_schema().columns[column].dtype).lower()
    if dtype.startswith("datetime"):
        return "date"
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "number"
    if dtype.startswith("bool"):
        return "boolean"
    return "string"


def field_constraints(table: str, column: str, lanes: Sequence[str] = ()) -> dict[str, Any]:
    """Frictionless constraints of one column, from its pandera checks (and the map's lanes, when given)."""
    contract = CANONICAL_MODELS[table].to_schema().columns[column]
    constraints: dict[str, Any] = {}
    if not contract.nullable and _qualified(table, column) not in EMPTY_LISTS_ALLOWED:
        constraints["required"] = True
    if contract.unique:
        constraints["unique"] = True
    for check in contract.checks:
        statistics = check.statistics or {}
        if check.name == "isin":
            constraints["enum"] = list(statistics["allowed_values"])
        elif check.name == "str_matches":
            constraints["pattern"] = statistics["pattern"]
        elif check.name == "greater_than_or_equal_to":
            constraints["minimum"] = statistics["min_value"]
        elif check.name == "greater_than":
            constraints["exclusiveMinimum"] = statistics["min_value"]
    if column in EXTRA_ALLOWED_VALUES:
        constraints["enum"] = list(EXTRA_ALLOWED_VALUES[column])
    if column == "lane" and lanes:
        constraints["enum"] = list(lanes)
    return constraints


def table_schema(table: str, lanes: Sequence[str] = ()) -> dict[str, Any]:
    """The Frictionless Table Schema of one canonical table: fields, missing values, primary and foreign keys."""
    fields = []
    for column in columns(CANONICAL_MODELS[table]):
        field: dict[str, Any] = {"name": column, "type": field_type(table, column),
                                 "description": field_description(table, column)}
        constraints = field_constraints(table, column, lanes)
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table in PRIMARY_KEYS:
        schema["primaryKey"] = PRIMARY_KEYS[table]
    if table in FOREIGN_KEYS:
        schema["foreignKeys"] = [
            {"fields": [column], "reference": {"resource": ref_table, "fields": [ref_column]}}
            for column, ref_table, ref_column in FOREIGN_KEYS[table]
        ]
    return schema


def contract() -> dict[str, Any]:
    """The published contract as data (tables, columns, types, required, keys): what the snapshot test keeps."""
    tables = {}
    for table in CANONICAL_TABLES:
        schema = table_schema(table)
        tables[table] = {
            "fields": [{"name": f["name"], "type": f["type"],
                        "required": bool(f.get("constraints", {}).get("required"))} for f in schema["fields"]],
            "primaryKey": schema.get("primaryKey", []),
            "foreignKeys": schema.get("foreignKeys", []),
        }
    return {"schema_version": SCHEMA_VERSION, "tables": tables}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _allowed(constraints: Mapping[str, Any], column: str) -> str:
    parts = []
    if "enum" in constraints:
        parts.append(", ".join(f"`{value}`" for value in constraints["enum"]))
    elif column == "lane":
        parts.append("the map's lane ids")
    if "pattern" in constraints:
        parts.append(f"pattern `{constraints['pattern']}`")
    if "minimum" in constraints:
        parts.append(f">= {constraints['minimum']}")
    if "exclusiveMinimum" in constraints:
        parts.append(f"> {constraints['exclusiveMinimum']}")
    if constraints.get("unique"):
        parts.append("unique")
    if column in ("client_groups", "external_ids", "source_ids", "service_ids"):
        parts.append(f"list joined with `{LIST_SEPARATOR}`")
    return "; ".join(parts)


def contract_markdown() -> str:
    """The column tables of docs/dataset.md, generated from the contracts so they cannot drift."""
    lines = [f"Schema version **{SCHEMA_VERSION}**.", ""]
    for table in CANONICAL_TABLES:
        schema = table_schema(table)
        lines += [f"### `{table}`", "", TABLE_DESCRIPTIONS[table], ""]
        key = ", ".join(f"`{c}`" for c in schema.get("primaryKey", [])) or "none (every row is kept)"
        lines.append(f"Primary key: {key}.")
        for foreign in schema.get("foreignKeys", []):
            reference = foreign["reference"]
            lines.append(f"Foreign key: `{foreign['fields'][0]}` -> `{reference['resource']}."
                         f"{reference['fields'][0]}`" + (" (may be empty)." if not _required(schema, foreign) else "."))
        lines += ["", "| column | type | required | unit | allowed values | description |", "|---|---|---|---|---|---|"]
        for field in schema["fields"]:
            constraints = field.get("constraints", {})
            lines.append("| " + " | ".join([
                f"`{field['name']}`", field["type"], "yes" if constraints.get("required") else "no",
                _cell(field_unit(table, field["name"]) or ""), _cell(_allowed(constraints, field["name"])),
                _cell(field["description"]),
            ]) + " |")
        lines.append("")
    lines += ["### Qualifier codes", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in QUALIFIERS.items()]
    return "\n".join(lines) + "\n"


def _required(schema: Mapping[str, Any], foreign: Mapping[str, Any]) -> bool:
    field = next(f for f in schema["fields"] if f["name"] == foreign["fields"][0])
    return bool(field.get("constraints", {}).get("required"))


def licence_record(licence: str) -> dict[str, str]:
    """A Data Package licence for a config `licence` value: a known id (OGL-UK-3.0, CC-BY-4.0, ...), a URL, or
    any other name."""
    known = {key.lower(): record for key, record in MAP_LICENCES.items()}
    if licence.strip().lower() in known:
        return dict(known[licence.strip().lower()])
    if licence.startswith(("http://", "https://")):
        return {"path": licence, "title": licence}
    return {"name": licence, "title": licence}


def package_licences(map_licence: Mapping[str, str], source_licences: Sequence[str | None]) -> list[dict[str, str]]:
    """The map's own licence first, then each distinct licence its sources carry."""
    found = [dict(map_licence)]
    for licence in source_licences:
        record = licence_record(licence) if licence else None
        if record and record not in found:
            found.append(record)
    return found


def _package_source(source: Mapping[str, Any], partners: Mapping[str, str]) -> dict[str, Any]:
    partner = partners.get(source["partner"], source["partner"])
    entry: dict[str, Any] = {
        "title": source.get("attribution") or f"{source['source_id']} ({partner})",
        "path": source.get("location"),
        "source_id": source["source_id"], "partner": source["partner"], "kind": source.get("kind"),
        "sha256": source.get("sha256"), "status": source.get("status"),
    }
    for key in ("licence", "attribution"):
        if source.get(key):
            entry[key] = source[key]
    return {key: value for key, value in entry.items() if value is not None}


def _file_facts(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return {"bytes": path.stat().st_size, "hash": "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()}


def datapackage(version: PublishedVersion) -> dict[str, Any]:
    """A Frictionless Data Package (v2) describing every table of the version: types, keys, foreign keys,
    licences, sources and attributions; file sizes and hashes when the CSVs are already written."""
    lanes = [lane.id for lane in version.lanes]
    resources = []
    for table in CANONICAL_TABLES:
        resources.append({
            "name": table, "type": "table", "path": f"{table}.csv", "description": TABLE_DESCRIPTIONS[table],
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            **_file_facts(version.folder / f"{table}.csv"),
            "schema": table_schema(table, lanes),
        })
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": version.map_id,
        "title": version.title,
        "description": f"Interconnected Systems Map of {version.population} in {version.area_label}, "
        f"{version.period_label}. It describes the system; it does not forecast or recommend.",
        "version": version.version_id,
        "schema_version": SCHEMA_VERSION,
        "area": {"code": version.area_code, "name": version.area_name, "kind": version.area_kind},
        "population": version.population,
        "period": {"start": version.period_start, "end": version.period_end},
        "lanes": [{"id": lane.id, "label": lane.label} for lane in version.lanes],
        "licenses": list(version.licences),
        "attributions": list(version.attributions),
        "contributors": [{"title": name, "roles": ["contributor"]} for name in version.partners.values()],
        "sources": [_package_source(source, version.partners) for source in version.sources],
        **({"disclosure": version.quality["disclosure"]} if version.quality.get("disclosure") else {}),
        "resources": resources,
    }


def write_json(path: Path, document: Any) -> None:
    path.write_text(json_text(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def dataset_artefact(version: PublishedVersion) -> list[Path]:
    """The DuckDB file and `datapackage.json` (the Parquet and CSV tables are written first, for the hash)."""
    write_duckdb(version.folder / "map.duckdb", version.folder)
    write_json(version.folder / "datapackage.json", datapackage(version))
    return [version.folder / "map.duckdb", version.folder / "datapackage.json"]
