"""`ism serve`: run maps unattended. Each map's `[schedule]` becomes a Prefect deployment, refreshed on its cron
schedule by this process against the Prefect server that PREFECT_API_URL names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from expectations.errors import ConfigError, IsmError
from flows.cli.common import CONFIG_HELP, RootOpt, config_path, fail

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from flows.config import MapConfig

FLOW_NAME = "refresh-map"  # deployments are named refresh-map/<map_id>
NO_SERVER = ("ism serve needs a Prefect server: start one with `make server` (or `prefect server start --host "
             "127.0.0.1 --port 4200`) and set PREFECT_API_URL=http://127.0.0.1:4200/api")

ConfigsArg = Annotated[list[Path] | None, typer.Argument(metavar="CONFIG",
    help="Map configs (TOML), each with a \\[schedule] table. " + CONFIG_HELP, show_default=False)]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Most refreshes run at once (default: no limit).")]


def map_deployment(config: MapConfig, publish_root: Path | None) -> RunnerDeployment:
    """The Prefect deployment refreshing one map on its schedule (runs wait for a refresh already running)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.refresh import refresh_map

    if config.schedule is None:
        raise ConfigError(f"{config.path}: no [schedule] table; add one, for example [schedule] cron = \"0 6 * * *\" "
                          "and timezone = \"Europe/London\"")
    # sync here (no event loop is running), so a RunnerDeployment, never a coroutine
    return refresh_map.to_deployment(  # type: ignore[return-value]
        name=config.map_id,
        schedules=[Cron(config.schedule.cron, timezone=config.schedule.timezone)],
        parameters={"config_path": str(config.path),
                    "publish_root": str(publish_root.resolve()) if publish_root else None, "wait": True},
        description=f"Refresh the ISM {config.title!r} from {config.path}",
        tags=["ism", config.map_id],
        entrypoint_type=EntrypointType.MODULE_PATH,  # runs import flows.refresh, wherever the server started them
    )


def serve(configs: ConfigsArg = None, publish_root: RootOpt = None, limit: LimitOpt = None) -> None:
    """Refresh maps on the cron schedule of their \\[schedule] table, one Prefect deployment per map, until stopped
    (Ctrl-C). Runs can also be started from the Prefect UI or `prefect deployment run refresh-map/<map_id>`."""
    from prefect.settings import PREFECT_API_URL

    from flows.config import load_config

    if not PREFECT_API_URL.value():
        fail(ConfigError(NO_SERVER))
    maps: list[MapConfig] = []
    try:
        for path in configs or [config_path(None)]:
            config = load_config(path)
            clash = next((m for m in maps if m.map_id == config.map_id), None)
            if clash is not None:
                raise ConfigError(f"{path}: map_id {config.map_id!r} is also the map_id of {clash.path}; "
                                  "each served map needs its own")
            maps.append(config)
        deployments = [map_deployment(config, publish_root) for config in maps]
    except IsmError as error:
        fail(error)
    for config in maps:
        assert config.schedule is not None
        root = publish_root.resolve() if publish_root else config.publish_path()
        typer.echo(f"serving {FLOW_NAME}/{config.map_id}: cron {config.schedule.cron!r} "
                   f"({config.schedule.timezone}), publishing under {root}", err=True)
    typer.echo(f"Prefect API {PREFECT_API_URL.value()}; Ctrl-C stops", err=True)
    from prefect import serve as serve_deployments

    serve_deployments(*deployments, print_starting_message=False, limit=limit)
