"""The publish root: immutable version folders made visible by an atomic rename, a catalog rebuilt from them,
a `latest` pointer, and a lock so two refreshes of one map never interleave.

    <root>/<map_id>/versions/<version_id>/   complete versions, never rewritten
    <root>/<map_id>/catalog.json             every complete version's manifest
    <root>/<map_id>/latest                   the newest version id (one line)
    <root>/<map_id>/.staging/<run_id>/       versions being written; removed at the next start if left over
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expectations.errors import PublishError

MANIFEST = "version.json"
VERSION_PATTERN = re.compile(r"^v(\d{4,})$")


@dataclass(frozen=True)
class MapStore:
    """One map's folder under the publish root."""

    root: Path
    map_id: str

    @property
    def folder(self) -> Path:
        return self.root / self.map_id

    @property
    def versions(self) -> Path:
        return self.folder / "versions"

    @property
    def staging(self) -> Path:
        return self.folder / ".staging"

    @property
    def catalog_path(self) -> Path:
        return self.folder / "catalog.json"

    def version_path(self, version_id: str) -> Path:
        return self.versions / version_id

    def complete_versions(self) -> list[str]:
        """Ids of complete versions (a folder with a manifest), oldest first."""
        if not self.versions.is_dir():
            return []
        found = [p.name for p in self.versions.iterdir() if VERSION_PATTERN.match(p.name) and (p / MANIFEST).is_file()]
        return sorted(found, key=lambda name: int(VERSION_PATTERN.match(name).group(1)))  # type: ignore[union-attr]

    def latest(self) -> str | None:
        pointer = self.folder / "latest"
        if pointer.is_file():
            name = pointer.read_text(encoding="utf-8").strip()
            if name in self.complete_versions():
                return name
        versions = self.complete_versions()
        return versions[-1] if versions else None

    def manifest(self, version_id: str) -> dict[str, Any]:
        path = self.version_path(version_id) / MANIFEST
        if not path.is_file():
            known = ", ".join(self.complete_versions()) or "none"
            raise PublishError(f"{self.folder}: no version {version_id!r}; known: {known}")
        return json.loads(path.read_text(encoding="utf-8"))

    def next_version_id(self) -> str:
        versions = self.complete_versions()
        number = int(VERSION_PATTERN.match(versions[-1]).group(1)) + 1 if versions else 1  # type: ignore[union-attr]
        return f"v{number:04d}"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the map's lock; a second refresh of the same map fails at once with a clear message."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublishError(
                    f"{self.folder}: another refresh of map {self.map_id!r} is running; wait for it to finish"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def clean_leftovers(self) -> list[Path]:
        """Remove staging folders a killed run left behind; call with the lock held."""
        removed = []
        if self.staging.is_dir():
            for leftover in self.staging.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
        return removed

    def new_staging(self, run_id: str) -> Path:
        path = self.staging / run_id
        path.mkdir(parents=True, exist_ok=False)
        return path

    def commit(self, staging: Path, version_id: str) -> Path:
        """Make a fully written staging folder a version (atomic rename), then refresh catalog and latest."""
        if not (staging / MANIFEST).is_file():
            raise PublishError(f"{staging}: the version has no {MANIFEST}; it was not completely written")
        self.versions.mkdir(parents=True, exist_ok=True)
        target = self.version_path(version_id)
        if target.exists():
            raise PublishError(f"{target}: version already exists; versions are never rewritten")
        _fsync_tree(staging)
        os.rename(staging, target)
        _fsync_dir(self.versions)
        self.write_catalog()
        _atomic_write(self.folder / "latest", version_id + "\n")
        return target

    def write_catalog(self) -> dict[str, Any]:
        """The catalog, rebuilt from the manifests of complete versions (so it can never disagree with them)."""
        entries = []
        for version_id in self.complete_versions():
            manifest = self.manifest(version_id)
            entries.append({"version_id": version_id, **{key: manifest.get(key) for key in (
                "created_at", "as_of", "content_hash", "status", "sources", "counts",
            )}})
        catalog = {"map_id": self.map_id, "latest": entries[-1]["version_id"] if entries else None,
                   "versions": entries}
        _atomic_write(self.catalog_path, json.dumps(catalog, indent=2) + "\n")
        return catalog


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
