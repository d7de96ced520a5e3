"""What every `ism` command shares, defined once: the config argument and how it defaults, the common options,
the exit code of each kind of mistake, and failing with one line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

import examples
from expectations.errors import ConfigError, IsmError, UnknownReferenceError

if TYPE_CHECKING:
    from flows.config import MapConfig
    from outputs.store.versions import MapStore

DEMO_CONFIG = examples.DEMO_CONFIG  # package data: found from a wheel as from a checkout
CONFIG_ENV = "ISM_CONFIG"
CONFIG_FILE = "ism.toml"

# One exit code per kind of mistake; typer's own usage errors (a missing argument, a bad option) exit 2 as well.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 the data failed a check, a source could not be read or nothing could be published; "
    "2 a usage or config error; 3 a service, lane or version named that the map does not have; "
    "4 an internal error (a bug: ISM_DEBUG=1 shows the traceback); 130 interrupted."
)
CONFIG_HELP = (f"The map config (TOML). Default: ${CONFIG_ENV} if set, else ./{CONFIG_FILE} if there is one, else "
               "the embedded demo map.")
SERVICE_HELP = ("A service: its service_id, partner:key, an external id scheme:value, or its name "
                "(case-insensitive).")
VERSION_HELP = "The published version: latest, an id such as v0003, or a date YYYY-MM-DD (newest on or before it)."

ConfigArg = Annotated[Path | None, typer.Argument(metavar="CONFIG", help=CONFIG_HELP, show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable result on stdout.")]
RootOpt = Annotated[Path | None, typer.Option("--publish-root", help="Publish here instead of the config's root.")]
VersionOpt = Annotated[str, typer.Option("--version", help=VERSION_HELP)]
LaneOpt = Annotated[str | None, typer.Option("--lane", help="A lane (its id or its label) instead of one service.")]
ServiceArg = Annotated[str | None, typer.Argument(metavar="SERVICE", help=SERVICE_HELP, show_default=False)]
HopsOpt = Annotated[int, typer.Option("--hops", min=1, max=10, help="How many steps along the flows to follow.")]


def config_path(config: Path | None) -> Path:
    """The config a command reads: the one given, else $ISM_CONFIG, else ./ism.toml when there is one, else the demo."""
    if config is not None:
        return config
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    here = Path(CONFIG_FILE)
    return here if here.is_file() else DEMO_CONFIG


def focus_and_config(service: str | None, lane: str | None, config: Path | None) -> tuple[str | None, Path]:
    """The service named (if any) and the config, for commands taking `[SERVICE] [CONFIG]` or `--lane LANE [CONFIG]`:
    with --lane, a single positional is the config."""
    if lane is not None and service is not None and config is None:
        return None, Path(service)
    if (service is None) == (lane is None):
        raise ConfigError("name one SERVICE or one --lane LANE (not both, not neither); see --help")
    return service, config_path(config)


def exit_code(error: Exception) -> int:
    """The exit code of a user error's kind."""
    if isinstance(error, UnknownReferenceError):
        return EXIT_NOT_FOUND
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    return EXIT_FAILED


def fail(error: Exception) -> NoReturn:
    """Print a user error on one line and exit with its kind's code."""
    typer.echo(f"ism: error: {error}", err=True)
    raise typer.Exit(exit_code(error))


def fail_writing(what: str, error: OSError) -> NoReturn:
    """A file that could not be written: the data are fine, the run failed."""
    fail(IsmError(f"cannot write the {what}: {error}"))


def map_store(config: Path | None, publish_root: Path | None) -> tuple[MapConfig, MapStore]:
    """The loaded map config and its store under the publish root."""
    from flows.config import load_config
    map_config = load_config(config_path(config))
    return map_config, map_config.store(publish_root)
