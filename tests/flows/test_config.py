"""The map config: a mistake gives one line naming the file, the key, what was found and what is allowed."""

from pathlib import Path

import pytest

from expectations.errors import ConfigError
from flows.config import load_config

GOOD = """
map_id = "mini"
title = "Mini"
population = "adults"
[area]
code = "S37000001"
name = "Mini"
[period]
start = "2025-04"
end = "2025-06"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.nhs]
name = "NHS Mini"
sector = "nhs"
[[sources]]
id = "s1"
partner = "nhs"
kind = "csv"
location = "s.csv"
table = "services"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ism.toml"
    path.write_text(text)
    return path


def test_a_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.period.months == ["2025-04", "2025-05", "2025-06"]
    assert config.request(config.sources[0]).location == tmp_path / "s.csv"


@pytest.mark.parametrize("old, new, expected", [
    ('kind = "csv"', 'kind = "xlsx"', "sources[0].kind: unknown source kind 'xlsx'; allowed: "),
    ('sector = "nhs"', 'sector = "health"', "partners.nhs.sector: Input should be 'nhs', "),
    ('start = "2025-04"', 'start = "April"', "period.start: expected a month as YYYY-MM, found 'April'"),
    ('partner = "nhs"', 'partner = "ghost"', "source 's1' names partner 'ghost', which is not in [partners]"),
    ('table = "services"', 'table = "services"\noptions = { delimter = ";" }',
     "sources[0].options.delimter: Extra inputs are not permitted"),
    ('colour = "#6fa8dc"', 'colour = "blue"', "lanes[0].colour: String should match pattern"),
    ('title = "Mini"\n', "", "title: Field required"),
])
def test_mistakes_give_one_clear_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert expected in message


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "map_id = "))
    with pytest.raises(ConfigError, match="map config not found"):
        load_config(tmp_path / "nope.toml")


def test_the_private_root_may_not_lie_inside_the_publish_root(tmp_path: Path) -> None:
    text = GOOD.replace('title = "Mini"', 'title = "Mini"\nprivate_root = "out/.x"').replace("s.csv", "data/s.csv")
    config = load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match="private_root '.*' lies inside the publish root"):
        config.store(tmp_path / "out")
    assert config.store(tmp_path / "elsewhere").private == tmp_path / "out" / ".x" / "mini"
