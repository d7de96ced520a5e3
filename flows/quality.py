"""Quality wiring of the flows: a blocked source's `on_error = "quarantine"` policy (its last good extract, marked
stale, or nothing, marked missing), the Prefect artifacts of a run's quality summary, and the per-source table that
`ism validate` prints."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from outputs.store.last_good import last_good

Outcome = TypeVar("Outcome")  # flows.refresh.SourceOutcome (not imported: refresh imports this module)

RAG_MARKS = {"green": "🟢 green", "amber": "🟠 amber", "red": "🔴 red"}
BLOCKING_STATUSES = ("blocked", "stale", "missing")  # the source's new extract failed an error-severity check


def artifact_key(map_id: str, what: str = "quality") -> str:
    """A Prefect artifact key: lowercase letters, digits and dashes only."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", f"ism-{what}-{map_id}".lower())).strip("-")


def quarantined(outcome: Outcome, map_folder: Path, work: Path) -> Outcome:
    """A blocked source under quarantine: its last good staged tables (copied into the run's work area so the
    run never reads the store while it may change), marked stale with their age; or nothing, marked missing."""
    source_id: str = outcome.source_id  # type: ignore[attr-defined]
    found = last_good(map_folder, source_id)
    if found is None:
        return replace(outcome, status="missing", staged={}, rows_accepted=0, stale=None)  # type: ignore[type-var]
    folder = work / "last_good" / source_id
    folder.mkdir(parents=True, exist_ok=True)
    staged = {}
    for table, path in found.tables.items():
        staged[table] = str(shutil.copyfile(path, folder / path.name))
    stale = {"extracted_at": found.extracted_at, "age_days": found.age_days(), "version_id": found.version_id,
             "saved_at": found.saved_at, "rows": found.rows, "sha256": found.provenance.get("sha256")}
    return replace(outcome, status="stale", staged=staged, rows_accepted=found.rows,  # type: ignore[type-var]
                   provenance=found.provenance, stale=stale)


def _staleness(source: Mapping[str, Any]) -> str:
    stale = source.get("stale")
    if source["status"] == "stale" and stale:
        age = stale.get("age_days")
        return f"last good {str(stale.get('extracted_at') or '?')[:10]}" + (f" ({age:g} d)" if age is not None else "")
    return {"missing": "missing", "blocked": "blocked"}.get(source["status"], "fresh")


def source_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One plain row per source: what the CLI prints and the Prefect table artifact shows."""
    return [{
        "source": s["source_id"],
        "status": s["rag"],
        "detail": s["status"],
        "read": s["rows_read"],
        "accepted": s["rows_accepted"],
        "rejected": s["rows_rejected"],
        "reject_share": f"{s['reject_share']:.1%}",
        "checks_failed": " ".join(f"{c['code']}×{c['count']}" for c in s["checks_failed"]) or "-",
        "data": _staleness(s),
    } for s in summary.get("sources", [])]


def source_table_text(summary: Mapping[str, Any]) -> str:
    """The per-source table as aligned text, then failed consolidated checks, one per line."""
    rows = source_rows(summary)
    headers = ["source", "status", "detail", "read", "accepted", "rejected", "share", "data", "checks failed"]
    keys = ["source", "status", "detail", "read", "accepted", "rejected", "reject_share", "data", "checks_failed"]
    cells = [headers] + [[f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k in keys] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = {3, 4, 5, 6}
    lines = ["  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                               strict=True))).rstrip()
             for row in cells]
    for check in summary.get("checks", []):
        if not check["success"]:
            lines.append(f"{check['severity']}: {check['code']} ({check['table']}.{check['column']}): "
                         f"{check['message']}")
    lines.append(f"overall: {summary.get('status')}")
    return "\n".join(lines)


def blocking_failures(summary: Mapping[str, Any]) -> list[str]:
    """Error-severity failures: sources whose new extract was blocked, and failed error checks of the consolidated
    map. Rows rejected within max_reject_share are reported, not failures."""
    found = [s.get("error") or f"{s['source_id']}: {s['status']}" for s in summary.get("sources", [])
             if s["status"] in BLOCKING_STATUSES]  # a source's error starts with its id
    shares = {s["source_id"]: s["reject_share"] for s in summary.get("sources", [])}
    limit = summary.get("thresholds", {}).get("max_reject_share", 0.0)
    for check in summary.get("checks", []):
        if check["success"] or check["severity"] != "error":
            continue
        if check["code"] == "reject_share":
            found += [f"{sid}: {shares.get(sid, 0):.0%} of its rows were rejected, above [quality] max_reject_share "
                      f"{limit:.0%}" for sid in check["source_ids"]]
        else:
            found.append(f"{check['code']} ({check['table']}.{check['column']}): {check['message']}")
    return found


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
                lines.append(f"  - {s['source_id']} {s['location']} row {s['row_number']} column {s['column']}: "
                             f"`{s['value']}` ({s['message']})")
    return "\n".join(_markdown_safe(line) for line in lines)


def _markdown_safe(line: str) -> str:
    return line.replace("<", "&lt;").replace(">", "&gt;")


def quality_artifacts(summary: Mapping[str, Any], what: str = "quality", version: str | None = None) -> None:
    """A Markdown and a table artifact of the run's quality under stable keys (ism-<what>-<map_id>, and
    ism-<what>-sources-<map_id>), so the Prefect UI shows the same summary as the report."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    map_id = str(summary.get("map_id"))
    create_markdown_artifact(markdown=markdown_summary(summary, version), key=artifact_key(map_id, what),
                             description=f"Quality of {map_id}: {summary.get('status')}")
    create_table_artifact(table=source_rows(summary), key=artifact_key(map_id, f"{what}-sources"),
                          description=f"Sources of {map_id} with their status")

