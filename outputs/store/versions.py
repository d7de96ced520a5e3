"""The publish root: immutable version folders made visible by an atomic rename, a catalog rebuilt from them,
a `latest` pointer, and a lock so two refreshes of one map never interleave.

    <root>/<map_id>/versions/<version_id>/   complete versions, never rewritten
    <root>/<map_id>/catalog.json             every complete version's manifest
    <root>/<map_id>/latest                   the newest version id (one line)
    <root>/<map_id>/.staging/<run_id>/       versions being written; removed at the next start if left over
    <root>/<map_id>/.trash/                  versions being deleted by retention; emptied at the next start

Working data that holds unsuppressed values lives apart, under the private root (the map config's
`private_root`), so that sharing the publish root never shares it:

    <private>/<map_id>/work/<run_id>/        a run's working files; removed at the next start if left over
    <private>/<map_id>/.cache/               the source cache (outputs/store/cache.py)
    <private>/<map_id>/.last_good/           last good extracts (outputs/store/last_good.py)
    <private>/<map_id>/.layouts/             the poster's last layouts, of its shape (outputs/store/layouts.py)
    <private>/<map_id>/.same_content.json    inputs that made the latest version's content again (`keep_inputs`)
    <private>/<map_id>/.file_digests.pickle  the extracts' digests by file signature (outputs/store/cache.py)
    <private>/<map_id>/.version_state.pickle the state of the version last written (flows/analysis.py)
    <private>/<map_id>/.source_volumes.pickle its source volumes, for the next volume check (flows/volumes.py)

A run killed at any moment leaves every complete version intact: a version becomes visible only by the rename of
a fully written folder (its manifest written last), and `clean_leftovers` at the next start removes what the run
left behind and brings the catalog and `latest` back in line with the version folders.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expectations.errors import PublishError
from outputs.store.cache import remove_partial_entries

MANIFEST = "version.json"
"""The manifest in each version folder; a folder without it is not a (complete) version."""
CATALOG = "catalog.json"
LATEST = "latest"
"""The file naming the newest version, and the selector word for it."""
DATAPACKAGE = "datapackage.json"
QUALITY_FOLDER = "quality"  # a version's quality report
VERSION_PATTERN = re.compile(r"^v(\d{4,})$")
SAME_CONTENT = ".same_content.json"
SAME_CONTENT_KEPT = 8


@contextmanager
def _flocked(folder: Path, map_id: str, wait: bool, on_wait: Callable[[], None] | None) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise PublishError(
                    f"{folder}: another refresh of map {map_id!r} is running; wait for it to finish (or pass --wait)"
                ) from None
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class MapStore:
    """One map's folder under the publish root."""

    root: Path
    map_id: str
    private_root: Path | None = None  # unpublished working data (unsuppressed values): never shared

    @property
    def folder(self) -> Path:
        return self.root / self.map_id

    @property
    def private(self) -> Path:
        """The map's private working area: run work files, the source cache, last good extracts."""
        return (self.private_root or self.root / ".ism-private") / self.map_id

    @property
    def versions(self) -> Path:
        return self.folder / "versions"

    @property
    def staging(self) -> Path:
        return self.folder / ".staging"

    @property
    def work(self) -> Path:
        return self.private / "work"

    @property
    def layouts(self) -> Path:
        return self.private / ".layouts"

    @property
    def trash(self) -> Path:
        return self.folder / ".trash"

    @property
    def catalog_path(self) -> Path:
        return self.folder / CATALOG

    @property
    def latest_pointer(self) -> Path:
        return self.folder / LATEST

    def version_path(self, version_id: str) -> Path:
        return self.versions / version_id

    def complete_versions(self) -> list[str]:
        """Ids of complete versions (a folder with a manifest), oldest first."""
        if not self.versions.is_dir():
            return []
        found = [p.name for p in self.versions.iterdir() if VERSION_PATTERN.match(p.name) and (p / MANIFEST).is_file()]
        return sorted(found, key=lambda name: int(VERSION_PATTERN.match(name).group(1)))  # type: ignore[union-attr]

    def latest(self) -> str | None:
        pointer = self.latest_pointer
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

    def inputs_of(self, version_id: str) -> list[Any]:
        """The inputs known to make `version_id`'s content: those its manifest records, then those of later runs
        that made the very same content and so published nothing (a version is never rewritten, so they are kept
        in the private area, `keep_inputs`)."""
        manifest = self.manifest(version_id)
        known = [manifest.get("inputs")]
        try:
            record = json.loads((self.private / SAME_CONTENT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return known  # none kept, or a damaged record: such a run goes through the flow again
        # the version by its content too: a private area may serve several publish roots, whose versions share ids
        if isinstance(record, dict) and record.get("version") == [version_id, manifest.get("content_hash")] \
                and isinstance(record.get("inputs"), list):
            known += record["inputs"]
        return known

    def keep_inputs(self, version_id: str, inputs: Mapping[str, Any]) -> None:
        """Remember that `inputs` made `version_id`'s content again (`inputs_of`): the last SAME_CONTENT_KEPT of
        them, for the latest version only."""
        later = [i for i in self.inputs_of(version_id)[1:] if i != inputs][-(SAME_CONTENT_KEPT - 1):]
        self.private.mkdir(parents=True, exist_ok=True)
        version = [version_id, self.manifest(version_id).get("content_hash")]
        atomic_write(self.private / SAME_CONTENT, json.dumps({"version": version, "inputs": [*later, inputs]}))

    def next_version_id(self) -> str:
        versions = self.complete_versions()
        number = int(VERSION_PATTERN.match(versions[-1]).group(1)) + 1 if versions else 1  # type: ignore[union-attr]
        return f"v{number:04d}"

    @contextmanager
    def locked(self, wait: bool = False, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the map's lock: its folder under the publish root and its private area (which refreshes to other
        publish roots share: its work folders and source cache). A second refresh of the same map fails at once
        with a clear message, or with `wait` calls `on_wait` and blocks until the first one ends (the kernel
        drops the lock of a killed run)."""
        with ExitStack() as held:
            for folder in dict.fromkeys((self.folder, self.private)):  # always in this order: no deadlock
                held.enter_context(_flocked(folder, self.map_id, wait, on_wait))
            yield

    def clean_leftovers(self) -> list[Path]:
        """Remove what killed runs left behind (staging and work folders, versions half deleted by retention,
        partial cache entries, temporary files), then rebuild the catalog and `latest` from the complete versions.
        Call with the lock held; returns the paths removed."""
        removed = []
        for folder in (self.staging, self.work, self.trash):
            if folder.is_dir():
                for leftover in sorted(folder.iterdir()):
                    _remove(leftover)
                    removed.append(leftover)
        removed += remove_partial_entries(self.private)
        for folder in (self.folder, self.private):
            for temporary in sorted(folder.glob(".*.tmp*")) if folder.is_dir() else ():
                temporary.unlink(missing_ok=True)
                removed.append(temporary)
        self.repair()
        return removed

    def repair(self) -> None:
        """Make the catalog and `latest` agree with the version folders: a version is committed by its rename,
        so after a crash between the rename and the pointer the newest complete version becomes `latest`."""
        versions = self.complete_versions()
        if not versions:
            return
        self.write_catalog()
        pointer = self.latest_pointer
        if not pointer.is_file() or pointer.read_text(encoding="utf-8").strip() != versions[-1]:
            atomic_write(pointer, versions[-1] + "\n")

    def new_staging(self, run_id: str) -> Path:
        path = self.staging / run_id
        path.mkdir(parents=True, exist_ok=False)
        return path

    def commit(self, staging: Path, version_id: str, on_renamed: Callable[[], None] | None = None) -> Path:
        """Make a fully written staging folder a version (atomic rename), then refresh catalog and latest.
        `on_renamed` runs right after the rename (a fault-injection point for crash tests)."""
        if not (staging / MANIFEST).is_file():
            raise PublishError(f"{staging}: the version has no {MANIFEST}; it was not completely written")
        self.versions.mkdir(parents=True, exist_ok=True)
        target = self.version_path(version_id)
        if target.exists():
            raise PublishError(f"{target}: version already exists; versions are never rewritten")
        _fsync_tree(staging)
        os.rename(staging, target)
        _fsync_dir(self.versions)
        if on_renamed is not None:
            on_renamed()
        self.write_catalog()
        atomic_write(self.latest_pointer, version_id + "\n")
        return target

    def prune(self, keep_versions: int | None) -> list[str]:
        """Retention: delete the oldest complete versions beyond the newest `keep_versions`, never `latest`.
        The catalog is rewritten without them first, then each folder leaves `versions/` by one atomic rename
        into the trash and is deleted there, so no reader ever finds a listed version half deleted. Returns the
        ids deleted."""
        versions = self.complete_versions()
        if keep_versions is None or len(versions) <= keep_versions:
            return []
        latest = self.latest()
        doomed = [v for v in versions[: len(versions) - keep_versions] if v != latest]
        if not doomed:
            return []
        self.write_catalog(excluding=doomed)
        self.trash.mkdir(parents=True, exist_ok=True)
        for version_id in doomed:
            os.rename(self.version_path(version_id), self.trash / f"{version_id}-{secrets.token_hex(4)}")
        _fsync_dir(self.versions)
        for leftover in self.trash.iterdir():
            _remove(leftover)
        return doomed

    def write_catalog(self, excluding: list[str] | None = None) -> dict[str, Any]:
        """The catalog, rebuilt from the manifests of complete versions (so it can never disagree with them)."""
        entries = [_catalog_entry(version_id, self.version_path(version_id) / MANIFEST)
                   for version_id in self.complete_versions() if version_id not in (excluding or [])]
        catalog = {"map_id": self.map_id, "latest": entries[-1]["version_id"] if entries else None,
                   "versions": entries}
        text = _catalog_text(catalog)
        if _text_of(self.catalog_path) != text:  # each run repairs it first: written only when it changes
            atomic_write(self.catalog_path, text)
        return catalog


CATALOG_KEYS = ("created_at", "as_of", "content_hash", "status", "sources", "counts")
# Manifest file (path, inode, size, mtime) -> its catalog entry: a run rebuilds the catalog more than once, and a
# long-kept map has many versions, each manifest read and parsed every time otherwise.
_ENTRIES: dict[tuple[str, int, int, int], dict[str, Any]] = {}


def _catalog_entry(version_id: str, manifest: Path) -> dict[str, Any]:
    """A version's catalog entry, from its manifest."""
    status = manifest.stat()
    signature = (str(manifest), status.st_ino, status.st_size, status.st_mtime_ns)
    if signature not in _ENTRIES:
        found = json.loads(manifest.read_text(encoding="utf-8"))
        _ENTRIES[signature] = {"version_id": version_id, **{key: found.get(key) for key in CATALOG_KEYS}}
    return dict(_ENTRIES[signature])


def _catalog_text(catalog: Mapping[str, Any]) -> str:
    """The catalog as JSON, a line per version: each lists its sources, so a long-kept national map's catalog runs
    to megabytes, which the standard library writes indented many times slower than on one line."""
    versions = ",\n".join("    " + json.dumps(entry) for entry in catalog["versions"])
    head = json.dumps({key: value for key, value in catalog.items() if key != "versions"})
    return f'{head[:-1]}, "versions": [\n{versions}\n]}}\n' if versions else json.dumps(catalog) + "\n"


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def atomic_write(path: Path, text: str) -> None:
    # a name of its own, so two writers (a refresh and `ism versions`) never replace each other's half file
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
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
