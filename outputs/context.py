"""What every artefact writer is handed: one version being written, with its tables, graph and descriptive
metadata. Writers put their files under `folder` (the staging folder) and return the paths they wrote."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from expectations.status import SourceStatus

# The source statuses a reader of the map must be told about (expectations/status.py), and the quality summary's
# `services` flag codes (expectations/checks.py) the map marks.
SOURCE_STALE = SourceStatus.STALE  # the new extract failed: the last good extract is published
SOURCE_ABSENT = (SourceStatus.MISSING, SourceStatus.BLOCKED)  # nothing of the source is in the version
FLAG_OUTLIER = "outlier_value"
FLAG_STALE = "source_stale"
# The graph attribute (set by transforms/graph.py) holding every flow's totals by measure, edge or not: (from, to) ->
# records of transforms/totals.py TOTAL_COLUMNS.
FLOW_TOTALS = "flow_totals"


@dataclass(frozen=True)
class LaneStyle:
    id: str
    label: str
    colour: str


@dataclass(frozen=True)
class PosterOptions:
    """The map config's `[poster]` table, as the poster and interactive map writers read it."""

    min_flow_share: float = 0.005  # flows from this share of their measure's volume up are drawn
    label_flow_share: float = 0.05  # flows from this share of their measure's volume up have it written on them
    service_flows: int = 1  # each service's largest in- and outflows drawn whatever their share (0: none)
    page: str = "A1"  # A0..A4
    orientation: str = "landscape"
    layout_seconds: float = 4.0  # budget of the full layout before a cheaper one is used


@dataclass(frozen=True)
class PublishedVersion:
    """A version being written. `previous` is the folder of the latest complete version, if any."""

    folder: Path
    version_id: str
    map_id: str
    title: str
    area_code: str
    area_name: str
    population: str
    period_start: str  # YYYY-MM
    period_end: str  # YYYY-MM
    lanes: Sequence[LaneStyle]
    sector_colours: dict[str, str]
    partners: dict[str, str]  # partner id -> name
    attributions: Sequence[str]
    licences: Sequence[dict[str, str]]
    tables: dict[str, pd.DataFrame]
    graph: nx.DiGraph
    sources: Sequence[dict[str, Any]]  # one entry per source: provenance, status and counts
    quality: dict[str, Any] = field(default_factory=dict)  # check results of the run
    previous: Path | None = None
    analyses: dict[str, pd.DataFrame] = field(default_factory=dict)  # transforms/analyses tables + "changes"
    poster: PosterOptions = field(default_factory=PosterOptions)  # the config's [poster] table
    layouts: Path | None = None  # where the poster's layouts are kept between versions (the map's private area)
    # what the area is: "health and social care partnership", "health board", "council area", "country" or
    # "several areas" (area_code then lists the codes, comma-separated)
    area_kind: str = "health and social care partnership"

    @property
    def period_label(self) -> str:
        return f"{self.period_start} to {self.period_end}"

    @property
    def area_label(self) -> str:
        return f"{self.area_name} ({self.area_code})"


ArtefactWriter = Callable[[PublishedVersion], list[Path]]
