"""A map whose only services source cannot be used: for each kind of unusable file, `ism validate` and
`ism refresh` name the source and its problem, say at map level that the map has no services, never end in an
internal error, and the run leaves its report, listed by `ism runs`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from outputs import run_log
from tests.conftest import write_mini_map

pytestmark = pytest.mark.usefixtures("prefect_server")

UNUSABLE_SERVICES = {  # name -> the bytes of extracts/services.csv, and what the source's error says
    "empty file": (b"", "empty"),
    "header only": (b"code,name,type\n", "no data rows"),
    "repeated column": (b"code,name,name\nED,Emergency Department,URG\n", "name"),
    "mapped column missing": (b"code,title,type\nED,Emergency Department,URG\n", "name"),
    "ragged rows": (b"code,name,type\nED,Emergency Department,URG,extra,more\n", "fields"),
    "wrong delimiter": (b"code;name;type\nED;Emergency Department;URG\n", "delimiter"),
    "wrong encoding": ("code,name,type\nED,Urgence de nuit \u00e9t\u00e9,URG\n".encode("utf-16"), "encoding"),
}


def one_services_source_map(folder: Path, services: bytes) -> Path:
    """The mini map without its council services: nhs_services is its only services source."""
    config = write_mini_map(folder)
    text = config.read_text()
    start, end = text.index('[[sources]]\nid = "council_services"'), text.index('[[sources]]\nid = "nhs_activity"')
    config.write_text(text[:start] + text[end:])
    (folder / "extracts" / "services.csv").write_bytes(services)
    return config


@pytest.mark.parametrize("case", sorted(UNUSABLE_SERVICES))
def test_a_map_without_usable_services_says_so_and_names_the_source(case: str, tmp_path: Path) -> None:
    services, says = UNUSABLE_SERVICES[case]
    config = one_services_source_map(tmp_path, services)
    runner = CliRunner()
    checked = runner.invoke(app, ["validate", str(config), "--json"])
    assert checked.exit_code == 1, checked.output
    summary = json.loads(checked.stdout)
    failures = summary["failures"]
    assert failures[0].startswith("the map has no services: no services source delivered any (nhs_services: ")
    assert "extracts/services.csv" in failures[0]
    assert says in failures[0].lower() or says in failures[1].lower()
    assert Path(summary["report"]).is_file()

    refreshed = runner.invoke(app, ["refresh", str(config)])
    assert refreshed.exit_code == 1, refreshed.output
    assert "internal error" not in refreshed.stderr and "KeyError" not in refreshed.stderr
    assert "ism: error: nothing published; the map has no services" in refreshed.stderr
    assert "(nhs_services: " in refreshed.stderr and "extracts/services.csv" in refreshed.stderr
    progress = refreshed.stderr.splitlines()  # not a terminal: plain lines, from the flow's own events
    assert "ism: reading and checking sources ..." in progress and "ism: consolidating the map ..." in progress
    assert "ism:   nhs_services: reading" in progress
    assert any(line.startswith("ism:   nhs_services: blocked (nhs_services: ") for line in progress)
    assert not (tmp_path / "published" / "mini" / "versions").exists()
    report = Path(refreshed.stderr.rsplit("quality report: ", 1)[1].strip())
    assert report.is_file() and "the map has no services" in report.read_text()

    listed = runner.invoke(app, ["runs", str(config), "--json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.stdout)["runs"]
    assert [(r["command"], r["outcome"]) for r in runs] == [("refresh", "failed"), ("validate", "checked")]
    assert runs[0]["report"] == str(report) and runs[0]["blocked"][0] == "nhs_services"
    text = runner.invoke(app, ["runs", str(config)]).stdout
    assert f"report: {report}" in text and "blocked: nhs_services" in text


def test_runs_started_within_one_second_are_listed_newest_first(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A `validate` then a `refresh` a few milliseconds apart (a fast machine): their ids still sort by start time,
    whatever their random parts, so `ism runs` lists the refresh first."""
    started = iter(datetime(2026, 12, 4, 22, 17, 53, tzinfo=UTC) + timedelta(milliseconds=n) for n in (1, 40))
    tokens = iter(["ffffff", "000000"])  # the later run's random part sorts first

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return next(started)

    monkeypatch.setattr(run_log, "datetime", Clock)
    monkeypatch.setattr(run_log.secrets, "token_hex", lambda size: next(tokens))
    first, second = run_log.new_run_id(), run_log.new_run_id()
    for run_id, command in ((first, "validate"), (second, "refresh")):
        run_log.record_run(tmp_path, run_id, {"run_id": run_id, "command": command})
    assert [r["command"] for r in run_log.recent_runs(tmp_path)] == ["refresh", "validate"]
