"""The exports read back by real consumers: networkx reads the GraphML (with yEd graphics) and the GEXF 1.3, and
the Kumu and Cytoscape.js documents have the shapes those tools import; all carry the dataset's services, flows
and key attributes, with one type per attribute and no empty values written as 0 or null."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from outputs.exports import EXPORT_FILES, exports_artefact
from tests.outputs.small_map import AMU, CAH, ED, HOSTILE_NAME, WARD, XSS, small_graph, small_version

FLOWS = {(ED, AMU), (AMU, CAH), (AMU, WARD)}
SUPPRESSED_FLOW = (WARD, XSS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("version")
    written = exports_artefact(small_version(folder))
    assert [p.name for p in written] == list(EXPORT_FILES.values())
    return folder / "exports"


def test_graphml_reads_back_with_the_dataset_services_flows_and_values(exported: Path) -> None:
    graph = nx.read_graphml(exported / "map.graphml")
    dataset = small_graph()
    assert set(graph.nodes) == set(dataset.nodes)
    assert set(graph.edges) == FLOWS | {SUPPRESSED_FLOW}
    for node in dataset.nodes:
        assert graph.nodes[node]["name"] == dataset.nodes[node]["name"]
        assert graph.nodes[node]["lane"] == dataset.nodes[node]["lane"]
        assert graph.nodes[node]["activity_total"] == dataset.nodes[node]["activity_total"]
    assert graph.nodes[ED]["activity_attendances"] == 2500.0 and graph.nodes[ED]["initiative_count"] == 1
    assert graph.nodes[AMU]["activity_attendances"] == 50.0 and graph.nodes[AMU]["suppressed_measures"] == "attendances"
    assert "activity_bed_days" not in graph.nodes[WARD]  # every value suppressed: left out, never 0
    assert graph.nodes[XSS]["name"] == HOSTILE_NAME and graph.nodes[XSS]["label"] == HOSTILE_NAME
    assert graph.nodes[ED]["client_groups"] == "Adults;Older people" and graph.nodes[WARD]["client_groups"] == ""
    assert graph.edges[ED, AMU]["volume"] == 300.0 and graph.edges[ED, AMU]["flow_referrals"] == 300.0
    assert graph.edges[ED, AMU]["on_poster"] is True and graph.edges[AMU, WARD]["on_poster"] is True  # WARD's largest
    assert graph.edges[SUPPRESSED_FLOW]["suppressed"] is True and "volume" not in graph.edges[SUPPRESSED_FLOW]
    # yEd graphics: a coloured rounded box placed as on the poster
    assert graph.nodes[ED]["shape_type"] == "roundrectangle" and float(graph.nodes[ED]["x"]) > 0
    text = (exported / "map.graphml").read_text(encoding="utf-8")
    assert '<y:Fill color="#005EB8"' in text and "None" not in text and "nan" not in text


def test_every_graphml_attribute_has_one_declared_type(exported: Path) -> None:
    text = (exported / "map.graphml").read_text(encoding="utf-8")
    declared = {}
    for line in text.splitlines():
        if line.strip().startswith("<key attr.name="):
            name = line.split('attr.name="')[1].split('"')[0]
            kind = line.split('attr.type="')[1].split('"')[0]
            target = line.split('for="')[1].split('"')[0]
            assert (target, name) not in declared
            declared[(target, name)] = kind
    assert declared[("node", "activity_total")] == "double" and declared[("node", "name")] == "string"
    assert declared[("edge", "months")] == "int" and declared[("edge", "suppressed")] == "boolean"


def test_gexf_reads_back_with_weights_and_viz_colours(exported: Path) -> None:
    graph = nx.read_gexf(exported / "map.gexf", version="1.3")
    assert set(graph.nodes) == set(small_graph().nodes)
    assert set(graph.edges) == FLOWS | {SUPPRESSED_FLOW}
    assert graph.nodes[ED]["label"] == "Emergency Department" and graph.nodes[ED]["sector"] == "nhs"
    assert graph.nodes[ED]["viz"]["color"] == {"r": 0, "g": 94, "b": 184, "a": 1.0}
    assert "position" in graph.nodes[ED]["viz"]
    assert graph.edges[ED, AMU]["weight"] == 300.0 and graph.edges[ED, AMU]["months"] == 1
    assert graph.nodes[XSS]["label"] == HOSTILE_NAME
    assert "activity_bed_days" not in graph.nodes[WARD]


def test_kumu_blueprint_has_stable_ids_and_connections_by_id(exported: Path) -> None:
    blueprint = json.loads((exported / "kumu.json").read_text(encoding="utf-8"))
    assert set(blueprint) == {"elements", "connections"}
    elements = {e["id"]: e for e in blueprint["elements"]}
    assert set(elements) == set(small_graph().nodes)
    assert elements[ED]["label"] == "Emergency Department" and elements[ED]["type"] == "Urgent care"
    assert elements[ED]["tags"] == ["Adults", "Older people", "Frailty at the front door"]
    assert elements[ED]["Activity attendances"] == 2500.0 and "Activity bed days" not in elements[WARD]
    connections = {(c["from"], c["to"]): c for c in blueprint["connections"]}
    assert set(connections) == FLOWS | {SUPPRESSED_FLOW}
    assert connections[(ED, AMU)]["direction"] == "directed" and connections[(ED, AMU)]["Volume"] == 300.0
    ids = [e["id"] for e in blueprint["elements"]] + [c["id"] for c in blueprint["connections"]]
    assert len(ids) == len(set(ids))  # Kumu needs ids unique across elements and connections


def test_cytoscape_json_has_elements_nodes_and_edges(exported: Path) -> None:
    document = json.loads((exported / "cytoscape.json").read_text(encoding="utf-8"))
    nodes, edges = document["elements"]["nodes"], document["elements"]["edges"]
    assert {n["data"]["id"] for n in nodes} == set(small_graph().nodes)
    assert all(set(n["position"]) == {"x", "y"} for n in nodes)
    pairs = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in edges}
    assert set(pairs) == FLOWS | {SUPPRESSED_FLOW}
    assert pairs[(AMU, CAH)]["volume"] == 20.0 and "volume" not in pairs[SUPPRESSED_FLOW]
    for entry in [n["data"] for n in nodes] + list(pairs.values()):
        assert all(value is not None for value in entry.values())
