"""XML escaping for the GraphML and GEXF writers, remembered: a national map's ids, measures and sources recur on
hundreds of thousands of edges, and escaping each again was a third of those writers' time."""

from __future__ import annotations

import functools
from xml.sax.saxutils import escape, quoteattr

REMEMBERED = 1 << 16


@functools.lru_cache(maxsize=REMEMBERED)
def attribute(text: str) -> str:
    """`text` as a quoted XML attribute value (xml.sax.saxutils.quoteattr)."""
    return quoteattr(text)


@functools.lru_cache(maxsize=REMEMBERED)
def content(text: str) -> str:
    """`text` escaped for XML character content (xml.sax.saxutils.escape)."""
    return escape(text)
