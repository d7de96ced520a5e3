"""The map dataset as one Excel workbook (`exports/map.xlsx`) for readers without data tools: a README sheet that
explains the map and every column, then one sheet per table with real dates and numbers (the activity and flows
sheets also name each service and its lane next to its id), then each service's activity and each flow over the
period, one row per service (or pair of services) and measure, each figure as its measure's kind says and with its
suppressed months (unlike measures are never added)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
from openpyxl.utils import get_column_letter

from expectations.canonical import CANONICAL_TABLES, QUALIFIERS
from outputs.context import FLOW_TOTALS, PublishedVersion
from outputs.dataset import (
    SCHEMA_VERSION,
    TABLE_DESCRIPTIONS,
    field_constraints,
    field_description,
    field_type,
    field_unit,
    publishable,
)
from outputs.xlsx import BOLD, PLAIN, TITLE, XlsxWriter, frame_rows_xml, row_xml

PERIOD_FLOWS = "flows_over_period"
PERIOD_ACTIVITY = "activity_over_period"
NAMED_COLUMNS = {  # table -> id column -> the readable columns written after it
    "activity": {"service_id": ("service_name", "lane")},
    "flows": {"from_service_id": ("from_service_name", "from_lane"), "to_service_id": ("to_service_name", "to_lane")},
}
ADDED_DESCRIPTIONS = {
    "service_name": "The service's name (from the services table), for reading; service_id is the key.",
    "lane": "The service's lane on the map (from the services table).",
    "from_service_name": "The sending service's name (from the services table).",
    "from_lane": "The sending service's lane on the map.",
    "to_service_name": "The receiving service's name (from the services table).",
    "to_lane": "The receiving service's lane on the map.",
}
TOTAL_COLUMNS = ("measure", "label", "unit", "kind", "value", "months", "suppressed_months", "display")
PERIOD_COLUMNS = ("from_service_id", "from_service_name", "from_lane", "to_service_id", "to_service_name", "to_lane",
                  *TOTAL_COLUMNS)
ACTIVITY_PERIOD_COLUMNS = ("service_id", "service_name", "lane", *TOTAL_COLUMNS)
MAX_DATA_ROWS = 1_048_575  # Excel's row limit less the header row: a longer table continues on another sheet
README_WIDTHS = (28, 30, 14, 40, 20, 30, 60, 60)


def sheet_names(table: str, rows: int) -> list[str]:
    """The sheets a table fills: its name, then "<name> (2)", ... past Excel's row limit."""
    parts = max(1, math.ceil(rows / MAX_DATA_ROWS))
    return [table if part == 0 else f"{table} ({part + 1})" for part in range(parts)]


def _write_table(workbook: XlsxWriter, table: str, frame: pd.DataFrame) -> None:
    widths = [max(12, min(48, len(column) + 4)) for column in frame.columns]
    last_column = get_column_letter(len(frame.columns))
    for part, name in enumerate(sheet_names(table, len(frame))):
        chunk = frame.iloc[part * MAX_DATA_ROWS:(part + 1) * MAX_DATA_ROWS]
        rows = chain([row_xml(1, list(frame.columns), BOLD)], frame_rows_xml(chunk, first_row=2))
        workbook.add_sheet(name, rows, widths, freeze_header=True, auto_filter=f"A1:{last_column}{len(chunk) + 1}")


def named(table: str, frame: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """A published table with each service's name and lane next to its id (activity and flows; others as they
    are)."""
    if table not in NAMED_COLUMNS:
        return frame
    lookup = services.set_index("service_id")[["name", "lane"]]
    out = frame.copy()
    for id_column, (name_column, lane_column) in NAMED_COLUMNS[table].items():
        at = list(out.columns).index(id_column) + 1
        out.insert(at, name_column, out[id_column].map(lookup["name"]).astype(object))
        out.insert(at + 1, lane_column, out[id_column].map(lookup["lane"]).astype(object))
    return out


def _total_rows(totals: Mapping[Any, Sequence[Mapping[str, Any]]], key: Sequence[str]) -> pd.DataFrame:
    rows = [{**dict(zip(key, ident if isinstance(ident, tuple) else (ident,), strict=True)),
             **{c: record[c] for c in TOTAL_COLUMNS}} for ident, records in totals.items() for record in records]
    frame = pd.DataFrame(rows, columns=[*key, *TOTAL_COLUMNS])
    frame = frame.sort_values([*key, "measure"], kind="mergesort").reset_index(drop=True)
    return frame.astype({"value": "float64", "months": "int64", "suppressed_months": "int64"})


def period_flows(graph: nx.DiGraph, services: pd.DataFrame) -> pd.DataFrame:
    """Each flow over the period per pair of services and measure, as the graph's totals say (transforms/totals.py):
    the figure its kind gives, the months its rows cover, the months withheld (qualifier c, not in the figure) and
    what a person reads ("≥ 117 (10 of 12 months suppressed)")."""
    frame = _total_rows(graph.graph.get(FLOW_TOTALS) or {}, ["from_service_id", "to_service_id"])
    return named("flows", frame, services)[list(PERIOD_COLUMNS)]


def period_activity(graph: nx.DiGraph, services: pd.DataFrame) -> pd.DataFrame:
    """Each service's activity over the period per measure, as the graph's totals say (as period_flows)."""
    frame = _total_rows({node: data.get("totals") or [] for node, data in graph.nodes(data=True)}, ["service_id"])
    return named("activity", frame, services)[list(ACTIVITY_PERIOD_COLUMNS)]


def readme_rows(version: PublishedVersion, row_counts: dict[str, int]) -> list[list[Any]]:
    """The README sheet's rows: what the map is, its licences and sources, and every table and column."""
    rows: list[list[Any]] = [
        [version.title],
        ["An Interconnected Systems Map dataset: it describes the system; it does not forecast or recommend."],
        [],
        ["Map", version.map_id],
        ["Version", version.version_id],
        ["Schema version", SCHEMA_VERSION],
        ["Area", version.area_label],
        ["Population", version.population],
        ["Period", version.period_label],
        ["Partners", ", ".join(version.partners.values())],
        [],
        ["Licences"],
        *[[licence.get("title") or licence.get("name"), licence.get("path")] for licence in version.licences],
        [],
        ["Attributions"],
        *[[attribution] for attribution in version.attributions],
        [],
        ["Sources", "partner", "kind", "location", "sha256", "status", "licence", "attribution"],
        *[[s["source_id"], s.get("partner"), s.get("kind"), s.get("location"), s.get("sha256"), s.get("status"),
           s.get("licence"), s.get("attribution")] for s in version.sources],
        [],
        ["How to read it: one sheet per table; dates are dates, counts are numbers, an empty cell is a missing "
         "value (see qualifier); lists are joined with ';'. Ids (service_id, organisation_id) are stable across "
         "versions."],
        [],
        ["Tables", "rows", "sheets", "description"],
        *[[table, row_counts[table], ", ".join(sheet_names(table, row_counts[table])), TABLE_DESCRIPTIONS[table]]
          for table in CANONICAL_TABLES],
        [],
        ["Qualifier codes", "meaning"],
        *[[code, meaning] for code, meaning in QUALIFIERS.items()],
        *[[sheet, row_counts.get(sheet, 0), ", ".join(sheet_names(sheet, row_counts.get(sheet, 0))),
           f"{what} over the map's period: one row per {per} and measure, never added across measures; each "
           "figure as its measure's kind says (counts summed, stocks the mean or last month, averages the "
           "day-weighted mean, percentages recomputed from numerator and denominator); months withheld "
           "(qualifier c) are counted in suppressed_months, not in value."]
          for sheet, what, per in ((PERIOD_ACTIVITY, "Each service's activity", "service"),
                                   (PERIOD_FLOWS, "The flows", "pair of services"))],
        [],
        ["Columns: table", "column", "type", "required", "unit", "allowed values", "description"],
    ]
    for table in CANONICAL_TABLES:
        for column in publishable(table, version.tables[table].head(0)).columns:
            constraints = field_constraints(table, column, [lane.id for lane in version.lanes])
            rows.append([table, column, field_type(table, column), "yes" if constraints.get("required") else "no",
                         field_unit(table, column), ", ".join(map(str, constraints.get("enum", []))) or None,
                         field_description(table, column)])
            for added in NAMED_COLUMNS.get(table, {}).get(column, ()):
                rows.append([table, added, "string", "no", None, None, ADDED_DESCRIPTIONS[added]])
    for sheet in (PERIOD_ACTIVITY, PERIOD_FLOWS):
        rows += [[sheet, "label", "string", "yes", None, None, "The measure's label (measure catalogue)."],
                 [sheet, "unit", "string", "yes", None, None, "The measure's unit (measure catalogue)."],
                 [sheet, "kind", "string", "yes", None, None, "count, stock, average, percentage or rate."],
                 [sheet, "value", "number", "no", None, None,
                  "The period figure as the kind says (empty: nothing published, or per month only)."],
                 [sheet, "months", "integer", "yes", None, None, "Calendar months the rows cover."],
                 [sheet, "suppressed_months", "integer", "yes", None, None,
                  "Months whose value is withheld (qualifier c): not in value."],
                 [sheet, "display", "string", "yes", None, None,
                  "What a person reads, e.g. \"≥ 117 (10 of 12 months suppressed)\"."]]
    return rows


HEADINGS = {"Licences", "Attributions", "Sources", "Tables", "Qualifier codes", "Columns: table"}


def _write_readme(workbook: XlsxWriter, rows: Sequence[list[Any]]) -> None:
    workbook.add_sheet("README", [row_xml(number, row, TITLE if number == 1 else BOLD if row and row[0] in HEADINGS
                                          else PLAIN) for number, row in enumerate(rows, start=1)], README_WIDTHS)


def write_spreadsheet(version: PublishedVersion, path: Path) -> Path:
    """The workbook: README first, then a sheet per table in contract order (rows written as they stream)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    published = {table: publishable(table, version.tables[table]) for table in CANONICAL_TABLES}
    frames = {table: named(table, frame, published["services"]) for table, frame in published.items()}
    frames[PERIOD_ACTIVITY] = period_activity(version.graph, published["services"])
    frames[PERIOD_FLOWS] = period_flows(version.graph, published["services"])
    with XlsxWriter(path) as workbook:
        _write_readme(workbook, readme_rows(version, {table: len(frame) for table, frame in frames.items()}))
        for table, frame in frames.items():
            _write_table(workbook, table, frame)
    return path


def spreadsheet_artefact(version: PublishedVersion) -> list[Path]:
    """`exports/map.xlsx`: the dataset for spreadsheet readers."""
    return [write_spreadsheet(version, version.folder / "exports" / "map.xlsx")]

