"""Numbers written as text, read by the rule a source declares (its decimal and thousands separators): a value the
rule cannot read exactly is refused with the reason, never guessed (`12,5` is not 125 where `,` groups thousands)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

DecimalMark: TypeAlias = Literal[".", ","]
ThousandsMark: TypeAlias = Literal[",", ".", " ", "'", ""]  # "": the source never groups digits
LARGEST_EXACT = 2**53  # past this a float64 cannot hold every whole number: a count there would be rounded
EXPONENT, NONZERO_DIGIT = re.compile("[eE]"), re.compile("[1-9]")
SPACES = "\u00a0\u202f"  # no-break and narrow no-break space: how spreadsheets write a space thousands separator


@dataclass(frozen=True)
class NumberRule:
    """How a source writes numbers: `decimal` separates the fraction, `thousands` (optional) groups digits by three."""

    decimal: DecimalMark = "."
    thousands: ThousandsMark = ","

    def __post_init__(self) -> None:
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands separators are both {self.decimal!r}: they must differ")

    @property
    def described(self) -> str:
        grouping = f"thousands {self.thousands!r}" if self.thousands else "no thousands separator"
        return f"decimal {self.decimal!r}, {grouping}"

    def pattern(self) -> re.Pattern[str]:
        """The whole spelling of a number under this rule: sign, digits (grouped by three, or not at all), an
        optional fraction and an optional exponent (`1.5E+03`, as spreadsheets export)."""
        decimal = re.escape(self.decimal)
        whole = r"[0-9]+"  # ASCII digits only: other scripts' digits are refused, not read
        if self.thousands:
            whole = rf"(?:[0-9]{{1,3}}(?:{re.escape(self.thousands)}[0-9]{{3}})+|[0-9]+)"
        return re.compile(rf"^[+-]?(?:{whole}(?:{decimal}[0-9]*)?|{decimal}[0-9]+)(?:[eE][+-]?[0-9]+)?$")


DEFAULT_RULE = NumberRule()


def parsed_numbers(text: pd.Series, rule: NumberRule = DEFAULT_RULE) -> tuple[pd.Series, pd.Series]:
    """(value, reason) for each text value: the number the rule reads, or missing with a sentence saying why it
    cannot be read exactly. An empty or missing text is missing with no reason (the caller decides what empty
    means); surrounding spaces are ignored."""
    cleaned = text.fillna("").astype("str").str.strip()
    if rule.thousands == " ":
        cleaned = cleaned.str.translate(str.maketrans(SPACES, "  "))
    empty = cleaned == ""
    fits = cleaned.str.match(rule.pattern()) & ~empty
    canonical = cleaned.where(fits, "")
    if rule.thousands:
        canonical = canonical.str.replace(rule.thousands, "", regex=False)
    if rule.decimal != ".":
        canonical = canonical.str.replace(rule.decimal, ".", regex=False)
    value = pd.to_numeric(canonical.where(fits), errors="coerce").astype("float64")
    too_large = fits & (value.abs() >= LARGEST_EXACT)
    too_small = fits & (value == 0)
    zeros = np.flatnonzero(too_small.to_numpy())  # only their text says whether one underflowed (1e-400)
    if len(zeros):
        too_small.iloc[zeros] = [NONZERO_DIGIT.search(EXPONENT.split(written, maxsplit=1)[0]) is not None
                                 for written in canonical.iloc[zeros]]
    reason = pd.Series(None, index=text.index, dtype="object")
    unread = ~fits & ~empty
    if unread.any():  # a reason only where a value is refused: most count columns have none
        reason[unread] = _unreadable_reason(rule)
        if rule.thousands == "," or rule.thousands == ".":
            swapped = NumberRule(decimal=rule.thousands, thousands=rule.decimal)
            misread = unread & cleaned.str.match(swapped.pattern())
            reason[misread] = _misread_reason(rule, swapped)
    if too_large.any() or too_small.any():
        reason[too_large] = (f"too large to hold exactly (a count must be below {LARGEST_EXACT:,}); "
                             "check the column is a count")
        reason[too_small] = "too small to hold exactly (it would read as 0); check the column is a count"
        value[too_large | too_small] = np.nan
    return value, reason


def _unreadable_reason(rule: NumberRule) -> str:
    return (f"not a number under this source's rule ({rule.described}); "
            "set `decimal` and `thousands` on the source if the extract writes numbers another way")


def _misread_reason(rule: NumberRule, swapped: NumberRule) -> str:
    return (f"ambiguous: {rule.thousands!r} is this source's thousands separator, but here it is not followed by "
            f"groups of three digits, so it may be a decimal separator; if the extract writes numbers that way, "
            f"set decimal = {swapped.decimal!r} and thousands = {swapped.thousands!r} on the source")
