"""Generator of the Glenmuir demo map's partner extracts: ten fictional partners of a fictional Health and Social
Care Partnership, each extract in the shape and code system that kind of partner really sends (CSV in several
dialects, an Excel workbook, JSON, a record-level CSV, an Open Referral HSDS package, PHS open-data files).

Seeded and deterministic: the same code writes the same bytes, so the committed extracts can be checked against a
fresh run. Every name, code and number here is invented. Extracts carry each partner's own codes only; the
crosswalks from those codes to the map's services live in ism.toml, and tests/examples checks that every code in
every extract resolves to a listed service.

    python -m examples.demo.generate [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

SEED = 20251
DEFAULT_OUT = Path(__file__).resolve().parent / "extracts"
MONTHS = tuple(f"{2025 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}" for i in range(12))  # 2025-04 .. 2026-03
JULY, DECEMBER, JANUARY = 3, 8, 9  # positions in MONTHS
AREA_CODE = "S37900001"
GLENMUIR_TOWN, KINLOCH, STRATHBRAE = "Glenmuir Town", "Kinloch & Lochside", "Strathbrae"
FIXED_TIME = datetime(2026, 4, 7, 6, 30, 0)  # when every extract claims to have been produced

# partner ids, as in ism.toml: crosswalk values name other partners' services as "partner:key"
ACUTE = "nhs_glenmuir_acute"
COMMUNITY = "nhs_glenmuir_community"
GP = "glenmuir_gp_cluster"
TRIAGE = "national_triage"
AMBULANCE = "northern_ambulance"
COUNCIL = "glenmuir_council"
HOUSING = "glenmuir_housing"
THIRD_SECTOR = "glenmuir_third_sector"
CARE_HOMES = "heather_lodge_care"
PHS = "phs"

# ==== the partners' service lists ==============================================================================

GRI, KGH = "Glenmuir Royal Infirmary", "Kinloch General Hospital"


class Unit(NamedTuple):
    code: str
    name: str
    unit_type: str
    site: str | None
    external_ids: str | None
    admissions: int  # a typical month; 0 when the unit's volume comes from elsewhere
    length_of_stay: float  # days


# Processed in this order: a unit's transfers in must be known before a unit whose volume is its transfers in.
ACUTE_UNITS = [
    Unit("GRI-ED", "Emergency Department, Glenmuir Royal Infirmary", "ED", GRI, "phs_location:Z101H", 0, 0),
    Unit("KGH-MIU", "Minor Injury Unit, Kinloch General Hospital", "MIU", KGH, "phs_location:Z102H", 0, 0),
    Unit("GRI-AMU", "Acute Medical Unit", "AMU", GRI, None, 1420, 1.3),
    Unit("GRI-SAU", "Surgical Assessment Unit", "SAU", GRI, None, 265, 1.1),
    Unit("GRI-FRAIL", "Frailty Assessment Unit", "FRAIL", GRI, None, 185, 2.2),
    Unit("GRI-CCU", "Coronary Care Unit", "CCU", GRI, None, 52, 3.1),
    Unit("GRI-ICU", "Intensive Care Unit", "ICU", GRI, None, 24, 5.6),
    Unit("GRI-STROKE", "Acute Stroke Unit", "WARD-MED", GRI, None, 36, 17.5),
    Unit("GRI-WARD-MED", "General Medicine, Wards 5-8", "WARD-MED", GRI, None, 360, 7.2),
    Unit("GRI-WARD-ELD", "Medicine for the Elderly, Wards 9-11", "WARD-MED", GRI, None, 300, 13.5),
    Unit("GRI-WARD-SURG", "General Surgery, Wards 14-15", "WARD-SURG", GRI, None, 320, 5.1),
    Unit("GRI-WARD-ORTH", "Trauma & Orthopaedics, Ward 16", "WARD-SURG", GRI, None, 118, 11.4),
    Unit("KGH-WARD-MED", "Kinloch General Medical Ward", "WARD-MED", KGH, None, 140, 8.6),
    Unit("KGH-WARD-REHAB", "Kinloch General Rehabilitation Ward", "WARD-REHAB", KGH, None, 46, 24.0),
    Unit("GRI-DISCH", "Discharge Lounge", "DISCH-LOUNGE", GRI, None, 0, 0),
    Unit("HOME", "Home (usual place of residence)", "HOME", None, None, 0, 0),
]
SITE_LOCALITY = {GRI: GLENMUIR_TOWN, KGH: KINLOCH}


class Team(NamedTuple):
    code: str
    name: str
    team_type: str
    locality: str
    client_groups: str


COMMUNITY_TEAMS = [
    Team("CH-DN-GT", "District Nursing – Glenmuir Town", "DN", GLENMUIR_TOWN, "Adults;Older people"),
    Team("CH-DN-KL", "District Nursing – Kinloch & Lochside", "DN", KINLOCH, "Adults;Older people"),
    Team("CH-DN-SB", "District Nursing – Strathbrae", "DN", STRATHBRAE, "Adults;Older people"),
    Team("CH-HAH", "Hospital at Home", "HAH", "Glenmuir-wide", "Older people"),
    Team("CH-CRT", "Community Rehabilitation Team", "REHAB", "Glenmuir-wide", "Adults;Older people"),
    Team("CH-FALLS", "Falls Prevention Service", "REHAB", "Glenmuir-wide", "Older people"),
    Team("CH-BEDS-KL", "Kinloch Community Hospital – inpatient beds", "CH-BED", KINLOCH, "Older people"),
    Team("CH-BEDS-SB", "Strathbrae Community Hospital – inpatient beds", "CH-BED", STRATHBRAE, "Older people"),
    Team("CH-STEPUP", "Rowan House – step-up intermediate care beds", "IC-BED", GLENMUIR_TOWN, "Older people"),
    Team("CH-STEPDN", "Rowan House – step-down intermediate care beds", "IC-BED", GLENMUIR_TOWN, "Older people"),
    Team("CH-MHCT", "Adult Mental Health Crisis Team", "MH-CRISIS", "Glenmuir-wide", "Adults"),
    Team("CH-CMHT", "Community Mental Health Team (adults)", "MH", "Glenmuir-wide", "Adults"),
    Team("CH-PALL", "Community Palliative Care Team", "PALL", "Glenmuir-wide", "Adults;Older people"),
    Team("CH-CTAC", "Community Treatment and Care (CTAC) Service", "CTAC", "Glenmuir-wide", "Adults"),
]


class Practice(NamedTuple):
    code: str
    name: str
    practice_type: str
    locality: str | None
    list_size: int


GP_PRACTICES = [
    Practice("79101", "Brae Médical Practice", "GMS", STRATHBRAE, 21500),
    Practice("79102", "Riverside Practice, Glenmuir Health Centre", "GMS", GLENMUIR_TOWN, 18200),
    Practice("79103", "Kinloch & Lochside Surgery", "GMS", KINLOCH, 16400),
    Practice("79104", "Tolbooth Wynd Medical Group", "GMS", GLENMUIR_TOWN, 24800),
    Practice("79105", "Ardnish Medical Practice", "GMS", KINLOCH, 12300),
    Practice("79106", "Millcroft Surgery", "GMS", GLENMUIR_TOWN, 19600),
    Practice("79107", "Strathbrae Road Practice", "GMS", STRATHBRAE, 14100),
    Practice("79108", "Glenmuir Harbour Practice", "GMS", GLENMUIR_TOWN, 23100),
]
GP_OTHER_SERVICES = [
    Practice("OOH", "Glenmuir GP Out of Hours Service", "OOH", None, 0),
    Practice("PHARMFIRST", "Community pharmacies – Pharmacy First", "PHARM", None, 0),
]
LIST_TOTAL = sum(p.list_size for p in GP_PRACTICES)  # 150,000 registered patients

TRIAGE_SERVICES = [  # code, name, category, setting
    ("SL111", "Scotline 111 telephone triage", "TRIAGE", "telephone"),
    ("SL111-HUB", "Scotline 111 clinical hub (nurse and GP advisers)", "TRIAGE", "telephone"),
    ("SL111-SELF", "Self-care advice (Scotline 111)", "SELF-CARE", "telephone"),
]

AMBULANCE_RESOURCES = [  # code, name, station
    ("A999", "999 emergency response", "Glenmuir ambulance station"),
    ("AFALL", "Falls response team", "Glenmuir ambulance station"),
    ("ASAT", "See and treat (advanced paramedic car)", "Kinloch ambulance station"),
]


class CouncilService(NamedTuple):
    code: str
    name: str
    group: str
    locality: str
    client_groups: str
    registration: str | None  # Care Inspectorate registration number, for registered care services


COUNCIL_SERVICES = [
    CouncilService("SWD", "Adult Social Work Duty and Access Team", "ASSESS", "Glenmuir-wide", "Adults", None),
    CouncilService("HSWT", "Hospital Social Work Team", "ASSESS", "Glenmuir-wide", "Adults;Older people", None),
    CouncilService("LSW-GT", "Locality Social Work – Glenmuir Town", "ASSESS", GLENMUIR_TOWN, "Adults", None),
    CouncilService("LSW-KL", "Locality Social Work – Kinloch & Lochside", "ASSESS", KINLOCH, "Adults", None),
    CouncilService("LSW-SB", "Locality Social Work – Strathbrae", "ASSESS", STRATHBRAE, "Adults", None),
    CouncilService("CAH", "Care at Home", "HOMECARE", "Glenmuir-wide", "Adults;Older people", "CS2004071182"),
    CouncilService("REAB", "Reablement Service", "HOMECARE", "Glenmuir-wide", "Older people", "CS2011290455"),
    CouncilService("TEL", "Telecare and Community Alarm Response", "TECH", "Glenmuir-wide", "Older people",
                   "CS2006133907"),
    CouncilService("DAY", "Older People's Day Services", "DAY", "Glenmuir-wide", "Older people", "CS2003048817"),
    CouncilService("CHPT", "Care Home Placement Team", "ASSESS", "Glenmuir-wide", "Older people", None),
    CouncilService("CHX", "Care home places with other providers", "CAREHOME", "Glenmuir-wide", "Older people",
                   None),
    CouncilService("ASP", "Adult Support and Protection", "PROTECT", "Glenmuir-wide", "Adults", None),
    CouncilService("SDS", "Self-directed Support Team", "ASSESS", "Glenmuir-wide", "Adults", None),
    CouncilService("MHO", "Mental Health Officer Service", "PROTECT", "Glenmuir-wide", "Adults", None),
    CouncilService("RESP", "Birchwood Respite and Short Breaks Unit", "RESPITE", GLENMUIR_TOWN, "Older people",
                   "CS2009217734"),
    CouncilService("ESWS", "Emergency (out of hours) Social Work Service", "OOH", "Glenmuir-wide", "Adults", None),
    CouncilService("OT", "Occupational Therapy and Community Equipment", "EQUIP", "Glenmuir-wide",
                   "Adults;Older people", None),
]

HOUSING_SERVICES = [  # id, name, locality
    ("HOA", "Housing Options and Advice", "Glenmuir-wide"),
    ("HLA", "Homelessness Assessment", "Glenmuir-wide"),
    ("TA", "Temporary Accommodation", "Glenmuir-wide"),
    ("HF", "Housing First", GLENMUIR_TOWN),
    ("ADAPT", "Major Adaptations (council and housing association homes)", "Glenmuir-wide"),
    ("HSS", "Housing Support Service", "Glenmuir-wide"),
    ("SHEL", "Sheltered and Very Sheltered Housing", "Glenmuir-wide"),
    ("HLO", "Hospital Discharge Housing Liaison", GLENMUIR_TOWN),
]


class Organisation(NamedTuple):
    slug: str
    name: str
    alternate_name: str
    description: str
    website: str
    legal_status: str
    year_incorporated: int


class CommunityService(NamedTuple):
    slug: str
    organisation: str  # Organisation.slug
    name: str
    description: str
    contacts: int  # a typical month


THIRD_SECTOR_ORGANISATIONS = [
    Organisation("links", "Glenmuir Community Links", "Community Links",
                 "Community link workers in GP practices and money advice for people in Glenmuir.",
                 "https://communitylinks.glenmuir.example.org", "SCIO", 2012),
    Organisation("carers", "Glenmuir and Kinloch Carers Centre", "Carers Centre",
                 "Information, adult carer support plans and short breaks for unpaid carers.",
                 "https://carers.glenmuir.example.org", "SCIO", 2004),
    Organisation("befriending", "Strathbrae Befriending Network", "Befriending Network",
                 "Volunteer befriending, lunch clubs and practical help after a hospital stay.",
                 "https://befriending.glenmuir.example.org", "Charitable company", 1998),
    Organisation("foodbank", "Glenmuir Community Food Bank", "Food Bank",
                 "Emergency food parcels and help with fuel costs, by referral.",
                 "https://foodbank.glenmuir.example.org", "SCIO", 2013),
    Organisation("wellbeing", "Lochside Wellbeing Hub", "Wellbeing Hub",
                 "Peer support and distress support for adults in crisis or recovery.",
                 "https://wellbeing.glenmuir.example.org", "SCIO", 2017),
]
THIRD_SECTOR_SERVICES = [
    CommunityService("CLW", "links", "Community Link Workers",
                     "Non-clinical support in every GP practice: what matters to you, and who can help.", 420),
    CommunityService("WR", "links", "Welfare Rights and Money Advice",
                     "Benefit checks, appeals and debt advice.", 185),
    CommunityService("CARER", "carers", "Adult Carer Support",
                     "Adult carer support plans, information and peer groups.", 260),
    CommunityService("BREAKS", "carers", "Short Breaks Bureau", "Help to plan and fund short breaks.", 42),
    CommunityService("BEF", "befriending", "Telephone and Home Befriending",
                     "Weekly calls or visits from a trained volunteer.", 310),
    CommunityService("LUNCH", "befriending", "Community Lunch Clubs",
                     "Lunch and company in six village halls.", 880),
    CommunityService("HFH", "befriending", "Home from Hospital Support",
                     "Practical help in the first weeks home from hospital.", 46),
    CommunityService("FOOD", "foodbank", "Emergency Food Parcels", "Three days of food, by referral.", 520),
    CommunityService("FUEL", "foodbank", "Fuel and Energy Support", "Fuel vouchers and energy advice.", 150),
    CommunityService("RECOV", "wellbeing", "Peer Support and Recovery Café",
                     "Drop-in peer support for mental health and addiction recovery.", 380),
    CommunityService("DISTRESS", "wellbeing", "Distress Support Service",
                     "Contact within 24 hours and up to 14 days of support after a crisis.", 72),
]

CARE_HOMES_LIST = [  # home id, name, locality, registration, registered beds
    ("HL-MIL", "Heather Lodge Millcroft", GLENMUIR_TOWN, "CS2008174420", 60),
    ("HL-KIN", "Heather Lodge Kinloch", KINLOCH, "CS2010265531", 48),
    ("HL-STR", "Heather Lodge Strathbrae", STRATHBRAE, "CS2012300118", 40),
    ("HL-ARD", "Heather Lodge Ardnish", KINLOCH, "CS2015345027", 36),
]

PHS_BOARD = "S08900001"  # fictional health board code
PHS_SITES = [  # code, name, department type, file type
    ("Z101H", GRI, "Emergency Department", "Episode"),
    ("Z102H", KGH, "Minor Injury Unit or Other", "Aggregate"),
]

# ==== volumes and pathways (a typical month; seasonality and noise are added) ================================

# share of a unit's monthly volume going to each destination: an acute unit code is a transfer, any other
# code one of the acute team's discharge destination codes; the shares leave room for deaths and the unrecorded
ACUTE_PATHWAYS: dict[str, list[tuple[str, float]]] = {
    "GRI-AMU": [("GRI-WARD-MED", 0.22), ("GRI-WARD-ELD", 0.15), ("GRI-FRAIL", 0.06), ("GRI-CCU", 0.03),
                ("GRI-STROKE", 0.02), ("GRI-ICU", 0.008), ("KGH-WARD-MED", 0.03), ("HOME", 0.40), ("HAH", 0.02),
                ("DN-GT", 0.01)],
    "GRI-SAU": [("GRI-WARD-SURG", 0.33), ("GRI-ICU", 0.01), ("HOME", 0.58), ("DN-GT", 0.02)],
    "GRI-FRAIL": [("GRI-WARD-ELD", 0.25), ("KGH-WARD-REHAB", 0.04), ("HOME", 0.42), ("HAH", 0.12), ("CRT", 0.07),
                  ("HOME-REAB", 0.05), ("IC-STEPDN", 0.02)],
    "GRI-CCU": [("GRI-WARD-MED", 0.35), ("HOME", 0.58)],
    "GRI-ICU": [("GRI-WARD-MED", 0.40), ("GRI-WARD-SURG", 0.38)],
    "GRI-STROKE": [("KGH-WARD-REHAB", 0.18), ("HOME", 0.30), ("CRT", 0.15), ("HOME-POC", 0.10), ("CH-PERM", 0.08)],
    "GRI-WARD-MED": [("GRI-DISCH", 0.25), ("KGH-WARD-REHAB", 0.02), ("HOME", 0.38), ("HOME-POC", 0.08),
                     ("HOME-REAB", 0.06), ("CH-PERM", 0.03), ("DN-GT", 0.03), ("DN-SB", 0.02), ("HOUSING", 0.01)],
    "GRI-WARD-ELD": [("GRI-DISCH", 0.12), ("KGH-WARD-REHAB", 0.04), ("HOME", 0.24), ("HOME-POC", 0.15),
                     ("HOME-REAB", 0.09), ("CH-PERM", 0.07), ("CHOSP-KL", 0.05), ("CHOSP-SB", 0.04),
                     ("IC-STEPDN", 0.06), ("PALL", 0.02)],
    "GRI-WARD-SURG": [("GRI-DISCH", 0.20), ("HOME", 0.62), ("DN-GT", 0.05), ("DN-SB", 0.03), ("DN-KL", 0.02),
                      ("HOME-POC", 0.03)],
    "GRI-WARD-ORTH": [("GRI-DISCH", 0.08), ("KGH-WARD-REHAB", 0.14), ("HOME", 0.30), ("CRT", 0.15),
                      ("HOME-REAB", 0.10), ("HOME-POC", 0.08), ("IC-STEPDN", 0.06), ("CH-PERM", 0.05)],
    "KGH-WARD-MED": [("HOME", 0.55), ("HOME-POC", 0.12), ("HOME-REAB", 0.07), ("CHOSP-KL", 0.08),
                     ("CH-PERM", 0.05), ("DN-KL", 0.05), ("HOUSING", 0.01)],
    "KGH-WARD-REHAB": [("HOME", 0.45), ("HOME-POC", 0.22), ("CH-PERM", 0.12), ("IC-STEPDN", 0.06), ("CRT", 0.06)],
    "GRI-DISCH": [("HOME", 0.84), ("HOME-POC", 0.10), ("HOME-REAB", 0.05)],
}

# per team: (measure label, typical month); the first measure is the volume its discharges are a share of
COMMUNITY_ACTIVITY: dict[str, list[tuple[str, int]]] = {
    "CH-DN-GT": [("Caseload", 460), ("Contacts", 3600)],
    "CH-DN-KL": [("Caseload", 300), ("Contacts", 2300)],
    "CH-DN-SB": [("Caseload", 370), ("Contacts", 2900)],
    "CH-HAH": [("Admissions", 92), ("Occupied bed days", 720)],
    "CH-CRT": [("Referrals received", 165), ("Contacts", 1450)],
    "CH-FALLS": [("Referrals received", 62), ("Contacts", 260)],
    "CH-BEDS-KL": [("Admissions", 28), ("Occupied bed days", 690)],
    "CH-BEDS-SB": [("Admissions", 21), ("Occupied bed days", 520)],
    "CH-STEPUP": [("Admissions", 16), ("Occupied bed days", 210)],
    "CH-STEPDN": [("Admissions", 22), ("Occupied bed days", 440)],
    "CH-MHCT": [("Referrals received", 125), ("Contacts", 720)],
    "CH-CMHT": [("Referrals received", 140), ("Caseload", 1350)],
    "CH-PALL": [("Referrals received", 48), ("Caseload", 95)],
    "CH-CTAC": [("Contacts", 4200)],
}
COMMUNITY_PATHWAYS: dict[str, list[tuple[str, float]]] = {
    "CH-HAH": [("HOME", 0.72), ("ACUTE-GRI", 0.10), ("DN-GT", 0.06), ("DN-SB", 0.04), ("CAH", 0.04), ("PALL", 0.02)],
    "CH-BEDS-KL": [("HOME", 0.48), ("CAH", 0.20), ("CARE HOME", 0.10), ("REAB", 0.05), ("DN-KL", 0.06)],
    "CH-BEDS-SB": [("HOME", 0.50), ("CAH", 0.18), ("CARE HOME", 0.10), ("DN-SB", 0.08)],
    "CH-STEPUP": [("HOME", 0.65), ("CAH", 0.12), ("ACUTE-GRI", 0.08), ("REAB", 0.06)],
    "CH-STEPDN": [("HOME", 0.55), ("CAH", 0.20), ("REAB", 0.10), ("CARE HOME", 0.05)],
    "CH-CRT": [("HOME", 0.75), ("FALLS", 0.08)],
    "CH-MHCT": [("CMHT", 0.30), ("HOME", 0.50)],
}

# GP referrals per 1,000 registered patients per month; None: every locality, else only that locality's practices
GP_REFERRAL_RATES: list[tuple[str, float, str | None]] = [
    ("AE-GRI", 1.1, None), ("MED-ADM-GRI", 1.6, None), ("SURG-ADM-GRI", 0.8, None), ("FRAILTY-GRI", 0.25, None),
    ("MIU-KGH", 0.5, KINLOCH), ("MED-ADM-KGH", 0.7, KINLOCH), ("HAH", 0.2, None), ("CRT", 0.6, None),
    ("FALLS", 0.25, None), ("MH-CRISIS", 0.45, None), ("CMHT", 0.5, None), ("STEP-UP", 0.08, None),
    ("PALL", 0.2, None), ("CTAC", 3.0, None),
]
LOCAL_DISTRICT_NURSES = {GLENMUIR_TOWN: "DN-GT", KINLOCH: "DN-KL", STRATHBRAE: "DN-SB"}
GP_DISTRICT_NURSING_RATE = 1.6
GP_CONTACTS_PER_PATIENT_YEAR = {"F2F": 2.7, "TEL": 2.3, "HV": 0.05}
OOH_CONTACTS = {"F2F": 1150, "TEL": 1650, "HV": 210}
OOH_REFERRALS = {"AE-GRI": 130, "MED-ADM-GRI": 95, "SURG-ADM-GRI": 25, "MIU-KGH": 45, "MED-ADM-KGH": 20, "HAH": 18,
                 "DN-GT": 25, "DN-KL": 12, "DN-SB": 10, "MH-CRISIS": 28, "STEP-UP": 5}
PHARMACY_FIRST_CONSULTATIONS = 5600

TRIAGE_CALLS = 3900
TRIAGE_PATHWAYS = {  # share of the service's volume; "OWN-GP" is split across practices by list size
    "SL111": [("HUB", 0.30), ("OOH", 0.24), ("ED", 0.07), ("MIU", 0.03), ("999", 0.06), ("PHARM", 0.07),
              ("SELF", 0.11), ("OWN-GP", 0.10)],
    "SL111-HUB": [("SELF", 0.34), ("OOH", 0.26), ("PHARM", 0.10), ("OWN-GP", 0.18), ("ED", 0.05), ("999", 0.02),
                  ("MIU", 0.02)],
}

AMBULANCE_INCIDENTS = {"A999": 420, "AFALL": 60, "ASAT": 80}
AMBULANCE_CASE_MIX: dict[str, list[tuple[str, str, float]]] = {  # outcome code, destination code, share
    "A999": [("CONV", "Z101H", 0.60), ("CONV", "Z101H-MAU", 0.06), ("CONV", "Z101H-SAU", 0.02),
             ("CONV", "Z102H", 0.03), ("SAT", "HOME", 0.12), ("REF", "OOH", 0.05), ("REF", "CRT", 0.02),
             ("REF", "NFR", 0.03), ("REF", "MH", 0.02), ("REF", "HAH", 0.02), ("REF", "FALLS", 0.01),
             ("REF", "DN-GT", 0.01), ("REF", "DN-KL", 0.005), ("REF", "DN-SB", 0.005)],
    "AFALL": [("SAT", "HOME", 0.42), ("REF", "FALLS", 0.25), ("REF", "CRT", 0.10), ("CONV", "Z101H", 0.13),
              ("REF", "TEL", 0.06), ("REF", "DN-GT", 0.02), ("REF", "DN-SB", 0.02)],
    "ASAT": [("SAT", "HOME", 0.52), ("REF", "OOH", 0.12), ("REF", "HAH", 0.08), ("CONV", "Z101H", 0.10),
             ("CONV", "Z102H", 0.03), ("REF", "CRT", 0.04), ("REF", "MH", 0.03), ("REF", "DN-GT", 0.03),
             ("REF", "DN-KL", 0.03), ("REF", "DN-SB", 0.02)],
}

COUNCIL_ACTIVITY: dict[str, list[tuple[str, int]]] = {
    "SWD": [("CONTACTS", 650), ("ASSESS", 210)],
    "HSWT": [("ASSESS", 150), ("CASELOAD", 95)],
    "LSW-GT": [("CASELOAD", 620), ("ASSESS", 60)],
    "LSW-KL": [("CASELOAD", 410), ("ASSESS", 45)],
    "LSW-SB": [("CASELOAD", 450), ("ASSESS", 50)],
    "CAH": [("CASELOAD", 1120), ("HOURS", 39500), ("NEW", 95)],
    "REAB": [("CASELOAD", 88), ("HOURS", 4200), ("NEW", 70)],
    "TEL": [("CASELOAD", 3450), ("NEW", 85), ("CONTACTS", 540)],
    "DAY": [("CASELOAD", 215)],
    "CHPT": [("ASSESS", 38), ("CASELOAD", 60)],
    "CHX": [("CASELOAD", 760), ("NEW", 30)],
    "ASP": [("CONCERNS", 85)],
    "SDS": [("CASELOAD", 360)],
    "MHO": [("CASELOAD", 72)],
    "RESP": [("ADM", 28), ("OBD", 560)],
    "ESWS": [("CONTACTS", 280)],
    "OT": [("ASSESS", 120), ("DELIV", 310)],
}
GP_SHORT_NAMES = {"79101": "BRAE", "79102": "RIVERSIDE", "79103": "KINLOCH", "79104": "TOLBOOTH",
                  "79105": "ARDNISH", "79106": "MILLCROFT", "79107": "STRATHBRAE", "79108": "HARBOUR"}
COUNCIL_GP_REFERRAL_RATE = 0.35  # referrals to the duty team per 1,000 registered patients per month
COUNCIL_REFERRALS: list[tuple[str, str, float]] = [  # source code, receiving team, typical month
    ("GP-OOH", "ESWS", 22), ("HOSP-GRI-AE", "ASP", 9), ("HOSP-GRI-AE", "SWD", 12), ("HOSP-GRI-AMU", "HSWT", 20),
    ("HOSP-GRI-FRAILTY", "HSWT", 18), ("HOSP-GRI-MED", "HSWT", 30), ("HOSP-GRI-ELDERLY", "HSWT", 55),
    ("HOSP-GRI-ORTHO", "HSWT", 16), ("HOSP-GRI-STROKE", "HSWT", 8), ("HOSP-KGH-MED", "HSWT", 14),
    ("HOSP-KGH-REHAB", "HSWT", 12), ("AMB-999", "ASP", 7), ("AMB-FALLS", "OT", 4), ("NHS-DN-GT", "SWD", 9),
    ("NHS-DN-KL", "SWD", 6), ("NHS-DN-SB", "SWD", 7), ("NHS-CRT", "REAB", 22), ("NHS-CRT", "OT", 18),
    ("NHS-HAH", "SWD", 5), ("NHS-FALLS", "TEL", 8), ("NHS-FALLS", "OT", 6), ("NHS-CHOSP-KL", "CHPT", 3),
    ("NHS-CHOSP-SB", "CHPT", 2), ("NHS-MH-CRISIS", "MHO", 9), ("NHS-CMHT", "MHO", 6), ("NHS-CMHT", "SWD", 8),
    ("NHS-PALL", "CAH", 6), ("HSG-OPTIONS", "SWD", 5), ("HSG-HOMELESS", "ASP", 3), ("HSG-SUPPORT", "SWD", 4),
    ("HSG-ADAPT", "OT", 10), ("SW-DUTY", "CAH", 42), ("SW-DUTY", "TEL", 64), ("SW-DUTY", "DAY", 9),
    ("SW-DUTY", "LSW-GT", 30), ("SW-DUTY", "LSW-KL", 18), ("SW-DUTY", "LSW-SB", 20), ("SW-DUTY", "SDS", 11),
    ("SW-DUTY", "OT", 25), ("SW-HOSP", "CAH", 48), ("SW-HOSP", "REAB", 36), ("SW-HOSP", "CHPT", 16),
    ("SW-REAB", "CAH", 27), ("SW-CHPT", "CHX", 22), ("SW-LOC-GT", "DAY", 4), ("SW-LOC-GT", "CHPT", 6),
    ("SW-LOC-KL", "RESP", 6), ("SW-LOC-KL", "CHPT", 4), ("SW-LOC-SB", "SDS", 5), ("SW-LOC-SB", "CHPT", 4),
    ("SW-ESWS", "ASP", 5), ("SW-ESWS", "SWD", 30),
]

HOUSING_ACTIVITY: dict[str, list[tuple[str, int]]] = {
    "HOA": [("Approaches", 240)],
    "HLA": [("Assessments", 62)],
    "TA": [("Households at month end", 145)],
    "HF": [("Households at month end", 24)],
    "ADAPT": [("New referrals", 40), ("Completions", 28)],
    "HSS": [("New referrals", 35), ("Households at month end", 310)],
    "SHEL": [("Households at month end", 880)],
    "HLO": [("New referrals", 8)],
}

THIRD_SECTOR_GP_RATES = {"CLW": 0.9, "DISTRESS": 0.15}  # referrals per 1,000 registered patients per month
THIRD_SECTOR_REFERRALS: list[tuple[str, str, float]] = [  # referrer code, service slug, typical month
    ("NHS Crisis Team", "DISTRESS", 18), ("NHS Crisis Team", "RECOV", 5), ("NHS CMHT", "RECOV", 7),
    ("GRI Discharge Lounge", "HFH", 14), ("SW Hospital Team", "HFH", 9), ("Kinloch Rehab Ward", "HFH", 3),
    ("SW Duty", "CARER", 14), ("SW Locality GT", "CARER", 5), ("SW Locality KL", "CARER", 3),
    ("SW Locality SB", "CARER", 4), ("Housing Options", "FOOD", 18), ("Homelessness", "FOOD", 24),
    ("Temporary Accommodation", "FOOD", 12), ("Housing Support", "FUEL", 9), ("NHS District Nursing GT", "BEF", 4),
    ("NHS District Nursing KL", "BEF", 3), ("NHS District Nursing SB", "BEF", 3), ("NHS Community Rehab", "LUNCH", 3),
    ("Ambulance See and Treat", "BEF", 2), ("Telecare", "BEF", 3),
]
THIRD_SECTOR_ONWARD: list[tuple[str, str, float]] = [  # from slug, to slug, typical month
    ("CLW", "WR", 40), ("CLW", "FOOD", 24), ("CLW", "BEF", 14), ("CLW", "LUNCH", 10), ("CLW", "CARER", 12),
    ("CLW", "RECOV", 7), ("CLW", "FUEL", 9), ("WR", "FOOD", 8), ("WR", "FUEL", 12), ("FOOD", "WR", 20),
    ("FOOD", "FUEL", 15), ("CARER", "BREAKS", 18), ("BEF", "LUNCH", 6), ("DISTRESS", "RECOV", 8),
    ("DISTRESS", "CLW", 6),
]

CARE_HOME_ADMISSIONS = {  # referrer code -> admissions per home per month, for a home of 46 beds
    "GRI-MFE": 1.2, "KGH-REHAB": 0.5, "KINLOCH-CH": 0.45, "STRATHBRAE-CH": 0.35, "ROWAN-HOUSE": 0.4,
    "SW-PLACEMENT": 1.0, "SW-RESPITE": 0.15,
}
SELF_FUNDED_ADMISSIONS = 0.8  # per home per month, arriving without a statutory referrer
CARE_HOME_OCCUPANCY = 0.93

ED_ATTENDANCES, MIU_ATTENDANCES = 4000, 620
ED_DESTINATION_SHARES = {"admission_same": 0.27, "other_specialty": 0.002, "transfer": 0.022, "unknown": 0.018}

# ==== shared helpers ===========================================================================================


def rng_for(extract: str) -> random.Random:
    """One seeded generator per extract, so changing one extract never reshuffles the others."""
    return random.Random(f"{SEED}:{extract}")


def seasonal(month: int, amplitude: float, peak: int = JANUARY) -> float:
    """A smooth yearly cycle: 1 + amplitude at the peak month, 1 - amplitude six months later."""
    return 1 + amplitude * math.cos(2 * math.pi * (month - peak) / 12)


def count(rng: random.Random, expected: float) -> int:
    """A Poisson draw (normal approximation above 40), so small flows vary like real small counts."""
    if expected <= 0:
        return 0
    if expected > 40:
        return max(0, round(rng.gauss(expected, math.sqrt(expected))))
    limit, drawn, product = math.exp(-expected), 0, rng.random()
    while product > limit:
        drawn += 1
        product *= rng.random()
    return drawn


def monthly_counts(rng: random.Random, typical: float, amplitude: float = 0.08, peak: int = JANUARY) -> list[int]:
    """Twelve monthly counts around a typical month, with seasonality and a little extra month-to-month noise."""
    return [count(rng, typical * seasonal(m, amplitude, peak) * rng.gauss(1, 0.03)) for m in range(12)]


def share_counts(rng: random.Random, volumes: Sequence[int], share: float) -> list[int]:
    """Monthly counts of one destination taking `share` of a service's monthly volumes."""
    return [count(rng, volume * share) for volume in volumes]


def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def month_end(month: str) -> date:
    first = month_start(month)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def csv_text(rows: Iterable[Sequence[object]], delimiter: str = ",", line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerows(rows)
    return buffer.getvalue()


def json_text(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def by_fields(*names: str) -> Callable[[dict[str, object]], tuple[str, ...]]:
    """A sort key for JSON records: the named fields, as text."""
    return lambda record: tuple(str(record[name]) for name in names)


def with_thousands(value: int) -> str:
    """How the acute team's spreadsheet exports counts: 2,512 rather than 2512."""
    return f"{value:,}"


# ==== nhs_glenmuir_acute: four CSVs, its own unit and destination codes ========================================


class AcuteExtract(NamedTuple):
    units: str
    activity: str
    transfers: str
    discharges: str


def acute_extract() -> AcuteExtract:
    """Unit list, monthly admissions and bed days, and patient movements out of each unit."""
    rng = rng_for(ACUTE)
    unit_codes = {u.code for u in ACUTE_UNITS} - {"HOME"}
    volume: dict[str, list[int]] = {}
    transfers_in: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    activity: list[tuple[str, str, str, int]] = []
    transfers: list[tuple[str, str, str, int]] = []
    discharges: list[tuple[str, str, str, int]] = []
    for unit in ACUTE_UNITS:
        if unit.admissions:
            volume[unit.code] = monthly_counts(rng, unit.admissions)
            bed_days = [count(rng, a * unit.length_of_stay) for a in volume[unit.code]]
            for m, month in enumerate(MONTHS):
                activity.append((month, unit.code, "ADM", volume[unit.code][m]))
                activity.append((month, unit.code, "OBD", bed_days[m]))
        elif unit.code in ACUTE_PATHWAYS:  # the discharge lounge: its patients are the wards' transfers in
            volume[unit.code] = transfers_in[unit.code]
            activity.extend((month, unit.code, "PTS", volume[unit.code][m]) for m, month in enumerate(MONTHS))
        for destination, share in ACUTE_PATHWAYS.get(unit.code, []):
            moved = share_counts(rng, volume[unit.code], share)
            rows = transfers if destination in unit_codes else discharges
            rows.extend((month, unit.code, destination, moved[m]) for m, month in enumerate(MONTHS) if moved[m])
            if destination in unit_codes:
                transfers_in[destination] = [a + b for a, b in zip(transfers_in[destination], moved, strict=True)]
    activity.sort(key=lambda row: (row[0], row[1], row[2]))
    units = [("Unit Code", "Unit Name", "Unit Type", "Site", "Locality", "External IDs")]
    units += [(u.code, u.name, u.unit_type, u.site or "", SITE_LOCALITY.get(u.site or "", ""), u.external_ids or "")
              for u in ACUTE_UNITS]
    return AcuteExtract(
        units=csv_text(units),
        activity=csv_text([("Month", "Unit Code", "Metric", "Value"),
                           *[(m, u, metric, with_thousands(v)) for m, u, metric, v in activity]]),
        transfers=csv_text([("Month", "From Unit", "To Unit", "Patients"), *sorted(transfers)]),
        discharges=csv_text([("Month", "Discharging Unit", "Discharge Destination", "Discharges"),
                             *sorted(discharges)]),
    )


# ==== nhs_glenmuir_community: one Excel workbook, a title row above each header ================================


def community_sheets() -> dict[str, list[list[object]]]:
    """Sheet name -> rows (header first) of the community health services workbook."""
    rng = rng_for(COMMUNITY)
    activity: list[list[object]] = []
    discharges: list[list[object]] = []
    for team in COMMUNITY_TEAMS:
        series = {label: monthly_counts(rng, typical, 0.07) for label, typical in COMMUNITY_ACTIVITY[team.code]}
        for label, values in series.items():
            activity.extend([f"{month[:4]}{month[5:]}", team.code, label, values[m]] for m, month in enumerate(MONTHS))
        driver = series[COMMUNITY_ACTIVITY[team.code][0][0]]
        for destination, share in COMMUNITY_PATHWAYS.get(team.code, []):
            moved = share_counts(rng, driver, share)
            discharges.extend([f"{month[:4]}{month[5:]}", team.code, destination, moved[m]]
                              for m, month in enumerate(MONTHS) if moved[m])
    activity.sort(key=lambda row: (str(row[0]), str(row[1])))
    discharges.sort(key=lambda row: (str(row[0]), str(row[1]), str(row[2])))
    teams: list[list[object]] = [[t.code, t.name, t.team_type, t.locality, t.client_groups] for t in COMMUNITY_TEAMS]
    return {
        "Services": [["Team Code", "Team Name", "Team Type", "Locality", "Client Group"], *teams],
        "Activity": [["Period", "Team Code", "Measure", "Count"], *activity],
        "Discharges": [["Period", "From Team", "Destination", "Discharges"], *discharges],
    }


SHEET_TITLES = {
    "Services": "NHS Glenmuir Community Health Services – team list",
    "Activity": "NHS Glenmuir Community Health Services – monthly activity, April 2025 to March 2026",
    "Discharges": "NHS Glenmuir Community Health Services – discharges by destination",
}


def community_workbook() -> bytes:
    """The workbook as the information team saves it: a title, a blank row, then the table from row 3."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in community_sheets().items():
        sheet = workbook.create_sheet(name)
        sheet["A1"] = SHEET_TITLES[name]
        sheet["A1"].font = Font(bold=True, size=13)
        for offset, row in enumerate(rows):
            for column, value in enumerate(row, start=1):
                cell = sheet.cell(row=3 + offset, column=column, value=value)
                if offset == 0:
                    cell.font = Font(bold=True)
    workbook.properties.lastModifiedBy = "NHS Glenmuir Community Health Information Team"
    return workbook_bytes(workbook, "NHS Glenmuir Community Health Information Team")


def workbook_bytes(workbook: Workbook, creator: str) -> bytes:
    """The workbook as .xlsx bytes that are the same on every run: fixed properties and zip timestamps."""
    workbook.properties.creator = creator
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()  # not save_workbook(), which stamps the current time
    return reproducible_zip(buffer.getvalue())


def reproducible_zip(data: bytes) -> bytes:
    """The same archive with sorted entries and a fixed timestamp, stored uncompressed: deflate output may differ
    between zlib builds, stored bytes never do."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read(name))
    return out.getvalue()


# ==== glenmuir_gp_cluster: semicolon CSVs in Windows-1252 ======================================================


def gp_referral_rates(practice: Practice) -> list[tuple[str, float]]:
    """The practice's referral destinations and their rates per 1,000 registered patients per month."""
    rates = [(code, rate) for code, rate, locality in GP_REFERRAL_RATES if locality in (None, practice.locality)]
    return [*rates, (LOCAL_DISTRICT_NURSES[practice.locality or GLENMUIR_TOWN], GP_DISTRICT_NURSING_RATE)]


class GpExtract(NamedTuple):
    practices: str
    contacts: str
    referrals: str


def gp_extract() -> GpExtract:
    """Practice list, monthly contacts by type and referrals out by destination code."""
    rng = rng_for(GP)
    contacts: list[tuple[str, str, str, int]] = []
    referrals: list[tuple[str, str, str, int]] = []
    for practice in GP_PRACTICES:
        for contact_type, per_year in GP_CONTACTS_PER_PATIENT_YEAR.items():
            values = monthly_counts(rng, practice.list_size * per_year / 12, 0.10)
            contacts.extend((practice.code, month, contact_type, values[m]) for m, month in enumerate(MONTHS))
        for destination, rate in gp_referral_rates(practice):
            values = monthly_counts(rng, practice.list_size * rate / 1000, 0.10)
            referrals.extend((practice.code, month, destination, values[m])
                             for m, month in enumerate(MONTHS) if values[m])
    for contact_type, typical in OOH_CONTACTS.items():
        values = monthly_counts(rng, typical, 0.20)
        contacts.extend(("OOH", month, contact_type, values[m]) for m, month in enumerate(MONTHS))
    for destination, typical in OOH_REFERRALS.items():
        values = monthly_counts(rng, typical, 0.15)
        referrals.extend(("OOH", month, destination, values[m]) for m, month in enumerate(MONTHS) if values[m])
    values = monthly_counts(rng, PHARMACY_FIRST_CONSULTATIONS, 0.15)
    contacts.extend(("PHARMFIRST", month, "PF", values[m]) for m, month in enumerate(MONTHS))
    practices = [(p.code, p.name, p.practice_type, p.locality or "") for p in [*GP_PRACTICES, *GP_OTHER_SERVICES]]
    return GpExtract(
        practices=csv_text([("Practice Code", "Practice Name", "Type", "Locality"), *practices], ";", "\r\n"),
        contacts=csv_text([("Practice Code", "Month", "Contact Type", "Contacts"),
                           *sorted(contacts, key=lambda r: (r[1], r[0], r[2]))], ";", "\r\n"),
        referrals=csv_text([("Practice Code", "Month", "Referred To", "Referrals"),
                            *sorted(referrals, key=lambda r: (r[1], r[0], r[2]))], ";", "\r\n"),
    )


# ==== national_triage: one JSON document, records under extract.* ==============================================


def triage_document() -> dict[str, object]:
    """Scotline 111's monthly extract for Glenmuir residents: its services, volumes and call dispositions."""
    rng = rng_for(TRIAGE)
    festive = [1.12 if m == DECEMBER else 1.0 for m in range(12)]
    calls = [round(c * f) for c, f in zip(monthly_counts(rng, TRIAGE_CALLS, 0.18), festive, strict=True)]
    volume = {"SL111": calls}
    received: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    dispositions: list[dict[str, object]] = []
    for service, pathway in TRIAGE_PATHWAYS.items():
        if service not in volume:
            volume[service] = received["HUB"]
        for disposition, share in pathway:
            split = ([(f"OWN-GP-{p.code}", share * p.list_size / LIST_TOTAL) for p in GP_PRACTICES]
                     if disposition == "OWN-GP" else [(disposition, share)])
            for code, code_share in split:
                values = share_counts(rng, volume[service], code_share)
                received[code] = [a + b for a, b in zip(received[code], values, strict=True)]
                dispositions.extend({"month": month, "from": service, "disposition": code, "count": values[m]}
                                    for m, month in enumerate(MONTHS) if values[m])
    totals: list[tuple[str, str, list[int]]] = [
        ("SL111", "calls", calls), ("SL111-HUB", "consultations", received["HUB"]),
        ("SL111-SELF", "advice_given", received["SELF"]),
    ]
    volumes: list[dict[str, object]] = [
        {"month": month, "service": service, "measure": measure, "count": values[m]}
        for service, measure, values in totals for m, month in enumerate(MONTHS)
    ]
    volumes.sort(key=by_fields("month", "service"))
    dispositions.sort(key=by_fields("month", "from", "disposition"))
    services = [{"code": c, "name": n, "category": k, "setting": s} for c, n, k, s in TRIAGE_SERVICES]
    return {
        "extract": {
            "publisher": "Scotline 111",
            "generated": f"{FIXED_TIME.isoformat()}Z",
            "area": {"code": AREA_CODE, "name": "Glenmuir"},
            "period": {"from": MONTHS[0], "to": MONTHS[-1]},
            "services": services,
            "volumes": volumes,
            "dispositions": dispositions,
        }
    }


# ==== northern_ambulance: one row per incident =================================================================


class AmbulanceExtract(NamedTuple):
    resources: str
    incidents: str
    monthly: str


def ambulance_extract() -> AmbulanceExtract:
    """Resource list, one row per incident (date, responding resource, outcome, destination) and monthly totals."""
    rng = rng_for(AMBULANCE)
    incidents: list[tuple[str, str, str, str]] = []
    for resource, typical in AMBULANCE_INCIDENTS.items():
        case_mix = AMBULANCE_CASE_MIX[resource]
        for m, month in enumerate(MONTHS):
            days = month_end(month).day
            for _ in range(count(rng, typical * seasonal(m, 0.10))):
                outcome, destination, _share = rng.choices(case_mix, weights=[c[2] for c in case_mix])[0]
                day = month_start(month).replace(day=rng.randint(1, days))
                incidents.append((day.isoformat(), resource, outcome, destination))
    incidents.sort()
    per_month = Counter((incident[0][:7], incident[1]) for incident in incidents)
    return AmbulanceExtract(
        resources=csv_text([("Resource Code", "Resource Name", "Station"), *AMBULANCE_RESOURCES]),
        incidents=csv_text([("Incident Date", "Resource Code", "Outcome Code", "Destination Code"), *incidents]),
        monthly=csv_text([("Month", "Resource Code", "Incidents"),
                          *[(month, resource, n) for (month, resource), n in sorted(per_month.items())]]),
    )


# ==== glenmuir_council: CSVs saved from Excel (UTF-8 with a byte-order mark, CRLF) ============================


class CouncilExtract(NamedTuple):
    services: str
    activity: str
    referrals: str


# The council's own improvement programme, as its project office lists it: teams by the council's codes, other
# partners' services as "partner:key".
COUNCIL_PROGRAMME = [
    ("IP-07", "Home first: reablement before any long-term care decision", "Delivery", "REAB;CAH;HSWT",
     COUNCIL),
    ("IP-11", "Technology-enabled care for people living alone", "Scoping", "TEL;nhs_glenmuir_community:CH-FALLS",
     COUNCIL),
]


def council_programme_csv() -> str:
    """The council's improvement programme: one row per project."""
    header = ("Project Ref", "Project", "Stage", "Services Involved", "Lead Partner")
    return csv_text([header, *COUNCIL_PROGRAMME], line_end="\r\n")


def council_extract() -> CouncilExtract:
    """Social work service list, monthly activity and referrals received by team and referral source."""
    rng = rng_for(COUNCIL)
    activity = [
        (f"{month[:4]}{month[5:]}", service, measure, values[m])
        for service, measures in COUNCIL_ACTIVITY.items()
        for measure, typical in measures
        for values in [monthly_counts(rng, typical, 0.06)]
        for m, month in enumerate(MONTHS)
    ]
    gp_sources = [(f"GP-{GP_SHORT_NAMES[p.code]}", "SWD", p.list_size * COUNCIL_GP_REFERRAL_RATE / 1000)
                  for p in GP_PRACTICES]
    referrals: list[tuple[str, str, str, str, int]] = []
    for source, team, typical in [*gp_sources, *COUNCIL_REFERRALS]:
        values = monthly_counts(rng, typical, 0.10)
        referrals.extend((month_start(month).isoformat(), month_end(month).isoformat(), source, team, values[m])
                         for m, month in enumerate(MONTHS) if values[m])
    services = [(s.code, s.name, s.group, s.locality, s.client_groups,
                 f"care_inspectorate:{s.registration}" if s.registration else "") for s in COUNCIL_SERVICES]
    return CouncilExtract(
        services=csv_text([("Service Code", "Service Name", "Service Group", "Locality", "Client Group",
                            "External Ref"), *services], line_end="\r\n"),
        activity=csv_text([("Reporting Month", "Service Code", "Measure", "Value"), *sorted(activity)],
                          line_end="\r\n"),
        referrals=csv_text([("Period Start", "Period End", "Referral Source", "Receiving Team", "Referrals"),
                            *sorted(referrals)], line_end="\r\n"),
    )


# ==== glenmuir_housing: two CSVs, day-first dates ==============================================================


class HousingExtract(NamedTuple):
    services: str
    activity: str


def housing_extract() -> HousingExtract:
    """Housing service list (names padded with trailing spaces by the housing system) and monthly activity."""
    rng = rng_for(HOUSING)
    series = {(service, measure): monthly_counts(rng, typical, 0.12)
              for service, measures in HOUSING_ACTIVITY.items() for measure, typical in measures}
    activity = [(month_start(month).strftime("%d/%m/%Y"), service, measure, values[m])
                for m, month in enumerate(MONTHS) for (service, measure), values in series.items()]
    services = [(code, f"{name:<60}", locality) for code, name, locality in HOUSING_SERVICES]
    return HousingExtract(
        services=csv_text([("Service ID", "Service Name", "Locality"), *services]),
        activity=csv_text([("Period", "Service ID", "Measure", "Count"), *activity]),
    )


# ==== glenmuir_third_sector: an Open Referral HSDS 3.0 tabular package plus CSVs keyed by HSDS id ==============

HSDS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "tsi.glenmuir.example.org")
HSDS_ORGANISATION_FIELDS = ["id", "name", "alternate_name", "description", "email", "website", "tax_status",
                            "tax_id", "year_incorporated", "legal_status", "logo", "uri", "parent_organization_id"]
HSDS_SERVICE_FIELDS = ["id", "organization_id", "program_id", "name", "alternate_name", "description", "url",
                       "email", "status", "interpretation_services", "application_process", "fees_description",
                       "wait_time", "fees", "accreditations", "eligibility_description", "minimum_age",
                       "maximum_age", "assured_date", "assurer_email", "licenses", "alert", "last_modified"]
HSDS_NUMBER_FIELDS = {"year_incorporated", "minimum_age", "maximum_age"}


def hsds_id(record_type: str, slug: str) -> str:
    """A stable HSDS id: the same slug always gets the same UUID."""
    return str(uuid.uuid5(HSDS_NAMESPACE, f"{record_type}/{slug}"))


def hsds_service_ids() -> dict[str, str]:
    return {s.slug: hsds_id("service", s.slug) for s in THIRD_SECTOR_SERVICES}


def hsds_organisations_csv() -> str:
    rows: list[list[object]] = [list(HSDS_ORGANISATION_FIELDS)]
    for o in THIRD_SECTOR_ORGANISATIONS:
        domain = o.website.removeprefix("https://")
        record: dict[str, object] = {
            "id": hsds_id("organization", o.slug), "name": o.name, "alternate_name": o.alternate_name,
            "description": o.description, "email": f"hello@{domain}", "website": o.website,
            "year_incorporated": o.year_incorporated, "legal_status": o.legal_status,
        }
        rows.append([record.get(field, "") for field in HSDS_ORGANISATION_FIELDS])
    return csv_text(rows)


def hsds_services_csv() -> str:
    websites = {o.slug: o.website for o in THIRD_SECTOR_ORGANISATIONS}
    rows: list[list[object]] = [list(HSDS_SERVICE_FIELDS)]
    for s in THIRD_SECTOR_SERVICES:
        website = websites[s.organisation]
        record: dict[str, object] = {
            "id": hsds_id("service", s.slug), "organization_id": hsds_id("organization", s.organisation),
            "name": s.name, "description": s.description, "url": f"{website}/{s.slug.lower()}",
            "email": f"hello@{website.removeprefix('https://')}", "status": "active",
            "application_process": "Ask any health or care worker to refer you, or contact us directly.",
            "fees_description": "Free", "eligibility_description": "Adults living in Glenmuir",
            "minimum_age": 18, "last_modified": "2026-03-31T09:00:00Z",
        }
        rows.append([record.get(field, "") for field in HSDS_SERVICE_FIELDS])
    return csv_text(rows)


def hsds_datapackage() -> dict[str, object]:
    """A minimal Frictionless descriptor of the two resources, their keys and the service -> organization link."""

    def fields(names: list[str]) -> list[dict[str, str]]:
        return [{"name": n, "type": "number" if n in HSDS_NUMBER_FIELDS else "string"} for n in names]

    return {
        "name": "glenmuir-third-sector-directory",
        "title": "Glenmuir Third Sector Interface: directory of community services (HSDS 3.0)",
        "profile": "tabular-data-package",
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": [
            {"name": "organization", "path": "organizations.csv", "format": "csv", "mediatype": "text/csv",
             "encoding": "utf-8", "profile": "tabular-data-resource",
             "schema": {"fields": fields(HSDS_ORGANISATION_FIELDS), "primaryKey": "id"}},
            {"name": "service", "path": "services.csv", "format": "csv", "mediatype": "text/csv",
             "encoding": "utf-8", "profile": "tabular-data-resource",
             "schema": {"fields": fields(HSDS_SERVICE_FIELDS), "primaryKey": "id",
                        "foreignKeys": [{"fields": "organization_id",
                                         "reference": {"resource": "organization", "fields": "id"}}]}},
        ],
    }


class ThirdSectorExtract(NamedTuple):
    contacts: str
    referrals_in: str
    onward: str


def third_sector_extract() -> ThirdSectorExtract:
    """Monthly contacts per service, referrals in by referrer code, and referrals between member services."""
    rng = rng_for(THIRD_SECTOR)
    ids = hsds_service_ids()
    contacts = [(ids[s.slug], month, values[m])
                for s in THIRD_SECTOR_SERVICES
                for values in [monthly_counts(rng, s.contacts, 0.10)]
                for m, month in enumerate(MONTHS)]
    gp_referrals = [(f"GP {p.code}", slug, p.list_size * rate / 1000)
                    for slug, rate in THIRD_SECTOR_GP_RATES.items() for p in GP_PRACTICES]
    referrals_in = [(ids[slug], month, referrer, values[m])
                    for referrer, slug, typical in [*gp_referrals, *THIRD_SECTOR_REFERRALS]
                    for values in [monthly_counts(rng, typical, 0.10)]
                    for m, month in enumerate(MONTHS) if values[m]]
    onward = [(ids[source], ids[target], month, values[m])
              for source, target, typical in THIRD_SECTOR_ONWARD
              for values in [monthly_counts(rng, typical, 0.10)]
              for m, month in enumerate(MONTHS) if values[m]]
    return ThirdSectorExtract(
        contacts=csv_text([("service_id", "month", "contacts"), *sorted(contacts, key=lambda r: (r[1], r[0]))]),
        referrals_in=csv_text([("service_id", "month", "referrer", "referrals"),
                               *sorted(referrals_in, key=lambda r: (r[1], r[0], r[2]))]),
        onward=csv_text([("from_service_id", "to_service_id", "month", "referrals"),
                         *sorted(onward, key=lambda r: (r[2], r[0], r[1]))]),
    )


# ==== heather_lodge_care: one JSON return ======================================================================


def care_home_document() -> dict[str, object]:
    """Heather Lodge Care's quarterly return to the partnership: its homes, residents and admissions by referrer."""
    rng = rng_for(CARE_HOMES)
    homes: list[dict[str, object]] = []
    monthly: list[dict[str, object]] = []
    admissions: list[dict[str, object]] = []
    for home, name, locality, registration, beds in CARE_HOMES_LIST:
        homes.append({"home_id": home, "home_name": name, "locality": locality,
                      "external_ref": f"care_inspectorate:{registration}"})
        admitted = [count(rng, SELF_FUNDED_ADMISSIONS) for _ in MONTHS]
        for referrer, per_home in CARE_HOME_ADMISSIONS.items():
            values = [count(rng, per_home * beds / 46 * seasonal(m, 0.15)) for m in range(12)]
            admitted = [a + b for a, b in zip(admitted, values, strict=True)]
            admissions.extend({"home_id": home, "month": month, "referred_from": referrer, "admissions": values[m]}
                              for m, month in enumerate(MONTHS) if values[m])
        residents = [min(beds, count(rng, beds * CARE_HOME_OCCUPANCY)) for _ in MONTHS]
        for m, month in enumerate(MONTHS):
            monthly.append({"home_id": home, "month": month, "measure": "residents", "value": residents[m]})
            monthly.append({"home_id": home, "month": month, "measure": "admissions", "value": admitted[m]})
    return {
        "provider": {"name": "Heather Lodge Care Ltd", "type": "independent care home provider"},
        "return": {"period_from": MONTHS[0], "period_to": MONTHS[-1], "submitted": FIXED_TIME.date().isoformat()},
        "homes": homes,
        "monthly_returns": monthly,
        "admissions_by_source": admissions,
    }


# ==== phs: the monthly A&E file and the site list, in Public Health Scotland's exact layouts ====================

PHS_AE_HEADER = [
    "Month", "Country", "HBT", "TreatmentLocation", "DepartmentType", "NumberOfAttendancesAggregate",
    "NumberOfAttendancesEpisode", "NumberOfAttendancesEpisodeQF", "NumberMeetingTargetAggregate",
    "NumberMeetingTargetEpisode", "NumberMeetingTargetEpisodeQF", "DischargeDestinationAdmissionToSame",
    "DischargeDestinationAdmissionToSameQF", "DischargeDestinationOtherSpecialty",
    "DischargeDestinationOtherSpecialtyQF", "DischargeDestinationResidence", "DischargeDestinationResidenceQF",
    "DischargeDestinationTransfer", "DischargeDestinationTransferQF", "DischargeDestinationUnknown",
    "DischargeDestinationUnknownQF", "AttendanceGreater8hrs", "AttendanceGreater8hrsQF", "AttendanceGreater12hrs",
    "AttendanceGreater12hrsQF",
]


def phs_line(values: Sequence[object]) -> str:
    """PHS quoting: text in double quotes, numbers bare, a missing number as nothing at all."""
    return ",".join("" if v is None else str(v) if isinstance(v, int) else f'"{v}"' for v in values)


def phs_ae_rows() -> list[list[object]]:
    """Twelve monthly rows per site: the ED reports episodes with destinations, the MIU only aggregate counts."""
    rng = rng_for(PHS)
    ed = monthly_counts(rng, ED_ATTENDANCES, 0.07)
    miu = monthly_counts(rng, MIU_ATTENDANCES, 0.12, peak=JULY)
    rows = []
    for m, month in enumerate(MONTHS):
        pressure = seasonal(m, 1.0)  # 2 in January, 0 in July: how hard the winter bites on waits
        attendances = ed[m]
        within_4h = round(attendances * (0.72 - 0.05 * pressure) * rng.gauss(1, 0.01))
        destination = {k: count(rng, attendances * share) for k, share in ED_DESTINATION_SHARES.items()}
        residence = attendances - sum(destination.values())
        over_8h = count(rng, attendances * (0.06 + 0.02 * pressure))
        over_12h = min(over_8h, count(rng, attendances * (0.025 + 0.015 * pressure)))
        code = f"{month[:4]}{month[5:]}"
        rows.append([code, "S92000003", PHS_BOARD, "Z101H", "Emergency Department", attendances, attendances, "",
                     within_4h, within_4h, "", destination["admission_same"], "", destination["other_specialty"], "",
                     residence, "", destination["transfer"], "", destination["unknown"], "", over_8h, "", over_12h,
                     ""])
        minor_within_4h = miu[m] - count(rng, 1.5)
        rows.append([code, "S92000003", PHS_BOARD, "Z102H", "Minor Injury Unit or Other", miu[m], None, "z",
                     minor_within_4h, None, "z", None, "z", None, "z", None, "z", None, "z", None, "z", None, "z",
                     None, "z"])
    return rows


def phs_ae_csv() -> str:
    return "".join(phs_line(row) + "\n" for row in [list[object](PHS_AE_HEADER), *phs_ae_rows()])


def phs_site_list_csv() -> str:
    """The site list as PHS publishes it: CRLF lines, and department types padded with a trailing space."""
    rows = [("HB", "TreatmentLocationName", "TreatmentLocationCode", "CurrentDepartmentType", "FileType", "Comments",
             "Status")]
    rows += [(PHS_BOARD, name, code, f"{department} ", file_type, "None", "Open")
             for code, name, department, file_type in PHS_SITES]
    return csv_text(rows, line_end="\r\n")


# ==== writing ==================================================================================================


def extract_files() -> dict[str, bytes]:
    """Every extract: path relative to the extracts folder -> exact bytes."""
    acute, gp, ambulance = acute_extract(), gp_extract(), ambulance_extract()
    council, housing, third = council_extract(), housing_extract(), third_sector_extract()
    utf8, cp1252, excel_csv = "utf-8", "cp1252", "utf-8-sig"
    texts: dict[str, tuple[str, str]] = {
        f"{ACUTE}/units.csv": (acute.units, utf8),
        f"{ACUTE}/activity_monthly.csv": (acute.activity, utf8),
        f"{ACUTE}/transfers.csv": (acute.transfers, utf8),
        f"{ACUTE}/discharges.csv": (acute.discharges, utf8),
        f"{GP}/practices.csv": (gp.practices, cp1252),
        f"{GP}/contacts.csv": (gp.contacts, cp1252),
        f"{GP}/referrals.csv": (gp.referrals, cp1252),
        f"{TRIAGE}/scotline111_glenmuir_2025-26.json": (json_text(triage_document()), utf8),
        f"{AMBULANCE}/resources.csv": (ambulance.resources, utf8),
        f"{AMBULANCE}/incidents_2025-26.csv": (ambulance.incidents, utf8),
        f"{AMBULANCE}/incidents_monthly.csv": (ambulance.monthly, utf8),
        f"{COUNCIL}/sw_services.csv": (council.services, excel_csv),
        f"{COUNCIL}/sw_activity.csv": (council.activity, excel_csv),
        f"{COUNCIL}/sw_referrals_received.csv": (council.referrals, excel_csv),
        f"{COUNCIL}/improvement_programme.csv": (council_programme_csv(), excel_csv),
        f"{HOUSING}/housing_services.csv": (housing.services, utf8),
        f"{HOUSING}/housing_activity.csv": (housing.activity, utf8),
        f"{THIRD_SECTOR}/hsds/datapackage.json": (json_text(hsds_datapackage()), utf8),
        f"{THIRD_SECTOR}/hsds/organizations.csv": (hsds_organisations_csv(), utf8),
        f"{THIRD_SECTOR}/hsds/services.csv": (hsds_services_csv(), utf8),
        f"{THIRD_SECTOR}/contacts_monthly.csv": (third.contacts, utf8),
        f"{THIRD_SECTOR}/referrals_in.csv": (third.referrals_in, utf8),
        f"{THIRD_SECTOR}/onward_referrals.csv": (third.onward, utf8),
        f"{CARE_HOMES}/heather_lodge_returns.json": (json_text(care_home_document()), utf8),
        f"{PHS}/monthly_ae_waitingtimes_202603.csv": (phs_ae_csv(), utf8),
        f"{PHS}/hospital_site_list.csv": (phs_site_list_csv(), utf8),
    }
    files = {path: text.encode(encoding) for path, (text, encoding) in texts.items()}
    files[f"{COMMUNITY}/community_health_2025-26.xlsx"] = community_workbook()
    return dict(sorted(files.items()))


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    """Write each file (relative path -> exact bytes) under `out`; returns the paths written."""
    written = []
    for relative, data in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def write_extracts(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write every extract under `out` (created if needed); returns the paths written."""
    return write_files(extract_files(), out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the Glenmuir demo map's partner extracts.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to write into (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    paths = write_extracts(args.out)
    print(f"wrote {len(paths)} files under {args.out}")


if __name__ == "__main__":
    main()
