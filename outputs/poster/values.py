"""The poster's constants and the values its labels show: numbers, activity lines, suppressions, colours and the
page's size."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expectations.canonical import month_label
from outputs.context import PosterOptions
from outputs.poster.gaps import DataGaps

FONT = "DejaVu Sans"
POINTS_PER_INCH = 72.0
PAGES_INCHES: dict[str, tuple[float, float]] = {  # landscape: (width, height)
    "A0": (46.81, 33.11), "A1": (33.11, 23.39), "A2": (23.39, 16.54), "A3": (16.54, 11.69), "A4": (11.69, 8.27),
}
PNG_LONG_SIDE_PIXELS = 3300  # ~200 dpi at A3, ~100 dpi at A1: sharp on screen, printable at A3
PNG_BUSY_LONG_SIDE_PIXELS, PNG_BUSY_FLOWS = 2400, 400  # thick curves dominate PNG time: fewer pixels past 400 flows
POSTER_FORMATS = ("svg", "png", "pdf")

DEFAULT_SECTOR_COLOURS = {
    "nhs": "#cfe2f3", "local_authority": "#d9ead3", "third_sector": "#fff2cc", "independent": "#f4cccc",
    "national": "#d9d2e9", "housing": "#fce5cd", "other": "#eeeeee",
}
OTHER_LANE_COLOUR = "#bbbbbb"
FLOW_COLOUR = "#33333399"
FLOW_ALPHA = "b3"  # flows take their sending lane's colour, darkened, at 70 % opacity
SUPPRESSED_FLOW_COLOUR = "#666666"
HIGHLIGHT_COLOUR = "#d40000"
INITIATIVE_MARK = "★"
SUPPRESSED_TEXT = "c (suppressed)"

NAME_POINTS, ACTIVITY_POINTS, LANE_POINTS, TITLE_POINTS, FOOTER_POINTS, FLOW_LABEL_POINTS = 17, 13, 26, 48, 17, 14
NAME_WRAP, NAME_LINES, ACTIVITY_LINES, LANE_WRAP = 18, 4, 3, 15
MIN_FLOW_WIDTH, MAX_FLOW_WIDTH = 1.0, 12.0
# Rough size of one service box and its gaps (inches), to choose how many rows a lane column holds.
COLUMN_INCHES, ROW_INCHES, TITLE_FOOTER_INCHES = 3.8, 1.35, 5.0
LINE_EDGES_FROM = 150  # from this many drawn flows, a straight-flow layout races the full one

METHOD_DOT, METHOD_LINES, METHOD_FALLBACK = "dot", "dot, straight flows", "fallback"


@dataclass(frozen=True)
class PosterInfo:
    """What the poster says about itself: title, area, population lens, period, version, partners, licences."""

    title: str
    area: str
    population: str
    period: str
    version: str
    partners: Sequence[str] = ()
    attributions: Sequence[str] = ()
    sector_colours: dict[str, str] = field(default_factory=dict)
    licences: Sequence[str] = ()
    gaps: DataGaps = field(default_factory=DataGaps)  # sources missing or stale, services marked


@dataclass(frozen=True)
class Suppressions:
    """Values withheld for disclosure control (qualifier `c`): months per service and measure, and flows whose
    every value is withheld (they have no volume, so the graph has no edge for them)."""

    activity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # service -> measure -> months
    flows: Sequence[tuple[str, str]] = ()

# ---- values --------------------------------------------------------------------------------------------------


def number(value: float) -> str:
    return f"{value:,.0f}"


def clean_text(text: Any) -> str:
    """Text fit for a label: control characters (which XML forbids) become spaces."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", "" if text is None else str(text))


def escaped(text: Any) -> str:
    return html.escape(clean_text(text), quote=True)


def measure_text(measure: str) -> str:
    return measure.replace("_", " ")


def suppressions(activity: pd.DataFrame | None, flows: pd.DataFrame | None) -> Suppressions:
    """Where values are withheld (qualifier `c`) in the activity and flows tables."""
    by_service: dict[str, dict[str, int]] = {}
    if activity is not None and len(activity):
        withheld = activity[activity["value"].isna() & (activity["qualifier"] == "c")]
        for (sid, measure), months in withheld.groupby(["service_id", "measure"])["period_start"].nunique().items():
            by_service.setdefault(str(sid), {})[str(measure)] = int(months)
    pairs: list[tuple[str, str]] = []
    if flows is not None and len(flows):
        marks = pd.DataFrame({"from_service_id": flows["from_service_id"], "to_service_id": flows["to_service_id"],
                              "known": flows["value"].notna(),
                              "withheld": flows["qualifier"].eq("c").fillna(False).astype(bool)})
        per_pair = marks.groupby(["from_service_id", "to_service_id"])[["known", "withheld"]].any()
        pairs = sorted((str(u), str(v)) for u, v in per_pair.index[~per_pair["known"] & per_pair["withheld"]])
    return Suppressions(by_service, pairs)


def sources_by_flow(flows: pd.DataFrame | None) -> dict[tuple[str, str], set[str]]:
    """(from service, to service) -> the sources reporting that flow."""
    found: dict[tuple[str, str], set[str]] = {}
    if flows is None or not len(flows):
        return found
    triples = flows[["from_service_id", "to_service_id", "source_id"]].dropna(
        subset=["from_service_id", "to_service_id"]).drop_duplicates()
    for source, target, source_id in triples.itertuples(index=False, name=None):
        found.setdefault((str(source), str(target)), set()).add(str(source_id))
    return found


def monthly_flows(flows: pd.DataFrame | None) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """(from, to) -> month -> measure -> known volume: the month selector redraws flows from these."""
    found: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    if flows is None or not len(flows):
        return found
    known = flows[flows["value"].notna()]
    months = month_label(known["period_start"])
    keys = ["from_service_id", "to_service_id", "month", "measure"]
    totals = known.assign(month=months).groupby(keys)["value"].sum().reset_index()
    for source, target, month, measure, value in zip(*(totals[c].tolist() for c in [*keys, "value"]), strict=True):
        found.setdefault((str(source), str(target)), {}).setdefault(str(month), {})[str(measure)] = float(value)
    return found


def activity_lines(data: Mapping[str, Any], withheld: Mapping[str, int] | None = None) -> list[str]:
    """The activity of a service over the period, one line per measure, largest first, each figure as its
    measure's kind says (the node's `totals`, from transforms/totals.py): a figure missing suppressed months reads
    "referrals: ≥ 117 (10 of 12 months suppressed)", a measure whose every value is withheld is never shown as 0.
    A graph without totals (read back from an old version) shows its sums with `c (suppressed)` marks."""
    records = data.get("totals")
    if records is None:
        return _summed_lines(data, withheld or {})
    lines = []
    for record in sorted(records, key=lambda r: (r["value"] is None, -float(r["value"] or 0.0), str(r["measure"]))):
        name = measure_text(str(record["measure"]))
        if record["value"] is None or record["suppressed_months"]:
            lines.append(f"{name}: {record['display']}")
        else:
            lines.append(f"{record['display']} {name}")
    return lines


def _summed_lines(data: Mapping[str, Any], withheld: Mapping[str, int]) -> list[str]:
    known: dict[str, float] = dict(data.get("activity") or {})
    lines = []
    for measure, total in sorted(known.items(), key=lambda item: (-item[1], item[0])):
        extra = f" + {SUPPRESSED_TEXT}" if measure in withheld else ""
        lines.append(f"{number(total)} {measure_text(measure)}{extra}")
    lines += [f"{measure_text(m)}: {SUPPRESSED_TEXT}" for m in sorted(withheld) if m not in known]
    return lines


def flow_width(volume: float, max_volume: float) -> float:
    return MIN_FLOW_WIDTH + (MAX_FLOW_WIDTH - MIN_FLOW_WIDTH) * (volume / max_volume if max_volume else 0.0)


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on the fill colour."""
    red, green, blue = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#ffffff" if luminance < 0.5 else "#000000"


def page_inches(options: PosterOptions) -> tuple[float, float]:
    width, height = PAGES_INCHES[options.page]
    return (width, height) if options.orientation == "landscape" else (height, width)


def flow_colour(lane_colour: str) -> str:
    """The colour of flows sent from a lane: its colour darkened to read on any lane band, at 70 % opacity."""
    red, green, blue = (int(lane_colour[i:i + 2], 16) for i in (1, 3, 5))
    darker = (round(value * 0.62) for value in (red, green, blue))
    return "#" + "".join(f"{value:02x}" for value in darker) + FLOW_ALPHA


def name_lines(name: Any) -> list[str]:
    """A service name wrapped for its box: at most NAME_LINES lines, the last shortened with … if need be."""
    text = clean_text(name)
    lines = textwrap.wrap(text, NAME_WRAP) or [text]
    if len(lines) > NAME_LINES:
        rest = " ".join(lines[NAME_LINES - 1:])
        lines = [*lines[:NAME_LINES - 1], textwrap.shorten(rest, NAME_WRAP, placeholder="…")]
    return lines
