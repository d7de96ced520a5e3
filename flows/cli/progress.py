"""How `ism refresh` and `ism validate` show a run's progress: on a terminal, a live table (rich) of each source's
state under the current phase; otherwise one plain line per event on stderr; with --json, nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.progress import Progress

PHASE_WORDS = {"sources": "reading and checking sources", "consolidate": "consolidating the map",
               "check": "checking the consolidated map", "publish": "publishing the version"}
STATE_STYLES = {"ok": "green", "warn": "yellow", "stale": "yellow", "blocked": "bold red", "missing": "red",
                "cached": "cyan", "reading": "dim"}


def plain_line(event: Progress) -> str:
    """An event as one line of text."""
    if event.source_id is None:
        return f"ism: {PHASE_WORDS.get(event.phase, event.phase)} ..."
    return f"ism:   {event.source_id}: {event.state}" + (f" ({event.detail})" if event.detail else "")


@contextmanager
def shown(source_ids: list[str], as_json: bool) -> Iterator[None]:
    """Show the run's progress while open: live on a terminal, plain lines on stderr otherwise, none with --json."""
    from flows.progress import listening

    if as_json:
        yield
        return
    if not sys.stdout.isatty():
        with listening(lambda event: print(plain_line(event), file=sys.stderr, flush=True)):
            yield
        return
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    states = dict.fromkeys(source_ids, ("waiting", ""))
    phase = ["sources"]

    def table() -> Table:
        view = Table(title=PHASE_WORDS.get(phase[0], phase[0]), title_justify="left", expand=False)
        for column in ("source", "state", "detail"):
            view.add_column(column)
        for source_id, (state, detail) in states.items():
            view.add_row(source_id, f"[{STATE_STYLES.get(state, 'white')}]{state}[/]", detail)
        return view

    with Live(table(), console=Console(stderr=True), refresh_per_second=4, transient=True) as live:
        def update(event: Progress) -> None:
            if event.source_id is None:
                phase[0] = event.phase
            else:
                states[event.source_id] = (event.state or "", event.detail)
            live.update(table())

        with listening(update):
            yield
