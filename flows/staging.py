"""Reading and staging one source without Prefect: the functions the refresh's source tasks (flows/stage.py) and
`ism check` share, so a source is checked exactly as a refresh stages it (its mapping, source steps and row
checks). Imports neither Prefect nor Great Expectations."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import duckdb

from expectations.checks import RejectRecord
from expectations.status import SourceStatus
from flows.config import MapConfig, Source, load_config
from flows.config_steps import source_steps
from flows.outcomes import ExtractOutcome, SourceOutcome
from flows.safety import identifier_rejects
from outputs.store.workarea import parquet_columns, read_frame, write_frame
from sources import Extract, kind_named
from transforms.numbers import NumberRule
from transforms.rejects import concat_rejects, rejects_frame
from transforms.source_status import empty_source_message, error_rejects, rejected_rows, staged_status
from transforms.source_steps import SourceSteps
from transforms.staging import NO_STEPS, staged, staged_with_active_services, stages_in_sql
from transforms.standardise import SourceMapping, Staged


def relative_location(config: MapConfig, location: str | Path) -> str:
    """Locations as the config names them (relative to its folder), so outputs never carry machine paths: taken
    lexically, not through symlinks, so a data folder linked in (as ../shared beside a clone) is named as written
    and the published rejects, and so the content hash, do not depend on where it really lies."""
    # os.path.relpath also names a file outside the config's folder (read through allowed_roots) as ../..
    return Path(os.path.relpath(os.path.abspath(location), os.path.abspath(config.folder))).as_posix()


def source_location(config: MapConfig, source: Source) -> str:
    """Where a source's data is, as outputs show it: its path relative to the config's folder, or for a database
    its URL with the password masked."""
    kind = kind_named(source.kind)
    if kind.describe is not None:
        return kind.describe(config.request(source))
    return relative_location(config, config.folder / source.location)



def source_mapping(config: MapConfig, source: Source, table: str) -> SourceMapping:
    """Kind defaults merged with the source's own mapping from the config."""
    kind = kind_named(source.kind)
    return SourceMapping(
        source_id=source.id,
        partner=source.partner,
        location=source_location(config, source),
        columns={**kind.default_columns.get(table, {}), **source.columns},
        constants={**kind.default_constants.get(table, {}), **source.constants},
        codes=source.codes,
        namespaces=source.namespaces,
        same_as=source.same_as,
        lanes=tuple(config.lane_ids),
        map_period=(config.period.first_day, config.period.last_day),
        clip_to_map_period=source.clip_to_map_period,
        outlier_ratio=config.quality.outlier_ratio,
        keep_unlisted=tuple(source.codes_keep_unlisted),
        code_defaults=source.codes_default,
        duplicates=source.duplicates,
        numbers=NumberRule(source.decimal, source.thousands),
    )


def staged_from_parquet(raw_path: str, table: str, mapping: SourceMapping, steps: SourceSteps = NO_STEPS) -> Staged:
    """A raw table (Parquet in the work area) staged through transforms/staging.py: a record-level log without
    shaping steps in DuckDB, the rest (small aggregates and reference tables) in pandas."""
    if not stages_in_sql(parquet_columns(raw_path), table, mapping, steps):
        return staged(read_frame(raw_path), table, mapping, steps)
    with duckdb.connect() as con:
        con.read_parquet(raw_path).create_view("raw")
        return staged((con, "raw"), table, mapping, steps)


def staged_tables(config: MapConfig, source: Source, raw: dict[str, str]) -> dict[str, Staged]:
    """Each raw table of a source staged with its shaping steps. With `idle_services = "filter"` (the default
    for phs_ae), services without a staged activity or flow row (in the map period) are counted as filtered."""
    results = {}
    for table, raw_path in raw.items():
        steps = source_steps(config, source, table, parquet_columns(raw_path))
        results[table] = staged_from_parquet(raw_path, table, source_mapping(config, source, table), steps)
    idle = source.idle_services or ("filter" if source.kind == "phs_ae" else "keep")
    if idle == "filter" and "services" in results:
        results["services"] = staged_with_active_services(results)
    return results


def _blocked_before_staging(source: Source, extracted: ExtractOutcome, config: MapConfig, folder: Path,
                            location: str) -> SourceOutcome | None:
    """A source blocked before any table is staged: unreadable, or carrying personal identifiers."""
    if extracted.error is not None:
        unreadable = extracted.error.replace(f"{config.folder}/", "")  # files named as the config names them
        rejects = rejects_frame([RejectRecord(source.id, "source_unreadable", unreadable, location, 0)])
        return SourceOutcome.blocked(source.id, source.partner, source.kind,
                                     write_frame(folder / "rejects.parquet", rejects), None, unreadable)
    personal = identifier_rejects(source, extracted.raw, location)  # before any value can reach a reject
    if len(personal):
        return SourceOutcome.blocked(source.id, source.partner, source.kind,
                                     write_frame(folder / "rejects.parquet", personal), extracted.provenance,
                                     f"{source.id}: {personal.iloc[0]['message']}")
    return None


def ready_to_stage() -> None:
    """Nothing: sent to the checks worker so that it imports the staging code (this module) before it is sent a
    source to stage (flows/stage.py `staged_here_or_beside`)."""


def stage_source(config_path: str, extracted: ExtractOutcome, work: str) -> SourceOutcome:
    """Standardise and validate one source's tables; rows that fail become rejects."""
    config = load_config(config_path)
    source = config.source(extracted.source_id)
    folder = Path(work) / "staged" / source.id
    location = source_location(config, source)
    blocked = _blocked_before_staging(source, extracted, config, folder, location)
    if blocked is not None:
        return blocked
    found = [read_frame(extracted.problems)] if extracted.problems else []
    staged, read, accepted, clipped, filtered = {}, 0, 0, 0, extracted.rows_filtered
    for table, result in staged_tables(config, source, extracted.raw).items():
        staged[table] = write_frame(folder / f"{table}.parquet", result.frame)
        found.append(result.rejects)
        read += result.rows_read
        accepted += result.rows_accepted
        clipped += result.rows_clipped
        filtered += result.rows_filtered
    rejects = concat_rejects(found)
    errors = error_rejects(rejects)
    whole_file = errors[errors["row_number"] == 0]
    if read == 0:
        whole_file = rejects_frame([RejectRecord(source.id, "source_empty", empty_source_message(location),
                                                 location, 0)])
        rejects = concat_rejects([rejects, whole_file])
    status = staged_status(len(whole_file), len(rejects))
    blocking = status == SourceStatus.BLOCKED
    return SourceOutcome(
        source_id=source.id, partner=source.partner, kind=source.kind, status=status,
        staged={} if blocking else staged, rejects=write_frame(folder / "rejects.parquet", rejects),
        rows_read=read, rows_accepted=0 if blocking else accepted,
        rows_rejected=rejected_rows(rejects).get(source.id, 0), rows_clipped=clipped,
        provenance=extracted.provenance, error=f"{source.id}: {whole_file.iloc[0]['message']}" if blocking else None,
        rows_filtered=filtered,
    )


def raw_outcome(config: MapConfig, source: Source, result: Extract, work: str) -> ExtractOutcome:
    """A source's extract kept as Parquet in the work area (its raw tables, reading problems, rows filtered)."""
    folder = Path(work) / "raw" / source.id
    raw = {table: write_frame(folder / f"{table}.parquet", frame) for table, frame in result.tables.items()}
    problems = write_frame(folder / "problems.parquet", rejects_frame(result.problems))
    provenance = {**asdict(result.provenance), "location": source_location(config, source)}
    return ExtractOutcome(source_id=source.id, raw=raw, problems=problems, provenance=provenance,
                          rows_filtered=result.rows_filtered)
