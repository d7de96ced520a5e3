"""Malformed extracts through whole `ism refresh` and `ism validate` runs of the mini map (a few dozen cases: each
is a Prefect run): never an internal error; a refused extract exits 1 or 2 naming the source and its file; the
previous `latest` stays intact; no value of a rejected row is published; every JSON output is JSON; and no
published file (nor Prefect artifact) carries the machine's paths."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config
from tests.conftest import write_mini_map
from tests.flows.processes import tree_digest
from tests.property.strategies import Extract, extracts
from tests.property.test_malformed_extracts import LOCATION

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]
WHOLE_RUNS = 30 if os.environ.get("HYPOTHESIS_PROFILE") == "large" else 3  # each case: two Prefect runs


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _ism(*args: str) -> tuple[int, str, str]:
    """`ism ARGS` in-process: exit code, stdout, stderr. An exception that escapes the CLI is an internal error."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"internal error: {result.exception!r}\n{result.output}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mini map published once: the 'previous' version every broken run is compared with."""
    folder = tmp_path_factory.mktemp("published")
    config = write_mini_map(folder)
    code, out, err = _ism("refresh", str(config))
    assert code == 0, err
    return folder


def _machine_paths(folder: Path) -> list[str]:
    config = load_config(folder / "ism.toml")
    store = config.store(None)
    return sorted({str(p) for path in (folder, store.root, store.private) for p in (path, path.resolve())})


@settings(max_examples=WHOLE_RUNS, phases=(Phase.explicit, Phase.reuse, Phase.generate))  # no shrinking: runs are slow
@given(case=extracts(max_field_length=64 * 1024 + 1))
def test_a_refresh_with_a_broken_extract_never_breaks_the_published_map(
        published: Path, tmp_path_factory: pytest.TempPathFactory, case: Extract) -> None:
    folder = tmp_path_factory.mktemp("run")
    shutil.copytree(published, folder, dirs_exist_ok=True)
    (folder / LOCATION).write_bytes(case.data)
    text = (folder / "ism.toml").read_text()
    rule = f'decimal = "{case.rule.decimal}"\nthousands = "{case.rule.thousands}"\n'
    (folder / "ism.toml").write_text(text.replace('constants = { measure = "attendances" }\n',
                                                  f'constants = {{ measure = "attendances" }}\n{rule}', 1))
    store = load_config(folder / "ism.toml").store(None)
    before = (store.folder / "latest").read_text().strip()
    previous = tree_digest(store.folder / "versions" / before)

    code, out, err = _ism("validate", str(folder / "ism.toml"), "--json")
    assert code in (0, 1), err
    summary = _strict_json(out)
    assert isinstance(summary, dict)
    code, out, err = _ism("refresh", str(folder / "ism.toml"))
    assert "internal error" not in err
    assert tree_digest(store.folder / "versions" / before) == previous, "the previous version changed"
    latest = (store.folder / "latest").read_text().strip()
    if code != 0:
        assert code in (1, 2) and latest == before, err
        # a refused file is named; a source blocked for its share of row rejects is named with that share (its
        # rejects, in the quality report, name the file, row and column)
        assert "nhs_activity" in err and (LOCATION in err or "of its rows were rejected" in err), err
    else:
        _assert_only_exact_values_published(store.folder / "versions" / latest, case)


def _assert_only_exact_values_published(version: Path, case: Extract) -> None:
    activity = pd.read_csv(version / "activity.csv", dtype=str, keep_default_na=False)
    ours = activity[activity["source_id"] == "nhs_activity"]
    for row in ours.itertuples(index=False):
        key = (str(row.service_id).split(":")[-1], str(row.period_start)[:7])
        count = case.counts.get(key)
        if count is None or row.value == "":
            continue  # a key junk rewrote, or a suppressed cell (small counts are published empty)
        assert count.value is not None and float(row.value) == count.value, (count, row.value)


def test_no_published_file_nor_artifact_carries_a_machine_path(tmp_path: Path) -> None:
    config = write_mini_map(tmp_path)
    config.write_text(config.read_text().replace('partner = "', 'on_error = "quarantine"\npartner = "')
                      + '[[sources]]\nid = "extra_services"\npartner = "council"\nkind = "csv"\non_error = '
                      '"quarantine"\nlocation = "extracts/extra.csv"\ntable = "services"\n'
                      'columns = { service_key = "id", name = "service", lane = "kind" }\n')
    (tmp_path / "extracts" / "extra.csv").write_text("id;service;kind\nDN;District nursing;SC\n")  # blocked
    (tmp_path / LOCATION).write_text('code,month,n\nED,2025-04,"12,5"\nED,2025-05,17\nAMU,2025-04,"1,234"\n'
                                     'AMU,2025-05,9\n')
    code, out, err = _ism("refresh", str(config), "--json")
    assert code == 0, err
    result = _strict_json(out)
    assert isinstance(result, dict)
    version = Path(result["path"])
    paths = _machine_paths(tmp_path)
    from tests.flows.test_safety_e2e import every_text

    published = every_text(version)
    leaks = [p for p in paths if p in published]
    assert not leaks, f"published files carry {leaks}"
    files = [f for f in version.rglob("*") if f.is_file()]
    for file in files:
        if file.suffix == ".json":
            _strict_json(file.read_text(encoding="utf-8"))
    rejects = pd.read_csv(version / "rejects.csv", dtype=str, keep_default_na=False)
    assert set(rejects.loc[rejects["source_id"] == "extra_services", "location"]) == {"extracts/extra.csv"}
    assert set(rejects.loc[rejects["source_id"] == "nhs_activity", "location"]) == {LOCATION}
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="mini")))
    shown = " ".join(json.dumps(a.data, default=str) + str(a.description) for a in artifacts)
    assert artifacts and not [p for p in paths if p in shown]


def test_a_map_whose_only_services_source_is_blocked_names_it(tmp_path: Path) -> None:
    config = write_mini_map(tmp_path)
    text = config.read_text()
    start = text.index('[[sources]]\nid = "council_services"')
    config.write_text(text[:start] + text[text.index("[[sources]]", start + 1):])
    (tmp_path / "extracts" / "services.csv").write_text("code,name,type\n")  # a header, no rows
    code, out, err = _ism("refresh", str(config))
    assert code == 1 and "internal error" not in err
    assert "nhs_services" in err and "extracts/services.csv" in err, err


def test_validate_json_is_strict_json_when_a_source_is_blocked(tmp_path: Path) -> None:
    config = write_mini_map(tmp_path)
    (tmp_path / "extracts" / "council.csv").write_text("id,service,kind\n")  # a header, no rows: blocked
    code, out, err = _ism("validate", str(config), "--json")
    assert code == 1 and "internal error" not in err
    summary = _strict_json(out)  # rejects with no column or value: null, not NaN
    assert isinstance(summary, dict)
    blocked = [s for s in summary["sources"] if s["status"] == "blocked"]
    assert [s["source_id"] for s in blocked] == ["council_services"]
    assert blocked[0]["error"].startswith("council_services: extracts/council.csv has no data rows")
