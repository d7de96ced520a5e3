"""JSON text the outputs write: records one per line, read back as written."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outputs.json_text import records_text

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False,
                    allow_infinity=False), st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=20)


@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=5))
def test_records_text_reads_back_as_the_document_it_was_given(document: dict[str, object]) -> None:
    assert json.loads(records_text(document)) == document


def test_each_record_of_a_list_is_a_line_of_its_own_and_objects_are_laid_out_by_key() -> None:
    text = records_text({"elements": {"nodes": [{"id": "a", "name": "Café <A&E>"}, {"id": "b", "tags": [1, 2]}],
                                      "edges": []}, "directed": True})
    assert text.splitlines() == ['{', ' "elements": {', '  "nodes": [', '   {"id": "a", "name": "Café <A&E>"},',
                                 '   {"id": "b", "tags": [1, 2]}', '  ],', '  "edges": []', ' },',
                                 ' "directed": true', '}']


@pytest.mark.parametrize(("document", "refused"), [({"value": math.nan}, ValueError),
                                                   ({"rows": [math.inf]}, ValueError), ({1: "a"}, TypeError)])
def test_a_value_json_cannot_spell_is_refused_never_written(document: dict[object, object],
                                                            refused: type[Exception]) -> None:
    with pytest.raises(refused):
        records_text(document)
