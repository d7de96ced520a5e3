"""What every `ism` command shares: the common arguments, loading a map, and failing with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

import examples
from expectations.errors import ConfigError

DEMO_CONFIG = examples.DEMO_CONFIG  # package data: found from a wheel as from a checkout

ConfigArg = Annotated[Path, typer.Argument(help="The map config (TOML). Default: the embedded demo map.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable result on stdout.")]
RootOpt = Annotated[Path | None, typer.Option("--publish-root", help="Publish here instead of the config's root.")]


def fail(error: Exception) -> NoReturn:
    """Print a user error on one line and exit: 2 for config and usage errors, 1 otherwise."""
    typer.echo(f"ism: error: {error}", err=True)
    raise typer.Exit(2 if isinstance(error, ConfigError) else 1)


def map_store(config: Path, publish_root: Path | None):  # type: ignore[no-untyped-def]
    """The loaded map config and its store under the publish root."""
    from flows.config import load_config
    map_config = load_config(config)
    return map_config, map_config.store(publish_root)
