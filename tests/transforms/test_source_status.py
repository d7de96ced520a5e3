"""The source status rules on small literal reject frames: blocked / warn / ok, the recount after consolidation,
too many rejected rows, and what a run that publishes nothing says."""

from __future__ import annotations

from expectations.checks import RejectRecord
from expectations.status import SourceStatus
from transforms.rejects import rejects_frame
from transforms.source_status import (
    blocking_failures,
    gate_refusal,
    over_reject_share,
    recounted_status,
    rejected_rows,
    root_cause_line,
    root_causes,
    staged_status,
)


def test_a_whole_file_error_blocks_any_reject_warns_and_none_is_ok() -> None:
    assert staged_status(whole_file_errors=1, rejects=5) is SourceStatus.BLOCKED
    assert staged_status(whole_file_errors=0, rejects=2) is SourceStatus.WARN
    assert staged_status(whole_file_errors=0, rejects=0) is SourceStatus.OK


def test_rejected_rows_count_error_rows_per_source_not_whole_files_or_warnings() -> None:
    rejects = rejects_frame([
        RejectRecord("a", "unknown_service", "x", "a.csv", 3),
        RejectRecord("a", "unknown_service", "x", "a.csv", 4),
        RejectRecord("a", "source_empty", "empty", "a.csv", 0),
        RejectRecord("b", "outlier_value", "big", "b.csv", 2),  # a warning: reported, not rejected
        RejectRecord("c", "unknown_service", "x", "c.csv", 9),
    ])
    assert rejected_rows(rejects) == {"a": 2, "c": 1}


def test_an_ok_source_with_rejected_rows_becomes_warn_and_others_keep_their_status() -> None:
    assert recounted_status("ok", 3) is SourceStatus.WARN
    assert recounted_status("ok", 0) is SourceStatus.OK
    assert recounted_status("stale", 3) is SourceStatus.STALE


def test_only_fresh_sources_over_the_limit_are_named_with_their_share() -> None:
    entries = [{"source_id": "many", "status": "warn", "rows_rejected": 30, "rows_read": 100},
               {"source_id": "few", "status": "warn", "rows_rejected": 1, "rows_read": 100},
               {"source_id": "old", "status": "stale", "rows_rejected": 90, "rows_read": 100}]
    assert over_reject_share(entries, 0.1) == {"many": "many: 30% of its rows were rejected (30 of 100), above "
                                               "[quality] max_reject_share 10%; see the top reasons in the quality "
                                               "report"}
    named = [{**entries[0], "location": "extracts/many.csv"}]
    assert over_reject_share(named, 0.2, own_limit=True) == {
        "many": "many: 30% of the rows of extracts/many.csv were rejected (30 of 100), above [[sources]] many "
                "max_reject_share 20%; see the top reasons in the quality report"}


def test_blocking_failures_list_blocked_sources_and_failed_error_checks() -> None:
    summary = {
        "sources": [{"source_id": "a", "status": "ok", "reject_share": 0.0},
                    {"source_id": "b", "status": "missing", "reject_share": 0.0},
                    {"source_id": "c", "status": "warn", "reject_share": 0.5, "error": None}],
        "thresholds": {"max_reject_share": 0.1},
        "checks": [{"success": False, "severity": "error", "code": "reject_share", "source_ids": ["c"]},
                   {"success": False, "severity": "warn", "code": "month_missing"}],
    }
    assert blocking_failures(summary) == ["b: missing", "c: 50% of its rows were rejected, above [quality] "
                                          "max_reject_share 10%"]


def _entry(source_id: str, partner: str, status: str, error: str | None = None) -> dict[str, object]:
    return {"source_id": source_id, "partner": partner, "status": status, "error": error}


def test_rejects_naming_a_blocked_services_source_are_grouped_under_it_most_rows_first() -> None:
    sources = [_entry("units", "acute", "blocked", "units: line 4 has 7 fields"),
               _entry("homes", "council", "blocked", "homes: empty"),
               _entry("beds", "acute", "warn"), _entry("referrals", "gp", "warn"), _entry("sites", "phs", "ok")]
    rejects = rejects_frame([
        RejectRecord("beds", "unknown_service", "x", "b.csv", 2, "service_key", "acute:W1"),
        RejectRecord("beds", "unknown_service", "x", "b.csv", 3, "service_key", "acute:W2"),
        RejectRecord("referrals", "unknown_service", "x", "r.csv", 5, "to_key", "acute:ED"),
        RejectRecord("referrals", "unknown_service", "x", "r.csv", 6, "to_key", "phs_location:Z1"),
        RejectRecord("referrals", "unknown_service", "x", "r.csv", 7, "to_key", "council:CH1"),
        RejectRecord("referrals", "unknown_service", "x", "r.csv", 8, "to_key", "phs:S1"),  # a delivered partner
        RejectRecord("referrals", "negative_value", "x", "r.csv", 9, "value", "-1"),
    ])
    causes = root_causes(sources, {"units": True, "homes": False, "sites": False}, rejects)
    assert [(c["source_ids"], c["rows"], c["sources"]) for c in causes] == [
        (["units"], 4, {"beds": 2, "referrals": 2}),  # acute:... and the phs_location scheme (units has ids)
        (["homes"], 1, {"referrals": 1}),
    ]
    assert root_cause_line(causes[0]) == "units blocked -> 4 unknown_service in 2 source(s) (beds, referrals)"
    assert root_causes(sources, {"sites": False}, rejects) == []  # no blocked services source: no cause
    assert causes[0]["errors"] == ["units: line 4 has 7 fields"]


def test_the_gate_names_every_blocked_source_root_causes_first_and_the_report() -> None:
    assert gate_refusal({}, {}, []) is None
    cause = {"source_ids": ["units"], "check": "unknown_service", "rows": 491, "sources": {"beds": 400, "refs": 91},
             "errors": ["units: line 4 has 7 fields"]}
    message = gate_refusal({"other": "other: empty", "units": "units: line 4 has 7 fields"},
                           {"beds": "beds: 80% rejected", "own": "own: 9% rejected"}, ["orphan (flows.to): x"],
                           [cause], "/private/runs/r1/report.html")
    assert message == (
        "nothing published; root cause: units blocked -> 491 unknown_service in 2 source(s) (beds, refs): units: "
        "line 4 has 7 fields; so over max_reject_share: beds; other blocked source(s) under on_error = \"fail\": "
        "other: empty; own: 9% rejected; failed checks of the consolidated map: orphan (flows.to): x; quality "
        "report: /private/runs/r1/report.html")


def test_blocking_failures_put_root_causes_first() -> None:
    summary = {
        "sources": [{"source_id": "a", "status": "blocked", "error": "a: empty", "reject_share": 0.0},
                    {"source_id": "units", "status": "blocked", "error": "units: ragged", "reject_share": 0.0}],
        "root_causes": [{"source_ids": ["units"], "check": "unknown_service", "rows": 3, "sources": {"b": 3}}],
        "checks": [],
    }
    assert blocking_failures(summary) == [
        "units: ragged (root cause: units blocked -> 3 unknown_service in 1 source(s) (b))", "a: empty"]
