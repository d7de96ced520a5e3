"""What a refresh keeps in the map's private area for the next one, which would otherwise make it again from the
previous version's files (seconds of pandas on a national map): each value named by a header of what it was made
from, which the reader must match exactly, and replaced whole by a rename. The private area is the map's own and
written only by ism (its source cache is read as trustingly), so values are pickled. Deleting a file only costs
time: the value is made again."""

from __future__ import annotations

import os
import pickle
import secrets
from pathlib import Path
from typing import Any


def keep(path: Path, header: tuple[Any, ...], value: Any) -> None:
    """Keep `value` at `path` under `header`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial-{secrets.token_hex(4)}")
    try:
        with partial.open("wb") as handle:
            pickle.dump(header, handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def kept(path: Path, header: tuple[Any, ...]) -> Any | None:
    """The value kept at `path` under exactly `header`; None when there is none, it was kept under another header
    (its value is then never unpickled), or the file is damaged."""
    try:
        with path.open("rb") as handle:
            if pickle.load(handle) != header:  # noqa: S301  (see the module's docstring)
                return None
            return pickle.load(handle)  # noqa: S301
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
