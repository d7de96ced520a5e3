"""The poster is laid out by its shape (outputs/layout.py): its labels' digits as zeros, which `dot` places as it
places the poster itself; a layout kept in the map's store serves the next version whose numbers alone changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pygraphviz as pgv
import pytest

from outputs import layout as layouts
from outputs.context import PublishedVersion
from outputs.layout import LAYOUT_ATTRIBUTES, laid_out_dot, shape_of, with_layout
from outputs.poster import PosterLayout, poster_info, poster_layout, poster_source, version_suppressions
from tests.outputs.small_map import small_graph, small_tables, small_version


def test_a_shape_has_its_labels_digits_as_zeros_and_nothing_else() -> None:
    source = ('digraph { "svc_12" [label=<<FONT POINT-SIZE="14" COLOR="#1b9e77"><B>&#9733; Ward 7</B></FONT>'
              '<BR/>1,234 bed days> tooltip="Ward 7 label=<9> (2025)" penwidth="2.50" fontsize="14"];'
              ' "svc_12" -> "svc_3" [xlabel="56 referrals" penwidth="1.25"] }')
    assert shape_of(source) == (
        'digraph { "svc_12" [label=<<FONT POINT-SIZE="14" COLOR="#1b9e77"><B>&#9733; Ward 0</B></FONT>'
        '<BR/>0,000 bed days> tooltip="Ward 7 label=<9> (2025)" penwidth="2.50" fontsize="14"];'
        ' "svc_12" -> "svc_3" [xlabel="00 referrals" penwidth="1.25"] }')


def _placed(graph: pgv.AGraph) -> dict[str, str]:
    """Every layout attribute of every node, edge and graph, by a name for it."""
    found = {f"graph {name}": graph.graph_attr.get(name) or "" for name in LAYOUT_ATTRIBUTES}
    for node in graph.nodes_iter():
        found.update({f"{node} {name}": node.attr.get(name) or "" for name in LAYOUT_ATTRIBUTES})
    for index, edge in enumerate(graph.edges_iter()):
        found.update({f"{edge[0]}->{edge[1]} {index} {name}": edge.attr.get(name) or "" for name in LAYOUT_ATTRIBUTES})
    return found


def test_a_poster_is_placed_as_its_shape_is() -> None:
    version = small_version(Path("unused"))
    source = poster_source(version.graph, version.lanes, poster_info(version), version.poster,
                           version_suppressions(version))
    assert shape_of(source) != source
    by_shape = with_layout(source, laid_out_dot(shape_of(source)))
    assert _placed(by_shape) == _placed(pgv.AGraph(string=laid_out_dot(source)))
    assert by_shape.get_node(next(iter(version.graph.nodes))).attr["label"] in source  # its own labels


def _lay_out(version: PublishedVersion, store: Path) -> PosterLayout:
    layouts._MEMO.clear()  # as in the next process
    return poster_layout(version.graph, version.lanes, poster_info(version), version.poster,
                         version_suppressions(version), store=store)


def _next_version(folder: Path) -> PublishedVersion:
    """The small map's next version: every service's activity 25 higher, a new version id. (A flow's volume sets
    its pen width too, which shapes its arrowhead: a change there is laid out again.)"""
    tables = small_tables()
    tables["activity"] = tables["activity"].assign(value=tables["activity"]["value"] + 25)
    return replace(small_version(folder), version_id="v0008", tables=tables, graph=small_graph(tables))


def test_the_next_version_whose_numbers_alone_changed_is_not_laid_out_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "layouts"
    first = _lay_out(small_version(tmp_path / "v7"), store)
    assert len(list(store.glob("*.json"))) == 1
    fresh = _lay_out(_next_version(tmp_path / "v8"), tmp_path / "elsewhere")

    monkeypatch.setattr(layouts, "_laid_out", lambda *args: pytest.fail("laid out again"))
    kept = _lay_out(_next_version(tmp_path / "v8"), store)
    assert kept.node_boxes() == fresh.node_boxes() == first.node_boxes()
    assert kept.edge_paths() == fresh.edge_paths() and kept.method == fresh.method
    assert kept.agraph.to_string() == fresh.agraph.to_string()  # the next version's own numbers, as laid out fresh
    assert "v0008" in kept.agraph.to_string() and "v0007" not in kept.agraph.to_string()


def test_an_unreadable_kept_layout_is_made_again(tmp_path: Path) -> None:
    store = tmp_path / "layouts"
    made = _lay_out(small_version(tmp_path / "v7"), store)
    (kept,) = store.glob("*.json")
    kept.write_text("{not json", encoding="utf-8")
    again = _lay_out(small_version(tmp_path / "v7"), store)
    assert again.node_boxes() == made.node_boxes()
    assert kept.read_text(encoding="utf-8").startswith("{\"candidate\"")


def test_a_fallback_layout_is_not_kept(tmp_path: Path) -> None:
    """A layout made because the candidates ran out of time (on a busy moment, perhaps) is tried again next time."""
    spare = layouts.Candidate("spare", laid_out_dot("digraph { a -> b }"))
    found = layouts.budgeted_layout([layouts.Candidate("broken", "digraph {{")], 10, lambda: spare,
                                    store=tmp_path)
    assert found.candidate == "spare" and not list(tmp_path.glob("*.json"))
    kept = layouts.budgeted_layout([layouts.Candidate("fine", "digraph { a -> b }")], 10, store=tmp_path)
    assert kept.candidate == "fine" and len(list(tmp_path.glob("*.json"))) == 1
