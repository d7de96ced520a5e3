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
    Check("invalid_value", E, "A value is not one of the allowed values.", "Use one of the allowed values."),
    Check("self_flow", E, "A flow goes from a service to itself.", "Flows must join two different services."),
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
