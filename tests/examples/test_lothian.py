"""The NHS Lothian example: a real health board's map built only from ../shared/data by config alone. It publishes
with no error reject, counts every row it leaves out, and publishes the same tables from shuffled files."""

import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest

from flows.refresh import refresh_map
from tests.conftest import SHARED_DATA, require

pytestmark = pytest.mark.usefixtures("prefect_server")

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lothian" / "ism.toml"
TABLES = ("organisations", "services", "activity", "flows")


def _published(config: Path, root: Path) -> tuple[Path, dict]:
    result = refresh_map(str(config), str(root))
    assert result.status == "published"
    folder = Path(result.path)
    return folder, json.loads((folder / "version.json").read_text())


def _shuffled_copy(shared_data: Path, folder: Path) -> Path:
    """The config reading shuffled copies of its files (header first, every other line in a random order)."""
    text = CONFIG.read_text()
    for name in sorted(set(re.findall(r"shared/data/phs/([\w.\-]+\.csv)", text))):
        lines = (shared_data / "phs" / name).read_text(encoding="utf-8-sig").splitlines()
        body = lines[1:]
        random.Random(name).shuffle(body)
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "data" / name).write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    copied = folder / "map" / "ism.toml"
    copied.parent.mkdir()
    copied.write_text(text.replace("../../../shared/data/phs/", "../data/").replace(
        'allowed_roots = ["../../../shared/data"]', 'allowed_roots = ["../data"]'))
    return copied


@pytest.fixture(scope="module")
def real(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The example published once from the real files (the tests only read it)."""
    require(SHARED_DATA.is_dir(), "../shared/data is absent: real-data tests need the shared folder beside the repo")
    return _published(CONFIG, tmp_path_factory.mktemp("lothian") / "real")


def test_lothian_publishes_real_files_with_no_error_rejects_the_same_from_shuffled_files(
        shared_data: Path, tmp_path: Path, real: tuple[Path, dict]) -> None:
    folder, manifest = real
    rejects = pd.read_parquet(folder / "rejects.parquet")
    assert (rejects["severity"] == "warn").all(), rejects[rejects["severity"] != "warn"].head().to_dict("records")
    assert manifest["area"]["kind"] == "health board" and manifest["area"]["code"] == "S08000024"
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["area"]["kind"] == "health board"
    sources = {s["source_id"]: s for s in manifest["sources"]}
    assert all(s["rows_rejected"] == 0 for s in sources.values())
    # rows left out by design are counted: other boards, ages and reasons; other specialties and the board total
    assert sources["delayed_discharges"]["rows_filtered"] == 16_875 - 75  # 75 months of NHS Lothian, 18plus, all
    assert sources["beds"]["rows_filtered"] > 30_000 and sources["ae"]["rows_filtered"] > 14_000

    services = pd.read_parquet(folder / "services.parquet")
    named = dict(zip(services["name"], services["lane"], strict=True))
    assert named["Royal Hospital for Children and Young People"] == "urgent_care"  # named by the hospital list
    assert named["Royal Edinburgh Hospital"] == "other_hospitals"  # a code listed nowhere: codes_default
    assert "Belhaven Hospital – admitted to same hospital" not in named  # its A&E closed in 2012: filtered
    assert set(services["locality"].dropna()) == {"Edinburgh", "East Lothian", "Midlothian", "West Lothian"}

    activity = pd.read_parquet(folder / "activity.parquet")
    board = activity[activity["measure"] == "delayed_bed_days"].sort_values("period_start")
    assert board["value"].iloc[0] == 5154 and len(board) == 12  # 18plus, all reasons, April 2021
    beds = activity[activity["measure"] == "staffed_bed_days"]
    span = pd.to_datetime(beds["period_end"]) - pd.to_datetime(beds["period_start"])
    assert (span.dt.days > 80).all()  # quarters, never split into months
    assert len(beds) == 4 * 3  # four quarters of 2021/22 for the three hospitals the beds file lists

    again, shuffled = _published(_shuffled_copy(shared_data, tmp_path / "shuffled"), tmp_path / "again")
    assert {t: shuffled["tables"][t] for t in TABLES} == {t: manifest["tables"][t] for t in TABLES}
    # the rejects (warnings: unused columns) name the copies' other location, and nothing else differs
    moved = pd.read_parquet(again / "rejects.parquet")
    assert moved.drop(columns="location").equals(rejects.drop(columns="location"))


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_lothian_quality_figures_never_add_a_percentage_or_an_average_across_months(
        real: tuple[Path, dict]) -> None:
    folder, _ = real
    quality = _strict((folder / "quality" / "report.json").read_text(encoding="utf-8"))
    assert quality["schema"] == "ism-quality/2"
    figures = {(v["source_id"], v["table"], v["measure"]): v for v in quality["change"]["volumes"]}
    activity = pd.read_parquet(folder / "activity.parquet")
    beds = activity[activity["source_id"] == "beds"]
    # occupancy recomputed by hand from the published cells: occupied / staffed bed days x 100 where both are known
    both = beds.pivot_table(index=["service_id", "period_start"], columns="measure", values="value", aggfunc="sum")
    both = both[["occupied_bed_days", "staffed_bed_days"]].dropna()
    occupancy = figures[("beds", "activity", "percentage_occupancy")]
    expected = both["occupied_bed_days"].sum() / both["staffed_bed_days"].sum() * 100
    assert occupancy["volume"] == pytest.approx(expected) and 0 < occupancy["volume"] <= 100
    assert occupancy["display"] == f"{expected:,.1f}%" and occupancy["unit"] == "%"
    summed = beds.loc[beds["measure"] == "percentage_occupancy", "value"].sum()
    assert summed > 900 and occupancy["volume"] != pytest.approx(summed)  # what the report used to add up (972)
    average = figures[("beds", "activity", "average_available_beds")]
    assert average["volume"] is None and average["display"] == "not added over services (average)"
    for (source, table, measure), figure in figures.items():
        rows = pd.read_parquet(folder / f"{table}.parquet")
        own = rows[(rows["source_id"] == source) & (rows["measure"] == measure)]
        if figure["kind"] == "count":  # counts, and only counts, add over months and services
            assert figure["volume"] == pytest.approx(own["value"].sum()), (source, measure)
        elif len(own) > 1 and figure["volume"] is not None:
            assert figure["volume"] != pytest.approx(own["value"].sum()), (source, measure)
    for source in quality["sources"]:  # per source a figure per measure, never one volume adding them
        assert "volume" not in source and "volume_change" not in source
        assert {(m["table"], m["measure"]) for m in source["measures"]} == {
            (t, m) for s, t, m in figures if s == source["source_id"]}
