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
