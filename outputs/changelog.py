"""`CHANGELOG.md` of a version: first both versions' periods, config digests and sources and what differs between
them, then what changed against the version before it (services added, removed, renamed, moved lane or gone with
their source; flows and activity per measure beyond CHANGELOG_THRESHOLD or with changed suppression), or "first
version"."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from outputs.context import PublishedVersion

CHANGELOG_THRESHOLD = 0.1  # relative change of a flow or an activity total worth a line
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|])")


def _md(value: object) -> str:
    """Text safe inside Markdown (no accidental emphasis, links or HTML)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def _number(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):,.0f}"  # type: ignore[arg-type]


def _relative(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " (new)" if math.isinf(float(value)) else f" ({float(value):+.0%})"  # type: ignore[arg-type]


def _shown(row: pd.Series, side: str) -> str:
    display = row[f"display_{side}"]
    return _md(display) if isinstance(display, str) else _number(row[f"value_{side}"])


def _line(row: pd.Series, lanes: dict[str, str]) -> str:
    name = _md(row["name"])
    if row["element"] == "service":
        if row["change"] == "added":
            return f"- Added: {name} ({_md(lanes.get(row['after'], row['after']))})"
        if row["change"] == "removed":
            return f"- Removed: {name} ({_md(lanes.get(row['before'], row['before']))})"
        if row["change"] == "source missing":
            return (f"- Source missing, not removed: {name} ({_md(lanes.get(row['before'], row['before']))}): "
                    f"{_md(row['note'])}")
        if row["attribute"] == "name":
            return f"- Renamed: {_md(row['before'])} → {name}"
        if row["attribute"] == "lane":
            return (f"- Moved lane: {name}: {_md(lanes.get(row['before'], row['before']))} → "
                    f"{_md(lanes.get(row['after'], row['after']))}")
        return f"- Changed {_md(row['attribute'])}: {name}: {_md(row['before'])} → {_md(row['after'])}"
    what = f"{name}, {_md(row['attribute'])}"
    unit = f" {_md(row['unit'])}" if isinstance(row["unit"], str) else ""
    note = row["note"] if isinstance(row["note"], str) else ""
    if row["change"] == "added":
        return f"- Added: {what} ({_shown(row, 'after')}{unit})"
    if row["change"] == "removed":
        return f"- Removed: {what} (was {_shown(row, 'before')}{unit})"
    if row["change"] == "source missing":
        return f"- Source missing, not removed: {what} (was {_shown(row, 'before')}{unit}): {_md(note)}"
    if note.startswith("suppression changed"):
        return f"- Suppression changed, not growth: {what}: {_shown(row, 'before')} → {_shown(row, 'after')}{unit}"
    periods = " over different periods" if "over different periods" in note else ""
    return (f"- Changed: {what}: {_shown(row, 'before')} → {_shown(row, 'after')}{unit}"
            f"{_relative(row['relative_change'])}{periods}")


def comparison_text(comparison: pd.DataFrame, before: str, after: str) -> str:
    """The first lines of a changelog: both versions' periods, config digests and sources, saying what differs."""
    rows = comparison.set_index("aspect")
    period, config, sources = rows.loc["period"], rows.loc["config_digest"], rows.loc["sources"]
    return (f"{_md(before)} covers {_md(period['before'])}; {_md(after)} covers {_md(period['after'])} "
            + ("(**the periods differ**: totals cover different months, so a change is not growth).\n"
               if bool(period["differs"]) else "(the same months).\n")
            + f"Config: {_md(str(config['before'])[:12])} → {_md(str(config['after'])[:12])} ({_md(config['note'])}).\n"
            + f"Sources: {_md(sources['before'])} → {_md(sources['after'])} ({_md(sources['note'])}).\n")


def changelog_text(version: PublishedVersion) -> str:
    """The Markdown changelog of `version` against `version.previous`."""
    heading = f"# Changelog: {_md(version.title)}, version {version.version_id}\n\n"
    changes = version.analyses.get("changes")
    if version.previous is None:
        return heading + f"First version ({version.period_label}): nothing to compare with.\n"
    comparison = version.analyses.get("comparison")
    if comparison is not None:
        heading += comparison_text(comparison, version.previous.name, version.version_id) + "\n"
    if changes is None:
        return heading + f"Against {version.previous.name}: the changes were not worked out for this version.\n"
    lanes = {lane.id: lane.label for lane in version.lanes}
    text = (f"{heading}Against {version.previous.name}. Services added, removed, renamed or moved lane; flows and "
            f"activity per measure over the map period that changed by more than {CHANGELOG_THRESHOLD:.0%} (each "
            "measure's figure as its kind says: counts summed, stocks the mean or last month, percentages "
            "recomputed); a figure whose suppressed months changed says so instead of a change.\n")
    if changes.empty:
        return text + f"\nNo service, flow or activity changed beyond {CHANGELOG_THRESHOLD:.0%}.\n"
    for element, title in (("service", "Services"), ("flow", "Flows"), ("activity", "Activity")):
        rows = changes[changes["element"] == element]
        if len(rows):
            text += f"\n## {title}\n\n" + "\n".join(_line(row, lanes) for _, row in rows.iterrows()) + "\n"
    return text


def changelog_artefact(version: PublishedVersion) -> list[Path]:
    """`CHANGELOG.md` in the version folder."""
    version.folder.mkdir(parents=True, exist_ok=True)
    path = version.folder / "CHANGELOG.md"
    path.write_text(changelog_text(version), encoding="utf-8")
    return [path]
