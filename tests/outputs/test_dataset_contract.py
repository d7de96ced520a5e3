"""The published contract: docs/dataset.md covers every column, the contract matches its committed snapshot unless
the schema version announces the change, and every published version is a valid Frictionless Data Package (on a
small map with licences, attributions and a nullable foreign key, and on the demo map)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import frictionless
import pandas as pd
import pytest

from expectations.canonical import CANONICAL_MODELS, CANONICAL_TABLES, FOREIGN_KEYS, PRIMARY_KEYS, columns
from flows.refresh import refresh_map
from outputs import dataset

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "dataset.md"
SNAPSHOT = Path(__file__).with_name("contract_snapshot.json")
UPDATE = os.environ.get("ISM_UPDATE_CONTRACT") == "1"
UPDATE_COMMAND = "ISM_UPDATE_CONTRACT=1 .venv/bin/python -m pytest tests/outputs/test_dataset_contract.py"
BEGIN = re.compile(r"<!-- contract:begin[^>]*-->\n")
END = "<!-- contract:end -->"

PHS_ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
                   "(Public Health Scotland)")
HSDS_ATTRIBUTION = "Open Referral HSDS examples, CC BY-SA 4.0"


# ---- docs/dataset.md ---------------------------------------------------------------------------------------


def _generated_block(text: str) -> tuple[int, int]:
    begin = BEGIN.search(text)
    assert begin and END in text, f"{DOCS}: the markers <!-- contract:begin ... --> and {END} are missing"
    return begin.end(), text.index(END)


def test_docs_mention_every_column_of_every_canonical_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.MULTILINE)
    for table in CANONICAL_TABLES:
        section = next((s for s in sections if s.startswith(f"`{table}`")), None)
        assert section is not None, f"docs/dataset.md has no section ### `{table}`; run {UPDATE_COMMAND}"
        missing = [c for c in columns(CANONICAL_MODELS[table]) if f"| `{c}` |" not in section]
        assert not missing, f"docs/dataset.md, table {table}: columns not documented: {missing}; run {UPDATE_COMMAND}"


def test_docs_column_tables_are_the_ones_generated_from_the_contracts() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start, end = _generated_block(text)
    generated = dataset.contract_markdown()
    if UPDATE and text[start:end] != generated:
        DOCS.write_text(text[:start] + generated + text[end:], encoding="utf-8")
        return
    assert text[start:end] == generated, f"docs/dataset.md's column tables are out of date: run {UPDATE_COMMAND}"


def test_every_column_has_a_description_and_a_known_type() -> None:
    for table in CANONICAL_TABLES:
        for column in columns(CANONICAL_MODELS[table]):
            assert dataset.field_description(table, column)
            assert dataset.field_type(table, column) in {"string", "number", "integer", "date", "boolean"}
    assert set(dataset.TABLE_DESCRIPTIONS) == set(CANONICAL_TABLES)


# ---- the contract snapshot ---------------------------------------------------------------------------------


def contract_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(breaking, additive) differences between two contracts, each a sentence naming table and column."""
    breaking, additive = [], []
    for table in old["tables"]:
        if table not in new["tables"]:
            breaking.append(f"table {table} removed (or renamed)")
    for table, spec in new["tables"].items():
        if table not in old["tables"]:
            additive.append(f"table {table} added")
            continue
        before = {f["name"]: f for f in old["tables"][table]["fields"]}
        after = {f["name"]: f for f in spec["fields"]}
        for name, field in before.items():
            if name not in after:
                breaking.append(f"{table}.{name} removed (or renamed)")
            elif after[name]["type"] != field["type"]:
                breaking.append(f"{table}.{name} type changed from {field['type']} to {after[name]['type']}")
            elif field["required"] and not after[name]["required"]:
                breaking.append(f"{table}.{name} is no longer required (may now be empty)")
            elif after[name]["required"] and not field["required"]:
                additive.append(f"{table}.{name} is now required")
        additive += [f"{table}.{name} added" for name in after if name not in before]
        if spec["primaryKey"] != old["tables"][table]["primaryKey"]:
            breaking.append(f"{table} primary key changed from {old['tables'][table]['primaryKey']} to "
                            f"{spec['primaryKey']}")
        old_keys = [json.dumps(k, sort_keys=True) for k in old["tables"][table]["foreignKeys"]]
        new_keys = [json.dumps(k, sort_keys=True) for k in spec["foreignKeys"]]
        breaking += [f"{table} foreign key removed or changed: {k}" for k in old_keys if k not in new_keys]
        additive += [f"{table} foreign key added: {k}" for k in new_keys if k not in old_keys]
    return breaking, additive


def _semver(version: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def bump_problem(old_version: str, new_version: str, breaking: list[str], additive: list[str]) -> str | None:
    """Why the schema version does not announce the changes, with what to do; None when it does."""
    old, new = _semver(old_version), _semver(new_version)
    if new is None or old is None:
        return f"SCHEMA_VERSION {new_version!r} (snapshot {old_version!r}) is not a semantic version MAJOR.MINOR.PATCH"
    if new < old:
        return f"SCHEMA_VERSION went back from {old_version} to {new_version}"
    changes = "; ".join(breaking + additive)
    if breaking and new[0] <= old[0]:
        return (f"breaking contract change: {changes}. Consumers would break: restore the contract, or move "
                f"SCHEMA_VERSION in outputs/dataset.py to {old[0] + 1}.0.0, say what changed in docs/dataset.md, "
                f"then run {UPDATE_COMMAND}")
    if additive and new[:2] <= old[:2]:
        return (f"additive contract change: {changes}. Move SCHEMA_VERSION in outputs/dataset.py to at least "
                f"{old[0]}.{old[1] + 1}.0, then run {UPDATE_COMMAND}")
    return None


def test_the_contract_matches_its_snapshot_unless_the_schema_version_announces_the_change() -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8")) if SNAPSHOT.is_file() else None
    current = dataset.contract()
    if snapshot is None:
        assert UPDATE, f"{SNAPSHOT} is missing: run {UPDATE_COMMAND}"
    else:
        breaking, additive = contract_changes(snapshot, current)
        problem = bump_problem(snapshot["schema_version"], current["schema_version"], breaking, additive)
        assert problem is None, problem
    if UPDATE:
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
        return
    assert current == snapshot, (
        f"the contract changed ({'; '.join(sum(contract_changes(snapshot, current), [])) or 'column order'}) and "
        f"SCHEMA_VERSION {current['schema_version']} announces it: refresh the snapshot with {UPDATE_COMMAND}")


def _changed(edit: Any) -> dict[str, Any]:
    contract = copy.deepcopy(dataset.contract())
    edit(contract["tables"])
    return contract


def test_the_snapshot_check_demands_a_major_bump_for_breaking_and_a_minor_for_additive_changes() -> None:
    current = dataset.contract()
    removed = _changed(lambda t: t["services"]["fields"].pop(1))
    retyped = _changed(lambda t: t["activity"]["fields"][4].update(type="string"))
    rekeyed = _changed(lambda t: t["activity"].update(primaryKey=["service_id"]))
    added = _changed(lambda t: t["services"]["fields"].append({"name": "x", "type": "string", "required": False}))
    for edited in (removed, retyped, rekeyed):
        breaking, additive = contract_changes(current, edited)
        assert breaking, edited
        problem = bump_problem("1.0.0", "1.1.0", breaking, additive)
        assert problem and "breaking contract change" in problem and "to 2.0.0" in problem
        assert bump_problem("1.0.0", "2.0.0", breaking, additive) is None
    breaking, additive = contract_changes(current, added)
    assert breaking == [] and additive == ["services.x added"]
    assert "at least 1.1.0" in (bump_problem("1.0.0", "1.0.1", breaking, additive) or "")
    assert bump_problem("1.0.0", "1.1.0", breaking, additive) is None
    assert bump_problem("1.1.0", "1.0.0", [], []) == "SCHEMA_VERSION went back from 1.1.0 to 1.0.0"
    assert contract_changes(current, current) == ([], [])


def test_schema_version_is_semver_and_the_contract_mirrors_the_canonical_keys() -> None:
    assert _semver(dataset.SCHEMA_VERSION)
    contract = dataset.contract()
    assert list(contract["tables"]) == list(CANONICAL_TABLES)
    for table, spec in contract["tables"].items():
        assert [f["name"] for f in spec["fields"]] == columns(CANONICAL_MODELS[table])
        assert spec["primaryKey"] == PRIMARY_KEYS.get(table, [])
        assert [(k["fields"][0], k["reference"]["resource"], k["reference"]["fields"][0])
                for k in spec["foreignKeys"]] == FOREIGN_KEYS.get(table, [])


# ---- datapackage.json on published versions -----------------------------------------------------------------


def _attributed_map(config: Path) -> Path:
    """The mini map with licensed, attributed sources and two initiatives: one without a lead organisation and
    one naming no service the map knows (both nullable/empty cells in the CSV)."""
    text = config.read_text()
    text = text.replace('id = "nhs_activity"\n', f'id = "nhs_activity"\nlicence = "OGL-UK-3.0"\n'
                        f'attribution = "{PHS_ATTRIBUTION}"\n')
    text = text.replace('id = "council_services"\n', f'id = "council_services"\nlicence = "CC-BY-SA-4.0"\n'
                        f'attribution = "{HSDS_ATTRIBUTION}"\n')
    text += ('\n[[initiatives]]\nid = "front-door"\nname = "Front door"\nservices = ["nhs:ED", "nhs:AMU"]\n'
             'lead_partner = "nhs"\n\n[[initiatives]]\nid = "unknown-only"\nname = "Names nothing known"\n'
             'services = ["nhs:NOPE"]\n')
    config.write_text(text)
    return config


def _validation_errors(package: Path) -> list[str]:
    report = frictionless.validate(str(package))
    return [f"{task.name}: {error.type}: {error.note}" for task in report.tasks for error in task.errors] + [
        f"package: {error.type}: {error.note}" for error in report.errors]


@pytest.mark.usefixtures("prefect_server")
def test_a_published_version_is_a_valid_data_package_with_licences_attributions_and_keys(
    mini_map: Path, tmp_path: Path
) -> None:
    result = refresh_map(str(_attributed_map(mini_map)), str(tmp_path / "maps"))
    version = Path(result.path)
    assert _validation_errors(version / "datapackage.json") == []

    package = json.loads((version / "datapackage.json").read_text())
    manifest = json.loads((version / "version.json").read_text())
    assert package["schema_version"] == manifest["schema_version"] == dataset.SCHEMA_VERSION
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert [licence["name"] for licence in package["licenses"]] == ["OGL-UK-3.0", "CC-BY-SA-4.0"]
    assert package["attributions"] == sorted([PHS_ATTRIBUTION, HSDS_ATTRIBUTION])
    by_source = {s["source_id"]: s for s in package["sources"]}
    assert by_source["nhs_activity"]["attribution"] == PHS_ATTRIBUTION
    assert by_source["council_services"]["licence"] == "CC-BY-SA-4.0"
    assert by_source["nhs_flows"]["sha256"] == next(s["sha256"] for s in manifest["sources"]
                                                    if s["source_id"] == "nhs_flows")
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == list(CANONICAL_TABLES)
    for table, resource in resources.items():
        assert resource["schema"].get("primaryKey", []) == PRIMARY_KEYS.get(table, [])
        assert len(resource["schema"].get("foreignKeys", [])) == len(FOREIGN_KEYS.get(table, []))
        assert resource["hash"] == "sha256:" + manifest["tables"][table]
    lanes = next(f for f in resources["services"]["schema"]["fields"] if f["name"] == "lane")
    assert lanes["constraints"]["enum"] == ["urgent_care", "acute", "social_care"]
    # the nullable foreign key and the empty list are really exercised
    initiatives = pd.read_csv(version / "initiatives.csv", keep_default_na=False)
    assert initiatives.set_index("initiative_id")["lead_organisation_id"].to_dict()["unknown-only"] == ""
    assert initiatives.set_index("initiative_id")["service_ids"].to_dict()["unknown-only"] == ""

    # the same check fails on a broken copy: a dangling foreign key, a malformed number and date
    broken = tmp_path / "broken"
    shutil.copytree(version, broken)
    descriptor = json.loads((broken / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        resource.pop("hash"), resource.pop("bytes")  # so the content checks, not the hash, find the damage
    (broken / "datapackage.json").write_text(json.dumps(descriptor))
    flows = (broken / "flows.csv").read_text().splitlines()
    flows[1] = re.sub(r"^svc_[0-9a-f]{12}", "svc_000000000000", flows[1])
    (broken / "flows.csv").write_text("\n".join(flows) + "\n")
    activity = (broken / "activity.csv").read_text().replace(",1300,", ",lots,", 1).replace("2025-04-01", "1/4/25", 1)
    (broken / "activity.csv").write_text(activity)
    errors = " | ".join(_validation_errors(broken / "datapackage.json"))
    assert "flows: foreign-key" in errors and "activity: type-error" in errors


@pytest.mark.slow
def test_the_demo_map_is_a_valid_data_package(published_demo: Path) -> None:
    assert _validation_errors(published_demo / "datapackage.json") == []
    package = json.loads((published_demo / "datapackage.json").read_text())
    assert package["schema_version"] == dataset.SCHEMA_VERSION
    attributed = [s for s in package["sources"] if s.get("attribution")]
    assert attributed and all(s["attribution"] in package["attributions"] for s in attributed)
    assert {s["licence"] for s in attributed} <= {licence["name"] for licence in package["licenses"]}


@pytest.mark.slow
def test_the_demo_map_reads_back_through_the_reader_and_the_spreadsheet(published_demo: Path) -> None:
    from openpyxl import load_workbook

    from outputs.store.reader import open_version

    opened = open_version(published_demo.parents[2], published_demo.parents[1].name, "latest")
    assert opened.path == published_demo
    for table in CANONICAL_TABLES:
        CANONICAL_MODELS[table].validate(opened.table(table))
    assert opened.graph().number_of_nodes() == len(opened.services) >= 60
    workbook = load_workbook(published_demo / "exports" / "map.xlsx", read_only=True)
    assert workbook.sheetnames == ["README", *CANONICAL_TABLES, "activity_over_period", "flows_over_period"]
    for table in CANONICAL_TABLES:
        assert sum(1 for _ in workbook[table].iter_rows()) == opened.manifest["counts"][table] + 1
    # the period sheets: a count missing suppressed months reads "≥ ... (n of m months suppressed)"
    rows = workbook["activity_over_period"].iter_rows(values_only=True)
    header = next(rows)
    period = [dict(zip(header, row, strict=True)) for row in rows]
    withheld = [r for r in period if r["suppressed_months"] and r["kind"] == "count" and r["value"] is not None]
    assert withheld and all(r["display"].startswith("≥ ") and f"({r['suppressed_months']} of {r['months']} months "
                                                               "suppressed)" in r["display"] for r in withheld)


# Columns of the analysis tables that hold no amount of any measure: counts of services, links or loops, shares,
# ratios and ranks. Every other numeric column must be in the demand unit (DEMAND_UNIT_COLUMNS), in one named
# measure (DELAYED) or sit in a per-measure table with its own unit column.
UNITLESS = {"services", "senders", "receivers", "betweenness", "betweenness_unweighted", "loops", "imbalance",
            "demand_share", "initiatives", "initiative_links", "initiative_share", "services_with_initiatives",
            "coverage_gap", "loop", "length", "months", "suppressed_months"}
DELAYED = {"delayed_bed_days"}


@pytest.mark.slow
def test_no_published_total_in_analysis_adds_two_units(published_demo: Path) -> None:
    from expectations.measures import catalogue_of
    from transforms.analyses import DEMAND_UNIT_COLUMNS

    measures = pd.read_csv(published_demo / "measures.csv")
    catalogue = catalogue_of(measures)
    activity = pd.read_csv(published_demo / "activity.csv", parse_dates=["period_start"])
    flows = pd.read_csv(published_demo / "flows.csv")
    lane_of = pd.read_csv(published_demo / "services.csv").set_index("service_id")["lane"]
    assert set(activity["measure"]) | set(flows["measure"]) <= set(measures["measure"])
    folder = published_demo / "analysis"
    tables = {path.stem: pd.read_csv(path) for path in folder.glob("*.csv")}

    for name, frame in tables.items():
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if "unit" in frame.columns and "measure" in frame.columns:
            for row in frame.itertuples():  # each row one measure, in the catalogue's unit and kind
                entry = catalogue.get(row.measure)
                assert (row.unit, row.kind, row.label) == (entry.unit, str(entry.kind), entry.label), (name, row)
            continue
        undeclared = set(numeric) - UNITLESS - DELAYED - set(DEMAND_UNIT_COLUMNS.get(name, ()))
        if name in ("changes", "parameters", "comparison"):
            continue  # changes carry their unit per row; parameters and comparison hold no totals
        assert not undeclared, f"analysis/{name}.csv: numeric columns of no declared unit: {sorted(undeclared)}"

    # every service figure recomputed from the published cells as its kind says
    totals = tables["service_totals"].set_index(["service_id", "measure"])
    for (sid, measure), part in activity.groupby(["service_id", "measure"]):
        kind = catalogue.get(measure).kind
        monthly = part.groupby("period_start")["value"].sum(min_count=1).dropna()
        expected = monthly.mean() if kind == "stock" else part["value"].sum()
        assert totals.loc[(sid, measure), "value"] == pytest.approx(expected), (sid, measure)
        suppressed = part[part["value"].isna() & (part["qualifier"] == "c")]["period_start"].nunique()
        assert totals.loc[(sid, measure), "suppressed_months"] == suppressed
        if suppressed and kind == "count":
            assert totals.loc[(sid, measure), "display"].startswith("≥ ")

    # lane demand holds only the demand measures and the flows in their unit: bed days, hours and contacts stay out
    demand_activity = activity[activity["measure"].isin(catalogue.demand)]
    inflow = flows[flows["measure"].map(catalogue.counts_as_inflow)]
    inflow_by_lane = inflow.assign(lane=inflow["to_service_id"].map(lane_of)).groupby("lane")["value"].sum()
    arrivals_by_lane = demand_activity.assign(lane=demand_activity["service_id"].map(lane_of)).groupby(
        "lane")["value"].sum()
    for row in tables["lane_summary"].itertuples():
        assert row.demand_activity == pytest.approx(arrivals_by_lane.get(row.lane, 0.0)), row.lane
        assert row.in_volume == pytest.approx(inflow_by_lane.get(row.lane, 0.0)), row.lane
        assert row.demand == pytest.approx(row.demand_activity + row.in_volume)
    assert tables["lane_summary"]["demand_activity"].sum() < activity["value"].sum()  # other units left out
    parameters = tables["parameters"].set_index("parameter")["value"]
    assert parameters["demand_measures"] == ";".join(catalogue.demand) and parameters["demand_unit"] == "people"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert f"({', '.join(catalogue.demand)})" in page and "in people" in page


def _expected_figures(rows: pd.DataFrame, key: list[str], catalogue: Any) -> dict[tuple[str, ...], tuple[Any, int]]:
    """(ids..., measure) -> (period figure or None, suppressed months), recomputed from published cells as each
    measure's kind says (the demo has counts and stocks)."""
    found = {}
    for ident, part in rows.groupby([*key, "measure"]):
        entry = catalogue.get(ident[-1])
        monthly = part.groupby("period_start")["value"].sum(min_count=1).dropna().sort_index()
        assert str(entry.kind) in ("count", "stock"), f"the demo has a {entry.kind}: extend this test"
        if monthly.empty:
            value = None
        elif entry.kind == "count":
            value = float(monthly.sum())
        else:
            value = float(monthly.iloc[-1] if entry.period_figure == "last" else monthly.mean())
        withheld = int(part[part["value"].isna() & (part["qualifier"] == "c")]["period_start"].nunique())
        found[tuple(ident)] = (value, withheld)
    return found


def _exported_graphs(folder: Path, measures: list[str]) -> dict[str, tuple[dict[str, dict], dict[tuple, dict]]]:
    """Every export format's node and edge attributes: format -> ({service: attrs}, {(from, to): attrs})."""
    import networkx as nx

    from outputs.exports.kumu import field_title

    found = {}
    for name, graph in (("graphml", nx.read_graphml(folder / "map.graphml")),
                        ("graphml_flat", nx.read_graphml(folder / "map-flat.graphml")),
                        ("gexf", nx.read_gexf(folder / "map.gexf", version="1.3")),
                        ("cytoscape", nx.cytoscape_graph(json.loads((folder / "cytoscape.json").read_text())))):
        nodes = {str(n): dict(d) for n, d in graph.nodes(data=True) if not str(n).startswith("lane::")}
        found[name] = (nodes, {(str(u), str(v)): dict(d) for u, v, d in graph.edges(data=True)})
    blueprint = json.loads((folder / "kumu.json").read_text(encoding="utf-8"))
    names = [f"{prefix}{m}" for m in measures for prefix in ("activity_", "in_", "out_")] + \
            [f"{m}_suppressed_months" for m in measures]
    fields = [f"flow_{m}" for m in measures] + [f"{m}_suppressed_months" for m in measures]
    found["kumu"] = ({e["id"]: {n: e[field_title(n)] for n in names if field_title(n) in e}
                      for e in blueprint["elements"]},
                     {(c["from"], c["to"]): {n: c[field_title(n)] for n in fields if field_title(n) in c}
                      for c in blueprint["connections"]})
    return found


@pytest.mark.slow
def test_no_published_total_in_the_exports_or_the_map_data_adds_two_units(published_demo: Path) -> None:
    from expectations.measures import catalogue_of

    catalogue = catalogue_of(pd.read_csv(published_demo / "measures.csv"))
    activity = pd.read_csv(published_demo / "activity.csv")
    flows = pd.read_csv(published_demo / "flows.csv")
    by_service = _expected_figures(activity, ["service_id"], catalogue)
    by_flow = _expected_figures(flows, ["from_service_id", "to_service_id"], catalogue)
    measures = sorted({m for *_, m in by_service} | {m for *_, m in by_flow})
    flowing: dict[tuple[str, str], float] = {}  # (service, "in_<m>" / "out_<m>") -> the flow figures added
    for (source, target, measure), (value, _) in by_flow.items():
        assert catalogue.get(measure).kind == "count"  # flows in and out add over flows: counts only
        for node, way in ((source, f"out_{measure}"), (target, f"in_{measure}")):
            if value is not None:
                flowing[(node, way)] = flowing.get((node, way), 0.0) + value
    assert any(withheld for _, withheld in by_service.values())  # the demo has totals missing suppressed months

    for name, (nodes, edges) in _exported_graphs(published_demo / "exports", measures).items():
        for sid, attrs in nodes.items():
            totals = {k: v for k, v in attrs.items() if k.startswith(("activity_", "in_", "out_"))
                      or k.endswith("_suppressed_months")}
            expected: dict[str, Any] = {}
            for (service, measure), (value, withheld) in by_service.items():
                if service == sid and value is not None:
                    expected[f"activity_{measure}"] = pytest.approx(value)
                if service == sid and withheld:
                    expected[f"{measure}_suppressed_months"] = withheld
            expected.update({way: pytest.approx(v) for (node, way), v in flowing.items() if node == sid})
            assert totals == expected, (name, sid)
        for (source, target), attrs in edges.items():
            figures = {k: v for k, v in attrs.items() if k.startswith("flow_") or k.endswith("_suppressed_months")}
            expected = {}
            for (u, v, measure), (value, withheld) in by_flow.items():
                if (u, v) == (source, target) and value is not None:
                    expected[f"flow_{measure}"] = pytest.approx(value)
                if (u, v) == (source, target) and withheld:
                    expected[f"{measure}_suppressed_months"] = withheld
            assert figures == expected, (name, source, target)

    page = (published_demo / "diagrams" / "map.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="ism-data">(.*?)</script>', page, re.S)
    assert block
    data = json.loads(block.group(1))
    shown = {(s["id"], t["measure"]): t for s in data["services"] for t in s["totals"]}
    shown_flows = {(f["from"], f["to"], t["measure"]): t for f in data["flows"] for t in f.get("totals", [])}
    # the map shows every service's measures, and every flow with a figure or a suppressed month (a flow whose
    # every value is "not applicable" is no flow: it is not drawn)
    drawn = {key: figure for key, figure in by_flow.items() if figure[0] is not None or figure[1]}
    for read, recomputed in ((shown, by_service), (shown_flows, drawn)):
        assert set(read) == set(recomputed)
        for key, (value, withheld) in recomputed.items():
            total, entry = read[key], catalogue.get(key[-1])
            assert (total["unit"], total["kind"], total["label"]) == (entry.unit, str(entry.kind), entry.label)
            assert total["value"] == (None if value is None else pytest.approx(value)), key
            assert total["suppressed_months"] == withheld, key
            if withheld and value is not None and entry.kind == "count":
                assert total["display"].startswith("≥ ") and f"({withheld} of " in total["display"], key
    for service in data["services"]:  # what the panel adds up is what the totals say, per measure
        assert service["activity"] == {t["measure"]: pytest.approx(t["value"]) for t in service["totals"]
                                       if t["value"] is not None}
