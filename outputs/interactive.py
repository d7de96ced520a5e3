"""The interactive map, `diagrams/map.html`: one self-contained page that works offline (no CDN, no library
download). The poster's layout drawn as inline SVG by a small vanilla-JS app (templates/map.js) with pan and zoom,
search, filters, a details panel per service and an ego view. The map's data travels in the page as a JSON block;
the app writes every data text with `textContent`, so names are never read as markup."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
import orjson
import pandas as pd

from expectations.canonical import LIST_SEPARATOR, QUALIFIERS, month_label
from outputs.context import FLOW_TOTALS, LaneStyle, PosterOptions, PublishedVersion
from outputs.poster import (
    DEFAULT_SECTOR_COLOURS,
    LANE_WRAP,
    PosterInfo,
    PosterLayout,
    Suppressions,
    activity_lines,
    clean_text,
    flow_colour,
    flow_scale,
    flow_width,
    monthly_flows,
    name_lines,
    poster_info,
    poster_lanes,
    poster_layout,
    sources_by_flow,
    text_colour,
    version_layout,
    version_suppressions,
)
from outputs.poster.gaps import GAP_LEGEND, GAP_MARKS
from outputs.safe_text import json_value

MAP_FILE = "map.html"
ANALYSIS_PAGE = Path("analysis") / "index.html"
QUALITY_PAGE = Path("quality") / "report.html"
SUPPRESSED = "c"  # the qualifier of a cell withheld by the disclosure rule (as in transforms/totals.py)


def _listed(text: Any) -> list[str]:
    if not isinstance(text, str):
        return []
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _rows_by_id(services: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each service's row by its id (a dict per row: looking rows up one by one in the frame is slow)."""
    return dict(zip(services["service_id"], services.to_dict("records"), strict=True))


def service_flags(quality: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Data-quality flags per service from the version's quality record (`services`; absent: none)."""
    flags: dict[str, list[dict[str, str]]] = {}
    for sid, found in (quality.get("services") or {}).items():
        for flag in found or []:
            if isinstance(flag, Mapping):
                flags.setdefault(str(sid), []).append({
                    "severity": str(flag.get("severity") or "warn"), "code": str(flag.get("code") or ""),
                    "message": str(flag.get("message") or "")})
    return flags


def _source_notes(quality: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Source id -> {status, note} for every source that did not load cleanly."""
    notes = {}
    listed = quality.get("sources") or sources
    for source in listed:
        status = str(source.get("status") or "ok")
        if status != "ok":
            notes[str(source.get("source_id"))] = {
                "status": status, "note": str(source.get("error") or source.get("rag") or "")}
    return notes


def withheld_flow_months(flows: pd.DataFrame | None) -> dict[tuple[str, str], dict[str, list[str]]]:
    """(from, to) -> month -> the measures with a suppressed cell that month: a month view says a flow's figure
    misses suppressed cells (or is suppressed) instead of showing it as complete (or as nothing)."""
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    if flows is None or not len(flows):
        return found
    withheld = flows[flows["value"].isna() & (flows["qualifier"] == SUPPRESSED)]
    months = month_label(withheld["period_start"])
    keys = withheld.assign(month=months)[["from_service_id", "to_service_id", "month", "measure"]]
    for source, target, month, measure in sorted(set(keys.itertuples(index=False, name=None))):
        found.setdefault((str(source), str(target)), {}).setdefault(str(month), []).append(str(measure))
    return found


def measure_kinds(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Measure -> its kind, from the totals records of services or flows: only a count is "≥" its known cells."""
    return {str(r["measure"]): str(r["kind"]) for item in items for r in item.get("totals") or [] if r.get("kind")}


def _activity_months(activity: pd.DataFrame | None) -> tuple[dict[str, dict[str, list[list[Any]]]],
                                                               dict[str, set[str]]]:
    """Service -> measure -> [month, value, qualifier] rows; and service -> the sources of its activity."""
    by_month: dict[str, dict[str, list[list[Any]]]] = {}
    activity_sources: dict[str, set[str]] = {}
    if activity is not None and len(activity):
        ordered = activity.sort_values(["service_id", "measure", "period_start"])
        months = month_label(ordered["period_start"]).tolist()
        columns = (ordered[c].tolist() for c in ("service_id", "measure", "value", "qualifier", "source_id"))
        for month, service, measure, value, qualifier, source in zip(months, *columns, strict=True):
            by_month.setdefault(str(service), {}).setdefault(str(measure), []).append(
                [month, json_value(value), json_value(qualifier)])
            activity_sources.setdefault(str(service), set()).add(str(source))
    return by_month, activity_sources


def _service_items(graph: nx.DiGraph, info: PosterInfo, layout: PosterLayout, tables: Mapping[str, pd.DataFrame],
                   suppressed: Suppressions, quality: Mapping[str, Any],
                   sources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    boxes = layout.node_boxes()
    services = _rows_by_id(tables["services"]) if "services" in tables else {}
    by_month, activity_sources = _activity_months(tables.get("activity"))
    flags = service_flags(quality)
    source_notes = _source_notes(quality, sources)
    items: list[dict[str, Any]] = []
    for node, data in graph.nodes(data=True):
        row = services.get(node)
        fill = colours.get(str(data.get("sector") or "other"), DEFAULT_SECTOR_COLOURS["other"])
        source_ids = _listed(row["source_ids"]) if row is not None else []
        notes = [{"severity": "warn", "code": f"source_{note['status']}",
                  "message": f"source {sid}: {note['status']}" + (f" ({note['note']})" if note["note"] else "")}
                 for sid in sorted(set(source_ids) | activity_sources.get(node, set()))
                 if (note := source_notes.get(sid))]
        withheld = suppressed.activity.get(node, {})
        items.append({
            "id": str(node), "name": clean_text(data.get("name") or node), "lane": str(data.get("lane")),
            "organisation": clean_text(data.get("organisation") or ""),
            "organisationId": str(data.get("organisation_id") or ""),
            "sector": str(data.get("sector") or "other"), "partner": str(data.get("partner") or ""),
            "clientGroups": _listed(row["client_groups"]) if row is not None else [],
            "locality": clean_text(json_value(row["locality"]) or "") if row is not None else "",
            "setting": clean_text(json_value(row["setting"]) or "") if row is not None else "",
            "status": clean_text(json_value(row["status"]) or "") if row is not None else "",
            "externalIds": _listed(row["external_ids"]) if row is not None else [],
            "sourceIds": source_ids, "activitySources": sorted(activity_sources.get(node, set())),
            "activity": {m: float(v) for m, v in (data.get("activity") or {}).items()},
            "totals": [dict(record) for record in data.get("totals") or []],
            "suppressed": dict(withheld), "months": by_month.get(node, {}),
            "initiatives": [str(i) for i in data.get("initiatives") or []],
            "flags": flags.get(str(node), []) + notes,
            "gaps": [{"kind": gap.kind, "mark": gap.mark, "text": clean_text(gap.text)}
                     for gap in info.gaps.services.get(str(node), ())],
            "box": [round(v, 1) for v in boxes.get(node, (0.0, 0.0, 10.0, 10.0))],
            "fill": fill, "text": text_colour(fill),
            "lines": name_lines(data.get("name") or node), "activityLines": activity_lines(data, withheld)[:3],
        })
    return items


def _flow_items(graph: nx.DiGraph, lanes: Sequence[LaneStyle], layout: PosterLayout,
                flows: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Every flow with its volume per measure (never added across measures), per month, its poster curve and its
    sending lane's colour."""
    paths = layout.edge_paths()
    drawn = set(layout.selection.shown)
    flow_sources = sources_by_flow(flows)
    flow_months = monthly_flows(flows)
    flow_withheld = withheld_flow_months(flows)
    lane_colours = {lane.id: flow_colour(lane.colour)[:7] for lane in poster_lanes(graph, lanes)}
    items: list[dict[str, Any]] = []
    for u, v, data in graph.edges(data=True):
        pair = (str(u), str(v))
        items.append({
            "from": pair[0], "to": pair[1], "measures": {m: float(x) for m, x in (data.get("measures") or {}).items()},
            "totals": [dict(record) for record in data.get("totals") or []],
            "months": int(data.get("months") or 0), "qualifiers": [str(q) for q in data.get("qualifiers") or []],
            "sources": sorted(flow_sources.get(pair, set())), "onPoster": pair in drawn,
            "byMonth": flow_months.get(pair, {}), "withheldByMonth": flow_withheld.get(pair, {}),
            "colour": lane_colours.get(str(graph.nodes[u].get("lane")), "#555555"),
            "path": paths.get(pair) or layout.curve_path(*pair),
            "width": round(flow_width(*flow_scale(data, layout.selection)), 2),
        })
    withheld_totals = graph.graph.get(FLOW_TOTALS) or {}
    for u, v in layout.suppressed_flows:
        items.append({"from": u, "to": v, "measures": {}, "months": 0, "qualifiers": ["c"], "byMonth": {},
                      "withheldByMonth": flow_withheld.get((u, v), {}),
                      "totals": [dict(record) for record in withheld_totals.get((u, v), [])],
                      "sources": sorted(flow_sources.get((u, v), set())), "onPoster": layout.suppressed_drawn,
                      "colour": "#666666", "path": paths.get((u, v)) or layout.curve_path(u, v), "width": 1.5})
    return items


def _meta(info: PosterInfo, layout: PosterLayout, links: Mapping[str, str] | None) -> dict[str, Any]:
    return {"title": clean_text(info.title), "area": clean_text(info.area),
            "population": clean_text(info.population), "period": clean_text(info.period),
            "version": clean_text(info.version), "partners": [clean_text(p) for p in info.partners],
            "layout": layout.method, "links": dict(links or {}),
            "missing": [clean_text(t) for t in info.gaps.missing], "stale": [clean_text(t) for t in info.gaps.stale]}


def _lane_items(graph: nx.DiGraph, lanes: Sequence[LaneStyle], layout: PosterLayout) -> list[dict[str, Any]]:
    lane_boxes = layout.lane_boxes()
    return [{"id": lane.id, "label": clean_text(lane.label), "colour": lane.colour,
             "lines": textwrap.wrap(clean_text(lane.label), LANE_WRAP) or [""],
             "box": [round(v, 1) for v in lane_boxes.get(lane.id, (0.0, 0.0, 0.0, 0.0))]}
            for lane in poster_lanes(graph, lanes)]


def map_data(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, layout: PosterLayout,
             tables: Mapping[str, pd.DataFrame], options: PosterOptions, suppressed: Suppressions,
             quality: Mapping[str, Any] | None = None, sources: Sequence[Mapping[str, Any]] = (),
             links: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-able values."""
    colours = {**DEFAULT_SECTOR_COLOURS, **info.sector_colours}
    items = _service_items(graph, info, layout, tables, suppressed, quality or {}, sources)
    flow_items = _flow_items(graph, lanes, layout, tables.get("flows"))
    measures = sorted({m for item in items for m in (*item["activity"], *item["suppressed"])}
                      | {m for item in flow_items for m in item["measures"]})
    return {
        "meta": _meta(info, layout, links),
        "gapLegend": {kind: {"mark": GAP_MARKS[kind], "text": GAP_LEGEND[kind]} for kind in info.gaps.kinds()},
        "months": sorted({m for item in flow_items for m in (*item["byMonth"], *item["withheldByMonth"])}
                         | {row[0] for item in items for rows in item["months"].values() for row in rows}),
        "page": {"width": round(layout.width, 1), "height": round(layout.height, 1)},
        "lanes": _lane_items(graph, lanes, layout),
        "sectors": {s: colours.get(s, DEFAULT_SECTOR_COLOURS["other"])
                    for s in sorted({item["sector"] for item in items})},
        "measures": measures,
        "clientGroups": sorted({g for item in items for g in item["clientGroups"]}),
        "qualifiers": dict(QUALIFIERS),
        "minShare": options.min_flow_share,
        "measureTotals": layout.selection.measure_totals,
        "measureKinds": {**measure_kinds(items), **measure_kinds(flow_items)},
        "services": items,
        "flows": flow_items,
    }


def embedded_json(document: Any) -> str:
    """Compact JSON safe inside a <script type="application/json"> block: `<`, `>` and `&` as \\u escapes, so no
    data can close the block or open a comment. Written by orjson, a sixth of the standard library's time (0.1 s
    against 0.7 s for bench L's 13 MB, the same text there; only very small numbers are spelt otherwise)."""
    text = orjson.dumps(document).decode("utf-8")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template(name: str) -> str:
    return resources.files("outputs.templates").joinpath(name).read_text(encoding="utf-8")


def map_page(data: Mapping[str, Any]) -> str:
    """The whole page: the template with its script and the data block inlined (one pass, so nothing inlined is
    read as a placeholder)."""
    meta = data["meta"]
    values = {
        "TITLE": html.escape(f"{meta['title']} · {meta['version']}", quote=True),
        "SCRIPT": _template("map.js").replace("</", "<\\/"),
        "DATA": embedded_json(data),
    }
    return re.sub(r"\{\{(TITLE|SCRIPT|DATA)\}\}", lambda match: values[match.group(1)], _template("map.html"))


def write_interactive_map(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                          tables: Mapping[str, pd.DataFrame], options: PosterOptions | None = None,
                          suppressed: Suppressions | None = None, quality: Mapping[str, Any] | None = None,
                          sources: Sequence[Mapping[str, Any]] = (), links: Mapping[str, str] | None = None,
                          layout: PosterLayout | None = None) -> Path:
    """Write `map.html` in `folder`, laid out like the poster (the same layout, computed once)."""
    options = options or PosterOptions()
    suppressed = suppressed or Suppressions()
    layout = layout or poster_layout(graph, lanes, info, options, suppressed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MAP_FILE
    data = map_data(graph, lanes, info, layout, tables, options, suppressed, quality, sources, links)
    path.write_text(map_page(data), encoding="utf-8")
    return path


def interactive_artefact(version: PublishedVersion) -> list[Path]:
    """`diagrams/map.html` of a version, linking to the version's analysis page and quality report when
    they were written before it."""
    links = {"poster": "poster.pdf", "poster_svg": "poster.svg"}
    if (version.folder / ANALYSIS_PAGE).is_file():
        links["analysis"] = "../" + ANALYSIS_PAGE.as_posix()
    if (version.folder / QUALITY_PAGE).is_file():
        links["quality"] = "../" + QUALITY_PAGE.as_posix()
    path = write_interactive_map(version.graph, version.lanes, poster_info(version), version.folder / "diagrams",
                                 version.tables, version.poster, version_suppressions(version), version.quality,
                                 version.sources, links, version_layout(version))
    return [path]
