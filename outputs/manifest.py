"""A version's manifest (version.json): what it was built from, its content hash, each source's outcome, its
counts and table digests. Written last, so a version without it is incomplete (outputs/store/versions.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from expectations.status import version_status


class CountedSource(Protocol):
    """What the manifest records of a source's outcome (flows/outcomes.py SourceOutcome)."""

    @property
    def source_id(self) -> str: ...
    @property
    def partner(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_accepted(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...
    @property
    def rows_clipped(self) -> int: ...
    @property
    def provenance(self) -> dict[str, Any] | None: ...
    @property
    def rows_filtered(self) -> int: ...


def source_entry(outcome: CountedSource, location: str, licence: Any, attribution: str | None) -> dict[str, Any]:
    """One source's record: provenance (where, which bytes, when), status, counts, licence and attribution.
    `location` is the config's, used when the source was never read."""
    provenance = outcome.provenance or {}
    return {
        "source_id": outcome.source_id, "partner": outcome.partner, "kind": outcome.kind,
        "location": provenance.get("location", location), "sha256": provenance.get("sha256"),
        "extracted_at": provenance.get("extracted_at"), "status": outcome.status, "rows_read": outcome.rows_read,
        "rows_accepted": outcome.rows_accepted, "rows_rejected": outcome.rows_rejected,
        "rows_clipped": outcome.rows_clipped, "rows_filtered": outcome.rows_filtered, "licence": licence,
        "attribution": attribution,
    }


def version_manifest(*, version_id: str, map_id: str, title: str, area: Mapping[str, Any], population: Any,
                     period: tuple[str, str], content_hash: str, schema_version: str,
                     sources: Sequence[Mapping[str, Any]], counts: Mapping[str, int], digests: Mapping[str, Any],
                     disclosure: Any, inputs: Mapping[str, Any] | None, status: str | None = None
                     ) -> dict[str, Any]:
    """The manifest document, keys in their published order. `inputs` (config digest and source keys) let the
    next run with equal inputs answer `unchanged`."""
    return {
        "version_id": version_id,
        "map_id": map_id,
        "title": title,
        "area": dict(area),
        "population": population,
        "as_of": {"start": period[0], "end": period[1]},
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "content_hash": content_hash,
        "schema_version": schema_version,
        "status": status or version_status([s["status"] for s in sources]),  # the run's green / amber / red
        "sources": list(sources),
        "counts": dict(counts),
        "tables": digests,
        "disclosure": disclosure,
        "inputs": inputs,
    }
