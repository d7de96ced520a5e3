"""Seeded generator of synthetic partner extracts at national scale: one map config (`ism.toml`) and its extracts
per size, in the demo's mixed formats (CSV dialects, Excel, JSON, an HSDS package, the PHS A&E file, and big
record-level referral logs with one row per referral, which ism must count and aggregate itself).

Sizes: S is one HSCP, M one health board of six HSCPs, L Scotland-sized (31 HSCPs in 14 boards). Everything is
invented and deterministic: the same size and scale write the same bytes.

    python -m bench.generate --size M [--out build/bench/M] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from openpyxl import Workbook

from examples.demo.generate import workbook_bytes as fixed_workbook_bytes

SEED = 20257
ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = date(2025, 4, 1)
DAYS = [FIRST_DAY + timedelta(days=d) for d in range(365)]  # 2025-04-01 .. 2026-03-31
MONTHS = [f"{2025 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}" for i in range(12)]  # 2025-04 .. 2026-03
MONTH_OF_DAY = np.array([(d.year - 2025) * 12 + d.month - 4 for d in DAYS])
FIXED_TIME = datetime(2026, 4, 7, 6, 30, 0)  # when every extract claims to have been produced
RECORD_SHARES = {"gp_referrals": 0.5, "council_referrals": 0.2, "acute_discharges": 0.3}
BAD_ROW_RATE = 0.0005  # record-level rows a partner's system leaves incomplete: ism must reject, not drop them
# Scotland: HSCPs per health board (14 boards, 31 partnerships)
SCOTLAND = (3, 1, 1, 1, 2, 3, 6, 2, 2, 4, 1, 1, 3, 1)


@dataclass(frozen=True)
class Size:
    name: str
    hscps_per_board: tuple[int, ...]
    record_rows: int  # record-level rows (one per referral or discharge) across the map


SIZES = {
    "S": Size("S", (1,), 100_000),
    "M": Size("M", (6,), 2_000_000),
    "L": Size("L", SCOTLAND, 20_000_000),
}

LANES = [
    ("prevention_community", "Home, self-care and prevention", "#b3de69"),
    ("third_sector", "Third sector and community support", "#8dd3c7"),
    ("primary_care", "Primary care", "#80b1d3"),
    ("urgent_care", "Urgent and emergency care", "#fb8072"),
    ("acute", "Acute hospital", "#bebada"),
    ("intermediate_care", "Intermediate care and community health", "#fdb462"),
    ("social_care", "Social care", "#fccde5"),
    ("care_homes", "Care homes", "#bc80bd"),
]

# ---- service templates (typical month per 100,000 residents) ------------------------------------------------

COMMUNITY_TEAMS = [  # code, name, team type, [(measure label, typical month per 100k)]
    ("DN-1", "District Nursing – locality 1", "DN", [("Caseload", 300), ("Contacts", 2400)]),
    ("DN-2", "District Nursing – locality 2", "DN", [("Caseload", 300), ("Contacts", 2400)]),
    ("DN-3", "District Nursing – locality 3", "DN", [("Caseload", 300), ("Contacts", 2400)]),
    ("HAH", "Hospital at Home", "HAH", [("Admissions", 60), ("Occupied bed days", 480)]),
    ("CRT", "Community Rehabilitation Team", "REHAB", [("Referrals received", 110), ("Contacts", 960)]),
    ("FALLS", "Falls Prevention Service", "REHAB", [("Referrals received", 40), ("Contacts", 170)]),
    ("CHOSP", "Community Hospital – inpatient beds", "CH-BED", [("Admissions", 32), ("Occupied bed days", 800)]),
    ("STEPUP", "Step-up and step-down intermediate care beds", "IC-BED",
     [("Admissions", 25), ("Occupied bed days", 430)]),
    ("MHCT", "Adult Mental Health Crisis Team", "MH-CRISIS", [("Referrals received", 85), ("Contacts", 480)]),
    ("CMHT", "Community Mental Health Team (adults)", "MH", [("Referrals received", 95), ("Caseload", 900)]),
    ("PALL", "Community Palliative Care Team", "PALL", [("Referrals received", 32), ("Caseload", 64)]),
    ("CTAC", "Community Treatment and Care (CTAC) Service", "CTAC", [("Contacts", 2800)]),
]
COMMUNITY_LANES = {"DN": "intermediate_care", "HAH": "intermediate_care", "REHAB": "intermediate_care",
                   "CH-BED": "intermediate_care", "IC-BED": "intermediate_care", "MH": "intermediate_care",
                   "PALL": "intermediate_care", "MH-CRISIS": "urgent_care", "CTAC": "primary_care"}
COMMUNITY_MEASURES = {"Caseload": "caseload", "Contacts": "contacts", "Admissions": "admissions",
                      "Occupied bed days": "bed_days", "Referrals received": "referrals"}

PRACTICE_NAMES = ["Brae", "Riverside", "Tolbooth Wynd", "Millcroft", "Harbour", "Ardnish", "Kirkton", "Glebe",
                  "Mains", "Crosshill", "Castlegate", "Dalmore", "Fernbank", "Loanhead", "Muirside", "Westfield"]
GP_CONTACTS_PER_PATIENT_YEAR = {"F2F": 2.7, "TEL": 2.3, "HV": 0.05}
GP_MEASURES = {"F2F": "face_to_face_contacts", "TEL": "telephone_contacts", "HV": "home_visits"}
# GP referral destinations: code -> relative rate; "DN" goes to the practice's own locality team
GP_REFERRALS = {"AE": 1.1, "MED": 1.6, "SURG": 0.8, "FRAIL": 0.25, "DN": 1.6, "HAH": 0.2, "CRT": 0.6, "FALLS": 0.25,
                "MHCT": 0.45, "CMHT": 0.5, "STEPUP": 0.08, "PALL": 0.2, "CTAC": 3.0, "SW": 0.35, "CLW": 0.9}

COUNCIL_SERVICES = [  # code, name, group, registration
    ("SWD", "Adult Social Work Duty and Access Team", "ASSESS", None),
    ("HSWT", "Hospital Social Work Team", "ASSESS", None),
    ("LSW-1", "Locality Social Work – locality 1", "ASSESS", None),
    ("LSW-2", "Locality Social Work – locality 2", "ASSESS", None),
    ("LSW-3", "Locality Social Work – locality 3", "ASSESS", None),
    ("CAH", "Care at Home", "HOMECARE", "CS2004071"),
    ("REAB", "Reablement Service", "HOMECARE", "CS2011290"),
    ("TEL", "Telecare and Community Alarm Response", "TECH", "CS2006133"),
    ("DAY", "Older People's Day Services", "DAY", "CS2003048"),
    ("CHPT", "Care Home Placement Team", "ASSESS", None),
    ("ASP", "Adult Support and Protection", "PROTECT", None),
    ("OT", "Occupational Therapy and Community Equipment", "EQUIP", None),
]
COUNCIL_LANES = {"ASSESS": "social_care", "HOMECARE": "social_care", "TECH": "prevention_community",
                 "DAY": "social_care", "PROTECT": "social_care", "EQUIP": "social_care"}
COUNCIL_REFERRALS = [  # referral source code, receiving team, relative rate ("GP" is split across practices)
    ("GP", "SWD", 40), ("HOSP-ED", "ASP", 9), ("HOSP-ED", "SWD", 12), ("HOSP-AMU", "HSWT", 20),
    ("HOSP-FRAIL", "HSWT", 18), ("HOSP-MED", "HSWT", 30), ("HOSP-ELD", "HSWT", 55), ("DN-1", "SWD", 9),
    ("DN-2", "SWD", 6), ("DN-3", "SWD", 7), ("CRT", "REAB", 22), ("CRT", "OT", 18), ("HAH", "SWD", 5),
    ("FALLS", "TEL", 8), ("FALLS", "OT", 6), ("CHOSP", "CHPT", 3), ("MHCT", "SWD", 9), ("CMHT", "SWD", 8),
    ("PALL", "CAH", 6), ("SW-DUTY", "CAH", 42), ("SW-DUTY", "TEL", 64), ("SW-DUTY", "DAY", 9),
    ("SW-DUTY", "LSW-1", 30), ("SW-DUTY", "LSW-2", 18), ("SW-DUTY", "LSW-3", 20), ("SW-DUTY", "OT", 25),
    ("SW-HOSP", "CAH", 48), ("SW-HOSP", "REAB", 36), ("SW-HOSP", "CHPT", 16), ("SW-REAB", "CAH", 27),
]
COUNCIL_INTERNAL = {"SW-DUTY": "SWD", "SW-HOSP": "HSWT", "SW-REAB": "REAB"}

THIRD_SECTOR_ORGANISATIONS = [  # slug, name
    ("links", "Community Links"), ("carers", "Carers Centre"), ("befriending", "Befriending Network")]
THIRD_SECTOR_SERVICES = [  # slug, organisation slug, name, typical contacts per 100k
    ("CLW", "links", "Community Link Workers", 280), ("WR", "links", "Welfare Rights and Money Advice", 120),
    ("CARER", "carers", "Adult Carer Support", 170), ("BREAKS", "carers", "Short Breaks Bureau", 28),
    ("BEF", "befriending", "Telephone and Home Befriending", 200), ("LUNCH", "befriending", "Lunch Clubs", 580),
    ("HFH", "befriending", "Home from Hospital Support", 30), ("FOOD", "links", "Emergency Food Parcels", 340),
]

ACUTE_UNITS = [  # code, name, unit type, admissions per 100k served per month, length of stay (days)
    ("ED", "Emergency Department", "ED", 0, 0.0), ("AMU", "Acute Medical Unit", "AMU", 950, 1.3),
    ("SAU", "Surgical Assessment Unit", "SAU", 180, 1.1), ("FRAIL", "Frailty Assessment Unit", "FRAIL", 120, 2.2),
    ("MED", "General Medicine wards", "WARD-MED", 240, 7.2), ("ELD", "Medicine for the Elderly wards", "WARD-MED",
                                                                200, 13.5),
    ("SURG", "General Surgery wards", "WARD-SURG", 210, 5.1), ("DISCH", "Discharge Lounge", "DISCH-LOUNGE", 0, 0.0),
]
FIRST_SITE_UNITS = [("ICU", "Intensive Care Unit", "ICU", 16, 5.6), ("ORTH", "Trauma & Orthopaedics", "WARD-SURG",
                                                                      80, 11.4)]
ACUTE_LANES = {"ED": "urgent_care", "AMU": "acute", "SAU": "acute", "FRAIL": "acute", "WARD-MED": "acute",
               "WARD-SURG": "acute", "DISCH-LOUNGE": "acute", "ICU": "acute", "HOME": "prevention_community"}
ACUTE_TRANSFERS = [("ED", "AMU", 0.30), ("ED", "SAU", 0.08), ("AMU", "MED", 0.22), ("AMU", "ELD", 0.15),
                   ("AMU", "FRAIL", 0.06), ("SAU", "SURG", 0.33), ("MED", "DISCH", 0.25), ("ELD", "DISCH", 0.12),
                   ("SURG", "DISCH", 0.20), ("AMU", "ICU", 0.01), ("ICU", "MED", 0.4), ("SAU", "ORTH", 0.05)]
DISCHARGING_UNITS = {"AMU": 3.0, "SAU": 0.8, "FRAIL": 0.6, "MED": 1.4, "ELD": 1.2, "SURG": 1.0, "DISCH": 1.1,
                     "ORTH": 0.5}
# discharge destinations in each HSCP the site serves: code suffix -> (partner kind, key, relative rate)
DISCHARGE_DESTINATIONS = [("DN-1", "community", "DN-1", 3), ("DN-2", "community", "DN-2", 3),
                          ("DN-3", "community", "DN-3", 3), ("HAH", "community", "HAH", 2),
                          ("CRT", "community", "CRT", 4), ("CHOSP", "community", "CHOSP", 3),
                          ("STEPDN", "community", "STEPUP", 3), ("PALL", "community", "PALL", 1),
                          ("POC", "council", "CAH", 8), ("REAB", "council", "REAB", 5), ("CHPT", "council", "CHPT", 4),
                          ("HFH", "third_sector", "HFH", 1)]
HOME_SHARE = 0.6  # of discharges, to the acute team's own HOME destination
ED_SHARES = {"admission_same": 0.27, "other_specialty": 0.002, "transfer": 0.022, "unknown": 0.018}
PHS_LANES = {"Emergency Department": "urgent_care", "Minor Injury Unit or Other": "urgent_care",
             "admission_same": "acute", "other_specialty": "acute", "residence": "prevention_community",
             "transfer": "acute", "unknown": "urgent_care"}
PHS_AE_HEADER = [
    "Month", "Country", "HBT", "TreatmentLocation", "DepartmentType", "NumberOfAttendancesAggregate",
    "NumberOfAttendancesEpisode", "NumberOfAttendancesEpisodeQF", "NumberMeetingTargetAggregate",
    "NumberMeetingTargetEpisode", "NumberMeetingTargetEpisodeQF", "DischargeDestinationAdmissionToSame",
    "DischargeDestinationAdmissionToSameQF", "DischargeDestinationOtherSpecialty",
    "DischargeDestinationOtherSpecialtyQF", "DischargeDestinationResidence", "DischargeDestinationResidenceQF",
    "DischargeDestinationTransfer", "DischargeDestinationTransferQF", "DischargeDestinationUnknown",
    "DischargeDestinationUnknownQF",
]


# ---- the map's layout -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    locality: int  # 1..3
    list_size: int


@dataclass(frozen=True)
class Hscp:
    number: int  # 1..N across the map
    board: int
    site: int  # the board's acute site its residents use, 1..
    practices: tuple[Practice, ...]
    care_homes: tuple[tuple[str, str, int], ...]  # home id, name, beds

    @property
    def tag(self) -> str:
        return f"hscp{self.number:02d}"

    @property
    def area_code(self) -> str:
        return f"S37{900000 + self.number}"

    @property
    def population(self) -> int:
        return sum(p.list_size for p in self.practices)

    def partner(self, kind: str) -> str:
        return f"{self.tag}_{kind}"


@dataclass(frozen=True)
class Board:
    number: int
    hscps: tuple[Hscp, ...]

    @property
    def tag(self) -> str:
        return f"board{self.number:02d}"

    @property
    def acute(self) -> str:
        return f"{self.tag}_acute"

    @property
    def code(self) -> str:
        return f"S08{900000 + self.number}"

    @property
    def sites(self) -> list[int]:
        return sorted({h.site for h in self.hscps})

    def site_code(self, site: int) -> str:
        return f"B{self.number:02d}{site}H"

    def served(self, site: int) -> list[Hscp]:
        return [h for h in self.hscps if h.site == site]


def rng_for(*parts: object) -> np.random.Generator:
    """One seeded generator per extract, so changing one extract never reshuffles the others."""
    digest = hashlib.sha256(":".join(map(str, (SEED, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def layout(size: Size) -> list[Board]:
    """Boards and their HSCPs: practices, list sizes and care homes drawn from the seed."""
    boards, number = [], 0
    for b, count in enumerate(size.hscps_per_board, start=1):
        hscps = []
        for position in range(count):
            number += 1
            rng = rng_for("hscp", number)
            practices = tuple(
                Practice(f"{70000 + number * 100 + i}", f"{PRACTICE_NAMES[i % len(PRACTICE_NAMES)]} Médical "
                         f"Practice ({number:02d}-{i:02d})", i % 3 + 1, int(rng.integers(3500, 12500)))
                for i in range(int(rng.integers(8, 22)))
            )
            homes = tuple((f"CH-{k}", f"Care home {number:02d}-{k}", int(rng.integers(30, 70)))
                          for k in range(1, int(rng.integers(3, 7)) + 1))
            hscps.append(Hscp(number, b, position // 2 + 1, practices, homes))
        boards.append(Board(b, tuple(hscps)))
    return boards


# ---- writing helpers ----------------------------------------------------------------------------------------


def seasonal(amplitude: float) -> np.ndarray:
    """A yearly cycle over the twelve months, peaking in January."""
    return 1 + amplitude * np.cos(2 * np.pi * (np.arange(12) - 9) / 12)


def monthly(rng: np.random.Generator, typical: float, amplitude: float = 0.08) -> np.ndarray:
    """Twelve monthly counts around a typical month, with seasonality and noise."""
    return rng.poisson(np.maximum(typical * seasonal(amplitude) * rng.normal(1, 0.03, 12), 0))


def csv_bytes(rows: Iterable[Sequence[object]], delimiter: str = ",", eol: str = "\n",
              encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=eol).writerows(rows)
    return buffer.getvalue().encode(encoding)


def json_bytes(document: object) -> bytes:
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def record_days(rng: np.random.Generator, rows: int) -> np.ndarray:
    """A day index (0..364) for each record, in date order: more on weekdays and in winter."""
    weekday = np.array([1.0 if d.weekday() < 5 else 0.45 for d in DAYS])
    weights = weekday * seasonal(0.12)[MONTH_OF_DAY]
    return np.repeat(np.arange(365), rng.multinomial(rows, weights / weights.sum()))


def labels(values: Sequence[str], index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string array, built without a Python object per row."""
    return pc.take(pa.array(list(values), pa.string()), pa.array(index, pa.int32()))


def with_gaps(rng: np.random.Generator, array: pa.Array, filler: str | None) -> pa.Array:
    """A few cells blanked (or set to a code the mapping lacks), the way real logs arrive."""
    bad = pa.array(rng.random(len(array)) < BAD_ROW_RATE)
    return pc.if_else(bad, pa.scalar(filler, pa.string()), array)


def write_records(path: Path, columns: dict[str, pa.Array], delimiter: str = ",", eol: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(delimiter=delimiter, eol=eol, quoting_style="none", quoting_header="none")
    pacsv.write_csv(pa.table(columns), path, options)


def workbook_bytes(sheets: dict[str, tuple[str, list[list[object]]]]) -> bytes:
    """An .xlsx with a title, a blank row, then each table from row 3 (as information teams save them)."""
    workbook = Workbook(write_only=True)
    for name, (title, rows) in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append([title])
        sheet.append([])
        for row in rows:
            sheet.append(row)
    return fixed_workbook_bytes(workbook, "Synthetic community health information team")


def toml_value(value: Any) -> str:
    """A TOML literal for a config value (strings as JSON spells them, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


@dataclass
class MapWriter:
    """Collects the extracts (written as they come) and the config's partners and sources."""

    out: Path
    partners: dict[str, tuple[str, str]] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def path(self, relative: str) -> Path:
        path = self.out / "extracts" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(path)
        return path

    def write(self, relative: str, data: bytes) -> str:
        self.path(relative).write_bytes(data)
        return f"extracts/{relative}"

    def partner(self, partner_id: str, name: str, sector: str) -> None:
        self.partners[partner_id] = (name, sector)

    def source(self, source_id: str, partner: str, kind: str, location: str, table: str | None = None,
               **mapping: Any) -> None:
        entry: dict[str, Any] = {"id": source_id, "partner": partner, "kind": kind, "location": location}
        if table:
            entry["table"] = table
        entry.update({k: v for k, v in mapping.items() if v})
        self.sources.append(entry)

    def config(self, size: Size, boards: list[Board]) -> str:
        hscps = [h for b in boards for h in b.hscps]
        area = (hscps[0].area_code, f"Synthetic HSCP {hscps[0].number:02d}") if len(hscps) == 1 else \
            ("S37900000", f"{len(hscps)} synthetic HSCPs in {len(boards)} health board(s)")
        lines = [
            f"# Benchmark map, size {size.name}: written by `python -m bench.generate --size {size.name}`. Synthetic.",
            f"map_id = {toml_value(f'bench-{size.name.lower()}')}",
            f"title = {toml_value(f'Benchmark map {size.name}: {len(hscps)} HSCP(s), {len(self.sources)} sources')}",
            'population = "All adults (synthetic)"',
            'publish_root = "published"',
            "", "[area]", f"code = {toml_value(area[0])}", f"name = {toml_value(area[1])}",
            "", "[period]", f"start = {toml_value(MONTHS[0])}", f"end = {toml_value(MONTHS[-1])}",
        ]
        for lane, label, colour in LANES:
            lines += ["", "[[lanes]]", f"id = {toml_value(lane)}", f"label = {toml_value(label)}",
                      f"colour = {toml_value(colour)}"]
        for partner_id, (name, sector) in self.partners.items():
            lines += ["", f"[partners.{partner_id}]", f"name = {toml_value(name)}", f"sector = {toml_value(sector)}"]
        for source in self.sources:
            lines += ["", "[[sources]]", *[f"{key} = {toml_value(value)}" for key, value in source.items()]]
        return "\n".join(lines) + "\n"


# ---- partners -----------------------------------------------------------------------------------------------


def hsds_ids(hscp: Hscp) -> dict[str, str]:
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, f"{hscp.tag}.tsi.bench.example.org")
    return {slug: str(uuid.uuid5(namespace, f"service/{slug}")) for slug, *_ in THIRD_SECTOR_SERVICES} | {
        f"org/{slug}": str(uuid.uuid5(namespace, f"organization/{slug}")) for slug, _ in THIRD_SECTOR_ORGANISATIONS}


def community(w: MapWriter, hscp: Hscp) -> None:
    """One Excel workbook: team list and monthly activity."""
    rng, per_100k = rng_for(hscp.tag, "community"), hscp.population / 100_000
    partner = hscp.partner("community")
    w.partner(partner, f"NHS community health services, HSCP {hscp.number:02d}", "nhs")
    activity: list[list[object]] = []
    for code, _name, _type, measures in COMMUNITY_TEAMS:
        for label, typical in measures:
            values = monthly(rng, typical * per_100k, 0.07)
            activity += [[f"{month[:4]}{month[5:]}", code, label, int(values[m])] for m, month in enumerate(MONTHS)]
    activity.sort(key=lambda row: (str(row[0]), str(row[1])))
    teams: list[list[object]] = [
        [code, name, team_type, f"Locality {code[-1]}" if code.startswith("DN-") else "HSCP-wide", "Adults"]
        for code, name, team_type, _ in COMMUNITY_TEAMS]
    location = w.write(f"{hscp.tag}/community/community_health_2025-26.xlsx", workbook_bytes({
        "Services": ("Community health services – team list",
                     [["Team Code", "Team Name", "Team Type", "Locality", "Client Group"], *teams]),
        "Activity": ("Community health services – monthly activity",
                     [["Period", "Team Code", "Measure", "Count"], *activity]),
    }))
    w.source(f"{hscp.tag}_community_teams", partner, "excel", location, "services",
             options={"sheet": "Services", "header_row": 3},
             columns={"service_key": "Team Code", "name": "Team Name", "lane": "Team Type", "locality": "Locality",
                      "client_groups": "Client Group"},
             constants={"area_code": hscp.area_code}, codes={"lane": COMMUNITY_LANES})
    w.source(f"{hscp.tag}_community_activity", partner, "excel", location, "activity",
             options={"sheet": "Activity", "header_row": 3},
             columns={"service_key": "Team Code", "period": "Period", "measure": "Measure", "value": "Count"},
             codes={"measure": COMMUNITY_MEASURES})


def gp_cluster(w: MapWriter, hscp: Hscp, board: Board, rows: int) -> None:
    """Semicolon CSVs in Windows-1252: practices, monthly contacts, and a referral log (one row per referral)."""
    rng, partner = rng_for(hscp.tag, "gp"), hscp.partner("gp")
    w.partner(partner, f"GP practices, HSCP {hscp.number:02d}", "nhs")
    practices = [(p.code, p.name, "GMS", f"Locality {p.locality}") for p in hscp.practices]
    practices += [("OOH", f"GP Out of Hours Service, HSCP {hscp.number:02d}", "OOH", "")]
    location = w.write(f"{hscp.tag}/gp/practices.csv", csv_bytes(
        [("Practice Code", "Practice Name", "Type", "Locality"), *practices], ";", "\r\n", "cp1252"))
    w.source(f"{hscp.tag}_gp_practices", partner, "csv", location, "services",
             options={"delimiter": ";", "encoding": "cp1252"},
             columns={"service_key": "Practice Code", "name": "Practice Name", "lane": "Type",
                      "locality": "Locality"},
             constants={"area_code": hscp.area_code}, codes={"lane": {"GMS": "primary_care", "OOH": "urgent_care"}})

    contacts = [(p.code, month, kind, int(values[m]))
                for p in hscp.practices for kind, per_year in GP_CONTACTS_PER_PATIENT_YEAR.items()
                for values in [monthly(rng, p.list_size * per_year / 12, 0.10)] for m, month in enumerate(MONTHS)]
    contacts.sort(key=lambda r: (r[1], r[0], r[2]))
    location = w.write(f"{hscp.tag}/gp/contacts.csv", csv_bytes(
        [("Practice Code", "Month", "Contact Type", "Contacts"), *contacts], ";", "\r\n", "cp1252"))
    w.source(f"{hscp.tag}_gp_contacts", partner, "csv", location, "activity",
             options={"delimiter": ";", "encoding": "cp1252"},
             columns={"service_key": "Practice Code", "period": "Month", "measure": "Contact Type",
                      "value": "Contacts"},
             codes={"measure": GP_MEASURES})

    acute, site, community_partner = board.acute, hscp.site, hscp.partner("community")
    targets = {"AE": f"{acute}:ED-{site}", "MED": f"{acute}:AMU-{site}", "SURG": f"{acute}:SAU-{site}",
               "FRAIL": f"{acute}:FRAIL-{site}", "SW": f"{hscp.partner('council')}:SWD",
               "CLW": f"{hscp.partner('third_sector')}:{hsds_ids(hscp)['CLW']}"}
    targets |= {code: f"{community_partner}:{code}" for code in ("HAH", "CRT", "FALLS", "MHCT", "CMHT", "STEPUP",
                                                                 "PALL", "CTAC")}
    codes = [c for c in GP_REFERRALS if c != "DN"] + ["DN-1", "DN-2", "DN-3"]
    targets |= {f"DN-{n}": f"{community_partner}:DN-{n}" for n in (1, 2, 3)}
    days = record_days(rng, rows)
    sizes = np.array([p.list_size for p in hscp.practices], dtype=float)
    practice = rng.choice(len(sizes), size=len(days), p=sizes / sizes.sum())
    rates = np.array(list(GP_REFERRALS.values()))
    destination = rng.choice(len(rates), size=len(days), p=rates / rates.sum())
    dn = list(GP_REFERRALS).index("DN")
    locality = np.array([p.locality for p in hscp.practices])[practice]
    index = np.where(destination == dn, len(GP_REFERRALS) - 1 + locality - 1,
                     destination - (destination > dn))  # DN rows go to the practice's own locality team
    written = w.path(f"{hscp.tag}/gp/referrals.csv")
    write_records(written, {
        "Referral Date": labels([d.strftime("%d/%m/%Y") for d in DAYS], days),
        "Practice Code": labels([p.code for p in hscp.practices], practice),
        "Referred To": with_gaps(rng, labels(codes, index), None),
    }, ";", "\r\n")
    w.source(f"{hscp.tag}_gp_referrals", partner, "csv", f"extracts/{hscp.tag}/gp/referrals.csv", "flows",
             options={"delimiter": ";", "encoding": "cp1252"},
             columns={"from_key": "Practice Code", "to_key": "Referred To", "period": "Referral Date"},
             constants={"measure": "referrals"}, codes={"to_key": targets})


def council(w: MapWriter, hscp: Hscp, board: Board, rows: int) -> None:
    """CSVs saved from Excel (UTF-8 with a byte-order mark): services and a referral log."""
    rng, partner = rng_for(hscp.tag, "council"), hscp.partner("council")
    w.partner(partner, f"Council adult social work, HSCP {hscp.number:02d}", "local_authority")
    services = [(code, name, group, f"Locality {code[-1]}" if code.startswith("LSW-") else "Council-wide",
                 f"care_inspectorate:{registration}{hscp.number:03d}" if registration else "")
                for code, name, group, registration in COUNCIL_SERVICES]
    location = w.write(f"{hscp.tag}/council/sw_services.csv", csv_bytes(
        [("Service Code", "Service Name", "Service Group", "Locality", "External Ref"), *services],
        encoding="utf-8-sig"))
    w.source(f"{hscp.tag}_council_services", partner, "csv", location, "services",
             columns={"service_key": "Service Code", "name": "Service Name", "lane": "Service Group",
                      "locality": "Locality", "external_ids": "External Ref"},
             constants={"area_code": hscp.area_code}, codes={"lane": COUNCIL_LANES})

    acute, site, community_partner = board.acute, hscp.site, hscp.partner("community")
    sources: dict[str, str] = {f"GP-{p.code}": f"{hscp.partner('gp')}:{p.code}" for p in hscp.practices}
    sources |= {f"HOSP-{unit}": f"{acute}:{unit}-{site}" for unit in ("ED", "AMU", "FRAIL", "MED", "ELD")}
    sources |= {code: f"{community_partner}:{code}" for code in ("DN-1", "DN-2", "DN-3", "CRT", "HAH", "FALLS",
                                                                 "CHOSP", "MHCT", "CMHT", "PALL")}
    sources |= COUNCIL_INTERNAL
    pairs: list[tuple[str, str, float]] = []
    sizes = sum(p.list_size for p in hscp.practices)
    for source, team, rate in COUNCIL_REFERRALS:
        if source == "GP":
            pairs += [(f"GP-{p.code}", team, rate * p.list_size / sizes) for p in hscp.practices]
        else:
            pairs.append((source, team, rate))
    weights = np.array([rate for *_, rate in pairs])
    days = record_days(rng, rows)
    pair = rng.choice(len(pairs), size=len(days), p=weights / weights.sum())
    write_records(w.path(f"{hscp.tag}/council/sw_referrals_received.csv"), {
        "Date Received": labels([d.isoformat() for d in DAYS], days),
        "Referral Source": with_gaps(rng, labels([s for s, _, _ in pairs], pair), "NOT RECORDED"),
        "Receiving Team": labels([t for _, t, _ in pairs], pair),
    })
    w.source(f"{hscp.tag}_council_referrals", partner, "csv",
             f"extracts/{hscp.tag}/council/sw_referrals_received.csv", "flows",
             columns={"from_key": "Referral Source", "to_key": "Receiving Team", "period": "Date Received"},
             constants={"measure": "referrals"}, codes={"from_key": sources})


def third_sector(w: MapWriter, hscp: Hscp) -> None:
    """An Open Referral HSDS 3.0 tabular package, plus monthly contacts keyed by HSDS service id."""
    rng, partner, ids = rng_for(hscp.tag, "third_sector"), hscp.partner("third_sector"), hsds_ids(hscp)
    w.partner(partner, f"Third Sector Interface, HSCP {hscp.number:02d}", "third_sector")
    organisations = [("id", "name", "description", "email", "website")]
    organisations += [(ids[f"org/{slug}"], f"{name} ({hscp.number:02d})", f"{name}: a synthetic charity",
                       f"hello@{slug}{hscp.number:02d}.example.org", f"https://{slug}{hscp.number:02d}.example.org")
                      for slug, name in THIRD_SECTOR_ORGANISATIONS]
    services = [("id", "organization_id", "name", "description", "status")]
    services += [(ids[slug], ids[f"org/{org}"], name, f"{name}, by referral or drop-in", "active")
                 for slug, org, name, _ in THIRD_SECTOR_SERVICES]
    package = {"name": f"{hscp.tag}-third-sector-directory", "profile": "tabular-data-package", "resources": [
        {"name": "organization", "path": "organizations.csv", "format": "csv", "encoding": "utf-8",
         "schema": {"fields": [{"name": n, "type": "string"} for n in organisations[0]], "primaryKey": "id"}},
        {"name": "service", "path": "services.csv", "format": "csv", "encoding": "utf-8",
         "schema": {"fields": [{"name": n, "type": "string"} for n in services[0]], "primaryKey": "id",
                    "foreignKeys": [{"fields": "organization_id",
                                     "reference": {"resource": "organization", "fields": "id"}}]}}]}
    w.write(f"{hscp.tag}/third_sector/hsds/organizations.csv", csv_bytes(organisations))
    w.write(f"{hscp.tag}/third_sector/hsds/services.csv", csv_bytes(services))
    location = w.write(f"{hscp.tag}/third_sector/hsds/datapackage.json", json_bytes(package))
    w.source(f"{hscp.tag}_third_sector_directory", partner, "hsds", location.removesuffix("/datapackage.json"),
             constants={"sector": "third_sector", "lane": "third_sector", "area_code": hscp.area_code})
    per_100k = hscp.population / 100_000
    contacts = [(ids[slug], month, int(values[m])) for slug, _, _, typical in THIRD_SECTOR_SERVICES
                for values in [monthly(rng, typical * per_100k, 0.10)] for m, month in enumerate(MONTHS)]
    location = w.write(f"{hscp.tag}/third_sector/contacts_monthly.csv", csv_bytes(
        [("service_id", "month", "contacts"), *sorted(contacts, key=lambda r: (r[1], r[0]))]))
    w.source(f"{hscp.tag}_third_sector_contacts", partner, "csv", location, "activity",
             columns={"service_key": "service_id", "period": "month", "value": "contacts"},
             constants={"measure": "contacts"})


def care_homes(w: MapWriter, hscp: Hscp) -> None:
    """One JSON return from an independent provider: its homes and their monthly figures."""
    rng, partner = rng_for(hscp.tag, "care_homes"), hscp.partner("care_homes")
    w.partner(partner, f"Independent care homes, HSCP {hscp.number:02d}", "independent")
    homes, returns = [], []
    for home, name, beds in hscp.care_homes:
        homes.append({"home_id": home, "home_name": name, "locality": "HSCP-wide",
                      "external_ref": f"care_inspectorate:CS{hscp.number:03d}{home[-1]}"})
        residents = np.minimum(beds, rng.poisson(beds * 0.93, 12))
        admissions = rng.poisson(beds / 46 * 4.5 * seasonal(0.15))
        for m, month in enumerate(MONTHS):
            returns.append({"home_id": home, "month": month, "measure": "residents", "value": int(residents[m])})
            returns.append({"home_id": home, "month": month, "measure": "admissions", "value": int(admissions[m])})
    location = w.write(f"{hscp.tag}/care_homes/returns_2025-26.json", json_bytes({
        "provider": {"name": f"Care homes provider {hscp.number:02d} Ltd"},
        "return": {"period_from": MONTHS[0], "period_to": MONTHS[-1], "submitted": FIXED_TIME.date().isoformat()},
        "homes": homes, "monthly_returns": returns}))
    w.source(f"{hscp.tag}_care_homes", partner, "json", location, "services", options={"records_path": "homes"},
             columns={"service_key": "home_id", "name": "home_name", "locality": "locality",
                      "external_ids": "external_ref"},
             constants={"lane": "care_homes", "setting": "care home", "area_code": hscp.area_code})
    w.source(f"{hscp.tag}_care_home_returns", partner, "json", location, "activity",
             options={"records_path": "monthly_returns"},
             columns={"service_key": "home_id", "period": "month", "measure": "measure", "value": "value"},
             codes={"measure": {"residents": "caseload", "admissions": "admissions"}})


def acute(w: MapWriter, board: Board, rows: int) -> None:
    """The board's acute hospitals: units, monthly activity and transfers, and a discharge log (one row each)."""
    rng, partner = rng_for(board.tag, "acute"), board.acute
    w.partner(partner, f"NHS Board {board.number:02d} acute services", "nhs")
    units = [("Unit Code", "Unit Name", "Unit Type", "Site", "External IDs")]
    activity: list[tuple[str, str, str, str]] = []
    transfers: list[tuple[str, str, str, int]] = []
    for site in board.sites:
        served = sum(h.population for h in board.served(site)) / 100_000
        hospital = f"Board {board.number:02d} Hospital {site}"
        site_units = ACUTE_UNITS + (FIRST_SITE_UNITS if site == 1 else [])
        volume: dict[str, np.ndarray] = {}
        for code, name, unit_type, admissions, stay in site_units:
            external = f"phs_location:{board.site_code(site)}" if code == "ED" else ""
            units.append((f"{code}-{site}", f"{name}, {hospital}", unit_type, hospital, external))
            if admissions:
                volume[code] = monthly(rng, admissions * served)
                bed_days = rng.poisson(volume[code] * stay)
                for m, month in enumerate(MONTHS):
                    activity.append((month, f"{code}-{site}", "ADM", f"{int(volume[code][m]):,}"))
                    activity.append((month, f"{code}-{site}", "OBD", f"{int(bed_days[m]):,}"))
        volume["ED"] = monthly(rng, 2700 * served, 0.07)
        for source, target, share in ACUTE_TRANSFERS:
            if source in volume and any(u[0] == target for u in site_units):
                moved = rng.poisson(volume[source] * share)
                transfers += [(month, f"{source}-{site}", f"{target}-{site}", int(moved[m]))
                              for m, month in enumerate(MONTHS) if moved[m]]
    units.append(("HOME", "Home (usual place of residence)", "HOME", "", ""))
    location = w.write(f"{board.tag}/acute/units.csv", csv_bytes(units))
    w.source(f"{board.tag}_acute_units", partner, "csv", location, "services",
             columns={"service_key": "Unit Code", "name": "Unit Name", "lane": "Unit Type", "setting": "Site",
                      "external_ids": "External IDs"},
             codes={"lane": ACUTE_LANES})
    activity.sort()
    location = w.write(f"{board.tag}/acute/activity_monthly.csv", csv_bytes(
        [("Month", "Unit Code", "Metric", "Value"), *activity]))
    w.source(f"{board.tag}_acute_activity", partner, "csv", location, "activity",
             columns={"service_key": "Unit Code", "period": "Month", "measure": "Metric", "value": "Value"},
             codes={"measure": {"ADM": "admissions", "OBD": "bed_days"}})
    location = w.write(f"{board.tag}/acute/transfers.csv", csv_bytes(
        [("Month", "From Unit", "To Unit", "Patients"), *sorted(transfers)]))
    w.source(f"{board.tag}_acute_transfers", partner, "csv", location, "flows",
             columns={"from_key": "From Unit", "to_key": "To Unit", "period": "Month", "value": "Patients"},
             constants={"measure": "transfers"})

    # the discharge log: every site's discharging units to home or to a service in an HSCP the site serves
    unit_codes, unit_weights, dest_codes, targets = [], [], ["HOME"], {"HOME": "HOME"}
    dest_weights = [HOME_SHARE]
    for site in board.sites:
        here = {u[0] for u in ACUTE_UNITS + (FIRST_SITE_UNITS if site == 1 else [])}
        for code, weight in DISCHARGING_UNITS.items():
            if code in here:
                served = sum(h.population for h in board.served(site))
                unit_codes.append(f"{code}-{site}")
                unit_weights.append(weight * served)
    total_population = sum(h.population for h in board.hscps)
    rate_total = sum(rate for *_, rate in DISCHARGE_DESTINATIONS)
    for hscp in board.hscps:
        ids = hsds_ids(hscp)
        choices: list[tuple[str, str, str, float]] = [
            (suffix, hscp.partner(kind), ids[key] if kind == "third_sector" else key, rate)
            for suffix, kind, key, rate in DISCHARGE_DESTINATIONS]
        choices += [(home, hscp.partner("care_homes"), home, 6 / len(hscp.care_homes)) for home, _, _ in
                    hscp.care_homes]
        for suffix, target_partner, key, rate in choices:
            code = f"H{hscp.number:02d}-{suffix}"
            dest_codes.append(code)
            targets[code] = f"{target_partner}:{key}"
            dest_weights.append((1 - HOME_SHARE) * rate / (rate_total + 6) * hscp.population / total_population)
    days = record_days(rng, rows)
    discharging = rng.choice(len(unit_codes), size=len(days), p=np.array(unit_weights) / sum(unit_weights))
    destination = rng.choice(len(dest_codes), size=len(days), p=np.array(dest_weights) / sum(dest_weights))
    # A unit only discharges to HSCPs its own site serves: move other sites' destinations to HOME.
    site_of_unit = np.array([int(code.rsplit("-", 1)[1]) for code in unit_codes])[discharging]
    site_of_destination = np.array([0] + [h.site for h in board.hscps for _ in range(
        len(DISCHARGE_DESTINATIONS) + len(h.care_homes))])[destination]
    destination = np.where((site_of_destination == 0) | (site_of_destination == site_of_unit), destination, 0)
    times = [f"{hour:02d}:{minute:02d}" for hour in range(8, 20) for minute in (0, 15, 30, 45)]
    stamp = pc.binary_join_element_wise(labels([d.isoformat() for d in DAYS], days),
                                        labels(times, rng.integers(0, len(times), len(days))), " ")
    write_records(w.path(f"{board.tag}/acute/discharges.csv"), {
        "Discharge Date": stamp,
        "Unit Code": labels(unit_codes, discharging),
        "Destination": with_gaps(rng, labels(dest_codes, destination), "UNKNOWN"),
    })
    w.source(f"{board.tag}_acute_discharges", partner, "csv", f"extracts/{board.tag}/acute/discharges.csv", "flows",
             columns={"from_key": "Unit Code", "to_key": "Destination", "period": "Discharge Date"},
             constants={"measure": "discharges"}, codes={"to_key": targets})


def phs(w: MapWriter, boards: list[Board]) -> None:
    """The national monthly A&E file in PHS's layout: every board's EDs and one minor injury unit per board."""
    rng = rng_for("phs")
    w.partner("phs", "Public Health Scotland open data (synthetic figures)", "national")
    lines = [",".join(f'"{c}"' for c in PHS_AE_HEADER)]
    sites = [("HB", "TreatmentLocationName", "TreatmentLocationCode", "CurrentDepartmentType", "FileType",
              "Comments", "Status")]
    for board in boards:
        for site in board.sites:
            served = sum(h.population for h in board.served(site)) / 100_000
            code, attendances = board.site_code(site), monthly(rng, 2700 * served, 0.07)
            sites.append((board.code, f"Board {board.number:02d} Hospital {site}", code, "Emergency Department ",
                          "Episode", "None", "Open"))
            for m, month in enumerate(MONTHS):
                n = int(attendances[m])
                to = {k: int(rng.poisson(n * share)) for k, share in ED_SHARES.items()}
                residence = n - sum(to.values())
                within = int(n * 0.68)
                lines.append(",".join(str(v) if isinstance(v, int) else f'"{v}"' for v in [
                    f"{month[:4]}{month[5:]}", "S92000003", board.code, code, "Emergency Department", n, n, "",
                    within, within, "", to["admission_same"], "", to["other_specialty"], ""]) +
                    f",{residence},,{to['transfer']},,{to['unknown']},")
        miu = f"B{board.number:02d}9H"
        sites.append((board.code, f"Board {board.number:02d} Minor Injuries Unit", miu, "Minor Injury Unit or Other ",
                      "Aggregate", "None", "Open"))
        volumes = monthly(rng, 400 + 150 * len(board.hscps), 0.12)
        for m, month in enumerate(MONTHS):
            lines.append(f'"{month[:4]}{month[5:]}","S92000003","{board.code}","{miu}","Minor Injury Unit or Other",'
                         f'{int(volumes[m])},,"z",{int(volumes[m] * 0.97)},,"z",,"z",,"z",,"z",,"z",,"z"')
    location = w.write("national/phs/monthly_ae_waitingtimes_202603.csv", ("\n".join(lines) + "\n").encode())
    site_list = w.write("national/phs/hospital_site_list.csv", csv_bytes(sites, eol="\r\n"))
    w.source("phs_ae", "phs", "phs_ae", location, options={"site_list": site_list}, codes={"lane": PHS_LANES})


def triage(w: MapWriter, boards: list[Board]) -> None:
    """The national telephone triage service: one JSON document with its services and monthly dispositions."""
    rng = rng_for("triage")
    w.partner("scotline", "Scotline 111 (synthetic)", "national")
    services = [{"code": "SL111", "name": "Scotline 111 telephone triage", "category": "TRIAGE"},
                {"code": "SL111-HUB", "name": "Scotline 111 clinical hub", "category": "TRIAGE"},
                {"code": "SL111-SELF", "name": "Self-care advice (Scotline 111)", "category": "SELF-CARE"}]
    population = sum(h.population for b in boards for h in b.hscps) / 100_000
    targets = [("SL111-HUB", 0.30 * 2600 * population), ("SL111-SELF", 0.11 * 2600 * population)]
    for board in boards:
        targets += [(f"phs_location:{board.site_code(site)}",
                     0.07 * 2600 * sum(h.population for h in board.served(site)) / 100_000) for site in board.sites]
        targets += [(f"{h.partner('gp')}:OOH", 0.24 * 2600 * h.population / 100_000) for h in board.hscps]
    dispositions: list[dict[str, Any]] = [
        {"month": month, "from": "SL111", "disposition": target, "count": int(values[m])}
        for target, typical in targets for values in [monthly(rng, typical, 0.18)]
        for m, month in enumerate(MONTHS) if values[m]]
    dispositions.sort(key=lambda r: (r["month"], r["disposition"]))
    location = w.write("national/scotline/scotline111_2025-26.json", json_bytes({"extract": {
        "publisher": "Scotline 111", "generated": f"{FIXED_TIME.isoformat()}Z", "services": services,
        "dispositions": dispositions}}))
    w.source("triage_services", "scotline", "json", location, "services",
             options={"records_path": "extract.services"},
             columns={"service_key": "code", "name": "name", "lane": "category"},
             codes={"lane": {"TRIAGE": "urgent_care", "SELF-CARE": "prevention_community"}})
    w.source("triage_dispositions", "scotline", "json", location, "flows",
             options={"records_path": "extract.dispositions"},
             columns={"from_key": "from", "to_key": "disposition", "period": "month", "value": "count"},
             constants={"measure": "dispositions"})


# ---- the map ------------------------------------------------------------------------------------------------


def generate(size: Size, out: Path, scale: float = 1.0) -> Path:
    """Write `out/ism.toml` and every extract under `out/extracts`; returns the config path.

    `scale` multiplies the record-level rows (tests use a hundredth of S)."""
    boards = layout(size)
    hscps = [h for b in boards for h in b.hscps]
    total = sum(h.population for h in hscps)
    rows = {name: round(size.record_rows * scale * share) for name, share in RECORD_SHARES.items()}
    w = MapWriter(out)
    for board in boards:
        acute(w, board, round(rows["acute_discharges"] * sum(h.population for h in board.hscps) / total))
        for hscp in board.hscps:
            community(w, hscp)
            gp_cluster(w, hscp, board, round(rows["gp_referrals"] * hscp.population / total))
            council(w, hscp, board, round(rows["council_referrals"] * hscp.population / total))
            third_sector(w, hscp)
            care_homes(w, hscp)
    phs(w, boards)
    triage(w, boards)
    config = out / "ism.toml"
    config.write_text(w.config(size, boards), encoding="utf-8")
    return config


# The one-changed refresh: one partner sends a new version of one extract (one more referral in its log).
CHANGED_SOURCE = "hscp01_gp_referrals"


def changed_extract(config: Path) -> tuple[Path, bytes]:
    """The extract the one-changed refresh alters, and the line to append to it (deterministic)."""
    path = config.parent / "extracts" / "hscp01" / "gp" / "referrals.csv"
    practice = path.read_text(encoding="cp1252").splitlines()[1].split(";")[1]
    return path, f"15/06/2025;{practice};CTAC\r\n".encode("cp1252")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a benchmark map config and its synthetic extracts.")
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--out", type=Path, help="folder to write into (default build/bench/<SIZE>)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the record-level rows")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / "bench" / args.size
    config = generate(SIZES[args.size], out, args.scale)
    print(config)


if __name__ == "__main__":
    main()
