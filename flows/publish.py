"""The artefacts every version carries, in the order they are written. A new artefact is one writer in
`outputs/` and one line here."""

from __future__ import annotations

from outputs.context import ArtefactWriter
from outputs.dataset import dataset_artefact
from outputs.poster import poster_artefact

ARTEFACT_WRITERS: list[ArtefactWriter] = [
    dataset_artefact,
    poster_artefact,
]
