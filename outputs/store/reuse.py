"""Files of a version reused from the version before it when what they are built from did not change. Each
version's file keys (a digest of exactly what each file was built from) are kept in the private area:

    <private>/<map_id>/.artefact_keys/<version_id>.json    {"<path in the version>": "<key>", ...}

A file whose key equals the previous version's is hard-linked from it (a complete version's files are never
rewritten, so two versions may share one), or copied where links are not possible. Without the keys (an older
version, a pruned private area) every file is built again: the keys only save work, never change a byte.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from outputs.store.versions import _atomic_write

KEYS_DIR = ".artefact_keys"


def _keys_path(private: Path, version_id: str) -> Path:
    return private / KEYS_DIR / f"{version_id}.json"


def artefact_keys(private: Path, version_id: str) -> dict[str, str]:
    """The file keys kept for a version ({} when there are none, or they cannot be read)."""
    try:
        found = json.loads(_keys_path(private, version_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def keep_artefact_keys(private: Path, version_id: str, keys: Mapping[str, str], keep: list[str]) -> None:
    """Keep a committed version's file keys; drop the keys of versions no longer in `keep`."""
    folder = private / KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(_keys_path(private, version_id), json.dumps(dict(sorted(keys.items())), indent=1) + "\n")
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
