"""The poster's layouts kept between versions in the map's private area, so that a version whose numbers alone
changed is not laid out again (outputs/layout.py lays out a poster's shape and names it by a key):

    <private>/<map_id>/.layouts/<key>.json   a laid-out shape and the candidate that made it; the KEEP last used
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from outputs.store.versions import atomic_write

KEEP = 4


def kept_layout(folder: Path, key: str) -> dict[str, Any] | None:
    """The layout kept under `key` (now the most recently used), or None: none kept, or unreadable."""
    path = folder / f"{key}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        path.touch()
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def keep_layout(folder: Path, key: str, document: dict[str, Any]) -> None:
    """Keep a layout under `key` (written whole, then renamed), and the KEEP - 1 most recently used others."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / f"{key}.json", json.dumps(document))
    kept = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
    for stale in kept[KEEP:]:
        stale.unlink(missing_ok=True)
