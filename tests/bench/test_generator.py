"""The benchmark's generator, at a hundredth of size S: deterministic, and its map config loads."""

from __future__ import annotations

from pathlib import Path

from bench.generate import CHANGED_SOURCE, SIZES, changed_extract, generate
from flows.config import load_config


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_size_and_scale_write_the_same_bytes(tmp_path: Path) -> None:
    first = generate(SIZES["S"], tmp_path / "one", scale=0.01)
    second = generate(SIZES["S"], tmp_path / "two", scale=0.01)
    assert _files(first.parent) == _files(second.parent)
    assert len(_files(first.parent)) == 19  # ism.toml and 18 extract files (an HSDS package is three)


def test_the_config_loads_and_names_every_extract(tmp_path: Path) -> None:
    config = load_config(generate(SIZES["S"], tmp_path, scale=0.01))
    kinds = {source.kind for source in config.sources}
    assert kinds == {"csv", "excel", "json", "hsds", "phs_ae"}
    assert len(config.sources) == 18
    for source in config.sources:
        assert (config.folder / source.location).exists(), source.id
    referrals = (tmp_path / "extracts" / "hscp01" / "gp" / "referrals.csv").read_text(encoding="cp1252")
    assert len(referrals.splitlines()) == 1 + round(SIZES["S"].record_rows * 0.01 * 0.5)  # header + half the rows


def test_the_one_changed_refresh_appends_one_valid_record(tmp_path: Path) -> None:
    config = generate(SIZES["S"], tmp_path, scale=0.01)
    path, line = changed_extract(config)
    assert CHANGED_SOURCE == "hscp01_gp_referrals" and path.name == "referrals.csv"
    date, practice, destination = line.decode("cp1252").rstrip("\r\n").split(";")
    header, first = path.read_text(encoding="cp1252").splitlines()[:2]
    assert header == "Referral Date;Practice Code;Referred To" and first.split(";")[1] == practice
    assert date == "15/06/2025" and destination == "CTAC"
