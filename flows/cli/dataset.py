"""`ism versions` and `ism show`: what a map has published, and what one version holds."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

import typer

from expectations.errors import IsmError
from flows.cli.common import VERSION_HELP, ConfigArg, JsonOpt, RootOpt, fail, map_store

if TYPE_CHECKING:
    from outputs.store.reader import MapVersion
    from outputs.store.versions import MapStore

VersionArg = Annotated[str, typer.Argument(metavar="VERSION", help=VERSION_HELP, show_default=False)]


def version_entries(store: MapStore) -> list[dict[str, Any]]:
    """One entry per complete version, oldest first, read from the manifests (nothing is written)."""
    entries = []
    for version_id in store.complete_versions():
        manifest = store.manifest(version_id)
        entries.append({"version_id": version_id, **{key: manifest.get(key) for key in (
            "created_at", "as_of", "content_hash", "schema_version", "status", "sources", "counts",
        )}})
    return entries


def _sources_summary(sources: list[dict[str, Any]]) -> str:
    statuses = Counter(str(s.get("status")) for s in sources)
    detail = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()) if status != "ok")
    return f"{len(sources)} sources" + (f" ({detail})" if detail else "")


def versions(config: ConfigArg = None, publish_root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """List the published versions of a map, oldest first: id, as-of period, content hash, sources, status."""
    try:
        _, store = map_store(config, publish_root)
        entries = version_entries(store)
        latest = store.latest()
    except IsmError as error:
        fail(error)
    if as_json:
        typer.echo(json.dumps({"map_id": store.map_id, "latest": latest, "versions": entries}, indent=2))
        return
    if not entries:
        typer.echo(f"no versions of {store.map_id} published yet under {store.root}", err=True)
        return
    typer.echo(f"  {'version':<8} {'created':<25} {'as of':<17} {'status':<7} {'content hash':<13} "
               f"{'rejects':>7}  sources")
    for entry in entries:
        mark = "*" if entry["version_id"] == latest else " "
        as_of = entry["as_of"] or {}
        rejects = (entry["counts"] or {}).get("rejects", "")
        typer.echo(f"{mark} {entry['version_id']:<8} {entry['created_at'] or '':<25} "
                   f"{as_of.get('start', '?')}..{as_of.get('end', '?'):<8} {entry['status'] or '':<7} "
                   f"{(entry['content_hash'] or '')[:12]:<13} {rejects:>7}  {_sources_summary(entry['sources'] or [])}")


def version_summary(opened: MapVersion, latest: str | None, lane_labels: dict[str, str]) -> dict[str, Any]:
    """What `ism show` reports about one version."""
    manifest = opened.manifest
    try:
        published_lanes = opened.datapackage.get("lanes") or []
    except (OSError, ValueError):
        published_lanes = []
    labels = {**lane_labels, **{lane["id"]: lane["label"] for lane in published_lanes}}
    per_lane = Counter(opened.services["lane"])
    order = [lane["id"] for lane in published_lanes] or list(lane_labels)
    order += sorted(set(per_lane) - set(order))
    return {
        "map_id": manifest.get("map_id"), "version_id": manifest.get("version_id"),
        "latest": manifest.get("version_id") == latest, "title": manifest.get("title"),
        "created_at": manifest.get("created_at"), "as_of": manifest.get("as_of"),
        "content_hash": manifest.get("content_hash"), "schema_version": manifest.get("schema_version"),
        "status": manifest.get("status"), "path": str(opened.path),
        "tables": manifest.get("counts") or {},
        "sources": manifest.get("sources") or [],
        "lanes": [{"id": lane, "label": labels.get(lane, lane), "services": per_lane.get(lane, 0)} for lane in order],
    }


def _summary_text(summary: dict[str, Any]) -> str:
    as_of = summary["as_of"] or {}
    lines = [
        f"{summary['map_id']} {summary['version_id']}{' (latest)' if summary['latest'] else ''}: {summary['title']}",
        f"created {summary['created_at']}, as of {as_of.get('start')}..{as_of.get('end')}, status "
        f"{summary['status']}, schema {summary['schema_version']}",
        f"content hash {summary['content_hash']}",
        f"path {summary['path']}",
        "",
        f"{'table':<15}{'rows':>9}",
        *[f"{table:<15}{rows:>9,}" for table, rows in summary["tables"].items()],
        "",
    ]
    width = max([len("source"), *(len(s["source_id"]) for s in summary["sources"])])
    lines.append(f"{'source':<{width}}  {'status':<8}{'sha256':<14}{'read':>8}{'accepted':>10}{'rejected':>10}")
    for s in summary["sources"]:
        read, accepted, rejected = (s.get(key) or 0 for key in ("rows_read", "rows_accepted", "rows_rejected"))
        lines.append(f"{s['source_id']:<{width}}  {s.get('status') or '':<8}{(s.get('sha256') or '-')[:12]:<14}"
                     f"{read:>8,}{accepted:>10,}{rejected:>10,}")
    lines.append("")
    label_width = max([len("lane"), *(len(lane["label"]) for lane in summary["lanes"])])
    lines.append(f"{'lane':<{label_width}}  {'services':>8}")
    lines += [f"{lane['label']:<{label_width}}  {lane['services']:>8}" for lane in summary["lanes"]]
    return "\n".join(lines)


def show(version: VersionArg, config: ConfigArg = None, publish_root: RootOpt = None,
         as_json: JsonOpt = False) -> None:
    """Summarise one published version: tables and row counts, sources with hashes and statuses, lanes with
    service counts, content hash, created_at."""
    from flows.analysis import opened_version

    try:
        map_config, store = map_store(config, publish_root)
        opened = opened_version(store, version)
        summary = version_summary(opened, store.latest(), {lane.id: lane.label for lane in map_config.lanes})
    except IsmError as error:
        fail(error)
    typer.echo(json.dumps(summary, indent=2) if as_json else _summary_text(summary))

