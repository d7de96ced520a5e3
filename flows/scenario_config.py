"""The change-set file of a to-be scenario (TOML), validated with pydantic into `transforms.scenario.ChangeSet`.

A mistake gives one line naming the file, the key, what was found and what is allowed.

    title = "To-be: frailty hospital at home"
    map = "ism.toml"                      # the map config, relative to this file (default: the demo map)
    [[add]]        key, name, lane, organisation, setting?, activity? = { measure = total over the period }
    [[reroute]]    from, to, instead_to, share (0 < share <= 1)
    [[merge]]      services = [two or more], name?, lane?
    [[change_lane]] service, lane
    [[remove]]     service

Services are named by `partner:key` (the partner's own key), an external id `scheme:value`, a service_id, or
the service's exact name; an added service also by `scenario:<key>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from examples import DEMO_CONFIG
from expectations.canonical import MEASURE_PATTERN
from expectations.errors import ConfigError
from flows.config import IDENTIFIER, _one_line, read_toml
from transforms.scenario import ChangeSet, LaneChange, Merge, NewService, Removal, Reroute


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AddEntry(_Model):
    key: str = Field(pattern=IDENTIFIER)
    name: str = Field(min_length=1)
    lane: str
    organisation: str
    setting: str | None = None
    activity: dict[Annotated[str, Field(pattern=MEASURE_PATTERN)], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict)


class RerouteEntry(_Model):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    instead_to: str
    share: float = Field(gt=0, le=1)


class MergeEntry(_Model):
    services: list[str] = Field(min_length=2)
    name: str | None = None
    lane: str | None = None


class LaneEntry(_Model):
    service: str
    lane: str


class RemoveEntry(_Model):
    service: str


class ChangeSetFile(_Model):
    title: str
    map: str | None = None
    description: str | None = None
    add: list[AddEntry] = Field(default_factory=list)
    reroute: list[RerouteEntry] = Field(default_factory=list)
    merge: list[MergeEntry] = Field(default_factory=list)
    change_lane: list[LaneEntry] = Field(default_factory=list)
    remove: list[RemoveEntry] = Field(default_factory=list)


def load_change_set(path: str | Path) -> tuple[ChangeSet, Path]:
    """The change-set and the map config it applies to; every mistake raises ConfigError with one line."""
    path = Path(path)
    raw = read_toml(path, "change-set")
    try:
        parsed = ChangeSetFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_one_line(path, error)) from None
    if not any((parsed.add, parsed.reroute, parsed.merge, parsed.change_lane, parsed.remove)):
        raise ConfigError(f"{path}: the change-set changes nothing; add [[add]], [[reroute]], [[merge]], "
                          "[[change_lane]] or [[remove]] entries")
    config = (path.parent / parsed.map).resolve() if parsed.map else DEMO_CONFIG
    change_set = ChangeSet(
        title=parsed.title,
        add=tuple(NewService(e.key, e.name, e.lane, e.organisation, e.setting, dict(e.activity), f"add[{i}]")
                  for i, e in enumerate(parsed.add)),
        reroute=tuple(Reroute(e.source, e.target, e.instead_to, e.share, f"reroute[{i}]")
                      for i, e in enumerate(parsed.reroute)),
        merge=tuple(Merge(tuple(e.services), e.name, e.lane, f"merge[{i}]") for i, e in enumerate(parsed.merge)),
        change_lane=tuple(LaneChange(e.service, e.lane, f"change_lane[{i}]") for i, e in enumerate(parsed.change_lane)),
        remove=tuple(Removal(e.service, f"remove[{i}]") for i, e in enumerate(parsed.remove)),
    )
    return change_set, config
