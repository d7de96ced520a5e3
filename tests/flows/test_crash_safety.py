"""Crash safety with real processes: a refresh SIGKILLed at any checkpoint leaves the last good version intact
and `latest` valid, the next refresh cleans up and succeeds; two refreshes of one map never interleave."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from flows.config import load_config
from flows.faults import CHECKPOINTS
from flows.refresh import refresh_map
from tests.flows.processes import ISM, assert_consistent, ism_env, output, started, tree_digest, wait_until

pytestmark = pytest.mark.usefixtures("prefect_server")

CHANGED_ACTIVITY = "code,month,n\nED,2025-04,1250\nED,2025-05,1300\nAMU,2025-04,<5\n"
ORIGINAL_ACTIVITY = 'code,month,n\nED,2025-04,"1,200"\nED,2025-05,1300\nAMU,2025-04,<5\n'


def copy_of_map(mini_map: Path, folder: Path) -> Path:
    folder.mkdir()
    for name in ("ism.toml", "extracts", "published"):
        source = mini_map.parent / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, folder / name)
    return folder / "ism.toml"


@pytest.mark.slow
def test_a_run_killed_at_any_checkpoint_leaves_the_last_good_version_intact(mini_map: Path, tmp_path: Path) -> None:
    first = refresh_map(str(mini_map))
    intact = tree_digest(Path(first.path))
    configs = {point: copy_of_map(mini_map, tmp_path / point) for point in CHECKPOINTS}
    with ExitStack() as stack:
        runs = {}
        for point, config in configs.items():
            (config.parent / "extracts" / "activity.csv").write_text(CHANGED_ACTIVITY)
            env = ism_env(config.parent / ".ism", PREFECT_API_URL.value(), ISM_CRASH_AT=point)
            runs[point] = stack.enter_context(started([str(ISM), "refresh", str(config)], env, config.parent / "run"))
        for point, process in runs.items():
            assert process.wait(180) == -9, f"{point}: {output(configs[point].parent / 'run')}"

    for point, config in configs.items():
        store = load_config(config).store()
        assert tree_digest(store.version_path("v0001")) == intact, point
        assert (store.folder / "latest").read_text().strip() == "v0001", point
        assert_consistent(store, exactly=point != "after_rename")
        left = {"after_extract": store.work, "after_consolidate": store.work, "mid_publish": store.staging}
        if point in left:
            assert any(left[point].iterdir()), f"{point}: the kill left nothing to clean up"
            assert store.complete_versions() == ["v0001"], point
        else:  # killed between the rename and the catalog: the version is complete, latest not moved yet
            assert store.complete_versions() == ["v0001", "v0002"]

    # the next refresh cleans up and succeeds: unchanged after a restore, or publishing the changed extract
    expected = {"after_extract": ("unchanged", "v0001"), "after_consolidate": ("unchanged", "v0001"),
                "mid_publish": ("published", "v0002"), "after_rename": ("unchanged", "v0002")}
    for point, config in configs.items():
        if expected[point] == ("unchanged", "v0001"):
            (config.parent / "extracts" / "activity.csv").write_text(ORIGINAL_ACTIVITY)
        result = refresh_map(str(config))
        assert (result.status, result.version_id) == expected[point], point
        store = load_config(config).store()
        assert not any(store.staging.iterdir()) and not any(store.work.iterdir()), point
        assert_consistent(store)
        assert tree_digest(store.version_path("v0001")) == intact, point


@pytest.mark.slow
def test_a_second_refresh_of_the_same_map_waits_or_is_refused(mini_map: Path, tmp_path: Path) -> None:
    hold = tmp_path / "holding"
    api = PREFECT_API_URL.value()
    args = [str(ISM), "refresh", str(mini_map)]
    with started(args, ism_env(tmp_path / "a", api, ISM_HOLD_AT="after_extract", ISM_HOLD_FILE=str(hold)),
                 tmp_path / "logs" / "first") as first:
        wait_until(hold.exists, 180, "the first refresh to hold the map's lock")
        with started([*args, "--wait"], ism_env(tmp_path / "b", api), tmp_path / "logs" / "waiting") as waiting, \
                started(args, ism_env(tmp_path / "c", api), tmp_path / "logs" / "refused") as refused:
            assert refused.wait(180) == 1
            refusal = (f"ism: error: {mini_map.parent / 'published' / 'mini'}: another refresh of map 'mini' is "
                       "running; wait for it to finish (or pass --wait)")
            assert refusal in output(tmp_path / "logs" / "refused").splitlines()
            wait_until(lambda: "waiting for another refresh of map 'mini'" in output(tmp_path / "logs" / "waiting"),
                       180, "the --wait refresh to report that it waits")
            assert waiting.poll() is None
            hold.unlink()  # the first refresh goes on
            assert first.wait(180) == 0, output(tmp_path / "logs" / "first")
            assert waiting.wait(180) == 0, output(tmp_path / "logs" / "waiting")
    assert output(tmp_path / "logs" / "first", "out").strip().endswith("published/mini/versions/v0001")
    assert "unchanged: latest is mini v0001" in output(tmp_path / "logs" / "waiting", "out")
    store = load_config(mini_map).store()
    assert store.complete_versions() == ["v0001"]
    assert not any(store.staging.iterdir()) and not any(store.work.iterdir())
    assert_consistent(store)
