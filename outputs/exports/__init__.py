"""Exports of the map for other tools, one module per format: GraphML with yEd styling, GEXF 1.3 for Gephi, a
Kumu blueprint and Cytoscape.js JSON. Every format is written from the same normalised records (records.py)."""

from __future__ import annotations

from pathlib import Path

from outputs.context import PublishedVersion
from outputs.exports.cytoscape import write_cytoscape
from outputs.exports.gexf import write_gexf
from outputs.exports.graphml import write_graphml
from outputs.exports.kumu import write_kumu
from outputs.exports.records import ExportGraph, export_graph
from outputs.poster import version_layout, version_suppressions

EXPORT_FILES = {"graphml": "map.graphml", "graphml_flat": "map-flat.graphml", "gexf": "map.gexf", "kumu": "kumu.json",
                "cytoscape": "cytoscape.json"}


def write_exports(export: ExportGraph, folder: Path) -> list[Path]:
    """Every export format of one map in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_graphml(export, folder / EXPORT_FILES["graphml"]),
        write_graphml(export, folder / EXPORT_FILES["graphml_flat"], groups=False),
        write_gexf(export, folder / EXPORT_FILES["gexf"]),
        write_kumu(export, folder / EXPORT_FILES["kumu"]),
        write_cytoscape(export, folder / EXPORT_FILES["cytoscape"]),
    ]


def version_export(version: PublishedVersion) -> ExportGraph:
    """A version's normalised records, placed as on its poster (the poster's own layout)."""
    return export_graph(version.graph, version.lanes, version.title, version.sector_colours,
                        version.tables.get("services"), version.tables.get("flows"), version_suppressions(version),
                        version_layout(version), version.analyses.get("loops"))


def exports_artefact(version: PublishedVersion) -> list[Path]:
    """`exports/` of a version: map.graphml (yEd, services grouped by lane), map-flat.graphml (one level, for
    igraph and other readers of plain GraphML), map.gexf, kumu.json and cytoscape.json."""
    return write_exports(version_export(version), version.folder / "exports")
