"""Finding what a person names on the command line or in a change-set: a service (by service_id, `partner:key`,
an external id `scheme:value` or its name) and a lane (by id or label). One lookup for every command."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from expectations.canonical import LIST_SEPARATOR
from expectations.errors import UnknownReferenceError
from transforms.consolidate import service_id as partner_service_id


def resolved_service(query: str, services: pd.DataFrame) -> str:
    """The service_id a planner means by `query`: a service_id, `partner:key` (the partner's own key), an external
    id `scheme:value`, or a unique case-insensitive name. Unknown or ambiguous raises one line with close matches."""
    text = query.strip()
    ids = set(services["service_id"])
    if text in ids:
        return text
    if ":" in text:
        namespace, _, key = text.partition(":")
        derived = partner_service_id(namespace.strip(), key.strip())
        if derived in ids:
            return derived
        external = [sid for sid, ext in zip(services["service_id"], services["external_ids"], strict=True)
                    if isinstance(ext, str) and text.lower() in (e.strip().lower() for e in ext.split(LIST_SEPARATOR))]
        if len(external) == 1:
            return external[0]
    named = services[services["name"].str.strip().str.lower() == text.lower()]
    if len(named) == 1:
        return str(named["service_id"].iloc[0])
    if len(named) > 1:
        listed = ", ".join(sorted(named["service_id"]))
        raise UnknownReferenceError(f"service name {query!r} is ambiguous: {len(named)} services share it "
                                    f"({listed}); name one by its service_id")
    raise UnknownReferenceError(f"unknown service {query!r}{_close_matches(text, services)}")


def _close_matches(text: str, services: pd.DataFrame) -> str:
    names = {str(name).lower(): f"{name!r} ({sid})" for sid, name in zip(services["service_id"], services["name"],
                                                                         strict=True)}
    found = [names[n] for n in sorted(names) if text.lower() in n][:3]
    found += [names[n] for n in difflib.get_close_matches(text.lower(), list(names), n=3, cutoff=0.5)
              if names[n] not in found]
    if not found:
        return "; use a service_id, partner:key, an external id scheme:value or the service's name"
    return "; close matches: " + ", ".join(found[:5])


def resolved_lane(query: str, lanes: Mapping[str, str]) -> str:
    """The lane id meant by `query` (a lane id or label, case-insensitive); `lanes` maps id -> label."""
    text = query.strip().lower()
    for lane_id, label in lanes.items():
        if text in (lane_id.lower(), lane_id.lower().replace("_", " "), label.lower()):
            return lane_id
    close = difflib.get_close_matches(text, [*lanes, *(label.lower() for label in lanes.values())], n=3, cutoff=0.5)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise UnknownReferenceError(f"unknown lane {query!r}{hint}; lanes: {', '.join(lanes)}")
