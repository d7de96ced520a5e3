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
JOINING_WORDS = {"and", "of", "the", "for", "at", "in", "on", "to", "by"}  # kept lower case inside a title


def toml_value(value: Any) -> str:
    """A TOML string, number or inline table for a plain value (JSON's escapes are TOML's)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


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


def source_block(profile: TableProfile, source_id: str, partner: str, location: str,
                 period: tuple[str, str], lanes: set[str]) -> list[str]:
    """One commented `[[sources]]` for a profiled table; a source whose periods reach outside the map `period`
    (first and last month) counts those rows as clipped rather than rejecting them."""
    comments = profile_comments(profile) if profile.kind != "hsds" else [
        f"# {profile.location}: Open Referral HSDS ({'a folder' if profile.rows == 0 else f'{profile.rows} records'})"
        "; it yields organisations and services itself"]
    lines = ["", *comments, "[[sources]]", f"id = {toml_value(source_id)}",
             f"partner = {toml_value(partner)}", f"kind = {toml_value(profile.kind)}",
             f"location = {toml_value(location)}"]
    if profile.kind == "hsds":
        return [*lines, 'constants = { sector = "third_sector", lane = "third_sector" }  # check: its organisations\' '
                'sector, its services\' lane']
    from flows.cli.suggest import suggested_mapping  # as `sources.profile` in `init`: off the CLI's start-up

    found = suggested_mapping(profile, lanes)
    lines.append(f"table = {toml_value(found.table)}  # suggested: or organisations, initiatives")
    if profile.options:
        lines.append(f"options = {toml_value(profile.options)}")
    if found.where:
        lines.append(f"where = {toml_value(found.where)}  # suggested: the total rows, one per key and period")
    if found.unpivot:
        lines.append(f"unpivot = {toml_value(found.unpivot)}  # suggested: a measure per value column")
    lines.append(f"columns = {toml_value(found.columns)}  # suggested: check against the profile")
    if found.constants:
        lines.append(f"constants = {toml_value(found.constants)}")
    lines += [f"codes.{column} = {toml_value(codes)}  # guessed: check" for column, codes in found.codes.items()]
    used = next((c for c in profile.periods if c.name in found.columns.values()), None)
    if used and used.minimum and used.maximum and (used.minimum[:7] < period[0] or used.maximum[:7] > period[1]):
        lines.append("clip_to_map_period = true  # rows outside the map period are counted, not rejected")
    return [*lines, *found.notes]


def partner_of(profile: TableProfile, folder: Path) -> str:
    """The partner a table belongs to: its first subfolder, or the folder's own name for files at the top."""
    parts = profile.location.parts
    return slug(parts[0] if len(parts) > 1 else folder.resolve().name, "partner").replace("-", "_")


def sector_of(partner: str) -> str:
    return next((sector for sector, words in SECTOR_WORDS if re.search(words, partner)), "other")


def spoken(name: str) -> str:
    """A file or folder name as a title: short words as the initials they mostly are (`nhs_glenmuir_gp` ->
    "NHS Glenmuir GP", `phs` -> "PHS"), joining words in lower case."""
    def word(text: str, first: bool) -> str:
        if text.lower() in JOINING_WORDS:
            return text.capitalize() if first else text.lower()
        return text.upper() if len(text) <= 3 else text.capitalize()

    return " ".join(word(w, i == 0) for i, w in enumerate(w for w in re.split(r"[_\-\s]+", name) if w))


def map_period(profiles: list[TableProfile]) -> tuple[str, str, str]:
    """The map's first and last month: the last twelve the extracts cover (a map shows one year, not all the
    history a national file holds), else the last financial year; and what the extracts cover, in words."""
    months = sorted(m[:7] for p in profiles for c in p.periods for m in (c.minimum, c.maximum) if m)
    if not months:
        today = date.today()
        return f"{today.year - 1}-04", f"{today.year}-03", "no months found: set them"
    end_year, end_month = map(int, months[-1].split("-"))
    back = end_year * 12 + end_month - 1 - 11
    start = max(months[0], f"{back // 12:04d}-{back % 12 + 1:02d}")
    covered = "the months the extracts cover" if start == months[0] else \
        f"the last 12 months the extracts cover (they cover {months[0]}..{months[-1]})"
    return start, months[-1], covered


def map_header(folder: Path, profiles: list[TableProfile], period: tuple[str, str, str]) -> list[str]:
    """The map-level tables: id, title, area, period and starter lanes."""
    name = folder.resolve().name if folder.resolve().name not in ("extracts", "data") else folder.resolve().parent.name
    codes = Counter(code for p in profiles for code in p.area_codes)
    start, end, covered = period
    code = codes.most_common(1)[0][0] if codes else "S37000000"
    lines = [f"# A starter map config written by `ism init {folder}` from {len(profiles)} profiled tables.",
             "# Every [[sources]] below is a suggestion: check its table and columns against the profile above it,",
             "# map the codes (lane, measure) and remove what the map does not need; `ism validate` then checks it.",
             "", f"map_id = {toml_value(slug(name, 'map').replace('-', '_'))}",
             f"title = {toml_value(spoken(name))}",
             'population = "Who the map is about, e.g. adults (18+) living in the area"  # check', "",
             "[area]", f"code = {toml_value(code)}  # " + ("found in the extracts: check" if codes else
                                                          "not found in the extracts: set your HSCP's S37 code"),
             'name = "Health and Social Care Partnership"  # check', "",
             f"[period]  # {covered}",
             f"start = {toml_value(start)}", f"end = {toml_value(end)}"]
    for lane_id, label, colour in STARTER_LANES:
        lines += ["", "[[lanes]]", f"id = {toml_value(lane_id)}", f"label = {toml_value(label)}",
                  f"colour = {toml_value(colour)}"]
    return lines


def starter_config(folder: Path, profiles: list[TableProfile], config_folder: Path) -> str:
    """The text of a starter map config for the profiled tables; locations relative to `config_folder`."""
    period = map_period(profiles)
    lines = map_header(folder, profiles, period)
    lanes = {lane_id for lane_id, _, _ in STARTER_LANES}
    if not folder.resolve().is_relative_to(config_folder.resolve()):  # sources may only read where they are allowed
        relative = Path(os.path.relpath(folder.resolve(), config_folder.resolve())).as_posix()
        lines.insert(lines.index("[area]"), f"allowed_roots = [{toml_value(relative)}]  # the extracts' folder\n")
    partners = sorted({partner_of(p, folder) for p in profiles})
    for partner in partners:
        lines += ["", f"[partners.{partner}]", f"name = {toml_value(spoken(partner))}  # check",
                  f"sector = {toml_value(sector_of(partner))}  # check"]
    used: Counter[str] = Counter()
    for profile in profiles:
        part = profile.options.get("sheet") or profile.options.get("records_path") or ""
        stem = slug(f"{profile.location.stem}-{part}", "source").replace("-", "_")
        stem = stem if stem[0].isalpha() else f"source_{stem}"
        used[stem] += 1
        source_id = stem if used[stem] == 1 else f"{stem}_{used[stem]}"
        location = Path(os.path.relpath((folder / profile.location).resolve(), config_folder.resolve())).as_posix()
        lines += source_block(profile, source_id, partner_of(profile, folder), location, period[:2], lanes)
    return "\n".join(lines) + "\n"


def init(folder: FolderArg, out: OutOpt = Path(CONFIG_FILE), force: ForceOpt = False) -> None:
    """Profile a folder of extracts (encoding, delimiter, columns, types, candidate keys, periods, likely measures)
    and write a starter map config with one commented \\[\\[sources]] per table and suggested column mappings."""
    from flows.config import load_config
    from sources.profile import profiled_folder

    try:
        if out.exists() and not force:
            raise ConfigError(f"{out} exists; choose another --out or pass --force to replace it")
        unreadable: list[str] = []
        profiles = profiled_folder(folder, lambda error: unreadable.append(str(error)))
        if not profiles:
            raise ConfigError(f"{folder}: no extract could be profiled: {'; '.join(unreadable)}" if unreadable else
                              f"{folder}: no CSV, Excel (.xlsx), JSON or HSDS extracts found")
        text = starter_config(folder, profiles, out.resolve().parent)
        text += "".join(f"\n# not profiled: {problem}" for problem in unreadable) + ("\n" if unreadable else "")
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
    for problem in unreadable:
        typer.echo(f"ism: warning: not profiled: {problem}", err=True)
    partners = len(config.partners)
    typer.echo(f"profiled {len(profiles)} tables from {partners} partner{'s' * (partners != 1)}"
               + (f" ({len(unreadable)} file(s) not profiled, listed at the end of the config)" if unreadable else "")
               + f"; wrote {out}", err=True)
    typer.echo(out)
