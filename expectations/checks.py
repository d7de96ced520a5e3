"""The catalogue of data checks: each has a stable code, a severity and a sentence a data manager understands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # blocks the source (or the run, for consolidated checks)
    WARN = "warn"  # reported, never blocks


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    message: str
    advice: str = ""


def _checks(*checks: Check) -> dict[str, Check]:
    return {c.code: c for c in checks}


E, W = Severity.ERROR, Severity.WARN

CHECKS: dict[str, Check] = _checks(
    # whole-source checks (block the source)
    Check("source_unreadable", E, "The extract could not be read.", "Check the location and the format options."),
    Check("source_empty", E, "The extract has no data rows.", "Ask the partner for a complete extract."),
    Check("missing_column", E, "A column named in the mapping is not in the extract.",
          "Fix the column mapping in the map config or ask the partner to restore the column."),
    Check("unknown_column", W, "The extract has a column the mapping does not use.",
          "Map it if it matters; otherwise ignore this warning."),
    Check("personal_identifier", E, "A column looks like personal data (CHI or NHS numbers, names, dates of birth, "
          "full postcodes), so the whole source was refused; the value is never shown.",
          "Ask the partner for an extract without it, or declare the column in the source's safe_columns (not "
          "personal) or pseudonymised_columns (pseudonymised ids, never published)."),
    # row checks (the row goes to rejects)
    Check("missing_value", E, "A required value is empty.", "Fill the value in the extract."),
    Check("unmapped_code", E, "A code has no entry in the source's code mapping.",
          "Add the code to the source's [codes] table in the map config."),
    Check("not_a_number", E, "A count is not a number.", "Counts must be whole numbers such as 1234."),
    Check("negative_value", E, "A count is negative.", "Counts cannot be below zero."),
    Check("bad_period", E, "A period is not a recognisable date or month.", "Use YYYY-MM or YYYY-MM-DD."),
    Check("period_spans_months", E, "A period spans more than one calendar month.",
          "Send activity by month, week or day."),
    Check("outside_map_period", E, "The period lies outside the map period.",
          "Send only the map period, or set clip_to_map_period for national files."),
    Check("duplicate_key", E, "The same key appears more than once in one extract.",
          "Each service or organisation must appear once."),
    Check("duplicate_period", E, "The same service, measure and period is reported twice in one extract.",
          "Send each month once."),
    Check("unknown_service", E, "A row points at a service the map does not know.",
          "Add the service to a services extract, or fix the key or its namespace in the map config."),
    Check("unknown_organisation", E, "A service points at an organisation the map does not know.",
          "Add the organisation, or fix the organisation key."),
    Check("broken_reference", E, "A row refers to a record that is not in the extract.",
          "Ask the partner to send a consistent extract."),
    Check("lookup_unmatched", E, "A key is not in the reference table the source looks it up in.",
          "Add the key to the lookup's table, fix it in the extract, or set unmatched = \"keep\" on the lookup."),
    Check("invalid_value", E, "A value is not one of the allowed values.", "Use one of the allowed values."),
    Check("self_flow", E, "A flow goes from a service to itself.", "Flows must join two different services."),
    # row and file findings that are reported, never rejected
    Check("outlier_value", W, "A monthly count is far above this source's usual month for the same service.",
          "Check the number with the partner: a typo or a change of counting rule is likely."),
    Check("mixed_date_formats", W, "The period column is written in more than one date format.",
          "Ask the partner for one format (YYYY-MM or YYYY-MM-DD): 03/04/2025 can be read two ways."),
    Check("measure_undeclared", W, "A source maps a measure no measure catalogue knows: its totals are shown as a "
          "count of its own unit, added to nothing else.",
          "Declare it under [measures.catalogue.<measure>] in the map config (label, unit, kind), or map the "
          "source to a built-in measure."),
    # source policy (quality/report.* shows these per source)
    Check("reject_share", E, "Too many of the source's rows were rejected.",
          "Fix the extract (see the top reasons for rejection) or raise [quality] max_reject_share."),
    Check("source_stale", W, "The new extract failed, so the map uses this source's last good extract.",
          "Fix the extract; the map shows the last good data until then."),
    Check("source_missing", E, "The extract failed and there is no earlier good extract, so the map lacks it.",
          "Fix the extract; the map has none of this source's data until then."),
    # consolidated tables (the Great Expectations suite in expectations/suite.py)
    Check("duplicate_id", E, "An id or key appears more than once in a published table.",
          "Report it: consolidation should make ids unique."),
    Check("month_missing", W, "A source has no rows for some months of the map period.",
          "Ask the partner for the missing months, or confirm the service had no activity."),
    Check("empty_lane", W, "A lane of the map has no service.", "Map a service to the lane or remove the lane."),
    Check("volume_change", W, "A source's figure of a measure changed more than the tolerance since the previous "
          "version.",
          "Confirm the change with the partner, or raise [quality] max_volume_change."),
)


def check(code: str) -> Check:
    """The catalogue entry for `code` (KeyError names the unknown code)."""
    return CHECKS[code]


@dataclass(frozen=True)
class RejectRecord:
    """One row (or whole file, row 0) not taken, traceable to file, row and column."""

    source_id: str
    check: str
    message: str
    location: str | None = None
    row_number: int | None = None
    column: str | None = None
    value: str | None = None

    @property
    def severity(self) -> Severity:
        return CHECKS[self.check].severity
