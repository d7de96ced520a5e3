"""Kind `sql`: a partner database through SQLAlchemy, tested on SQLite files and on a real PostgreSQL server that the
tests start on loopback. Credentials come from environment variables only and never reach outputs or logs."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expectations.errors import ConfigError, SourceError
from flows.config import load_config
from sources import extract, kind_named
from sources.base import ROW_COLUMN
from tests.conftest import require

PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
SQL = kind_named("sql")


def request_for(tmp_path: Path, options: dict[str, object], table: str = "services"):  # type: ignore[no-untyped-def]
    config = tmp_path / "sql.toml"
    config.write_text(SQL_MAP.format(options=_inline(options), table=table))
    loaded = load_config(config)
    return loaded.request(loaded.sources[0])


def _inline(options: dict[str, object]) -> str:
    def value(v: object) -> str:
        return "[" + ", ".join(value(i) for i in v) + "]" if isinstance(v, list) else f'"{v}"'  # type: ignore[union-attr]
    return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in options.items()) + " }"


SQL_MAP = """
map_id = "sql"
title = "SQL map"
population = "adults"
[area]
code = "S37000001"
name = "Mini"
[period]
start = "2025-04"
end = "2025-05"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.nhs]
name = "NHS"
sector = "nhs"
[[sources]]
id = "db"
partner = "nhs"
kind = "sql"
table = "{table}"
options = {options}
columns = {{ service_key = "code", name = "name", lane = "lane" }}
"""


def sqlite_database(path: Path, rows: list[tuple[str, str, str]]) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE services (code TEXT, name TEXT, lane TEXT, beds INTEGER, opened DATE)")
        db.executemany("INSERT INTO services VALUES (?, ?, ?, 12, '2020-01-31')", rows)
    return f"sqlite:///{path}"


ROWS = [("ED", "Emergency Department", "acute"), ("AMU", "Acute Medical Unit", "acute"), ("CAH", None, "acute")]


def test_rows_come_as_text_in_a_stable_order_whatever_order_the_database_returns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONE_DB", sqlite_database(tmp_path / "one.db", ROWS))  # type: ignore[arg-type]
    monkeypatch.setenv("OTHER_DB", sqlite_database(tmp_path / "other.db", ROWS[::-1]))  # type: ignore[arg-type]
    one = extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "table": "services"}))
    other = extract(SQL, request_for(tmp_path, {"url_env": "OTHER_DB", "table": "services"}))
    frame = one.tables["services"]
    assert frame[ROW_COLUMN].tolist() == [1, 2, 3]
    assert frame["code"].tolist() == ["AMU", "CAH", "ED"]  # sorted on every column: stable row numbers
    assert frame.loc[0, "beds"] == "12" and frame.loc[0, "opened"] == "2020-01-31"
    assert frame["name"].isna().tolist() == [False, True, False]
    assert one.provenance.sha256 == other.provenance.sha256 and one.provenance.rows == 3
    assert one.provenance.location == "sqlite:///one.db (services)"  # named relative to the config, never absolute

    ordered = extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "order_by": ["name"],
                                                  "query": "SELECT code, name FROM services WHERE lane = 'acute';"}))
    assert ordered.tables["services"]["code"].tolist() == ["CAH", "AMU", "ED"]  # missing first, then by name


def test_database_problems_are_clear_source_errors_and_io_errors_are_retryable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONE_DB", sqlite_database(tmp_path / "one.db", ROWS))
    with pytest.raises(SourceError, match=r"db: sqlite:///.*one.db \(clinics\): the database has no table "
                                          r"'clinics' \(check options.table\)"):
        extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "table": "clinics"}))
    with pytest.raises(SourceError, match=r"options.order_by names 'ward', which the result does not have"):
        extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "table": "services", "order_by": ["ward"]}))
    with pytest.raises(SourceError, match=r"the database refused the query: no such column: ward"):
        extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "query": "SELECT ward FROM services"}))
    with pytest.raises(SourceError, match=r"environment variable NOT_SET \(options.url_env\) is not set; export"):
        extract(SQL, request_for(tmp_path, {"url_env": "NOT_SET", "table": "services"}))
    monkeypatch.setenv("ONE_DB", f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(ConnectionError, match=r"cannot read from the database: unable to open database file"):
        extract(SQL, request_for(tmp_path, {"url_env": "ONE_DB", "table": "services"}))


@pytest.mark.parametrize(("options", "message"), [
    ({"url": "postgresql+psycopg://ism:hunter2@db:5432/care", "table": "services"},
     "url must not contain a password: remove it and name an environment variable holding it in password_env"),
    ({"url_env": "DB", "query": "DELETE FROM services"}, "query must be one SELECT"),
    ({"url_env": "DB", "query": "SELECT 1; DROP TABLE services"}, "query must be one statement"),
    ({"url_env": "DB", "table": "services", "query": "SELECT 1"}, "set exactly one of table or query"),
    ({"url_env": "DB", "url": "postgresql+psycopg://ism@db/care", "table": "t"}, "set exactly one of url_env"),
    ({"url_env": "DB", "table": "services; DROP TABLE x"}, "table 'services; DROP TABLE x' is not a table name"),
])
def test_sql_options_are_checked_when_the_config_loads(tmp_path: Path, options: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        request_for(tmp_path, options)
    assert f"sources[0].options: {message}" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_sql_source_has_no_location_and_a_file_source_needs_one(tmp_path: Path) -> None:
    config = tmp_path / "sql.toml"
    sql_source = SQL_MAP.format(options='{ url_env = "DB", table = "services" }', table="services")
    config.write_text(sql_source.replace('kind = "sql"', 'kind = "sql"\nlocation = "db.csv"'))
    with pytest.raises(ConfigError, match=r"kind 'sql' reads a database named in `options`: remove `location`"):
        load_config(config)
    config.write_text(SQL_MAP.format(options="{}", table="services").replace('kind = "sql"', 'kind = "csv"'))
    with pytest.raises(ConfigError, match=r"kind 'csv' reads a file: set `location`"):
        load_config(config)


# ---- a real PostgreSQL server on loopback ------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str

    def url(self, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql+psycopg://ism{secret}@127.0.0.1:{self.port}/partner"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server in a temporary folder on a free loopback port, with a database `partner` owned by a
    password-protected role `ism`; always stopped afterwards."""
    require(PG_BINARIES, "PostgreSQL server binaries are absent (/usr/lib/postgresql/*/bin): "
                         "apt-get install postgresql")
    binaries = PG_BINARIES[-1].parent
    as_postgres: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="ism-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            require(False, "running as root and there is no `postgres` user to run the PostgreSQL server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port, password = folder / "data", _free_port(), "pw-" + os.urandom(8).hex()

    def run(*args: str) -> None:
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions")
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
            "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise AssertionError(f"PostgreSQL did not start: {error.stderr.decode(errors='replace')}") from None
    try:
        import psycopg

        with psycopg.connect(host=str(folder), port=port, user="postgres", dbname="postgres", autocommit=True) as db:
            db.execute(f"CREATE ROLE ism LOGIN PASSWORD '{password}'")  # test set-up: our own literal
            db.execute("CREATE DATABASE partner OWNER ism")
        with psycopg.connect(host="127.0.0.1", port=port, user="ism", password=password, dbname="partner") as db:
            db.execute("CREATE TABLE services (code text PRIMARY KEY, name text, type text)")
            db.execute("INSERT INTO services VALUES ('AMU', 'Acute Medical Unit', 'ACU'), "
                       "('ED', 'Emergency Department', 'URG')")
            db.execute("CREATE TABLE attendances (code text, month date, n integer)")
            db.execute("INSERT INTO attendances VALUES ('ED', '2025-05-01', 1300), ('ED', '2025-04-01', 1200), "
                       "('AMU', '2025-04-01', 40)")
        yield Postgres(port, password)
    finally:
        subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.database
def test_postgresql_table_and_query_with_the_password_only_in_the_environment(
        postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_DB", postgres.url())
    monkeypatch.setenv("PARTNER_PASSWORD", postgres.password)
    table = extract(SQL, request_for(tmp_path, {"url_env": "PARTNER_DB", "table": "public.services"}))
    assert table.tables["services"][["code", "type"]].values.tolist() == [["AMU", "ACU"], ["ED", "URG"]]
    assert table.provenance.location == (f"postgresql+psycopg://ism:***@127.0.0.1:{postgres.port}/partner "
                                         "(public.services)")
    query = extract(SQL, request_for(tmp_path, {
        "url": postgres.url(password=False), "password_env": "PARTNER_PASSWORD", "order_by": ["month", "code"],
        "query": "SELECT code, month, n FROM attendances"}, table="activity"))
    assert query.tables["activity"][["code", "month", "n"]].values.tolist() == [
        ["AMU", "2025-04-01", "40"], ["ED", "2025-04-01", "1200"], ["ED", "2025-05-01", "1300"]]
    assert query.provenance.location == f"{postgres.url(password=False)} (query)"
    with pytest.raises(SourceError, match="refused the query: cannot execute .* in a read-only transaction"):
        extract(SQL, request_for(tmp_path, {"url_env": "PARTNER_DB", "query": (
            "WITH gone AS (DELETE FROM services RETURNING *) SELECT * FROM gone")}))

    monkeypatch.setenv("PARTNER_DB", postgres.url().replace(postgres.password, "wrong-password"))
    with pytest.raises(ConnectionError) as refused:
        extract(SQL, request_for(tmp_path, {"url_env": "PARTNER_DB", "table": "services"}))
    assert "password authentication failed" in str(refused.value) and "wrong-password" not in str(refused.value)
    monkeypatch.setenv("PARTNER_DB", postgres.url().replace(str(postgres.port), str(_free_port())))
    with pytest.raises(ConnectionError, match="cannot read from the database: connection failed"):
        extract(SQL, request_for(tmp_path, {"url_env": "PARTNER_DB", "table": "services",
                                            "connect_timeout_seconds": 2}))


@pytest.mark.database
@pytest.mark.usefixtures("prefect_server")
def test_a_map_refreshed_from_postgresql_never_shows_the_password(
        postgres: Postgres, mini_map: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    from prefect import get_client
    from prefect.logging.handlers import APILogHandler

    from flows.cli import app

    monkeypatch.setenv("PARTNER_DB", postgres.url())
    text = mini_map.read_text()
    text = text.replace('kind = "csv"\nlocation = "extracts/services.csv"\ntable = "services"',
                        'kind = "sql"\ntable = "services"\noptions = { url_env = "PARTNER_DB", table = "services" }')
    text = text.replace('kind = "csv"\nlocation = "extracts/activity.csv"\ntable = "activity"\n'
                        'columns = { service_key = "code", period = "month", value = "n" }',
                        'kind = "sql"\ntable = "activity"\noptions = { url_env = "PARTNER_DB", query = '
                        '"SELECT code, month, n FROM attendances" }\n'
                        'columns = { service_key = "code", period = "month", value = "n" }')
    mini_map.write_text(text + '\n[[sources]]\nid = "nhs_wards"\npartner = "nhs"\nkind = "sql"\ntable = "services"\n'
                        'on_error = "quarantine"\noptions = { url_env = "PARTNER_DB", table = "wards" }\n'
                        'columns = { service_key = "code", name = "name", lane = "lane" }\n')
    result = CliRunner().invoke(app, ["refresh", str(mini_map), "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "published"' in result.stdout
    masked = f"postgresql+psycopg://ism:***@127.0.0.1:{postgres.port}/partner (services)"
    assert masked in result.stdout and "the database has no table 'wards'" in result.stdout

    secret = postgres.password.encode()
    published = mini_map.parent / "published"
    leaks = [p for p in published.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert leaks == [], f"the password is in {leaks}"
    assert postgres.password not in result.output + "".join(capfd.readouterr())
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = " ".join(log.message for log in client.read_logs())
        artifacts = " ".join(str(a.model_dump()) for a in client.read_artifacts())
    assert postgres.password not in logs and postgres.password not in artifacts
    assert f"ism:***@127.0.0.1:{postgres.port}/partner (wards)" in artifacts  # the check reads what shows it
