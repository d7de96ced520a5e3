"""Strict JSON text: a missing number (NaN, NaT, pandas NA) is `null` and an infinite one is refused, never the bare
`NaN` or `Infinity` Python's json writes, which no other JSON reader accepts."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd


def json_ready(value: Any) -> Any:
    """`value` with every missing number (NaN, NaT, NA) inside it, at any depth, replaced by None."""
    if isinstance(value, Mapping):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a numpy scalar: its Python value
        try:
            return json_ready(value.item())
        except (TypeError, ValueError):
            return value
    return value


def json_text(document: Any, **options: Any) -> str:
    """`json.dumps(document, **options)` that writes only valid JSON (missing numbers as null); ValueError for an
    infinite number, which JSON cannot spell."""
    return json.dumps(json_ready(document), allow_nan=False, **options)


_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def records_text(document: Any) -> str:
    """JSON for a document of records: its objects and lists laid out one entry per line, indented one space a
    level, each record (an object or list inside a list) written whole on one line; a reader diffs it line by
    line. UTF-8 text as is; ValueError for a missing or infinite number. Each record is written by the C
    encoder: an indented dump writes every value in Python (0.9 s against 0.2 s for a national map's exports)."""
    return _laid_out(document, "") + "\n"


def _laid_out(value: Any, indent: str) -> str:
    inner = indent + " "
    if isinstance(value, Mapping) and value:
        entries = (f"{inner}{_COMPACT.encode(_key(key))}: {_laid_out(item, inner)}" for key, item in value.items())
        return "{\n" + ",\n".join(entries) + "\n" + indent + "}"
    if isinstance(value, list | tuple) and value:
        return "[\n" + ",\n".join(inner + _COMPACT.encode(item) for item in value) + "\n" + indent + "]"
    return _COMPACT.encode(value)


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys must be text, not {type(key).__name__} ({key!r})")
    return key
