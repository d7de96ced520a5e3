"""Progress events: the flow announces phases and source states to the listeners of this process; the CLI shows
them as plain lines when not on a terminal."""

from __future__ import annotations

from flows.cli.progress import plain_line
from flows.progress import Progress, announce, listening


def test_listeners_hear_events_only_while_listening_and_a_failing_one_is_ignored() -> None:
    heard: list[Progress] = []

    def broken(event: Progress) -> None:
        raise RuntimeError("display gone")

    with listening(broken), listening(heard.append):
        announce("sources")
        announce("sources", "units", "blocked", "units: empty")
    announce("publish")  # nobody listening
    assert heard == [Progress("sources"), Progress("sources", "units", "blocked", "units: empty")]
    with listening(None):
        announce("check")


def test_plain_lines_name_the_phase_and_each_source_state() -> None:
    assert plain_line(Progress("consolidate")) == "ism: consolidating the map ..."
    assert plain_line(Progress("sources", "units", "ok", "16 read, 16 accepted, 0 rejected")) == (
        "ism:   units: ok (16 read, 16 accepted, 0 rejected)")
    assert plain_line(Progress("sources", "units", "reading")) == "ism:   units: reading"
