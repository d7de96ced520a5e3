"""The rules that decide a source's status and word why: blocked, warn or ok from its rejects; the recount after
consolidation; too many rows rejected; what a run that publishes nothing says. Pure: counts and reject frames in,
statuses and messages out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from expectations.checks import Severity
from expectations.status import BLOCKING, FRESH, SourceStatus
from transforms.quality_summary import reject_share


def error_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """The error-severity rejects (row 0: the whole file; any other row: that row)."""
    return rejects[rejects["severity"] == str(Severity.ERROR)]


def staged_status(whole_file_errors: int, rejects: int) -> SourceStatus:
    """A staged source: blocked by any whole-file error, warn when anything was rejected or flagged, else ok."""
    if whole_file_errors:
        return SourceStatus.BLOCKED
    return SourceStatus.WARN if rejects else SourceStatus.OK


def empty_source_message(location: str) -> str:
    return f"{location} has no data rows (a header at most); ask the partner for a complete extract"


def rejected_rows(rejects: pd.DataFrame) -> dict[str, int]:
    """Rows rejected with an error, per source id (whole-file rejects are not rows)."""
    rows = error_rejects(rejects)
    return {str(sid): int(n) for sid, n in rows[rows["row_number"] != 0].groupby("source_id").size().items()}


def recounted_status(status: str, rejected: int) -> SourceStatus:
    """A source's status once consolidation's rejects are counted too: an ok source with rejected rows is warn."""
    return SourceStatus.WARN if status == SourceStatus.OK and rejected else SourceStatus(status)


def too_many_rejects(source_id: str, rejected: int, read: int, limit: float) -> str:
    return (f"{source_id}: {reject_share(rejected, read):.0%} of its rows were rejected ({rejected:,} of {read:,}), "
            f"above [quality] max_reject_share {limit:.0%}; see the top reasons in the quality report")


def over_reject_share(entries: Iterable[Mapping[str, object]], limit: float) -> dict[str, str]:
    """Fresh sources whose share of rejected rows is over `limit`, each with why."""
    over = {}
    for e in entries:
        rejected, read = int(e["rows_rejected"]), int(e["rows_read"])  # type: ignore[call-overload]
        if e["status"] in FRESH and reject_share(rejected, read) > limit:
            over[str(e["source_id"])] = too_many_rejects(str(e["source_id"]), rejected, read, limit)
    return over


def gate_refusal(blocked: Sequence[str], too_many: Sequence[str], failed_checks: Sequence[str],
                 artifact_key: str) -> str | None:
    """Why a run under `on_error = "fail"` publishes nothing (None when it may publish): its blocked sources, the
    sources over max_reject_share, the failed error checks of the consolidated map."""
    failing = list(blocked)
    if blocked and too_many:  # rows pointing at a blocked source's services are rejected too: a consequence
        too_many = [f"{len(too_many)} more source(s) over max_reject_share (quality artifact {artifact_key})"]
    failing += too_many
    if not failing and not failed_checks:
        return None
    return ("nothing published; "
            + (("blocked source(s) under on_error = \"fail\": " + "; ".join(failing)) if failing else "")
            + ("; " if failing and failed_checks else "")
            + ("failed checks of the consolidated map: " + "; ".join(failed_checks) if failed_checks else ""))


def blocking_failures(summary: Mapping[str, Any]) -> list[str]:
    """Error-severity failures: sources whose new extract was blocked, and failed error checks of the consolidated
    map. Rows rejected within max_reject_share are reported, not failures."""
    found = [s.get("error") or f"{s['source_id']}: {s['status']}" for s in summary.get("sources", [])
             if s["status"] in BLOCKING]  # a source's error starts with its id
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
