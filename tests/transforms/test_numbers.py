"""Numbers read by a source's declared separators: exact, or refused with the reason."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.numbers import DEFAULT_RULE, LARGEST_EXACT, NumberRule, parsed_numbers
from transforms.standardise import SourceMapping, staged_table

COMMA_DECIMAL = NumberRule(decimal=",", thousands=".")


def _read(values: list[str | None], rule: NumberRule = DEFAULT_RULE) -> tuple[list[float], list[str | None]]:
    value, reason = parsed_numbers(pd.Series(values, dtype="object"), rule)
    return value.tolist(), [None if pd.isna(r) else r for r in reason]


def test_default_rule_reads_thousands_and_refuses_a_decimal_comma() -> None:
    value, reason = _read(["1,234", "12,5", "1,234.5", " 7 ", "1.5E+03", "-3", "", None])
    assert value[0] == 1234.0 and value[2] == 1234.5 and value[3] == 7.0 and value[4] == 1500.0 and value[5] == -3.0
    assert pd.isna(value[1]) and "ambiguous" in str(reason[1]) and "decimal = ','" in str(reason[1])
    assert reason[0] is None and reason[6] is None and reason[7] is None and pd.isna(value[6])


def test_a_declared_decimal_comma_reads_12_5_as_twelve_and_a_half() -> None:
    value, reason = _read(["12,5", "1.234", "1.234,5", "1,234.5"], COMMA_DECIMAL)
    assert value[:3] == [12.5, 1234.0, 1234.5]
    assert pd.isna(value[3]) and "ambiguous" in str(reason[3])


@pytest.mark.parametrize("text", ["inf", "nan", "NaN", "0x10", "1 234", "12.5.6", "1,23,456", "١٢", "12%", "£5",
                                  "1e", "--1", "1_000", "1,2345"])
def test_spellings_that_are_not_numbers_under_the_rule_are_refused(text: str) -> None:
    value, reason = _read([text])
    assert pd.isna(value[0]) and reason[0], text


def test_values_a_float_cannot_hold_exactly_are_refused() -> None:
    value, reason = _read([str(LARGEST_EXACT + 1), "1e400", "1e-400", "0.0"])
    assert pd.isna(value[:3]).all() and "too large" in str(reason[0]) and "too small" in str(reason[2])
    assert value[3] == 0.0 and reason[3] is None


def test_a_space_thousands_separator_includes_the_no_break_spaces_spreadsheets_write() -> None:
    value, reason = _read(["1 234,5", "1\u00a0234", "1\u202f234\u202f567", "12 34"], NumberRule(",", " "))
    assert value[:3] == [1234.5, 1234.0, 1234567.0] and reason[3] is not None


def test_the_two_separators_must_differ() -> None:
    with pytest.raises(ValueError, match="must differ"):
        NumberRule(decimal=",", thousands=",")


RULES = st.sampled_from([NumberRule(), COMMA_DECIMAL, NumberRule(".", ""), NumberRule(",", " "), NumberRule(".", "'")])


def _written(number: Decimal, rule: NumberRule, grouped: bool) -> str:
    sign, digits = ("-" if number < 0 else ""), f"{abs(number):f}"
    whole, _, fraction = digits.partition(".")
    if grouped and rule.thousands:
        whole = f"{int(whole):,}".replace(",", rule.thousands)
    return sign + whole + (rule.decimal + fraction if fraction else "")


@settings(deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=3, allow_nan=False), RULES, st.booleans())
def test_any_number_written_by_the_rule_reads_back_exactly(number: Decimal, rule: NumberRule, grouped: bool) -> None:
    value, reason = _read([_written(number, rule, grouped)], rule)
    assert reason[0] is None and value[0] == float(number)


@settings(deadline=None)
@given(st.text(alphabet="0123456789,. '-+eE\u00a0x", max_size=12), RULES)
def test_any_text_is_either_read_or_refused_with_a_reason(text: str, rule: NumberRule) -> None:
    value, reason = _read([text], rule)
    if text.strip():
        assert pd.isna(value[0]) != (reason[0] is None)
    else:
        assert pd.isna(value[0]) and reason[0] is None


def _mapping(rule: NumberRule) -> SourceMapping:
    return SourceMapping(source_id="counts", partner="p", location="counts.csv", numbers=rule,
                         columns={"service_key": "site", "period": "month", "measure": "measure", "value": "n"})


def test_staging_refuses_12_5_under_default_rules_and_reads_it_with_a_decimal_comma() -> None:
    raw = pd.DataFrame({"__row__": [2, 3], "site": ["A", "B"], "month": ["2025-04", "2025-04"],
                        "measure": ["attendances", "attendances"], "n": ["12,5", "1,234"]})
    refused = staged_table(raw, "activity", _mapping(DEFAULT_RULE))
    assert refused.frame["value"].tolist() == [1234.0]
    row = refused.rejects[refused.rejects["check"] == "not_a_number"].iloc[0]
    assert (row["row_number"], row["column"], row["value"]) == (2, "n", "12,5")
    assert "ambiguous" in row["message"] and row["location"] == "counts.csv"
    read = staged_table(raw, "activity", _mapping(COMMA_DECIMAL))
    assert read.frame["value"].tolist() == [12.5, 1.234]
