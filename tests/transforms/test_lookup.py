"""The one service and lane lookup, on the hand-built five-service map (tests/transforms/analysis_map.py)."""

from __future__ import annotations

import pytest

from expectations.errors import UnknownReferenceError
from tests.transforms.analysis_map import B, map_tables
from transforms.lookup import resolved_lane, resolved_service


def test_services_are_named_by_id_partner_key_external_id_or_name() -> None:
    services = map_tables()["services"]
    assert resolved_service(B, services) == B
    assert resolved_service("nhs:B", services) == B
    assert resolved_service("phs_location:z101h", services) == B
    assert resolved_service("  bravo ", services) == B
    with pytest.raises(UnknownReferenceError, match=r"unknown service 'Brav'; close matches: 'Bravo' \(svc_"):
        resolved_service("Brav", services)
    twins = services.assign(name=["Alpha", "Bravo", "Bravo", "Delta", "Echo"])
    with pytest.raises(UnknownReferenceError, match="ambiguous: 2 services share it"):
        resolved_service("bravo", twins)
    assert resolved_lane("Acute care", {"acute": "Acute care"}) == "acute"
    with pytest.raises(UnknownReferenceError, match="unknown lane 'acut'; close matches: acute"):
        resolved_lane("acut", {"acute": "Acute care"})
