"""The quality report at a glance: partners by name, worst first, their sources beneath; root causes before the
rest; a dash, never `nan`, where a whole-file problem has no column or value; and, in Chromium, no sideways scroll
at 1400 px with long paths, messages and values."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outputs.quality_report import partner_groups, report_html
from tests.outputs.test_quality_report import summary

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
LONG = "extracts/" + "a_very_long_folder_name_without_spaces_" * 8 + "activity.csv"


def wide_summary() -> dict:
    quality = summary()
    quality["partners"] = {"acute": "NHS Acute", "council": "Glenmuir Council", "housing": "Housing Trust"}
    quality["sources"][0]["location"] = LONG
    quality["root_causes"] = [{"source_ids": ["housing"], "partner": "housing", "check": "unknown_service",
                               "rows": 491, "sources": {"acute_activity": 400, "council_referrals": 91},
                               "errors": ["housing: file not found"]}]
    quality["rejects"]["top"].append({
        "check": "source_unreadable", "severity": "error", "message": "The file could not be read.", "advice": "",
        "count": 1, "samples": [{"source_id": "housing", "location": LONG, "row_number": 0, "column": math.nan,
                                 "value": None, "message": "x" * 400}]})
    return quality


def test_partners_are_named_worst_first_with_their_sources_beneath() -> None:
    groups = partner_groups(wide_summary())
    assert [(name, rag) for name, rag, _ in groups] == [("Housing Trust", "red"), ("Glenmuir Council", "amber"),
                                                       ("NHS Acute", "green")]
    page = report_html(wide_summary())
    assert page.index("Root causes") < page.index("housing blocked") < page.index("Partners and their sources")
    assert page.index("Housing Trust") < page.index("Glenmuir Council") < page.index("NHS Acute")


def test_a_whole_file_problem_shows_dashes_never_nan() -> None:
    page = report_html(wide_summary())
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)
    assert "<td>–</td>" in page


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
def test_the_report_fits_1400_px_without_sideways_scroll(chromium: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(report_html(wide_summary()), encoding="utf-8")
    tab = chromium.new_page(viewport={"width": 1400, "height": 900})
    tab.goto(page_file.as_uri())
    assert tab.evaluate("document.documentElement.scrollWidth") <= 1400
    assert tab.evaluate("document.body.scrollWidth") <= 1400
