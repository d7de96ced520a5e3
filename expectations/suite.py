"""The Great Expectations suite over the consolidated tables, kept as code. Every expectation carries a check code
from the catalogue (expectations/checks.py), so a failure reads like every other check: code, severity, plain words.

The suite runs in an ephemeral GX context over pandas frames (GX's SQL datasource over DuckDB is broken), in a
worker process of its own (`check_frames`, expectations/worker.py). Besides the
four consolidated tables it checks four small derived frames (transforms/quality_summary.py builds them):
`sources` (reject share of each fresh source), `coverage` (months of the map period without rows, per source and
table), `volumes` (change of each source's figure per measure against the previous version; none where the
suppressed cells changed) and `lanes` (services per lane).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations.checks import CHECKS
from expectations.worker import in_worker

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

SAMPLE_ROWS = 10  # failing rows kept per expectation (the full list would grow with the table)

# The columns that name a failing row of each frame in samples (and the source it belongs to, where there is one).
ROW_NAMES: dict[str, list[str]] = {
    "organisations": ["organisation_id", "source_id"],
    "services": ["service_id", "source_id"],
    "activity": ["source_id", "service_id", "period_start", "measure"],
    "flows": ["source_id", "from_service_id", "to_service_id", "period_start", "measure"],
    "sources": ["source_id"],
    "coverage": ["source_id", "table", "missing"],
    "volumes": ["source_id", "table", "measure", "volume", "previous"],
    "lanes": ["lane"],
}
SUITE_TABLES = tuple(ROW_NAMES)
CONSOLIDATED_TABLES = SUITE_TABLES[:4]  # consolidated from the sources; the others are frames worked out from them


@dataclass(frozen=True)
class SuiteLimits:
    """What the suite needs from the map config: its lanes and the [quality] tolerances."""

    lanes: tuple[str, ...]
    max_reject_share: float
    max_volume_change: float


@dataclass(frozen=True)
class CheckResult:
    """One expectation's outcome in the catalogue's terms."""

    code: str
    severity: str
    table: str
    column: str
    expectation: str
    success: bool
    failed: int  # rows (or values) that failed
    checked: int  # rows looked at
    message: str  # plain words, with the numbers
    samples: list[dict[str, str]] = field(default_factory=list)  # failing rows, named by ROW_NAMES
    source_ids: list[str] = field(default_factory=list)  # the sources the sampled failures belong to


@dataclass(frozen=True)
class SuiteRun:
    results: list[CheckResult]
    validations: dict[str, dict[str, Any]]  # table -> GX validation result (JSON), for Data Docs

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success]

    def then(self, later: SuiteRun) -> SuiteRun:
        """This run's results, then those of a run over other frames."""
        return SuiteRun([*self.results, *later.results], {**self.validations, **later.validations})


def great_expectations() -> ModuleType:
    """GX, imported on first use (it takes seconds), with its analytics off: this machine is offline."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def ephemeral_context() -> Any:
    """A GX context held in memory: no files, no temporary docs site, no progress bars."""
    gx = great_expectations()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               progress_bars=ProgressBarsConfig(globally=False))
    return gx.get_context(mode="ephemeral", project_config=config)


def _meta(code: str, words: str, column: str | None = None) -> dict[str, Any]:
    found = {"code": code, "severity": str(CHECKS[code].severity), "words": words}
    return found | ({"column": column} if column else {})


# Columns that must name a known service or organisation: frame -> column -> the table of known ids. Each is
# checked through a flag column (`known_flags`): GX's set check serialises its whole value set a hundred times and
# more per expectation (pydantic), 0.7 s a column against a national map's 1,889 services, the flag's 0.1 s.
KNOWN_IDS: dict[str, dict[str, str]] = {
    "services": {"organisation_id": "organisations"},
    "activity": {"service_id": "services"},
    "flows": {"from_service_id": "services", "to_service_id": "services"},
}
KNOWN = "_known"  # the suffix of a flag column


def known_flags(frames: Mapping[str, pd.DataFrame], service_ids: Sequence[str],
                organisation_ids: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The frames with a flag column `<column>_known` beside each column of KNOWN_IDS: whether its id is known,
    None where it has none (as GX's set check, which skips missing values)."""
    known = {"services": set(service_ids), "organisations": set(organisation_ids)}
    flagged = dict(frames)
    for table, columns in KNOWN_IDS.items():
        if table in frames:
            frame = frames[table]
            flagged[table] = frame.assign(**{  # a missing column has no flag: its check says it could not run
                column + KNOWN: frame[column].isin(known[ids]).astype(object).where(frame[column].notna(), None)
                for column, ids in columns.items() if column in frame.columns})
    return flagged


def _known(column: str, code: str, words: str) -> Expectation:
    """The check that every id in `column` is known, read from its flag column."""
    return great_expectations().expectations.ExpectColumnValuesToBeInSet(
        column=column + KNOWN, value_set=[True], meta=_meta(code, words, column))


def consolidated_suite(limits: SuiteLimits) -> dict[str, list[Expectation]]:
    """The expectations of each frame (the consolidated ones with their `known_flags`). `words` in each meta says
    the rule in plain words, for the report."""
    x = great_expectations().expectations
    share, change = limits.max_reject_share, limits.max_volume_change
    return {
        "organisations": [
            x.ExpectColumnValuesToNotBeNull(column="organisation_id",
                                            meta=_meta("missing_value", "every organisation has an id")),
            x.ExpectColumnValuesToBeUnique(column="organisation_id",
                                           meta=_meta("duplicate_id", "no organisation id appears twice")),
        ],
        "services": [
            x.ExpectColumnValuesToNotBeNull(column="service_id",
                                            meta=_meta("missing_value", "every service has an id")),
            x.ExpectColumnValuesToBeUnique(column="service_id",
                                           meta=_meta("duplicate_id", "no service id appears twice")),
            _known("organisation_id", "unknown_organisation", "services belong to known organisations"),
            x.ExpectColumnValuesToBeInSet(column="lane", value_set=list(limits.lanes),
                                          meta=_meta("invalid_value", "services sit in one of the map's lanes")),
        ],
        "activity": [
            _known("service_id", "unknown_service", "activity is at known services"),
            x.ExpectColumnValuesToBeBetween(column="value", min_value=0,
                                            meta=_meta("negative_value", "no activity count is negative")),
            x.ExpectCompoundColumnsToBeUnique(column_list=["service_id", "period_start", "measure", "source_id"],
                                              meta=_meta("duplicate_id", "one row per service, month, measure "
                                                                         "and source")),
        ],
        "flows": [
            _known("from_service_id", "unknown_service", "flows start at known services"),
            _known("to_service_id", "unknown_service", "flows end at known services"),
            x.ExpectColumnValuesToBeBetween(column="value", min_value=0,
                                            meta=_meta("negative_value", "no flow count is negative")),
            x.ExpectCompoundColumnsToBeUnique(
                column_list=["from_service_id", "to_service_id", "period_start", "measure", "source_id"],
                meta=_meta("duplicate_id", "one row per pair of services, month, measure and source")),
        ],
        "sources": [
            x.ExpectColumnValuesToBeBetween(column="reject_share", min_value=0, max_value=share,
                                            meta=_meta("reject_share", f"each source has at most {share:.0%} of "
                                                                       "its rows rejected")),
        ],
        "coverage": [
            x.ExpectColumnValuesToBeBetween(column="months_missing", max_value=0,
                                            meta=_meta("month_missing", "each source covers every month of the map "
                                                                        "period")),
        ],
        "volumes": [
            x.ExpectColumnValuesToBeBetween(column="change", min_value=-change, max_value=change,
                                            meta=_meta("volume_change", f"each source's figure per measure is "
                                                                        f"within {change:.0%} of the previous "
                                                                        "version")),
        ],
        "lanes": [
            x.ExpectColumnValuesToBeBetween(column="services", min_value=1,
                                            meta=_meta("empty_lane", "every lane has at least one service")),
        ],
    }


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _result(table: str, outcome: Any) -> CheckResult:
    config = outcome.expectation_config
    meta = config.meta or {}
    kwargs = config.kwargs
    checked_column = kwargs.get("column")  # a flag column (`known_flags`) stands for the column in meta
    column = meta.get("column") or checked_column or ",".join(kwargs.get("column_list") or [])
    result = outcome.result or {}
    failed = int(result.get("unexpected_count") or 0)
    checked = int(result.get("element_count") or 0)
    raised = _raised(outcome.exception_info)
    if raised is not None and checked_column and column != checked_column:
        raised = raised.replace(f'"{checked_column}"', f'"{column}"')  # a flag's missing column is the id's
    if raised is not None:
        failed = max(failed, 1)
        message = f"{meta['words']}: the check could not run ({raised})"
    elif outcome.success:
        message = f"{meta['words']}: passed ({checked:,} rows)"
    else:
        message = f"{meta['words']}: {failed:,} of {checked:,} rows fail"
    samples = [_sample(table, row, checked_column, meta.get("column"), kwargs.get("column_list") or [])
               for row in result.get("partial_unexpected_index_list") or []]
    sources = sorted({s["source_id"] for s in samples if s.get("source_id")})
    return CheckResult(
        code=meta["code"], severity=meta["severity"], table=table, column=column,
        expectation=config.type, success=bool(outcome.success), failed=failed, checked=checked, message=message,
        samples=samples[:SAMPLE_ROWS], source_ids=sources,
    )


def _raised(info: Mapping[str, Any] | None) -> str | None:
    """The message of an exception GX caught running an expectation, if any: GX 1.x keeps one info per metric
    (keyed by its id), earlier versions one for the whole expectation."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, Mapping)]
    return next((str(e.get("exception_message")) for e in entries if e.get("raised_exception")), None)


def _sample(table: str, row: Mapping[str, Any], checked: str | None, column: str | None,
            column_list: Sequence[str]) -> dict[str, str]:
    """A failing row as the report shows it: the checked column's value first (a flag column's own id column),
    then the columns that name the row (ROW_NAMES)."""
    found: dict[str, str] = {}
    for key, value in row.items():
        if key == checked and column and column != key:
            found[column] = _text(row.get(column))
        elif key == checked or key in column_list or key in ROW_NAMES[table]:
            found[key] = _text(value)
    return found


def check_frames(frames: Mapping[str, pd.DataFrame], service_ids: Sequence[str], organisation_ids: Sequence[str],
                 limits: SuiteLimits) -> SuiteRun:
    """`checked_frames`, run in the GX worker process."""
    return in_worker(checked_frames, dict(frames), list(service_ids), list(organisation_ids), limits)


def checked_frames(frames: Mapping[str, pd.DataFrame], service_ids: Sequence[str],
                   organisation_ids: Sequence[str], limits: SuiteLimits) -> SuiteRun:
    """The expectations of the consolidated suite (`consolidated_suite`) for the frames given (some or all of
    SUITE_TABLES), ids checked against the known `service_ids` and `organisation_ids`."""
    suite = consolidated_suite(limits)
    return suite_results(known_flags(frames, service_ids, organisation_ids),
                         {table: suite[table] for table in SUITE_TABLES if table in frames})


def suite_results(frames: Mapping[str, pd.DataFrame], suite: Mapping[str, list[Expectation]]) -> SuiteRun:
    """Validate each frame with its expectations in an ephemeral GX context."""
    gx = great_expectations()
    context = ephemeral_context()
    datasource = context.data_sources.add_pandas("ism")
    results: list[CheckResult] = []
    validations: dict[str, dict[str, Any]] = {}
    for table, expectations in suite.items():
        frame = frames[table]
        # the rows are named by ROW_NAMES, and by the id columns whose flags are checked (see `_sample`)
        names = [c for c in dict.fromkeys([*ROW_NAMES[table], *KNOWN_IDS.get(table, {})]) if c in frame.columns]
        batch = datasource.add_dataframe_asset(table).add_batch_definition_whole_dataframe("whole")
        own = [copy.copy(e) for e in expectations]  # GX ties an expectation to one suite: a suite may run again
        gx_suite = context.suites.add(gx.ExpectationSuite(name=f"ism.{table}", expectations=own))
        definition = gx.ValidationDefinition(name=f"ism.{table}", data=batch, suite=gx_suite)
        outcome = definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "SUMMARY", "unexpected_index_column_names": names,
                           "partial_unexpected_count": SAMPLE_ROWS},
        )
        validations[table] = outcome.to_json_dict()
        results.extend(_result(table, r) for r in outcome.results)
    return SuiteRun(results, validations)
