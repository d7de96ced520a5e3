"""A small map for the poster, interactive map and export tests: three lanes, three sectors, suppressed values
(partly and wholly), a flow too small to draw, a service carrying an initiative and one whose name is markup."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd

from expectations.measures import builtin_catalogue
from outputs.context import LaneStyle, PosterOptions, PublishedVersion
from transforms.graph import service_graph

ED, AMU, WARD, CAH, XSS = (f"svc_{n:012x}" for n in range(1, 6))
HOSTILE_NAME = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
LANES = [LaneStyle("urgent_care", "Urgent care", "#e06666"), LaneStyle("acute", "Acute hospital", "#6fa8dc"),
         LaneStyle("social_care", "Social care", "#93c47d")]
SECTOR_COLOURS = {"nhs": "#005eb8", "local_authority": "#d9ead3"}
NHS, COUNCIL, CHARITY = "org_000000000001", "org_000000000002", "org_000000000003"


def _month(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(text + "-01")
    return start, start + pd.offsets.MonthEnd(0)


def small_tables() -> dict[str, pd.DataFrame]:
    organisations = pd.DataFrame({
        "organisation_id": [NHS, COUNCIL, CHARITY], "name": ["NHS Small", "Small Council", "Small Charity"],
        "sector": ["nhs", "local_authority", "third_sector"], "partner": ["nhs", "council", "charity"],
        "email": None, "phone": None, "website": None, "source_id": "config"})
    services = pd.DataFrame({
        "service_id": [ED, AMU, WARD, CAH, XSS],
        "name": ["Emergency Department", "Acute Medical Unit", "Ward 7", "Care at home", HOSTILE_NAME],
        "organisation_id": [NHS, NHS, NHS, COUNCIL, CHARITY],
        "lane": ["urgent_care", "acute", "acute", "social_care", "social_care"],
        "setting": ["Royal Infirmary", None, None, None, None],
        "client_groups": ["Adults;Older people", "Adults", None, "Older people", None],
        "locality": None, "area_code": "S37000001", "status": None,
        "external_ids": ["phs_location:A101H", None, None, None, None],
        "source_id": ["nhs_services", "nhs_services", "nhs_services", "council_services", "charity_services"],
        "source_ids": ["nhs_services", "nhs_services", "nhs_services", "council_services", "charity_services"]})
    rows = []
    for sid, month, measure, value, qualifier in [
        (ED, "2025-04", "attendances", 1200.0, None), (ED, "2025-05", "attendances", 1300.0, None),
        (AMU, "2025-04", "attendances", None, "c"), (AMU, "2025-05", "attendances", 50.0, None),
        (WARD, "2025-04", "bed_days", None, "c"), (WARD, "2025-05", "bed_days", None, "c"),
        (CAH, "2025-04", "contacts", 400.0, None),
    ]:
        start, end = _month(month)
        rows.append((sid, start, end, measure, value, qualifier, "activity_source"))
    activity = pd.DataFrame(rows, columns=["service_id", "period_start", "period_end", "measure", "value",
                                           "qualifier", "source_id"])
    rows = []
    for source, target, month, value, qualifier in [
        (ED, AMU, "2025-04", 300.0, None), (AMU, CAH, "2025-04", 20.0, None), (AMU, WARD, "2025-05", 1.0, None),
        (WARD, XSS, "2025-04", None, "c"), (WARD, XSS, "2025-05", None, "c"),
    ]:
        start, end = _month(month)
        rows.append((source, target, start, end, "referrals", value, qualifier, "flow_source"))
    flows = pd.DataFrame(rows, columns=["from_service_id", "to_service_id", "period_start", "period_end",
                                        "measure", "value", "qualifier", "source_id"])
    initiatives = pd.DataFrame({"initiative_id": ["frailty"], "name": ["Frailty at the front door"],
                                "status": ["active"], "service_ids": [ED], "lead_organisation_id": [NHS]})
    rejects = pd.DataFrame(columns=["source_id", "location", "row_number", "column", "check", "severity", "value",
                                    "message"])
    measures = builtin_catalogue().frame([*activity["measure"], *flows["measure"]])
    return {"organisations": organisations, "services": services, "activity": activity, "flows": flows,
            "initiatives": initiatives, "measures": measures, "rejects": rejects}


def small_graph(tables: dict[str, pd.DataFrame] | None = None) -> nx.DiGraph:
    tables = tables or small_tables()
    return service_graph(tables["services"], tables["organisations"], tables["activity"], tables["flows"],
                         tables["initiatives"], measures=tables["measures"])


def small_version(folder: Path, options: PosterOptions | None = None, quality: dict | None = None) -> PublishedVersion:
    tables = small_tables()
    return PublishedVersion(
        folder=folder, version_id="v0007", map_id="small", title="Small map", area_code="S37000001",
        area_name="Small HSCP", population="adults", period_start="2025-04", period_end="2025-05", lanes=LANES,
        sector_colours=SECTOR_COLOURS, partners={"nhs": "NHS Small", "council": "Small Council"},
        attributions=["Contains public sector information licensed under the Open Government Licence v3.0"],
        licences=[{"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0"}], tables=tables,
        graph=small_graph(tables), sources=[{"source_id": "council_services", "status": "stale"}],
        quality=quality or {}, poster=options or PosterOptions())
