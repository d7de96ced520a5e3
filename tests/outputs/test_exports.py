"""The exports read back by real consumers: networkx reads the GraphML (with yEd group nodes per lane and yEd
graphics), the flat GraphML, the GEXF 1.3 (with monthly spells) and the Cytoscape.js JSON (`cytoscape_graph`, as a
directed graph); igraph reads the flat GraphML; the Kumu document has the shape Kumu imports, with tags and loops.
All carry the dataset's services, flows and key attributes, with one type per attribute, no empty values written as
0 or null, and no total across unlike measures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import igraph
import networkx as nx
import pandas as pd
import pytest

from outputs.exports import EXPORT_FILES, exports_artefact
from tests.outputs.small_map import (
    AMU,
    CAH,
    ED,
    HOSTILE_NAME,
    WARD,
    XSS,
    small_graph,
    small_tables,
    small_version,
)
from transforms.analyses import demand_loops

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
    lanes = {"lane::urgent_care", "lane::acute", "lane::social_care"}  # yEd group nodes, one per lane
    assert set(graph.nodes) == set(dataset.nodes) | lanes
    assert graph.nodes["lane::acute"]["name"] == "Acute hospital" and graph.nodes["lane::acute"]["lane"] == "acute"
    assert set(graph.edges) == FLOWS | {SUPPRESSED_FLOW}
    for node in dataset.nodes:
        assert graph.nodes[node]["name"] == dataset.nodes[node]["name"]
        assert graph.nodes[node]["lane"] == dataset.nodes[node]["lane"]
        assert "activity_total" not in graph.nodes[node]  # no total across unlike measures
    assert graph.nodes[AMU]["in_referrals"] == 300.0 and graph.nodes[AMU]["out_referrals"] == 21.0
    assert graph.nodes[ED]["activity_attendances"] == 2500.0 and graph.nodes[ED]["initiative_count"] == 1
    assert graph.nodes[AMU]["activity_attendances"] == 50.0 and graph.nodes[AMU]["suppressed_measures"] == "attendances"
    assert "activity_bed_days" not in graph.nodes[WARD]  # every value suppressed: left out, never 0
    # a figure missing suppressed months says how many, apart from the figure
    assert graph.nodes[AMU]["attendances_suppressed_months"] == 1
    assert graph.nodes[WARD]["bed_days_suppressed_months"] == 2
    assert "attendances_suppressed_months" not in graph.nodes[ED]
    assert graph.edges[SUPPRESSED_FLOW]["referrals_suppressed_months"] == 2
    assert graph.nodes[XSS]["name"] == HOSTILE_NAME and graph.nodes[XSS]["label"] == HOSTILE_NAME
    assert graph.nodes[ED]["client_groups"] == "Adults;Older people" and graph.nodes[WARD]["client_groups"] == ""
    text = (exported / "map.graphml").read_text(encoding="utf-8")
    assert text.count('yfiles.foldertype="group"') == 3 and "<y:GroupNode>" in text
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
    assert declared[("node", "activity_attendances")] == "double" and declared[("node", "name")] == "string"
    assert declared[("edge", "months")] == "int" and declared[("edge", "suppressed")] == "boolean"


def test_gexf_reads_back_with_weights_and_viz_colours(exported: Path) -> None:
    graph = nx.read_gexf(exported / "map.gexf", version="1.3")
    assert set(graph.nodes) == set(small_graph().nodes)
    assert set(graph.edges) == FLOWS | {SUPPRESSED_FLOW}
    assert graph.nodes[ED]["label"] == "Emergency Department" and graph.nodes[ED]["sector"] == "nhs"
    assert graph.nodes[ED]["viz"]["color"] == {"r": 0, "g": 94, "b": 184, "a": 1.0}
    assert "position" in graph.nodes[ED]["viz"]
    assert graph.edges[ED, AMU]["weight"] == 300.0 and graph.edges[ED, AMU]["months"] == 1
    assert graph.graph["mode"] == "dynamic"  # Gephi's timeline: each flow lives in the months it has a value
    assert graph.edges[ED, AMU]["spells"] == [("2025-04-01", "2025-04-30")]
    assert graph.edges[AMU, WARD]["spells"] == [("2025-05-01", "2025-05-31")]
    assert graph.edges[ED, AMU]["month_referrals"] == [(300.0, "2025-04-01", "2025-04-30")]
    assert "spells" not in graph.edges[SUPPRESSED_FLOW]
    assert graph.nodes[XSS]["label"] == HOSTILE_NAME
    assert "activity_bed_days" not in graph.nodes[WARD]


def test_kumu_blueprint_has_stable_ids_and_connections_by_id(exported: Path) -> None:
    blueprint = json.loads((exported / "kumu.json").read_text(encoding="utf-8"))
    assert set(blueprint) == {"elements", "connections", "loops"}
    elements = {e["id"]: e for e in blueprint["elements"]}
    assert set(elements) == set(small_graph().nodes)
    assert elements[ED]["label"] == "Emergency Department" and elements[ED]["type"] == "Urgent care"
    assert elements[ED]["tags"] == ["sector: nhs", "lane: Urgent care", "initiative: Frailty at the front door",
                                    "client group: Adults", "client group: Older people"]
    assert elements[ED]["Activity attendances"] == 2500.0 and "Activity bed days" not in elements[WARD]
    connections = {(c["from"], c["to"]): c for c in blueprint["connections"]}
    assert set(connections) == FLOWS | {SUPPRESSED_FLOW}
    assert connections[(ED, AMU)]["direction"] == "directed" and connections[(ED, AMU)]["Volume"] == 300.0
    ids = [e["id"] for e in blueprint["elements"]] + [c["id"] for c in blueprint["connections"]]
    assert len(ids) == len(set(ids))  # Kumu needs ids unique across elements and connections
    assert blueprint["loops"] == []  # the small map has none


def test_the_flat_graphml_reads_back_in_igraph_and_networkx(exported: Path) -> None:
    read = igraph.Graph.Read_GraphML(str(exported / "map-flat.graphml"))
    assert read.is_directed() and set(read.vs["id"]) == set(small_graph().nodes)
    names = dict(zip(read.vs["id"], read.vs["name"], strict=True))
    assert names[XSS] == HOSTILE_NAME and names[ED] == "Emergency Department"
    edges = {(read.vs[e.source]["id"], read.vs[e.target]["id"]): e for e in read.es}
    assert set(edges) == FLOWS | {SUPPRESSED_FLOW} and edges[(ED, AMU)]["flow_referrals"] == 300.0
    assert nx.utils.graphs_equal(nx.read_graphml(exported / "map-flat.graphml"),
                                 nx.read_graphml(exported / "map.graphml").subgraph(small_graph().nodes))


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small map with a flow back from the acute medical unit to the emergency department: one loop."""
    tables = small_tables()
    back = pd.DataFrame([(AMU, ED, pd.Timestamp("2025-05-01"), pd.Timestamp("2025-05-31"), "referrals", 7.0, None,
                          "flow_source")], columns=tables["flows"].columns)
    tables["flows"] = pd.concat([tables["flows"], back], ignore_index=True)
    graph = small_graph(tables)
    folder = tmp_path_factory.mktemp("looped")
    exports_artefact(replace(small_version(folder), tables=tables, graph=graph,
                             analyses={"loops": demand_loops(graph)}))
    return folder / "exports"


def test_the_kumu_blueprint_carries_the_loops_the_analysis_found(looped: Path) -> None:
    blueprint = json.loads((looped / "kumu.json").read_text(encoding="utf-8"))
    [loop] = blueprint["loops"]
    assert loop["id"] == "loop:1" and loop["elements"] == [ED, AMU]
    assert loop["connections"] == [f"flow:{ED}:{AMU}", f"flow:{AMU}:{ED}"]
    assert "Emergency Department → Acute Medical Unit → Emergency Department" in loop["label"]
    connections = {c["id"]: c for c in blueprint["connections"]}
    assert set(loop["connections"]) <= set(connections)
    assert connections[f"flow:{ED}:{AMU}"]["Loops"] == "loop:1" and "Loops" not in connections[f"flow:{AMU}:{CAH}"]


def test_cytoscape_json_loads_in_networkx_as_a_directed_graph(exported: Path) -> None:
    document = json.loads((exported / "cytoscape.json").read_text(encoding="utf-8"))
    graph = nx.cytoscape_graph(document)
    assert graph.is_directed() and not graph.is_multigraph()
    services = set(small_graph().nodes)
    assert set(graph.nodes) == services | {"lane::urgent_care", "lane::acute", "lane::social_care"}
    assert set(graph.edges) == FLOWS | {SUPPRESSED_FLOW}
    assert graph.nodes[ED]["name"] == "Emergency Department" and graph.nodes[ED]["parent"] == "lane::urgent_care"
    assert graph.nodes["lane::acute"]["kind"] == "lane" and graph.edges[ED, AMU]["flow_referrals"] == 300.0
    nodes, edges = document["elements"]["nodes"], document["elements"]["edges"]
    assert all(set(n["position"]) == {"x", "y"} for n in nodes if n["data"]["id"] in services)
    pairs = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in edges}
    assert set(pairs) == FLOWS | {SUPPRESSED_FLOW}
    assert pairs[(AMU, CAH)]["volume"] == 20.0 and "volume" not in pairs[SUPPRESSED_FLOW]
    for entry in [n["data"] for n in nodes] + list(pairs.values()):
        assert all(value is not None for value in entry.values())
