"""Files of a version reused from the version before it when what they are built from did not change. Each
version's file keys (a digest of exactly what each file was built from) are kept in the private area:

    <private>/<map_id>/.artefact_keys/<version_id>.json    {"manifest": "<sha256 of its version.json>",
                                                            "keys": {"<path in the version>": "<key>", ...}}

A file whose key equals the previous version's is hard-linked from it (a complete version's files are never
rewritten, so two versions may share one), or copied where links are not possible. The keys name the version by
its manifest's digest: the private area may serve several publish roots (`--publish-root`), whose versions share
ids, and keys are used only for the version they were written for. Without them (an older version, a pruned
private area, another root's version) every file is built again: the keys save work, never change a byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from outputs.store.versions import MANIFEST, atomic_write

KEYS_DIR = ".artefact_keys"


def _keys_path(private: Path, version_id: str) -> Path:
    return private / KEYS_DIR / f"{version_id}.json"


def _manifest_digest(version: Path) -> str | None:
    try:
        return hashlib.sha256((version / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return None


def artefact_keys(private: Path, version: Path) -> dict[str, str]:
    """The file keys kept for the complete version in folder `version` ({} when there are none, they cannot be
    read, or they were written for another version of the same id)."""
    try:
        found = json.loads(_keys_path(private, version.name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict) or found.get("manifest") != _manifest_digest(version):
        return {}
    keys = found.get("keys")
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


def keep_artefact_keys(private: Path, version: Path, keys: Mapping[str, str], keep: list[str]) -> None:
    """Keep the file keys of the version just committed in folder `version`; drop the keys of versions no longer
    in `keep`."""
    folder = private / KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    document = {"manifest": _manifest_digest(version), "keys": dict(sorted(keys.items()))}
    atomic_write(_keys_path(private, version.name), json.dumps(document, indent=1) + "\n")
    for stale in folder.glob("*.json"):
        if stale.stem not in keep:
            stale.unlink(missing_ok=True)


@dataclass
class Reuse:
    """The previous version's folder and file keys; collects the keys of the version being written."""

    previous: Path | None = None
    previous_keys: Mapping[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)

    def take(self, folder: Path, relative: str, key: str) -> bool:
        """Record `relative`'s key; True when the previous version's file of the same key is now at
        folder/relative (linked or copied), False when the caller must write it."""
        self.keys[relative] = key
        if self.previous is None or self.previous_keys.get(relative) != key:
            return False
        source, target = self.previous / relative, folder / relative
        if not source.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        self.reused.append(relative)
        return True
