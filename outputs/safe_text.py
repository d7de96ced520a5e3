"""Text that is safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return would run as a formula (CSV injection), so it gets a leading single quote, which spreadsheets show as
text. A plain signed number ("-5", "+3.5") carries no formula and stays as it is. Used by every CSV and
spreadsheet writer; Parquet and DuckDB keep the text exactly as it was. Also: values safe to write as JSON."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
FLOAT_FORMAT = "%.15g"
TEXT_KINDS = ("string", "empty", "mixed", "mixed-integer")  # the kinds of `infer_dtype` that may hold text


def is_formula_like(value: Any) -> bool:
    """Whether a spreadsheet would read this text as the start of a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value)


def neutralised(value: Any) -> Any:
    """A text value that cannot start a formula; anything else unchanged."""
    return QUOTE + value if is_formula_like(value) else value


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell neutralised (numbers and dates untouched); a copy only when needed."""
    out = frame
    for column in frame.columns:
        series = frame[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        risky = _formula_like(series)
        if risky.any():
            if out is frame:
                out = frame.copy()
            text = series.astype("object")
            out[column] = text.where(~risky, QUOTE + text[risky].astype(str))
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV: no index, LF line ends, numbers to 15 significant digits, text cells neutralised. Float
    and date columns are formatted once per distinct value (pandas would format every cell in Python): the same
    text, a third of the time on a national map's flows."""
    out = neutralised_frame(frame)
    formatted = {column: texts for column in out.columns if (texts := _formatted(out[column])) is not None}
    if formatted:
        out = out.assign(**formatted)
    return out.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _formatted(series: pd.Series) -> pd.Series | None:
    """The column's cells as CSV text ("" where missing), or None when it is left to the CSV writer."""
    if series.dtype == "float64":
        codes, distinct = pd.factorize(series)
        texts = np.array([FLOAT_FORMAT % value for value in distinct.tolist()] + [""], dtype=object)[codes]
        values = series.to_numpy()
        zeros, negative = values == 0, np.signbit(values)  # factorised, -0.0 and 0.0 are one value
        texts[zeros & negative], texts[zeros & ~negative] = FLOAT_FORMAT % -0.0, FLOAT_FORMAT % 0.0
        return pd.Series(texts, index=series.index, dtype=object)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "date":
        codes, distinct = pd.factorize(series)
        texts = np.array([str(value) for value in distinct.tolist()] + [""], dtype=object)[codes]
        return pd.Series(texts, index=series.index, dtype=object)
    return None


def _formula_like(series: pd.Series) -> pd.Series:
    """Which cells of a column are formula-like text. A text column is screened for the starting characters at
    once, and only the few cells that start like a formula are checked one by one; a column holding no text
    (dates, numbers) has none."""
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind not in TEXT_KINDS:
        return pd.Series(False, index=series.index)
    if kind not in ("string", "empty"):
        return series.astype("object").map(is_formula_like).astype(bool)
    risky = series.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool, copy=True)
    if risky.any():
        risky[risky] = [is_formula_like(value) for value in series.to_numpy(dtype=object)[risky]]
    return pd.Series(risky, index=series.index)


def json_value(value: Any) -> Any:
    """A JSON-safe scalar: missing values (None, NA, NaT, NaN, infinities) as None, numpy numbers as Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
