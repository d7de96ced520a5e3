"""The safe-to-publish guards as the refresh runs them: the personal-identifier scan of each raw table, disclosure
control of the consolidated tables, and keeping credentials (values of `*_env` variables) out of logs, errors and
published files. The rules themselves live in expectations/identifiers.py and transforms/disclosure.py."""

from __future__ import annotations

import json
import logging
import os
import shutil
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from expectations.checks import RejectRecord
from expectations.errors import PublishError
from expectations.identifiers import identifier_findings
from flows.config import MapConfig, Source
from outputs.secret_scan import leaked_secret_files
from outputs.store.workarea import parquet_sample
from transforms.disclosure import suppressed_tables
from transforms.rejects import rejects_frame

DISCLOSURE_TABLE = "disclosure_summary"
SECRET_SUFFIX = "_env"
MIN_SECRET_LENGTH = 4  # shorter values would match everywhere; such a credential is no credential
REDACTED = "***"


# ---- personal identifiers ----------------------------------------------------------------------------------


def identifier_rejects(source: Source, raw: Mapping[str, str], location: str) -> pd.DataFrame:
    """Whole-file rejects (row 0, value empty) for every raw column that looks like personal data; empty when
    none does. Columns the source declares safe or pseudonymised are not scanned."""
    records = []
    for table, path in raw.items():
        sample, rows = parquet_sample(path)
        for finding in identifier_findings(sample, source.safe_columns, source.pseudonymised_columns):
            message = finding.message(rows) if len(raw) == 1 else f"{table}: {finding.message(rows)}"
            records.append(RejectRecord(source.id, "personal_identifier", message, location, 0, finding.column))
    return rejects_frame(records)


def blocked_for_identifiers(rejects: pd.DataFrame) -> list[dict[str, Any]]:
    """Sources refused for personal identifiers, with the columns and why (never a value), for the report."""
    found = rejects[rejects["check"] == "personal_identifier"]
    return [{"source_id": source_id, "columns": group["column"].tolist(), "messages": group["message"].tolist()}
            for source_id, group in found.groupby("source_id", sort=True)]


# ---- disclosure control ------------------------------------------------------------------------------------


def suppress_consolidated(con: duckdb.DuckDBPyConnection, threshold: int) -> dict[str, Any]:
    """Suppress the consolidated `activity` and `flows` in place (transforms/disclosure.py), so every later step
    (checks, graph, every artefact) only ever sees publishable values; keeps the summary in the database."""
    activity = con.execute("SELECT rowid AS __rowid, * FROM activity").df()
    flows = con.execute("SELECT rowid AS __rowid, * FROM flows").df()
    outcome = suppressed_tables(activity, flows, threshold)
    for table, before, after in (("activity", activity, outcome.activity), ("flows", flows, outcome.flows)):
        blanked = before["value"].notna() & after["value"].isna()
        rowids = before.loc[blanked, "__rowid"].astype("int64").tolist()
        if rowids:  # table names are constants; the rows are bound
            con.execute(f"UPDATE {table} SET value = NULL, qualifier = 'c' WHERE rowid IN (SELECT unnest(?))",
                        [rowids])
    summary = outcome.summary()
    con.execute(f"CREATE OR REPLACE TABLE {DISCLOSURE_TABLE} AS SELECT ?::VARCHAR AS summary", [json.dumps(summary)])
    return summary


def disclosure_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The disclosure record `suppress_consolidated` kept in a run's database (None if it never ran there)."""
    known = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                        [DISCLOSURE_TABLE]).fetchone()
    if not known or not known[0]:
        return None
    row = con.execute(f"SELECT summary FROM {DISCLOSURE_TABLE}").fetchone()
    return json.loads(row[0]) if row else None


def safety_quality(con: duckdb.DuckDBPyConnection, rejects: pd.DataFrame) -> dict[str, Any]:
    """The keys this guard adds to `PublishedVersion.quality`: `disclosure` and `blocked_for_identifiers`."""
    return {"disclosure": disclosure_summary(con), "blocked_for_identifiers": blocked_for_identifiers(rejects)}


# ---- secrets -----------------------------------------------------------------------------------------------


def secret_names(config: MapConfig) -> list[str]:
    """Environment variables the config names for credentials: every `*_env` option of every source."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).endswith(SECRET_SUFFIX) and isinstance(value, str):
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for source in config.sources:
        walk(source.options)
    return sorted(names)


def secret_values(config: MapConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of those variables (and the password inside a connection URL), longest first."""
    environ = os.environ if environ is None else environ
    values: set[str] = set()
    for name in secret_names(config):
        value = environ.get(name, "")
        values.add(value)
        if "://" in value:
            parts = urllib.parse.urlsplit(value)
            values.update(filter(None, [parts.password, urllib.parse.unquote(parts.password or "")]))
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=lambda v: (-len(v), v))


def redacted(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _redacted_record(record: logging.LogRecord, secrets: Sequence[str]) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call: leave it to logging's own error handling
        return record
    if any(secret in message for secret in secrets):
        record.msg, record.args = redacted(message, secrets), None
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if any(secret in text for secret in secrets):
            # formatted once, redacted, and the live exception dropped so no handler formats it again
            record.exc_text, record.exc_info = redacted(text, secrets), None
    return record


@contextmanager
def logs_redacted(secrets: Sequence[str]) -> Iterator[None]:
    """While inside, every log record created in this process (Prefect's included) has the secrets masked."""
    if not secrets:
        yield
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted_record(previous(*args, **kwargs), secrets)

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)


def refuse_leaked_secrets(staging: Path, config: MapConfig) -> None:
    """Before a version is committed: if any file carries a credential, delete the staging folder and refuse."""
    leaked = leaked_secret_files(staging, secret_values(config))
    if leaked:
        names = ", ".join(str(p.relative_to(staging)) for p in leaked)
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(
            f"nothing published: {names} would carry the value of a credential variable the map config names "
            f"({', '.join(secret_names(config))}); find how it reached the data (a source option, a column, an "
            "error message) and remove it"
        )
