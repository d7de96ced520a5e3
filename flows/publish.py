"""The artefacts every version carries, in the order they are written. A new artefact is one writer in
`outputs/` and one line here."""

from __future__ import annotations

from outputs.analysis import analysis_artefact
from outputs.changelog import changelog_artefact
from outputs.context import ArtefactWriter
from outputs.dataset import dataset_artefact
from outputs.exports import exports_artefact
from outputs.interactive import interactive_artefact
from outputs.poster import poster_artefact
from outputs.quality_report import quality_artefact
from outputs.spreadsheet import spreadsheet_artefact

ARTEFACT_WRITERS: list[ArtefactWriter] = [
    dataset_artefact,
    spreadsheet_artefact,
    quality_artefact,
    poster_artefact,  # after artefacts that do not need its layout, which is made meanwhile (outputs/poster)
    # from here on the version's analyses are needed (a big map's are computed meanwhile: flows/analysis.py)
    analysis_artefact,
    exports_artefact,  # the Kumu blueprint carries the loops the analysis found
    changelog_artefact,
    interactive_artefact,  # after analysis and quality: the map links to their pages when they exist
]
NEEDS_ANALYSES = ARTEFACT_WRITERS.index(analysis_artefact)
