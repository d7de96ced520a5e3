"""The poster and interactive map of the demo, published for real: every lane and every service with flows stays
connected on the poster (its largest flow drawn, or bundled with its lane's and the bundle drawn), labels print at
6 pt or more on A3 and never sit on a box; and the broken delivery of the demo (examples/broken), published after
it, marks the services of its missing sources and names those sources in the poster's footer and the map's header."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from examples import write_demo
from examples.broken.generate import write_broken
from flows.config import load_config
from flows.refresh import refresh_map
from outputs.context import PosterOptions
from outputs.poster import PAGES_INCHES, flow_selection
from outputs.poster.dot import bundle_label
from outputs.poster.selection import flow_share, measure_totals
from transforms.graph import service_graph

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
A3_LONG_POINTS = PAGES_INCHES["A3"][0] * 72


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo (v0001), then its broken delivery (v0002) in the same publish root."""
    folder = tmp_path_factory.mktemp("maps")
    write_demo(folder / "demo")  # a copy (not the checkout's private area); the broken config reads it as ../demo
    write_broken(folder / "broken")
    root = folder / "published"
    demo = Path(refresh_map(str(folder / "demo" / "ism.toml"), str(root)).path)
    broken = Path(refresh_map(str(folder / "broken" / "ism.toml"), str(root)).path)
    return {"demo": demo, "broken": broken, "config": folder / "demo" / "ism.toml"}


def _graph(version: Path) -> Any:
    tables = {t: pd.read_parquet(version / f"{t}.parquet")
              for t in ("services", "organisations", "activity", "flows", "initiatives")}
    return service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows", "initiatives")))


def _svg_text(path: Path) -> str:
    return html.unescape(" ".join(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))))


def _svg_nodes(path: Path) -> dict[str, tuple[str, list[float], list[float]]]:
    """Graphviz SVG node title -> (its markup, x coordinates, y coordinates of its shape)."""
    found = {}
    for block in re.findall(r'<g id="node\d+" class="node">(.*?)</g>', path.read_text(encoding="utf-8"), re.S):
        title = html.unescape(re.search(r"<title>(.*?)</title>", block, re.S).group(1))
        shape = re.search(r'<(?:path|polygon)[^>]*(?:d|points)="([^"]+)"', block)
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.group(1))] if shape else []
        found[title] = (block, numbers[0::2], numbers[1::2])
    return found


def test_every_lane_and_service_with_flows_stays_connected_on_the_demo_poster(published: dict[str, Path]) -> None:
    graph = _graph(published["demo"])
    options = PosterOptions(**load_config(str(published["config"])).poster.model_dump())
    selection = flow_selection(graph, options)
    drawn = set(selection.shown)
    assert len(drawn) < graph.number_of_edges()  # a selection, not every flow
    lanes_with_flows = {graph.nodes[n]["lane"] for u, v in graph.edges for n in (u, v)}
    lanes_drawn = {graph.nodes[n]["lane"] for u, v in drawn for n in (u, v)}
    assert lanes_with_flows == lanes_drawn
    svg = published["demo"] / "diagrams" / "poster.svg"
    text = _svg_text(svg)
    drawn_bundles = {(b.from_lane, b.to_lane) for b in selection.bundles if b.from_lane != b.to_lane}
    for bundle in selection.bundles:
        if bundle.from_lane != bundle.to_lane:
            assert bundle_label(bundle) in text or f"bundle::{bundle.from_lane}" in svg.read_text(encoding="utf-8")
    totals = measure_totals(graph)
    for node in graph.nodes:
        touching = [(u, v) for u, v in (*graph.in_edges(node), *graph.out_edges(node))]
        if not touching:
            continue
        largest = max(touching, key=lambda pair: (flow_share(graph.edges[pair], totals), pair))
        lanes = (graph.nodes[largest[0]]["lane"], graph.nodes[largest[1]]["lane"])
        assert largest in drawn or lanes in drawn_bundles, node
    assert "Left off, by sending lane" in text and "flows drawn: those of" in text


def test_demo_poster_volumes_print_at_6_pt_on_a3_and_never_sit_on_a_box(published: dict[str, Path]) -> None:
    svg = published["demo"] / "diagrams" / "poster.svg"
    raw = svg.read_text(encoding="utf-8")
    width = float(re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', raw).group(1))
    nodes = _svg_nodes(svg)
    labels = {title: node for title, node in nodes.items() if title.startswith("flowlabel::")}
    boxes = {title: node for title, node in nodes.items() if title.startswith("svc_")}
    assert labels and boxes
    for title, (block, xs, ys) in labels.items():
        size = float(re.search(r'font-size="([\d.]+)"', block).group(1))
        assert size * A3_LONG_POINTS / width >= 6.0, title
        for service, (_, bxs, bys) in boxes.items():
            apart = max(xs) <= min(bxs) or min(xs) >= max(bxs) or max(ys) <= min(bys) or min(ys) >= max(bys)
            assert apart, f"{title} lies on {service}"


def test_a_version_with_missing_sources_marks_their_services_and_names_them(published: dict[str, Path]) -> None:
    version = published["broken"]
    summary = json.loads((version / "quality" / "report.json").read_text(encoding="utf-8"))
    missing = {s["source_id"] for s in summary["sources"] if s["status"] == "missing"}
    assert missing == {"council_activity", "housing_activity", "third_sector_contacts", "housing_repairs"}
    text = _svg_text(version / "diagrams" / "poster.svg")
    assert "Missing from this version" in text
    assert "Glenmuir Council adult social work (council_activity)" in text
    assert "⊘" in text and "⚠" in text  # a missing source's services, the flagged outlier
    previous = pd.read_parquet(published["demo"] / "activity.parquet")
    from_missing = set(previous.loc[previous["source_id"].isin(missing), "service_id"])
    nodes = _svg_nodes(version / "diagrams" / "poster.svg")
    for service in from_missing:
        assert "⊘" in html.unescape(nodes[service][0]), service
    page = (version / "diagrams" / "map.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="ism-data">(.*?)</script>', page, re.S).group(1))
    assert any("council_activity" in name for name in data["meta"]["missing"])
    marked = {s["id"] for s in data["services"] if any(g["kind"] == "missing" for g in s["gaps"])}
    assert marked == from_missing
    outliers = set(summary["services"])
    assert {s["id"] for s in data["services"] if any(g["kind"] == "outlier" for g in s["gaps"])} == outliers
    demo_text = _svg_text(published["demo"] / "diagrams" / "poster.svg")
    assert "⊘" not in demo_text and "Missing from this version" not in demo_text
