"""The Great Expectations suite over consolidated tables: every expectation fails with its catalogue code, its
severity and the rows (and sources) that fail it."""

from __future__ import annotations

import gc
import importlib.util
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd
import pytest

from expectations.checks import CHECKS, Severity
from expectations.suite import (
    SUITE_TABLES,
    SuiteLimits,
    SuiteRun,
    check_frames,
    checked_frames,
    consolidated_suite,
)
from expectations.worker import Worker, imports_frozen, in_worker, module_environment

LIMITS = SuiteLimits(lanes=("acute", "social_care"), max_reject_share=0.05, max_volume_change=0.5)
APRIL = pd.Timestamp("2025-04-01")


def clean_frames() -> dict[str, pd.DataFrame]:
    return {
        "organisations": pd.DataFrame({"organisation_id": ["org_1", "org_2"], "source_id": ["config", "config"]}),
        "services": pd.DataFrame({"service_id": ["svc_a", "svc_b"], "organisation_id": ["org_1", "org_2"],
                                  "lane": ["acute", "social_care"], "source_id": ["s1", "s2"]}),
        "activity": pd.DataFrame({"service_id": ["svc_a"], "period_start": [APRIL], "measure": ["attendances"],
                                  "value": [10.0], "source_id": ["act"]}),
        "flows": pd.DataFrame({"from_service_id": ["svc_a"], "to_service_id": ["svc_b"], "period_start": [APRIL],
                               "measure": ["referrals"], "value": [3.0], "source_id": ["flo"]}),
        "sources": pd.DataFrame({"source_id": ["act", "flo", "old"], "reject_share": [0.0, 0.04, None]}),
        "coverage": pd.DataFrame({"source_id": ["act"], "table": ["activity"], "months_missing": [0],
                                  "missing": [""]}),
        # a figure whose suppressed cells changed has no change (quality_summary.volume_changes): never a warning
        "volumes": pd.DataFrame({"source_id": ["act", "flo"], "table": ["activity", "flows"],
                                 "measure": ["attendances", "referrals"], "volume": [10.0, 300.0],
                                 "previous": [9.0, 3.0], "change": [0.11, None],
                                 "change_display": ["+11%", "suppression changed"]}),
        "lanes": pd.DataFrame({"lane": ["acute", "social_care"], "services": [1, 1]}),
    }


def checked(frames: dict[str, pd.DataFrame]) -> SuiteRun:
    services = frames["services"]["service_id"].dropna()
    return checked_frames(frames, services, frames["organisations"]["organisation_id"], LIMITS)


@pytest.fixture(scope="module")
def broken() -> SuiteRun:
    frames = clean_frames()
    frames["services"] = pd.DataFrame({"service_id": ["svc_a", "svc_a", "svc_c"], "organisation_id":
                                       ["org_1", "org_9", "org_1"], "lane": ["acute", "acute", "acute"],
                                       "source_id": ["s1", "s1", "s2"]})
    frames["flows"] = pd.DataFrame({"from_service_id": ["svc_a", "svc_a"], "to_service_id": ["svc_zzz", "svc_c"],
                                    "period_start": [APRIL, APRIL], "measure": ["referrals", "referrals"],
                                    "value": [3.0, -1.0], "source_id": ["flo", "flo"]})
    frames["sources"] = pd.DataFrame({"source_id": ["act", "flo"], "reject_share": [0.0, 0.4]})
    frames["coverage"] = pd.DataFrame({"source_id": ["flo"], "table": ["flows"], "months_missing": [2],
                                       "missing": ["2025-05 2025-06"]})
    frames["volumes"] = pd.DataFrame({"source_id": ["act"], "table": ["activity"], "measure": ["attendances"],
                                      "volume": [30.0], "previous": [10.0], "change": [2.0]})
    frames["lanes"] = pd.DataFrame({"lane": ["acute", "social_care"], "services": [3, 0]})
    return checked(frames)


def test_clean_tables_pass_every_expectation() -> None:
    run = checked(clean_frames())
    assert run.failed == []
    assert {r.table for r in run.results} == set(SUITE_TABLES)
    assert set(run.validations) == set(SUITE_TABLES) and all(v["success"] for v in run.validations.values())


def test_every_expectation_carries_a_catalogue_code_and_its_severity() -> None:
    for table, expectations in consolidated_suite(LIMITS).items():
        assert table in SUITE_TABLES
        for expectation in expectations:
            code = expectation.meta["code"]
            assert code in CHECKS and expectation.meta["severity"] == CHECKS[code].severity
            assert expectation.meta["words"]


def test_broken_tables_fail_with_codes_rows_and_sources(broken: SuiteRun) -> None:
    failed = {(r.table, r.column, r.code, r.severity, r.failed) for r in broken.failed}
    assert failed == {
        ("services", "service_id", "duplicate_id", "error", 2),
        ("services", "organisation_id", "unknown_organisation", "error", 1),
        ("flows", "to_service_id", "unknown_service", "error", 1),
        ("flows", "value", "negative_value", "error", 1),
        ("sources", "reject_share", "reject_share", "error", 1),
        ("coverage", "months_missing", "month_missing", "warn", 1),
        ("volumes", "change", "volume_change", "warn", 1),
        ("lanes", "services", "empty_lane", "warn", 1),
    }


def test_failures_name_their_rows_and_sources(broken: SuiteRun) -> None:
    by_code = {r.code: r for r in broken.failed}
    unknown = by_code["unknown_service"]
    assert unknown.samples == [{"source_id": "flo", "from_service_id": "svc_a", "to_service_id": "svc_zzz",
                                "period_start": "2025-04-01", "measure": "referrals"}]
    assert unknown.source_ids == ["flo"] and unknown.message == "flows end at known services: 1 of 2 rows fail"
    assert by_code["reject_share"].source_ids == ["flo"]
    assert by_code["month_missing"].samples[0]["missing"] == "2025-05 2025-06"
    assert by_code["empty_lane"].samples == [{"lane": "social_care", "services": "0"}]
    assert by_code["volume_change"].samples[0]["previous"] == "10"
    assert all(r.severity in (Severity.ERROR, Severity.WARN) for r in broken.results)


def test_ids_are_checked_against_the_known_ones_missing_ids_skipped_as_gx_skips_them() -> None:
    frames = clean_frames()
    frames["activity"] = pd.DataFrame({"service_id": ["svc_a", None, "svc_q"], "period_start": [APRIL] * 3,
                                       "measure": ["attendances"] * 3, "value": [1.0, 2.0, 3.0],
                                       "source_id": ["act"] * 3})
    known = checked_frames(frames, ["svc_a", "svc_b"], ["org_1", "org_2"], LIMITS)
    unknown = next(r for r in known.results if r.table == "activity" and r.code == "unknown_service")
    assert (unknown.column, unknown.failed, unknown.checked) == ("service_id", 1, 3)
    assert [s["service_id"] for s in unknown.samples] == ["svc_q"] and "service_id_known" not in unknown.samples[0]
    everyone = checked_frames(frames, ["svc_a", "svc_b", "svc_q"], ["org_1", "org_2"], LIMITS)
    assert next(r for r in everyone.results if r.table == "activity" and r.code == "unknown_service").success


def test_a_missing_id_column_fails_its_check_as_one_that_could_not_run() -> None:
    frames = clean_frames()
    frames["flows"] = frames["flows"].drop(columns=["to_service_id"])
    run = checked_frames(frames, ["svc_a", "svc_b"], ["org_1", "org_2"], LIMITS)
    ends = next(r for r in run.results if r.table == "flows" and r.message.startswith("flows end at known services"))
    assert (ends.column, ends.success, ends.failed) == ("to_service_id", False, 1)
    assert ends.message.endswith('could not run (Error: The column "to_service_id" in BatchData does not exist.)')


def test_catalogue_codes_are_stable_words_with_plain_messages() -> None:
    for code, check in CHECKS.items():
        assert code == check.code and code.replace("_", "").isalpha() and code.islower()
        assert check.message.endswith(".") and check.message[0].isupper()


def test_the_worker_process_runs_the_suite_as_this_process_does() -> None:
    frames = clean_frames()
    frames["services"] = pd.DataFrame({"service_id": ["svc_a", "svc_a", "svc_c"], "organisation_id":
                                       ["org_1", "org_9", "org_1"], "lane": ["acute", "acute", "acute"],
                                       "source_id": ["s1", "s1", "s2"]})
    here = checked(frames)
    there = check_frames(frames, ["svc_a", "svc_c"], frames["organisations"]["organisation_id"].tolist(), LIMITS)
    assert [(r.code, r.table, r.column, r.success, r.failed, r.samples) for r in there.results] == [
        (r.code, r.table, r.column, r.success, r.failed, r.samples) for r in here.results]
    assert sorted(there.validations) == sorted(here.validations)


def test_the_checks_worker_keeps_gxs_sql_support_out() -> None:
    """GX treats sqlalchemy as optional; Prefect installs it, and GX would import it and its SQL engine (a fifth of
    its import) only to check pandas frames. The suite's results there are this process's (test above)."""
    assert importlib.util.find_spec("sqlalchemy") is not None  # installed: Prefect needs it here
    assert in_worker(importlib.util.find_spec, "sqlalchemy") is None


def pandera_synthesises_data() -> bool:
    from pandera.strategies.base_strategies import HAS_HYPOTHESIS

    return bool(HAS_HYPOTHESIS)


def test_the_checks_worker_keeps_hypothesis_out_of_pandera() -> None:
    """pandera imports Hypothesis for data synthesis whenever it is installed (a development install): ism never
    synthesises data, so its worker takes pandera as without it."""
    assert importlib.util.find_spec("hypothesis") is not None  # installed here, for the tests
    assert in_worker(pandera_synthesises_data) is False
    assert in_worker(imported, "hypothesis") is False


def imported(module: str) -> bool:
    return sys.modules.get(module) is not None


def loaded(module: str) -> bool:
    return module in sys.modules


def entropy_of_a_fair_coin() -> float:
    from scipy import stats

    return float(stats.entropy([0.5, 0.5]))


def test_the_checks_worker_defers_what_gx_imports_for_expectations_ism_never_uses(tmp_path: Path) -> None:
    """scipy.stats and altair (a third of GX's import) stay unloaded while the suite runs and its Data Docs are
    built, and load the moment something uses them."""
    from outputs.quality_report import _build_gx_site

    worker = Worker()
    try:
        frames = clean_frames()
        run = worker.call(checked_frames, frames, ["svc_a", "svc_b"], ["org_1", "org_2"], LIMITS)
        assert run.results and not run.failed
        worker.call(_build_gx_site, run.validations, tmp_path)
        assert (tmp_path / "index.html").is_file()
        assert not worker.call(loaded, "scipy.stats._stats_py")
        assert not worker.call(loaded, "altair.vegalite")
        assert worker.call(entropy_of_a_fair_coin) == pytest.approx(0.6931471805599453)
        assert worker.call(loaded, "scipy.stats._stats_py")
        assert worker.call(gc.get_freeze_count) > 0  # what importing GX built is frozen (imports_frozen)
        assert worker.call(gc.isenabled)
    finally:
        worker.close()


def test_imports_frozen_collects_nothing_while_importing_then_freezes_what_was_built() -> None:
    before = gc.get_freeze_count()
    try:
        with imports_frozen():
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # back to the oldest generation, as before the test


def test_a_worker_that_died_is_replaced() -> None:
    first = in_worker(os.getpid)
    assert first != os.getpid()
    os.kill(first, signal.SIGKILL)
    second = in_worker(os.getpid)
    assert second not in (first, os.getpid())
    assert in_worker(os.getpid) == second  # kept for later runs


def test_a_call_interrupted_midway_never_hands_its_answer_to_the_next() -> None:
    first = in_worker(os.getpid)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            in_worker(time.sleep, 2)  # its answer (None) would otherwise come back as the next call's
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert in_worker(os.getpid) not in (first, None)


def test_a_process_leaves_no_worker_behind() -> None:
    code = ("from expectations import worker; worker.start(); worker.start(); "
            "print(*(w._process.pid for w in worker._WORKER))")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=module_environment())
    pids = [int(pid) for pid in ran.stdout.split()]
    assert len(pids) == 1  # started once
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]  # ended and reaped with their parent


def test_a_call_the_worker_cannot_unpickle_is_its_error_not_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    first = in_worker(os.getpid)
    only_here = types.ModuleType("ism_only_in_this_process")  # as a function of a user's script would be
    exec("def answer():\n    return 42\n", only_here.__dict__)  # noqa: S102
    monkeypatch.setitem(sys.modules, only_here.__name__, only_here)
    with pytest.raises(ModuleNotFoundError, match="ism_only_in_this_process"):
        in_worker(only_here.answer)
    assert in_worker(os.getpid) == first  # the same worker answers on
