"""`ism render` on a published map, the `[poster]` table of the map config, and the diagrams and exports every
published version carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expectations.errors import ConfigError
from flows.cli import app
from flows.config import load_config
from tests.conftest import MINI_CONFIG, write_mini_map

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Path:
    """The mini map published once for this module; returns its config path."""
    from flows.refresh import refresh_map

    # a generous layout budget: a busy test machine must not push the mini map onto a cheaper layout
    config = write_mini_map(tmp_path_factory.mktemp("mini"),
                            '\n[poster]\npage = "A3"\nmin_flow_share = 0.01\nlayout_seconds = 60\n')
    assert refresh_map(str(config)).status == "published"
    return config


def test_a_published_version_carries_the_poster_map_and_exports(published: Path) -> None:
    version = published.parent / "published" / "mini" / "versions" / "v0001"
    for name in ("diagrams/poster.svg", "diagrams/poster.png", "diagrams/poster.pdf", "diagrams/map.html",
                 "exports/map.graphml", "exports/map.gexf", "exports/kumu.json", "exports/cytoscape.json"):
        assert (version / name).is_file(), name
    assert "Emergency Department" in (version / "diagrams" / "map.html").read_text(encoding="utf-8")


def test_render_a_service_and_its_neighbours(published: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(published), "--service", "acute medical unit", "--hops", "1",
                                      "--out", str(tmp_path), "--format", "svg,pdf", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["focus"]["name"] == "Acute Medical Unit" and found["services"] == 3 and found["flows"] == 2
    assert found["page"] == "A3" and found["layout"] == "dot"
    assert [Path(p).name for p in found["paths"]] == ["mini-v0001-service-acute-medical-unit-1.svg",
                                                      "mini-v0001-service-acute-medical-unit-1.pdf"]
    svg = Path(found["paths"][0]).read_text(encoding="utf-8")
    assert "Acute Medical Unit and the services within 1 step of flows" in svg
    assert "Reablement" not in svg  # no flow reaches it
    by_key = CliRunner().invoke(app, ["render", str(published), "--service", "nhs:AMU", "--out", str(tmp_path / "k"),
                                      "--format", "svg", "--json"])
    assert by_key.exit_code == 0, by_key.output  # the same lookup as `ism impact`: partner:key works too
    assert json.loads(by_key.stdout)["focus"]["service_id"] == found["focus"]["service_id"]


def test_render_a_lane_prints_the_paths(published: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(published), "--lane", "Social care", "--out", str(tmp_path),
                                      "--format", "svg", "--page", "a4"])
    assert result.exit_code == 0, result.output
    [path] = result.stdout.strip().splitlines()
    svg = Path(path).read_text(encoding="utf-8")
    assert Path(path).name == "mini-v0001-lane-social-care.svg"
    assert "Care at home" in svg and "Reablement" in svg and "Emergency Department" not in svg


@pytest.mark.parametrize(("arguments", "message", "code"), [
    (["--service", "acute"], "unknown service 'acute'; close matches: 'Acute Medical Unit'", 3),
    (["--service", "nhs:NOPE"], "unknown service 'nhs:NOPE'", 3),
    (["--lane", "nowhere"], "unknown lane 'nowhere'; lanes: urgent_care, ", 3),
    (["--lane", "acute", "--service", "x"], "name --lane or --service, not both", 2),
    (["--format", "gif"], "--format 'gif': use one or more of svg, png, pdf", 2),
    (["--version", "v0009"], "no version 'v0009'", 3),
])
def test_render_errors_are_one_line(published: Path, tmp_path: Path, arguments: list[str], message: str,
                                    code: int) -> None:
    result = CliRunner().invoke(app, ["render", str(published), "--out", str(tmp_path), *arguments])
    assert result.exit_code == code
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_the_poster_table_has_defaults_and_checks_its_values(tmp_path: Path) -> None:
    config = write_mini_map(tmp_path)
    poster = load_config(config).poster
    assert (poster.min_flow_share, poster.label_flow_share, poster.page, poster.layout_seconds) == (
        0.005, 0.05, "A1", 4.0)
    config.write_text(MINI_CONFIG + '\n[poster]\npage = "B2"\n')
    with pytest.raises(ConfigError, match=r"ism.toml: poster.page: Input should be 'A0', 'A1'"):
        load_config(config)
