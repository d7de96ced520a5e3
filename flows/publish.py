"""The artefacts every version carries, in the order they are written. A new artefact is one writer in
`outputs/` and one line here."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import pandas as pd

from expectations.worker import get_ready, in_worker_pickled, pickled_call
from outputs.analysis import analysis_artefact
from outputs.changelog import changelog_artefact
from outputs.context import ArtefactWriter, PublishedVersion
from outputs.dataset import dataset_artefact
from outputs.exports import exports_artefact
from outputs.interactive import interactive_artefact
from outputs.poster import (
    layout_needed,
    poster_artefact,
    poster_png_artefact,
    version_layout,
    write_laid_out,
)
from outputs.quality_report import gx_site_artefact, quality_artefact
from outputs.spreadsheet import spreadsheet_artefact

ARTEFACT_WRITERS: list[ArtefactWriter] = [
    poster_png_artefact,  # drawn by a process of its own (IN_A_PROCESS) once the poster is laid out
    dataset_artefact,
    spreadsheet_artefact,
    quality_artefact,
    gx_site_artefact,
    # from here on the version's analyses are needed
    analysis_artefact,
    changelog_artefact,
    # from here on the poster's layout is needed: it is made meanwhile (outputs/poster)
    exports_artefact,  # the Kumu blueprint carries the loops the analysis found
    poster_artefact,
    interactive_artefact,  # after analysis and quality: the map links to their pages when they exist
]
NEEDS_ANALYSES = ARTEFACT_WRITERS.index(analysis_artefact)
LAID_OUT = (exports_artefact, poster_artefact, interactive_artefact)  # the writers placing things as the poster
# Seconds of pure Python each on a big map, so the worker process (expectations/worker.py, idle once the checks are
# made) writes them while this one writes the others (nothing written after them reads their files). Each is sent
# once the writers before it are written.
BESIDE: tuple[ArtefactWriter, ...] = (spreadsheet_artefact, exports_artefact)
# Writers in BESIDE that need neither the version's files, its analyses nor its layout: sent to the worker as soon as
# the version is made (`send_early`), while this process writes the dataset tables, rather than after them (the
# worker sat idle meanwhile). Six alternating pairs at bench L, one source changed: 26.4 s against 28.6 s.
EARLY: tuple[ArtefactWriter, ...] = (spreadsheet_artefact,)
# Activity and flow rows from which the writers in BESIDE are worth sending to the worker, which imports them and
# takes a copy of the version; the writers cost about 30 us a row here. Measured with one source changed,
# alternating: bench L (184,000 rows) refreshed in 29.3 s with them in a process of their own against 31.5 s
# without; bench M (33,000) in 11.8 s without against 13.1 s with. In the worker rather than a process of their
# own (whose start and imports were 2 s of CPU at L), six alternating pairs at L: 34.7 s against 36.8 s.
BESIDE_FROM_ROWS = 100_000
# Writers whose work is done in the worker (GX is imported there): written while this process writes the others
# when a core is free for it, or when the worker writes those in BESIDE anyway (see gx_site_beside).
IN_WORKER: tuple[ArtefactWriter, ...] = (gx_site_artefact,)
# Writers whose work is done by a process of their own (Graphviz rasterising, which holds the GIL): a thread waits
# for it while this process writes the others.
IN_A_PROCESS: tuple[ArtefactWriter, ...] = (poster_png_artefact,)


def artefacts_beside(tables: Mapping[str, pd.DataFrame]) -> bool:
    """Whether a version of these tables has the writers in BESIDE run in the worker; if so, the worker imports
    them now, while this process writes the tables."""
    if sum(len(tables[table]) for table in ("activity", "flows")) < BESIDE_FROM_ROWS:
        return False
    get_ready(_ready)  # unpickling the call imports this module, and so every writer, in the worker
    return True


def gx_site_beside(beside: bool) -> bool:
    """Whether the writers IN_WORKER are written while this process goes on: when a core is free for the worker,
    this process keeping one busy, or with `beside` (the worker writes those in BESIDE meanwhile anyway). Measured on
    2 cores: the demo-sized bench S published in 2.0 s against 2.5 s (GX's Data Docs beside)."""
    return beside or (os.cpu_count() or 1) > 1


def send_early(version: PublishedVersion, beside: bool) -> list[Future[object]]:
    """With `beside`, the writers in EARLY sent to the worker now; `write_artefacts` is handed what this returns."""
    if not beside:
        return []
    sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="artefacts-early")
    try:
        return [sender.submit(in_worker_pickled, pickled_call(write_laid_out, write, version, None)) for write in EARLY]
    finally:
        sender.shutdown(wait=False)


def write_artefacts(version: PublishedVersion, analyses: Callable[[], dict[str, pd.DataFrame]],
                    beside: bool = False, early: Sequence[Future[object]] = ()) -> None:
    """Every artefact of `version`, in order; `analyses` is awaited before the first writer that needs them. The
    writers IN_A_PROCESS and IN_WORKER, and with `beside` those in BESIDE (in the worker), are written meanwhile;
    `early` are those `send_early` sent. This returns once all are written."""
    sent: list[Future[object]] = list(early)
    gx_beside = gx_site_beside(beside)
    # a thread for each worker process a writer may be waiting on
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="artefacts-beside") as sender:
        try:
            for number, write in enumerate(ARTEFACT_WRITERS):
                if number == NEEDS_ANALYSES:
                    version.analyses.update(analyses())
                if early and write in EARLY:
                    continue
                if write in IN_A_PROCESS or (gx_beside and write in IN_WORKER):
                    sent.append(sender.submit(write, version))
                elif beside and write in BESIDE:  # with the layout it needs: the worker would lay it out again
                    layout = version_layout(version) if write in LAID_OUT else None
                    call = pickled_call(write_laid_out, write, version, layout)
                    sent.append(sender.submit(in_worker_pickled, call))
                else:
                    write(version)
        except BaseException:
            layout_needed(version)  # the PNG writer waits for it: no longer than a writer would
            raise
        finally:
            wait(sent)  # never leave the worker writing into a folder the caller may remove
    for each in sent:
        each.result()


def _ready() -> None:
    """Nothing: sent to the worker so that it imports the writers before it is sent one."""
