"""Paths stay contained: a map config reads only inside its own folder or its allowed_roots (no `..` or symlink
escape), and never publishes into a folder a source reads from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expectations.errors import ConfigError
from flows.cli import app
from flows.config import load_config


def config_text(location: str = "data/s.csv", extra: str = "", top: str = "", kind: str = "csv",
                table: str | None = "services") -> str:
    """A one-source map config; `extra` goes into the source, `top` before the first table."""
    table_line = f'table = "{table}"\n' if table else ""
    return f'''map_id = "paths"
title = "Paths"
population = "adults"
{top}
[area]
code = "S37000001"
name = "Paths"
[period]
start = "2025-04"
end = "2025-06"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.nhs]
name = "NHS"
sector = "nhs"
[[sources]]
id = "s1"
partner = "nhs"
kind = "{kind}"
location = "{location}"
{table_line}{extra}'''


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """<tmp>/map/ism.toml beside <tmp>/map/data/s.csv, and <tmp>/elsewhere/secret.csv outside the map's folder."""
    (tmp_path / "map" / "data").mkdir(parents=True)
    (tmp_path / "map" / "data" / "s.csv").write_text("service_key,name,lane\nA,A,acute\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.csv").write_text("service_key,name,lane\nB,B,acute\n")
    return tmp_path / "map"


def write(folder: Path, text: str) -> Path:
    path = folder / "ism.toml"
    path.write_text(text)
    return path


def test_locations_inside_the_config_folder_are_fine(layout: Path) -> None:
    for location in ("data/s.csv", "data/../data/s.csv", "./data/s.csv", "data/not_yet_there.csv"):
        assert load_config(write(layout, config_text(location))).sources[0].location == location


def test_a_dotdot_escape_is_refused_naming_source_and_key(layout: Path) -> None:
    path = write(layout, config_text("../elsewhere/secret.csv"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: sources[0].location: source 's1' reads ")
    assert "outside the map config's folder" in message and "allowed_roots" in message
    assert "\n" not in message


def test_an_absolute_path_outside_is_refused(layout: Path) -> None:
    outside = layout.parent / "elsewhere" / "secret.csv"
    with pytest.raises(ConfigError, match=r"sources\[0\]\.location"):
        load_config(write(layout, config_text(str(outside))))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.location"):
        load_config(write(layout, config_text("/etc/passwd")))


@pytest.mark.parametrize("target", ["file", "folder"])
def test_a_symlink_escape_is_refused(layout: Path, target: str) -> None:
    if target == "file":
        os.symlink(layout.parent / "elsewhere" / "secret.csv", layout / "data" / "link.csv")
        location = "data/link.csv"
    else:
        os.symlink(layout.parent / "elsewhere", layout / "data" / "linked")
        location = "data/linked/secret.csv"
    with pytest.raises(ConfigError, match=r"sources\[0\]\.location: .*which resolves to .*elsewhere"):
        load_config(write(layout, config_text(location)))


def test_allowed_roots_let_a_map_read_a_shared_folder(layout: Path) -> None:
    top = 'allowed_roots = ["../elsewhere"]'
    config = load_config(write(layout, config_text("../elsewhere/secret.csv", top=top)))
    assert config.allowed_folders()[1] == (layout.parent / "elsewhere").resolve()
    absolute = str(layout.parent / "elsewhere" / "secret.csv")
    assert load_config(write(layout, config_text(absolute, top=top))).sources[0].location == absolute
    (layout.parent / "elsewhere_too").mkdir()
    with pytest.raises(ConfigError):  # a sibling whose name starts the same is not inside the root
        load_config(write(layout, config_text("../elsewhere_too/x.csv", top=top)))


def test_option_paths_are_contained_too(layout: Path) -> None:
    phs = config_text("data/ae.csv", kind="phs_ae", table=None, extra='options = { site_list = "../elsewhere/'
                      'secret.csv" }\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.options\.site_list: source 's1' reads "):
        load_config(write(layout, phs))
    inside = config_text("data/ae.csv", kind="phs_ae", table=None, extra='options = { site_list = "data/s.csv" }\n')
    assert load_config(write(layout, inside)).sources[0].options == {"site_list": "data/s.csv"}


def test_the_publish_root_may_not_lie_in_a_source_folder(layout: Path) -> None:
    config = load_config(write(layout, config_text()))
    assert config.checked_publish_root() == (layout / "published").resolve()
    assert config.checked_publish_root(layout.parent / "out") == (layout.parent / "out").resolve()
    for inside in (layout / "data", layout / "data" / "published", layout / "data" / ".." / "data" / "x"):
        with pytest.raises(ConfigError, match=r"publish root .* lies inside .*data, the folder of source 's1' "
                                              r"\(sources\[0\]\.location\)"):
            config.checked_publish_root(inside)
    in_config = load_config(write(layout, config_text(top='publish_root = "data/maps"')))
    with pytest.raises(ConfigError, match="publish outside the partners' data"):
        in_config.checked_publish_root()


def test_the_publish_root_may_not_lie_in_a_source_package_folder(layout: Path) -> None:
    (layout / "data" / "hsds").mkdir()
    config = load_config(write(layout, config_text("data/hsds", kind="hsds", table=None)))
    with pytest.raises(ConfigError, match=r"lies inside .*hsds"):
        config.checked_publish_root(layout / "data" / "hsds" / "maps")


def test_the_cli_refuses_such_a_publish_root_in_one_line(layout: Path) -> None:
    path = write(layout, config_text())
    result = CliRunner().invoke(app, ["refresh", str(path), "--publish-root", str(layout / "data" / "out")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("ism: error: ") and result.stderr.strip().count("\n") == 0
    assert not (layout / "data" / "out").exists()


def test_a_pseudonymised_column_can_never_be_mapped_to_a_published_one(layout: Path) -> None:
    extra = 'pseudonymised_columns = ["pid"]\ncolumns = { service_key = "pid", name = "name" }\n'
    with pytest.raises(ConfigError, match=r"sources\[0\]: pseudonymised column\(s\) 'pid' are mapped under `columns`"):
        load_config(write(layout, config_text(extra=extra)))
    fine = 'pseudonymised_columns = ["pid"]\nsafe_columns = ["Site Postcode"]\n'
    source = load_config(write(layout, config_text(extra=fine))).sources[0]
    assert (source.pseudonymised_columns, source.safe_columns) == (["pid"], ["Site Postcode"])
