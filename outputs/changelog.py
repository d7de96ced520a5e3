"""`CHANGELOG.md` of a version: what changed against the version before it (services added, removed, renamed or
moved lane; flows and activity beyond CHANGELOG_THRESHOLD), or "first version"."""

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


def _line(row: pd.Series, lanes: dict[str, str]) -> str:
    name = _md(row["name"])
    if row["element"] == "service":
        if row["change"] == "added":
            return f"- Added: {name} ({_md(lanes.get(row['after'], row['after']))})"
        if row["change"] == "removed":
            return f"- Removed: {name} ({_md(lanes.get(row['before'], row['before']))})"
        if row["attribute"] == "name":
            return f"- Renamed: {_md(row['before'])} → {name}"
        if row["attribute"] == "lane":
            return (f"- Moved lane: {name}: {_md(lanes.get(row['before'], row['before']))} → "
                    f"{_md(lanes.get(row['after'], row['after']))}")
        return f"- Changed {_md(row['attribute'])}: {name}: {_md(row['before'])} → {_md(row['after'])}"
    what = name if row["element"] == "flow" else f"{name}, {_md(row['attribute'])}"
    if row["change"] == "added":
        return f"- Added: {what} ({_number(row['value_after'])})"
    if row["change"] == "removed":
        return f"- Removed: {what} (was {_number(row['value_before'])})"
    return (f"- Changed: {what}: {_number(row['value_before'])} → {_number(row['value_after'])}"
            f"{_relative(row['relative_change'])}")


def changelog_text(version: PublishedVersion) -> str:
    """The Markdown changelog of `version` against `version.previous`."""
    heading = f"# Changelog: {_md(version.title)}, version {version.version_id}\n\n"
    changes = version.analyses.get("changes")
    if version.previous is None:
        return heading + f"First version ({version.period_label}): nothing to compare with.\n"
    if changes is None:
        return heading + f"Against {version.previous.name}: the changes were not worked out for this version.\n"
    lanes = {lane.id: lane.label for lane in version.lanes}
    text = (f"{heading}Against {version.previous.name}. Services added, removed, renamed or moved lane; flows and "
            f"activity totals over the map period that changed by more than {CHANGELOG_THRESHOLD:.0%}.\n")
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
