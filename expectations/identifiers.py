"""The personal-identifier guard: finds raw columns that look like CHI or NHS numbers, names, dates of birth or
full postcodes. It reports a column, what it looks like and how many values, never a value.

Vectorised pandas string operations over at most SAMPLE_ROWS rows spread evenly through the table, so a
20-million-row extract costs about as much as a small one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_ROWS = 50_000
PYTHON_PASS_ROWS = 5_000  # a short column of any dtype is counted in Python while its values are text
MEANINGFUL_SHARE = 0.2  # of non-empty values; random 10-digit codes pass modulus 11 about 1 time in 11
SHAPE_SHARE = 0.5  # names and dates of birth: the column name points at them, and most values look like them
SKIPPED_COLUMNS = frozenset({"__row__"})

NAME_COLUMN = re.compile(
    r"(^|_)(forenames?|surname|first_?names?|last_?name|given_?names?|family_?name|middle_?names?|maiden_?name|"
    r"full_?name|(patient|client|person|service_?user|resident|customer|citizen|carer|pt|child|mother|father)"
    r"_?(full_?)?name)($|_)"
)
BIRTH_COLUMN = re.compile(r"(^|_)(dob|d_o_b|birth_?date|date_?of_?birth|born|birth(_?day)?)($|_)")
TEN_DIGITS = re.compile(r"^[0-9]{10}$")
# whitespace spelt out, not \s: pandas then runs the pattern in Arrow (RE2) instead of per value in Python
SEPARATORS = "[-" + "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "]"
PERSON_NAME = r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’.\-]*(?:,? [A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’.\-]*){0,4}$"
DATE_VALUE = (r"^(\d{4}-\d{1,2}-\d{1,2}([T ][\d:.]+)?|\d{1,2}[/.\-]\d{1,2}[/.\-](\d{2}|\d{4})|\d{8}|"
              r"\d{1,2} [A-Za-z]{3,9} \d{4})$")
# a full UK postcode (outward + inward code); a district or sector alone ("EH1", "EH1 1") is not personal
FULL_POSTCODE = r"^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})$"
MOD11_WEIGHTS = np.arange(10, 1, -1)


@dataclass(frozen=True)
class IdentifierFinding:
    """One raw column that looks like personal data: what kind, and how many of the scanned values."""

    column: str
    kind: str  # chi_number | nhs_number | name | date_of_birth | postcode
    matches: int
    scanned: int  # non-empty values looked at (a sample of a large table)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def message(self, table_rows: int) -> str:
        """One line for the rejects table and the CLI: column, kind and counts, never a value."""
        sampled = f" (a sample of {table_rows:,} rows)" if table_rows > SAMPLE_ROWS else ""
        return (f"column {self.column!r} looks like {self.label}: {self.matches:,} of {self.scanned:,} values"
                f"{sampled}; remove the column from the extract, or declare it in the source's safe_columns "
                "(not personal data) or pseudonymised_columns (pseudonymised ids, never published)")


KIND_LABELS = {
    "chi_number": "CHI numbers",
    "nhs_number": "NHS numbers",
    "name": "people's names",
    "date_of_birth": "dates of birth",
    "postcode": "full postcodes",
}


def sample_positions(count: int, limit: int = SAMPLE_ROWS) -> np.ndarray:
    """At most `limit` of `count` row positions, spread evenly from the first to the last (deterministic)."""
    return np.unique(np.linspace(0, count - 1, num=min(limit, count)).round().astype("int64"))


def sampled_rows(frame: pd.DataFrame, limit: int = SAMPLE_ROWS) -> pd.DataFrame:
    """At most `limit` rows, spread evenly from the first to the last (deterministic: same table, same rows)."""
    if len(frame) <= limit:
        return frame
    return frame.iloc[sample_positions(len(frame), limit)]


def normalised_column_name(name: str) -> str:
    """`Patient Name` -> `patient_name`, `DateOfBirth` -> `date_of_birth`: how the name heuristics read it."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def modulus_11_valid(digits: pd.Series) -> pd.Series:
    """Whether 10-digit strings pass the NHS/CHI modulus-11 check (a check digit of 10 is never issued)."""
    if digits.empty:
        return pd.Series(dtype="bool", index=digits.index)
    matrix = np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - ord("0")
    remainder = (matrix[:, :9].astype("int64") @ MOD11_WEIGHTS) % 11
    check = (11 - remainder) % 11
    return pd.Series((check != 10) & (check == matrix[:, 9]), index=digits.index)


def chi_date_valid(digits: pd.Series) -> pd.Series:
    """Whether the first six digits are a plausible DDMMYY date of birth, as in a CHI number."""
    day = pd.to_numeric(digits.str[0:2])
    month = pd.to_numeric(digits.str[2:4])
    return (day >= 1) & (day <= 31) & (month >= 1) & (month <= 12)


def _text_values(column: pd.Series) -> pd.Series:
    values = column.dropna()
    if values.empty:
        return values.astype("str")
    values = values.astype("str").str.strip()
    return values[values != ""]


def _counted_texts(column: pd.Series) -> pd.Series:
    """How often each trimmed, non-empty text occurs in `column` (missing values left out). A text column is
    counted before it is trimmed, then each distinct value trimmed in Python (pandas' strip is Python's) and its
    count added to its trimmed text's; a short column of other dtype value by value while its values are text:
    pandas' five calls over every row were most of a source's scan. Anything else (numbers, dates: pandas spells
    them its own way) as pandas does."""
    if column.dtype == "str":
        counted = column.value_counts(sort=False, dropna=True)
        pairs: Iterable[tuple[Any, int]] = zip(counted.index.tolist(), counted.tolist(), strict=True)
    elif len(column) <= PYTHON_PASS_ROWS:
        pairs = ((value, 1) for value in column.tolist())
    else:
        return _text_values(column).value_counts(sort=False)
    counts: Counter[str] = Counter()
    for value, times in pairs:
        if isinstance(value, str):
            text = value.strip()
            if text:
                counts[text] += times
        elif not (value is None or value is pd.NA or isinstance(value, float) and np.isnan(value)):
            return _text_values(column).value_counts(sort=False)
    return pd.Series(counts, dtype="int64")


def column_findings(name: str, column: pd.Series) -> list[IdentifierFinding]:
    """What one column looks like (empty when nothing personal); `column` should already be a sample."""
    return _findings({name: column})


def identifier_findings(frame: pd.DataFrame, safe_columns: Collection[str] = (),
                        pseudonymised_columns: Collection[str] = ()) -> list[IdentifierFinding]:
    """Every column of a raw table (but the declared safe and pseudonymised ones) that looks like personal data,
    judged on an even sample of at most SAMPLE_ROWS rows."""
    skipped = set(safe_columns) | set(pseudonymised_columns) | SKIPPED_COLUMNS
    sample = sampled_rows(frame)
    return _findings({str(name): sample[name] for name in sample.columns if str(name) not in skipped})


def _findings(columns: dict[str, pd.Series]) -> list[IdentifierFinding]:
    """The findings of every column, in column order. The distinct values of all columns are tested together, each
    once per column and counted as often as it occurs there (codes and months repeat a lot; one pass per pattern
    over a whole table, not one per column, is what keeps a table of many small columns cheap)."""
    counted = {name: _counted_texts(column) for name, column in columns.items()}
    names = [name for name, counts in counted.items() if len(counts)]
    if not names:
        return []
    owner = np.repeat(np.arange(len(names)), [len(counted[name]) for name in names])
    counts = np.concatenate([counted[name].to_numpy(dtype="int64") for name in names])
    values = pd.concat([pd.Series(counted[name].index.astype("str")) for name in names], ignore_index=True)
    scanned = np.bincount(owner, weights=counts, minlength=len(names))

    def occurrences(mask: np.ndarray) -> np.ndarray:  # per column: how many scanned values the mask holds
        return np.bincount(owner, weights=np.where(mask, counts, 0), minlength=len(names))

    def matching(pattern: str, rows: np.ndarray, texts: pd.Series = values) -> np.ndarray:
        mask = np.zeros(len(values), dtype=bool)
        if rows.any():
            mask[rows] = texts[rows].str.fullmatch(pattern).to_numpy(dtype=bool)
        return mask

    everywhere = np.ones(len(values), dtype=bool)
    compact = values.str.replace(SEPARATORS, "", regex=True)
    ten = matching(TEN_DIGITS.pattern, everywhere, compact)
    valid = np.zeros(len(values), dtype=bool)
    if ten.any():
        valid[ten] = modulus_11_valid(compact[ten]).to_numpy(dtype=bool)
    chi = np.zeros(len(values), dtype=bool)
    if valid.any():
        chi[valid] = chi_date_valid(compact[valid]).to_numpy(dtype=bool)
    valid_counts, chi_counts = occurrences(valid), occurrences(chi)
    postcodes = occurrences(matching(FULL_POSTCODE, everywhere, values.str.upper()))
    headers = [normalised_column_name(name) for name in names]
    person_names = occurrences(matching(PERSON_NAME, np.isin(owner, [i for i, h in enumerate(headers)
                                                                   if NAME_COLUMN.search(h)])))
    birth_dates = occurrences(matching(DATE_VALUE, np.isin(owner, [i for i, h in enumerate(headers)
                                                                 if BIRTH_COLUMN.search(h)])))

    found: list[IdentifierFinding] = []
    for index, name in enumerate(names):
        total = int(scanned[index])
        valid_count = int(valid_counts[index])
        if valid_count and valid_count >= MEANINGFUL_SHARE * total:
            kind = "chi_number" if int(chi_counts[index]) >= 0.9 * valid_count else "nhs_number"
            found.append(IdentifierFinding(name, kind, valid_count, total))
        matched = int(postcodes[index])
        if matched and matched >= MEANINGFUL_SHARE * total:
            found.append(IdentifierFinding(name, "postcode", matched, total))
        for kind, column_matches in (("name", person_names), ("date_of_birth", birth_dates)):
            matched = int(column_matches[index])
            if matched and matched >= SHAPE_SHARE * total:
                found.append(IdentifierFinding(name, kind, matched, total))
    return found
