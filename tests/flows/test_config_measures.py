"""The [measures] table of a map config: extending and overriding the catalogue, its errors, and the published
measures table with a warning per undeclared measure."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from expectations.measures import MeasureKind, PeriodFigure
from flows.config_measures import MeasuresSettings, measure_catalogue, published_measures


def _settings(**table: object) -> MeasuresSettings:
    return MeasuresSettings.model_validate(table)


def test_a_config_adds_a_measure_and_overrides_part_of_a_builtin_one() -> None:
    catalogue = measure_catalogue(_settings(catalogue={
        "delayed_bed_days_code9": {"label": "Delayed bed days: code 9", "unit": "bed days", "kind": "count",
                                   "part_of": "delayed_bed_days"},
        "caseload": {"period": "last"},
    }))
    added = catalogue.get("delayed_bed_days_code9")
    assert (added.kind, added.part_of, str(added.origin)) == (MeasureKind.COUNT, "delayed_bed_days", "config")
    caseload = catalogue.get("caseload")
    assert (caseload.label, caseload.unit, caseload.period_figure) == ("Caseload", "people", PeriodFigure.LAST)


@pytest.mark.parametrize(("table", "message"), [
    ({"demand": ["referrals", "care_hours"]}, "must share one unit, found hours, people"),
    ({"demand": ["caseload"]}, "'caseload' is a stock; demand adds counts only"),
    ({"demand": ["widgets"]}, "'widgets' is not in the catalogue"),
    ({"catalogue": {"widgets": {"label": "Widgets"}}}, "measures.catalogue.widgets: a measure the built-in catalogue "
                                                       "does not know needs unit, kind"),
    ({"catalogue": {"share": {"label": "S", "unit": "%", "kind": "percentage", "numerator": "referrals"}}},
     "measures.share: declare both numerator and denominator"),
    ({"catalogue": {"share": {"label": "S", "unit": "%", "kind": "percentage", "numerator": "caseload",
                              "denominator": "referrals"}}}, "'caseload' must be a count, not a stock"),
    ({"catalogue": {"bits": {"label": "B", "unit": "hours", "kind": "count", "part_of": "contacts"}}},
     "measures.bits.part_of: a breakdown has the kind and unit of its whole"),
    ({"catalogue": {"referrals": {"period": "last"}}}, "only a stock declares mean or last"),
    ({"catalogue": {"Bad Name": {"label": "B", "unit": "u", "kind": "count"}}}, "lower_snake_case"),
])
def test_an_inconsistent_catalogue_is_refused_naming_the_field(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _settings(**table)


def test_the_published_table_lists_used_measures_and_warns_of_undeclared_ones() -> None:
    activity = pd.DataFrame({"source_id": ["a", "a", "b"], "measure": ["percentage_occupancy", "widgets",
                                                                       "widgets"]})
    flows = pd.DataFrame({"source_id": ["c"], "measure": ["referrals"]})
    table, warnings = published_measures(MeasuresSettings(), activity, flows)
    # used measures, what they refer to (numerator, denominator) and the demand set, each once, by name
    assert list(table["measure"]) == ["admissions", "attendances", "occupied_bed_days", "percentage_occupancy",
                                      "referrals", "staffed_bed_days", "widgets"]
    row = table.set_index("measure").loc["percentage_occupancy"]
    assert (row["period_figure"], row["numerator"], row["denominator"], row["scale"]) == (
        "ratio", "occupied_bed_days", "staffed_bed_days", 100.0)
    assert table.set_index("measure").loc["widgets", ["unit", "origin"]].tolist() == ["widgets", "undeclared"]
    assert table["demand"].tolist() == [True, True, False, False, True, False, False]
    assert warnings[["source_id", "check", "severity", "value"]].values.tolist() == [
        ["a", "measure_undeclared", "warn", "widgets"], ["b", "measure_undeclared", "warn", "widgets"]]
    assert "[measures.catalogue.widgets]" in warnings["message"].iloc[0]
