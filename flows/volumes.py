"""The previous version's source volumes, which the volume check compares a run's with: kept by the refresh that
wrote that version (outputs/store/kept.py), else made again from its tables (bench L: 0.5 s of pandas)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from expectations.errors import PublishError
from expectations.measures import MeasureCatalogue
from flows.source_cache import code_digest
from outputs.store.kept import keep, kept
from outputs.store.versions import MapStore
from outputs.store.workarea import read_frame
from transforms.quality_summary import MEASURED_TABLES, source_volumes

VOLUMES_FILE = "source_volumes.pickle"  # in a run's work folder: the run's source volumes, and their catalogue
KEPT_VOLUMES = ".source_volumes.pickle"  # in the map's private area: those of the version last written


def run_volumes(work: Path, tables: dict[str, pd.DataFrame], catalogue: MeasureCatalogue) -> pd.DataFrame:
    """The run's `source_volumes`, also left in its `work` folder for `keep_volumes`."""
    volumes = source_volumes(tables, catalogue)
    keep(work / VOLUMES_FILE, (), (catalogue, volumes))
    return volumes


def keep_volumes(private: Path, work: Path, content_hash: str) -> None:
    """Keep the run's source volumes (`run_volumes`, in its `work` folder) for the next run, under the content hash
    of the version being written."""
    made = kept(work / VOLUMES_FILE, ())
    if made is not None:
        catalogue, volumes = made
        keep(private / KEPT_VOLUMES, (content_hash, code_digest(), catalogue), volumes)


def previous_volumes(store: MapStore, version_id: str | None, catalogue: MeasureCatalogue) -> pd.DataFrame | None:
    """The previous version's `source_volumes` with this run's catalogue: as the refresh that wrote it kept them,
    else made from its tables; None without a (readable) previous version."""
    if version_id is None:
        return None
    try:
        made = kept(store.private / KEPT_VOLUMES, (store.manifest(version_id).get("content_hash"), code_digest(),
                                                   catalogue))
        if isinstance(made, pd.DataFrame):
            return made
        return source_volumes({t: read_frame(store.version_path(version_id) / f"{t}.parquet")
                               for t in MEASURED_TABLES}, catalogue)
    except (OSError, ValueError, PublishError):
        return None  # an unreadable previous version: report no change rather than fail the run
