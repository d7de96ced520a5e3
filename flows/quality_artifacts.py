"""The Prefect artifacts of a run's quality summary: a Markdown summary and the per-source table, under stable
keys, so the Prefect UI shows what the report shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from outputs.quality_text import markdown_summary, source_rows


def artifact_key(map_id: str, what: str = "quality") -> str:
    """A Prefect artifact key: lowercase letters, digits and dashes only."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", f"ism-{what}-{map_id}".lower())).strip("-")


def quality_artifacts(summary: Mapping[str, Any], what: str = "quality", version: str | None = None) -> None:
    """A Markdown and a table artifact of the run's quality under stable keys (ism-<what>-<map_id>, and
    ism-<what>-sources-<map_id>), so the Prefect UI shows the same summary as the report."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    map_id = str(summary.get("map_id"))
    create_markdown_artifact(markdown=markdown_summary(summary, version), key=artifact_key(map_id, what),
                             description=f"Quality of {map_id}: {summary.get('status')}")
    create_table_artifact(table=source_rows(summary), key=artifact_key(map_id, f"{what}-sources"),
                          description=f"Sources of {map_id} with their status")
