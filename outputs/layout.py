"""Graphviz layouts with a time budget: each candidate layout runs in a worker process that is killed when the
budget is spent, so a dense map can never stall a refresh. Run as `python -m outputs.layout IN OUT` it is that
worker: it reads a DOT file, lays it out with `dot` and writes the laid-out DOT."""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygraphviz as pgv

from expectations.worker import module_command, module_environment

POLL_SECONDS = 0.01
MEMO_SIZE = 4
PARENT_VARIABLE = "ISM_LAYOUT_PARENT"  # the process id of the refresh that started a layout worker
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the thread that started it ends


@dataclass(frozen=True)
class Candidate:
    """One layout to try: a name for the poster footer and the DOT source to lay out with `dot`."""

    name: str
    source: str


@dataclass(frozen=True)
class Layout:
    """A laid-out graph (DOT with positions) and which candidate produced it, or None if none finished."""

    candidate: str | None
    laid_out: str | None
    seconds: float
    timed_out: tuple[str, ...] = ()


_MEMO: OrderedDict[str, Layout] = OrderedDict()


def _key(candidates: Sequence[Candidate], budget: float) -> str:
    digest = hashlib.sha256(f"{budget}".encode())
    for candidate in candidates:
        digest.update(candidate.name.encode() + b"\0" + candidate.source.encode() + b"\0")
    return digest.hexdigest()


def budgeted_layout(candidates: Sequence[Candidate], budget_seconds: float,
                    fallback: Callable[[], Candidate] | None = None) -> Layout:
    """Lay out every candidate at once, each in its own worker, and keep the first in order of preference that
    finishes within the budget (a later candidate is used only when every earlier one ran out of time). When
    none does, the `fallback` (a cheap layout, made here then: Graphviz holds this process's interpreter lock
    while it works, so it is not made for nothing) is used. The result is remembered for the same candidates,
    so the poster and the interactive map share one layout."""
    key = _key(candidates, budget_seconds)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ism-layout-") as folder:
        workers = []
        for index, candidate in enumerate(candidates):
            source, target = Path(folder) / f"{index}.dot", Path(folder) / f"{index}.out.dot"
            source.write_text(candidate.source, encoding="utf-8")
            workers.append((candidate, target, _start_worker(source, target)))
        chosen: Layout | None = None
        deadline = started + budget_seconds
        try:
            while chosen is None:
                finished = [worker.poll() is not None for _, _, worker in workers]
                for (candidate, target, worker), done in zip(workers, finished, strict=True):
                    if not done:
                        break  # an earlier (better) candidate is still running: wait for it
                    if worker.returncode == 0 and target.is_file():
                        chosen = Layout(candidate.name, target.read_text(encoding="utf-8"),
                                        time.monotonic() - started, _late(workers, candidate))
                        break
                if chosen is None and (all(finished) or time.monotonic() >= deadline):
                    chosen = _best_finished(workers, started)
                    break
                time.sleep(POLL_SECONDS)
        finally:
            for _, _, worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
    if chosen.laid_out is None and fallback is not None:  # made once the workers are stopped, not beside them
        spare = fallback()
        chosen = Layout(spare.name, spare.source, time.monotonic() - started, chosen.timed_out)
    _MEMO[key] = chosen
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return chosen


def _late(workers: list[tuple[Candidate, Path, subprocess.Popen[bytes]]], chosen: Candidate) -> tuple[str, ...]:
    names = []
    for candidate, _, _ in workers:
        if candidate is chosen:
            break
        names.append(candidate.name)
    return tuple(names)


def _best_finished(workers: list[tuple[Candidate, Path, subprocess.Popen[bytes]]], started: float) -> Layout:
    """At the deadline: the most preferred candidate that did finish, or none."""
    for candidate, target, worker in workers:
        if worker.poll() == 0 and target.is_file():
            return Layout(candidate.name, target.read_text(encoding="utf-8"), time.monotonic() - started,
                          _late(workers, candidate))
    return Layout(None, None, time.monotonic() - started, tuple(c.name for c, _, _ in workers))


def _start_worker(source: Path, target: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(module_command("outputs.layout", str(source), str(target)),
                            env={**module_environment(), PARENT_VARIABLE: str(os.getpid())},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def laid_out_dot(source: str) -> str:
    """Lay out a DOT source with `dot` in this process (no budget: for small graphs and the worker)."""
    graph = pgv.AGraph(string=source)
    graph.layout(prog="dot")
    return graph.string()


def main(argv: Sequence[str]) -> int:
    """Worker entry point: lay out the DOT file argv[0] and write the result to argv[1]."""
    _end_with_parent(int(os.environ.get(PARENT_VARIABLE) or 0))
    source, target = Path(argv[0]), Path(argv[1])
    laid = laid_out_dot(source.read_text(encoding="utf-8"))
    partial = target.with_name(target.name + ".partial")
    partial.write_text(laid, encoding="utf-8")
    partial.replace(target)  # the parent only ever sees a complete file
    return 0


def _end_with_parent(parent: int) -> None:
    """On Linux, this worker is killed when the refresh that started it ends without stopping it (killed, or
    gone while its layout thread waited): `dot` could otherwise lay out a dense map for minutes, for nobody."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent and os.getppid() != parent:
        os._exit(1)  # the refresh ended before this worker asked to end with it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
