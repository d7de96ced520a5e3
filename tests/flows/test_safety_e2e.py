"""Safe to publish, end to end through the refresh flow: small counts are suppressed everywhere a version shows
them, a source carrying personal identifiers is refused without showing a value, and a credential never reaches
logs, Prefect artifacts, rejects, reports or the dataset."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

from expectations.errors import PublishError, QualityGateError
from flows.refresh import refresh_map
from sources.base import KindOptions, RawTables, SourceKind, SourceRequest, register
from sources.tabular import csv_frame
from tests.expectations.test_identifiers import chi_numbers

pytestmark = pytest.mark.usefixtures("prefect_server")

SECRET = "s3cr3t-Pa55word-for-e2e"
SECRET_ENV = "ISM_TEST_DB_PASSWORD"


class TokenCsvOptions(KindOptions):
    """A stand-in for a database kind: reads a CSV, but takes a credential from an environment variable."""

    password_env: str
    fail: bool = False
    leak_into_data: bool = False


def _read_token_csv(request: SourceRequest) -> RawTables:
    import os

    options: TokenCsvOptions = request.options  # type: ignore[assignment]
    password = os.environ[options.password_env]
    logging.getLogger("sources.token_csv").warning("connecting to db://ism:%s@db.example/ism", password)
    if options.fail:  # an IO error: Prefect logs it with its traceback, retries, then it becomes a reject
        raise ConnectionError(f"could not connect to postgresql://ism:{password}@db.example/ism")
    frame = csv_frame(request.location.read_text(), request.source_id)
    if options.leak_into_data:
        frame["name"] = frame["name"] + f" ({password})"
    return RawTables({request.table or "": frame})


register(SourceKind(name="token_csv", read=_read_token_csv, options=TokenCsvOptions))

CONFIG = """
map_id = "safe"
title = "Safe map"
population = "adults"
{top}
[area]
code = "S37000001"
name = "Safe"
[period]
start = "2025-04"
end = "2025-05"
[[lanes]]
id = "urgent_care"
label = "Urgent care"
colour = "#e06666"
[[lanes]]
id = "social_care"
label = "Social care"
colour = "#93c47d"
[partners.nhs]
name = "NHS Safe"
sector = "nhs"
[partners.council]
name = "Safe Council"
sector = "local_authority"
[[sources]]
id = "nhs_services"
partner = "nhs"
kind = "token_csv"
location = "extracts/services.csv"
table = "services"
options = {{ password_env = "{env}"{leak} }}
[[sources]]
id = "council_services"
partner = "council"
kind = "csv"
location = "extracts/council.csv"
table = "services"
[[sources]]
id = "nhs_activity"
partner = "nhs"
kind = "csv"
location = "extracts/activity.csv"
table = "activity"
constants = {{ measure = "attendances" }}
[[sources]]
id = "ed_discharges"
partner = "nhs"
kind = "csv"
location = "extracts/discharges.csv"
table = "flows"
constants = {{ measure = "discharges" }}
[[sources]]
id = "council_clients"
partner = "council"
kind = "csv"
location = "extracts/clients.csv"
table = "activity"
on_error = "{clients_policy}"
constants = {{ measure = "contacts" }}
{clients_extra}
[[sources]]
id = "council_database"
partner = "council"
kind = "token_csv"
location = "extracts/council.csv"
table = "services"
on_error = "quarantine"
retries = 1
retry_delay_seconds = 0
options = {{ password_env = "{env}", fail = true }}
"""

EXTRACTS = {
    "services.csv": "service_key,name,lane\nED,Emergency Department,urgent_care\nAMU,Acute Medical Unit,urgent_care\n",
    "council.csv": "service_key,name,lane\nCAH,Care at home,social_care\nREA,Reablement,social_care\n",
    # ED in April: 100 attendances = 60 + 37 + 3 discharges (an exact total); AMU's 3 and ED's May 4 are small
    "activity.csv": "service_key,period,value\nED,2025-04,100\nED,2025-05,4\nAMU,2025-04,3\nAMU,2025-05,250\n",
    "discharges.csv": "from_key,to_key,period,value\nED,AMU,2025-04,60\nED,council:CAH,2025-04,37\n"
                      "ED,council:REA,2025-04,3\nAMU,council:CAH,2025-05,120\n",
}


def write_map(folder: Path, top: str = "", leak: bool = False, clients_policy: str = "quarantine",
              clients_extra: str = "") -> Path:
    (folder / "extracts").mkdir(parents=True, exist_ok=True)
    for name, text in EXTRACTS.items():
        (folder / "extracts" / name).write_text(text)
    numbers = chi_numbers(6, seed=8)
    clients = "service_key,period,Client CHI\n" + "".join(f"CAH,2025-04,{n}\n" for n in numbers)
    (folder / "extracts" / "clients.csv").write_text(clients)
    config = folder / "ism.toml"
    config.write_text(CONFIG.format(top=top, env=SECRET_ENV, leak=", leak_into_data = true" if leak else "",
                                    clients_policy=clients_policy, clients_extra=clients_extra))
    return config


def every_text(folder: Path) -> str:
    """Every file under `folder` as text (Parquet and DuckDB tables as CSV), to search for what must not be there."""
    from outputs.secret_scan import searchable_bytes

    return "\n".join(blob.decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()
                     for blob in searchable_bytes(p))


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


def test_a_published_version_is_safe(tmp_path: Path, secret_env: str, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("", "prefect", "prefect.task_runs", "prefect.flow_runs"):  # the run loggers: INFO and above
        caplog.set_level(logging.INFO, logger=name or None)
    config = write_map(tmp_path)
    state = refresh_map(str(config), return_state=True)
    result, flow_run_id = state.result(), state.state_details.flow_run_id
    version = Path(result.path)
    statuses = {o.source_id: o.status for o in result.sources}
    assert statuses["council_clients"] == "missing" and statuses["council_database"] == "missing"

    # disclosure: ED->REA (3) and AMU/ED small months suppressed; ED->CAH (37) hidden as the secondary cell
    flows = pd.read_csv(version / "flows.csv").sort_values("value", na_position="first")
    assert flows["value"].isna().sum() == 2 and set(flows["qualifier"].dropna()) == {"c"}
    assert sorted(flows["value"].dropna()) == [60, 120]
    activity = pd.read_csv(version / "activity.csv")
    assert sorted(activity["value"].dropna()) == [100, 250]
    assert (activity.loc[activity["value"].isna(), "qualifier"] == "c").all()
    with duckdb.connect(str(version / "map.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM flows WHERE value IN (3, 37)").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM activity WHERE value IN (3, 4)").fetchone() == (0,)
    assert pd.read_parquet(version / "flows.parquet")["value"].isin([3, 37]).sum() == 0
    manifest = json.loads((version / "version.json").read_text())
    expected = {"threshold": 5, "suppressed_cells": 3, "secondary_cells": 1}
    assert {k: manifest["disclosure"][k] for k in expected} == expected
    assert json.loads((version / "datapackage.json").read_text())["disclosure"] == manifest["disclosure"]
    svg = (version / "diagrams" / "poster.svg").read_text()
    assert ">37<" not in svg and ">3 discharges<" not in svg

    # identifiers: the clients source is refused by column and count; no CHI number anywhere
    rejects = pd.read_csv(version / "rejects.csv", dtype=str, keep_default_na=False)
    personal = rejects[rejects["check"] == "personal_identifier"]
    assert personal[["source_id", "row_number", "column", "value"]].values.tolist() == [
        ["council_clients", "0", "Client CHI", ""]]
    assert "looks like CHI numbers: 6 of 6 values" in personal["message"].iloc[0]
    report = json.loads((version / "quality" / "report.json").read_text()) if (
        version / "quality" / "report.json").is_file() else None
    if report is not None:
        assert report["disclosure"]["threshold"] == 5
        assert [b["source_id"] for b in report["blocked_for_identifiers"]] == ["council_clients"]
    published = every_text(tmp_path / "published")
    assert not any(n in published for n in chi_numbers(6, seed=8))

    # secrets: the failing source's error is published redacted; the password is nowhere
    failed = rejects[rejects["source_id"] == "council_database"]
    assert failed["message"].iloc[0] == ("council_database: could not be read in 2 attempt(s) (ConnectionError): "
                                         "could not connect to postgresql://ism:***@db.example/ism")
    assert SECRET not in published
    assert SECRET not in caplog.text and "db://ism:***@db.example/ism" in caplog.text
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        run_logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        run_artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    logs = " ".join(log.message for log in run_logs)
    artifacts = " ".join(json.dumps(a.data, default=str) for a in run_artifacts)
    # the retried attempt, as the task run's logger recorded it (the same records Prefect's API handler sends)
    retried = [r.getMessage() for r in caplog.records
               if r.name == "prefect.task_runs" and "trying again" in r.getMessage()]
    assert retried and all("postgresql://ism:***@db.example/ism" in message for message in retried)
    assert artifacts  # the run's quality artifacts were read
    assert SECRET not in logs and SECRET not in artifacts


def test_a_source_with_personal_identifiers_under_fail_publishes_nothing(tmp_path: Path, secret_env: str) -> None:
    config = write_map(tmp_path, clients_policy="fail")
    with pytest.raises(QualityGateError) as caught:
        refresh_map(str(config))
    message = str(caught.value)
    assert "council_clients: column 'Client CHI' looks like CHI numbers: 6 of 6 values" in message
    assert not any(n in message for n in chi_numbers(6, seed=8))
    assert not (tmp_path / "published" / "safe" / "versions").exists()


def test_declared_columns_are_not_blocked_and_threshold_zero_is_flagged(tmp_path: Path, secret_env: str) -> None:
    config = write_map(tmp_path, top="[disclosure]\nthreshold = 0",
                       clients_extra='pseudonymised_columns = ["Client CHI"]')
    version = Path(refresh_map(str(config)).path)
    statuses = json.loads((version / "version.json").read_text())
    assert {s["source_id"]: s["status"] for s in statuses["sources"]}["council_clients"] in ("ok", "warn")
    disclosure = statuses["disclosure"]
    assert disclosure["threshold"] == 0 and "internal use only" in disclosure["warning"]
    assert json.loads((version / "datapackage.json").read_text())["disclosure"]["warning"] == disclosure["warning"]
    flows = pd.read_csv(version / "flows.csv")
    assert sorted(flows["value"]) == [3, 37, 60, 120]  # nothing suppressed
    activity = pd.read_csv(version / "activity.csv")
    assert activity[activity["measure"] == "contacts"]["value"].tolist() == [6]  # six clients counted
    assert not any(n in every_text(version) for n in chi_numbers(6, seed=8))  # counted, never published


def test_a_credential_in_the_data_blocks_the_publish(tmp_path: Path, secret_env: str) -> None:
    config = write_map(tmp_path, leak=True)
    with pytest.raises(PublishError) as caught:
        refresh_map(str(config))
    message = str(caught.value)
    assert SECRET not in message and SECRET_ENV in message and "services.csv" in message
    store = tmp_path / "published" / "safe"
    assert not (store / "versions").exists() or not any((store / "versions").iterdir())
    assert not any((store / ".staging").iterdir()) if (store / ".staging").exists() else True


def test_secret_values_cover_url_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.config import load_config
    from flows.safety import redacted, secret_values

    monkeypatch.setenv(SECRET_ENV, "postgresql://ism:p%40ss-w0rd@db/ism")
    values = secret_values(load_config(write_map(tmp_path)))
    assert values == ["postgresql://ism:p%40ss-w0rd@db/ism", "p%40ss-w0rd", "p@ss-w0rd"]
    assert redacted("password p@ss-w0rd rejected", values) == "password *** rejected"
    assert np.array_equal(secret_values(load_config(write_map(tmp_path)), environ={}), [])


def test_the_secret_scan_reads_tables_archives_and_escaped_text(tmp_path: Path) -> None:
    import html

    import openpyxl

    from flows.safety import leaked_secret_files

    secret = 'pa"ss<&>w0rd-Ünï'
    (tmp_path / "clean.csv").write_text("name\nCare at home\n")
    pd.DataFrame({"name": ["x" * 500 + secret] * 50}).to_parquet(tmp_path / "table.parquet")
    with duckdb.connect(str(tmp_path / "map.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT ? || range::VARCHAR AS name FROM range(5000)", [secret])
    book = openpyxl.Workbook()
    book.active.append([secret])
    book.save(tmp_path / "map.xlsx")
    (tmp_path / "page.html").write_text(f"<p>{html.escape(secret)}</p>")
    (tmp_path / "report.json").write_text(json.dumps({"message": secret}))
    leaked = [p.name for p in leaked_secret_files(tmp_path, [secret])]
    assert leaked == ["map.duckdb", "map.xlsx", "page.html", "report.json", "table.parquet"]
    assert leaked_secret_files(tmp_path, []) == []


def test_the_identifier_scan_samples_the_whole_raw_table(tmp_path: Path) -> None:
    from flows.config import load_config
    from flows.safety import identifier_rejects

    chi = chi_numbers(500, seed=3)
    raw = pd.DataFrame({"__row__": range(150_000), "Ref": [f"T{i}" for i in range(100_000)] + chi * 100})
    raw.to_parquet(tmp_path / "raw.parquet", index=False)  # the CHI numbers are all in the last third
    source = load_config(write_map(tmp_path)).source("council_clients")
    rejects = identifier_rejects(source, {"activity": str(tmp_path / "raw.parquet")}, "extracts/clients.csv")
    assert rejects[["source_id", "row_number", "column", "check"]].values.tolist() == [
        ["council_clients", 0.0, "Ref", "personal_identifier"]]
    assert rejects["value"].isna().all()
    assert "a sample of 150,000 rows" in rejects["message"].iloc[0]
    assert not any(n in rejects["message"].iloc[0] for n in chi)
