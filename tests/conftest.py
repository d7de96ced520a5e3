"""Shared fixtures: the real reference data, one Prefect test server per session, a small map."""

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def shared_data() -> Path:
    """The real open data in ../shared/data beside the repo; tests that need it skip when it is absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is absent: real-data tests need the shared folder beside the repo")
    return path

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
    """A temporary Prefect API for the whole session (starting one takes ~10-20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
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
