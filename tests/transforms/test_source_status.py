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


def test_the_gate_names_blocked_sources_and_failed_checks_or_lets_the_run_publish() -> None:
    assert gate_refusal([], [], [], "ism-quality-m") is None
    assert gate_refusal(["a: unreadable"], ["b: too many"], ["orphan (flows.to): x"], "ism-quality-m") == (
        'nothing published; blocked source(s) under on_error = "fail": a: unreadable; 1 more source(s) over '
        "max_reject_share (quality artifact ism-quality-m); failed checks of the consolidated map: "
        "orphan (flows.to): x")
    assert gate_refusal([], ["b: too many"], [], "k") == ('nothing published; blocked source(s) under on_error = '
                                                          '"fail": b: too many')


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
