"""Consolidate every accepted source in one DuckDB database: resolve the same service named by several partners to
one `service_id`, resolve flow endpoints, aggregate activity and flows to months. Unresolved rows become rejects."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import networkx as nx
import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from transforms.rejects import REJECT_COLUMNS, concat_rejects, normalised_rejects

PARTNER_ORGANISATION_KEY = ""  # the organisation a partner is, keyed by the partner id alone


@dataclass(frozen=True)
class PartnerInfo:
    name: str
    sector: str


@dataclass(frozen=True)
class InitiativeSpec:
    """An initiative from the map config or a partner's list, with where it came from (for rejects)."""

    initiative_id: str
    name: str
    status: str | None
    services: tuple[str, ...]  # "partner:key" or "scheme:value"; a bare key is one of `partner`'s own services
    lead_partner: str | None
    source_id: str = "config"
    row_number: int | None = None
    location: str | None = None
    partner: str | None = None


def stable_id(prefix: str, *parts: str) -> str:
    """An id derived from source keys (never row numbers), so it survives reordering and renames."""
    return f"{prefix}_{hashlib.sha256(chr(31).join(parts).encode()).hexdigest()[:12]}"


def organisation_id(partner: str, key: str = PARTNER_ORGANISATION_KEY) -> str:
    return stable_id("org", partner, key)


def service_id(partner: str, key: str) -> str:
    return stable_id("svc", partner, key)


def _split_ref(ref: str) -> tuple[str, str]:
    namespace, _, key = ref.partition(":")
    return namespace.strip(), key.strip()


def _external_ids(text: str | None) -> list[tuple[str, str]]:
    if not text or pd.isna(text):
        return []
    return [_split_ref(part) for part in str(text).split(LIST_SEPARATOR) if ":" in part]


def _reject_rows(rows: pd.DataFrame, column: str, check: str, message: str | pd.Series,
                 value: pd.Series, locations: Mapping[str, str]) -> pd.DataFrame:
    return normalised_rejects(pd.DataFrame({
        "source_id": rows["source_id"].to_numpy(),
        "location": rows["source_id"].map(locations).to_numpy(),
        "row_number": rows["row_number"].to_numpy(),
        "column": column,
        "check": check,
        "severity": "error",
        "value": value.to_numpy(),
        "message": message.to_numpy() if isinstance(message, pd.Series) else message,
    }, columns=REJECT_COLUMNS))


def _same_service_graph(staged: pd.DataFrame, partners: Mapping[str, PartnerInfo]
                        ) -> tuple[nx.Graph, set[tuple[str, str, str]], list[int]]:
    """Services linked by shared external ids and by `same_as`; the crosswalk targets; the rows whose `same_as`
    names nothing any source lists."""
    graph = nx.Graph()
    targets: set[tuple[str, str, str]] = set()
    for row in staged.itertuples(index=False):
        member = ("svc", row.partner, row.service_key)
        graph.add_node(member)
        for scheme, value in _external_ids(row.external_ids):
            graph.add_edge(member, ("ext", scheme, value))
    bad_refs = []
    for index, row in zip(staged.index, staged.itertuples(index=False), strict=True):
        if row.same_as is None or pd.isna(row.same_as):
            continue
        namespace, key = _split_ref(str(row.same_as))
        target = ("svc", namespace, key) if namespace in partners else ("ext", namespace, key)
        if target not in graph:
            bad_refs.append(index)
            continue
        targets.add(target)
        graph.add_edge(("svc", row.partner, row.service_key), target)
    return graph, targets, bad_refs


def _representatives(graph: nx.Graph, targets: set[tuple[str, str, str]]
                     ) -> tuple[dict[tuple[str, str], tuple[str, str]], pd.DataFrame]:
    """Each service's representative (partner, key) in its group, and the (namespace, key) -> service_id table."""
    representative: dict[tuple[str, str], tuple[str, str]] = {}
    keys: list[tuple[str, str, str]] = []
    for component in nx.connected_components(graph):
        members = sorted(n for n in component if n[0] == "svc")
        if not members:
            continue
        rep = min(members, key=lambda n: (n not in targets, n[1], n[2]))
        sid = service_id(rep[1], rep[2])
        for node in component:
            keys.append((node[1], node[2], sid))
            if node[0] == "svc":
                representative[(node[1], node[2])] = (rep[1], rep[2])
    return representative, pd.DataFrame(keys, columns=["ns", "key", "service_id"]).drop_duplicates(["ns", "key"])


def consolidated_services(
    staged: pd.DataFrame, partners: Mapping[str, PartnerInfo], organisation_keys: set[tuple[str, str]],
    locations: Mapping[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per real service, the (namespace, key) -> service_id resolution table, and rejects.

    Services are the same when a crosswalk (`same_as`) says so or when they share an external id. The
    representative of a group is a crosswalk target if there is one, else the least (partner, key): so the id
    does not depend on source order."""
    staged = staged.sort_values(["partner", "service_key", "source_id", "row_number"]).reset_index(drop=True)
    graph, targets, bad_refs = _same_service_graph(staged, partners)
    rejected: list[pd.DataFrame] = []
    if bad_refs:
        rows = staged.loc[bad_refs]
        rejected.append(_reject_rows(rows, "same_as", "unknown_service",
                                     "same_as names a service no source lists (use partner:key or scheme:value)",
                                     rows["same_as"], locations))
    representative, resolution = _representatives(graph, targets)

    staged["rep"] = [representative[(p, k)] for p, k in zip(staged["partner"], staged["service_key"], strict=True)]
    staged["service_id"] = [service_id(*rep) for rep in staged["rep"]]
    is_rep = pd.Series([(p, k) == rep for p, k, rep in zip(staged["partner"], staged["service_key"], staged["rep"],
                                                           strict=True)], index=staged.index, dtype=bool)
    sources: dict[str, set[str]] = {}  # per service: every source naming it, and every external id given it
    externals: dict[str, set[str]] = {}
    for sid, source, text in zip(staged["service_id"], staged["source_id"], staged["external_ids"], strict=True):
        sources.setdefault(sid, set()).add(source)
        externals.setdefault(sid, set()).update(f"{scheme}:{value}" for scheme, value in _external_ids(text))
    chosen = staged[is_rep]  # a mask, never a list: an empty list would select no columns
    chosen = chosen.drop_duplicates("service_id", keep="first").set_index("service_id")

    org_key = chosen["organisation_key"]
    has_org = org_key.notna()
    unknown_org = has_org & ~pd.Series([(p, k) in organisation_keys for p, k in zip(chosen["partner"], org_key,
                                                                                   strict=True)],
                                       index=chosen.index)
    if unknown_org.any():
        rows = chosen[unknown_org]
        rejected.append(_reject_rows(rows, "organisation_key", "unknown_organisation",
                                     "the service's organisation is not in any organisations extract of its partner",
                                     rows["organisation_key"], locations))
        chosen = chosen[~unknown_org]
        resolution = resolution[resolution["service_id"].isin(chosen.index)]
    services = pd.DataFrame({
        "service_id": chosen.index,
        "name": chosen["name"].to_numpy(),
        "description": chosen["description"].to_numpy(),
        "organisation_id": [organisation_id(p, k if isinstance(k, str) else PARTNER_ORGANISATION_KEY)
                            for p, k in zip(chosen["partner"], chosen["organisation_key"], strict=True)],
        "lane": chosen["lane"].to_numpy(),
        "setting": chosen["setting"].to_numpy(),
        "client_groups": chosen["client_groups"].to_numpy(),
        "locality": chosen["locality"].to_numpy(),
        "area_code": chosen["area_code"].to_numpy(),
        "status": chosen["status"].to_numpy(),
        "external_ids": [LIST_SEPARATOR.join(sorted(externals[sid])) or None for sid in chosen.index],
        "source_id": chosen["source_id"].to_numpy(),
        "source_ids": [LIST_SEPARATOR.join(sorted(sources[sid])) for sid in chosen.index],
    })
    return services.sort_values("service_id").reset_index(drop=True), resolution, concat_rejects(rejected)


def consolidated_organisations(staged: pd.DataFrame, partners: Mapping[str, PartnerInfo]) -> pd.DataFrame:
    """Each partner's own organisation plus every organisation the sources list, one row per id."""
    own = pd.DataFrame({
        "organisation_id": [organisation_id(p) for p in partners],
        "name": [info.name for info in partners.values()],
        "sector": [info.sector for info in partners.values()],
        "partner": list(partners),
        "email": None, "phone": None, "website": None,
        "source_id": "config",
    })
    listed = staged.sort_values(["partner", "organisation_key", "source_id", "row_number"]).drop_duplicates(
        ["partner", "organisation_key"])
    listed = pd.DataFrame({
        "organisation_id": [organisation_id(p, k) for p, k in zip(listed["partner"], listed["organisation_key"],
                                                                  strict=True)],
        "name": listed["name"].to_numpy(), "sector": listed["sector"].to_numpy(),
        "partner": listed["partner"].to_numpy(), "email": listed["email"].to_numpy(),
        "phone": listed["phone"].to_numpy(), "website": listed["website"].to_numpy(),
        "source_id": listed["source_id"].to_numpy(),
    })
    return pd.concat([own, listed], ignore_index=True).sort_values("organisation_id").reset_index(drop=True)


QUALIFIER_OF_TOTAL = """
    CASE WHEN bool_or(qualifier = 'c') THEN 'c'
         WHEN count(DISTINCT qualifier) = 1 THEN min(qualifier)
         WHEN count(DISTINCT qualifier) > 1 THEN 'd' END
"""

# A key is looked up in its column's namespace first; failing that, a key written "partner:key" (or
# "scheme:value") points into another namespace, so one column can name services of several partners.
RESOLVE_SQL = """
SELECT {ns} AS ns, {key} AS key, coalesce(own.service_id, qualified.service_id) AS service_id
FROM (SELECT DISTINCT {ns}, {key} FROM {table}) refs
LEFT JOIN service_keys own ON own.ns = refs.{ns} AND own.key = refs.{key}
LEFT JOIN service_keys qualified
       ON qualified.ns = split_part(refs.{key}, ':', 1)
      AND qualified.key = substr(refs.{key}, length(split_part(refs.{key}, ':', 1)) + 2)
"""

# a figure within one month counts to that month; one published for longer (a quarter, a financial year, a week
# across two months) keeps its own period: it is never split into months
MONTH_OR_OWN_SPAN = """
       CASE WHEN date_trunc('month', period_start) = date_trunc('month', period_end)
            THEN CAST(date_trunc('month', period_start) AS TIMESTAMP) ELSE period_start END AS period_start,
       CASE WHEN date_trunc('month', period_start) = date_trunc('month', period_end)
            THEN CAST(last_day(period_start) AS TIMESTAMP) ELSE period_end END AS period_end"""

RESOLVED_ACTIVITY_SQL = f"""
CREATE OR REPLACE TEMP TABLE activity_refs AS
{RESOLVE_SQL.format(ns="service_ns", key="service_key", table="staged_activity")};
CREATE OR REPLACE TEMP VIEW resolved_activity AS
SELECT a.*, r.service_id
FROM staged_activity a
LEFT JOIN activity_refs r ON r.ns = a.service_ns AND r.key = a.service_key
"""

ACTIVITY_SQL = f"""
CREATE OR REPLACE TABLE activity AS
SELECT service_id,
       {MONTH_OR_OWN_SPAN},
       measure, sum(value) AS value, {QUALIFIER_OF_TOTAL} AS qualifier, source_id
FROM resolved_activity
WHERE service_id IS NOT NULL
GROUP BY ALL
ORDER BY service_id, period_start, measure, source_id
"""

UNRESOLVED_ACTIVITY_SQL = """
SELECT * FROM (SELECT source_id, {lines} AS row_number, service_ns || ':' || service_key AS value
               FROM resolved_activity WHERE service_id IS NULL)
ORDER BY source_id, row_number
"""

# the references are resolved once (a few thousand), then joined to the rows as they are scanned
RESOLVED_FLOWS_SQL = f"""
CREATE OR REPLACE TEMP TABLE flow_refs AS
{RESOLVE_SQL.format(ns="ref_ns", key="ref_key",
                    table="(SELECT from_ns AS ref_ns, from_key AS ref_key FROM staged_flows "
                          "UNION SELECT to_ns, to_key FROM staged_flows)")};
CREATE OR REPLACE TEMP VIEW resolved_flows AS
SELECT f.*, fk.service_id AS from_service_id, tk.service_id AS to_service_id
FROM staged_flows f
LEFT JOIN flow_refs fk ON fk.ns = f.from_ns AND fk.key = f.from_key
LEFT JOIN flow_refs tk ON tk.ns = f.to_ns AND tk.key = f.to_key
"""

UNRESOLVED_FLOWS_SQL = """
SELECT * FROM (
SELECT source_id, {lines} AS row_number,
       CASE WHEN from_service_id IS NULL THEN 'from_key' ELSE 'to_key' END AS column,
       CASE WHEN from_service_id IS NULL THEN from_ns || ':' || from_key ELSE to_ns || ':' || to_key END AS value,
       from_service_id IS NOT NULL AND to_service_id IS NOT NULL AS is_self
FROM resolved_flows
WHERE from_service_id IS NULL OR to_service_id IS NULL OR from_service_id = to_service_id
)
ORDER BY source_id, row_number
"""

FLOWS_SQL = f"""
CREATE OR REPLACE TABLE flows AS
SELECT from_service_id, to_service_id,
       {MONTH_OR_OWN_SPAN},
       measure, sum(value) AS value, {QUALIFIER_OF_TOTAL} AS qualifier, source_id
FROM resolved_flows
WHERE from_service_id IS NOT NULL AND to_service_id IS NOT NULL AND from_service_id <> to_service_id
GROUP BY ALL
ORDER BY from_service_id, to_service_id, period_start, measure, source_id
"""


def _lines(con: duckdb.DuckDBPyConnection, staged: str) -> str:
    """SQL of the extract lines each staged row stands for (several for a log counted by month)."""
    if "row_numbers" in con.table(staged).columns:
        return "unnest(coalesce(row_numbers, [CAST(row_number AS BIGINT)]))"
    return "row_number"


def consolidate(
    con: duckdb.DuckDBPyConnection,
    partners: Mapping[str, PartnerInfo],
    locations: Mapping[str, str],
    initiatives: Sequence[InitiativeSpec] = (),
) -> None:
    """Build `organisations`, `services`, `service_keys`, `activity`, `flows`, `initiatives` and
    `consolidation_rejects` in `con` from the `staged_*` tables."""
    organisations = consolidated_organisations(con.table("staged_organisations").df(), partners)
    org_keys = set(zip(con.table("staged_organisations").df()["partner"],
                       con.table("staged_organisations").df()["organisation_key"], strict=True))
    services, resolution, rejects = consolidated_services(con.table("staged_services").df(), partners, org_keys,
                                                          locations)
    for name, frame in (("organisations", organisations), ("services", services), ("service_keys", resolution)):
        con.register("_frame", frame)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _frame")
        con.unregister("_frame")

    con.execute(RESOLVED_ACTIVITY_SQL)
    con.execute(ACTIVITY_SQL)
    unresolved = con.execute(UNRESOLVED_ACTIVITY_SQL.format(lines=_lines(con, "staged_activity"))).df()
    found = [rejects, _reject_rows(unresolved, "service_key", "unknown_service",
                                   "activity names a service no source lists", unresolved["value"], locations)]
    con.execute(RESOLVED_FLOWS_SQL)
    unresolved = con.execute(UNRESOLVED_FLOWS_SQL.format(lines=_lines(con, "staged_flows"))).df()
    loops = unresolved[unresolved["is_self"]]
    dangling = unresolved[~unresolved["is_self"]]
    for column in ("from_key", "to_key"):
        rows = dangling[dangling["column"] == column]
        found.append(_reject_rows(rows, column, "unknown_service", "flow end names a service no source lists",
                                  rows["value"], locations))
    found.append(_reject_rows(loops, "to_key", "self_flow", "flow joins a service to itself (after resolving "
                              "services named by several partners)", loops["value"], locations))
    con.execute(FLOWS_SQL)

    from_sources = staged_initiatives(con.table("staged_initiatives").df(), locations)
    initiative_rows, initiative_rejects = _initiatives([*initiatives, *from_sources], resolution, partners)
    con.register("_frame", initiative_rows)
    con.execute("CREATE OR REPLACE TABLE initiatives AS SELECT * FROM _frame")
    con.unregister("_frame")
    found.append(initiative_rejects)
    con.register("_frame", concat_rejects(found))
    con.execute("CREATE OR REPLACE TABLE consolidation_rejects AS SELECT * FROM _frame")
    con.unregister("_frame")


def staged_initiatives(staged: pd.DataFrame, locations: Mapping[str, str]) -> list[InitiativeSpec]:
    """Initiatives read from partner sources, in a stable order."""
    staged = staged.sort_values(["source_id", "row_number"])
    return [
        InitiativeSpec(
            initiative_id=row.initiative_key, name=row.name, status=None if pd.isna(row.status) else row.status,
            services=tuple(part.strip() for part in str(row.services).split(LIST_SEPARATOR) if part.strip()),
            lead_partner=None if pd.isna(row.lead_partner) else row.lead_partner, source_id=row.source_id,
            row_number=int(row.row_number), location=locations.get(row.source_id), partner=row.partner,
        )
        for row in staged.itertuples(index=False)
    ]


def _initiatives(
    initiatives: Sequence[InitiativeSpec], resolution: pd.DataFrame, partners: Mapping[str, PartnerInfo]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    lookup = {(ns, key): sid for ns, key, sid in resolution.itertuples(index=False)}
    rows, rejects, seen = [], [], set()

    def reject(initiative: InitiativeSpec, column: str, check: str, value: str | None, message: str) -> None:
        if initiative.source_id == "config":  # name the config key, as config errors do
            column = f"initiatives.{initiative.initiative_id}.{column}"
        rejects.append({
            "source_id": initiative.source_id, "location": initiative.location, "row_number": initiative.row_number,
            "column": column, "check": check, "severity": "error", "value": value, "message": message,
        })

    for initiative in initiatives:
        if initiative.initiative_id in seen:
            reject(initiative, "initiative_key", "duplicate_key", initiative.initiative_id,
                   "another initiative already has this id")
            continue
        if initiative.lead_partner is not None and initiative.lead_partner not in partners:
            reject(initiative, "lead_partner", "unknown_organisation", initiative.lead_partner,
                   "the lead partner is not in the map config's [partners]")
            continue
        seen.add(initiative.initiative_id)
        found = []
        for ref in initiative.services:
            own = lookup.get((initiative.partner, ref)) if initiative.partner else None
            sid = own or lookup.get(_split_ref(ref))
            if sid is None:
                reject(initiative, "services", "unknown_service", ref, "initiative names a service no source lists")
            else:
                found.append(sid)
        lead = organisation_id(initiative.lead_partner) if initiative.lead_partner else None
        rows.append({"initiative_id": initiative.initiative_id, "name": initiative.name, "status": initiative.status,
                     "service_ids": LIST_SEPARATOR.join(sorted(set(found))), "lead_organisation_id": lead})
    frame = pd.DataFrame(rows, columns=["initiative_id", "name", "status", "service_ids", "lead_organisation_id"])
    return frame.astype("object"), normalised_rejects(pd.DataFrame(rejects, columns=REJECT_COLUMNS))
