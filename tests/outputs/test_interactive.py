"""The interactive map: its data block cannot break out of the page, and in a real headless Chromium it loads
without errors, finds a service, shows its details, filters, pans and zooms, and draws an ego view."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outputs.interactive import embedded_json, interactive_artefact, map_page
from outputs.poster.geometry import _path_data, direct_curve, direct_path
from tests.outputs.small_map import (
    AMU,
    CAH,
    COUNCIL,
    ED,
    HOSTILE_NAME,
    WARD,
    XSS,
    small_graph,
    small_tables,
    small_version,
)

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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@given(JSON_VALUES)
def test_the_data_block_reads_back_as_the_values_written(document: Any) -> None:
    text = embedded_json(document)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == document


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
    assert {(f["from"], f["to"]): f["onPoster"] for f in data["flows"]}[(AMU, WARD)] is True  # WARD's largest inflow


def test_the_map_data_reads_a_total_missing_suppressed_months_as_at_least(published: Path) -> None:
    data = _data(published.read_text(encoding="utf-8"))
    services = {s["id"]: s for s in data["services"]}
    [attendances] = services[AMU]["totals"]  # 2025-04 suppressed, 2025-05 50
    assert (attendances["measure"], attendances["kind"], attendances["value"]) == ("attendances", "count", 50.0)
    assert (attendances["months"], attendances["suppressed_months"]) == (2, 1)
    assert attendances["display"] == "≥ 50 (1 of 2 months suppressed)"
    assert "attendances: ≥ 50 (1 of 2 months suppressed)" in services[AMU]["activityLines"]
    [bed_days] = services[WARD]["totals"]  # every month suppressed: no figure, never 0
    assert bed_days["value"] is None and bed_days["display"] == "suppressed (2 of 2 months)"
    assert "activity_total" not in services[ED] and [t["display"] for t in services[ED]["totals"]] == ["2,500"]
    withheld = {(f["from"], f["to"]): f for f in data["flows"]}[(WARD, XSS)]
    assert [t["display"] for t in withheld["totals"]] == ["suppressed (2 of 2 months)"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    """A tab on `url` that records console errors, page errors, dialogs and any request off the machine."""
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.on("request", lambda request: problems.append(f"request: {request.url}")
           if not request.url.startswith(("file:", "data:")) else None)
    tab.goto(url)
    tab.wait_for_selector("body[data-ready=true]")
    return context, tab, problems


@pytest.fixture
def page(browser: Any, published: Path) -> Iterator[Any]:
    context, tab, problems = _open(browser, published.as_uri())
    yield tab
    assert problems == []  # no console error, no script from the data, no network request
    context.close()


def _visible(page: Any) -> set[str]:
    return set(page.eval_on_selector_all(".service:not(.hidden)", "nodes => nodes.map(n => n.dataset.id)"))


@browser_only
def test_it_loads_searches_and_shows_a_service(page: Any, tmp_path: Path) -> None:
    assert page.inner_text("#status") == "Showing 5 of 5 services and 3 of 4 flows"  # as on the poster
    assert page.get_attribute("#link-analysis", "href") == "../analysis/index.html"
    page.fill("#search", "acute med")
    page.click(f"#results button[data-id={AMU}]")
    assert page.inner_text("#d-name") == "Acute Medical Unit"
    table = page.inner_text("#activity-table")
    assert "2025-04\tc (suppressed)" in table and "2025-05\t50" in table
    assert "Period\t≥ 50 (1 of 2 months suppressed)" in table  # the period figure, as the pipeline computed it
    assert "Emergency Department: 300 referrals" in page.inner_text(".flows-in")
    assert "Ward 7: 1 referrals" in page.inner_text(".flows-out")  # drawn: Ward 7's largest inflow
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


def _position(page: Any, service: str) -> tuple[float, float]:
    """The centre of a service's box on the map (map units)."""
    box = page.eval_on_selector(f".service[data-id='{service}']", "n => { const b = n.getBBox(); "
                                "const m = n.transform.baseVal.consolidate().matrix; "
                                "return [m.e + b.x + b.width / 2, m.f + b.y + b.height / 2]; }")
    return round(box[0], 1), round(box[1], 1)


@browser_only
def test_filters_still_work_after_reset_and_after_leaving_the_ego_view(page: Any) -> None:
    page.click("#reset")
    page.uncheck("#filter-lane input[value=social_care]")
    assert _visible(page) == {ED, AMU, WARD}
    page.click("#reset")
    page.click(f".service[data-id='{ED}']")
    page.click("#ego")
    page.click("#ego-exit")
    page.uncheck("#filter-sector input[value=nhs]")
    assert _visible(page) == {CAH, XSS}
    page.check("#filter-sector input[value=nhs]")
    page.uncheck("#filter-lane input[value=urgent_care]")
    assert _visible(page) == {AMU, WARD, CAH, XSS}


@browser_only
def test_lanes_filtered_out_collapse(page: Any) -> None:
    care_x = _position(page, CAH)[0]
    page.uncheck("#filter-lane input[value=acute]")
    assert page.is_hidden(".lane[data-id=acute]")
    assert _position(page, CAH)[0] < care_x - 50  # social care moved left into the acute lane's place
    page.check("#filter-lane input[value=acute]")
    assert _position(page, CAH)[0] == pytest.approx(care_x)


@browser_only
def test_the_ego_view_lays_out_its_neighbourhood_and_zooms_to_it(page: Any) -> None:
    whole = float(page.get_attribute("#map", "viewBox").split()[2])
    page.click(f".service[data-id='{AMU}']")
    page.click("#ego")
    assert _visible(page) == {ED, AMU, CAH, WARD}
    ed, amu, cah, ward = (_position(page, s) for s in (ED, AMU, CAH, WARD))
    assert ed[0] < amu[0] < cah[0] and cah[0] == ward[0]  # senders left, receivers right, one column per step
    assert page.is_hidden("#g-lanes")
    assert float(page.get_attribute("#map", "viewBox").split()[2]) < whole
    page.click("#ego-exit")
    assert _position(page, CAH) != cah


@browser_only
def test_the_month_selector_redraws_volumes_per_month(page: Any) -> None:
    page.fill("#min-share", "0")
    page.select_option("#filter-month", "2025-05")
    assert page.inner_text("#status") == "Showing 5 of 5 services and 2 of 4 flows in 2025-05"  # AMU->WARD, WARD->XSS
    assert "1,300 attendances" in page.text_content(f".service[data-id='{ED}'] text")
    assert "50 attendances" in page.text_content(f".service[data-id='{AMU}'] text")
    page.select_option("#filter-month", "2025-04")
    assert "1,200 attendances" in page.text_content(f".service[data-id='{ED}'] text")
    assert "attendances: c (suppressed)" in page.text_content(f".service[data-id='{AMU}'] text")
    widths = page.eval_on_selector_all(".flow:not(.hidden)", "ns => ns.map(n => n.getAttribute('stroke-width'))")
    assert sorted(map(float, widths)) == [1.5, 1.73, 12.0]  # c, 20 and 300 referrals against 300 in April


@browser_only
def test_a_link_reopens_the_view(page: Any, browser: Any) -> None:
    page.uncheck("#filter-lane input[value=social_care]")
    page.select_option("#filter-month", "2025-05")
    page.click(f".service[data-id='{AMU}']")
    page.click("#share")
    link = page.input_value("#share-link")
    assert "lanes=urgent_care%2Cacute" in link and "month=2025-05" in link and f"service={AMU}" in link
    context, again, problems = _open(browser, link)
    assert _visible(again) == {ED, AMU, WARD} and again.input_value("#filter-month") == "2025-05"
    assert again.inner_text("#d-name") == "Acute Medical Unit"
    assert again.get_attribute("#map", "viewBox") == page.get_attribute("#map", "viewBox")
    again.click("#ego")
    ego_link = again.url
    context.close()
    context, ego, more = _open(browser, ego_link)
    assert "Ego view: Acute Medical Unit" in ego.inner_text("#ego-banner") and _visible(ego) == {ED, AMU, WARD, CAH}
    context.close()
    assert problems == [] and more == []


@browser_only
def test_the_view_exports_as_svg_png_and_csv(page: Any, tmp_path: Path) -> None:
    page.uncheck("#filter-lane input[value=social_care]")
    files = {}
    for button in ("export-svg", "export-png", "export-services", "export-flows"):
        with page.expect_download() as download:
            page.click(f"#{button}")
        files[button] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[button])
    exported = ElementTree.parse(files["export-svg"]).getroot()
    ids = {g.get("data-id") for g in exported.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "service"}
    assert ids == {ED, AMU, WARD}
    assert files["export-png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and files["export-png"].stat().st_size > 5000
    services = list(csv.DictReader(files["export-services"].open(encoding="utf-8")))
    assert {row["service_id"] for row in services} == {ED, AMU, WARD}
    assert {(row["name"], row["measure"], row["value"]) for row in services if row["service_id"] == ED} == {
        ("Emergency Department", "attendances", "2500")}
    flows = list(csv.DictReader(files["export-flows"].open(encoding="utf-8")))
    assert [(r["from_name"], r["to_name"], r["to_lane"], r["measure"], r["value"]) for r in flows] == [
        ("Emergency Department", "Acute Medical Unit", "acute", "referrals", "300"),
        ("Acute Medical Unit", "Ward 7", "acute", "referrals", "1")]


@browser_only
def test_print_shows_the_map_not_the_controls(page: Any, tmp_path: Path) -> None:
    page.emulate_media(media="print")
    assert page.eval_on_selector("#controls", "n => getComputedStyle(n).display") == "none"
    assert page.eval_on_selector("#zoom", "n => getComputedStyle(n).display") == "none"
    box = page.locator("#map").bounding_box()
    assert box["width"] > 1000 and box["height"] > 300
    pdf = tmp_path / "map.pdf"
    page.pdf(path=str(pdf), landscape=True, format="A4")
    assert pdf.read_bytes()[:4] == b"%PDF"


@browser_only
def test_data_gaps_are_marked_and_named_in_the_header(browser: Any, tmp_path: Path) -> None:
    version = replace(small_version(tmp_path, quality=QUALITY), sources=[
        {"source_id": "council_services", "partner": "council", "status": "stale", "stale": {"age_days": 12}}])
    [path] = interactive_artefact(version)
    context, tab, problems = _open(browser, path.as_uri())
    assert "◷" in tab.text_content(f".service[data-id='{CAH}'] text")
    assert "⚠" in tab.text_content(f".service[data-id='{AMU}'] text")
    assert "Shown from the last good extract: Small Council (council_services, last good extract 12 days old)" \
        in tab.inner_text("#gaps")
    assert "last good extract" in tab.inner_text("#gap-legend") and "outlier" in tab.inner_text("#gap-legend")
    context.close()
    assert problems == []


def _wide_version(folder: Path) -> Any:
    """The small map with a second flow measure and fifteen more services (for the measure filter and search)."""
    tables = small_tables()
    extra = pd.DataFrame({"service_id": [f"svc_{n:012x}" for n in range(100, 115)],
                          "name": [f"Home care team {n}" for n in range(15)], "organisation_id": COUNCIL,
                          "lane": "social_care", "setting": None, "client_groups": None, "locality": None,
                          "area_code": "S37000001", "status": None, "external_ids": None,
                          "source_id": "council_services", "source_ids": "council_services"})
    tables["services"] = pd.concat([tables["services"], extra], ignore_index=True)
    start = pd.Timestamp("2025-05-01")
    discharge = pd.DataFrame([(WARD, CAH, start, start + pd.offsets.MonthEnd(0), "discharges", 5.0, None,
                               "flow_source")], columns=tables["flows"].columns)
    tables["flows"] = pd.concat([tables["flows"], discharge], ignore_index=True)
    return replace(small_version(folder), tables=tables, graph=small_graph(tables))


@browser_only
def test_the_measure_filter_compares_within_the_measure_and_search_is_fuzzy(browser: Any, tmp_path: Path) -> None:
    [path] = interactive_artefact(_wide_version(tmp_path))
    context, tab, problems = _open(browser, path.as_uri())
    tab.fill("#min-share", "50")
    tab.select_option("#filter-measure", "discharges")
    shown = tab.eval_on_selector_all(".flow:not(.hidden)", "ns => ns.map(n => n.dataset.from + '>' + n.dataset.to)")
    assert shown == [f"{WARD}>{CAH}"]  # 5 discharges: all of that measure, though 2% of all flows counted together
    tab.fill("#search", "emergncy")  # a typo
    assert tab.inner_text("#results button") .startswith("Emergency Department")
    tab.fill("#search", "home care")
    assert tab.eval_on_selector_all("#results button", "ns => ns.length") == 12
    assert tab.inner_text("#more-hits").startswith("and 4 more matches")  # 15 teams and Care at home
    context.close()
    assert problems == []


def _partly_suppressed_version(folder: Path) -> Any:
    """The small map with ED -> AMU suppressed in May (300 referrals known in April) and a second, suppressed
    cell of AMU's May attendances next to its published 50."""
    tables = small_tables()
    start = pd.Timestamp("2025-05-01")
    end = start + pd.offsets.MonthEnd(0)
    flow = pd.DataFrame([(ED, AMU, start, end, "referrals", None, "c", "flow_source")],
                        columns=tables["flows"].columns)
    cell = pd.DataFrame([(AMU, start, end, "attendances", None, "c", "second_source")],
                        columns=tables["activity"].columns)
    tables["flows"] = pd.concat([tables["flows"], flow], ignore_index=True)
    tables["activity"] = pd.concat([tables["activity"], cell], ignore_index=True)
    return replace(small_version(folder), tables=tables, graph=small_graph(tables))


def _shown_texts(tab: Any) -> list[str]:
    """Every text a person reads on the map and in the panel: flow tooltips, service boxes, the details."""
    return (tab.eval_on_selector_all(".flow title", "ns => ns.map(n => n.textContent)")
            + tab.eval_on_selector_all(".service text", "ns => ns.map(n => n.textContent)")
            + [tab.inner_text("#details")])


def test_the_map_data_says_which_months_of_a_flow_were_suppressed(tmp_path: Path) -> None:
    [path] = interactive_artefact(_partly_suppressed_version(tmp_path))
    data = _data(path.read_text(encoding="utf-8"))
    flows = {(f["from"], f["to"]): f for f in data["flows"]}
    assert flows[(ED, AMU)]["byMonth"] == {"2025-04": {"referrals": 300.0}}
    assert flows[(ED, AMU)]["withheldByMonth"] == {"2025-05": ["referrals"]}
    assert flows[(WARD, XSS)]["withheldByMonth"] == {"2025-04": ["referrals"], "2025-05": ["referrals"]}
    assert flows[(AMU, CAH)]["withheldByMonth"] == {}
    assert data["measureKinds"] == {"attendances": "count", "bed_days": "count", "contacts": "count",
                                    "referrals": "count"}


@browser_only
def test_a_flow_with_suppressed_months_reads_as_at_least_its_published_cells(browser: Any, tmp_path: Path) -> None:
    [path] = interactive_artefact(_partly_suppressed_version(tmp_path))
    context, tab, problems = _open(browser, path.as_uri())
    tab.fill("#min-share", "0")
    edge = f".flow[data-from='{ED}'][data-to='{AMU}']"
    assert tab.text_content(f"{edge} title") == \
        "Emergency Department → Acute Medical Unit: ≥ 300 referrals (1 of 2 months suppressed)"  # as the poster
    assert tab.text_content(f".flow[data-from='{WARD}'][data-to='{XSS}'] title") == \
        f"Ward 7 → {HOSTILE_NAME}: referrals: suppressed (2 of 2 months)"
    tab.click(f".service[data-id='{AMU}']")
    assert "Emergency Department: ≥ 300 referrals (1 of 2 months suppressed)" in tab.inner_text(".flows-in")
    assert "Period\t≥ 50 (2 of 2 months suppressed)" in tab.inner_text("#activity-table")
    texts = _shown_texts(tab)
    tab.select_option("#filter-month", "2025-05")  # ED -> AMU: its one cell that month is suppressed
    assert tab.text_content(f"{edge} title") == "Emergency Department → Acute Medical Unit: referrals: c (suppressed)"
    assert tab.get_attribute(edge, "stroke-dasharray") == "8,5" and "hidden" not in tab.get_attribute(edge, "class")
    assert "Emergency Department: referrals: c (suppressed)" in tab.inner_text(".flows-in")
    assert "attendances: ≥ 50 (1 of 1 month suppressed)" in tab.text_content(f".service[data-id='{AMU}'] text")
    assert "2025-05\t≥ 50 (1 of 1 month suppressed)" in tab.inner_text("#activity-table")
    texts += _shown_texts(tab)
    tab.select_option("#filter-month", "2025-04")
    assert tab.text_content(f"{edge} title") == "Emergency Department → Acute Medical Unit: 300 referrals"
    assert tab.get_attribute(edge, "stroke-dasharray") is None
    texts += _shown_texts(tab)
    assert not [text for text in texts if " + c" in text]  # never a sum with a bare "+ c"
    context.close()
    assert problems == []


_coordinate = st.floats(-5_000, 5_000, allow_nan=False)
_box = st.tuples(_coordinate, _coordinate, st.floats(0, 400), st.floats(0, 200))


@given(_box, _box)
def test_a_flow_the_poster_leaves_off_follows_the_curve_a_fallback_poster_draws(source: tuple[float, ...],
                                                                               target: tuple[float, ...]) -> None:
    assert direct_path(source, target) == _path_data(direct_curve(source, target), lambda y: y)
