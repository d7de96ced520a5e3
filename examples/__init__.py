"""The embedded examples: the demo map config and the generator of its partner extracts. They ship in the wheel as
package data, so an installed `ism` finds the demo without a checkout."""

from __future__ import annotations

import re
import shutil
from importlib.resources import files
from pathlib import Path

DEMO_FOLDER = Path(str(files("examples") / "demo"))
DEMO_CONFIG = DEMO_FOLDER / "ism.toml"
DEMO_FILES = ("ism.toml", "to_be.toml", "README.md", "extracts")
"""What a copy of the demo holds: the map config, its to-be scenario, its README and the partner extracts."""

DEMO_PUBLISH_ROOT = "published"
_PUBLISH_ROOT_LINE = re.compile(r'^publish_root = ".*"$', re.M)


def write_demo(folder: Path) -> Path:
    """Copy the demo map into `folder` (its config, scenario and extracts; files already there are replaced), with
    the publish root inside `folder`; returns the config path. Only where the map is published changes, which is
    left out of every content hash, so the copy publishes the same content as the embedded demo."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        source, target = DEMO_FOLDER / name, folder / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
    config = folder / "ism.toml"
    original = config.read_text(encoding="utf-8")
    text, replaced = _PUBLISH_ROOT_LINE.subn(f'publish_root = "{DEMO_PUBLISH_ROOT}"', original)
    if replaced != 1:
        raise RuntimeError(f"{DEMO_CONFIG}: expected one publish_root line, found {replaced}")
    config.write_text(text, encoding="utf-8")
    return config
