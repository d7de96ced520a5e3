"""The ISM poster: what it draws and says, its page proportions, and a layout that cannot stall."""

from __future__ import annotations

import gc
import html
import re
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from expectations.worker import module_environment
from outputs import layout
from outputs.context import PosterOptions
from outputs.exports import exports_artefact
from outputs.interactive import interactive_artefact
from outputs.layout import Candidate, budgeted_layout, draw_in_worker
from outputs.poster import (
    PAGES_INCHES,
    PosterInfo,
    data_gaps,
    draw_poster,
    draw_posters,
    flow_label,
    flow_selection,
    poster_artefact,
    poster_graph,
    poster_png_artefact,
    render_poster,
    start_layout,
    suppressions,
    version_layout,
)
from outputs.poster import render as poster
from tests.conftest import require
from tests.outputs.small_map import (
    AMU,
    CAH,
    ED,
    LANES,
    SECTOR_COLOURS,
    WARD,
    XSS,
    small_graph,
    small_tables,
    small_version,
)

INFO = PosterInfo(title="Small map", area="Small HSCP (S37000001)", population="adults", period="2025-04 to 2025-05",
                  version="v0007", partners=["NHS Small", "Small Council"], sector_colours=SECTOR_COLOURS,
                  attributions=["Demo figures (fictional)"], licences=["Open Government Licence v3.0"])


def _svg_text(path: Path) -> str:
    """The visible text of a Graphviz SVG."""
    return html.unescape(" ".join(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))))


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def _pdf_page(path: Path) -> tuple[float, float]:
    box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", path.read_bytes())
    assert box, "no MediaBox in the PDF"
    x0, y0, x1, y1 = (float(v) for v in box.groups())
    return x1 - x0, y1 - y0


def test_withheld_values_are_found_per_service_and_per_flow() -> None:
    tables = small_tables()
    found = suppressions(tables["activity"], tables["flows"])
    assert found.activity == {AMU: {"attendances": 1}, WARD: {"bed_days": 2}}
    assert list(found.flows) == [(WARD, XSS)]


def test_flows_under_the_minimum_share_are_bundled_and_big_ones_labelled() -> None:
    graph = small_graph()
    selection = flow_selection(graph, PosterOptions(min_flow_share=0.005, label_flow_share=0.5, service_flows=0))
    assert selection.shown == sorted([(ED, AMU), (AMU, CAH)]) and selection.hidden == [(AMU, WARD)]
    assert selection.labelled == {(ED, AMU)} and selection.measure_totals == {"referrals": 321}
    [bundle] = selection.bundles
    assert (bundle.from_lane, bundle.to_lane, bundle.pairs, bundle.totals) == (
        "acute", "acute", ((AMU, WARD),), {"referrals": 1.0})
    assert len(flow_selection(graph, PosterOptions(min_flow_share=0)).shown) == 3


def test_each_service_keeps_its_largest_in_and_outflow_whatever_its_share() -> None:
    selection = flow_selection(small_graph(), PosterOptions(min_flow_share=0.5, service_flows=1))
    assert selection.shown == sorted([(ED, AMU), (AMU, CAH), (AMU, WARD)]) and selection.hidden == []
    assert selection.guaranteed == {(AMU, CAH), (AMU, WARD)}  # CAH's and WARD's only inflows
    only_share = flow_selection(small_graph(), PosterOptions(min_flow_share=0.5, service_flows=0))
    # social care's lane had no flow of half its measure: its largest is drawn, so no lane with flows has none
    assert only_share.shown == sorted([(ED, AMU), (AMU, CAH)]) and only_share.guaranteed == {(AMU, CAH)}
    assert [(b.from_lane, b.to_lane) for b in only_share.bundles] == [("acute", "acute")]


def test_the_poster_draws_lanes_in_order_services_legend_and_footer(tmp_path: Path) -> None:
    tables = small_tables()
    result = render_poster(small_graph(tables), LANES, INFO, tmp_path, ("svg",),
                           PosterOptions(label_flow_share=0.5, layout_seconds=60, service_flows=0),
                           suppressions(tables["activity"], tables["flows"]))
    svg_path = tmp_path / "poster.svg"
    assert result.paths == [svg_path] and result.method == "dot"
    raw = svg_path.read_text(encoding="utf-8")
    text = _svg_text(svg_path)
    lanes = [(float(x), label) for x, label in re.findall(r'<text[^>]*x="([\d.-]+)"[^>]*>(Urgent care|Acute hospital|'
                                                          r'Social care)</text>', raw)]
    assert [label for _, label in sorted(lanes)] == ["Urgent care", "Acute hospital", "Social care"]
    assert "★ Emergency" in text  # the initiative's mark
    assert "2,500 attendances" in text  # activity over the period
    # partly withheld: the known part as "at least", with how many months are missing, never 0
    assert "attendances: ≥ 50 (1 of 2 months suppressed)" in text
    assert "bed days: suppressed (2 of 2 months)" in text and "0 bed days" not in text
    assert "<script>alert(1)</" in text and "&lt;script&gt;" in raw and "<script" not in raw and "<img" not in raw
    assert ">300 referrals<" in raw and ">20 referrals<" not in raw  # flows of 50% of their measure or more
    assert 'stroke-dasharray="5,2"' not in raw  # a flow whose every value is suppressed is small: not drawn
    for words in ("NHS Small, Small Council", "Open Government Licence v3.0; Demo figures (fictional)",
                  "2 of 3 flows drawn: those of 0.5% of their measure's volume or more",
                  "Acute hospital: 1 flows (1 referrals), to Acute hospital 1 (1 referrals).",
                  "Layout: Graphviz dot.",
                  "1 flows with every value suppressed (c) are not drawn (set min_flow_share = 0 to draw them).",
                  "Small HSCP (S37000001)", "Population: adults", "Period: 2025-04 to 2025-05", "Version v0007"):
        assert words in text, words


@pytest.mark.parametrize(("page", "orientation"), [("A1", "landscape"), ("A3", "portrait")])
def test_png_and_pdf_come_out_at_the_page_proportions(tmp_path: Path, page: str, orientation: str) -> None:
    options = PosterOptions(page=page, orientation=orientation)
    render_poster(small_graph(), LANES, INFO, tmp_path, ("png", "pdf"), options)
    width, height = PAGES_INCHES[page] if orientation == "landscape" else PAGES_INCHES[page][::-1]
    pixels = _png_size(tmp_path / "poster.png")
    assert pixels[0] / pixels[1] == pytest.approx(width / height, rel=0.01)
    assert max(pixels) == pytest.approx(3300, rel=0.02)
    points = _pdf_page(tmp_path / "poster.pdf")
    assert points[0] == pytest.approx(width * 72, rel=0.02) and points[1] == pytest.approx(height * 72, rel=0.02)


def test_with_no_minimum_share_every_flow_is_drawn_and_suppressed_ones_dashed(tmp_path: Path) -> None:
    tables = small_tables()
    render_poster(small_graph(tables), LANES, INFO, tmp_path, ("svg",), PosterOptions(min_flow_share=0),
                  suppressions(tables["activity"], tables["flows"]))
    raw = (tmp_path / "poster.svg").read_text(encoding="utf-8")
    assert raw.count('class="edge"') == 4 and raw.count('stroke-dasharray="5,2"') == 1
    assert "3 of 3 flows drawn" in _svg_text(tmp_path / "poster.svg")


def test_a_layout_over_its_budget_falls_back_and_says_so(tmp_path: Path) -> None:
    result = render_poster(small_graph(), LANES, INFO, tmp_path, ("svg",), PosterOptions(layout_seconds=0.001))
    assert result.method == "fallback"
    raw = (tmp_path / "poster.svg").read_text(encoding="utf-8")
    assert "Layout: fallback (the full layout did not finish within 0.001 s)" in _svg_text(tmp_path / "poster.svg")
    assert raw.count('class="edge"') >= 2  # the flows are still drawn, as direct curves


def _dense_dot(nodes: int, edges: int) -> str:
    lines = ["digraph slow { node [shape=box];"]
    lines += [f"n{i} -> n{(i * 7919 + 13) % nodes};" for i in range(nodes)]
    lines += [f"n{(i * 31) % nodes} -> n{(i * 17 + 5) % nodes};" for i in range(edges)]
    return "\n".join(lines) + "}"


def test_the_budget_prefers_the_first_candidate_that_finishes_in_time() -> None:
    tiny = Candidate("tiny", "digraph t { a -> b; }")
    slow = Candidate("slow", _dense_dot(600, 4000))  # dot needs far longer than the budget for this
    found = budgeted_layout([slow, tiny], 4)  # room for a worker to start on a busy machine
    assert found.candidate == "tiny" and found.timed_out == ("slow",) and "pos=" in (found.laid_out or "")
    assert budgeted_layout([slow, tiny], 4) is found  # remembered
    broken = budgeted_layout([Candidate("broken", "digraph {")], 10)
    assert broken.candidate is None and broken.laid_out is None
    spare = budgeted_layout([Candidate("broken", "digraph {{")], 10, lambda: Candidate("spare", "laid"))
    assert (spare.candidate, spare.laid_out) == ("spare", "laid")


def test_when_none_is_in_time_the_last_candidate_has_the_cores_a_little_longer() -> None:
    slow = Candidate("slow", _dense_dot(601, 4000))
    tiny = Candidate("tiny", "digraph t { c -> d; }")
    # no worker even starts within 0.01 s: the slow one is stopped and the last one finishes in its grace
    found = budgeted_layout([slow, tiny], 0.01, lambda: Candidate("spare", "laid"), grace_seconds=60)
    assert found.candidate == "tiny" and found.timed_out == ("slow",) and "pos=" in (found.laid_out or "")
    other = Candidate("other slow", _dense_dot(602, 4000))
    spare = budgeted_layout([slow, other], 0.01, lambda: Candidate("spare", "laid"), grace_seconds=0.01)
    assert (spare.candidate, spare.timed_out) == ("spare", ("slow", "other slow"))


def test_the_last_candidate_goes_on_past_the_budget_while_nothing_waits_for_the_layout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def spare() -> Candidate:
        return Candidate("spare", "laid")

    slow, tiny = Candidate("slow", _dense_dot(603, 4000)), Candidate("tiny", "digraph t { e -> f; }")
    monkeypatch.setattr(layout, "UNNEEDED_SHARE", 6000.0)  # up to 60 s from the start
    # no worker even starts within the budget and its grace; the caller has other work, so the cheapest goes on
    found = budgeted_layout([slow, tiny], 0.01, spare, grace_seconds=0.01, needed=threading.Event())
    assert found.candidate == "tiny" and found.timed_out == ("slow",) and "pos=" in (found.laid_out or "")
    waiting = threading.Event()
    waiting.set()  # the caller waits already: the grace is all the last one has, as without `needed`
    other = Candidate("other tiny", "digraph t { g -> h; }")
    assert budgeted_layout([slow, other], 0.01, spare, grace_seconds=0.01, needed=waiting).candidate == "spare"
    monkeypatch.setattr(layout, "UNNEEDED_SHARE", 50.0)  # 0.5 s: never needed, it still ends
    started = time.monotonic()
    never = budgeted_layout([slow, Candidate("slow too", _dense_dot(604, 4000))], 0.01, spare, grace_seconds=0.01,
                            needed=threading.Event())
    assert never.candidate == "spare" and time.monotonic() - started < 10


def test_a_versions_layout_is_needed_once_a_writer_waits_for_it(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[threading.Event] = []
    lay_out = poster.poster_layout

    def watched(*args: Any, needed: threading.Event, **options: Any) -> poster.PosterLayout:
        seen.append(needed)
        return lay_out(*args, needed=needed, **options)

    monkeypatch.setattr(poster, "poster_layout", watched)
    version = small_version(tmp_path)
    start_layout(version).result()
    assert not seen[0].is_set()  # laid out meanwhile: no writer waited for it
    version_layout(version)
    assert seen[0].is_set()


def test_poster_graph_has_services_as_nodes_and_drawn_flows_as_edges() -> None:
    tables = small_tables()
    poster = poster_graph(small_graph(tables), LANES, INFO, PosterOptions(min_flow_share=0),
                          suppressions(tables["activity"], tables["flows"]))
    services = {str(n) for n in poster.nodes() if "::" not in n}
    assert services == {ED, AMU, WARD, CAH, XSS}
    flows = {(str(u), str(v)) for u, v in poster.edges() if "::" not in u}
    assert flows == {(ED, AMU), (AMU, CAH), (AMU, WARD), (WARD, XSS)}


def test_the_version_poster_is_written_in_three_formats_its_png_by_a_worker_as_here(tmp_path: Path) -> None:
    version = small_version(tmp_path)
    written = poster_artefact(version) + poster_png_artefact(version)
    assert [p.name for p in written] == ["poster.svg", "poster.pdf", "poster.png"]
    assert all(p.parent == tmp_path / "diagrams" and p.stat().st_size > 1000 for p in written)
    assert "Open Government Licence v3.0" in _svg_text(written[0])
    here = draw_poster(version_layout(version), tmp_path / "drawn_here.png", "png", version.poster)
    assert written[2].read_bytes() == here.read_bytes()
    assert sorted(p.name for p in (tmp_path / "diagrams").iterdir()) == ["poster.pdf", "poster.png", "poster.svg"]


def test_a_drawing_the_worker_cannot_make_names_its_file_and_leaves_none(tmp_path: Path) -> None:
    said = r"poster\.png: Graphviz could not draw it as png \(exit 1\): Error: syntax error in line 1"
    with pytest.raises(RuntimeError, match=said):
        draw_in_worker("digraph { a -> }", tmp_path / "poster.png", "png", {"dpi": "72"})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match=r"poster\.nope: Graphviz could not draw it as nope \(exit 1\): .*nope"):
        draw_in_worker(layout.laid_out_dot("digraph { a -> b }"), tmp_path / "poster.nope", "nope", {})
    assert list(tmp_path.iterdir()) == []  # not even the file Graphviz had begun


def test_posters_drawn_alike_share_one_placing_and_a_format_graphviz_refuses_leaves_no_file(tmp_path: Path) -> None:
    version = small_version(tmp_path)
    laid = version_layout(version)
    together = draw_posters(laid, {"svg": tmp_path / "both.svg", "pdf": tmp_path / "both.pdf"}, version.poster)
    alone = [draw_poster(laid, tmp_path / f"alone.{fmt}", fmt, version.poster) for fmt in ("svg", "pdf")]
    undated = [re.sub(rb"/CreationDate \(D:[^)]*\)", b"", p.read_bytes()) for p in [*together, *alone]]
    assert undated[:2] == undated[2:] and len(undated[0]) > 1000
    with pytest.raises(ValueError, match=r"poster\.nope: Graphviz could not draw the poster as nope"):
        draw_posters(laid, {"svg": tmp_path / "poster.svg", "nope": tmp_path / "poster.nope"}, version.poster)
    assert (tmp_path / "poster.svg").is_file() and not (tmp_path / "poster.nope").exists()


def test_a_version_is_laid_out_once_for_its_poster_map_and_exports(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    laid_out = []
    lay_out = poster.poster_layout

    def counted(*args: Any, **options: Any) -> poster.PosterLayout:
        laid_out.append(args)
        return lay_out(*args, **options)

    monkeypatch.setattr(poster, "poster_layout", counted)
    version = small_version(tmp_path)
    for write in (poster_artefact, interactive_artefact, exports_artefact):
        write(version)
    assert len(laid_out) == 1
    boxes = version_layout(version).node_boxes()
    map_page = (tmp_path / "diagrams" / "map.html").read_text(encoding="utf-8")
    assert f'"box":[{round(boxes[ED][0], 1)},{round(boxes[ED][1], 1)}' in map_page  # the poster's own positions
    remembered = id(version)
    del version
    gc.collect()
    assert remembered not in poster._VERSION_MEMOS  # forgotten with the version


def test_a_layout_started_early_is_the_one_drawn_and_its_failure_the_posters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version = small_version(tmp_path)
    assert start_layout(version) is start_layout(version)  # one layout per version, however often started
    assert version_layout(version) is start_layout(version).result()

    def broken(*args: Any, **options: Any) -> poster.PosterLayout:
        raise RuntimeError("Graphviz crashed")

    monkeypatch.setattr(poster, "poster_layout", broken)
    failing = small_version(tmp_path / "failing")
    start_layout(failing)  # fails in its thread ...
    with pytest.raises(RuntimeError, match="Graphviz crashed"):
        poster_artefact(failing)  # ... and the poster says so, not a missing file later


def test_data_gaps_mark_the_services_of_missing_stale_and_flagged_sources(tmp_path: Path) -> None:
    tables = small_tables()
    previous = {"activity": pd.DataFrame({"source_id": ["gone", "activity_source"], "service_id": [WARD, ED]}),
                "flows": pd.DataFrame({"source_id": ["gone"], "from_service_id": [CAH]})}
    sources = [{"source_id": "gone", "partner": "council", "status": "missing"},
               {"source_id": "council_services", "partner": "council", "status": "stale", "stale": {"age_days": 3.2}},
               {"source_id": "nhs_services", "partner": "nhs", "status": "ok"}]
    quality = {"services": {AMU: [{"code": "outlier_value", "message": "May far above April"}],
                            "svc_not_on_the_map": [{"code": "outlier_value", "message": "?"}]}}
    gaps = data_gaps(sources, quality, {"council": "Small Council", "nhs": "NHS Small"}, tables, previous,
                     small_graph(tables).nodes)
    assert gaps.missing == ("Small Council (gone)",)
    assert gaps.stale == ("Small Council (council_services, last good extract 3 days old)",)
    assert {sid: [gap.kind for gap in found] for sid, found in gaps.services.items()} == {
        WARD: ["missing"], CAH: ["missing", "stale"], AMU: ["outlier"]}
    assert gaps.marks(CAH) == "⊘ ◷" and gaps.marks(ED) == ""
    info = PosterInfo(title="Small map", area="Small HSCP", population="adults", period="2025-04 to 2025-05",
                      version="v0008", gaps=gaps)
    render_poster(small_graph(tables), LANES, info, tmp_path, ("svg",), PosterOptions(layout_seconds=60))
    text = _svg_text(tmp_path / "poster.svg")
    assert "Missing from this version" in text and "Small Council (gone)." in text
    assert "Shown from the last good extract" in text and "last good extract 3 days old" in text
    assert "⊘ ◷" in text and "⚠" in text and "Data gaps" in text
    assert 'stroke-dasharray="5,2"' in (tmp_path / "poster.svg").read_text(encoding="utf-8")  # a dashed border


def test_a_flow_label_says_how_many_months_were_suppressed_from_the_edges_totals() -> None:
    def record(measure: str, kind: str, suppressed: int) -> dict[str, Any]:
        return {"measure": measure, "kind": kind, "months": 12, "suppressed_months": suppressed}

    partly = {"measures": {"referrals": 117.0}, "qualifiers": ["c"], "totals": [record("referrals", "count", 10)]}
    assert flow_label(partly, {"referrals": 500.0}) == "≥ 117 referrals (10 of 12 months suppressed)"
    whole = {"measures": {"referrals": 1234.0, "care_hours": 5.0}, "qualifiers": [],
             "totals": [record("referrals", "count", 0), record("care_hours", "count", 0)]}
    assert flow_label(whole, {"referrals": 2000.0, "care_hours": 100.0}) == "1,234 referrals (+1 measure)"
    stock = {"measures": {"caseload": 40.0}, "qualifiers": ["c"], "totals": [record("caseload", "stock", 2)]}
    assert flow_label(stock, {"caseload": 40.0}) == "40 caseload (2 of 12 months suppressed)"  # no "≥": not a count
    graph = small_graph()
    assert all(" + c" not in flow_label(d, flow_selection(graph, PosterOptions()).measure_totals)
               for *_, d in graph.edges(data=True))


def test_a_layout_worker_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    require(sys.platform.startswith("linux"), "the parent's end is signalled to the worker on Linux only")
    (tmp_path / "slow.dot").write_text(_dense_dot(600, 4000))  # dot needs minutes for this
    started = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from outputs.layout import _start_worker; "
         "print(_start_worker(Path(sys.argv[1]), Path(sys.argv[2])).pid)", str(tmp_path / "slow.dot"),
         str(tmp_path / "out.dot")], capture_output=True, text=True, check=True, env=module_environment())
    stat = Path(f"/proc/{int(started.stdout)}/stat")
    for _ in range(100):  # the parent has ended: its worker must not go on laying out
        if not stat.exists() or stat.read_text().split(") ")[1].startswith("Z"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the layout worker outlived the process that started it")
    assert not (tmp_path / "out.dot").exists()
