"""The built wheel, installed into a fresh virtual environment (its dependencies this environment's), runs the demo
map: the demo config, its extracts and the code digest come from the installed packages, not from a checkout."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from examples import DEMO_CONFIG
from flows.config import load_config
from flows.source_cache import code_digest, config_digest, source_key_before_reading
from tests.conftest import require

REPO = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.wheel
def test_the_wheel_installed_in_a_fresh_venv_refreshes_the_demo_from_its_package_data(prefect_server: None,
                                                                                      tmp_path: Path) -> None:
    require(UV, "uv is not installed (make .venv/bin/ism installs it into .venv)")
    assert UV is not None
    _run([UV, "build", "--quiet", "--out-dir", str(tmp_path / "dist"), str(REPO)], cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("ism-*.whl")
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    # the locked dependencies are this environment's (installed from requirements.lock, compiled): installing them
    # again, then compiling them on first import, made this test 69 s against 25 s; ism comes only from the wheel
    (site_packages,) = venv.glob("lib/python*/site-packages")
    (site_packages / "locked_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([UV, "pip", "install", "--quiet", "--python", str(python), "--no-deps", str(wheel)], cwd=tmp_path)

    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISM_", "PREFECT_", "PYTHON"))}
    env["PREFECT_API_URL"] = PREFECT_API_URL.value()  # the session's server: a temporary one is tested elsewhere
    installed = _run([str(python), "-c", "import flows, examples; print(flows.__file__, examples.__file__)"],
                     cwd=run, env=env).split()
    assert all(Path(path).is_relative_to(venv) for path in installed), installed

    result = json.loads(_run([str(venv / "bin" / "ism"), "demo", "glenmuir", "--json"], cwd=run, env=env))
    assert result["status"] == "published"
    version = Path(result["path"])
    assert version.is_relative_to(run / "glenmuir" / "published")
    manifest = json.loads((version / "version.json").read_text())
    assert manifest["content_hash"] == result["content_hash"]
    # the same inputs as the checkout's demo (config, every source's files and the code): the same content
    config = load_config(DEMO_CONFIG)
    assert manifest["inputs"]["code"] == code_digest()
    assert manifest["inputs"]["config_digest"] == config_digest(config)
    assert manifest["inputs"]["sources"] == {s.id: source_key_before_reading(config, s) for s in config.sources}
    assert (run / ".ism" / "prefect").is_dir()  # Prefect's home: prepared by the entry point, in the work folder
