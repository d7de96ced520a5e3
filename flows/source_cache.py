"""What a source's staged outcome depends on, as one key: its content hash, its config (kind options and mapping),
the map-wide settings staging reads, and the code that stages it. Equal keys give equal outcomes, so a source
whose key is cached is neither read nor validated again, and a run whose keys all equal the latest version's
recorded inputs is `unchanged`."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from flows.config import OPERATIONAL_KEYS, OPERATIONAL_SOURCE_KEYS, MapConfig, Source
from flows.config_steps import lookup_files
from outputs.store.cache import keep_file_digests, kept_file_digests
from sources import kind_named
from sources.base import fingerprint, lasting_digests, remember_digests, sha256_of

# the code a staged outcome depends on: reading, standardising, validating, and the flow's staging step
STAGING_CODE = ("sources", "transforms", "expectations", "flows/refresh.py", "flows/stage.py", "flows/staging.py",
                "flows/outcomes.py", "flows/config.py", "flows/config_settings.py", "flows/config_sources.py",
                "flows/config_steps.py", "flows/config_references.py", "flows/config_measures.py")


def _package_root(name: str) -> Path:
    """The folder holding the top-level package of `name`: the checkout, or site-packages for an installed wheel."""
    package = name.split("/")[0]
    return Path(str(files(package))).parent


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of the code that turns a source into its staged outcome, so a new release never reuses a stale cache.
    Files are named relative to their package's root, so a checkout and a wheel of the same code agree."""
    digest = hashlib.sha256()
    for name in STAGING_CODE:
        root = _package_root(name)
        path = root / name
        found = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".sql")) if path.is_dir() else [path]
        for file in found:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def config_digest(config: MapConfig) -> str:
    """Hash of everything in the config that shapes the content (not where, when or how the map is run)."""
    exclude: dict[str, Any] = {key: True for key in OPERATIONAL_KEYS}
    exclude["sources"] = {"__all__": OPERATIONAL_SOURCE_KEYS}
    text = config.model_dump_json(exclude=exclude)
    return hashlib.sha256(text.encode()).hexdigest()


def source_key(config: MapConfig, source: Source, content_sha256: str) -> str:
    """The key of one source's staged outcome: its content, its own config and the map-wide settings (lanes,
    period, partners, checks...) and code that staging depends on."""
    own = source.model_dump(mode="json", exclude=OPERATIONAL_SOURCE_KEYS)
    if source.lookups:  # the reference tables it looks up shape its staged rows too
        own["lookup_content"] = sha256_of([path for path in lookup_files(config, source) if path.exists()])
    return _digest({"content": content_sha256, "source": own, "map": _map_settings_digest(config),
                    "code": code_digest()})


def _map_settings_digest(config: MapConfig) -> str:
    """The digest of the map-wide settings staging reads, worked out once per loaded config (configs are frozen):
    a map of 400 sources would otherwise dump its settings 400 times per key."""
    with _MAP_SETTINGS_LOCK:  # sources are keyed from several threads
        found = _MAP_SETTINGS.get(id(config))  # an entry holds its config, so no other config has its id
        if found is None:
            found = (config, _digest(config.model_dump(mode="json", exclude={*OPERATIONAL_KEYS, "sources"})))
            _MAP_SETTINGS[id(config)] = found
            while len(_MAP_SETTINGS) > MAP_SETTINGS_KEPT:
                del _MAP_SETTINGS[next(iter(_MAP_SETTINGS))]
        return found[1]


MAP_SETTINGS_KEPT = 16
_MAP_SETTINGS: dict[int, tuple[MapConfig, str]] = {}
_MAP_SETTINGS_LOCK = threading.Lock()


def source_key_before_reading(config: MapConfig, source: Source) -> str | None:
    """The key from the source's files alone (hashing is cheap, parsing is not); None when only reading can tell
    (a database) or the files are missing."""
    content = fingerprint(kind_named(source.kind), config.request(source))
    return source_key(config, source, content) if content else None


def keys_before_reading(config: MapConfig, private: Path) -> dict[str, str | None]:
    """Every source's `source_key_before_reading`. The extracts' digests are taken from, and kept for, later
    processes in the map's private area (`private`): a refresh in a fresh process hashes only the files written
    since (bench L's 476 MiB of extracts took 0.6-1.0 s to hash in every process)."""
    began = time.monotonic_ns()
    remember_digests(kept_file_digests(private))
    keys = {source.id: source_key_before_reading(config, source) for source in config.sources}
    keep_file_digests(private, lasting_digests(used_since=began))
    return keys


def run_inputs(config: MapConfig, keys: dict[str, str]) -> dict[str, Any]:
    """What a version was built from, recorded in its manifest: the config digest and every source's key."""
    return {"config_digest": config_digest(config), "code": code_digest(),
            "sources": {source.id: keys.get(source.id) for source in config.sources}}


def inputs_complete(inputs: dict[str, Any]) -> bool:
    """Whether every source has a key (a source that could not be read has none, so its run is never skipped)."""
    return all(inputs["sources"].values())
