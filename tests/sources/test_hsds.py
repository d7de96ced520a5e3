"""The `hsds` kind on Open Referral's official HSDS 3.0 examples: the tabular package and the JSON records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from expectations.errors import SourceError
from sources import SourceRequest, extract
from sources.base import ROW_COLUMN
from sources.hsds import HSDS

ORGANISATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SERVICE = "ac148810-d857-441c-9679-408f346de14b"
PHONE = '"+44 1234 234567"'  # the example's number carries its own quotes
# The four foreign-key failures Frictionless reports for the package: (file, line, column, value, referenced)
KNOWN_BROKEN = [
    ("locations.csv", 2, "organization_id", "985e4a42-bd9f-4edc-911d-0243a4640aca", "organization.id"),
    ("contacts.csv", 2, "organization_id", "ae67a707-5893-4225-b0b1-320ab9cb596b", "organization.id"),
    (
        "contacts.csv",
        2,
        "service_at_location_id",
        "93eaf18d-1cd2-4ec7-bffb-3c9172ee5070",
        "service_at_location.id",
    ),
    ("taxonomy_terms.csv", 2, "taxonomy_id", "07ff6aee-a219-438c-b694-d2fcb6c5373b", "taxonomy.id"),
]


def request(location: Path, **options: object) -> SourceRequest:
    return SourceRequest(
        source_id="hsds",
        location=location,
        table=None,
        options=HSDS.options(**options),
        folder=location.parent,
    )


@pytest.fixture
def hsds(shared_data: Path) -> Path:
    return shared_data / "hsds3"


@pytest.fixture
def package_copy(hsds: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(hsds / "csv", folder)
    for file in folder.iterdir():
        file.chmod(0o644)  # the shared copies are read-only
    return folder


def test_tabular_package_yields_its_organisation_and_service(hsds: Path) -> None:
    raw = HSDS.read(request(hsds / "csv"))
    organisations, services = raw.tables["organisations"], raw.tables["services"]
    assert organisations.to_dict("records") == [
        {
            "organisation_key": ORGANISATION,
            "name": "Example Organization Inc.",
            "email": "email@example.com",
            "website": "http://example.com",
            "phone": PHONE,
            ROW_COLUMN: 2,
        }
    ]
    assert len(services) == 1
    service = services.iloc[0]
    assert (service["service_key"], service["name"], service["organisation_key"], service["status"]) == (
        SERVICE,
        "Community Counselling",
        ORGANISATION,
        "active",
    )
    assert service["external_ids"] == f"hsds:{SERVICE}"
    assert service["description"].startswith("Counselling Services provided by trained professionals.")
    assert service[ROW_COLUMN] == 2


def test_tabular_package_reports_exactly_the_four_broken_foreign_keys(hsds: Path) -> None:
    problems = HSDS.read(request(hsds / "csv")).problems
    found = [(Path(p.location or "").name, p.row_number, p.column, p.value) for p in problems]
    assert found == [known[:4] for known in KNOWN_BROKEN]
    for problem, (file, _, column, value, referenced) in zip(problems, KNOWN_BROKEN, strict=True):
        assert problem.check == "broken_reference" and problem.severity == "error"
        assert problem.source_id == "hsds"
        assert problem.location == str(hsds / "csv" / file)
        assert problem.message.endswith(
            f".{column} = {value} refers to {referenced}, which has no such value"
        )


def test_the_package_can_be_named_by_its_descriptor_and_every_resource_is_hashed(hsds: Path) -> None:
    by_folder = extract(HSDS, request(hsds / "csv"))
    by_descriptor = extract(HSDS, request(hsds / "csv" / "datapackage.json"))
    for table in ("organisations", "services"):
        pd.testing.assert_frame_equal(by_folder.tables[table], by_descriptor.tables[table])
    assert by_descriptor.problems == by_folder.problems
    assert by_descriptor.provenance.rows == 2
    assert HSDS.hashed_files is not None
    hashed = HSDS.hashed_files(request(hsds / "csv" / "datapackage.json"))
    assert sorted(p.name for p in hashed) == sorted(p.name for p in (hsds / "csv").glob("*.csv"))
    assert extract(HSDS, request(hsds / "csv")).provenance.sha256 == by_folder.provenance.sha256


def test_a_service_with_a_broken_reference_is_left_out_and_its_problem_is_its_reject(
    package_copy: Path,
) -> None:
    services_csv = package_copy / "services.csv"
    services_csv.write_text(
        services_csv.read_text(encoding="utf-8").replace(
            f"{SERVICE},{ORGANISATION}", f"{SERVICE},no-such-organisation"
        ),
        encoding="utf-8",
    )
    raw = HSDS.read(request(package_copy))
    assert raw.tables["services"].empty
    own = [p for p in raw.problems if p.location == str(services_csv)]
    assert [(p.row_number, p.column, p.value) for p in own] == [
        (2, "organization_id", "no-such-organisation")
    ]
    # references to the service from other resources still resolve: the check reads the file, not the frame
    assert len(raw.problems) == len(KNOWN_BROKEN) + 1


def test_empty_references_are_optional_not_broken(package_copy: Path) -> None:
    services_csv = package_copy / "services.csv"
    services_csv.write_text(
        services_csv.read_text(encoding="utf-8").replace(
            f"{ORGANISATION},e7ec2e57-4540-43fa-b2c7-6be5a0ef7f42", f"{ORGANISATION},"
        ),
        encoding="utf-8",
    )
    raw = HSDS.read(request(package_copy))
    assert len(raw.problems) == len(KNOWN_BROKEN)
    assert raw.tables["services"]["service_key"].tolist() == [SERVICE]


def test_a_resource_listed_but_missing_is_an_error(package_copy: Path) -> None:
    (package_copy / "phones.csv").unlink()
    with pytest.raises(SourceError, match=r"phones\.csv: resource 'phone' is listed in datapackage\.json"):
        HSDS.read(request(package_copy))


@pytest.mark.parametrize("file", ["service_full.json", "service_list.json"])
def test_json_services_carry_their_organisation(hsds: Path, file: str) -> None:
    raw = HSDS.read(request(hsds / file))
    assert raw.problems == []
    services, organisations = raw.tables["services"], raw.tables["organisations"]
    assert services[
        ["service_key", "name", "organisation_key", "status", "external_ids", ROW_COLUMN]
    ].to_dict("records") == [
        {
            "service_key": SERVICE,
            "name": "Community Counselling",
            "organisation_key": ORGANISATION,
            "status": "active",
            "external_ids": f"hsds:{SERVICE}",
            ROW_COLUMN: 1,
        }
    ]
    assert organisations[["organisation_key", "name", "website", ROW_COLUMN]].to_dict("records") == [
        {
            "organisation_key": ORGANISATION,
            "name": "Example Organization Inc.",
            "website": "http://example.com",
            ROW_COLUMN: 1,
        }
    ]


def test_json_organisation_carries_its_services(hsds: Path) -> None:
    raw = HSDS.read(request(hsds / "organization_full.json"))
    organisation = raw.tables["organisations"].iloc[0]
    assert (organisation["organisation_key"], organisation["phone"], organisation["email"]) == (
        ORGANISATION,
        PHONE,
        "email@example.com",
    )
    services = raw.tables["services"]
    assert services[["service_key", "organisation_key"]].values.tolist() == [[SERVICE, ORGANISATION]]


def test_json_organisation_list_without_phones(hsds: Path) -> None:
    raw = HSDS.read(request(hsds / "organization_list.json"))
    assert raw.tables["organisations"]["organisation_key"].tolist() == [ORGANISATION]
    assert raw.tables["organisations"]["phone"].isna().all()
    assert raw.tables["services"].empty
    assert list(raw.tables["services"].columns) == [
        "service_key",
        "name",
        "organisation_key",
        "status",
        "description",
        "external_ids",
        ROW_COLUMN,
    ]


def test_json_records_are_deduplicated_by_id_and_numbered_in_document_order(
    hsds: Path, tmp_path: Path
) -> None:
    service = json.loads((hsds / "service_full.json").read_text(encoding="utf-8"))
    other = {**service, "id": "second", "name": "Second service"}
    listing = tmp_path / "services.json"
    listing.write_text(json.dumps([service, other, service]), encoding="utf-8")
    raw = HSDS.read(request(listing))
    assert raw.tables["services"][["service_key", ROW_COLUMN]].values.tolist() == [
        [SERVICE, 1],
        ["second", 2],
    ]
    assert raw.tables["organisations"][["organisation_key", ROW_COLUMN]].values.tolist() == [
        [ORGANISATION, 1]
    ]


@pytest.mark.parametrize("file", ["taxonomy.json", "location.json"])
def test_json_that_holds_no_services_or_organisations_is_an_error(hsds: Path, file: str) -> None:
    with pytest.raises(
        SourceError, match=rf"{file}: record 1 is neither an HSDS service nor an organization"
    ):
        HSDS.read(request(hsds / file))


def test_format_tabular_needs_a_data_package(hsds: Path) -> None:
    with pytest.raises(SourceError, match=r"has no `resources` list"):
        HSDS.read(request(hsds / "service_full.json", format="tabular"))
