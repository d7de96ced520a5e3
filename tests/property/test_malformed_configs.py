"""Malformed map configs, generated: each is a ConfigError with one line per problem naming the config file (and
the key where one is at fault); `ism validate` on it exits 2 with that line, never an internal error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from expectations.errors import ConfigError
from flows.cli import app
from flows.config import load_config
from tests.conftest import MINI_CONFIG, write_mini_map

# (what is broken, the text it replaces in MINI_CONFIG, its replacements, the key a refusal must name or None)
BREAKAGES: list[tuple[str, str, list[str], str | None]] = [
    ("source key", 'kind = "csv"\nlocation = "extracts/activity.csv"',
     ['kind = "csvv"\nlocation = "extracts/activity.csv"', 'kind = 3\nlocation = "extracts/activity.csv"',
      'kind = "csv"\nlocation = 7', 'kind = "csv"\nlocation = "extracts/activity.csv"\ncolour = "red"'],
     "sources"),
    ("numbers", 'constants = { measure = "attendances" }',
     ['constants = { measure = "attendances" }\ndecimal = ";"', 'constants = { measure = "attendances" }\n'
      'decimal = ","\nthousands = ","', 'constants = { measure = "attendances" }\nthousands = "_"',
      'constants = { measure = "attendances" }\ndecimal = ""'], "sources"),
    ("limits", "[quality]", ['[limits]\nmax_bytes = "lots"\n[quality]', "[limits]\nmax_rows = -1\n[quality]",
                             "[limits]\nmax_field_length = 0\n[quality]", "[limits]\nmax_rowz = 5\n[quality]"],
     "limits"),
    ("period", 'start = "2025-04"', ['start = "2025-13"', 'start = "April"', "start = 2025", 'start = ""'],
     "period"),
    ("syntax", 'title = "Mini map"', ['title = "Mini map', "title = ", 'title = "Mini"\ntitle = "Again"',
                                      "title = 'a' 'b'"], None),
    ("area", 'code = "S37000001"', ['code = "X37000001"', 'code = "S3700000"', "code = []"], "area"),
    ("lanes", 'colour = "#e06666"', ['colour = "#e06666"\nextra = 1', 'colour = 5'], "lanes"),
]


@st.composite
def broken_configs(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """The mini config with one to three drawn breakages: (its text, what was broken, a key a refusal names)."""
    chosen = draw(st.lists(st.sampled_from(BREAKAGES), min_size=1, max_size=3, unique_by=lambda b: b[0]))
    text = MINI_CONFIG
    for _, old, news, _ in chosen:
        text = text.replace(old, draw(st.sampled_from(news)), 1)
    return text, "+".join(b[0] for b in chosen), (chosen[0][3] if len(chosen) == 1 else None)


@given(case=broken_configs())
def test_a_broken_config_is_one_line_naming_the_file_and_key(tmp_path_factory: pytest.TempPathFactory,
                                                              case: tuple[str, str, str | None]) -> None:
    text, broken, key = case
    folder = tmp_path_factory.mktemp("config")
    config = write_mini_map(folder)
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    message = str(refused.value)
    assert all("ism.toml" in line for line in message.splitlines()), (broken, message)  # each problem: a line
    if key is not None:
        assert re.search(rf"\b{key}\b", message), (broken, message)


@settings(max_examples=6)
@given(case=broken_configs())
@pytest.mark.usefixtures("prefect_server")
def test_ism_validate_exits_2_on_a_broken_config(tmp_path_factory: pytest.TempPathFactory,
                                                 case: tuple[str, str, str | None]) -> None:
    folder = tmp_path_factory.mktemp("config")
    config = write_mini_map(folder)
    config.write_text(case[0])
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2 and result.stderr.startswith("ism: error: "), (case[1], result.output)
    assert str(Path(folder)) not in result.stderr.replace(str(config), "")
