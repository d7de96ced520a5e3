"""Kind `hsds`: Open Referral Human Services Data Specification 3.0 directories as organisations and
services, read from a tabular data package (datapackage.json + CSVs) or from JSON records of the HSDS API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from expectations.checks import RejectRecord
from expectations.errors import SourceError
from sources.base import (
    ROW_COLUMN,
    KindOptions,
    RawTables,
    SourceKind,
    SourceRequest,
    register,
    shown_path,
    source_where,
)
from sources.tabular import csv_frame, decoded_text, json_text


class HsdsOptions(KindOptions):
    # auto: a folder or a datapackage.json is a tabular package; any other .json holds records
    format: Literal["auto", "tabular", "json"] = "auto"


ORGANISATION_COLUMNS = ["organisation_key", "name", "email", "website", "phone", ROW_COLUMN]
SERVICE_COLUMNS = [
    "service_key",
    "name",
    "organisation_key",
    "status",
    "description",
    "external_ids",
    ROW_COLUMN,
]
PACKAGE = "datapackage.json"
# HSDS 3.0 names resources in the singular, 2.x in the plural
ORGANISATION_RESOURCES = ("organization", "organizations")
SERVICE_RESOURCES = ("service", "services")
PHONE_RESOURCES = ("phone", "phones")
# fields only one record type has: how a JSON record says whether it is a service or an organization
SERVICE_MARKS = frozenset(
    {
        "status",
        "organization",
        "organization_id",
        "program",
        "service_areas",
        "service_at_locations",
        "eligibility_description",
    }
)
ORGANISATION_MARKS = frozenset(
    {
        "services",
        "website",
        "legal_status",
        "tax_status",
        "tax_id",
        "year_incorporated",
        "logo",
        "parent_organization_id",
        "organization_identifiers",
        "programs",
    }
)


def _format(location: Path, options: HsdsOptions) -> Literal["tabular", "json"]:
    if options.format != "auto":
        return options.format
    return "tabular" if location.is_dir() or location.name == PACKAGE else "json"


def _package_path(location: Path, where: str) -> Path:
    path = location / PACKAGE if location.is_dir() else location
    if not path.is_file():
        raise SourceError(f"{where}: no {PACKAGE} in the folder; point `location` at an HSDS tabular package")
    return path


# ---- tabular package --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    name: str
    path: Path
    frame: pd.DataFrame
    foreign_keys: list[dict[str, Any]]


def _listed(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _descriptor(package_path: Path, where: str) -> dict[str, Any]:
    try:
        descriptor = json.loads(decoded_text(package_path, "utf-8-sig", where))
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{where}: {PACKAGE} is not valid JSON at line {error.lineno}: {error.msg}"
        ) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise SourceError(
            f"{where}: {PACKAGE} has no `resources` list; is it a Frictionless data package?"
        )
    return descriptor


def _resource_path(package_path: Path, resource: dict[str, Any], where: str) -> Path:
    raw = resource.get("path")
    name = resource.get("name", raw)
    if not isinstance(raw, str) or "://" in raw:
        raise SourceError(
            f"{where}: resource {name!r} has no local `path` (inline data, multi-file and remote "
            "resources are not read); save it as a CSV beside datapackage.json"
        )
    relative = Path(raw)
    if relative.is_absolute() or ".." in relative.parts:
        raise SourceError(
            f"{where}: resource {name!r} path {raw!r} leaves the package folder; "
            "resource paths must be relative and inside it"
        )
    return package_path.parent / relative


def _resource_paths(package_path: Path, where: str) -> list[Path]:
    return [_resource_path(package_path, r, where) for r in _descriptor(package_path, where)["resources"]]


def _resources(package_path: Path, source_id: str, folder: Path) -> dict[str, Resource]:
    where = f"{source_id}: {shown_path(package_path, folder)}"
    resources: dict[str, Resource] = {}
    for entry in _descriptor(package_path, where)["resources"]:
        path = _resource_path(package_path, entry, where)
        name = str(entry.get("name") or path.stem)
        file_where = f"{source_id}: {shown_path(path, folder)}"
        if not path.is_file():
            raise SourceError(
                f"{file_where}: resource {name!r} is listed in {PACKAGE} but the file is missing"
            )
        dialect = entry.get("dialect") or {}
        encoding = str(entry.get("encoding") or "utf-8")
        text = decoded_text(
            path, "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, file_where
        )
        frame = csv_frame(
            text, file_where, str(dialect.get("delimiter", ",")), str(dialect.get("quoteChar", '"'))
        )
        schema = entry.get("schema") or {}
        resources[name] = Resource(name, path, frame, list(schema.get("foreignKeys") or []))
    return resources


def _broken_references(resources: dict[str, Resource], source_id: str, where: str) -> list[RejectRecord]:
    """Every value of every declared foreign key that its referenced resource does not have."""
    problems: list[RejectRecord] = []
    for resource in resources.values():
        for key in resource.foreign_keys:
            fields = _listed(key.get("fields"))
            reference = key.get("reference") or {}
            target_name = reference.get("resource") or resource.name  # "" means the resource refers to itself
            target_fields = _listed(reference.get("fields"))
            if target_name not in resources:
                raise SourceError(
                    f"{where}: resource {resource.name!r} has a foreign key to resource "
                    f"{target_name!r}, which the package does not declare"
                )
            if len(fields) != len(target_fields) or not fields:
                raise SourceError(
                    f"{where}: resource {resource.name!r} foreign key {fields} -> {target_fields} "
                    "does not pair its fields one to one"
                )
            frame, target = resource.frame, resources[target_name].frame
            if any(f not in frame for f in fields):
                continue  # the column is absent, so it holds no values to check
            values = frame[fields].astype("object").where(frame[fields].notna(), None)
            filled = values.notna().any(axis=1)  # empty keys are optional references, not broken ones
            if all(f in target for f in target_fields):
                known = set(target[target_fields].astype("object").itertuples(index=False, name=None))
            else:
                known = set()
            broken = filled & ~pd.Series(
                [tuple(v) in known for v in values.itertuples(index=False, name=None)],
                index=frame.index,
                dtype=bool,
            )
            column, target_column = ", ".join(fields), ", ".join(target_fields)
            for index in frame.index[broken]:
                value = ", ".join("" if v is None else str(v) for v in values.loc[index])
                message = (
                    f"{resource.name}.{column} = {value} refers to {target_name}.{target_column}, "
                    "which has no such value"
                )
                problems.append(
                    RejectRecord(
                        source_id=source_id,
                        check="broken_reference",
                        location=str(resource.path),
                        row_number=int(frame.at[index, ROW_COLUMN]),
                        column=column,
                        value=value,
                        message=message,
                    )
                )
    return problems


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype="str")


def _first_resource(resources: dict[str, Resource], names: tuple[str, ...]) -> Resource | None:
    return next((resources[n] for n in names if n in resources), None)


def _checked(resource: Resource, source_id: str) -> pd.DataFrame:
    missing = [c for c in ("id", "name") if c not in resource.frame]
    if missing:
        raise SourceError(
            f"{source_id}: {resource.path}: missing required columns {', '.join(missing)}; "
            "HSDS requires every record to have an id and a name"
        )
    return resource.frame


def _tabular(request: SourceRequest) -> RawTables:
    where = source_where(request)
    resources = _resources(_package_path(request.location, where), request.source_id, request.folder)
    organisations_in = _first_resource(resources, ORGANISATION_RESOURCES)
    services_in = _first_resource(resources, SERVICE_RESOURCES)
    if organisations_in is None and services_in is None:
        raise SourceError(f"{where}: the package has no organization or service resource; is it HSDS?")
    problems = _broken_references(resources, request.source_id, where)

    def rejected(resource: Resource | None) -> set[int]:
        return {
            p.row_number for p in problems if resource and p.location == str(resource.path) and p.row_number
        }

    organisations = pd.DataFrame(columns=ORGANISATION_COLUMNS)
    if organisations_in is not None:
        orgs = _checked(organisations_in, request.source_id)
        orgs = orgs[~orgs[ROW_COLUMN].isin(rejected(organisations_in))]
        phones = _first_resource(resources, PHONE_RESOURCES)
        phone_of = pd.Series(dtype="str")
        if phones is not None and {"organization_id", "number"} <= set(phones.frame.columns):
            numbered = phones.frame.dropna(subset=["organization_id", "number"])
            phone_of = numbered.drop_duplicates("organization_id").set_index("organization_id")["number"]
        organisations = pd.DataFrame(
            {
                "organisation_key": orgs["id"],
                "name": orgs["name"],
                "email": _column(orgs, "email"),
                "website": _column(orgs, "website"),
                "phone": orgs["id"].map(phone_of),
                ROW_COLUMN: orgs[ROW_COLUMN],
            }
        )
    services = pd.DataFrame(columns=SERVICE_COLUMNS)
    if services_in is not None:
        found = _checked(services_in, request.source_id)
        found = found[~found[ROW_COLUMN].isin(rejected(services_in))]
        services = pd.DataFrame(
            {
                "service_key": found["id"],
                "name": found["name"],
                "organisation_key": _column(found, "organization_id"),
                "status": _column(found, "status"),
                "description": _column(found, "description"),
                "external_ids": "hsds:" + found["id"],
                ROW_COLUMN: found[ROW_COLUMN],
            }
        )
    return RawTables(
        {
            "organisations": _text_frame(organisations, ORGANISATION_COLUMNS),
            "services": _text_frame(services, SERVICE_COLUMNS),
        },
        problems,
    )


# ---- JSON records -----------------------------------------------------------------------------------------


def hsds_records(document: Any) -> list[Any]:
    """The records of a document: one record, a list of records, or an API page with `contents`."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return document["contents"]
    if isinstance(document, list):
        return document
    return [document]


def _first_phone(record: dict[str, Any]) -> str | None:
    for phone in record.get("phones") or []:
        if isinstance(phone, dict) and phone.get("number") not in (None, ""):
            return json_text(phone["number"])
    return None


def _collected(
    record: Any, position: int, where: str, parent_organisation: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, raw row) for a record and each record nested in it, in document order."""
    if not isinstance(record, dict):
        raise SourceError(f"{where}: record {position} is not a JSON object")
    keys = set(record)
    if isinstance(record.get("service"), dict) and not keys & SERVICE_MARKS:  # a service_at_location record
        yield from _collected(record["service"], position, where)
    elif keys & SERVICE_MARKS:
        organisation = record.get("organization") if isinstance(record.get("organization"), dict) else None
        organisation_key = (
            record.get("organization_id") or (organisation or {}).get("id") or parent_organisation
        )
        key = json_text(record.get("id"))
        yield (
            "services",
            {
                "service_key": key,
                "name": json_text(record.get("name")),
                "organisation_key": json_text(organisation_key),
                "status": json_text(record.get("status")),
                "description": json_text(record.get("description")),
                "external_ids": f"hsds:{key}" if key else None,
            },
        )
        if organisation is not None:
            yield from _collected(organisation, position, where)
    elif keys & ORGANISATION_MARKS:
        key = json_text(record.get("id"))
        yield (
            "organisations",
            {
                "organisation_key": key,
                "name": json_text(record.get("name")),
                "email": json_text(record.get("email")),
                "website": json_text(record.get("website")),
                "phone": _first_phone(record),
            },
        )
        for service in record.get("services") or []:
            yield from _collected(service, position, where, parent_organisation=key)
    else:
        raise SourceError(
            f"{where}: record {position} is neither an HSDS service nor an organization "
            f"(its fields: {', '.join(sorted(keys)) or 'none'}); this kind reads services, "
            "organizations and service_at_location records"
        )


def _deduplicated(rows: list[dict[str, Any]], key: str, columns: list[str]) -> pd.DataFrame:
    """One row per id, the first record's values filled in from later copies; rows without an id are kept."""
    frame = pd.DataFrame(rows, columns=columns, dtype="object")
    if frame.empty:
        return frame
    keyed = frame[frame[key].notna()].groupby(key, sort=False, as_index=False).first()
    return pd.concat([keyed, frame[frame[key].isna()]]).sort_values(ROW_COLUMN, kind="stable")[columns]


def _json(request: SourceRequest) -> RawTables:
    where = source_where(request)
    if request.location.is_dir():
        raise SourceError(
            f'{where}: a folder is not a JSON file; use format "tabular" or point at a .json file'
        )
    try:
        document = json.loads(decoded_text(request.location, "utf-8-sig", where))
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{where}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    rows: dict[str, list[dict[str, Any]]] = {"organisations": [], "services": []}
    for position, record in enumerate(hsds_records(document), start=1):
        for table, row in _collected(record, position, where):
            # the row is the record's 1-based place among this table's records, in document order
            rows[table].append({**row, ROW_COLUMN: len(rows[table]) + 1})
    return RawTables(
        {
            "organisations": _text_frame(
                _deduplicated(rows["organisations"], "organisation_key", ORGANISATION_COLUMNS),
                ORGANISATION_COLUMNS,
            ),
            "services": _text_frame(
                _deduplicated(rows["services"], "service_key", SERVICE_COLUMNS), SERVICE_COLUMNS
            ),
        }
    )


# ---- the kind ---------------------------------------------------------------------------------------------


def _text_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The raw frame's columns in order: text columns as `str`, the row column as int."""
    frame = frame.reindex(columns=columns).reset_index(drop=True)
    return frame.astype({**{c: "str" for c in columns if c != ROW_COLUMN}, ROW_COLUMN: "int64"})


def _read(request: SourceRequest) -> RawTables:
    options: HsdsOptions = request.options  # type: ignore[assignment]
    return _tabular(request) if _format(request.location, options) == "tabular" else _json(request)


def _hashed_files(request: SourceRequest) -> list[Path]:
    location, options = request.location, request.options
    if not isinstance(options, HsdsOptions) or _format(location, options) != "tabular":
        return []
    where = source_where(request)
    package_path = _package_path(location, where)
    return [path for path in _resource_paths(package_path, where) if path.is_file()]


HSDS = register(
    SourceKind(
        name="hsds",
        read=_read,
        options=HsdsOptions,
        tables=("organisations", "services"),
        default_columns={
            "organisations": {c: c for c in ("organisation_key", "name", "email", "website", "phone")},
            "services": {
                c: c for c in ("service_key", "name", "description", "organisation_key", "status", "external_ids")
            },
        },
        hashed_files=_hashed_files,
    )
)
