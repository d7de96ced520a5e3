"""The map config's step keys, areas and cross-references: every mistake listed at once, one line each."""

from pathlib import Path

import pytest

from expectations.errors import ConfigError
from flows.config import load_config
from flows.source_cache import config_digest
from tests.flows.test_config import GOOD, write

REPO = Path(__file__).resolve().parents[2]


def test_every_broken_reference_is_listed_at_once_naming_its_key(tmp_path: Path) -> None:
    text = GOOD + """codes.lane = { ED = "urgent_care", AMU = "acute" }
codes_default = { lane = "wards", setting = "x" }
lookups = [{ source = "nowhere", on = "a", key = "b", take = { c = "d" } }]
[[sources]]
id = "s1"
partner = "council"
kind = "csv"
location = "t.csv"
table = "services"
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    lines = str(caught.value).splitlines()
    keys = [line.removeprefix(f"{tmp_path / 'ism.toml'}: ").split(":")[0] for line in lines]
    assert keys == ["sources", "sources[0].codes.lane.ED", "sources[0].codes_default.lane", "sources[0]",
                    "sources[0].lookups[0].source", "sources[1].partner"]
    assert "lane 'urgent_care' is not a lane of the map; allowed: acute" in lines[1]
    assert "'nowhere' is not another source of the map" in lines[4]


def test_field_mistakes_are_listed_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('code = "S37000001"', 'code = "X1"').replace('colour = "#6fa8dc"', 'colour = "blue"')
    text += 'where = [{ column = "Age", equals = "18plus", in = ["x"] }]\nduplicates = "first"\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    keys = [line.split(": ")[1] for line in str(caught.value).splitlines()]
    assert keys == ["area.code", "lanes[0].colour", "sources[0].where[0]", "sources[0].duplicates"]


@pytest.mark.parametrize(("code", "kind"), [
    ('"S37000012"', "health and social care partnership"), ('"S08000024"', "health board"),
    ('"S12000036"', "council area"), ('"S92000003"', "country"), ('["S12000036", "S12000040"]', "council area"),
    ('["S37000012", "S08000024"]', "several areas"),
])
def test_any_area_says_what_it_is(tmp_path: Path, code: str, kind: str) -> None:
    config = load_config(write(tmp_path, GOOD.replace('code = "S37000001"', f"code = {code}")))
    assert config.area.kind == kind and config.area.described()["kind"] == kind


def test_unused_step_keys_leave_the_config_digest_alone(tmp_path: Path) -> None:
    plain = config_digest(load_config(write(tmp_path, GOOD)))
    (tmp_path / "b").mkdir()
    spelled = config_digest(load_config(write(tmp_path / "b", GOOD + 'duplicates = "reject"\nwhere = []\n')))
    used = config_digest(load_config(write(tmp_path, GOOD + 'duplicates = "sum"\n')))
    assert plain == spelled != used


def test_steps_on_a_kind_with_several_tables_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "csv"', 'kind = "phs_ae"').replace('table = "services"\n', "")
    with pytest.raises(ConfigError, match=r"sources\[0\]: .*`where` and `unpivot` apply to single-table kinds"):
        load_config(write(tmp_path, text + 'where = [{ column = "HBT", equals = "S08000024" }]\n'))


def test_a_lookup_file_must_lie_inside_the_allowed_roots(tmp_path: Path) -> None:
    (tmp_path / "map").mkdir()
    text = GOOD + 'lookups = [{ file = "../elsewhere.csv", on = "a", key = "b", take = { c = "d" } }]\n'
    with pytest.raises(ConfigError, match=r"sources\[0\]\.lookups\[0\]\.file: .*outside the map config's folder"):
        load_config(write(tmp_path / "map", text))


@pytest.mark.parametrize("config", sorted(REPO.glob("examples/*/*.toml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_config_loads(config: Path) -> None:
    if config.parent.name == "lothian" and not (REPO.parent / "shared" / "data").is_dir():
        pytest.skip("../shared/data is absent")
    if config.name == "to_be.toml":
        pytest.skip("a scenario config, checked by its own loader")
    load_config(config)


def test_a_lookup_reads_another_source_and_refuses_a_key_with_two_values(tmp_path: Path) -> None:
    from expectations.errors import SourceError
    from flows.config_steps import source_steps

    (tmp_path / "s.csv").write_text("code,site\nA,S1\nB,S2\n")
    (tmp_path / "sites.csv").write_text("Site,Name,Retired\nS1,One,\nS2,Two,\nS2,Two (old),yes\n")
    text = GOOD + """lookups = [{ source = "sites", on = "site", key = "Site", take = { Name = "name" } }]
[[sources]]
id = "sites"
partner = "nhs"
kind = "csv"
location = "sites.csv"
table = "services"
"""
    config = load_config(write(tmp_path, text))
    with pytest.raises(SourceError, match=r"s1: lookups\[0\]: source sites \(sites.csv\) gives key 'S2'"):
        source_steps(config, config.sources[0], "services", ["code", "site"])
    narrowed = text.replace('take = { Name = "name" } }', 'take = { Name = "name" }, '
                            'where = [{ column = "Retired", empty = true }] }')
    config = load_config(write(tmp_path, narrowed))
    lookup = source_steps(config, config.sources[0], "services", ["code", "site"]).lookups[0]
    assert lookup.table.values.tolist() == [["S1", "One"], ["S2", "Two"]]
