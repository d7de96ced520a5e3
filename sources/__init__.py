"""Source kinds: each turns a location plus options into raw frames and provenance. All reading of partner data
happens here. Importing the package registers every kind."""

from sources import hsds, phs_ae, sql, tabular  # noqa: F401  (importing a kind registers it)
from sources.base import KINDS, Extract, Provenance, RawTables, SourceKind, SourceRequest, extract, kind_named

__all__ = ["KINDS", "Extract", "Provenance", "RawTables", "SourceKind", "SourceRequest", "extract", "kind_named"]
