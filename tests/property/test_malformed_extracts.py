"""Malformed extracts, generated, read in-process exactly as a refresh reads and stages them: every case is either
refused with a message naming the source and its file (relative to the map config; line or row and column where
they apply) or staged with every value exactly what the source's number rule reads, every other row a reject that
names source, file, row and column. Nothing else: no other exception, no guessed number."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given

from expectations.errors import SourceError
from flows.config import load_config
from flows.stage import source_mapping
from sources import extract, kind_named
from sources.base import as_pandas
from sources.limits import SourceLimits
from tests.conftest import write_mini_map
from tests.property.strategies import Extract, extracts
from transforms.numbers import NumberRule
from transforms.standardise import staged_table

FIELD_LIMIT = 200  # small, so a huge field costs nothing to generate
LOCATION = "extracts/activity.csv"


def mini_map_with(folder: Path, data: bytes, rule: NumberRule) -> Path:
    """The mini map (tests/conftest.py) with `data` as its nhs_activity extract, read by `rule`."""
    config = write_mini_map(folder)
    text = config.read_text()
    numbers = f'decimal = "{rule.decimal}"\nthousands = "{rule.thousands}"\n'
    config.write_text(text.replace('constants = { measure = "attendances" }\n',
                                   f'constants = {{ measure = "attendances" }}\n{numbers}', 1))
    (folder / LOCATION).write_bytes(data)
    return config


def assert_names_where(message: str, folder: Path) -> None:
    """A refusal names the source and its file as the config does, never the machine's path."""
    assert message.startswith(f"nhs_activity: {LOCATION}"), message
    assert str(folder.resolve()) not in message and str(folder) not in message, message


def _staged_or_refused(case: Extract, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame] | str:
    config = load_config(mini_map_with(folder, case.data, case.rule))
    source = config.source("nhs_activity")
    request = replace(config.request(source), limits=SourceLimits(max_field_length=FIELD_LIMIT))
    try:
        read = extract(kind_named(source.kind), request)
    except SourceError as error:
        return str(error)
    staged = staged_table(as_pandas(read.tables["activity"]), "activity", source_mapping(config, source, "activity"))
    return pd.DataFrame(staged.frame), staged.rejects


@given(case=extracts(max_field_length=FIELD_LIMIT))
def test_a_malformed_extract_is_refused_naming_where_or_staged_exactly(
        tmp_path_factory: pytest.TempPathFactory, case: Extract) -> None:
    folder = tmp_path_factory.mktemp("map")
    outcome = _staged_or_refused(case, folder)
    breakage = case.broken[0]
    if isinstance(outcome, str):
        assert_names_where(outcome, folder)
        assert breakage != "none", outcome
        if breakage == "huge_field":
            assert re.search(r": row \d+ column '(code|month|n)' holds \d+ characters, over the limit "
                             rf"max_field_length = {FIELD_LIMIT}", outcome), outcome
        if breakage == "ragged_row":
            assert re.search(r": line \d+ has \d fields where the header \(line 1\) has 3|: the quote .* opened "
                             r"in the record starting on line \d+ is never closed", outcome), outcome
        if breakage == "unclosed_quote":
            assert re.search(r": (the quote .* line|line) \d+ ", outcome), outcome
        return
    assert breakage not in ("huge_field", "ragged_row", "encoding", "utf16", "empty", "unclosed_quote"), breakage
    frame, rejects = outcome
    assert (rejects["source_id"] == "nhs_activity").all() and (rejects["location"] == LOCATION).all()
    row_level = rejects[rejects["row_number"] > 0]
    assert row_level["column"].notna().all() and row_level["message"].str.len().gt(0).all()
    whole_file = rejects[(rejects["row_number"] == 0) & (rejects["severity"] == "error")]
    if len(whole_file):  # the source is blocked: nothing of it is published
        assert whole_file["column"].notna().all() or whole_file["message"].str.contains(LOCATION).all()
        return
    rejected = set(rejects.loc[rejects["severity"] == "error", "row_number"].astype(int))
    assert not rejected & set(frame["row_number"].astype(int)), "a rejected row was staged"
    if breakage == "binary_junk":
        return  # junk may rewrite keys and months: the oracle below no longer knows the rows
    expected = case.counts
    for row in frame.itertuples(index=False):
        count = expected[(row.service_key, pd.Timestamp(row.period_start).strftime("%Y-%m"))]
        if count.text in ("<5", "*", "c"):
            assert pd.isna(row.value) and row.qualifier == "c"
        else:
            assert count.value is not None and row.value == count.value, (count, row.value)
    staged_keys = {(r.service_key, pd.Timestamp(r.period_start).strftime("%Y-%m")) for r in frame.itertuples()}
    for key, count in expected.items():
        if count.value is None and count.text not in ("<5", "*", "c"):
            assert key not in staged_keys, f"{count.text!r} was read under {case.rule} but is not exact"
