"""Importing flows changes nothing; the process start prepares Prefect's environment."""

import os
import subprocess
import sys
from pathlib import Path

from flows.environment import PREFECT_DEFAULTS, prepare_prefect

REPO = Path(__file__).resolve().parents[2]
IMPORT_EVERY_FLOWS_MODULE = """
import importlib, json, os, pkgutil, sys
import flows
for module in pkgutil.walk_packages(flows.__path__, "flows."):
    importlib.import_module(module.name)
print(json.dumps(sorted(k for k in os.environ if k.startswith("PREFECT_") or k == "DO_NOT_TRACK")))
"""


def test_importing_every_flows_module_sets_no_variable_and_creates_no_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISM_")) and k != "DO_NOT_TRACK"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERY_FLOWS_MODULE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []


def test_prepare_prefect_sets_home_and_quiet_defaults_but_keeps_what_the_caller_chose(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("PREFECT_HOME", "ISM_WORK_DIR", *PREFECT_DEFAULTS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    monkeypatch.chdir(tmp_path)
    home = prepare_prefect()
    assert home == tmp_path / ".ism" / "prefect" and home.is_dir()
    assert os.environ["PREFECT_HOME"] == str(home)
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"


def test_prepare_prefect_uses_the_work_folder_or_the_home_given(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.setenv("ISM_WORK_DIR", str(tmp_path / "work"))
    assert prepare_prefect() == tmp_path / "work" / "prefect"
    monkeypatch.delenv("PREFECT_HOME")
    assert prepare_prefect(tmp_path / "elsewhere") == tmp_path / "elsewhere"
