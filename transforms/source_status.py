"""The rules that decide a source's status and word why: blocked, warn or ok from its rejects; the recount after
consolidation; too many rows rejected; what a run that publishes nothing says. Pure: counts and reject frames in,
statuses and messages out."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
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
    """Rows of its files rejected with an error, per source id: each row once, however many rejects it has (a wide
    row unpivoted into one row per measure is one row of the file); whole-file rejects are not rows."""
    rows = error_rejects(rejects)
    rows = rows[rows["row_number"] != 0].drop_duplicates(["source_id", "location", "row_number"])
    return {str(sid): int(n) for sid, n in rows.groupby("source_id").size().items()}


def recounted_status(status: str, rejected: int) -> SourceStatus:
    """A source's status once consolidation's rejects are counted too: an ok source with rejected rows is warn."""
    return SourceStatus.WARN if status == SourceStatus.OK and rejected else SourceStatus(status)


def too_many_rejects(source_id: str, rejected: int, read: int, limit: float, location: str | None = None,
                     own_limit: bool = False) -> str:
    """Why a source is over its reject limit, naming its file and which limit (its own or the map's) it broke."""
    rows = f"the rows of {location}" if location else "its rows"
    which = f"[[sources]] {source_id} max_reject_share" if own_limit else "[quality] max_reject_share"
    return (f"{source_id}: {reject_share(rejected, read):.0%} of {rows} were rejected ({rejected:,} of {read:,}), "
            f"above {which} {limit:.0%}; see the top reasons in the quality report")


def over_reject_share(entries: Iterable[Mapping[str, object]], limit: float, own_limit: bool = False
                      ) -> dict[str, str]:
    """Fresh sources whose share of rejected rows is over `limit` (the map's, or with `own_limit` the source's
    own), each with why."""
    over = {}
    for e in entries:
        rejected, read = int(e["rows_rejected"]), int(e["rows_read"])  # type: ignore[call-overload]
        if e["status"] in FRESH and reject_share(rejected, read) > limit:
            location = str(e["location"]) if e.get("location") else None
            over[str(e["source_id"])] = too_many_rejects(str(e["source_id"]), rejected, read, limit, location,
                                                         own_limit)
    return over


CASCADE_CHECKS = ("unknown_service",)  # a row naming a service its source's services source did not deliver


def root_causes(sources: Sequence[Mapping[str, Any]], services_sources: Mapping[str, bool],
                rejects: pd.DataFrame) -> list[dict[str, Any]]:
    """Blocked services sources and the rows of other sources rejected because of them: a row naming a service
    in the blocked source's partner namespace, or in an id scheme no partner owns (such as phs_location) when the
    blocked source carries external ids ("acute_units blocked -> 491 unknown_service in 3 sources").
    `services_sources`: source id -> whether it maps external_ids. One cause per partner (its blocked services
    sources together), most rows first; causes with no such rows are left out."""
    dead = (SourceStatus.BLOCKED, SourceStatus.MISSING)  # a stale source's last good services are in the map
    by_partner: dict[str, list[Mapping[str, Any]]] = {}
    for s in sources:
        if s["status"] in dead and s["source_id"] in services_sources:
            by_partner.setdefault(str(s["partner"]), []).append(s)
    errors = error_rejects(rejects)
    cascade = errors[errors["check"].isin(CASCADE_CHECKS) & (errors["row_number"] != 0)]
    namespaces = cascade["value"].astype("string").str.split(":", n=1).str[0]
    scheme = ~namespaces.isin({str(s["partner"]) for s in sources}).fillna(False)
    causes = []
    for partner, blocked in by_partner.items():
        ids = sorted(str(s["source_id"]) for s in blocked)
        named = (namespaces == partner).fillna(False)
        if any(services_sources[sid] for sid in ids):
            named |= scheme
        follows = cascade[named & ~cascade["source_id"].isin(ids)]
        if follows.empty:
            continue
        per_source = follows.groupby("source_id").size()
        causes.append({
            "source_ids": ids, "partner": partner, "check": CASCADE_CHECKS[0], "rows": len(follows),
            "sources": {str(sid): int(per_source[sid]) for sid in sorted(per_source.index)},
            "errors": [s.get("error") or f"{s['source_id']}: {s['status']}" for s in blocked],
        })
    return sorted(causes, key=lambda c: (-c["rows"], c["source_ids"]))


def no_services_message(sources: Sequence[Mapping[str, Any]], services_sources: Collection[str]) -> str:
    """What a map left with no services says, with each services source's reason."""
    reasons = [str(s.get("error") or f"{s['source_id']}: {s['status']}") for s in sources
               if s["source_id"] in services_sources]
    return ("the map has no services: no services source delivered any (" + "; ".join(reasons or ["none declared"])
            + "); fix these sources first, every other source's rows name their services")


def root_cause_line(cause: Mapping[str, Any]) -> str:
    """'acute_units blocked -> 491 unknown_service in 3 sources (a, b, c)'."""
    sources = cause["sources"]
    return (f"{', '.join(cause['source_ids'])} blocked -> {cause['rows']:,} {cause['check']} in {len(sources)} "
            f"source(s) ({', '.join(sources)})")


def gate_refusal(blocked: Mapping[str, str], too_many: Mapping[str, str], failed_checks: Sequence[str],
                 causes: Sequence[Mapping[str, Any]] = (), report: str | None = None,
                 map_errors: Sequence[str] = (), quarantined: Mapping[str, str] = {}) -> str | None:
    """Why a run under `on_error = "fail"` publishes nothing (None when it may publish): the map-level errors
    (no services at all), then every blocked source (source id -> why), root causes first with the sources over
    max_reject_share that follow from them, then the others, then the sources quarantined (source id -> why: they
    do not stop the run, but are named); the failed error checks of the consolidated map; where the report is."""
    if not blocked and not too_many and not failed_checks and not map_errors:
        return None
    parts: list[str] = list(map_errors)
    named: set[str] = set()
    for cause in causes:
        followers = [sid for sid in cause["sources"] if sid in too_many]
        parts.append("root cause: " + root_cause_line(cause) + ": " + "; ".join(cause["errors"])
                     + (f"; so over max_reject_share: {', '.join(followers)}" if followers else ""))
        named.update(cause["source_ids"], followers)
    others = [why for sid, why in {**blocked, **too_many}.items() if sid not in named]
    if others:
        parts.append(("other " if causes else "") + "blocked source(s) under on_error = \"fail\": "
                     + "; ".join(others))
    held = [why for sid, why in quarantined.items() if sid not in named]
    if held:
        parts.append("also blocked, under on_error = \"quarantine\": " + "; ".join(held))
    if failed_checks:
        parts.append("failed checks of the consolidated map: " + "; ".join(failed_checks))
    return "nothing published; " + "; ".join(parts) + (f"; quality report: {report}" if report else "")


def blocking_failures(summary: Mapping[str, Any]) -> list[str]:
    """Error-severity failures: sources whose new extract was blocked (root causes first, each with the rejects
    that follow from it), and failed error checks of the consolidated map. Rows rejected within max_reject_share
    are reported, not failures."""
    causes = summary.get("root_causes", [])
    map_errors = list(summary.get("map_errors", []))
    first = {sid: n for n, cause in enumerate(causes) for sid in cause["source_ids"]}
    lines = {sid: root_cause_line(cause) for cause in causes for sid in cause["source_ids"]}
    blocked = sorted((s for s in summary.get("sources", []) if s["status"] in BLOCKING),
                     key=lambda s: first.get(s["source_id"], len(causes)))  # stable: config order otherwise
    found = map_errors + [(s.get("error") or f"{s['source_id']}: {s['status']}")  # a source's error: its id first
             + (f" (root cause: {lines[s['source_id']]})" if s["source_id"] in lines else "") for s in blocked]
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
