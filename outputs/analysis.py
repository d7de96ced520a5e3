"""The `analysis/` folder of a version: the planner's tables (key services, loops, lane summary, initiative
coverage, initiatives, changes since the previous version) as Parquet and CSV, and one readable offline page."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from expectations.measures import catalogue_of
from outputs.context import PublishedVersion
from outputs.safe_text import csv_text

FOLDER = "analysis"
TABLE_ORDER = ("key_services", "loops", "lane_summary", "coverage", "initiatives", "service_totals", "lane_totals",
               "comparison", "changes", "parameters")
LOOPS_SHOWN = 50

# (column, header, format): text, int, number, share (0.25 -> 25.0%), gap (signed share), ratio (3 decimals)
Column = tuple[str, str, str]
KEY_SERVICE_VIEW: list[Column] = [
    ("name", "Service", "text"), ("lane", "Lane", "lane"), ("organisation", "Organisation", "text"),
    ("activity", "Activity by measure", "text"), ("demand_activity", "Arrivals", "number"),
    ("in_volume", "Flow in", "number"), ("out_volume", "Flow out", "number"), ("net_inflow", "In − out", "number"),
    ("imbalance", "Imbalance", "ratio"),
    ("senders", "Senders", "int"), ("receivers", "Receivers", "int"),
    ("betweenness", "Betweenness (volume)", "ratio"), ("betweenness_unweighted", "Betweenness (steps)", "ratio"),
    ("loops", "Loops", "int"), ("delayed_bed_days", "Delayed bed days", "number"),
    ("initiatives", "Initiatives", "text"),
]
LOOP_VIEW: list[Column] = [
    ("loop", "#", "int"), ("length", "Services", "int"), ("services", "Loop", "text"),
    ("bottleneck_volume", "Smallest flow on it", "number"), ("total_volume", "Flow on its links", "number"),
]
LANE_VIEW: list[Column] = [
    ("lane", "Lane", "lane"), ("services", "Services", "int"), ("demand_activity", "Arrivals", "number"),
    ("in_volume", "Flow in", "number"), ("inflow_from_other_lanes", "From other lanes", "number"),
    ("outflow_to_other_lanes", "To other lanes", "number"), ("flow_within_lane", "Within the lane", "number"),
    ("demand", "Demand", "number"), ("demand_share", "Share of demand", "share"),
]
COVERAGE_VIEW: list[Column] = [
    ("lane", "Lane", "lane"), ("demand_share", "Share of demand", "share"),
    ("initiatives", "Initiatives", "int"), ("initiative_links", "Initiative × service links", "int"),
    ("initiative_share", "Share of initiative links", "share"), ("coverage_gap", "Gap", "gap"),
    ("services_with_initiatives", "Services with one", "int"), ("initiative_names", "Names", "text"),
]
INITIATIVE_VIEW: list[Column] = [
    ("name", "Initiative", "text"), ("status", "Status", "text"), ("lead_organisation", "Lead", "text"),
    ("services", "Services", "int"), ("service_names", "Service names", "text"), ("lanes", "Lanes", "lane"),
    ("demand_touched", "Demand of its services", "number"),
]
LANE_TOTAL_VIEW: list[Column] = [
    ("lane", "Lane", "lane"), ("label", "Measure", "text"), ("unit", "Unit", "text"), ("kind", "Kind", "text"),
    ("display", "Over the period", "text"), ("services", "Services reporting it", "int"),
]
CHANGE_VIEW: list[Column] = [
    ("element", "What", "text"), ("change", "Change", "text"), ("attribute", "Attribute", "text"),
    ("name", "Name", "text"), ("before", "Before", "text"), ("after", "After", "text"),
    ("value_before", "Value before", "number"), ("value_after", "Value after", "number"),
    ("relative_change", "Change", "gap"), ("note", "Note", "text"),
]

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem;color:#222;max-width:110rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}
p.meta{color:#555;margin-top:0}table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .45rem;vertical-align:top}th{background:#f3f3f3;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}
.neg{color:#9c2a00}.pos{color:#1b5e20}nav a{margin-right:1rem}.note{color:#555;max-width:60rem}
"""


def write_table(folder: Path, name: str, frame: pd.DataFrame) -> list[Path]:
    """One table as Parquet and CSV; one type per column (mixed columns become text, missing is empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True).copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            kinds = {type(v) for v in frame[column] if not _missing(v)}
            as_text = len(kinds) > 1 or kinds <= {str}
            frame[column] = frame[column].map(lambda v, t=as_text: None if _missing(v) else str(v) if t else v)
            frame[column] = frame[column].astype("object")
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    frame.to_parquet(parquet, index=False)
    csv.write_text(csv_text(frame), encoding="utf-8")  # text that would run as a formula is quoted
    return [parquet, csv]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cell(value: object, kind: str, lanes: Mapping[str, str]) -> tuple[str, str]:
    """The escaped text of one cell and its CSS class."""
    if _missing(value):
        return "–", "n" if kind not in ("text", "lane") else ""
    if kind == "lane":
        return html.escape("; ".join(lanes.get(part, part) for part in str(value).split(";"))), ""
    if kind == "text":
        return html.escape(str(value).replace(";", "; ")), ""
    number = float(value)  # type: ignore[arg-type]
    if kind == "int":
        return f"{number:,.0f}", "n"
    if kind == "number":
        return (f"{number:,.0f}" if abs(number) >= 10 or number == int(number) else f"{number:,.2f}"), "n"
    if kind == "share":
        return f"{number:.1%}", "n"
    if kind == "gap":
        text = "∞" if math.isinf(number) else f"{number:+.1%}"
        return text, "n " + ("neg" if number < 0 else "pos" if number > 0 else "")
    return f"{number:.3f}", "n"


def html_table(frame: pd.DataFrame, view: Sequence[Column], lanes: Mapping[str, str], limit: int | None = None) -> str:
    """An HTML table of the view's columns; every value escaped."""
    shown = [c for c in view if c[0] in frame.columns]
    head = "".join(f"<th>{html.escape(header)}</th>" for _, header, _ in shown)
    rows = []
    for record in frame.head(limit).to_dict("records") if limit else frame.to_dict("records"):
        cells = []
        for column, _, kind in shown:
            text, css = _cell(record[column], kind, lanes)
            cells.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        return '<p class="note">None.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _parameter(tables: Mapping[str, pd.DataFrame], name: str, default: str) -> str:
    frame = tables.get("parameters")
    if frame is None or name not in set(frame["parameter"]):
        return default
    return str(frame.loc[frame["parameter"] == name, "value"].iloc[0])


def _comparison_note(comparison: pd.DataFrame | None, before: str, after: str) -> str:
    """Both versions' periods, config digests and sources, and what differs (escaped), as sentences."""
    if comparison is None:
        return ""
    rows = comparison.set_index("aspect")
    sentences = [f"{before} covers {rows.loc['period', 'before']}; {after} covers {rows.loc['period', 'after']} "
                 f"({rows.loc['period', 'note']})."]
    for aspect, label in (("config_digest", "Config"), ("sources", "Sources")):
        sentences.append(f"{label}: {str(rows.loc[aspect, 'before'])[:12]} → {str(rows.loc[aspect, 'after'])[:12]} "
                         f"({rows.loc[aspect, 'note']}).")
    return html.escape(" ".join(sentences)) + " "


def analysis_page(version: PublishedVersion) -> str:
    """The self-contained page `analysis/index.html` (inline CSS, no scripts, works offline)."""
    tables = version.analyses
    lanes = {lane.id: lane.label for lane in version.lanes}
    title = f"{version.title}: a planner's view"
    empty = pd.DataFrame()
    loops = tables.get("loops", empty)
    changes = tables.get("changes")
    loop_cap = _parameter(tables, "loop_length_cap", "?")
    catalogue = catalogue_of(version.tables.get("measures"))
    demand_measures = html.escape(", ".join(catalogue.demand))
    demand_unit = html.escape(catalogue.demand_unit)
    demand_note = (f"Arrivals are the activity in the demand measures ({demand_measures}); flows count in "
                   f"{demand_unit}. No figure here adds measures of different units: every measure's own total "
                   "is under Totals by lane and measure, and in service_totals.csv.")
    threshold = _parameter(tables, "change_threshold", "0.1")
    sections = [
        ("key-services", "Key services", (
            "Every service with the flow in and out of it. Imbalance is (in − out) / (in + out): 1 only receives, "
            "−1 only sends. Betweenness is the share of shortest routes between other services that pass through "
            "it: by volume, routes follow the largest flows (distance 1/volume); by steps, the fewest hops. "
            "Delayed bed days show where the data reports the measure delayed_bed_days. Activity by measure gives "
            f"each measure's figure over the period, never added to another. {demand_note}"),
         html_table(tables.get("key_services", empty), KEY_SERVICE_VIEW, lanes)),
        ("loops", "Loops", (
            f"{len(loops):,} cycles of up to {html.escape(loop_cap)} services in the flows (for example return "
            "loops). The smallest flow on a loop is the most demand that can have gone all the way round. "
            + (f"The {LOOPS_SHOWN} with the largest smallest flow are shown; loops.csv lists all."
               if len(loops) > LOOPS_SHOWN else "")),
         html_table(loops, LOOP_VIEW, lanes, LOOPS_SHOWN)),
        ("lanes", "Lanes", (
            f"Demand is the lane's arrivals (activity in {demand_measures}) plus the flow into its services, all "
            f"in {demand_unit}: the only measures this page adds. Every measure's own total is under Totals by "
            "lane and measure, and in service_totals.csv."),
         html_table(tables.get("lane_summary", empty), LANE_VIEW, lanes)),
        ("coverage", "Initiative coverage", (
            "Each lane's share of demand beside its share of initiative links (one link per initiative and "
            "service it touches). Gap = share of initiative links − share of demand: negative where a lane "
            f"carries more of the demand than of the improvement work. Demand: arrivals ({demand_measures}) plus "
            f"inflow, in {demand_unit}."),
         html_table(tables.get("coverage", empty), COVERAGE_VIEW, lanes)),
        ("initiatives", "Initiatives", "The improvement work on the map and the services it touches; demand of "
         f"its services in {demand_unit}.",
         html_table(tables.get("initiatives", empty), INITIATIVE_VIEW, lanes)),
        ("lane-totals", "Totals by lane and measure", (
            "Each measure over the map period, per lane, as its kind says: counts summed over months and services, "
            "stocks (such as caseload) the mean or last month summed over services, averages not added over "
            "services, percentages recomputed from their numerator and denominator. A count with suppressed "
            "months reads ≥ the sum of its published cells. Per service: service_totals.csv."),
         html_table(tables.get("lane_totals", empty), LANE_TOTAL_VIEW, lanes)),
        ("changes", "Changes since the previous version", (
            "This is the first version." if version.previous is None or changes is None else
            _comparison_note(tables.get("comparison"), version.previous.name, version.version_id)
            + f"Against {html.escape(version.previous.name)}: services added, removed, renamed, moved lane or gone "
            f"with their source; flows and activity per measure that changed by more than {float(threshold):.0%}, "
            "or whose suppressed months changed (not growth). See also CHANGELOG.md."),
         "" if changes is None else html_table(changes, CHANGE_VIEW, lanes)),
    ]
    nav = "".join(f'<a href="#{anchor}">{html.escape(heading)}</a>' for anchor, heading, _, _ in sections)
    body = "".join(f'<h2 id="{anchor}">{html.escape(heading)}</h2><p class="note">{note}</p>{table}'
                   for anchor, heading, note, table in sections)
    meta = html.escape(f"{version.area_label} · {version.population} · {version.period_label} · "
                       f"version {version.version_id}")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">{meta}</p>"
        '<p class="note">Descriptive arithmetic on the map\'s data for the period: what the data shows, not a '
        "forecast. Tables as CSV and Parquet sit beside this page. "
        '<a href="../diagrams/poster.svg">The poster</a> · <a href="../CHANGELOG.md">Changelog</a></p>'
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def analysis_artefact(version: PublishedVersion) -> list[Path]:
    """`analysis/`: each analysis table as Parquet and CSV, and `index.html`."""
    folder = version.folder / FOLDER
    written: list[Path] = []
    for name in [*TABLE_ORDER, *sorted(set(version.analyses) - set(TABLE_ORDER))]:
        if name in version.analyses:
            written += write_table(folder, name, version.analyses[name])
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(analysis_page(version), encoding="utf-8")
    return [*written, page]
