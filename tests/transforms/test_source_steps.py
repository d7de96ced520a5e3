"""A source's shaping steps on small literal frames, and on the real PHS files in ../shared/data."""

from pathlib import Path

import pandas as pd
import pytest

from sources.tabular import csv_frame
from transforms.numbers import NumberRule
from transforms.source_steps import (
    EXTERNAL_IDS_COLUMN,
    ROW_COLUMN,
    Condition,
    Lookup,
    SourceSteps,
    Unpivot,
    condition_mask,
    looked_up,
    measure_from_header,
    selected_rows,
    shaped,
    unpivoted,
    with_external_ids,
)
from transforms.staging import staged
from transforms.standardise import SourceMapping


def raw(rows: list[dict[str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype="object")
    frame.insert(0, ROW_COLUMN, range(2, len(rows) + 2))
    return frame


AGES = raw([{"Board": "S08000024", "Age": "18plus", "Days": "10"},
            {"Board": "S08000024", "Age": "75plus", "Days": "4"},
            {"Board": "S08000015", "Age": "18plus", "Days": "7"},
            {"Board": None, "Age": " 18plus ", "Days": "120"}])


@pytest.mark.parametrize(("condition", "kept"), [
    (Condition("Board", "equals", "S08000024"), [2, 3]),
    (Condition("Board", "not_equals", "S08000024"), [4, 5]),  # an empty cell equals nothing
    (Condition("Age", "in", ("18plus",)), [2, 4, 5]),  # cells are trimmed
    (Condition("Age", "not_in", ("18plus",)), [3]),
    (Condition("Days", "gt", 9), [2, 5]),  # a number compares as a number: "120" > 9
    (Condition("Days", "le", 7), [3, 4]),
    (Condition("Board", "empty", True), [5]),
    (Condition("Board", "empty", False), [2, 3, 4]),
    (Condition(any_of=(Condition("Board", "empty", True), Condition("Age", "equals", "75plus"))), [3, 5]),
])
def test_each_condition_selects_its_rows(condition: Condition, kept: list[int]) -> None:
    assert AGES.loc[condition_mask(AGES, condition), ROW_COLUMN].tolist() == kept


def test_a_comparison_reads_numbers_by_the_source_rule_and_never_guesses() -> None:
    beds = raw([{"Beds": "1,234"}, {"Beds": "12,5"}, {"Beds": "999"}, {"Beds": "1.234,5"}])
    assert beds.loc[condition_mask(beds, Condition("Beds", "gt", 12)), ROW_COLUMN].tolist() == [2, 4]
    comma = NumberRule(decimal=",", thousands=".")
    assert beds.loc[condition_mask(beds, Condition("Beds", "gt", 12), comma), ROW_COLUMN].tolist() == [3, 4, 5]


def test_conditions_combine_with_and_and_count_what_they_leave_out() -> None:
    frame, filtered = selected_rows(AGES, [Condition("Board", "equals", "S08000024"),
                                           Condition("Age", "equals", "18plus")])
    assert frame[ROW_COLUMN].tolist() == [2] and filtered == 3


def test_unpivot_keeps_ids_pairs_qualifiers_and_keeps_file_order() -> None:
    wide = raw([{"Site": "A", "Staffed": "10", "StaffedQF": None, "Occupied": "8", "OccupiedQF": "c"},
                {"Site": "B", "Staffed": "5", "StaffedQF": "p", "Occupied": "1", "OccupiedQF": None}])
    long = unpivoted(wide, Unpivot({"Staffed": "staffed_bed_days", "Occupied": "occupied_bed_days"}, "QF"))
    assert list(long.columns) == [ROW_COLUMN, "Site", "measure", "value", "qualifier"]
    assert long.drop(columns=ROW_COLUMN).values.tolist() == [
        ["A", "staffed_bed_days", "10", None], ["A", "occupied_bed_days", "8", "c"],
        ["B", "staffed_bed_days", "5", "p"], ["B", "occupied_bed_days", "1", None]]
    assert long[ROW_COLUMN].tolist() == [2, 2, 3, 3]  # each long row names its line of the file


def test_measures_derive_from_headers() -> None:
    assert measure_from_header("TotalOccupiedBeddays") == "total_occupied_beddays"
    assert measure_from_header("Average Available Beds (%)") == "average_available_beds"


HOSPITALS = pd.DataFrame({"Location": ["S314H", "S308H"], "Name": ["Royal Infirmary", "St John's"],
                          "HSCP": ["S37000012", "S37000030"]})


def test_a_lookup_adds_columns_and_rejects_keys_it_lacks_naming_key_lookup_and_file() -> None:
    frame = raw([{"Site": "S314H"}, {"Site": "X999X"}, {"Site": " S308H "}])
    lookup = Lookup("phs/hospitals.csv", HOSPITALS, on="Site", key="Location", take={"Name": "name", "HSCP": "hscp"})
    found, rejects = looked_up(frame, lookup, "beds", "beds.csv")
    assert found[["Site", "name", "hscp"]].values.tolist() == [["S314H", "Royal Infirmary", "S37000012"],
                                                               [" S308H ", "St John's", "S37000030"]]
    assert rejects[["row_number", "column", "check", "value"]].values.tolist() == [[3, "Site", "lookup_unmatched",
                                                                                    "X999X"]]
    assert "Location of lookup phs/hospitals.csv" in rejects["message"].iloc[0]


def test_a_lookup_may_keep_unmatched_rows_and_fills_an_existing_column_where_it_matches() -> None:
    frame = raw([{"Site": "S314H", "name": "A&E S314H"}, {"Site": "residence", "name": "Home"}])
    lookup = Lookup("hospitals", HOSPITALS, "Site", "Location", {"Name": "name"}, unmatched="keep")
    found, rejects = looked_up(frame, lookup, "ae", "ae.csv")
    assert found["name"].tolist() == ["Royal Infirmary", "Home"] and rejects.empty


def test_external_ids_come_from_columns() -> None:
    frame = with_external_ids(raw([{"Location": "S314H", "Ods": "ABC"}, {"Location": "S308H", "Ods": None}]),
                              {"phs_location": "Location", "ods": "Ods"})
    assert frame[EXTERNAL_IDS_COLUMN].tolist() == ["ods:ABC;phs_location:S314H", "phs_location:S308H"]


def test_steps_apply_in_order_and_staging_counts_filtered_rows_apart_from_rejects() -> None:
    wide = raw([{"Board": "B1", "Site": "S314H", "Quarter": "2025Q2", "Beds": "10", "BedsQF": None},
                {"Board": "B2", "Site": "S314H", "Quarter": "2025Q2", "Beds": "99", "BedsQF": None},
                {"Board": "B1", "Site": "NOPE", "Quarter": "2025Q2", "Beds": "3", "BedsQF": None}])
    steps = SourceSteps(where=(Condition("Board", "equals", "B1"),), unpivot=Unpivot({"Beds": "staffed_beds"}, "QF"),
                        lookups=(Lookup("hospitals", HOSPITALS, "Site", "Location", {"Name": "hospital"}),))
    assert shaped(wide, steps, "beds", "beds.csv").rows_filtered == 1
    mapping = SourceMapping("beds", "phs", "beds.csv", columns={"service_key": "Site", "period": "Quarter"})
    result = staged(wide, "activity", mapping, steps)
    assert result.rows_read == 3 and result.rows_filtered == 1
    assert result.frame[["service_key", "measure", "value"]].values.tolist() == [["S314H", "staffed_beds", 10.0]]
    assert str(result.frame["period_end"].iloc[0].date()) == "2025-06-30"  # a quarter stays a quarter
    errors = result.rejects[result.rejects["severity"] == "error"]
    assert errors["check"].tolist() == ["lookup_unmatched"]
    warned = set(result.rejects.loc[result.rejects["severity"] == "warn", "column"])
    assert warned == {"hospital"}  # Board and Site were used by the steps: not unknown columns


def test_a_step_naming_a_column_the_file_lacks_blocks_the_source_with_the_key() -> None:
    steps = SourceSteps(where=(Condition("Bord", "equals", "B1"),))
    result = staged(raw([{"Board": "B1", "Unit": "U", "Month": "2025-04", "N": "1"}]), "activity",
                    SourceMapping("s", "p", "s.csv", columns={"service_key": "Unit", "period": "Month", "value": "N"},
                                  constants={"measure": "x"}), steps)
    missing = result.rejects[result.rejects["check"] == "missing_column"]
    assert missing["column"].tolist() == ["Bord"] and "where[0]" in missing["message"].iloc[0]
    assert result.frame.empty


# ---- the real files -------------------------------------------------------------------------------------------

def _real(shared_data: Path, name: str) -> pd.DataFrame:
    path = shared_data / "phs" / name
    return csv_frame(path.read_text(encoding="utf-8-sig"), str(path))


def test_where_keeps_one_board_18plus_all_reasons_of_the_real_delayed_discharge_file(shared_data: Path) -> None:
    frame = _real(shared_data, "2022-09_delayed-discharge-beddays-health-board.csv")
    kept, filtered = selected_rows(frame, [Condition("HBT", "equals", "S08000024"),
                                           Condition("AgeGroup", "equals", "18plus"),
                                           Condition("ReasonForDelay", "equals", "All Delay Reasons")])
    assert len(kept) + filtered == len(frame)
    assert not kept.duplicated("MonthOfDelay").any()  # one row per month: nothing for row order to decide
    assert kept.loc[kept["MonthOfDelay"] == "202104", "NumberOfDelayedBedDays"].tolist() == ["5154"]


def test_unpivot_reads_the_real_quarterly_beds_file_with_its_quoted_empty_qualifiers(shared_data: Path) -> None:
    frame = _real(shared_data, "beds_by_nhs_board_of_treatment_and_specialty_Q3_2022.csv")
    steps = SourceSteps(where=(Condition("HB", "equals", "S08000024"), Condition("Specialty", "equals", "Z9"),
                               Condition("LocationQF", "empty", True)),
                        unpivot=Unpivot({"AllStaffedBeddays": "staffed_bed_days",
                                         "PercentageOccupancy": "occupancy_percent"}, "QF"))
    mapping = SourceMapping("beds", "phs", "beds.csv", columns={"service_key": "Location", "period": "Quarter"})
    result = staged(frame, "activity", mapping, steps)
    assert (result.rejects["severity"] == "warn").all()
    royal = result.frame[(result.frame["service_key"] == "S314H") & (result.frame["measure"] == "staffed_bed_days")]
    q3 = royal[royal["period_start"] == pd.Timestamp("2022-07-01")]
    assert q3["period_end"].tolist() == [pd.Timestamp("2022-09-30")] and q3["value"].tolist() == [97978.0]
    assert result.rows_filtered == len(frame) - len(result.frame) // 2


def test_lookups_chain_on_the_real_hospital_list_and_council_lookup(shared_data: Path) -> None:
    hospitals = _real(shared_data, "current-hospital_flagged20211216.csv")
    councils = _real(shared_data, "ca11_ca19.csv")
    current, _ = selected_rows(councils, [Condition("HSCPDateArchived", "empty", True)])
    names = current[["HSCP", "HSCPName"]].drop_duplicates()
    steps = SourceSteps(where=(Condition("HB", "equals", "S08000024"),),
                        lookups=(Lookup("ca11_ca19.csv", names, "HSCP", "HSCP", {"HSCPName": "locality"}),),
                        external_ids={"phs_location": "Location"})
    result = shaped(hospitals, steps, "hospitals", "hospitals.csv")
    assert result.rejects.empty and len(result.frame) == 34
    row = result.frame[result.frame["Location"] == "S308H"].iloc[0]
    assert row["locality"] == "West Lothian" and row[EXTERNAL_IDS_COLUMN] == "phs_location:S308H"
