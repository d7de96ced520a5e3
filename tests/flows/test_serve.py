"""`ism serve` against a real Prefect server on loopback (the session's): the map's schedule becomes a deployment,
a run triggered through the server publishes a new version. Every process is stopped afterwards, waits are bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from flows.cli import app
from outputs.store.versions import MapStore
from tests.flows.processes import ISM, ism_env, output, started, wait_until

SCHEDULE = '\n[schedule]\ncron = "0 3 1 1 *"\ntimezone = "Europe/London"\n'  # 03:00 on 1 January: never in a test


def deployment_ready(name: str) -> bool:
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
            return True
        except Exception:  # not registered yet (ObjectNotFound), or the server busy
            return False


@pytest.mark.slow
def test_a_served_map_refreshes_when_its_deployment_runs(prefect_server: None, mini_map: Path, tmp_path: Path) -> None:
    with mini_map.open("a") as config:
        config.write(SCHEDULE)
    root, api = tmp_path / "maps", PREFECT_API_URL.value()  # the session's Prefect server, on loopback
    serve_env = ism_env(tmp_path / "serve", api, PREFECT_RUNNER_POLL_FREQUENCY="1")
    with started([str(ISM), "serve", str(mini_map), "--publish-root", str(root)], serve_env,
                 tmp_path / "logs" / "serve") as serving:
        wait_until(lambda: deployment_ready("refresh-map/mini") or serving.poll() is not None, 120,
                   "ism serve to register its deployment")
        assert serving.poll() is None, output(tmp_path / "logs" / "serve")
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("refresh-map/mini")
        schedule = deployment.schedules[0].schedule
        assert (schedule.cron, schedule.timezone) == ("0 3 1 1 *", "Europe/London")  # type: ignore[union-attr]
        assert deployment.parameters == {"config_path": str(mini_map), "publish_root": str(root), "wait": True}

        run = run_deployment("refresh-map/mini", timeout=180)
        assert run.state is not None and run.state.is_completed(), (run.state, output(tmp_path / "logs" / "serve"))
    assert MapStore(root, "mini").latest() == "v0001"
    assert "serving refresh-map/mini: cron '0 3 1 1 *' (Europe/London)" in output(tmp_path / "logs" / "serve")


def test_serve_needs_a_schedule_and_a_server(mini_map: Path) -> None:
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = CliRunner().invoke(app, ["serve", str(mini_map)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"ism: error: {mini_map}: no [schedule] table; add one, for example [schedule] "
                                     'cron = "0 6 * * *" and timezone = "Europe/London"')
    with mini_map.open("a") as config:
        config.write(SCHEDULE)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve", str(mini_map)])
    assert result.exit_code == 2 and "ism serve needs a Prefect server: start one with `make server`" in result.stderr
