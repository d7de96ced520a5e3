"""The personal-identifier guard: finds raw columns that look like CHI or NHS numbers, names, dates of birth or
full postcodes. It reports a column, what it looks like and how many values, never a value.

Vectorised pandas string operations over at most SAMPLE_ROWS rows spread evenly through the table, so a
20-million-row extract costs about as much as a small one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

SAMPLE_ROWS = 50_000
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


def column_findings(name: str, column: pd.Series) -> list[IdentifierFinding]:
    """What one column looks like (empty when nothing personal); `column` should already be a sample."""
    # each distinct value is tested once and counted as often as it occurs: codes and months repeat a lot
    counted = _text_values(column).value_counts(sort=False)
    values = pd.Series(counted.index.astype("str"), index=counted.index)
    scanned = int(counted.sum())
    if not scanned:
        return []

    def occurrences(mask: pd.Series) -> int:
        return int(counted[mask.to_numpy(dtype=bool)].sum())

    found: list[IdentifierFinding] = []
    compact = values.str.replace(SEPARATORS, "", regex=True)
    ten = compact[compact.str.fullmatch(TEN_DIGITS.pattern)]
    if len(ten):
        valid = ten[modulus_11_valid(ten)]
        valid_count = int(counted[valid.index].sum())
        if valid_count >= MEANINGFUL_SHARE * scanned:
            chi = int(counted[valid.index][chi_date_valid(valid).to_numpy(dtype=bool)].sum())
            kind = "chi_number" if chi >= 0.9 * valid_count else "nhs_number"
            found.append(IdentifierFinding(name, kind, valid_count, scanned))
    postcodes = occurrences(values.str.upper().str.fullmatch(FULL_POSTCODE))
    if postcodes and postcodes >= MEANINGFUL_SHARE * scanned:
        found.append(IdentifierFinding(name, "postcode", postcodes, scanned))
    header = normalised_column_name(name)
    if NAME_COLUMN.search(header):
        names = occurrences(values.str.fullmatch(PERSON_NAME))
        if names and names >= SHAPE_SHARE * scanned:
            found.append(IdentifierFinding(name, "name", names, scanned))
    if BIRTH_COLUMN.search(header):
        dates = occurrences(values.str.fullmatch(DATE_VALUE))
        if dates and dates >= SHAPE_SHARE * scanned:
            found.append(IdentifierFinding(name, "date_of_birth", dates, scanned))
    return found


def identifier_findings(frame: pd.DataFrame, safe_columns: Collection[str] = (),
                        pseudonymised_columns: Collection[str] = ()) -> list[IdentifierFinding]:
    """Every column of a raw table (but the declared safe and pseudonymised ones) that looks like personal data,
    judged on an even sample of at most SAMPLE_ROWS rows."""
    skipped = set(safe_columns) | set(pseudonymised_columns) | SKIPPED_COLUMNS
    sample = sampled_rows(frame)
    found: list[IdentifierFinding] = []
    for name in sample.columns:
        if str(name) in skipped:
            continue
        found.extend(column_findings(str(name), sample[name]))
    return found
