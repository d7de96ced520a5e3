"""Laying out, finishing and drawing the poster, and the poster of a version: laid out once within a time budget
(started early, in a thread, while other artefacts are written) and shared with the interactive map and the
exports."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from pygraphviz import graphviz as gv

from outputs.context import ArtefactWriter, LaneStyle, PosterOptions, PublishedVersion
from outputs.layout import Candidate, budgeted_layout, draw_in_worker, laid_out_dot, shape_of, with_layout
from outputs.poster.dot import METHOD_DOT, METHOD_FALLBACK, METHOD_LINES, poster_lanes, poster_sources
from outputs.poster.finish import finish
from outputs.poster.gaps import version_gaps
from outputs.poster.geometry import PosterLayout, lane_clusters
from outputs.poster.selection import flow_selection, withheld_flows
from outputs.poster.values import (
    LINE_EDGES_FROM,
    PNG_BUSY_FLOWS,
    PNG_BUSY_LONG_SIDE_PIXELS,
    PNG_LONG_SIDE_PIXELS,
    POSTER_FORMATS,
    PosterInfo,
    Suppressions,
    page_inches,
    suppressions,
)


@dataclass(frozen=True)
class PosterResult:
    paths: list[Path]
    method: str
    seconds: dict[str, float]  # layout, then one entry per format



def poster_layout(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo,
                  options: PosterOptions | None = None, suppressed: Suppressions | None = None,
                  subtitle: str = "", highlight: Collection[str] = (), store: Path | None = None,
                  needed: threading.Event | None = None) -> PosterLayout:
    """Lay the poster out within `options.layout_seconds`: the full `dot` layout if it finishes in time, else
    `dot` with straight flows, else a fallback that places services by lane (fast at any size) and draws flows
    as direct curves. What is laid out is the poster's shape (outputs/layout.py `shape_of`): the same graph and
    options, or numbers alone changed, give the same layout (remembered for the interactive map, and kept in the
    folder `store`, if given, for the next version). `needed`: set once the caller waits for the layout (see
    `budgeted_layout`)."""
    options = options or PosterOptions()
    suppressed = suppressed or Suppressions()
    started = time.monotonic()
    selection = flow_selection(graph, options)
    methods = [METHOD_DOT] + ([METHOD_LINES] if len(selection.shown) >= LINE_EDGES_FROM else [])

    def source(method: str) -> str:  # a method not among `methods`: the fallback's, made only if needed
        return poster_sources(graph, lanes, info, options, suppressed, (method,), subtitle, highlight,
                              selection)[method]

    sources = poster_sources(graph, lanes, info, options, suppressed, methods, subtitle, highlight, selection)
    shapes = [Candidate(m, shape_of(text)) for m, text in sources.items()]

    def fallback() -> Candidate:
        sources[METHOD_FALLBACK] = source(METHOD_FALLBACK)
        return Candidate(METHOD_FALLBACK, laid_out_dot(shape_of(sources[METHOD_FALLBACK])))

    found = budgeted_layout(shapes, options.layout_seconds, fallback, store, needed=needed)
    method, laid = found.candidate or METHOD_FALLBACK, found.laid_out or fallback().source
    agraph = with_layout(sources.get(method) or source(method), laid)
    withheld = withheld_flows(graph, suppressed)
    dashed = withheld if options.min_flow_share == 0 else []
    lane_colours = {lane.id: lane.colour for lane in poster_lanes(graph, lanes)}
    width, height, unplaced = finish(agraph, graph, selection, dashed, method, options, lane_colours)
    lane_ids = {c.name: str(c.graph_attr.get("lane_id") or "") for c in lane_clusters(agraph)}
    return PosterLayout(agraph, method, time.monotonic() - started, selection, withheld, bool(dashed), width,
                        height, lane_ids, agraph.to_string(), unplaced)


def drawing_attributes(layout: PosterLayout, fmt: str, options: PosterOptions) -> dict[str, str]:
    """The graph attributes of a drawing in `fmt`: its resolution (a PNG ~3,300 pixels on the long side), and no
    printer's margin (the PDF page is the poster's page)."""
    pixels = PNG_LONG_SIDE_PIXELS if len(layout.selection.shown) <= PNG_BUSY_FLOWS else PNG_BUSY_LONG_SIDE_PIXELS
    return {"dpi": str(round(pixels / max(page_inches(options)))) if fmt == "png" else "72", "margin": "0"}


def draw_poster(layout: PosterLayout, path: Path, fmt: str, options: PosterOptions | None = None) -> Path:
    """Draw a laid-out poster in one format: svg, pdf (page size) or png."""
    return draw_posters(layout, {fmt: path}, options)[0]


def draw_posters(layout: PosterLayout, paths: Mapping[str, Path], options: PosterOptions | None = None) -> list[Path]:
    """Draw a laid-out poster in each format to its path. Graphviz places a laid-out graph again for each drawing
    (0.4 s at 2,000 services): formats drawn alike (all but the PNG) share one placing."""
    options = options or PosterOptions()
    agraph = layout.agraph
    by_attributes: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for fmt in paths:
        by_attributes.setdefault(tuple(sorted(drawing_attributes(layout, fmt, options).items())), []).append(fmt)
    for attributes, formats in by_attributes.items():
        agraph.graph_attr.update(dict(attributes))
        context = gv.gvContextWithBuiltins()
        try:
            if gv.gvLayout(context, agraph.handle, b"nop2"):  # nop2: the positions and curves it has
                raise ValueError(f"Graphviz could not place the laid-out poster for {', '.join(formats)}")
            try:
                for fmt in formats:
                    with paths[fmt].open("wb") as handle:
                        failed = gv.gvRender(context, agraph.handle, fmt.encode(), handle)
                    if failed:
                        paths[fmt].unlink()
                        raise ValueError(f"{paths[fmt]}: Graphviz could not draw the poster as {fmt}")
            finally:
                gv.gvFreeLayout(context, agraph.handle)
        finally:
            gv.gvFreeContext(context)
    return list(paths.values())


def render_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                  formats: Iterable[str] = POSTER_FORMATS, options: PosterOptions | None = None,
                  suppressed: Suppressions | None = None, stem: str = "poster", subtitle: str = "",
                  highlight: Collection[str] = ()) -> PosterResult:
    """Lay out once and write `<stem>.<format>` for each format, timing each step. `highlight`: services drawn
    with a red border (e.g. the centre of an ego view)."""
    folder.mkdir(parents=True, exist_ok=True)
    options = options or PosterOptions()
    layout = poster_layout(graph, lanes, info, options, suppressed, subtitle, highlight)
    seconds = {"layout": layout.seconds}
    paths = []
    for fmt in formats:
        started = time.monotonic()
        paths.append(draw_poster(layout, folder / f"{stem}.{fmt}", fmt, options))
        seconds[fmt] = time.monotonic() - started
    return PosterResult(paths, layout.method, seconds)


def write_poster(graph: nx.DiGraph, lanes: Sequence[LaneStyle], info: PosterInfo, folder: Path,
                 formats: Sequence[str] = ("svg",), options: PosterOptions | None = None,
                 suppressed: Suppressions | None = None, stem: str = "poster", subtitle: str = "") -> list[Path]:
    """Lay out once and write the poster in each format; returns the paths written."""
    return render_poster(graph, lanes, info, folder, formats, options, suppressed, stem, subtitle).paths


def poster_info(version: PublishedVersion) -> PosterInfo:
    """What a version's poster says about itself, its data gaps included."""
    memo = _version_memo(version)
    if "info" in memo:
        return memo["info"]
    licences = [str(item.get("title") or item.get("name")) for item in version.licences
                if item.get("title") or item.get("name")]
    memo["info"] = PosterInfo(
        title=version.title, area=version.area_label, population=version.population,
        period=version.period_label, version=version.version_id, partners=list(version.partners.values()),
        attributions=list(version.attributions), sector_colours=version.sector_colours, licences=licences,
        gaps=version_gaps(version),
    )
    return memo["info"]


def version_suppressions(version: PublishedVersion) -> Suppressions:
    memo = _version_memo(version)
    if "suppressions" not in memo:
        memo["suppressions"] = suppressions(version.tables.get("activity"), version.tables.get("flows"))
    return memo["suppressions"]


def start_layout(version: PublishedVersion) -> Future[PosterLayout]:
    """Begin laying out the version's whole-map poster in a thread, once. The layout mostly waits: on Graphviz
    workers (other processes) and, for a big map, on its time budget; so the writers before the poster go on
    meanwhile instead of waiting with it, and its cheapest candidate may go on past the budget until a writer
    waits for it (`version_layout`)."""
    memo = _version_memo(version)
    with _LAYOUT_LOCK:
        if "layout" not in memo:
            future: Future[PosterLayout] = Future()
            needed = memo["layout_needed"] = threading.Event()

            def lay_out() -> None:
                try:
                    future.set_result(poster_layout(version.graph, version.lanes, poster_info(version),
                                                    version.poster, version_suppressions(version),
                                                    store=version.layouts, needed=needed))
                except BaseException as error:  # handed to whoever waits for the layout
                    future.set_exception(error)

            memo["layout"] = future
            threading.Thread(target=lay_out, name="poster-layout", daemon=True).start()
    return memo["layout"]


def write_laid_out(write: ArtefactWriter, version: PublishedVersion, layout: PosterLayout | None) -> list[Path]:
    """`write(version)` with the version's poster layout made elsewhere (a writer run in another process, where
    the version arrives without it); None: laid out here if the writer needs it."""
    if layout is not None:
        done: Future[PosterLayout] = Future()
        done.set_result(layout)
        with _LAYOUT_LOCK:
            _version_memo(version)["layout"] = done
    return write(version)


def version_layout(version: PublishedVersion) -> PosterLayout:
    """The whole-map poster's layout of a version: laid out and finished once for the poster, the interactive map
    and the exports (each used to parse and finish the laid-out graph again). Waited for from here on."""
    future = start_layout(version)
    layout_needed(version)
    return future.result()


def layout_needed(version: PublishedVersion) -> None:
    """Tell the version's layout, if started here, that a writer waits for it: its cheapest candidate's grace
    ends (see `budgeted_layout`)."""
    if needed := _version_memo(version).get("layout_needed"):  # none where the layout was handed over whole
        needed.set()


_LAYOUT_LOCK = threading.Lock()
_VERSION_MEMOS: dict[int, dict[str, Any]] = {}


def _version_memo(version: PublishedVersion) -> dict[str, Any]:
    """What the writers of one version share; forgotten when the version object is."""
    key = id(version)
    if key not in _VERSION_MEMOS:
        _VERSION_MEMOS[key] = {}
        weakref.finalize(version, _VERSION_MEMOS.pop, key, None)
    return _VERSION_MEMOS[key]


def poster_artefact(version: PublishedVersion) -> list[Path]:
    """The whole-map poster of a version, in `diagrams/` as SVG and PDF (`poster_png_artefact` draws the PNG)."""
    folder = version.folder / "diagrams"
    folder.mkdir(parents=True, exist_ok=True)
    layout = version_layout(version)
    return draw_posters(layout, {fmt: folder / f"poster.{fmt}" for fmt in POSTER_FORMATS if fmt != "png"},
                        version.poster)


def poster_png_artefact(version: PublishedVersion) -> list[Path]:
    """The whole-map poster of a version as `diagrams/poster.png`, drawn from its layout's DOT text by a worker
    process: rasterising takes Graphviz about 0.5 s whatever the map's size, holding the GIL, so the publish writes
    the others meanwhile. It waits for the layout without asking for it (see `version_layout`)."""
    folder = version.folder / "diagrams"
    folder.mkdir(parents=True, exist_ok=True)
    layout = start_layout(version).result()
    attributes = drawing_attributes(layout, "png", version.poster)
    return [draw_in_worker(layout.source, folder / "poster.png", "png", attributes)]
