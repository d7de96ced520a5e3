"""Source kinds: each turns a location plus options into raw frames and provenance. All reading of partner data
happens here. Importing the package registers every kind."""

from sources.base import KINDS, Extract, Provenance, RawTables, SourceKind, SourceRequest, extract, kind_named

from sources import tabular  # noqa: F401, E402  (registers csv, excel, json)
from sources import hsds, phs_ae  # noqa: F401, E402  (registers hsds, phs_ae)

__all__ = ["KINDS", "Extract", "Provenance", "RawTables", "SourceKind", "SourceRequest", "extract", "kind_named"]
