"""The ISM poster: lanes as columns in the configured order and colours, each service a box coloured by its
sector with its activity per measure and its data-gap marks, the flows that keep the system connected coloured by
sending lane and the rest bundled lane to lane, a title, a legend and a footer naming what is left off, the data
partners, licences and attributions. Laid out by Graphviz `dot` within a time budget (outputs/layout.py), with
cheaper layouts when a dense map would stall it; the footer says which layout was used.

Modules: values (constants, labels' values), selection (which flows are drawn, bundles), gaps (data gaps),
dot (the DOT source), geometry (positions for other writers), finish (after the layout), render (the artefact)."""

from outputs.poster.dot import (
    METHOD_DOT,
    METHOD_FALLBACK,
    METHOD_LINES,
    lane_columns,
    method_note,
    poster_graph,
    poster_lanes,
    poster_source,
    service_label,
)
from outputs.poster.finish import label_points
from outputs.poster.gaps import DataGaps, ServiceGap, data_gaps, version_gaps
from outputs.poster.geometry import PosterLayout, direct_curve
from outputs.poster.render import (
    PosterResult,
    draw_poster,
    draw_posters,
    layout_needed,
    poster_artefact,
    poster_info,
    poster_layout,
    poster_png_artefact,
    render_poster,
    start_layout,
    version_layout,
    version_suppressions,
    write_laid_out,
    write_poster,
)
from outputs.poster.selection import Bundle, FlowSelection, flow_label, flow_scale, flow_selection, withheld_flows
from outputs.poster.values import (
    DEFAULT_SECTOR_COLOURS,
    LANE_WRAP,
    PAGES_INCHES,
    POSTER_FORMATS,
    PosterInfo,
    Suppressions,
    activity_lines,
    clean_text,
    flow_colour,
    flow_width,
    monthly_flows,
    name_lines,
    page_inches,
    sources_by_flow,
    suppressions,
    text_colour,
)

__all__ = [
    "DEFAULT_SECTOR_COLOURS", "LANE_WRAP", "METHOD_DOT", "METHOD_FALLBACK", "METHOD_LINES", "PAGES_INCHES",
    "POSTER_FORMATS", "Bundle", "DataGaps", "FlowSelection", "PosterInfo", "PosterLayout", "PosterResult",
    "ServiceGap", "Suppressions", "activity_lines", "clean_text", "data_gaps", "direct_curve", "draw_poster",
    "draw_posters", "flow_colour", "flow_label", "flow_scale", "flow_selection", "flow_width", "label_points",
    "lane_columns", "layout_needed", "method_note", "monthly_flows", "name_lines", "page_inches", "poster_artefact",
    "poster_graph", "poster_info", "poster_lanes", "poster_layout", "poster_png_artefact", "poster_source",
    "render_poster", "service_label", "sources_by_flow", "start_layout", "suppressions", "text_colour",
    "version_gaps", "version_layout", "version_suppressions", "withheld_flows", "write_laid_out", "write_poster",
]
