"""Quality end to end through a (temporary) Prefect server: every version carries its quality report and the run
its Prefect artifacts; `quarantine` publishes a source's last good extract (stale) or nothing (missing), never its
bad rows; `fail` publishes nothing and keeps `latest`; too many rejects block a source; `ism validate` publishes
nothing and exits 1 on an error."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from typer.testing import CliRunner

from expectations.errors import QualityGateError
from flows.cli import app
from flows.refresh import RunResult, refresh_map

pytestmark = pytest.mark.usefixtures("prefect_server")

GOOD_ACTIVITY = 'code,month,n\nED,2025-04,"1,200"\nED,2025-05,1300\nAMU,2025-04,<5\n'


def quarantine(config: Path, *source_ids: str) -> None:
    """Put sources of the mini map under on_error = "quarantine"."""
    text = config.read_text()
    for source_id in source_ids:
        text = text.replace(f'id = "{source_id}"\n', f'id = "{source_id}"\non_error = "quarantine"\n')
    config.write_text(text)


def report(result: RunResult) -> dict:
    return json.loads((Path(result.path) / "quality" / "report.json").read_text())


def by_source(summary: dict) -> dict[str, dict]:
    return {s["source_id"]: s for s in summary["sources"]}


def artifacts_of(flow_run_id: UUID) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found if a.key}


def test_every_version_has_its_quality_report_and_the_run_its_artifacts(mini_map: Path) -> None:
    state = refresh_map(str(mini_map), return_state=True)
    result: RunResult = state.result()
    quality = Path(result.path) / "quality"
    assert {p.name for p in quality.iterdir()} >= {"report.html", "report.json", "rejects.parquet", "gx"}
    assert (quality / "gx" / "index.html").is_file()
    summary = report(result)
    rags = {sid: s["rag"] for sid, s in by_source(summary).items()}
    assert rags == {"nhs_services": "green", "council_services": "green", "nhs_activity": "green",
                    "nhs_flows": "amber"}
    assert summary["status"] == "amber" and summary["version_id"] == "v0001"
    assert {c["code"] for c in by_source(summary)["nhs_flows"]["checks_failed"]} == {"unknown_service",
                                                                                    "month_missing"}
    assert "nhs_flows" in (quality / "report.html").read_text()
    artifacts = artifacts_of(state.state_details.flow_run_id)
    assert set(artifacts) == {"ism-quality-mini", "ism-quality-sources-mini"}
    assert "| nhs_flows | 🟠 amber | warn | 3 | 2 | 1 |" in artifacts["ism-quality-mini"].data
    table = artifacts["ism-quality-sources-mini"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert [r["source"] for r in rows] == ["nhs_services", "council_services", "nhs_activity", "nhs_flows"]


def test_quarantine_publishes_the_last_good_extract_or_nothing_and_fail_keeps_latest(mini_map: Path) -> None:
    quarantine(mini_map, "nhs_activity")
    first = refresh_map(str(mini_map))
    extracts = mini_map.parent / "extracts"
    (extracts / "activity.csv").write_text("code,when,n\nED,2025-04,999999\n")  # its month column is gone
    mini_map.write_text(mini_map.read_text() + (
        '[[sources]]\nid = "council_homes"\npartner = "council"\nkind = "csv"\nlocation = "extracts/homes.csv"\n'
        'table = "services"\non_error = "quarantine"\n'))
    second = refresh_map(str(mini_map))
    assert second.version_id == "v0002"
    summary = by_source(report(second))
    stale, missing = summary["nhs_activity"], summary["council_homes"]
    assert (stale["status"], stale["rag"], stale["stale"]["version_id"]) == ("stale", "amber", "v0001")
    assert stale["stale"]["age_days"] is not None and "column 'month'" in stale["error"]
    assert (missing["status"], missing["rag"]) == ("missing", "red")
    assert "file not found" in missing["error"]
    activity = pd.read_parquet(Path(second.path) / "activity.parquet")
    assert activity.equals(pd.read_parquet(Path(first.path) / "activity.parquet"))  # never the bad rows
    assert 999999 not in activity["value"].tolist()
    manifest = json.loads((Path(second.path) / "version.json").read_text())
    assert {s["source_id"]: s["status"] for s in manifest["sources"]}["nhs_activity"] == "stale"

    (extracts / "services.csv").write_text("code,name\nED,Emergency Department\n")  # nhs_services is on fail
    with pytest.raises(QualityGateError, match=r"nothing published; root cause: nhs_services blocked -> \d+ "
                                               r"unknown_service in \d source\(s\) \(.*nhs_flows\): "
                                               r"nhs_services: column 'type'"):
        refresh_map(str(mini_map))
    store = mini_map.parent / "published" / "mini"
    assert (store / "latest").read_text().strip() == "v0002"
    assert sorted(p.name for p in (store / "versions").iterdir()) == ["v0001", "v0002"]


def test_too_many_rejects_block_a_source_and_a_big_change_is_reported(mini_map: Path) -> None:
    quarantine(mini_map, "nhs_activity")
    refresh_map(str(mini_map))
    activity = mini_map.parent / "extracts" / "activity.csv"
    activity.write_text('code,month,n\nED,2025-04,"12,000"\nED,2025-05,-1\nAMU,2025-04,-2\n')
    gated = report(refresh_map(str(mini_map)))
    source = by_source(gated)["nhs_activity"]
    assert source["status"] == "stale"
    assert source["error"] == ("nhs_activity: 67% of the rows of extracts/activity.csv were rejected (2 of 3), "
                               "above [quality] "
                               "max_reject_share 50%; see the top reasons in the quality report")
    assert {c["code"] for c in source["checks_failed"]} >= {"source_stale", "reject_share", "negative_value"}

    activity.write_text('code,month,n\nED,2025-04,"12,000"\nED,2025-05,13000\nAMU,2025-04,<5\n')
    changed = report(refresh_map(str(mini_map)))
    source = by_source(changed)["nhs_activity"]
    assert (source["status"], source["rag"]) == ("ok", "amber")
    assert [(m["measure"], m["change"], m["change_display"]) for m in source["measures"]] == [
        ("attendances", pytest.approx(9.0), "+900%")]
    volume = next(c for c in changed["checks"] if c["code"] == "volume_change")
    assert not volume["success"] and volume["source_ids"] == ["nhs_activity"]


def test_validate_publishes_nothing_and_exits_1_on_an_error(mini_map: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(mini_map)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["source", "status", "detail", "read", "accepted", "rejected", "share", "filtered",
                                "data", "checks", "failed"]
    assert lines[4].split()[:8] == ["nhs_flows", "amber", "warn", "3", "2", "1", "33.3%", "0"]
    assert lines[-1] == "overall: amber"
    assert not (mini_map.parent / "published").exists()

    (mini_map.parent / "extracts" / "council.csv").write_text("")
    failed = runner.invoke(app, ["validate", str(mini_map), "--json"])
    assert failed.exit_code == 1
    summary = json.loads(failed.stdout)
    assert by_source(summary)["council_services"]["rag"] == "red"
    assert summary["failures"] == [
        "council_services: extracts/council.csv: no header at line 1 (the file is empty); check options.header_row",
        "nhs_flows: 67% of its rows were rejected, above [quality] max_reject_share 50%",  # its flow to council:CAH
    ]
    assert failed.stderr == ""  # --json: the failures are in the document
    assert "gx" not in summary and not (mini_map.parent / "published").exists()
