"""The analysis/ folder, CHANGELOG.md and the scenario files, written from the hand-built five-service map."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from expectations.measures import builtin_catalogue
from outputs.analysis import analysis_artefact
from outputs.changelog import changelog_artefact
from outputs.context import LaneStyle, PublishedVersion
from outputs.poster import PosterInfo
from outputs.scenario import write_scenario
from tests.transforms.analysis_map import LANES, B, E, map_tables
from transforms.analyses import analysis_tables
from transforms.diff import VersionFacts, diff_graph, map_changes, map_state, version_comparison
from transforms.graph import service_graph
from transforms.scenario import ChangeSet, Merge, NewService, Reroute, applied_scenario
from transforms.totals import measured_map

LANE_STYLES = [LaneStyle(lane, lane.replace("_", " ").title(), "#6fa8dc") for lane in LANES]
FORBIDDEN = re.compile(r"\b(should|recommend\w*|predict\w*)\b", re.IGNORECASE)


def _version(folder: Path, tables: dict[str, pd.DataFrame], previous: Path | None = None,
             changes: pd.DataFrame | None = None) -> PublishedVersion:
    graph = service_graph(*(tables[t] for t in ("services", "organisations", "activity", "flows", "initiatives")))
    measured = measured_map(tables["activity"], tables["flows"], builtin_catalogue())
    analyses = analysis_tables(graph, LANES, tables["initiatives"], tables["organisations"], measured)
    if changes is not None:
        analyses["changes"] = changes
    return PublishedVersion(
        folder=folder, version_id=folder.name, map_id="five", title="Five <services> & co", area_code="S37000001",
        area_name="Mini", population="adults", period_start="2025-04", period_end="2025-05", lanes=LANE_STYLES,
        sector_colours={}, partners={"nhs": "NHS", "council": "Council"}, attributions=[], licences=[],
        tables=tables, graph=graph, sources=[], previous=previous, analyses=analyses,
    )


def _hostile() -> dict[str, pd.DataFrame]:
    tables = map_tables()
    tables["services"].loc[tables["services"]["service_id"] == B, "name"] = '<script>alert("x")</script> Bravo'
    return tables


def test_analysis_folder_has_each_table_and_an_escaped_offline_page(tmp_path: Path) -> None:
    version = _version(tmp_path / "v0001", _hostile())
    written = analysis_artefact(version)
    folder = tmp_path / "v0001" / "analysis"
    for name in ("key_services", "loops", "lane_summary", "coverage", "initiatives"):
        assert folder / f"{name}.parquet" in written and folder / f"{name}.csv" in written
        assert len(pd.read_parquet(folder / f"{name}.parquet")) == len(version.analyses[name])
    key = pd.read_csv(folder / "key_services.csv")
    assert key.iloc[0]["name"].endswith("Bravo") and key.iloc[0]["betweenness"] == pytest.approx(8 / 12)
    page = (folder / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bravo" in page
    assert "Five &lt;services&gt; &amp; co" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from the network
    assert not FORBIDDEN.search(page)
    assert "This is the first version." in page
    assert page.count("<table>") == 6  # key services, loops, lanes, coverage, initiatives, totals by lane
    assert "Totals by lane and measure" in page and "(referrals, attendances, admissions)" in page


def test_changelog_first_version_then_changes_against_the_previous(tmp_path: Path) -> None:
    first = _version(tmp_path / "v0001", map_tables())
    assert changelog_artefact(first) == [tmp_path / "v0001" / "CHANGELOG.md"]
    text = (tmp_path / "v0001" / "CHANGELOG.md").read_text()
    assert "First version" in text
    second_tables = _hostile()
    second_tables["flows"].loc[second_tables["flows"]["to_service_id"] == B, "value"] *= 2
    catalogue = builtin_catalogue()
    changes = map_changes(map_state(map_tables(), measured_map(map_tables()["activity"], map_tables()["flows"],
                                                               catalogue)),
                          map_state(second_tables, measured_map(second_tables["activity"], second_tables["flows"],
                                                                catalogue)), 0.1)
    second = _version(tmp_path / "v0002", second_tables, previous=tmp_path / "v0001", changes=changes)
    changelog_artefact(second)
    text = (tmp_path / "v0002" / "CHANGELOG.md").read_text()
    assert "Against v0001" in text and "## Services" in text and "## Flows" in text
    assert r"- Renamed: Bravo → \<script\>alert" in text
    assert r'- Changed: Alpha → \<script\>alert("x")\</script\> Bravo, referrals: 100 → 200 people (+100%)' in text
    assert not FORBIDDEN.search(text)
    analysis_artefact(second)
    page = (tmp_path / "v0002" / "analysis" / "index.html").read_text()
    assert "Against v0001" in page and page.count("<table>") == 7
    assert len(pd.read_csv(tmp_path / "v0002" / "analysis" / "changes.csv")) == len(changes)


def test_scenario_files_and_the_diff_poster_marks(tmp_path: Path) -> None:
    change_set = ChangeSet(
        "To-be", add=(NewService("hah", "Hospital at Home", "community", "nhs"),),
        reroute=(Reroute("Alpha", "Bravo", "Hospital at Home", 0.5),), merge=(Merge(("Delta", "Echo")),))
    result = applied_scenario(map_tables(), change_set, LANES)
    info = PosterInfo(title="To-be", area="Mini", population="adults", period="2025-04 to 2025-05", version="v1")
    written = write_scenario(tmp_path, result.tables, result.changes, result.to_be,
                             diff_graph(result.as_is, result.to_be, result.changes), LANE_STYLES, info,
                             {"title": "To-be"})
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"to_be/services.csv", "to_be/flows.parquet", "changes.csv", "poster.svg", "diff.svg",
            "scenario.json"} <= names
    svg = (tmp_path / "diff.svg").read_text()
    assert svg.count('stroke="#2e7d32"') >= 2  # the added service and its flow (and the legend)
    assert 'stroke-dasharray="5,2"' in svg and 'stroke="#c62828"' in svg  # Echo merged away: red, dashed
    assert 'stroke="#ef8f00"' in svg and ">removed (dashed)</text>" in svg  # the legend
    assert len(pd.read_csv(tmp_path / "changes.csv")) == len(result.changes)
    assert "Hospital at Home" in set(pd.read_parquet(tmp_path / "to_be" / "services.parquet")["name"])


def test_changelog_names_both_periods_first_and_says_suppression_changed_and_source_missing(tmp_path: Path) -> None:
    first = _version(tmp_path / "v0001", map_tables())
    before_tables, after_tables = map_tables(), map_tables()
    after_tables["activity"]["qualifier"] = after_tables["activity"]["qualifier"].astype(object)
    may = after_tables["activity"]["period_start"] == pd.Timestamp("2025-05-01")
    after_tables["activity"].loc[may, ["value", "qualifier"]] = [float("nan"), "c"]  # Bravo's May admissions
    gone = after_tables["services"]["service_id"] == E
    after_tables["services"] = after_tables["services"][~gone]
    after_tables["activity"] = after_tables["activity"][after_tables["activity"]["service_id"] != E]
    after_tables["flows"] = after_tables["flows"][(after_tables["flows"]["from_service_id"] != E)
                                                  & (after_tables["flows"]["to_service_id"] != E)]
    before_tables["services"].loc[before_tables["services"]["service_id"] == E, "source_ids"] = "council_services"
    old = VersionFacts("v0001", ("2025-04", "2025-05"), "a" * 64, {"svc": "ok", "council_services": "ok"})
    new = VersionFacts("v0002", ("2025-05", "2025-06"), "a" * 64, {"svc": "ok", "council_services": "blocked"})
    catalogue = builtin_catalogue()
    changes = map_changes(
        map_state(before_tables, measured_map(before_tables["activity"], before_tables["flows"], catalogue), old),
        map_state(after_tables, measured_map(after_tables["activity"], after_tables["flows"], catalogue), new), 0.1)
    second = _version(tmp_path / "v0002", after_tables, previous=first.folder, changes=changes)
    second.analyses["comparison"] = version_comparison(old, new)
    changelog_artefact(second)
    lines = (tmp_path / "v0002" / "CHANGELOG.md").read_text().splitlines()
    assert lines[2] == ("v0001 covers 2025-04 to 2025-05; v0002 covers 2025-05 to 2025-06 (**the periods differ**: "
                        "totals cover different months, so a change is not growth).")
    assert lines[3].startswith("Config: aaaaaaaaaaaa → aaaaaaaaaaaa (the same config)")
    assert lines[4] == ("Sources: 2 of 2 with data → 1 of 2 with data (without data in v0002: council\\_services "
                        "(blocked)).")
    assert "- Source missing, not removed: Echo (Social Care): source missing: council\\_services (blocked)" in lines
    assert ("- Suppression changed, not growth: Bravo, admissions: 300 → ≥ 150 (1 of 2 months suppressed) people"
            in lines)
    assert not any("%" in line for line in lines if "Bravo, admissions" in line)
    analysis_artefact(second)
    page = (tmp_path / "v0002" / "analysis" / "index.html").read_text()
    assert "v0001 covers 2025-04 to 2025-05; v0002 covers 2025-05 to 2025-06" in page
