"""What every `ism` command shares: the config taken the same way, one exit code per kind of mistake, --version,
and nothing on stderr but ism's own lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.common import CONFIG_ENV, DEMO_CONFIG, config_path
from tests.conftest import write_mini_map

RUNNER = CliRunner()


def test_the_config_defaults_to_the_env_then_ism_toml_here_then_the_demo(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert config_path(None) == DEMO_CONFIG
    (tmp_path / "ism.toml").write_text("")
    assert config_path(None) == Path("ism.toml")
    monkeypatch.setenv(CONFIG_ENV, "/elsewhere/map.toml")
    assert config_path(None) == Path("/elsewhere/map.toml")
    assert config_path(Path("given.toml")) == Path("given.toml")


def test_every_command_takes_the_config_as_an_optional_positional_argument() -> None:
    for command in ("refresh", "validate", "versions", "show", "render", "impact", "stakeholders", "diff", "serve"):
        result = RUNNER.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "[CONFIG]" in result.stdout, command
        assert "--config" not in result.stdout, command


def test_versions_reads_ism_toml_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    config = write_mini_map(tmp_path)
    monkeypatch.chdir(config.parent)
    result = RUNNER.invoke(app, ["versions", "--json"])
    assert result.exit_code == 0, result.output
    assert '"map_id": "mini"' in result.stdout


def test_exit_codes_by_kind_of_mistake(tmp_path: Path) -> None:
    missing = RUNNER.invoke(app, ["versions", str(tmp_path / "missing.toml")])
    assert missing.exit_code == 2 and "map config not found" in missing.stderr
    config = write_mini_map(tmp_path)
    no_version = RUNNER.invoke(app, ["show", "latest", str(config)])
    assert no_version.exit_code == 1 and "has no published version yet" in no_version.stderr
    usage = RUNNER.invoke(app, ["impact", "--hops", "0", str(config)])
    assert usage.exit_code == 2  # --hops is at least 1 everywhere


def test_version_and_the_exit_codes_in_help() -> None:
    result = RUNNER.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("ism ") and result.stdout.strip() != "ism"
    text = RUNNER.invoke(app, ["--help"]).stdout
    for code in ("0 done", "1 the data failed a check", "2 a usage or config error", "3 a service, lane or version"):
        assert code in " ".join(text.split()), code


def test_help_flows_as_paragraphs_and_shows_brackets_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A docstring's line breaks are its source's wrapping, not the reader's: each command's summary is one line on
    a terminal wide enough for it, and a TOML table name such as [poster] is text, not markup."""
    monkeypatch.setenv("COLUMNS", "1000")
    listing = RUNNER.invoke(app, ["--help"]).stdout.splitlines()
    for command in app.registered_commands:
        summary = " ".join((command.callback.__doc__ or "").split("\n\n")[0].replace("`", "").replace("\\", "").split())
        assert any(summary in " ".join(line.split()) for line in listing), command.name
    assert "the map's [poster] page" in " ".join(RUNNER.invoke(app, ["render", "--help"]).stdout.split())


def test_no_library_warnings_on_stderr(tmp_path: Path) -> None:
    """A poster layout initialises fontconfig; ism's own process starts it with stderr closed."""
    code = ("import sys; from flows.cli import main; sys.argv = ['ism', '--version']; "
            "import pygraphviz; main()")
    layout = ("from flows.cli.quiet import fontconfig_initialised_quietly; fontconfig_initialised_quietly(); "
              "import pygraphviz as p; g = p.AGraph('digraph { a [label=\"Hello\"]; a -> b }'); g.layout(prog='dot')")
    env = {**os.environ, "ISM_WORK_DIR": str(tmp_path / ".ism")}
    for script in (code, layout):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr


def test_the_cli_keeps_hypothesis_out_and_pandera_still_validates() -> None:
    """A development install has Hypothesis (for the tests); pandera imports it for data synthesis, which ism
    never does: the `ism` process takes it as not installed, and its checks work as before."""
    code = ("import sys, atexit; from flows.cli import main; sys.argv = ['ism', '--version']\n"
            "def after():\n"
            "    import pandas as pd, pandera.pandas as pa\n"
            "    from pandera.strategies.base_strategies import HAS_HYPOTHESIS\n"
            "    schema = pa.DataFrameSchema({'n': pa.Column(int, pa.Check.ge(0))})\n"
            "    try:\n"
            "        schema.validate(pd.DataFrame({'n': [1, -1]}))\n"
            "    except pa.errors.SchemaError:\n"
            "        print('refused', HAS_HYPOTHESIS, 'hypothesis' in sys.modules and sys.modules['hypothesis'])\n"
            "atexit.register(after)\n"
            "main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "refused False None"


# A process ending with flows.cli.quick_exit(argv[1]): an object torn down at teardown says so, an exit handler
# says so, and output is left unflushed; with argv[2] a thread still writing argv[2] when the exit comes.
QUICK_EXIT = """
import atexit, sys, threading, time
from pathlib import Path
from flows.cli import quick_exit

class TornDown:
    def __del__(self):
        print("torn down", flush=True)

kept = TornDown()
atexit.register(print, " exit handler ran")
print("unflushed", end="")
if len(sys.argv) > 2:
    threading.Thread(target=lambda: (time.sleep(0.5), Path(sys.argv[2]).write_text("done"))).start()
quick_exit(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])
"""


def quick_exit_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", QUICK_EXIT, *args], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])


def test_the_command_exits_without_the_interpreters_teardown_but_with_its_exit_handlers() -> None:
    done = quick_exit_process("3")
    assert (done.returncode, done.stdout, done.stderr) == (3, "unflushed exit handler ran\n", "")
    message = quick_exit_process("no map config here")
    assert (message.returncode, message.stderr) == (1, "no map config here\n")


def test_a_thread_still_running_is_waited_for_as_at_any_exit(tmp_path: Path) -> None:
    done = quick_exit_process("0", str(tmp_path / "thread.txt"))
    assert done.returncode == 0 and (tmp_path / "thread.txt").read_text() == "done"
    assert done.stdout.startswith("unflushed exit handler ran\n")
