"""No machine paths in what a map publishes when it reads files outside its config's folder: the NHS Lothian
example reads ../shared/data through allowed_roots, and every file of its published version (Parquet and DuckDB
tables read as text as well as byte for byte), the run's record and its Prefect artifacts name those files relative
to the config, never by an absolute path of the config folder, the shared data, the publish or private root, the
checkout or the home folder. What the CLI prints may show absolute paths: it is not published."""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config
from flows.staging import source_location
from tests.conftest import SHARED_DATA, require, write_mini_map

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LOTHIAN = REPO / "examples" / "lothian" / "ism.toml"
MAP_ID = "lothian-hospitals"


@dataclass(frozen=True)
class Published:
    config: Path  # the example's config, copied so that its private root is a temporary folder too
    publish_root: Path
    private_root: Path
    version: Path
    printed: str  # what `ism refresh --json` printed


@pytest.fixture(scope="module")
def lothian(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Published:
    """The Lothian example refreshed once for the module: its config unchanged but for where it finds
    ../shared/data from a temporary folder, and its publish and private roots (both temporary)."""
    require(SHARED_DATA.is_dir(), "../shared/data is absent: the Lothian example reads it")
    base = tmp_path_factory.mktemp("lothian")
    folder, publish_root, private_root = base / "map", base / "published", base / "private"
    folder.mkdir()
    text = LOTHIAN.read_text(encoding="utf-8")
    shared = os.path.relpath(SHARED_DATA.resolve(), folder)
    assert text.count("../../../shared/data") >= 5 and 'publish_root = "../../build/maps"' in text
    text = text.replace("../../../shared/data", shared).replace(
        'publish_root = "../../build/maps"', 'publish_root = "../published"\nprivate_root = "../private"')
    config = folder / "ism.toml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["refresh", str(config), "--json"])
    assert result.exit_code == 0, result.output
    printed = result.stdout
    version = Path(json.loads(printed)["path"])
    assert version.is_relative_to(publish_root)
    return Published(config, publish_root, private_root, version, printed)


def machine_paths(published: Published) -> list[str]:
    """Every absolute path a published file must not hold, as given and resolved (symlinks followed)."""
    folders = [published.config.parent, SHARED_DATA, published.publish_root, published.private_root, REPO,
               Path.home()]
    spelled = {str(spelling) for folder in folders for spelling in (folder, folder.resolve())}
    assert "/" not in spelled, "the home folder is / here: every path would match"
    return sorted(spelled, key=len, reverse=True)


def absolute_hits(blob: bytes, paths: list[str]) -> list[str]:
    """The paths that occur in `blob` as absolute paths. A name relative to the config that climbs to the
    filesystem's root (../../../../work/shared/data, as a temporary config folder must spell it) is not one."""
    return [path for path in paths if re.search(rb"(?<![\w.~-])" + re.escape(path.encode()), blob)]


def _cells(rows: list[tuple[object, ...]]) -> bytes:
    return "\n".join(str(value) for row in rows for value in row).encode("utf-8")


def duckdb_text(path: Path) -> list[bytes]:
    """Every table and view of a DuckDB file as text (every column cast to VARCHAR), and their definitions."""
    with duckdb.connect(str(path), read_only=True) as con:
        definitions = con.execute("SELECT sql FROM duckdb_tables() WHERE NOT internal UNION ALL "
                                  "SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
        names = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        texts = [_cells(definitions)]
        for schema, name in names:  # names from the file's own catalogue, quoted
            relation = f'"{schema}"."{name}"'
            texts.append(_cells(con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {relation}").fetchall()))
    return texts


def parquet_text(path: Path) -> list[bytes]:
    """Every column of a Parquet file as text, and its schema's metadata."""
    table = pq.read_table(path)
    columns = [table.column(name).cast(pa.string()).to_pylist() for name in table.column_names]
    metadata = b"\n".join(k + b"=" + v for k, v in (table.schema.metadata or {}).items())
    return [_cells([tuple(column) for column in columns]), metadata]


def readable_forms(path: Path) -> list[bytes]:
    """A file's bytes, and what a reader sees in it: tables as text, zip members (an .xlsx) unpacked."""
    forms = [path.read_bytes()]
    if path.suffix == ".duckdb":
        forms += duckdb_text(path)
    elif path.suffix == ".parquet":
        forms += parquet_text(path)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            forms += [archive.read(member) for member in archive.namelist()]
    return forms


def leaks(folder: Path, paths: list[str], allowed: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """Files under `folder` holding any of the paths: file (relative to `folder`) -> paths found."""
    found = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = {hit for form in readable_forms(file) for hit in absolute_hits(form, paths)}
        if hits:
            found[file.relative_to(folder).as_posix()] = sorted(hits)
    return found


def test_the_scan_finds_a_path_inside_compressed_parquet_and_duckdb(tmp_path: Path) -> None:
    planted = str(tmp_path / "map" / "data" / "s.csv")
    pq.write_table(pa.table({"location": [planted] * 3}), tmp_path / "t.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        con.execute("CREATE TABLE rejects AS SELECT ? AS location, 1 AS row_number", [planted])
    paths = [str(tmp_path / "map")]
    assert set(leaks(tmp_path, paths)) == {"t.parquet", "t.duckdb"}
    assert absolute_hits(b"../../../.." + str(tmp_path).encode(), [str(tmp_path)]) == []  # relative: fine
    assert absolute_hits(b'"' + str(tmp_path).encode() + b'/x"', [str(tmp_path)]) == [str(tmp_path)]


def test_no_published_file_names_a_machine_path(lothian: Published) -> None:
    paths = machine_paths(lothian)
    store = lothian.publish_root / MAP_ID
    assert leaks(store, paths) == {}  # every version, catalog.json and latest
    files = {p.relative_to(lothian.version).as_posix() for p in lothian.version.rglob("*") if p.is_file()}
    assert {"map.duckdb", "rejects.parquet", "rejects.csv", "version.json", "datapackage.json",
            "quality/report.json", "quality/report.html", "exports/map.xlsx"} <= files
    # what the CLI printed names the version by its absolute path: fine, it is not published
    assert str(lothian.version) in lothian.printed


def test_sources_outside_the_config_folder_are_named_relative_to_it(lothian: Published) -> None:
    shared = os.path.relpath(SHARED_DATA.resolve(), lothian.config.parent)
    manifest = json.loads((lothian.version / "version.json").read_text(encoding="utf-8"))
    locations = {s["source_id"]: s["location"] for s in manifest["sources"]}
    assert locations["ae"] == f"{shared}/phs/monthly_ae_waitingtimes_202204.csv"
    assert all(location.startswith("../") for location in locations.values()), locations
    rejects = pd.read_parquet(lothian.version / "rejects.parquet")
    assert len(rejects) and all(str(v).startswith(f"{shared}/phs/") for v in rejects["location"].unique())
    with duckdb.connect(str(lothian.version / "map.duckdb"), read_only=True) as con:
        named = {row[0] for row in con.execute("SELECT DISTINCT location FROM rejects").fetchall()}
    assert named == set(rejects["location"].unique())
    for location in locations.values():
        assert (lothian.config.parent / location).resolve().is_relative_to(SHARED_DATA.resolve())


def test_the_run_record_names_no_machine_path_but_its_report(lothian: Published) -> None:
    runs = lothian.private_root / MAP_ID / "runs"
    [run] = [p for p in runs.iterdir() if p.is_dir()]
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    # the record's one path is where `ism runs` finds the run's report on this machine: never published
    assert Path(record.pop("report")).is_relative_to(lothian.publish_root)
    paths = machine_paths(lothian)
    assert absolute_hits(json.dumps(record).encode(), paths) == []
    assert {name: found for name, found in leaks(runs, paths).items() if name != f"{run.name}/run.json"} == {}


def test_no_prefect_artifact_names_a_machine_path(lothian: Published) -> None:
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=MAP_ID)))
    shown = "\n".join(json.dumps(a.data, default=str) + str(a.description) for a in artifacts).encode()
    assert artifacts and absolute_hits(shown, machine_paths(lothian)) == []


def _absolute_activity_map(folder: Path) -> Path:
    """The mini map with its activity source named by an absolute path (allowed: it lies in the config's folder)."""
    config = write_mini_map(folder)
    absolute = folder / "extracts" / "activity.csv"
    config.write_text(config.read_text().replace('location = "extracts/activity.csv"', f'location = "{absolute}"'))
    return config


def test_too_many_rejects_name_the_file_relative_to_the_config(tmp_path: Path) -> None:
    config = _absolute_activity_map(tmp_path)
    (tmp_path / "extracts" / "activity.csv").write_text('code,month,n\nED,2025-04,"12,000"\nED,2025-05,-1\n'
                                                         'AMU,2025-04,-2\n')
    result = CliRunner().invoke(app, ["refresh", str(config)])
    assert result.exit_code == 1 and "internal error" not in result.stderr, result.output
    assert ("nhs_activity: 67% of the rows of extracts/activity.csv were rejected (2 of 3), above [quality] "
            "max_reject_share 50%") in result.stderr
    record = json.loads(next((tmp_path / ".ism" / "mini" / "runs").glob("*/run.json")).read_text(encoding="utf-8"))
    assert "of the rows of extracts/activity.csv were rejected" in record["message"]
    assert str(tmp_path) not in record["message"]
    report = json.loads((Path(record["report"]).parent / "report.json").read_text(encoding="utf-8"))
    located = {s["source_id"]: s["location"] for s in report["sources"]}
    assert located["nhs_activity"] == "extracts/activity.csv"  # the config spelled it absolute
    assert str(tmp_path) not in json.dumps(report)


def test_a_location_reached_through_a_symlink_is_named_as_the_config_writes_it(tmp_path: Path) -> None:
    """A data folder linked in (as ../shared beside a CI clone) is named as written, not as where the link leads:
    the published rejects, and so the content hash, do not depend on where the data really lies."""
    (tmp_path / "map").mkdir()
    config = write_mini_map(tmp_path / "map")
    delivered = tmp_path / "elsewhere" / "delivered"
    delivered.parent.mkdir()
    (tmp_path / "map" / "extracts").rename(delivered)
    (tmp_path / "map" / "extracts").symlink_to(delivered)
    config.write_text('allowed_roots = ["../elsewhere"]\n' + config.read_text())
    loaded = load_config(config)
    assert source_location(loaded, loaded.source("nhs_services")) == "extracts/services.csv"
    assert source_location(loaded, loaded.source("nhs_flows")) == "extracts/flows.csv"
