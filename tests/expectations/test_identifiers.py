"""The personal-identifier guard: CHI and NHS numbers, names, dates of birth and full postcodes are found by
column and count, never shown by value; look-alikes (codes, service names, event dates, postcode districts) are
not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from expectations.identifiers import (
    SAMPLE_ROWS,
    IdentifierFinding,
    column_findings,
    identifier_findings,
    modulus_11_valid,
    normalised_column_name,
)


def check_digit(nine: str) -> int:
    """The modulus-11 check digit of nine digits (10 means the number is never issued)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    return (11 - total % 11) % 11


def chi_numbers(count: int, seed: int = 0) -> list[str]:
    """Valid CHI numbers: DDMMYY, three digits, a modulus-11 check digit."""
    rng = np.random.default_rng(seed)
    found: list[str] = []
    while len(found) < count:
        day, month, year, serial = rng.integers(1, 29), rng.integers(1, 13), rng.integers(0, 100), rng.integers(0, 1000)
        nine = f"{day:02d}{month:02d}{year:02d}{serial:03d}"
        check = check_digit(nine)
        if check != 10:
            found.append(nine + str(check))
    return found


def kinds(frame: pd.DataFrame, **declared: list[str]) -> dict[str, str]:
    return {f.column: f.kind for f in identifier_findings(frame, **declared)}


def test_modulus_11() -> None:
    digits = pd.Series(["9434765919", "9434765918", "4010232137", "0101010000"])
    assert modulus_11_valid(digits).tolist() == [True, False, True, False]


SPELLINGS = {
    "plain": lambda n: n,
    "date and serial": lambda n: f"{n[:6]} {n[6:]}",
    "three groups": lambda n: f"{n[:3]} {n[3:6]} {n[6:]}",
    "dashes": lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}",
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_chi_numbers_are_found_however_they_are_spaced(spelling: str) -> None:
    written = [SPELLINGS[spelling](n) for n in chi_numbers(40)]
    frame = pd.DataFrame({"__row__": range(40), "Ref": written, "Team": ["DN"] * 40})
    found = identifier_findings(frame)
    assert [(f.column, f.kind, f.matches, f.scanned) for f in found] == [("Ref", "chi_number", 40, 40)]


def test_nhs_numbers_without_a_date_are_nhs_numbers() -> None:
    frame = pd.DataFrame({"nhs_no": ["943 476 5919", "9434765919", "401 023 2137", None, ""]})
    assert kinds(frame) == {"nhs_no": "nhs_number"}


def test_random_ten_digit_codes_are_not_identifiers() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"Case Ref": [str(v) for v in rng.integers(10**9, 10**10, 2000)],
                          "Phone": [f"0{v}" for v in rng.integers(10**9, 10**10, 2000)]})
    assert identifier_findings(frame) == []


def test_a_meaningful_share_is_needed_but_a_minority_of_chi_numbers_is_enough() -> None:
    codes = [f"SVC{i:04d}" for i in range(100)]
    assert kinds(pd.DataFrame({"x": chi_numbers(10) + codes[:90]})) == {}
    assert kinds(pd.DataFrame({"x": chi_numbers(25) + codes[:75]})) == {"x": "chi_number"}


@pytest.mark.parametrize("column", ["Patient Name", "Forename", "surname", "ClientName", "service_user_name",
                                    "FULL NAME", "first_name"])
def test_names_in_a_name_column_are_found(column: str) -> None:
    frame = pd.DataFrame({column: ["Jane Smith", "MacLeod, Iain", "Anne-Marie O'Neill", "Ali", "Zoë Brown"]})
    assert kinds(frame) == {column: "name"}


def test_service_and_organisation_names_are_not_peoples_names() -> None:
    frame = pd.DataFrame({"Service Name": ["Care at Home", "Reablement"], "name": ["Emergency Department", "AMU"],
                          "Team Name": ["District Nursing Glenmuir", "Rapid Response"]})
    assert identifier_findings(frame) == []


def test_a_name_column_of_codes_is_not_names() -> None:
    assert identifier_findings(pd.DataFrame({"surname": ["X123", "Y-22", "1 2 3"]})) == []


@pytest.mark.parametrize("column,values", [
    ("DOB", ["1950-03-04", "1948-12-31", "1931-01-01"]),
    ("Date of Birth", ["04/03/1950", "31/12/1948", "01/01/1931"]),
    ("DateOfBirth", ["19500304", "19481231", "19310101"]),
    ("birth_date", ["1950-03-04 00:00:00", "1948-12-31 00:00:00", None]),
])
def test_dates_of_birth_are_found(column: str, values: list[str | None]) -> None:
    assert kinds(pd.DataFrame({column: values})) == {column: "date_of_birth"}


def test_event_dates_and_birth_years_are_not_dates_of_birth() -> None:
    frame = pd.DataFrame({"Incident Date": ["2025-04-01", "2025-04-02"], "year_of_birth": ["1950", "1948"]})
    assert identifier_findings(frame) == []


def test_full_postcodes_are_found_and_districts_are_not() -> None:
    frame = pd.DataFrame({
        "Home": ["EH1 1AA", "g12 8qq", "KW151HR", "AB10 1AB", "SW1A 2AA"],
        "District": ["EH1", "G12", "KW15", "AB10", "SW1A"],
        "Sector": ["EH1 1", "G12 8", "KW15 1", "AB10 1", "SW1A 2"],
    })
    found = identifier_findings(frame)
    assert [(f.column, f.kind, f.matches) for f in found] == [("Home", "postcode", 5)]


def test_declared_safe_and_pseudonymised_columns_are_not_scanned() -> None:
    frame = pd.DataFrame({"Site Postcode": ["EH1 1AA", "G12 8QQ"], "pseudo_id": chi_numbers(2),
                          "patient_name": ["Jane Smith", "Iain MacLeod"]})
    assert kinds(frame, safe_columns=["Site Postcode"], pseudonymised_columns=["pseudo_id"]) == {
        "patient_name": "name"}


def test_findings_and_messages_never_carry_a_value() -> None:
    numbers = chi_numbers(30)
    frame = pd.DataFrame({"Ref": numbers, "DOB": ["1950-03-04"] * 30, "Name of patient": ["Jane Smith"] * 30})
    found = identifier_findings(frame)
    assert {f.column for f in found} == {"Ref", "DOB"}  # "Name of patient" is no known name column
    for finding in found:
        text = repr(finding) + finding.message(30)
        assert not any(n in text for n in numbers) and "1950" not in text
        assert finding.column in finding.message(30) and "safe_columns" in finding.message(30)


def test_a_large_table_is_judged_on_an_even_sample() -> None:
    rows = 400_000
    codes = np.array([f"SVC{i:03d}" for i in range(300)])
    chi = np.array(chi_numbers(500))
    frame = pd.DataFrame({"Team": codes[np.arange(rows) % 300], "Patient": chi[np.arange(rows) % 500],
                          "Count": np.arange(rows)})
    found = identifier_findings(frame)
    assert [(f.column, f.kind, f.scanned) for f in found] == [("Patient", "chi_number", SAMPLE_ROWS)]
    assert "a sample of 400,000 rows" in found[0].message(rows)


def test_odd_values_do_not_break_the_scan() -> None:
    frame = pd.DataFrame({"digits": ["١٢٣٤٥٦٧٨٩٠", "0123456780", None, "  "], "numbers": [1.5, np.nan, 3, 4],
                          "empty": [None, None, None, None]})
    assert identifier_findings(frame) == []


def test_column_names_are_read_in_any_style() -> None:
    assert normalised_column_name("DateOfBirth") == "date_of_birth"
    assert normalised_column_name(" Patient  Name ") == "patient_name"
    assert isinstance(identifier_findings(pd.DataFrame({"PatientSurname": ["Smith"]}))[0], IdentifierFinding)


def test_repeated_values_count_as_often_as_they_occur() -> None:
    """Each distinct value is tested once: its matches still count every occurrence, and so do the values that
    do not match (a few CHI numbers repeated across many rows are a meaningful share; once each they are not)."""
    chi = chi_numbers(3)
    repeated = pd.DataFrame({"x": chi * 10 + ["A"] * 70, "patient_name": ["Ann Lee"] * 60 + ["X1"] * 40})
    found = {f.column: (f.kind, f.matches, f.scanned) for f in identifier_findings(repeated)}
    assert found == {"x": ("chi_number", 30, 100), "patient_name": ("name", 60, 100)}
    assert kinds(pd.DataFrame({"x": chi + ["A"] * 97})) == {}


def test_a_table_is_judged_column_by_column_though_scanned_at_once() -> None:
    """All columns are tested in one pass: each finding still belongs to its own column, counted over its own
    values, whatever the other columns hold (the same values in another column, nothing at all)."""
    rng = np.random.default_rng(7)
    chi = chi_numbers(40, seed=3)
    columns = {
        "patient_name": ["Ann Lee", "Bo Chan", None, "X1"] * 10,
        "ref": chi[:25] + ["A"] * 15,
        "empty": [None] * 40,
        "dob": ["01/02/1950"] * 30 + ["  "] * 10,
        "copy_of_ref": list(rng.permutation(chi[:10] + ["Ann Lee"] * 30)),
        "postcode": ["EH1 1AA", "G2 3BB", "EH1", "KY16 9"] * 10,
        "date_of_birth": chi[:20] + ["1950-01-01"] * 20,
    }
    frame = pd.DataFrame(columns)
    alone = [finding for name in columns for finding in column_findings(name, frame[name])]
    assert identifier_findings(frame) == alone
    assert {(f.column, f.kind) for f in alone} == {
        ("patient_name", "name"), ("ref", "chi_number"), ("dob", "date_of_birth"), ("copy_of_ref", "chi_number"),
        ("postcode", "postcode"), ("date_of_birth", "chi_number"), ("date_of_birth", "date_of_birth")}
