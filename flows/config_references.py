"""Cross-references inside a map config, checked when it loads: every source id and lane id unique, every partner,
lane and source a key names declared. Each mistake is one line: the key, what was found, what is allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.config import MapConfig


def _listed(values: list[str] | set[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def _repeated(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def reference_errors(config: MapConfig) -> list[str]:
    """Every broken reference of the config, one line each ("key: what is wrong (found ...; allowed: ...)")."""
    lanes = [lane.id for lane in config.lanes]
    ids = [source.id for source in config.sources]
    errors = [f"sources: source ids must be unique; repeated: {', '.join(_repeated(ids))}"] if _repeated(ids) else []
    if _repeated(lanes):
        errors.append(f"lanes: lane ids must be unique; repeated: {', '.join(_repeated(lanes))}")
    partners = set(config.partners)
    for index, source in enumerate(config.sources):
        key = f"sources[{index}]"
        if source.partner not in partners:
            errors.append(f"{key}.partner: source {source.id!r} names partner {source.partner!r}, which is not in "
                          f"[partners]; known: {_listed(partners)}")
        for code, lane in source.codes.get("lane", {}).items():
            if lane not in lanes:
                errors.append(f"{key}.codes.lane.{code}: lane {lane!r} is not a lane of the map; allowed: "
                              f"{_listed(lanes)}")
        declared: list[tuple[str, object]] = [("constants.lane", source.constants.get("lane")),
                                              ("codes_default.lane", source.codes_default.get("lane"))]
        for where, value in declared:
            if value is not None and value not in lanes:
                errors.append(f"{key}.{where}: lane {value!r} is not a lane of the map; allowed: {_listed(lanes)}")
        for column in [*source.codes_keep_unlisted, *source.codes_default]:
            if column not in source.codes:
                errors.append(f"{key}: codes_keep_unlisted / codes_default name {column!r}, which has no `codes` "
                              f"table on this source; codes are mapped for: {_listed(set(source.codes))}")
        for column in set(source.codes_keep_unlisted) & set(source.codes_default):
            errors.append(f"{key}: codes for {column!r} both keep unlisted codes and give them a default; "
                          "choose one")
        for number, lookup in enumerate(source.lookups):
            if lookup.source is not None and (lookup.source not in ids or lookup.source == source.id):
                errors.append(f"{key}.lookups[{number}].source: {lookup.source!r} is not another source of the "
                              f"map; allowed: {_listed(set(ids) - {source.id})}")
    for index, initiative in enumerate(config.initiatives):
        if initiative.lead_partner is not None and initiative.lead_partner not in partners:
            errors.append(f"initiatives[{index}].lead_partner: {initiative.lead_partner!r} is not in [partners]; "
                          f"known: {_listed(partners)}")
    return errors
