"""The demo map's extracts: the generator reproduces the committed files byte for byte, the config loads, and
the files (read here with pandas, not through the pipeline) hold a map of the promised size whose every flow
end and activity row names a service some extract lists."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from examples.demo.generate import write_extracts
from flows.config import load_config

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
CONFIG = DEMO / "ism.toml"
COMMITTED = DEMO / "extracts"
PHS_DESTINATIONS = {  # discharge columns of the PHS A&E file -> the node the phs_ae kind names
    "DischargeDestinationAdmissionToSame": "{site}:admission_same",
    "DischargeDestinationOtherSpecialty": "{site}:other_specialty",
    "DischargeDestinationResidence": "residence",
    "DischargeDestinationTransfer": "transfer",
    "DischargeDestinationUnknown": "unknown",
}


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_regenerating_gives_the_committed_bytes(tmp_path: Path) -> None:
    write_extracts(tmp_path)
    assert digests(tmp_path) == digests(COMMITTED)


def test_the_demo_config_loads() -> None:
    config = load_config(CONFIG)
    assert len(config.partners) >= 8
    assert len(config.lanes) >= 7
    assert config.period.months[0] == "2025-04" and len(config.period.months) == 12
    for source in config.sources:
        assert (config.folder / source.location).exists(), source.location


# ---- reading the extracts the way each source's mapping describes them, with pandas alone ---------------------


@pytest.fixture(scope="module")
def raw_config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def frame_of(source: dict[str, Any]) -> pd.DataFrame:
    """The source's file as text columns, renamed to the canonical names its `columns` mapping gives."""
    path, options = DEMO / source["location"], source.get("options", {})
    header = options.get("header_row", 1) - 1
    if source["kind"] == "csv":
        frame = pd.read_csv(path, sep=options.get("delimiter", ","), encoding=options.get("encoding", "utf-8-sig"),
                            header=header, dtype=str, keep_default_na=False)
    elif source["kind"] == "excel":
        frame = pd.read_excel(path, sheet_name=options["sheet"], header=header, dtype=str)
    else:
        node: Any = json.loads(path.read_text(encoding="utf-8"))
        for part in options.get("records_path", "").split("."):
            node = node[part] if part else node
        frame = pd.DataFrame(node).astype(str)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns={raw: canonical for canonical, raw in source.get("columns", {}).items()})
    for canonical, value in source.get("constants", {}).items():
        frame[canonical] = value
    for canonical, codes in source.get("codes", {}).items():
        if canonical in frame:
            frame[canonical] = frame[canonical].str.strip().map(lambda v, c=codes: c.get(v, f"UNMAPPED {v}"))
    return frame


class Demo:
    """Listed services, activity and flows of every source, keys written "namespace:key"."""

    def __init__(self, config: dict[str, Any]) -> None:
        partners = set(config["partners"])
        self.services: set[str] = set()
        self.aliases: dict[str, str] = {}  # external id or crosswalked key -> the service it names
        self.activity: list[tuple[str, str, str]] = []  # (source id, service, month)
        self.flows: list[tuple[str, str, str]] = []  # (source id, from, to)

        def qualified(key: str, namespace: str) -> str:
            prefix = key.split(":", 1)[0]
            return key if ":" in key and (prefix in partners or prefix in {"hsds", "phs_location"}) \
                else f"{namespace}:{key}"

        for source in config["sources"]:
            partner, spaces = source["partner"], source.get("namespaces", {})
            if source["kind"] == "hsds":
                self.read_hsds(source)
                continue
            if source["kind"] == "phs_ae":
                self.read_phs(source)
                continue
            frame = frame_of(source)
            if source["table"] == "services":
                for row in frame.itertuples():
                    self.services.add(f"{partner}:{row.service_key}")
                    for external in filter(None, str(getattr(row, "external_ids", "") or "").split(";")):
                        self.aliases[external] = f"{partner}:{row.service_key}"
            elif source["table"] == "activity":
                months = frame["period"].map(month_of)
                self.activity += [(source["id"], qualified(key, spaces.get("service_key", partner)), month)
                                  for key, month in zip(frame["service_key"], months, strict=True)]
            elif source["table"] == "flows":
                self.flows += [(source["id"], qualified(a, spaces.get("from_key", partner)),
                                qualified(b, spaces.get("to_key", partner)))
                               for a, b in zip(frame["from_key"], frame["to_key"], strict=True)]

    def read_hsds(self, source: dict[str, Any]) -> None:
        services = pd.read_csv(DEMO / source["location"] / "services.csv", dtype=str)
        for key in services["id"]:
            self.services.add(f"{source['partner']}:{key}")
            self.aliases[f"hsds:{key}"] = f"{source['partner']}:{key}"

    def read_phs(self, source: dict[str, Any]) -> None:
        rows = pd.read_csv(DEMO / source["location"], dtype=str)
        for site in rows["TreatmentLocation"].unique():
            self.services.add(f"phs:{site}")
            external = f"phs_location:{site}"  # the site is whichever listed service shares its location code
            if external in self.aliases:
                self.aliases[f"phs:{site}"] = self.aliases[external]
            else:
                self.aliases[external] = f"phs:{site}"
        for own, other in source.get("same_as", {}).items():
            self.aliases[f"phs:{own}"] = other
        for row in rows.to_dict("records"):
            self.activity.append((source["id"], f"phs:{row['TreatmentLocation']}", month_of(row["Month"])))
            for column, node in PHS_DESTINATIONS.items():
                target = f"phs:{node.format(site=row['TreatmentLocation'])}"
                if not pd.isna(row[column]):
                    self.services.add(target)
                    self.flows.append((source["id"], f"phs:{row['TreatmentLocation']}", target))

    def resolved(self, ref: str) -> str | None:
        seen = set()
        while ref in self.aliases and ref not in seen:
            seen.add(ref)
            ref = self.aliases[ref]
        return ref if ref in self.services else None


def month_of(text: str) -> str:
    text = text.strip()
    if match := re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text):
        return f"{match.group(3)}-{match.group(2)}"
    digits = text.replace("-", "")
    return f"{digits[:4]}-{digits[4:6]}"


@pytest.fixture(scope="module")
def demo(raw_config: dict[str, Any]) -> Demo:
    return Demo(raw_config)


def test_the_map_has_the_promised_size(demo: Demo, raw_config: dict[str, Any]) -> None:
    canonical = {demo.resolved(s) for s in demo.services}
    lanes = {lane["id"] for lane in raw_config["lanes"]}
    pairs = {(demo.resolved(a), demo.resolved(b)) for _, a, b in demo.flows}
    assert len(canonical) >= 60
    assert len(lanes) >= 7
    assert len(pairs) >= 150


def test_every_activity_source_covers_the_twelve_months(demo: Demo) -> None:
    months = [f"{2025 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}" for i in range(12)]
    by_source: dict[str, set[str]] = {}
    for source_id, _service, month in demo.activity:
        by_source.setdefault(source_id, set()).add(month)
    assert by_source and all(sorted(found) == months for found in by_source.values()), by_source


def test_every_flow_end_and_activity_row_names_a_listed_service(demo: Demo) -> None:
    dangling = sorted({(source, ref) for source, a, b in demo.flows for ref in (a, b) if demo.resolved(ref) is None}
                      | {(source, ref) for source, ref, _ in demo.activity if demo.resolved(ref) is None})
    assert dangling == []
    loops = [(source, a) for source, a, b in demo.flows if demo.resolved(a) == demo.resolved(b)]
    assert loops == []
