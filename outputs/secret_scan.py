"""Finding a credential in the files of a version before it is committed: each file's bytes as a reader would see
them (Parquet and DuckDB tables as text, zip members unpacked), searched for every spelling of each secret."""

from __future__ import annotations

import html
import json
import urllib.parse
import zipfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq


def _spellings(secret: str) -> list[bytes]:
    """How a secret may appear in a file: as is, HTML/XML-, JSON- or URL-escaped."""
    markup = {html.escape(secret), html.escape(secret, quote=False)}
    forms = {secret, *markup, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             urllib.parse.quote(secret, safe="")}
    encoded = {form.encode("utf-8") for form in forms}
    encoded |= {form.encode("ascii", "xmlcharrefreplace") for form in markup}  # &#220; as spreadsheets write it
    return sorted(encoded)


def _cells(frame: pd.DataFrame) -> bytes:
    """Every cell of a table as plain text, one per line (no CSV quoting to hide a value behind)."""
    return "\n".join(str(value) for column in frame.columns for value in frame[column].tolist()).encode("utf-8")


def searchable_bytes(path: Path) -> list[bytes]:
    """The bytes of a file as a reader would see them: Parquet and DuckDB tables as text, zip members unpacked."""
    if path.suffix == ".parquet":
        return [_cells(pq.read_table(path).to_pandas())]
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            names = [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            return [_cells(con.table(name).df()) for name in names]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return [archive.read(member) for member in archive.namelist()]
    return [path.read_bytes()]


def leaked_secret_files(folder: Path, secrets: Sequence[str]) -> list[Path]:
    """Files under `folder` holding any of the secrets (raw images such as PNG/PDF are drawn from the scanned
    tables and are not searched)."""
    if not secrets:
        return []
    patterns = [form for secret in secrets for form in _spellings(secret)]
    leaked = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if any(pattern in blob for blob in searchable_bytes(path) for pattern in patterns):
            leaked.append(path)
    return leaked
