"""The quality report writer and the last good extracts: a self-contained, escaped report.html, report.json,
rejects.parquet and GX Data Docs; last good tables kept, swapped whole, and read back with their age."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pandas as pd

from expectations.checks import RejectRecord
from expectations.suite import SuiteLimits, consolidated_suite, suite_results
from outputs.context import PublishedVersion
from outputs.quality_report import bar_chart, gx_site_artefact, quality_artefact, report_html
from outputs.store.last_good import keep_last_good, last_good
from transforms.rejects import rejects_frame

EVIL = '<script>alert("x")</script>'
ATTENDANCES = {"table": "activity", "measure": "attendances", "label": "Attendances", "unit": "people",
               "kind": "count", "volume": 5000.0, "previous": 4000.0, "months": 12, "previous_months": 12,
               "suppressed_months": 0, "previous_suppressed_months": 0, "display": "5,000", "previous_display": "4,000",
               "change": 0.25, "change_display": "+25%"}
OCCUPANCY = {"table": "activity", "measure": "percentage_occupancy", "label": "Percentage occupancy", "unit": "%",
             "kind": "percentage", "volume": 75.6, "previous": 80.0, "months": 12, "previous_months": 12,
             "suppressed_months": 0, "previous_suppressed_months": 0, "display": "75.6%", "previous_display": "80.0%",
             "change": -0.055, "change_display": "-5%"}
REFERRALS = {"table": "flows", "measure": "referrals", "label": "Referrals", "unit": "people", "kind": "count",
             "volume": 117.0, "previous": 300.0, "months": 12, "previous_months": 12, "suppressed_months": 10,
             "previous_suppressed_months": 0, "display": "≥ 117 (10 of 12 months with suppressed cells)",
             "previous_display": "300", "change": None, "change_display": "suppression changed"}


def summary(**overrides: object) -> dict:
    sources = [
        {"source_id": "acute_activity", "partner": "acute", "kind": "csv", "location": "acute/activity.csv",
         "on_error": "fail", "status": "ok", "rag": "green", "rows_read": 100, "rows_accepted": 100,
         "rows_rejected": 0, "rows_clipped": 0, "reject_share": 0.0, "checks_failed": [], "stale": None,
         "error": None, "measures": [ATTENDANCES, OCCUPANCY]},
        {"source_id": "council_referrals", "partner": "council", "kind": "csv", "location": EVIL,
         "on_error": "quarantine", "status": "stale", "rag": "amber", "rows_read": 10, "rows_accepted": 8,
         "rows_rejected": 10, "rows_clipped": 0, "reject_share": 1.0,
         "checks_failed": [{"code": "source_stale", "severity": "warn", "count": 1},
                           {"code": "negative_value", "severity": "error", "count": 10}],
         "stale": {"extracted_at": "2026-04-01T06:00:00+00:00", "age_days": 6.5, "version_id": "v0002",
                   "saved_at": "2026-04-01T06:01:00+00:00", "rows": 8},
         "error": "council_referrals: 100% of its rows were rejected", "measures": [REFERRALS]},
        {"source_id": "housing", "partner": "housing", "kind": "csv", "location": "housing.csv",
         "on_error": "quarantine", "status": "missing", "rag": "red", "rows_read": 0, "rows_accepted": 0,
         "rows_rejected": 0, "rows_clipped": 0, "reject_share": 0.0,
         "checks_failed": [{"code": "source_missing", "severity": "error", "count": 1}], "stale": None,
         "error": "housing: file not found", "measures": []},
    ]
    base = {
        "schema": "ism-quality/2", "map_id": "demo", "title": f"Demo {EVIL}", "period": {"start": "2025-04",
                                                                                          "end": "2026-03"},
        "checked_at": "2026-04-07T10:00:00+00:00", "status": "red",
        "thresholds": {"max_reject_share": 0.05, "max_volume_change": 0.5, "outlier_ratio": 20.0},
        "previous_version": "v0002", "sources": sources,
        "checks": [{"code": "empty_lane", "severity": "warn", "table": "lanes", "column": "services",
                    "expectation": "expect_column_values_to_be_between", "success": False, "failed": 1, "checked": 2,
                    "message": "every lane has at least one service: 1 of 2 rows fail",
                    "samples": [{"lane": EVIL, "services": "0"}], "source_ids": []}],
        "rejects": {"rows": 10, "files": 1, "warnings": 0, "top": [
            {"check": "negative_value", "severity": "error", "message": "A count is negative.",
             "advice": "Counts cannot be below zero.", "count": 10,
             "samples": [{"source_id": "council_referrals", "location": "council/referrals.csv", "row_number": 7,
                          "column": "n", "value": EVIL, "message": "count is negative"}]}]},
        "change": {"tables": {"services": {"rows": 60, "previous": 58}},
                   "volumes": [{"source_id": "acute_activity", **ATTENDANCES}, {"source_id": "acute_activity",
                                                                                **OCCUPANCY},
                               {"source_id": "council_referrals", **REFERRALS}]},
        "services": {"svc_000000000001": [{"code": "outlier_value", "severity": "warn", "message": EVIL}]},
    }
    return {**base, **overrides}


class Page(HTMLParser):
    """What a browser would fetch or run: scripts, external links, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.external += [v for k, v in attrs if k in ("src", "href") and v and "//" in v]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    return parser


def test_report_is_self_contained_and_escapes_every_datum() -> None:
    page = report_html(summary(), pd.DataFrame({"service_id": ["svc_000000000001"], "name": ["Reablement"]}))
    found = parsed(page)
    assert found.scripts == 0 and found.external == []
    assert EVIL not in page and page.count("&lt;script&gt;") >= 5
    text = " ".join(found.text)
    assert EVIL in text  # shown to the reader as text
    assert "Reablement" in text


def test_report_shows_each_source_with_status_counts_and_staleness() -> None:
    text = " ".join(parsed(report_html(summary())).text)
    for expected in ("acute_activity", "council_referrals", "housing", "Green", "Amber", "Red",
                     "last good extract of 2026-04-01, 6.5 days old (published in v0002)",
                     "left out: no earlier good extract", "source_stale", "negative_value",
                     "Compared with version v0002",
                     "+25%", "3 sources: 1 green, 1 amber, 1 red. 10 of 110 rows rejected."):
        assert expected in text, expected
    assert "row 7" in text and "council/referrals.csv" in text  # samples name file and row


def test_a_whole_file_sample_says_so_in_the_report_and_its_markdown() -> None:
    """Row 0 stands for the whole file or its header (docs/dataset.md): both texts say it in words."""
    from outputs.quality_text import markdown_summary

    whole = {"check": "unknown_column", "severity": "warn", "message": "A column the mapping does not use.",
             "advice": "Map it if it matters.", "count": 1,
             "samples": [{"source_id": "beds", "location": "beds.csv", "row_number": 0, "column": "HBQF",
                          "value": None, "message": "column 'HBQF' is not used by the mapping"}]}
    found = summary(rejects={"rows": 0, "files": 0, "warnings": 1, "top": [whole]})
    text = " ".join(parsed(report_html(found)).text)
    assert "the whole file" in text and "row 0" not in text
    assert "beds beds.csv the whole file column HBQF" in markdown_summary(found)


def test_volumes_are_charted_and_compared_per_measure_with_their_display_strings() -> None:
    page = report_html(summary())
    text = " ".join(parsed(page).text)
    for title in ("Attendances (people), activity, per source", "Percentage occupancy (%), activity, per source",
                  "Referrals (people), flows, per source"):
        assert page.count(f"<title>{title}</title>") == 1, title
    assert "Volume per source" not in text  # no bar adds unlike measures
    assert "75.6%" in text and "80.0%" in text and "5,075" not in text
    assert "≥ 117 (10 of 12 months with suppressed cells)" in text and "suppression changed" in text
    assert '<span class="warn">suppression changed</span>' not in page  # not a change beyond the tolerance


def test_the_previous_bar_reads_the_previous_display_string() -> None:
    page = report_html(summary())
    assert "<title>acute_activity in the previous version: 80.0%</title>" in page  # a percentage, not "80"
    assert "<title>acute_activity in the previous version: 4,000</title>" in page
    svg = bar_chart("Volume", [("a", 100.0, 50.0, "#123456")], " rows")
    assert "<title>a in the previous version: 50 rows</title>" in svg  # no display string: the rounded value


def test_bar_chart_is_inline_svg_scaled_to_the_largest_bar() -> None:
    svg = bar_chart("Volume", [("a", 100.0, 50.0, "#123456"), (EVIL, 25.0, None, "#654321")])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and EVIL not in svg
    assert 'width="380.0"' in svg and 'width="95.0"' in svg and 'width="190.0"' in svg
    assert "nothing to show" in bar_chart("Volume", [])


def version(tmp_path: Path, quality: dict) -> PublishedVersion:
    rejects = rejects_frame([RejectRecord("council_referrals", "negative_value", "count is negative",
                                          "council/referrals.csv", 7, "n", "-3")])
    return PublishedVersion(
        folder=tmp_path, version_id="v0003", map_id="demo", title="Demo", area_code="S37000001", area_name="Demo",
        population="adults", period_start="2025-04", period_end="2026-03", lanes=[], sector_colours={},
        partners={}, attributions=[], licences=[], tables={"rejects": rejects}, graph=nx.DiGraph(), sources=[],
        quality=quality)


def test_artefact_writes_report_json_rejects_and_a_gx_site(tmp_path: Path) -> None:
    frames = {"organisations": pd.DataFrame({"organisation_id": ["o"], "source_id": ["config"]})}
    run = suite_results(frames, {"organisations": consolidated_suite(SuiteLimits((), 0.05, 0.5))[
        "organisations"]})
    written = quality_artefact(version(tmp_path, {**summary(), "gx": run.validations}))
    written += gx_site_artefact(version(tmp_path, {**summary(), "gx": run.validations}))
    quality = tmp_path / "quality"
    assert {p.relative_to(quality).as_posix() for p in written} == {
        "report.json", "report.html", "rejects.parquet", "gx/validation_results.json", "gx/index.html"}
    report = json.loads((quality / "report.json").read_text())
    assert "gx" not in report and report["version_id"] == "v0003" and report["sources"][2]["rag"] == "red"
    assert pd.read_parquet(quality / "rejects.parquet")["row_number"].tolist() == [7.0]
    assert json.loads((quality / "gx" / "validation_results.json").read_text())["organisations"]["success"]
    assert list((quality / "gx" / "validations").rglob("*.html"))
    assert sum(f.stat().st_size for f in (quality / "gx").rglob("*") if f.is_file()) < 2_000_000


def test_no_quality_no_report(tmp_path: Path) -> None:
    assert quality_artefact(version(tmp_path, {})) == [] and gx_site_artefact(version(tmp_path, {})) == []


def test_last_good_is_kept_swapped_whole_and_read_back_with_its_age(tmp_path: Path) -> None:
    staged = tmp_path / "staged.parquet"
    pd.DataFrame({"service_key": ["ED"]}).to_parquet(staged)
    assert last_good(tmp_path / "map", "acute") is None
    provenance = {"sha256": "abc", "extracted_at": "2026-04-01T00:00:00+00:00", "location": "acute.csv"}
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, provenance, "v0001", 1)
    pd.DataFrame({"service_key": ["ED", "AMU"]}).to_parquet(staged)
    folder = keep_last_good(tmp_path / "map", "acute", {"services": staged}, provenance, "v0002", 2)
    found = last_good(tmp_path / "map", "acute")
    assert found is not None and (found.version_id, found.rows) == ("v0002", 2)
    assert set(found.tables) == {"services"} and sorted(p.name for p in folder.iterdir()) == [
        "last_good.json", "services.parquet"]
    assert pd.read_parquet(found.tables["services"])["service_key"].tolist() == ["ED", "AMU"]
    assert found.age_days(datetime(2026, 4, 8, 12, tzinfo=UTC)) == 7.5
    assert sorted(p.name for p in (tmp_path / "map" / ".last_good").iterdir()) == ["acute"]
    found.tables["services"].unlink()
    assert last_good(tmp_path / "map", "acute") is None  # an incomplete set is no last good extract


def test_last_good_of_the_same_input_key_is_left_as_it_is(tmp_path: Path) -> None:
    staged = tmp_path / "staged.parquet"
    pd.DataFrame({"service_key": ["ED"]}).to_parquet(staged)
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, {"sha256": "abc"}, "v0001", 1, key="k1")
    record = (tmp_path / "map" / ".last_good" / "acute" / "last_good.json").read_bytes()
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, {"sha256": "abc"}, "v0002", 1, key="k1")
    assert (tmp_path / "map" / ".last_good" / "acute" / "last_good.json").read_bytes() == record  # untouched
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, {"sha256": "abc"}, "v0003", 2, key="k1")
    assert last_good(tmp_path / "map", "acute").version_id == "v0003"  # other rows: kept anew
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, {"sha256": "abd"}, "v0004", 2, key="k2")
    assert last_good(tmp_path / "map", "acute").version_id == "v0004"  # another input
    keep_last_good(tmp_path / "map", "acute", {"activity": staged}, {"sha256": "abd"}, "v0005", 2)
    assert last_good(tmp_path / "map", "acute").version_id == "v0005"  # no key: always kept anew


def test_report_shows_the_safe_to_publish_record() -> None:
    quality = summary(disclosure={"threshold": 0, "rule": "no small-number suppression", "suppressed_cells": 0,
                                  "secondary_cells": 0, "partner_suppressed_cells": 3,
                                  "warning": "disclosure threshold is 0: for internal use only"},
                      blocked_for_identifiers=[{"source_id": "gp_list", "columns": ["CHI"], "messages": ["x"]}])
    text = " ".join(parsed(report_html(quality)).text)
    assert "disclosure threshold is 0: for internal use only" in text
    assert "gp_list" in text and "was refused for personal identifiers in column(s) CHI." in text
    assert "Safe to publish" not in " ".join(parsed(report_html(summary())).text)
