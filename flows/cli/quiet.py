"""Keeping library noise off the user's terminal: stderr is for ism's own messages."""

from __future__ import annotations

import ctypes
import os
from importlib.util import find_spec
from pathlib import Path


def fontconfig_initialised_quietly() -> bool:
    """Initialise the fontconfig that pygraphviz's wheel bundles, with stderr closed while it reads the system's
    font config. That copy is older than the system's and warns about elements it does not know (`reset-dirs`,
    in /usr/share/fontconfig/conf.avail, which it scans whatever FONTCONFIG_FILE says) on every process that lays
    out a poster. It keeps the parsed config, so later layouts stay quiet. False when there is no bundled copy."""
    spec = find_spec("pygraphviz")
    if spec is None or spec.origin is None:
        return False
    bundled = sorted((Path(spec.origin).parent.parent / "pygraphviz.libs").glob("libfontconfig*.so*"))
    if not bundled:
        return False
    library = ctypes.CDLL(str(bundled[0]))
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            library.FcInit()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return True
