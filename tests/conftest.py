"""Shared fixtures: the real reference data, one Prefect test server per session, a small map, the demo published
once for the whole run; the rule for tests that need something outside the repo (skip locally, fail under CI=true)."""

import fcntl
import glob
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flows.environment import prepare_prefect

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# marker -> (is it here?, what is missing and how to get it); .ci/run installs all three as root
SYSTEM_PROGRAMS: dict[str, tuple[Callable[[], bool], str]] = {
    "browser": (lambda: Path("/usr/bin/chromium").exists(),
                "/usr/bin/chromium is absent: apt-get install chromium to run the browser tests"),
    "database": (lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
                 "PostgreSQL server binaries are absent (/usr/lib/postgresql/*/bin): apt-get install postgresql"),
    "office": (lambda: shutil.which("soffice") is not None,
               "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"),
}


def pytest_configure(config: pytest.Config) -> None:
    """The test session is a process start: Prefect's home and quiet settings are set here, before any import of
    Prefect (the Makefile's exports win when present). Each pytest-xdist worker gets a Prefect home of its own,
    so two workers' temporary servers never share one SQLite database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        base = Path(os.environ.get("PREFECT_HOME") or Path(".ism", "prefect")).resolve()
        os.environ["PREFECT_HOME"] = str(base / "workers" / worker)
    prepare_prefect()


def require(present: object, what: str) -> None:
    """Skip the test when `what` is missing; under CI=true fail it instead, since there a missing ../shared/data or
    system program means a broken run, not an optional test."""
    if present:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true: a missing dependency fails the run instead of skipping)", pytrace=False)
    pytest.skip(what)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked browser, database or office need that system program."""
    for marker, (is_present, what) in SYSTEM_PROGRAMS.items():
        if item.get_closest_marker(marker):
            require(is_present(), what)


@pytest.fixture
def shared_data() -> Path:
    """The real open data in ../shared/data beside the repo (skipped without it, failed under CI=true)."""
    require(SHARED_DATA.is_dir(), "../shared/data is absent: real-data tests need the shared folder beside the repo")
    return SHARED_DATA

MINI_CONFIG = """
map_id = "mini"
title = "Mini map"
population = "adults"
publish_root = "published"
[area]
code = "S37000001"
name = "Mini"
[period]
start = "2025-04"
end = "2025-05"
[quality]
max_reject_share = 0.5  # a 3-row flows extract with one unknown service (1 in 3) still publishes
[[lanes]]
id = "urgent_care"
label = "Urgent care"
colour = "#e06666"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[[lanes]]
id = "social_care"
label = "Social care"
colour = "#93c47d"
[partners.nhs]
name = "NHS Mini"
sector = "nhs"
[partners.council]
name = "Mini Council"
sector = "local_authority"
[[sources]]
id = "nhs_services"
partner = "nhs"
kind = "csv"
location = "extracts/services.csv"
table = "services"
columns = { service_key = "code", name = "name", lane = "type" }
codes.lane = { URG = "urgent_care", ACU = "acute" }
[[sources]]
id = "council_services"
partner = "council"
kind = "csv"
location = "extracts/council.csv"
table = "services"
columns = { service_key = "id", name = "service", lane = "kind" }
codes.lane = { SC = "social_care" }
[[sources]]
id = "nhs_activity"
partner = "nhs"
kind = "csv"
location = "extracts/activity.csv"
table = "activity"
columns = { service_key = "code", period = "month", value = "n" }
constants = { measure = "attendances" }
[[sources]]
id = "nhs_flows"
partner = "nhs"
kind = "csv"
location = "extracts/flows.csv"
table = "flows"
columns = { from_key = "from", to_key = "to", period = "month", value = "n" }
constants = { measure = "referrals" }
"""

MINI_EXTRACTS = {
    "services.csv": "code,name,type\nED,Emergency Department,URG\nAMU,Acute Medical Unit,ACU\n",
    "council.csv": "id,service,kind\nCAH,Care at home,SC\nREA,Reablement,SC\n",
    "activity.csv": 'code,month,n\nED,2025-04,"1,200"\nED,2025-05,1300\nAMU,2025-04,<5\n',
    "flows.csv": "from,to,month,n\nED,AMU,2025-04,300\nAMU,council:CAH,2025-04,20\nAMU,ZZZ,2025-05,3\n",
}


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect API for the whole session (starting one takes ~10-20 s). Flow runs here send no
    heartbeats: Prefect's heartbeat thread sleeps in steps of a second and each flow run waits for it to wake before
    it returns (0.7 s a refresh of the mini map, measured); no test reads them."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90), \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture
def mini_map(tmp_path: Path) -> Path:
    """A two-partner map config with its extracts; returns the config path."""
    return write_mini_map(tmp_path)


def write_mini_map(folder: Path, extra_config: str = "") -> Path:
    """The two-partner map's extracts and config (plus `extra_config`) written in `folder`; the config path."""
    (folder / "extracts").mkdir()
    for name, text in MINI_EXTRACTS.items():
        (folder / "extracts" / name).write_text(text)
    config = folder / "ism.toml"
    config.write_text(MINI_CONFIG + extra_config)
    return config


@pytest.fixture(scope="session")
def published_demo(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo map (not the checkout's private area) published once for the whole run: the first
    pytest-xdist worker to ask refreshes it, the others wait for it and share it. Tests only read it."""
    from examples import DEMO_CONFIG, write_demo
    from flows.refresh import refresh_map

    require(DEMO_CONFIG.is_file(), "the demo map (examples/demo/ism.toml) is not there")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    with (shared / "published-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = shared / "published-demo.path"
        if not made.exists():
            made.write_text(refresh_map(str(write_demo(shared / "published-demo"))).path)
        return Path(made.read_text())
