"""The map config: one TOML file per map, validated with pydantic into `MapConfig` (its parts live in
flows/config_settings.py, flows/config_sources.py and flows/config_steps.py).

Every mistake gives one line naming the file, the key, what was found and what is allowed; all of them at once.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from expectations.canonical import SECTORS
from expectations.errors import ConfigError, IsmError
from flows.config_measures import MeasuresSettings
from flows.config_references import reference_errors
from flows.config_settings import (  # noqa: F401  (re-exported: the config's parts are imported from here)
    IDENTIFIER,
    Area,
    ConfigModel,
    Disclosure,
    Initiative,
    Lane,
    Limits,
    Partner,
    Period,
    PosterSettings,
    PublishPolicy,
    Quality,
    Runner,
    Schedule,
)
from flows.config_sources import Source
from flows.config_steps import lookup_paths
from outputs.store.versions import MapStore
from sources import SourceRequest, kind_named
from sources.limits import SourceLimits

COLOUR = r"^#[0-9a-fA-F]{6}$"



OPERATIONAL_KEYS = {"path", "publish_root", "private_root", "schedule", "runner", "publish", "allowed_roots", "limits"}
"""Map config keys that say where, when and how a map is run, never what it contains (left out of content hashes)."""
OPERATIONAL_SOURCE_KEYS = {"retries", "retry_delay_seconds", "timeout_seconds", "max_bytes", "max_rows",
                           "max_field_length"}
ADDED_KEYS: set[str] = {"measures"}
"""Map config keys added after maps were published (such as a measure catalogue): left out of the dump while at
their defaults, so a config that does not use them keeps its digest and content hash. Add a new key's name here."""


class MapConfig(ConfigModel):
    map_id: str = Field(pattern=IDENTIFIER)
    title: str
    area: Area
    population: str
    period: Period
    publish_root: str = "published"
    # Working data with unsuppressed values (run files, source cache, last good extracts): kept out of the
    # publish root so that sharing published maps never shares it.
    private_root: str = ".ism"
    lanes: list[Lane] = Field(min_length=1)
    sectors: dict[str, str] = Field(default_factory=dict)  # sector -> colour
    partners: dict[str, Partner]
    sources: list[Source] = Field(min_length=1)
    initiatives: list[Initiative] = Field(default_factory=list)
    quality: Quality = Field(default_factory=Quality)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    limits: Limits = Field(default_factory=Limits)
    allowed_roots: list[str] = Field(default_factory=list)  # folders beyond the config's own that sources may read
    schedule: Schedule | None = None
    runner: Runner = Field(default_factory=Runner)
    publish: PublishPolicy = Field(default_factory=PublishPolicy)
    poster: PosterSettings = Field(default_factory=PosterSettings)
    measures: MeasuresSettings = Field(default_factory=MeasuresSettings)  # flows/config_measures.py
    path: Path = Field(default=Path("."), exclude=True)  # the config file, set on load

    @field_validator("sectors")
    @classmethod
    def _known_sectors(cls, value: dict[str, str]) -> dict[str, str]:
        for sector, colour in value.items():
            if sector not in SECTORS:
                raise ValueError(f"unknown sector {sector!r}; allowed: {', '.join(SECTORS)}")
            if not re.fullmatch(COLOUR, colour):
                raise ValueError(f"sector {sector!r} colour {colour!r} is not #rrggbb")
        return value

    @model_validator(mode="after")
    def _references(self) -> MapConfig:
        errors = reference_errors(self)
        if errors:
            raise ValueError("\n".join(errors))
        return self

    @model_serializer(mode="wrap")
    def _without_unused_added_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for key in ADDED_KEYS & set(dumped):
            if getattr(self, key) == _added_key_default(key):
                del dumped[key]
        return dumped

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def lane_ids(self) -> list[str]:
        return [lane.id for lane in self.lanes]

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise ConfigError(f"{self.path}: no source with id {source_id!r}")

    def publish_path(self) -> Path:
        return (self.folder / self.publish_root).resolve()

    def store(self, publish_root: str | Path | None = None) -> MapStore:
        """The map's store: versions under the (checked) publish root, working data under the private root."""
        root = self.checked_publish_root(publish_root)
        private = (self.folder / self.private_root).resolve()
        if private == root or root in private.parents:
            raise ConfigError(f"{self.path}: private_root {self.private_root!r} lies inside the publish root "
                              f"{root}; working data holds unsuppressed values and must stay apart")
        return MapStore(root, self.map_id, private)

    def request(self, source: Source) -> SourceRequest:
        """The source-kind request for one source, with its options validated by the kind."""
        kind = kind_named(source.kind)
        try:
            options = kind.options.model_validate(source.options)
        except ValidationError as error:
            index = next(i for i, each in enumerate(self.sources) if each is source)
            raise ConfigError(_one_line(self.path, error, prefix=f"sources[{index}].options")) from None
        return SourceRequest(
            source_id=source.id,
            location=(self.folder / source.location),
            table=source.table,
            options=options,
            folder=self.folder,
            limits=SourceLimits(int(source.max_bytes or self.limits.max_bytes),
                                source.max_rows or self.limits.max_rows,
                                source.max_field_length or self.limits.max_field_length),
        )

    def allowed_folders(self) -> list[Path]:
        """The real folders sources may read from: the config's own and its `allowed_roots`."""
        return [self.folder.resolve(), *((self.folder / root).resolve() for root in self.allowed_roots)]

    def source_paths(self, source: Source) -> dict[str, Path]:
        """Every path a source reads, by its config key: `location` and the kind's path options."""
        if kind_named(source.kind).describe is not None:
            return lookup_paths(self, source)  # a database: nothing on disk but its lookups
        options = self.request(source).options
        paths = {"location": self.folder / source.location, **lookup_paths(self, source)}
        for option in type(options).path_options:
            value = getattr(options, option)
            if value is not None:
                paths[f"options.{option}"] = self.folder / value
        return paths

    def checked_publish_root(self, publish_root: str | Path | None = None) -> Path:
        """The real publish root (the config's, or the one given); ConfigError when it lies inside a folder a
        source reads from, where published files would mix with partner data."""
        root = Path(publish_root).resolve() if publish_root else self.publish_path()
        for index, source in enumerate(self.sources):
            for key, path in self.source_paths(source).items():
                real = path.resolve()
                folder = real if real.is_dir() else real.parent
                if root.is_relative_to(folder):
                    raise ConfigError(
                        f"{self.path}: publish root {root} lies inside {folder}, the folder of source "
                        f"{source.id!r} (sources[{index}].{key}); publish outside the partners' data "
                        "(set publish_root or --publish-root)"
                    )
        return root


def check_contained_paths(config: MapConfig) -> None:
    """Every source location and option path must resolve (symlinks followed) inside the config's folder or an
    allowed root: a `..` or a symlink cannot lead a map config to read files elsewhere on the machine."""
    allowed = config.allowed_folders()
    for index, source in enumerate(config.sources):
        for key, path in config.source_paths(source).items():
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in allowed):
                raise ConfigError(
                    f"{config.path}: sources[{index}].{key}: source {source.id!r} reads {str(path)!r}, which resolves "
                    f"to {real}, outside the map config's folder {config.folder} and its allowed_roots; move the "
                    "extract inside, or add its folder to allowed_roots (relative to the config file)"
                )


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lines(path: Path, error: ValidationError, prefix: str = "") -> list[str]:
    """One line per mistake: "file: key: what is wrong (found ...)"; a cross-reference check of the whole config
    gives one line per broken reference, each naming its own key."""
    lines = []
    for each in error.errors():
        key = _location(tuple(each["loc"]))
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        message = each["msg"].removeprefix("Value error, ")
        found = each.get("input")
        shown = "" if each["type"] == "missing" or isinstance(found, dict | list | BaseModel) else f" (found {found!r})"
        if not key:  # the whole config: its lines name their keys
            lines += [f"{path}: {line}" for line in message.splitlines()]
        else:
            lines.append(f"{path}: {key}: {message}{shown}")
    return lines


def _one_line(path: Path, error: ValidationError, prefix: str = "") -> str:
    """Every mistake of `error`, one line each (the name is kept for its callers)."""
    return "\n".join(_lines(path, error, prefix))


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML document at `path` (`what` it should be, for the message when it is missing or unreadable)."""
    if not path.is_file():
        raise ConfigError(f"{path}: {what} not found (pass the path to {what}'s TOML file)")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from None


def load_config(path: str | Path) -> MapConfig:
    """Read and validate a map config; ConfigError lists every mistake, one clear line each. Each task of a run
    loads the config by path: a config already loaded in this process with the same bytes is not parsed again
    (a national map's 400 sources take ~0.5 s to validate, and each source's reading and staging load it)."""
    path = Path(path)
    if not path.is_file():
        read_toml(path, "map config")  # raises its clear error
    return _loaded(path, path.resolve(), hashlib.sha256(path.read_bytes()).hexdigest())


@lru_cache(maxsize=8)
def _loaded(path: Path, resolved: Path, content: str) -> MapConfig:
    raw = read_toml(path, "map config")
    try:
        config = MapConfig.model_validate({**raw, "path": resolved})
    except ValidationError as error:
        raise ConfigError(_one_line(path, error)) from None
    except IsmError as error:
        raise ConfigError(f"{path}: {error}") from None
    problems = []
    for source in config.sources:
        try:
            config.request(source)  # validates every kind's options up front
        except ConfigError as error:
            problems.append(str(error))
    if problems:
        raise ConfigError("\n".join(problems))
    check_contained_paths(config)
    return config


@cache
def _added_key_default(key: str) -> Any:
    """An added key's default, made once (pydantic inspects the factory's signature on every call)."""
    return MapConfig.model_fields[key].get_default(call_default_factory=True)
