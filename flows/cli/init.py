"""`ism init FOLDER`: profile a folder of partner extracts and write a starter map config, one commented
`[[sources]]` per table with the column mappings the profile suggests. The person then checks each suggestion."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from expectations.errors import ConfigError, IsmError
from flows.cli.common import CONFIG_FILE, fail, fail_writing
from flows.cli.present import slug

if TYPE_CHECKING:
    from sources.profile import TableProfile

FolderArg = Annotated[Path, typer.Argument(
    metavar="FOLDER", help="The folder of extracts, one subfolder per partner (or one partner's files).",
    show_default=False)]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write the config (locations are relative to it).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the config if it exists.")]

# The lanes of a health and social care system, from prevention at home to long-term care: a start to edit.
STARTER_LANES = (("prevention_community", "Home, self-care and prevention", "#b3de69"),
                 ("third_sector", "Third sector and community support", "#8dd3c7"), ("housing", "Housing", "#ffffb3"),
                 ("primary_care", "Primary care", "#80b1d3"), ("urgent_care", "Urgent and emergency care", "#fb8072"),
                 ("acute", "Acute hospital", "#bebada"),
                 ("intermediate_care", "Intermediate care and community health", "#fdb462"),
                 ("social_care", "Social care", "#fccde5"), ("care_homes", "Care homes", "#bc80bd"))
SECTOR_WORDS = (("housing", r"housing"), ("third_sector", r"third|voluntary|charit|tsi"),
                ("local_authority", r"council|social|authority"), ("independent", r"care_home|lodge|ltd|care\b"),
                ("national", r"national|phs|111|triage"), ("nhs", r"nhs|acute|hospital|gp|ambulance|health"))
FROM_WORDS = re.compile(r"\b(from|source|referr(er|ing|ed from)|discharging|origin)\b|^from", re.IGNORECASE)
TO_WORDS = re.compile(r"\b(to|destination|dest|disposition|receiving|referred to)\b|^to", re.IGNORECASE)
KEY_WORDS = re.compile(r"code|key|\bid\b|_id$|ref|unit|team|service|practice|home|resource", re.IGNORECASE)
NAME_WORDS = re.compile(r"name", re.IGNORECASE)
LANE_WORDS = re.compile(r"type|category|group|lane", re.IGNORECASE)
MEASURE_WORDS = re.compile(r"^(measure|metric|indicator|contact type)$", re.IGNORECASE)


def toml_value(value: Any) -> str:
    """A TOML string, number or inline table for a plain value (JSON's escapes are TOML's)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _first(names: list[str], pattern: re.Pattern[str], taken: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    return next((n for n in names if pattern.search(n) and n not in taken), None)


def suggested_mapping(profile: TableProfile) -> tuple[str, dict[str, str], dict[str, str]]:
    """The staged table a profile looks like (services, activity or flows), its suggested columns (canonical ->
    raw) and constants."""
    names = [c.name for c in profile.columns]
    text = [c.name for c in profile.columns if c.type == "text"]
    period = profile.periods[0].name if profile.periods else None
    value = profile.measures[0] if profile.measures else _first(names, re.compile(r"value|count", re.IGNORECASE))
    measure_column = _first(text, MEASURE_WORDS)
    constants = {} if measure_column or not value else {"measure": slug(value, "count").replace("-", "_")}
    target = _first(text, TO_WORDS)
    source = _first(text, FROM_WORDS, {target or ""}) or _first(text, KEY_WORDS, {target or "", measure_column or ""})
    if period and value and source and target:
        return "flows", _without_none({"from_key": source, "to_key": target, "period": period, "value": value,
                                       "measure": measure_column}), constants
    if period and value:
        key = _first(text, KEY_WORDS, {measure_column or ""}) or next(iter(text), None)
        return "activity", _without_none({"service_key": key, "period": period, "measure": measure_column,
                                          "value": value}), constants
    keys = profile.candidate_keys
    key = _first(keys, KEY_WORDS) or next(iter(keys), None) or next(iter(text), None)
    columns = {"service_key": key, "name": _first(text, NAME_WORDS, {key or ""}),
               "lane": _first(text, LANE_WORDS, {key or ""})}
    return "services", _without_none(columns), {}


def _without_none(columns: dict[str, str | None]) -> dict[str, str]:
    return {canonical: raw for canonical, raw in columns.items() if raw is not None}


def profile_comments(profile: TableProfile) -> list[str]:
    """What the profile found, as TOML comments above the source."""
    where = f"{profile.location}" + (f" sheet {profile.options['sheet']!r}" if "sheet" in profile.options else "") + \
        (f" records {profile.options['records_path']!r}" if profile.options.get("records_path") else "")
    lines = [f"# {where}: {profile.rows:,} rows" + (" (first rows profiled)" if profile.truncated else "")
             + "".join(f", {k} {v!r}" for k, v in profile.options.items() if k in ("encoding", "delimiter"))]
    for column in profile.columns:
        examples = ", ".join(repr(e) for e in column.examples)
        span = f" {column.minimum}..{column.maximum}" if column.minimum else ""
        lines.append(f"#   {column.name!r}: {column.type}{span}, {column.distinct:,} distinct, "
                     f"{column.blanks:,} blank; e.g. {examples}")
    if profile.candidate_keys:
        lines.append(f"#   candidate keys: {', '.join(map(repr, profile.candidate_keys))}")
    if profile.measures:
        lines.append(f"#   likely measures: {', '.join(map(repr, profile.measures))}")
    return lines


def source_block(profile: TableProfile, source_id: str, partner: str, location: str) -> list[str]:
    """One commented `[[sources]]` for a profiled table."""
    comments = profile_comments(profile) if profile.kind != "hsds" else [
        f"# {profile.location}: an Open Referral HSDS folder; it yields organisations and services itself"]
    lines = ["", *comments, "[[sources]]", f"id = {toml_value(source_id)}",
             f"partner = {toml_value(partner)}", f"kind = {toml_value(profile.kind)}",
             f"location = {toml_value(location)}"]
    if profile.kind == "hsds":
        return [*lines, 'constants = { lane = "third_sector" }  # check: the lane of its services']
    table, columns, constants = suggested_mapping(profile)
    lines.append(f"table = {toml_value(table)}  # suggested: or organisations, initiatives")
    if profile.options:
        lines.append(f"options = {toml_value(profile.options)}")
    lines.append(f"columns = {toml_value(columns)}  # suggested: check against the profile")
    if constants:
        lines.append(f"constants = {toml_value(constants)}")
    return lines


def partner_of(profile: TableProfile, folder: Path) -> str:
    """The partner a table belongs to: its first subfolder, or the folder's own name for files at the top."""
    parts = profile.location.parts
    return slug(parts[0] if len(parts) > 1 else folder.resolve().name, "partner").replace("-", "_")


def sector_of(partner: str) -> str:
    return next((sector for sector, words in SECTOR_WORDS if re.search(words, partner)), "other")


def map_header(folder: Path, profiles: list[TableProfile]) -> list[str]:
    """The map-level tables: id, title, area, period and starter lanes."""
    name = folder.resolve().name if folder.resolve().name not in ("extracts", "data") else folder.resolve().parent.name
    codes = Counter(code for p in profiles for code in p.area_codes)
    months = sorted(m[:7] for p in profiles for c in p.periods for m in (c.minimum, c.maximum) if m)
    today = date.today()
    start = months[0] if months else f"{today.year - 1}-04"
    end = months[-1] if months else f"{today.year}-03"
    code = codes.most_common(1)[0][0] if codes else "S37000000"
    lines = [f"# A starter map config written by `ism init {folder}` from {len(profiles)} profiled tables.",
             "# Every [[sources]] below is a suggestion: check its table and columns against the profile above it,",
             "# map the codes (lane, measure) and remove what the map does not need; `ism validate` then checks it.",
             "", f"map_id = {toml_value(slug(name, 'map').replace('-', '_'))}",
             f"title = {toml_value(name.replace('_', ' ').replace('-', ' ').capitalize())}",
             'population = "Who the map is about, e.g. adults (18+) living in the area"  # check', "",
             "[area]", f"code = {toml_value(code)}  # " + ("found in the extracts: check" if codes else
                                                          "not found in the extracts: set your HSCP's S37 code"),
             'name = "Health and Social Care Partnership"  # check', "",
             "[period]  # the months the extracts cover" if months else "[period]  # no months found: set them",
             f"start = {toml_value(start)}", f"end = {toml_value(end)}"]
    for lane_id, label, colour in STARTER_LANES:
        lines += ["", "[[lanes]]", f"id = {toml_value(lane_id)}", f"label = {toml_value(label)}",
                  f"colour = {toml_value(colour)}"]
    return lines


def starter_config(folder: Path, profiles: list[TableProfile], config_folder: Path) -> str:
    """The text of a starter map config for the profiled tables; locations relative to `config_folder`."""
    lines = map_header(folder, profiles)
    if not folder.resolve().is_relative_to(config_folder.resolve()):  # sources may only read where they are allowed
        relative = Path(os.path.relpath(folder.resolve(), config_folder.resolve())).as_posix()
        lines.insert(lines.index("[area]"), f"allowed_roots = [{toml_value(relative)}]  # the extracts' folder\n")
    partners = sorted({partner_of(p, folder) for p in profiles})
    for partner in partners:
        lines += ["", f"[partners.{partner}]", f"name = {toml_value(partner.replace('_', ' ').title())}  # check",
                  f"sector = {toml_value(sector_of(partner))}  # check"]
    used: Counter[str] = Counter()
    for profile in profiles:
        part = profile.options.get("sheet") or profile.options.get("records_path") or ""
        stem = slug(f"{profile.location.stem}-{part}", "source").replace("-", "_")
        stem = stem if stem[0].isalpha() else f"source_{stem}"
        used[stem] += 1
        source_id = stem if used[stem] == 1 else f"{stem}_{used[stem]}"
        location = Path(os.path.relpath((folder / profile.location).resolve(), config_folder.resolve())).as_posix()
        lines += source_block(profile, source_id, partner_of(profile, folder), location)
    return "\n".join(lines) + "\n"


def init(folder: FolderArg, out: OutOpt = Path(CONFIG_FILE), force: ForceOpt = False) -> None:
    """Profile a folder of extracts (encoding, delimiter, columns, types, candidate keys, periods, likely measures)
    and write a starter map config with one commented \\[\\[sources]] per table and suggested column mappings."""
    from flows.config import load_config
    from sources.profile import profiled_folder

    try:
        if out.exists() and not force:
            raise ConfigError(f"{out} exists; choose another --out or pass --force to replace it")
        profiles = profiled_folder(folder)
        if not profiles:
            raise ConfigError(f"{folder}: no CSV, Excel (.xlsx), JSON or HSDS extracts found")
        text = starter_config(folder, profiles, out.resolve().parent)
        out.parent.mkdir(parents=True, exist_ok=True)
        draft = out.with_name(f".{out.name}.draft")  # beside it, so relative locations resolve the same
        draft.write_text(text, encoding="utf-8")
        try:
            config = load_config(draft)  # what it writes must load
            draft.replace(out)
        finally:
            draft.unlink(missing_ok=True)
    except IsmError as error:
        fail(error)
    except OSError as error:
        fail_writing("config", error)
    typer.echo(f"profiled {len(profiles)} tables from {len(config.partners)} partners; wrote {out}", err=True)
    typer.echo(out)
