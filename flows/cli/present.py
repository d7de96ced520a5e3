"""How the commands show things, defined once: numbers and shares, JSON records, file-name slugs, and the poster
header and lanes of a map."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import typer

from outputs.safe_text import json_value

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from flows.config import MapConfig
    from outputs.context import LaneStyle
    from outputs.poster import PosterInfo


def number(value: float | None) -> str:
    """A volume with thousands separators, or a dash when there is none."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def share(value: float | None) -> str:
    """A share as a whole percentage, or a dash when there is none."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def plural(count: int, word: str) -> str:
    """`1 step`, `2 steps`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def slug(text: str, empty: str = "map") -> str:
    """A short lowercase file-name part for `text`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or empty


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-safe dicts."""
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def echo_json(payload: dict[str, Any]) -> None:
    """Print a command's machine-readable result on stdout."""
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def poster_info(map_config: MapConfig, version_id: str, title: str, licences: list[str] | None = None) -> PosterInfo:
    """The header and footer of a poster drawn from a version of the map."""
    from outputs.poster import PosterInfo

    return PosterInfo(title=title, area=f"{map_config.area.name} ({map_config.area.code})",
                      population=map_config.population,
                      period=f"{map_config.period.start} to {map_config.period.end}", version=version_id,
                      partners=[p.name for p in map_config.partners.values()],
                      attributions=sorted({s.attribution for s in map_config.sources if s.attribution}),
                      sector_colours=dict(map_config.sectors), licences=licences or [])


def lane_styles(map_config: MapConfig, graph: nx.DiGraph | None = None) -> list[LaneStyle]:
    """The map's lanes in order; with a graph, only the lanes its services are in."""
    from outputs.context import LaneStyle

    used = None if graph is None else {data.get("lane") for _, data in graph.nodes(data=True)}
    return [LaneStyle(lane.id, lane.label, lane.colour) for lane in map_config.lanes if used is None or lane.id in used]
