"""Tests that need ../shared/data or a system program skip on a developer's machine and fail under CI=true."""

import pytest

from tests.conftest import SYSTEM_PROGRAMS, require


def test_a_missing_dependency_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is absent"):
        require(False, "chromium is absent")


def test_a_missing_dependency_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="soffice is absent .CI=true"):
        require(None, "soffice is absent")


def test_a_present_dependency_runs_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require(["/usr/lib/postgresql/16/bin/initdb"], "postgres")


def test_every_system_program_marker_is_registered(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(SYSTEM_PROGRAMS) <= registered
