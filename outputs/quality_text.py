"""A run's quality summary as text: the per-source rows and aligned table `ism validate` prints, and the Markdown
of the Prefect artifact. What a source's data is (this run's extract, its last good one, none) is worded once,
here, for these and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.status import Rag, SourceStatus

RAG_MARKS = {Rag.GREEN: "🟢 green", Rag.AMBER: "🟠 amber", Rag.RED: "🔴 red"}


def reject_row(row_number: Any) -> str:
    """Where a reject is, as a person reads it: row 0 stands for the whole file or its header (docs/dataset.md),
    no number for a reject bound to no row."""
    if row_number is None or row_number != row_number:  # None or NaN
        return "no row"
    return "the whole file" if int(row_number) == 0 else f"row {int(row_number)}"


def staleness(source: Mapping[str, Any]) -> str:
    """Which extract of a source the run used: its own, the last good one (when, how old, from which version),
    or none."""
    stale = source.get("stale")
    if source["status"] == SourceStatus.STALE and stale:
        age = stale.get("age_days")
        aged = f", {age:g} days old" if isinstance(age, int | float) else ""
        return (f"last good extract of {str(stale.get('extracted_at') or '?')[:10]}{aged} "
                f"(published in {stale.get('version_id')})")
    if source["status"] == SourceStatus.MISSING:
        return "left out: no earlier good extract"
    if source["status"] == SourceStatus.BLOCKED:
        return "blocked"
    return "this run's extract"


def source_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One plain row per source: what the CLI prints and the Prefect table artifact shows."""
    return [{
        "source": s["source_id"],
        "status": s["rag"],
        "detail": s["status"],
        "read": s["rows_read"],
        "accepted": s["rows_accepted"],
        "rejected": s["rows_rejected"],
        "filtered": s.get("rows_filtered", 0),  # left out by design (`where`, idle services): never rejects
        "reject_share": f"{s['reject_share']:.1%}",
        "checks_failed": " ".join(f"{c['code']}×{c['count']}" for c in s["checks_failed"]) or "-",
        "data": staleness(s),
    } for s in summary.get("sources", [])]


def source_table_text(summary: Mapping[str, Any]) -> str:
    """The per-source table as aligned text, then failed consolidated checks, one per line."""
    rows = source_rows(summary)
    headers = ["source", "status", "detail", "read", "accepted", "rejected", "share", "filtered", "data",
               "checks failed"]
    keys = ["source", "status", "detail", "read", "accepted", "rejected", "reject_share", "filtered", "data",
            "checks_failed"]
    cells = [headers] + [[f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k in keys] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = {3, 4, 5, 6, 7}
    lines = ["  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                               strict=True))).rstrip()
             for row in cells]
    for check in summary.get("checks", []):
        if not check["success"]:
            lines.append(f"{check['severity']}: {check['code']} ({check['table']}.{check['column']}): "
                         f"{check['message']}")
    lines.append(f"overall: {summary.get('status')}")
    return "\n".join(lines)


def markdown_summary(summary: Mapping[str, Any], version: str | None = None) -> str:
    """The run's quality in Markdown, for the Prefect UI."""
    period = summary.get("period", {})
    lines = [
        f"# Quality: {summary.get('title')} ({summary.get('map_id')})",
        "",
        f"**Overall: {RAG_MARKS.get(summary.get('status', ''), summary.get('status'))}** · period "
        f"{period.get('start')} to {period.get('end')} · {version or 'not published'}"
        + (f" · compared with {summary['previous_version']}" if summary.get("previous_version") else ""),
        "",
        "| source | status | detail | read | accepted | rejected | share | data | checks failed |",
        "|---|---|---|--:|--:|--:|--:|---|---|",
    ]
    for r in source_rows(summary):
        lines.append(f"| {r['source']} | {RAG_MARKS.get(r['status'], r['status'])} | {r['detail']} | {r['read']:,} "
                     f"| {r['accepted']:,} | {r['rejected']:,} | {r['reject_share']} | {r['data']} "
                     f"| {r['checks_failed']} |")
    failed = [c for c in summary.get("checks", []) if not c["success"]]
    if failed:
        lines += ["", "## Failed checks on the consolidated map", ""]
        lines += [f"- **{c['severity']}** `{c['code']}` ({c['table']}): {c['message']}" for c in failed]
    top = summary.get("rejects", {}).get("top", [])
    if top:
        lines += ["", "## Top reasons for rejection", ""]
        for reason in top:
            lines.append(f"- `{reason['check']}` × {reason['count']:,}: {reason['message']}")
            for s in reason["samples"][:3]:
                lines.append(f"  - {s['source_id']} {s['location']} {reject_row(s['row_number'])} "
                             f"column {s['column']}: `{s['value']}` ({s['message']})")
    return "\n".join(_markdown_safe(line) for line in lines)


def _markdown_safe(line: str) -> str:
    return line.replace("<", "&lt;").replace(">", "&gt;")
