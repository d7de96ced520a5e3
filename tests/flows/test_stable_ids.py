"""service_id and organisation_id are the same across runs, reordered [[sources]], reordered rows and renamed
services whose source key is unchanged (end to end through the refresh flow)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from flows.refresh import refresh_map

pytestmark = pytest.mark.usefixtures("prefect_server")


def _reordered_sources(config: str) -> str:
    """The same config with its [[sources]] blocks in reverse order."""
    head, *blocks = re.split(r"^(?=\[\[sources\]\]$)", config, flags=re.MULTILINE)
    return head + "".join(reversed([block.rstrip("\n") + "\n\n" for block in blocks]))


def _ids(version: Path) -> tuple[dict[str, str], dict[str, str], set[tuple[str, str]]]:
    """(service name -> id, organisation name -> id, flow endpoint pairs) of a published version."""
    services = pd.read_csv(version / "services.csv")
    organisations = pd.read_csv(version / "organisations.csv")
    flows = pd.read_csv(version / "flows.csv")
    return (dict(zip(services["name"], services["service_id"], strict=True)),
            dict(zip(organisations["name"], organisations["organisation_id"], strict=True)),
            set(zip(flows["from_service_id"], flows["to_service_id"], strict=True)))


def test_ids_survive_reordered_sources_and_rows_and_a_renamed_service(mini_map: Path, tmp_path: Path) -> None:
    root = tmp_path / "maps"
    first = refresh_map(str(mini_map), str(root))
    services, organisations, flows = _ids(Path(first.path))
    assert len(services) == 4 and len(organisations) == 2 and len(flows) == 2

    config = mini_map.read_text()
    reordered = _reordered_sources(config)
    assert re.findall(r'^\[\[sources\]\]\nid = "(\w+)"', reordered, flags=re.MULTILINE) == [
        "nhs_flows", "nhs_activity", "council_services", "nhs_services"]
    mini_map.write_text(reordered)
    extracts = mini_map.parent / "extracts"
    (extracts / "services.csv").write_text("code,name,type\nAMU,Acute Medical Unit,ACU\nED,A&E (Emergency Dept),URG\n")
    (extracts / "council.csv").write_text("id,service,kind\nREA,Reablement,SC\nCAH,Care at home,SC\n")
    second = refresh_map(str(mini_map), str(root))

    assert second.status == "published" and second.version_id == "v0002"  # the new name is new content
    renamed_services, renamed_organisations, renamed_flows = _ids(Path(second.path))
    assert renamed_services.pop("A&E (Emergency Dept)") == services.pop("Emergency Department")
    assert renamed_services == services
    assert renamed_organisations == organisations
    assert renamed_flows == flows
