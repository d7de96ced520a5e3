"""Shared fixtures: where the real reference data lives."""

from pathlib import Path

import pytest


@pytest.fixture
def shared_data() -> Path:
    """The real open data in ../shared/data beside the repo; tests that need it skip when it is absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is absent: real-data tests need the shared folder beside the repo")
    return path
