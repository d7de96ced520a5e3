"""The quality report inside each version, under `quality/`: `report.html` (one self-contained page a non-programmer
can read, offline: no script, no CDN), `report.json`, `rejects.parquet`, and the Great Expectations validation
results with their Data Docs site under `gx/`.

`PublishedVersion.quality` (and `report.json`, which is the same without `gx`) has this shape:

    schema            "ism-quality/2"  (2: per-source `measures` replace volume, volume_previous, volume_change;
                      change.volumes follow each measure's kind)
    map_id, title, period {start, end}, checked_at
    status            "green" | "amber" | "red": the worst of the sources and the consolidated checks
    thresholds        {max_reject_share, max_volume_change, outlier_ratio}  (the map's [quality] table)
    previous_version  the version compared against, or null
    sources           one entry per source, in config order:
        source_id, partner, kind, location, on_error
        status        ok | warn | stale (last good extract used) | missing (quarantined, none) | blocked
        rag           green (ok) | amber (warn, stale, or a warn check failed) | red (missing, blocked)
        rows_read, rows_accepted, rows_rejected, rows_clipped, reject_share (0..1)
        checks_failed [{code, severity, count}]: catalogue codes (expectations/checks.py), errors first
        stale         null, or {extracted_at, age_days, version_id, saved_at, rows}: the last good extract used
        error         why the source was blocked, or null
        measures      [{table, measure, label, unit, kind, volume, previous, display, previous_display, change,
                       change_display}]: its figure per measured table and measure, as in change.volumes below
                      (never one total adding unlike measures)
    checks            the consolidated suite (expectations/suite.py), one entry per expectation:
                      {code, severity, table, column, expectation, success, failed, checked, message,
                       samples [{column: value}], source_ids}
    rejects           {rows, files, warnings, top: [{check, severity, message, advice, count,
                       samples: [{source_id, location, row_number, column, value, message}]}]}
    change            {tables: {table: {rows, previous}}, volumes: [...]}: one entry per source x table (activity,
                      flows) x measure, its period figure following the measure's kind (transforms/totals.py
                      source_totals: counts summed; stocks mean or last month per service, summed over services;
                      averages day-weighted, not added over services (null), a one-service source keeps its own;
                      percentages and rates recomputed from numerator and denominator, else null):
                       source_id, table, measure, label, unit, kind
                       volume, previous     the figure now and in the previous version (null: none)
                       months, previous_months, suppressed_months, previous_suppressed_months
                                            months covered; the most months any one service (or flow) had suppressed
                       display, previous_display   what a person reads: "1,234", "≥ 117 (10 of 12 months with
                                            suppressed cells)", "75.6%", "per month only"
                       change               relative change (null where a figure or base is missing or zero, or the
                                            suppressed cells differ: the volume_change check skips those)
                       change_display       "+25%", "-100%", "suppression changed", "new", or "–"
    services          {service_id: [{code, severity, message}]}: flags for other writers (outlier_value,
                      source_stale) to show on the poster or the interactive map
    gx                {table: GX validation result JSON}  (PublishedVersion.quality only; written to gx/)
    disclosure, blocked_for_identifiers: added by the safe-to-publish guards (flows/safety.py), shown in the report
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.status import Rag, SourceStatus
from outputs.context import PublishedVersion
from outputs.json_text import json_text
from outputs.quality_text import reject_row, staleness
from outputs.store.versions import QUALITY_FOLDER

RAG_COLOURS: dict[str, str] = {Rag.GREEN: "#2e7d32", Rag.AMBER: "#c77700", Rag.RED: "#c62828"}
RAG_WORDS: dict[str, str] = {Rag.GREEN: "Green", Rag.AMBER: "Amber", Rag.RED: "Red"}
STATUS_WORDS: dict[str, str] = {
    SourceStatus.OK: "all rows taken",
    SourceStatus.WARN: "some rows rejected or flagged",
    SourceStatus.STALE: "new extract failed: last good extract used",
    SourceStatus.MISSING: "new extract failed: left out (no earlier good extract)",
    SourceStatus.BLOCKED: "new extract failed: nothing published",
}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or value is pd.NaT


def _e(value: Any) -> str:
    """Escaped text; a value that is not there (a whole-file problem has no column or value) is a dash."""
    return "–" if _missing(value) else html.escape(str(value), quote=True)


def _n(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{value:,.0f}" if isinstance(value, int | float) else _e(value)


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{value:+.0%}" if isinstance(value, float) else _e(value)


def _badge(rag: str) -> str:
    colour = RAG_COLOURS.get(rag, "#555555")
    return f'<span class="badge" style="background:{colour}">{_e(RAG_WORDS.get(rag, rag))}</span>'


def bar_chart(title: str, bars: Sequence[tuple[str, float, float | None, str]], unit: str = "",
              texts: Sequence[str] | None = None, previous_texts: Sequence[str] | None = None) -> str:
    """An inline SVG horizontal bar chart: (label, value, previous value or None, colour) per bar. The previous
    value, when given, is a thin grey bar under the current one. `texts` and `previous_texts`: what each bar and
    its previous bar read (default: the value rounded, with `unit`)."""
    if not bars:
        return f"<p><em>{_e(title)}: nothing to show.</em></p>"
    label_width, bar_width, row, top = 230, 380, 26, 28
    largest = max([b[1] for b in bars] + [b[2] or 0 for b in bars]) or 1.0
    height = top + row * len(bars) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_width + bar_width + 110}" '
             f'height="{height}" aria-label="{_e(title)}" font-family="sans-serif" font-size="12">',
             f'<title>{_e(title)}</title><text x="0" y="16" font-weight="bold">{_e(title)}</text>']
    for index, (label, value, previous, colour) in enumerate(bars):
        y = top + index * row
        width = max(1.0, bar_width * value / largest) if value else 0.0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>')
        text = _e(texts[index]) if texts and texts[index] else f"{_n(value)}{_e(unit)}"
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{width:.1f}" height="14" fill="{_e(colour)}">'
                     f'<title>{_e(label)}: {text}</title></rect>')
        if previous is not None:
            before = max(1.0, bar_width * previous / largest) if previous else 0.0
            before_text = (_e(previous_texts[index]) if previous_texts and previous_texts[index]
                           else f"{_n(previous)}{_e(unit)}")
            parts.append(f'<rect x="{label_width}" y="{y + 18}" width="{before:.1f}" height="4" fill="#9e9e9e">'
                         f'<title>{_e(label)} in the previous version: {before_text}</title></rect>')
        shown = _e(texts[index]) if texts and texts[index] else _n(value)
        parts.append(f'<text x="{label_width + width + 6:.1f}" y="{y + 13}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (),
           widths: Sequence[int] = ()) -> str:
    """An HTML table; cells are already escaped HTML. `widths`: each column's share of the page, in percent."""
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    head = cols + "".join(f'<th{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>'
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _checks_cell(failed: Sequence[Mapping[str, Any]]) -> str:
    if not failed:
        return "none"
    return "<br>".join(f'<span class="{_e(f["severity"])}">{_e(f["code"])}</span> × {_n(f["count"])}'
                       for f in failed)


RAG_ORDER: dict[str, int] = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


def partner_groups(quality: Mapping[str, Any]) -> list[tuple[str, str, list[Mapping[str, Any]]]]:
    """(partner name, worst rag, its sources worst first) per partner, worst partner first, then by name; sources
    of the same rag keep config order."""
    names = quality.get("partners") or {}
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for s in quality.get("sources", []):
        grouped.setdefault(str(s.get("partner")), []).append(s)
    groups = []
    for partner, sources in grouped.items():
        ordered = sorted(sources, key=lambda s: RAG_ORDER.get(str(s["rag"]), 0))
        groups.append((str(names.get(partner) or partner), str(ordered[0]["rag"]), ordered))
    return sorted(groups, key=lambda g: (RAG_ORDER.get(g[1], 0), g[0].casefold()))


def _sources_section(quality: Mapping[str, Any]) -> str:
    parts = ["<h2>Partners and their sources</h2><p class=why>Worst first. Rows: read / accepted / rejected.</p>"]
    for name, rag, sources in partner_groups(quality):
        rows = []
        for s in sources:
            explain = STATUS_WORDS.get(s["status"], s["status"])
            error = f'<div class="why">{_e(s["error"])}</div>' if s.get("error") else ""
            rows.append([
                _badge(s["rag"]),
                f'<b>{_e(s["source_id"])}</b><div class="why">{_e(s.get("location"))}</div>',
                f"{_e(explain)}{error}",
                f'{_n(s.get("rows_read"))} / {_n(s.get("rows_accepted"))} / {_n(s.get("rows_rejected"))} '
                f'<span class="why">({(s.get("reject_share") or 0):.1%})</span>'
                + (f'<div class="why">{_n(s.get("rows_filtered"))} filtered by design</div>'
                   if s.get("rows_filtered") else ""),
                _checks_cell(s.get("checks_failed", [])),
                f'{html.escape(staleness(s), quote=False)}<div class="why">on error: {_e(s.get("on_error"))}</div>',
            ])
        parts.append(f"<h3>{_badge(rag)} {_e(name)}</h3>" + _table(
            ["Status", "Source", "What happened", "Rows", "Checks failed", "Data used"], rows, numeric=(3,),
            widths=(8, 22, 30, 14, 14, 12)))
    return "".join(parts)


def _causes_section(quality: Mapping[str, Any]) -> str:
    """What stopped the map, root causes first: map-level errors, then each blocked source the rejects of other
    sources follow from."""
    map_errors, causes = quality.get("map_errors") or [], quality.get("root_causes") or []
    if not map_errors and not causes:
        return ""
    parts = ["<h2>Root causes</h2>"]
    parts += [f'<p class="error">{_e(error)}</p>' for error in map_errors]
    for cause in causes:
        followers = ", ".join(f"{_e(sid)} ({_n(n)})" for sid, n in cause["sources"].items())
        parts.append(
            f'<p><span class="error">{_e(", ".join(cause["source_ids"]))} blocked</span> → {_n(cause["rows"])} '
            f'<code>{_e(cause["check"])}</code> in {len(cause["sources"])} source(s): {followers}. '
            "Those rows name services the blocked source would have listed: fix it first.</p>"
            + "".join(f'<p class="why">{_e(error)}</p>' for error in cause.get("errors", [])))
    return "".join(parts)


Chart = tuple[str, list[tuple[str, float, float | None, str]], list[str], list[str]]


def measure_charts(quality: Mapping[str, Any]) -> list[Chart]:
    """(title, bars, texts, previous texts) of one chart per measured table and measure: a bar per source with a
    figure in it, now and before (thin grey), each read as its display string. Never one bar adding unlike
    measures."""
    charts: dict[tuple[str, str], Chart] = {}
    for s in quality.get("sources", []):
        for m in s.get("measures") or []:
            if m.get("volume") is None and m.get("previous") is None:
                continue  # no period figure (an average over services, a ratio per month only)
            title = f"{m.get('label') or m['measure']} ({m.get('unit')}), {m['table']}, per source"
            _, bars, texts, before = charts.setdefault((str(m["table"]), str(m["measure"])), (title, [], [], []))
            bars.append((str(s["source_id"]), float(m.get("volume") or 0.0), m.get("previous"),
                         RAG_COLOURS.get(s["rag"], "#555555")))
            texts.append(str(m.get("display") or ""))
            before.append(str(m.get("previous_display") or ""))
    return [charts[key] for key in sorted(charts)]


def _charts_section(quality: Mapping[str, Any]) -> str:
    sources = quality.get("sources", [])
    rejects = [(s["source_id"], float(s.get("rows_rejected") or 0), None, "#c62828") for s in sources]
    charts = "".join(bar_chart(title, bars, texts=texts, previous_texts=before)
                     for title, bars, texts, before in measure_charts(quality))
    return ("<h2>Volumes and rejects per source</h2><p>One chart per measure: each source's figure in the map "
            "period as the measure's kind makes it (counts summed, stocks and averages over months, percentages "
            "recomputed), never added across measures; the thin grey bar is the previous version.</p>"
            + (charts or "<p><em>No measure has a figure to show.</em></p>")
            + bar_chart("Rows rejected per source", rejects, " rows"))


def _change_section(quality: Mapping[str, Any]) -> str:
    change = quality.get("change", {})
    previous = quality.get("previous_version")
    intro = (f"<p>Compared with version {_e(previous)}. Each figure follows its measure's kind (counts summed, "
             "stocks and averages over months, percentages recomputed); a change where the suppressed cells "
             f"differ says so instead of a percentage. Changes beyond ±"
             f"{quality.get('thresholds', {}).get('max_volume_change', 0):.0%} are highlighted.</p>"
             if previous else "<p>This is the map's first version: nothing to compare with.</p>")
    tables = [[_e(t), _n(c.get("rows")), _n(c.get("previous"))] for t, c in change.get("tables", {}).items()]
    limit = quality.get("thresholds", {}).get("max_volume_change", float("inf"))
    volume_rows = []
    for v in change.get("volumes", []):
        moved = v.get("change")
        flagged = isinstance(moved, float) and abs(moved) > limit
        cell = f'<span class="{"warn" if flagged else ""}">{_e(v.get("change_display") or _pct(moved))}</span>'
        measure = f'{_e(v.get("label") or v["measure"])} <span class="why">({_e(v.get("unit"))})</span>'
        volume_rows.append([_e(v["source_id"]), _e(v["table"]), measure, _e(v.get("display")),
                            _e(v.get("previous_display")), cell])
    return ("<h2>Change against the previous version</h2>" + intro
            + _table(["Table", "Rows now", "Rows before"], tables, numeric=(1, 2))
            + (_table(["Source", "Table", "Measure", "Now", "Before", "Change"], volume_rows,
                      numeric=(3, 4, 5)) if volume_rows else ""))


def _samples(samples: Sequence[Mapping[str, Any]]) -> str:
    if not samples:
        return ""
    columns = list(dict.fromkeys(k for s in samples for k in s))
    return _table(columns, [[_e(s.get(c)) for c in columns] for s in samples])


def _checks_section(quality: Mapping[str, Any]) -> str:
    rows = []
    for c in sorted(quality.get("checks", []), key=lambda c: (c["success"], c["severity"] != "error")):
        verdict = "passed" if c["success"] else f'<span class="{_e(c["severity"])}">failed</span>'
        rows.append([verdict, _e(c["code"]), _e(c["severity"]), _e(c["table"]), _e(c["message"]),
                     _samples(c.get("samples", [])) if not c["success"] else ""])
    return ("<h2>Checks on the consolidated map</h2><p>Great Expectations suite (full results in "
            '<a href="gx/index.html">gx/</a>; that site loads its styling from the internet).</p>'
            + _table(["Result", "Check", "Severity", "Table", "What it checks", "Failing rows (sample)"], rows))


def _rejects_section(quality: Mapping[str, Any]) -> str:
    rejects = quality.get("rejects", {})
    parts = [f"<h2>Top reasons for rejection</h2><p>{_n(rejects.get('rows', 0))} rows rejected, "
             f"{_n(rejects.get('files', 0))} whole-file problems, {_n(rejects.get('warnings', 0))} warnings "
             '(rows kept). Every one is in <a href="rejects.parquet">rejects.parquet</a> and the version\'s '
             "rejects table.</p>"]
    if not rejects.get("top"):
        parts.append("<p>No row was rejected or flagged.</p>")
    for reason in rejects.get("top", []):
        samples = [[_e(s.get("source_id")), _e(s.get("location")), _e(reject_row(s.get("row_number"))),
                    _e(s.get("column")), f"<code>{_e(s.get('value'))}</code>", _e(s.get("message"))]
                   for s in reason.get("samples", [])]
        parts.append(
            f'<h3><span class="{_e(reason["severity"])}">{_e(reason["check"])}</span> × {_n(reason["count"])}: '
            f'{_e(reason["message"])}</h3><p class="why">{_e(reason.get("advice"))}</p>'
            + _table(["Source", "File", "Where", "Column", "Value", "Detail"], samples))
    return "".join(parts)


def _safety_section(quality: Mapping[str, Any]) -> str:
    disclosure = quality.get("disclosure")
    blocked = quality.get("blocked_for_identifiers") or []
    if not disclosure and not blocked:
        return ""
    parts = ["<h2>Safe to publish</h2>"]
    if disclosure:
        if disclosure.get("warning"):
            parts.append(f'<p class="error">{_e(disclosure["warning"])}</p>')
        parts.append(f"<p>Small numbers: {_e(disclosure.get('rule'))}; {_n(disclosure.get('suppressed_cells'))} "
                     f"cells suppressed, {_n(disclosure.get('secondary_cells'))} more so that totals give none "
                     f"away, {_n(disclosure.get('partner_suppressed_cells'))} already suppressed by partners.</p>")
    for source in blocked:
        parts.append(f'<p><span class="error">{_e(source.get("source_id"))}</span> was refused for personal '
                     f'identifiers in column(s) {_e(", ".join(map(str, source.get("columns", []))))}.</p>')
    return "".join(parts)


def _flags_section(quality: Mapping[str, Any], services: pd.DataFrame | None) -> str:
    flags = quality.get("services", {})
    if not flags:
        return ""
    names = {}
    if services is not None and not services.empty:
        names = dict(zip(services["service_id"], services["name"], strict=True))
    rows = [[_e(names.get(sid, sid)), f"<code>{_e(sid)}</code>",
             "<br>".join(f'<span class="{_e(f["severity"])}">{_e(f["code"])}</span>: {_e(f["message"])}'
                         for f in found)]
            for sid, found in flags.items()]
    return "<h2>Services to read with care</h2>" + _table(["Service", "Id", "Flags"], rows)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em;line-height:1.4}
h1{margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.9em;max-width:100%;table-layout:fixed;width:100%}
th,td{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f4f4f4} td.num,th.num{text-align:right;white-space:nowrap}
.badge{color:#fff;border-radius:1em;padding:.1em .7em;font-weight:bold;font-size:.9em;white-space:nowrap}
.why{color:#666;font-size:.85em} .error{color:#c62828;font-weight:bold} .warn{color:#c77700;font-weight:bold}
code{background:#f6f6f6;padding:0 .2em;overflow-wrap:anywhere} svg{display:block;margin:.5em 0 1em;max-width:100%}
p,h3,div{overflow-wrap:anywhere}
"""


def report_html(quality: Mapping[str, Any], services: pd.DataFrame | None = None) -> str:
    """The report page: self-contained (inline CSS and SVG, no script), every datum escaped."""
    sources = quality.get("sources", [])
    counted = {rag: sum(1 for s in sources if s["rag"] == rag) for rag in Rag}
    read = sum(int(s.get("rows_read") or 0) for s in sources)
    rejected = sum(int(s.get("rows_rejected") or 0) for s in sources)
    period = quality.get("period", {})
    version = quality.get("version_id") or "not published (validate)"
    summary = (f"{len(sources)} sources: {counted[Rag.GREEN]} green, {counted[Rag.AMBER]} amber, "
               f"{counted[Rag.RED]} red. "
               f"{rejected:,} of {read:,} rows rejected.")
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Quality report: {_e(quality.get('title'))} {_e(version)}</title><style>{CSS}</style></head><body>",
        f"<h1>Quality report {_badge(quality.get('status', 'red'))}</h1>",
        f"<p><b>{_e(quality.get('title'))}</b> ({_e(quality.get('map_id'))}), version {_e(version)}, "
        f"period {_e(period.get('start'))} to {_e(period.get('end'))}; checked {_e(quality.get('checked_at'))}.</p>",
        f"<p>{_e(summary)} Green: all rows taken. Amber: some rows rejected or flagged, or the last good extract "
        "used. Red: the source is not in this map.</p>",
        _causes_section(quality), _sources_section(quality),
        _charts_section(quality), _rejects_section(quality), _change_section(quality),
        _checks_section(quality), _flags_section(quality, services), _safety_section(quality),
        '<p class="why">Machine-readable: <a href="report.json">report.json</a>. Thresholds: '
        + ", ".join(f"{_e(k)} = {_e(v)}" for k, v in quality.get("thresholds", {}).items()) + ".</p>",
        "</body></html>\n",
    ])


def report_json(quality: Mapping[str, Any]) -> dict[str, Any]:
    """report.json: the quality summary without the raw GX results (those are in gx/)."""
    return {k: v for k, v in quality.items() if k != "gx"}


def write_gx_site(validations: Mapping[str, Mapping[str, Any]], folder: Path) -> list[Path]:
    """The GX validation results as JSON, and GX's Data Docs site built from them (GX's pages load CSS and JS from
    CDNs; ism's own report.html does not depend on them). Built in the GX worker process (expectations/worker.py),
    where GX is imported already."""
    from expectations.worker import in_worker

    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "validation_results.json"
    results.write_text(json_text(validations, indent=2, default=str) + "\n", encoding="utf-8")
    in_worker(_build_gx_site, dict(validations), folder)
    return [results, folder / "index.html"]


def _build_gx_site(validations: Mapping[str, Mapping[str, Any]], folder: Path) -> None:
    from expectations.suite import ephemeral_context

    context = ephemeral_context()
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context.add_data_docs_site(site_name="ism", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    schema = ExpectationSuiteValidationResultSchema()
    for table, document in validations.items():
        result = schema.load(dict(document))
        run_time = (document.get("meta", {}).get("run_id") or {}).get("run_time")
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=f"ism.{table}"),
            run_id=RunIdentifier(run_name="ism", run_time=run_time), batch_identifier=table)
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=["ism"])
    pages = "".join(page.read_text(encoding="utf-8") for page in folder.rglob("*.html"))
    for image in (folder / "static" / "images").glob("*"):
        if image.name not in pages:  # GX's tutorial animations: megabytes in every version, shown nowhere
            image.unlink()


def quality_artefact(version: PublishedVersion) -> list[Path]:
    """quality/report.html, report.json and rejects.parquet of the version being written (gx/: gx_site_artefact)."""
    if not version.quality:
        return []
    folder = version.folder / QUALITY_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    quality = {**version.quality, "version_id": version.version_id}
    written = [folder / "report.json", folder / "report.html"]
    written[0].write_text(json_text(report_json(quality), indent=2, default=str) + "\n", encoding="utf-8")
    written[1].write_text(report_html(quality, version.tables.get("services")), encoding="utf-8")
    rejects = version.tables.get("rejects")
    if rejects is not None:
        written.append(folder / "rejects.parquet")
        rejects.sort_values(["source_id", "row_number", "column", "check"], na_position="first",
                            kind="mergesort").to_parquet(written[-1], index=False)
    return written


def gx_site_artefact(version: PublishedVersion) -> list[Path]:
    """quality/gx/ of the version being written: the GX validation results and GX's Data Docs site."""
    validations = version.quality.get("gx")
    return write_gx_site(validations, version.folder / QUALITY_FOLDER / "gx") if validations else []

