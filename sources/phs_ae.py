"""Kind `phs_ae`: Public Health Scotland's monthly A&E file, as A&E sites, their monthly attendances and the
monthly flows from each site to its five discharge destinations."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from expectations.errors import SourceError
from sources.base import ROW_COLUMN, KindOptions, RawTables, SourceKind, SourceRequest, register, source_where


class PhsAeOptions(KindOptions):
    path_options = ("site_list", "site_names")
    site_list: str | None = None  # PHS hospital_site_list.csv, relative to the map config's folder
    # any other CSV naming sites (such as PHS current-hospital_flagged*.csv): names the site list lacks
    site_names: str | None = None
    site_names_code: str = "Location"  # its column of site codes
    site_names_name: str = "LocationName"  # its column of site names
    treatment_locations: list[str] | None = None  # keep only these sites (codes such as "A210H")
    health_boards: list[str] | None = None  # keep only these HBT codes (such as "S08000015")

    def site_list_path(self, folder: Path) -> Path | None:
        """The site list's path, relative paths resolved against the map config's folder."""
        return self._path(self.site_list, folder)

    def site_names_path(self, folder: Path) -> Path | None:
        return self._path(self.site_names, folder)

    @staticmethod
    def _path(value: str | None, folder: Path) -> Path | None:
        if value is None:
            return None
        path = Path(value)
        return path if path.is_absolute() else folder / path


@dataclass(frozen=True)
class Destination:
    column: str  # the DischargeDestination* column (its qualifier column adds "QF")
    lane_code: str
    per_site: bool  # a node per A&E site ("A210H:admission_same") or one shared node ("residence")
    name: str  # "{site}" is the site's name for per-site nodes
    setting: str | None


DESTINATIONS = (
    Destination(
        "DischargeDestinationAdmissionToSame",
        "admission_same",
        True,
        "{site} – admitted to same hospital",
        "inpatient",
    ),
    Destination(
        "DischargeDestinationOtherSpecialty",
        "other_specialty",
        True,
        "{site} – admitted to other specialty",
        "inpatient",
    ),
    Destination("DischargeDestinationResidence", "residence", False, "Home / usual residence", None),
    Destination("DischargeDestinationTransfer", "transfer", False, "Transfer to another hospital", None),
    Destination("DischargeDestinationUnknown", "unknown", False, "Discharge destination unknown", None),
)
SITE_COLUMNS = ("Month", "HBT", "TreatmentLocation", "DepartmentType", "NumberOfAttendancesAggregate")
REQUIRED_COLUMNS = (*SITE_COLUMNS, *[c for d in DESTINATIONS for c in (d.column, f"{d.column}QF")])
SITE_LIST_COLUMNS = ("TreatmentLocationCode", "TreatmentLocationName")
SERVICE_COLUMNS = ["service_key", "name", "setting", "lane_code", "external_ids", ROW_COLUMN]
ACTIVITY_COLUMNS = ["service_key", "month", "measure", "value", "qualifier", ROW_COLUMN]
FLOW_COLUMNS = ["from_key", "to_key", "month", "measure", "value", "qualifier", ROW_COLUMN]


def _text_csv(data: bytes, where: str, required: tuple[str, ...]) -> pd.DataFrame:
    """Every column as text (empty cells missing, "NA" and "None" kept as text); required columns checked."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype="str", encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{where}: byte {error.start} is not UTF-8 text; download the file again from PHS open data"
        ) from None
    except pd.errors.EmptyDataError:
        raise SourceError(f"{where}: the file is empty; download it again from PHS open data") from None
    except pd.errors.ParserError as error:
        raise SourceError(f"{where}: not a CSV file PHS publishes: {error}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{where}: missing required columns {', '.join(missing)}; "
            "is this the right PHS file (check `location` and `kind` in the map config)?"
        )
    return frame


def _line_numbers(data: bytes, records: int, where: str) -> pd.Series:
    """The physical line each data record starts on (the header is line 1)."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines == records + 1:  # one line per record: the usual PHS file, no need to re-scan it
        return pd.Series(range(2, records + 2), dtype="int64")
    # blank lines or line breaks inside quoted cells: walk the file once to find where each record starts
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    starts: list[int] = []
    previous = 0
    for record in reader:
        if record:
            starts.append(previous + 1)
        previous = reader.line_num
    if len(starts) != records + 1:
        raise SourceError(
            f"{where}: found {len(starts) - 1} CSV records but pandas read {records}; "
            "the file may be damaged, download it again"
        )
    return pd.Series(starts[1:], dtype="int64")


def _site_names(path: Path | None, source_id: str, columns: tuple[str, str] = SITE_LIST_COLUMNS,
                option: str = "site_list") -> dict[str, str]:
    """Site code -> name from a PHS hospital site list, or another CSV with a code and a name column (values
    carry trailing spaces: stripped)."""
    if path is None:
        return {}
    where = f"{source_id}: options.{option} {path.name}"  # the file's name, never the machine's path
    if not path.is_file():
        raise SourceError(f"{where}: file not found (check options.{option}; it is relative to the map config)")
    sites = _text_csv(path.read_bytes(), where, columns)
    codes = sites[columns[0]].str.strip()
    names = sites[columns[1]].str.strip()
    known = codes.notna() & names.notna() & (codes != "") & (names != "")
    return dict(zip(codes[known], names[known], strict=True))


def _kept(frame: pd.DataFrame, column: str, wanted: list[str] | None, option: str, where: str) -> pd.Series:
    """Rows selected by one filter option; a code the file never has is a typo, not an empty selection."""
    if wanted is None:
        return pd.Series(True, index=frame.index)
    wanted = [code.strip() for code in wanted]
    unknown = sorted(set(wanted) - set(frame[column].dropna()))
    if unknown:
        raise SourceError(
            f"{where}: options.{option} names {', '.join(unknown)}, which the file's {column} "
            "column never has; check the codes in the map config"
        )
    return frame[column].isin(wanted)


def _service_keys(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's site service key, and each site's department type in its latest month.

    A site is one service, typed by its latest department. A site that ran two departments in the same month
    (New Victoria had an ED and an MIU from 2009 to 2015) would report two counts for one service and month,
    so there each other department is a service of its own, keyed "<site>:<department>"."""
    department = rows["DepartmentType"].fillna("unknown department")
    latest = rows.assign(department=department).sort_values(["Month", ROW_COLUMN]).groupby("TreatmentLocation")
    latest_department = latest["department"].last()
    both_at_once = rows.duplicated(["TreatmentLocation", "Month"], keep=False)
    split_sites = rows.loc[both_at_once, "TreatmentLocation"].unique()
    own_service = rows["TreatmentLocation"].isin(split_sites) & (
        department != rows["TreatmentLocation"].map(latest_department)
    )
    slug = department.str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    keys = rows["TreatmentLocation"].where(~own_service, rows["TreatmentLocation"] + ":" + slug)
    return keys, latest_department


def _site_services(
    rows: pd.DataFrame, keys: pd.Series, latest_department: pd.Series, names: dict[str, str]
) -> pd.DataFrame:
    """One service per A&E site (and per extra department of a split site), in order of first appearance."""
    first = (
        pd.DataFrame(
            {
                "service_key": keys,
                "site": rows["TreatmentLocation"],
                "department": rows["DepartmentType"],
                ROW_COLUMN: rows[ROW_COLUMN],
            }
        )
        .sort_values(ROW_COLUMN)
        .drop_duplicates("service_key")
    )
    is_site = first["service_key"] == first["site"]
    site_name = first["site"].map(lambda code: names.get(code, f"A&E {code}"))
    setting = first["department"].where(~is_site, first["site"].map(latest_department))
    return pd.DataFrame(
        {
            "service_key": first["service_key"],
            "name": site_name.where(is_site, site_name + " – " + first["department"]),
            "setting": setting,
            "lane_code": setting,
            "external_ids": ("phs_location:" + first["site"]).where(is_site, None),
            ROW_COLUMN: first[ROW_COLUMN],
        }
    ).reset_index(drop=True)


def _destination_services(sites: pd.DataFrame, referenced: set[str]) -> pd.DataFrame:
    """Synthesised destination services (row 0): per-site admissions, then the shared discharge nodes."""
    sites = sites[~sites["service_key"].str.contains(":")]  # a split site's extra departments share its wards
    parts: list[pd.DataFrame] = []
    for destination in DESTINATIONS:
        if destination.per_site:
            keys = sites["service_key"] + ":" + destination.lane_code
            names = sites["name"].map(lambda site, d=destination: d.name.format(site=site))
        else:
            keys = pd.Series([destination.lane_code])
            names = pd.Series([destination.name])
        parts.append(
            pd.DataFrame(
                {
                    "service_key": keys.to_numpy(),
                    "name": names.to_numpy(),
                    "setting": destination.setting,
                    "lane_code": destination.lane_code,
                    "external_ids": None,
                    ROW_COLUMN: 0,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    # per-site nodes in site order, so a site's two admission nodes sit together
    site_of = frame["service_key"].str.split(":").str[0]
    order = {code: position for position, code in enumerate(sites["service_key"])}
    frame = frame.assign(__site=site_of.map(order).fillna(len(order)))
    frame = frame.sort_values("__site", kind="stable").drop(columns="__site")
    return frame[frame["service_key"].isin(referenced)]


def _flows(rows: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """One flow per file row and discharge destination: the cell's count and its qualifier (either may be
    empty)."""
    parts = []
    for destination in DESTINATIONS:
        to_key = (
            rows["TreatmentLocation"] + ":" + destination.lane_code
            if destination.per_site
            else pd.Series(destination.lane_code, index=rows.index)
        )
        parts.append(
            pd.DataFrame(
                {
                    "from_key": keys,
                    "to_key": to_key,
                    "month": rows["Month"],
                    "measure": "discharges",
                    "value": rows[destination.column],
                    "qualifier": rows[f"{destination.column}QF"],
                    ROW_COLUMN: rows[ROW_COLUMN],
                }
            )
        )
    # stable sort by row: each file row's five destinations stay together, in column order
    flows = pd.concat(parts).sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)
    return flows.astype({c: "str" for c in FLOW_COLUMNS if c != ROW_COLUMN})


def _read(request: SourceRequest) -> RawTables:
    options: PhsAeOptions = request.options  # type: ignore[assignment]
    where = source_where(request)
    data = request.location.read_bytes()
    frame = _text_csv(data, where, REQUIRED_COLUMNS)
    frame.insert(0, ROW_COLUMN, _line_numbers(data, len(frame), where).to_numpy())
    for column in ("Month", "HBT", "TreatmentLocation", "DepartmentType"):
        frame[column] = frame[column].str.strip()
    kept = _kept(frame, "TreatmentLocation", options.treatment_locations, "treatment_locations", where)
    kept &= _kept(frame, "HBT", options.health_boards, "health_boards", where)
    rows = frame[kept]

    names = {**_site_names(options.site_names_path(request.folder), request.source_id,
                           (options.site_names_code, options.site_names_name), "site_names"),
             **_site_names(options.site_list_path(request.folder), request.source_id)}
    keys, latest_department = _service_keys(rows)
    sites = _site_services(rows, keys, latest_department, names)
    flows = _flows(rows, keys)
    destinations = _destination_services(sites, set(flows["to_key"].unique()))
    services = pd.concat([sites, destinations], ignore_index=True)
    activity = pd.DataFrame(
        {
            "service_key": keys,
            "month": rows["Month"],
            "measure": "attendances",
            "value": rows["NumberOfAttendancesAggregate"],
            "qualifier": None,
            ROW_COLUMN: rows[ROW_COLUMN],
        }
    ).reset_index(drop=True)
    return RawTables(
        {
            "services": services[SERVICE_COLUMNS].astype({c: "str" for c in SERVICE_COLUMNS if c != ROW_COLUMN}),
            "activity": activity[ACTIVITY_COLUMNS].astype({c: "str" for c in ACTIVITY_COLUMNS if c != ROW_COLUMN}),
            "flows": flows[FLOW_COLUMNS],
        },
        rows_filtered=int((~kept).sum()),  # other boards' or sites' rows, left out by the options
    )


def _hashed_files(request: SourceRequest) -> list[Path]:
    options: PhsAeOptions = request.options  # type: ignore[assignment]
    return [path for path in (options.site_list_path(request.folder), options.site_names_path(request.folder))
            if path is not None]


PHS_AE = register(
    SourceKind(
        name="phs_ae",
        read=_read,
        options=PhsAeOptions,
        tables=("services", "activity", "flows"),
        default_columns={
            "services": {
                "service_key": "service_key",
                "name": "name",
                "setting": "setting",
                "lane": "lane_code",
                "external_ids": "external_ids",
            },
            "activity": {
                "service_key": "service_key",
                "period": "month",
                "measure": "measure",
                "value": "value",
                "qualifier": "qualifier",
            },
            "flows": {
                "from_key": "from_key",
                "to_key": "to_key",
                "period": "month",
                "measure": "measure",
                "value": "value",
                "qualifier": "qualifier",
            },
        },
        hashed_files=_hashed_files,
    )
)
