"""Consolidation in DuckDB on small literal staged frames."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.canonical import STAGED_MODELS, columns
from outputs.staged_tables import load_staged
from transforms.consolidate import InitiativeSpec, PartnerInfo, consolidate, organisation_id, service_id

PARTNERS = {"acute": PartnerInfo("NHS Acute", "nhs"), "phs": PartnerInfo("PHS", "national"),
            "council": PartnerInfo("Council", "local_authority")}
TS = pd.Timestamp


def staged(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in columns(STAGED_MODELS[table]):
        if column not in frame:
            frame[column] = None
    frame["row_number"] = frame["row_number"] if rows and "row_number" in rows[0] else range(2, 2 + len(frame))
    return STAGED_MODELS[table].validate(frame)


def service(source_id: str, partner: str, key: str, name: str, lane: str = "acute", **extra: object) -> dict:
    return {"source_id": source_id, "partner": partner, "service_key": key, "name": name, "lane": lane, **extra}


def activity(source_id: str, ns: str, key: str, day: str, value: float | None, qualifier: str | None = None) -> dict:
    return {"source_id": source_id, "service_ns": ns, "service_key": key, "period_start": TS(day),
            "period_end": TS(day), "measure": "attendances", "value": value, "qualifier": qualifier}


def flow(source_id: str, from_ns: str, from_key: str, to_ns: str, to_key: str, value: float = 1.0) -> dict:
    return {"source_id": source_id, "from_ns": from_ns, "from_key": from_key, "to_ns": to_ns, "to_key": to_key,
            "period_start": TS("2025-04-02"), "period_end": TS("2025-04-02"), "measure": "referrals",
            "value": value, "qualifier": None}


def run(services: list[dict], acts: list[dict] = (), flows: list[dict] = (),
        initiatives: tuple[InitiativeSpec, ...] = (), listed: list[dict] = ()) -> dict[str, pd.DataFrame]:
    con = duckdb.connect()
    for table, rows in (("organisations", []), ("services", services), ("activity", acts), ("flows", flows),
                        ("initiatives", listed)):
        con.register("f", staged(table, list(rows)))
        con.execute(f"CREATE TABLE staged_{table} AS SELECT * FROM f")
        con.unregister("f")
    consolidate(con, PARTNERS, {"a": "a.csv", "p": "p.csv", "c": "c.csv", "f": "f.csv"}, initiatives)
    return {t: con.table(t).df() for t in
            ("organisations", "services", "activity", "flows", "initiatives", "consolidation_rejects")}


def test_crosswalk_and_external_ids_merge_services_into_one_id() -> None:
    out = run([
        service("a", "acute", "ED-1", "Royal ED", external_ids="phs_location:Z101H"),
        service("p", "phs", "Z101H", "A&E Z101H", external_ids="phs_location:Z101H"),
        service("a", "acute", "AMU", "Assessment unit", same_as="phs:Z101H:adm"),
        service("p", "phs", "Z101H:adm", "Z101H admitted"),
    ])
    services = out["services"].set_index("service_id")
    assert len(services) == 2
    ed = services.loc[service_id("acute", "ED-1")]  # least (partner, key) when no crosswalk target
    assert ed["name"] == "Royal ED" and ed["source_ids"] == "a;p" and ed["external_ids"] == "phs_location:Z101H"
    amu = services.loc[service_id("phs", "Z101H:adm")]  # the crosswalk target is the representative
    assert amu["name"] == "Z101H admitted"
    assert amu["organisation_id"] == organisation_id("phs")


def test_ids_do_not_depend_on_source_order() -> None:
    rows = [service("a", "acute", "ED", "ED"), service("c", "council", "CAH", "Care at home", "social")]
    assert run(rows)["services"]["service_id"].tolist() == run(rows[::-1])["services"]["service_id"].tolist()


def test_activity_aggregates_to_months_and_keeps_qualifiers() -> None:
    out = run([service("a", "acute", "ED", "ED")], [
        activity("a", "acute", "ED", "2025-04-01", 10), activity("a", "acute", "ED", "2025-04-08", 5),
        activity("a", "acute", "ED", "2025-05-01", None, "c"), activity("a", "acute", "ED", "2025-05-09", 4),
        activity("a", "acute", "NOPE", "2025-05-09", 4),
    ])
    got = out["activity"][["period_start", "value", "qualifier"]]
    assert got["period_start"].dt.strftime("%Y-%m").tolist() == ["2025-04", "2025-05"]
    assert got["value"].tolist() == [15.0, 4.0]
    assert got["qualifier"].tolist()[1] == "c"  # a suppressed part makes the total suppressed-qualified
    rejects = out["consolidation_rejects"]
    assert rejects[["row_number", "column", "check", "value"]].values.tolist() == [
        [6.0, "service_key", "unknown_service", "acute:NOPE"]]


def test_flow_ends_resolve_through_namespaces_and_qualified_keys() -> None:
    out = run(
        [service("a", "acute", "ED", "ED"), service("c", "council", "CAH", "Care at home", "social")],
        flows=[flow("f", "acute", "ED", "council", "CAH", 3), flow("f", "acute", "ED", "acute", "council:CAH", 4),
               flow("f", "acute", "ED", "acute", "ZZZ"), flow("f", "acute", "ED", "acute", "ED")],
    )
    flows = out["flows"]
    assert flows[["from_service_id", "to_service_id", "value"]].values.tolist() == [
        [service_id("acute", "ED"), service_id("council", "CAH"), 7.0]]
    rejects = out["consolidation_rejects"].sort_values("row_number")
    assert rejects[["row_number", "check", "value"]].values.tolist() == [
        [4.0, "unknown_service", "acute:ZZZ"], [5.0, "self_flow", "acute:ED"]]


def test_unknown_crosswalk_target_and_initiative_service_are_rejected() -> None:
    out = run([service("a", "acute", "ED", "ED", same_as="phs:GONE")],
              initiatives=(InitiativeSpec("frailty", "Frailty", "active", ("acute:ED", "acute:NOPE"), "acute"),))
    assert len(out["services"]) == 1
    rejects = out["consolidation_rejects"]
    assert sorted(rejects["check"]) == ["unknown_service", "unknown_service"]
    initiative = out["initiatives"].iloc[0]
    assert initiative["service_ids"] == service_id("acute", "ED")
    assert initiative["lead_organisation_id"] == organisation_id("acute")


@pytest.mark.parametrize("partner", ["acute", "council"])
def test_every_partner_is_an_organisation(partner: str) -> None:
    organisations = run([service("a", "acute", "ED", "ED")])["organisations"]
    assert organisation_id(partner) in set(organisations["organisation_id"])


def test_initiatives_from_a_source_resolve_own_and_other_partners_services() -> None:
    listed = [
        {"source_id": "c", "partner": "council", "initiative_key": "discharge", "name": "Discharge to assess",
         "status": "active", "services": "CAH; acute:ED", "lead_partner": "council"},
        {"source_id": "c", "partner": "council", "initiative_key": "ghost", "name": "Ghost", "status": None,
         "services": "NOPE", "lead_partner": "nobody"},
        {"source_id": "c", "partner": "council", "initiative_key": "frailty", "name": "Clash", "status": None,
         "services": "CAH", "lead_partner": None},
    ]
    out = run([service("a", "acute", "ED", "ED"), service("c", "council", "CAH", "Care at home", "social")],
              initiatives=(InitiativeSpec("frailty", "Frailty", "active", ("acute:ED",), "acute"),), listed=listed)
    initiatives = out["initiatives"].set_index("initiative_id")
    assert sorted(initiatives.index) == ["discharge", "frailty"]
    assert initiatives.loc["discharge", "service_ids"] == ";".join(
        sorted([service_id("council", "CAH"), service_id("acute", "ED")]))
    assert initiatives.loc["discharge", "lead_organisation_id"] == organisation_id("council")
    assert initiatives.loc["frailty", "name"] == "Frailty"  # the config's comes first; the clash is rejected
    rejects = out["consolidation_rejects"].sort_values("row_number")
    assert rejects[["location", "row_number", "column", "check", "value"]].values.tolist() == [
        ["c.csv", 3.0, "lead_partner", "unknown_organisation", "nobody"],
        ["c.csv", 4.0, "initiative_key", "duplicate_key", "frailty"],
    ]


def test_a_log_counted_by_month_consolidates_and_its_rejects_name_each_line(tmp_path: Path) -> None:
    counted = staged("flows", [flow("f", "acute", "ED", "acute", "AMU", 3.0),
                               flow("f", "acute", "ED", "acute", "ZZZ", 2.0)])
    counted["row_numbers"] = [[2, 5, 9], [3, 4]]  # as transforms/staging_sql.py stages a log: one row per count
    plain = staged("flows", [{**flow("a", "acute", "ED", "acute", "AMU", 10.0), "row_number": 7}])
    counted.to_parquet(tmp_path / "counted.parquet", index=False)
    plain.to_parquet(tmp_path / "plain.parquet", index=False)
    con = duckdb.connect()
    for table, rows in (("organisations", []), ("services", [service("a", "acute", "ED", "ED"),
                                                             service("a", "acute", "AMU", "AMU")]),
                        ("activity", []), ("initiatives", [])):
        load_staged(con, table, [])
        if rows:
            con.register("f", staged(table, rows))
            con.execute(f"CREATE OR REPLACE TABLE staged_{table} AS SELECT * FROM f")
    load_staged(con, "flows", [str(tmp_path / "counted.parquet"), str(tmp_path / "plain.parquet")])
    consolidate(con, PARTNERS, {"a": "a.csv", "f": "f.csv"})
    flows = con.table("flows").df()
    assert sorted(zip(flows["source_id"], flows["value"], strict=True)) == [("a", 10.0), ("f", 3.0)]
    rejects = con.table("consolidation_rejects").df()
    assert rejects[["source_id", "row_number", "column", "check"]].values.tolist() == [
        ["f", 3.0, "to_key", "unknown_service"], ["f", 4.0, "to_key", "unknown_service"]]
