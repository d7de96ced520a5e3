"""The broken variant of the demo map (examples/broken): regenerated from the demo, it publishes with the right
red and amber sources under `quarantine`, and under `fail` publishes nothing and leaves `latest` alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from examples.broken.generate import HERE, broken_files, write_broken
from expectations.errors import QualityGateError
from flows.refresh import refresh_map

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_the_committed_broken_variant_is_what_the_generator_writes() -> None:
    for relative, data in broken_files().items():
        assert (HERE / relative).read_bytes() == data, f"examples/broken/{relative}: run python -m " \
                                                       "examples.broken.generate"


def test_broken_deliveries_are_quarantined_and_a_broken_fail_source_publishes_nothing(tmp_path: Path) -> None:
    (tmp_path / "demo").symlink_to(HERE.parent / "demo")  # the configs read the demo's extracts as ../demo
    write_broken(tmp_path / "broken")
    root = tmp_path / "maps"
    result = refresh_map(str(tmp_path / "broken" / "ism.toml"), str(root))
    summary = json.loads((Path(result.path) / "quality" / "report.json").read_text())
    not_green = {s["source_id"]: (s["rag"], s["status"]) for s in summary["sources"] if s["rag"] != "green"}
    assert not_green == {  # no earlier good extract in this root: the quarantined sources are left out
        "acute_activity": ("amber", "warn"), "gp_referrals": ("amber", "warn"),
        "council_activity": ("red", "missing"), "housing_activity": ("red", "missing"),
        "third_sector_contacts": ("red", "missing"), "housing_repairs": ("red", "missing"),
    }
    assert summary["status"] == "red" and len(summary["sources"]) == 31
    acute = next(s for s in summary["sources"] if s["source_id"] == "acute_activity")
    assert {c["code"] for c in acute["checks_failed"]} == {"negative_value", "not_a_number", "bad_period",
                                                           "duplicate_period", "outlier_value", "unknown_column"}
    housing = next(s for s in summary["sources"] if s["source_id"] == "housing_activity")
    assert housing["error"].startswith(f"housing_activity: 20% of the rows of {housing['location']} were rejected "
                                       "(24 of 120)")

    with pytest.raises(QualityGateError, match=r"acute_units: .*units.csv: line 4 has 7 fields where the header "
                                               r"\(line 1\) has 6") as refused:
        refresh_map(str(tmp_path / "broken" / "fail.toml"), str(root))
    message = str(refused.value)
    assert message.startswith("nothing published; root cause: acute_units blocked -> ")
    report = Path(message.rsplit("quality report: ", 1)[1])  # the failed run's report, in the private area
    assert report.is_file() and report.parent.parent.name == "runs" and "glenmuir" in str(report)
    record = json.loads((report.parent / "run.json").read_text())
    failed = json.loads((report.parent / "report.json").read_text())
    over = {s["source_id"] for s in failed["sources"] if s["rag"] == "red"}
    assert record["outcome"] == "failed" and record["blocked"][0] == "acute_units"
    assert set(record["blocked"]) == over  # every blocked source named, the root cause first
    assert all(sid in message for sid in over)
    assert record["root_causes"][0].startswith("acute_units blocked -> ")
    assert failed["root_causes"][0]["source_ids"] == ["acute_units"]
    assert {"acute_activity", "acute_discharges", "acute_transfers"} <= set(failed["root_causes"][0]["sources"])
    page = report.read_text()
    assert page.index("Root causes") < page.index("acute_units blocked") < page.index("Partners and their sources")
    assert ">nan<" not in page and " nan " not in page
    store = root / "glenmuir-unscheduled-care"
    assert (store / "latest").read_text().strip() == result.version_id
    assert [p.name for p in (store / "versions").iterdir()] == [result.version_id]
