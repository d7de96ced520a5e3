"""A nothing-changed refresh, answered before Prefect starts: when every source's key, known from its files alone,
and the config equal what the latest version was built from, that version is the answer. Imports neither Prefect
nor Great Expectations: the CLI calls it first, in a fresh process, and starts the flow only when it returns None."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from expectations.errors import PublishError
from expectations.status import RunStatus
from flows.config import MapConfig
from flows.outcomes import RunResult, SourceOutcome
from flows.source_cache import inputs_complete, keys_before_reading, run_inputs
from outputs.run_log import REPORT_FILE, new_run_id, record_run
from outputs.store.versions import QUALITY_FOLDER, MapStore

# what a version's manifest records of each source's outcome (outputs/manifest.py `source_entry`)
RECORDED_COUNTS = ("status", "rows_read", "rows_accepted", "rows_rejected", "rows_clipped")
RECORDED_PROVENANCE = ("source_id", "kind", "location", "sha256", "extracted_at")


def recorded_outcome(entry: dict[str, Any]) -> SourceOutcome:
    """A source's outcome as the version's manifest records it: status, counts and provenance; its staged tables
    and rejects were not read again, so they are empty."""
    return SourceOutcome(
        source_id=entry["source_id"], partner=entry["partner"], kind=entry["kind"], status=entry["status"],
        staged={}, rejects="", rows_read=entry["rows_read"], rows_accepted=entry["rows_accepted"],
        rows_rejected=entry["rows_rejected"], rows_clipped=entry["rows_clipped"],
        provenance={key: entry.get(key) for key in RECORDED_PROVENANCE}, rows_filtered=entry.get("rows_filtered", 0),
    )


def unchanged_result(config: MapConfig, store: MapStore, inputs: dict[str, Any],
                     outcomes: list[SourceOutcome] | None = None, run_id: str | None = None) -> RunResult | None:
    """The latest version when it was built from exactly these inputs: nothing to consolidate or publish. Each
    source shows the status and counts the version published: the flow's `outcomes` updated with them, or without
    outcomes (nothing read yet) the manifest's own records. Records the run (`ism runs`: outcome unchanged, its
    report the latest version's) and prunes old versions as a publish does; call it with the store's lock held."""
    latest = store.latest()
    if latest is None or not inputs_complete(inputs):
        return None
    if inputs not in store.inputs_of(latest):
        return None
    manifest = store.manifest(latest)
    published = {entry["source_id"]: entry for entry in manifest.get("sources", [])}
    if outcomes is None:
        if any(source.id not in published for source in config.sources):
            return None  # a manifest without a record of every source: let the flow read them
        shown = [recorded_outcome(published[source.id]) for source in config.sources]
    else:
        shown = [replace(o, **{k: published[o.source_id][k] for k in RECORDED_COUNTS if k in published[o.source_id]})
                 if o.source_id in published else o for o in outcomes]
    store.prune(config.publish.keep_versions)
    record_run(store.private, run_id or new_run_id(), {
        "command": "refresh", "map_id": config.map_id,
        "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "outcome": str(RunStatus.UNCHANGED), "status": manifest.get("status"), "version_id": latest,
        "blocked": [], "root_causes": [], "message": f"no input changed since {latest}: nothing published",
        "report": str(store.version_path(latest) / QUALITY_FOLDER / REPORT_FILE)})
    return RunResult(config.map_id, RunStatus.UNCHANGED, latest, str(store.version_path(latest)),
                     manifest["content_hash"], shown, manifest.get("counts", {}))


def unchanged_before_running(config: MapConfig, publish_root: str | None) -> RunResult | None:
    """The latest version when no source file and nothing in the config changed since it was built, decided from
    file hashes alone; None when the flow must decide: a source only reading can key (a database) or with missing
    files, no published version, changed inputs, or another refresh of the map holding its lock."""
    started = time.perf_counter()
    store = config.store(publish_root)
    keys = {source_id: key for source_id, key in keys_before_reading(config, store.private).items() if key}
    if len(keys) < len(config.sources):
        return None
    if store.latest() is None:
        return None  # a first refresh: nothing to compare with (and nothing created for it here)
    inputs = run_inputs(config, keys)
    with ExitStack() as held:
        try:
            held.enter_context(store.locked())
        except PublishError:
            return None  # another refresh is running: the flow refuses, or with --wait waits, as it always has
        store.clean_leftovers()  # as the flow does first: a killed run's leftovers go, `latest` is repaired
        result = unchanged_result(config, store, inputs)
    if result is None:
        return None
    return replace(result, timings={"flow": 0.0, "shortcut": time.perf_counter() - started})
