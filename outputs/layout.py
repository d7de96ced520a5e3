"""Graphviz layouts with a time budget: each candidate layout runs in a worker process that is killed when the
budget is spent, so a dense map can never stall a refresh. What is laid out is a source's shape (`shape_of`: its
labels' digits as zeros), kept in a store, so that the next version, whose numbers alone changed, is not laid out
again. Run as `python -m outputs.layout IN OUT` it is the worker: it reads a DOT file, lays it out with `dot` and
writes the laid-out DOT; `python -m outputs.layout IN OUT FORMAT [NAME=VALUE ...]` draws a laid-out DOT file
instead (`draw_in_worker`)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygraphviz as pgv

from expectations.worker import module_command, module_environment
from outputs.store.layouts import keep_layout, kept_layout

POLL_SECONDS = 0.01
MEMO_SIZE = 4  # layouts remembered in this process
GRACE_SHARE = 0.25  # of the budget: the last candidate's time on its own once the others ran out of it
# Of the budget, from the start: how long the last candidate may go on while nothing waits for the layout yet
UNNEEDED_SHARE = 4.0
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

# Attributes written as their shape (digits as zeros): the labels, whose text is drawn but whose size alone is laid
# out (every digit of the poster's font is as wide as the others). Not pen widths: arrowheads grow with them.
SHAPED = r"x?label"
# A shaped attribute and its value (quoted, or HTML-like with tags one level deep), or any other quoted or HTML-like
# value, matched whole so that text inside it is never read as an attribute.
_VALUES = re.compile(r'(?P<shaped>\b' + SHAPED + r'=)?(?P<value>"(?:[^"\\]|\\.)*"|(?<==)<(?:[^<>]|<[^<>]*>)*>)', re.S)
_TEXT_DIGIT = re.compile(r"(<[^>]*>|&#?\w+;)|[0-9]")  # tags and entities kept, digits in text zeroed
# What `dot` adds to a graph: the positions and sizes a drawing needs.
LAYOUT_ATTRIBUTES = ("pos", "width", "height", "bb", "lp", "lwidth", "lheight", "xlp", "head_lp", "tail_lp")


def shape_of(source: str) -> str:
    """A DOT source with the digits of its labels' text written as zeros: `dot` places it as it places the source,
    and two versions of a map whose labels' numbers alone differ have the same shape."""
    def shaped(match: re.Match[str]) -> str:
        if match["shaped"] is None:
            return match[0]
        return match["shaped"] + _TEXT_DIGIT.sub(lambda part: part[1] or "0", match["value"])

    return _VALUES.sub(shaped, source)


def with_layout(source: str, laid_out_shape: str) -> pgv.AGraph:
    """`source` with the layout of its shape (`shape_of(source)` laid out): its own labels, the shape's positions."""
    graph, laid = pgv.AGraph(string=source), pgv.AGraph(string=laid_out_shape)
    for ours, theirs in _subgraph_pairs(graph, laid):
        _copy_layout(theirs.graph_attr, ours.graph_attr)
    for node in laid.nodes_iter():
        _copy_layout(node.attr, graph.get_node(node).attr)
    ours_by_pair: dict[tuple[str, str], list[pgv.Edge]] = {}
    for edge in graph.edges_iter():
        ours_by_pair.setdefault((str(edge[0]), str(edge[1])), []).append(edge)
    seen: dict[tuple[str, str], int] = {}
    for edge in laid.edges_iter():
        pair = (str(edge[0]), str(edge[1]))
        index = seen[pair] = seen.get(pair, -1) + 1
        _copy_layout(edge.attr, ours_by_pair[pair][index].attr)
    return graph


def _subgraph_pairs(graph: pgv.AGraph, laid: pgv.AGraph) -> list[tuple[pgv.AGraph, pgv.AGraph]]:
    pairs = [(graph, laid)]
    for theirs in laid.subgraphs_iter():
        pairs += _subgraph_pairs(graph.get_subgraph(theirs.name), theirs)
    return pairs


def _copy_layout(laid: pgv.ItemAttribute, ours: pgv.ItemAttribute) -> None:
    for name in LAYOUT_ATTRIBUTES:
        value = laid.get(name)
        if value:
            ours[name] = value


def _key(candidates: Sequence[Candidate], budget: float) -> str:
    digest = hashlib.sha256(f"{budget}\0{pgv.__version__}".encode())  # the Graphviz it comes with lays out
    for candidate in candidates:
        digest.update(candidate.name.encode() + b"\0" + candidate.source.encode() + b"\0")
    return digest.hexdigest()


def budgeted_layout(candidates: Sequence[Candidate], budget_seconds: float,
                    fallback: Callable[[], Candidate] | None = None, store: Path | None = None,
                    grace_seconds: float | None = None, needed: threading.Event | None = None) -> Layout:
    """Lay out every candidate at once, each in its own worker, and keep the first in order of preference that
    finishes within the budget (a later candidate is used only when every earlier one ran out of time). When
    none has, the others are stopped and the last is given `grace_seconds` more on its own (a quarter of the
    budget unless given); when it too runs out, the `fallback` (a cheap layout, made here then: Graphviz holds
    this process's interpreter lock while it works, so it is not made for nothing) is used. With `needed`, set
    once the caller waits for the layout, the last candidate's grace runs on while it is not set (the caller has
    other work: nothing waits for this one), up to UNNEEDED_SHARE of the budget from the start; so a caller never
    waits more than the grace for it once it needs it. The result is remembered for the same candidates, so the
    poster and the interactive map share one layout, and kept in the folder `store` (if given) for the next
    process with the same candidates (unless it is the fallback: a busy moment must not fix it for good)."""
    key = _key(candidates, budget_seconds)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    chosen = _stored(store, key) if store is not None else None
    if chosen is None:
        chosen = _laid_out(candidates, budget_seconds, fallback, grace_seconds, needed)
        if store is not None and chosen.candidate in {c.name for c in candidates}:  # never the emergency fallback:
            _keep(store, key, chosen)  # the next version tries the candidates again
    _MEMO[key] = chosen
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return chosen


def _laid_out(candidates: Sequence[Candidate], budget_seconds: float,
              fallback: Callable[[], Candidate] | None, grace_seconds: float | None = None,
              needed: threading.Event | None = None) -> Layout:
    started = time.monotonic()
    grace = budget_seconds * GRACE_SHARE if grace_seconds is None else grace_seconds
    unneeded_until = started + budget_seconds * UNNEEDED_SHARE
    with tempfile.TemporaryDirectory(prefix="ism-layout-") as folder:
        workers = []
        for index, candidate in enumerate(candidates):
            source, target = Path(folder) / f"{index}.dot", Path(folder) / f"{index}.out.dot"
            source.write_text(candidate.source, encoding="utf-8")
            workers.append((candidate, target, _start_worker(source, target)))
        chosen: Layout | None = None
        deadline, graced = started + budget_seconds, len(workers) < 2
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
                if graced and needed is not None and not needed.is_set():  # nobody waits for it yet
                    deadline = max(deadline, min(time.monotonic() + grace, unneeded_until))
                if chosen is None and (all(finished) or time.monotonic() >= deadline):
                    chosen = _best_finished(workers, started)
                    if chosen.laid_out is None and not graced and not finished[-1]:
                        # none in time: the others stop, and the last (the cheapest) has the cores to itself a
                        # little longer: on a busy machine it was sharing them, and the fallback costs time too
                        for _, _, worker in workers[:-1]:
                            worker.kill()
                        chosen, graced = None, True
                        deadline = time.monotonic() + grace
                        continue
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
    return chosen


def _stored(store: Path, key: str) -> Layout | None:
    """The layout kept in `store` under `key`, or None (none kept, or unreadable: laid out again)."""
    document = kept_layout(store, key)
    try:
        return Layout(document["candidate"], document["laid_out"], float(document["seconds"]),
                      tuple(document["timed_out"])) if document is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _keep(store: Path, key: str, layout: Layout) -> None:
    keep_layout(store, key, {"candidate": layout.candidate, "laid_out": layout.laid_out,
                             "seconds": layout.seconds, "timed_out": list(layout.timed_out)})


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
    return subprocess.Popen(module_command("outputs.layout", str(source), str(target)), env=_worker_environment(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _worker_environment() -> dict[str, str]:
    """A worker's environment: this copy of ism, and this process's id, so that it ends with this process."""
    return {**module_environment(), PARENT_VARIABLE: str(os.getpid())}


def laid_out_dot(source: str) -> str:
    """Lay out a DOT source with `dot` in this process (no budget: for small graphs and the worker)."""
    graph = pgv.AGraph(string=source)
    graph.layout(prog="dot")
    return graph.string()


def draw_in_worker(source: str, target: Path, fmt: str, graph_attributes: Mapping[str, str]) -> Path:
    """Draw a laid-out DOT source to `target` in `fmt` with these graph attributes, in a worker process: Graphviz
    holds the GIL while it draws, so a thread waiting here lets this process go on. The file appears whole or not
    at all; a failure names it and carries Graphviz's message."""
    with tempfile.TemporaryDirectory(prefix="ism-draw-") as folder:
        laid_out = Path(folder, "laid-out.dot")
        laid_out.write_text(source, encoding="utf-8")
        attributes = [f"{name}={value}" for name, value in graph_attributes.items()]
        done = subprocess.run(module_command("outputs.layout", str(laid_out), str(target), fmt, *attributes),
                              env=_worker_environment(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = [line for line in lines if line.startswith("Error:")] or lines[-1:] or ["no message"]
        raise RuntimeError(f"{target}: Graphviz could not draw it as {fmt} (exit {done.returncode}): "
                           + "; ".join(said))
    return target


def main(argv: Sequence[str]) -> int:
    """Worker entry point: lay out the DOT file argv[0] and write the result to argv[1]; or, given a format in
    argv[2], draw the laid-out DOT file argv[0] in that format to argv[1], with the graph attributes NAME=VALUE
    after it."""
    _end_with_parent(int(os.environ.get(PARENT_VARIABLE) or 0))
    source, target = Path(argv[0]), Path(argv[1])
    partial = target.with_name(target.name + ".partial")
    try:
        if len(argv) > 2:
            graph = pgv.AGraph(string=source.read_text(encoding="utf-8"))
            graph.graph_attr.update(attribute.split("=", 1) for attribute in argv[3:])
            graph.has_layout = True
            graph.draw(str(partial), format=argv[2])
        else:
            partial.write_text(laid_out_dot(source.read_text(encoding="utf-8")), encoding="utf-8")
    except BaseException:
        partial.unlink(missing_ok=True)  # Graphviz may have begun the file
        raise
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
