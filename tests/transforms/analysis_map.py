"""A hand-built five-service map shared by the analysis, scenario and diff tests; every expected answer in those
tests is worked out by hand from the numbers here.

    flows (one month):  A->B 100, C->B 50, B->D 90, B->E 30, D->B 20, E->A 10, C->E 5
    lanes:  A, C community · B, D acute · E social_care          organisations: A, B org1 · C, D org2 · E org3
    activity: A attendances 200 · B admissions 300 (150 a month, two months) + delayed_bed_days 40
              D contacts 60 · E contacts 100 · C none
    initiatives: "Frailty pathway" (B, E) · "Front door" (A, B)
"""

from __future__ import annotations

import pandas as pd

from transforms.consolidate import organisation_id, service_id

A, B, C, D, E = (service_id("nhs", key) for key in "ABCDE")
ORG1, ORG2, ORG3 = organisation_id("nhs", "o1"), organisation_id("nhs", "o2"), organisation_id("council", "o3")
LANES = ["community", "acute", "social_care", "empty_lane"]
APRIL, MAY = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-01")
APRIL_END, MAY_END = pd.Timestamp("2025-04-30"), pd.Timestamp("2025-05-31")


def map_tables() -> dict[str, pd.DataFrame]:
    organisations = pd.DataFrame({
        "organisation_id": [ORG1, ORG2, ORG3, organisation_id("nhs")],
        "name": ["Org One", "Org Two", "Org Three", "NHS"],
        "sector": ["nhs", "nhs", "local_authority", "nhs"],
        "partner": ["nhs", "nhs", "council", "nhs"],
        "email": ["one@example.org", None, "three@example.org", None],
        "phone": [None, "0100 000", None, None],
        "website": [None, None, "https://three.example.org", None],
        "source_id": ["orgs", "orgs", "orgs", "config"],
    })
    services = pd.DataFrame({
        "service_id": [A, B, C, D, E],
        "name": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
        "organisation_id": [ORG1, ORG1, ORG2, ORG2, ORG3],
        "lane": ["community", "acute", "community", "acute", "social_care"],
        "setting": None, "client_groups": None, "locality": None, "area_code": None, "status": None,
        "external_ids": [None, "phs_location:Z101H", None, None, None],
        "source_id": "svc", "source_ids": "svc",
    })
    activity = pd.DataFrame([
        (A, APRIL, APRIL_END, "attendances", 200.0),
        (B, APRIL, APRIL_END, "admissions", 150.0),
        (B, MAY, MAY_END, "admissions", 150.0),
        (B, APRIL, APRIL_END, "delayed_bed_days", 40.0),
        (D, APRIL, APRIL_END, "contacts", 60.0),
        (E, APRIL, APRIL_END, "contacts", 100.0),
    ], columns=["service_id", "period_start", "period_end", "measure", "value"]).assign(qualifier=None, source_id="act")
    flows = pd.DataFrame([
        (A, B, 100.0), (C, B, 50.0), (B, D, 90.0), (B, E, 30.0), (D, B, 20.0), (E, A, 10.0), (C, E, 5.0),
    ], columns=["from_service_id", "to_service_id", "value"]).assign(
        period_start=APRIL, period_end=APRIL_END, measure="referrals", qualifier=None, source_id="flw")
    flows = flows[["from_service_id", "to_service_id", "period_start", "period_end", "measure", "value", "qualifier",
                   "source_id"]]
    initiatives = pd.DataFrame({
        "initiative_id": ["frailty", "front_door"], "name": ["Frailty pathway", "Front door"],
        "status": ["live", None], "service_ids": [f"{B};{E}", f"{A};{B}"], "lead_organisation_id": [ORG1, None],
    })
    return {"organisations": organisations, "services": services, "activity": activity, "flows": flows,
            "initiatives": initiatives}
