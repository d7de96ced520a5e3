"""Progress events of a run, from the flow itself: the phase it is in and each source's state, handed to whoever
listens in this process (the CLI's display, flows/cli/progress.py). The flow calls `announce`; nothing here knows
how events are shown, and no log line is ever parsed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PHASES = ("sources", "consolidate", "check", "publish")


@dataclass(frozen=True)
class Progress:
    """One event: a phase started (`source_id` None), or a source changed state (reading, cached, ok, warn,
    blocked, stale, missing), with a short detail such as its row counts."""

    phase: str
    source_id: str | None = None
    state: str | None = None
    detail: str = ""


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """While open, `listener` is told every event of runs in this process (None: nothing to tell)."""
    if listener is None:
        yield
        return
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def announce(phase: str, source_id: str | None = None, state: str | None = None, detail: str = "") -> None:
    """Tell the listeners; a listener that fails never fails the run."""
    event = Progress(phase, source_id, state, detail)
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:  # noqa: BLE001, S112  (a display problem must not stop a refresh)
            continue
