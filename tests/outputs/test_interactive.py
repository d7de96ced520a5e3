"""The interactive map: its data block cannot break out of the page, and in a real headless Chromium it loads
without errors, finds a service, shows its details, filters, pans and zooms, and draws an ego view."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outputs.interactive import embedded_json, interactive_artefact, map_page
from tests.outputs.small_map import AMU, CAH, ED, HOSTILE_NAME, WARD, XSS, small_version

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
QUALITY = {"services": {AMU: [{"code": "outlier_value", "severity": "warn",
                               "message": "2025-05 is far above the usual month"}]}}
browser_only = pytest.mark.browser  # skipped without /usr/bin/chromium, failed under CI=true (tests/conftest.py)


def _data(page: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/json" id="ism-data">(.*?)</script>', page, re.S)
    assert block
    return json.loads(block.group(1))


def test_the_data_block_escapes_markup_and_round_trips() -> None:
    document = {"meta": {"title": "</script><script>alert(1)</script>", "version": "v1"}, "x": "<!-- & -->"}
    text = embedded_json(document)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == document
    page = map_page({**document, "meta": {**document["meta"], "title": "{{SCRIPT}} {{DATA}}"}})
    assert page.count("<script") == 2 and "<title>{{SCRIPT}} {{DATA}} · v1</title>" in page


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("version")
    (folder / "analysis").mkdir()
    (folder / "analysis" / "index.html").write_text("<p>analysis</p>")
    [path] = interactive_artefact(small_version(folder, quality=QUALITY))
    assert path == folder / "diagrams" / "map.html"
    return path


def test_the_page_is_self_contained_and_carries_the_map(published: Path) -> None:
    page = published.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from the network
    assert "connect-src" not in page and "default-src 'none'" in page
    data = _data(page)
    services = {s["id"]: s for s in data["services"]}
    assert set(services) == {ED, AMU, WARD, CAH, XSS} and services[XSS]["name"] == HOSTILE_NAME
    assert services[AMU]["months"]["attendances"] == [["2025-04", None, "c"], ["2025-05", 50.0, None]]
    assert services[AMU]["flags"][0]["code"] == "outlier_value"
    assert services[CAH]["flags"][0]["code"] == "source_stale"  # its source loaded its last good extract
    assert data["meta"]["links"]["analysis"] == "../analysis/index.html"
    assert {(f["from"], f["to"]): f["onPoster"] for f in data["flows"]}[(AMU, WARD)] is False


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, published: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.on("request", lambda request: problems.append(f"request: {request.url}")
           if not request.url.startswith(("file:", "data:")) else None)
    tab.goto(published.as_uri())
    tab.wait_for_selector("body[data-ready=true]")
    yield tab
    assert problems == []  # no console error, no script from the data, no network request
    context.close()


def _visible(page: Any) -> set[str]:
    return set(page.eval_on_selector_all(".service:not(.hidden)", "nodes => nodes.map(n => n.dataset.id)"))


@browser_only
def test_it_loads_searches_and_shows_a_service(page: Any, tmp_path: Path) -> None:
    assert page.inner_text("#status") == "Showing 5 of 5 services and 2 of 4 flows"  # as on the poster
    assert page.get_attribute("#link-analysis", "href") == "../analysis/index.html"
    page.fill("#search", "acute med")
    page.click(f"#results button[data-id={AMU}]")
    assert page.inner_text("#d-name") == "Acute Medical Unit"
    table = page.inner_text("#activity-table")
    assert "2025-04\tc (suppressed)" in table and "2025-05\t50" in table
    assert "Emergency Department: 300 referrals" in page.inner_text(".flows-in")
    assert "Ward 7: 1 referrals — not on the poster" in page.inner_text(".flows-out")
    assert AMU in page.inner_text("#provenance") and "nhs_services" in page.inner_text("#provenance")
    assert "2025-05 is far above the usual month" in page.inner_text("#quality-flags")
    shot = tmp_path / "interactive-map.png"
    page.screenshot(path=str(shot))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)
    assert shot.stat().st_size > 10_000


@browser_only
def test_markup_in_names_shows_as_text(page: Any) -> None:
    page.click(f".service[data-id='{XSS}']")
    assert page.inner_text("#d-name") == HOSTILE_NAME
    assert page.eval_on_selector_all("#details script, #details img, svg script", "n => n.length") == 0


@browser_only
def test_filters_hide_services(page: Any) -> None:
    page.uncheck("#filter-lane input[value=social_care]")
    assert _visible(page) == {ED, AMU, WARD}
    page.check("#filter-lane input[value=social_care]")
    page.uncheck("#filter-sector input[value=nhs]")
    assert _visible(page) == {CAH, XSS}
    page.click("#reset")
    page.select_option("#filter-client", "Older people")
    assert _visible(page) == {ED, CAH}
    page.select_option("#filter-client", "")
    page.select_option("#filter-measure", "bed_days")
    assert _visible(page) == {WARD}
    page.click("#reset")
    page.fill("#min-share", "0")
    assert page.inner_text("#status") == "Showing 5 of 5 services and 4 of 4 flows"


@browser_only
def test_ego_view_pan_and_zoom(page: Any) -> None:
    before = page.get_attribute("#map", "viewBox")
    page.click("#zoom-in")
    zoomed = page.get_attribute("#map", "viewBox")
    assert float(zoomed.split()[2]) < float(before.split()[2])
    page.mouse.move(700, 500)
    page.mouse.down()
    page.mouse.move(600, 450)
    page.mouse.up()
    assert page.get_attribute("#map", "viewBox").split()[:2] != zoomed.split()[:2]
    page.click(f".service[data-id='{ED}']")
    page.click("#ego")
    assert _visible(page) == {ED, AMU}
    assert "Emergency Department and the 1 services within 1 step" in page.inner_text("#ego-banner")
    page.fill("#ego-hops", "2")
    page.click("#ego")
    assert _visible(page) == {ED, AMU, CAH, WARD}
    page.click("#ego-exit")
    assert len(_visible(page)) == 5
