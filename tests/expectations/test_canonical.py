import subprocess
import sys

import pandas as pd
import pandera.pandas as pa
import pytest

from expectations.canonical import CANONICAL_MODELS, STAGED_MODELS, _Strict, passing_frame


@pytest.mark.parametrize("model", [*STAGED_MODELS.values(), *CANONICAL_MODELS.values()],
                         ids=lambda m: m.__name__)
def test_a_contracts_schema_is_the_one_pandera_builds(model: type[_Strict]) -> None:
    ours = model.to_schema()
    pandera_s = pa.DataFrameModel.build_schema_.__func__(model, coerce=True, strict="filter",  # type: ignore[attr-defined]
                                                          description=model.__doc__)
    assert _described(ours) == _described(pandera_s)


def _described(schema: pa.DataFrameSchema) -> list[object]:
    """What a schema checks, in comparable terms (pandera's Check objects keep state that `==` sees)."""
    columns = [(name, str(c.dtype), c.nullable, c.unique, c.coerce, c.required, c.regex,
                [(check.name, repr(check.statistics)) for check in c.checks]) for name, c in schema.columns.items()]
    return [columns, schema.coerce, schema.strict, schema.index, schema.checks, schema.description]


def test_building_every_contract_does_not_import_dask() -> None:
    code = ("import sys\nfrom expectations.canonical import CANONICAL_MODELS, STAGED_MODELS\n"
            "for m in [*STAGED_MODELS.values(), *CANONICAL_MODELS.values()]: m.to_schema()\n"
            "print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_contract_column_must_be_a_plain_series() -> None:
    from pandera.typing import Series

    class NullableCount(_Strict):
        count: Series[int] = pa.Field(nullable=True)

    with pytest.raises(TypeError, match="NullableCount.count: a nullable whole number is declared as float"):
        NullableCount.to_schema()


def _staged_activity(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame({
        "source_id": ["s1", "s1", "s1"], "row_number": ["2", "3", "5"], "service_ns": "p", "service_key": "k",
        "period_start": ["2025-04-01", "2025-05-01", "2025-06-01"], "period_end": pd.Timestamp("2025-04-30"),
        "measure": "attendances", "value": [1.0, None, 3], "qualifier": [None, "c", None],
    }, index=[4, 7, 9], dtype="object")
    for column, value in changes.items():
        frame[column] = value
    return frame


def test_a_passing_frame_is_what_pandera_returns() -> None:
    frame = _staged_activity()
    passed = passing_frame(STAGED_MODELS["activity"], frame)
    assert passed is not None
    pd.testing.assert_frame_equal(passed, STAGED_MODELS["activity"].validate(frame, lazy=True))


@pytest.mark.parametrize("change", [
    {"value": [1.0, -2.0, 3.0]}, {"qualifier": [None, "x", None]}, {"measure": "Attendances"},
    {"service_key": ["k", "", "k"]}, {"service_ns": [None, "p", "p"]}, {"row_number": ["2", "three", "5"]},
    {"row_number": ["2", "-1", "5"]}, {"period_start": ["2025-04-01", "not a date", "2025-06-01"]},
], ids=lambda c: next(iter(c)))
def test_a_frame_failing_the_contract_is_left_to_pandera(change: dict[str, object]) -> None:
    frame = _staged_activity(**change)
    assert passing_frame(STAGED_MODELS["activity"], frame) is None
    with pytest.raises((pa.errors.SchemaErrors, pa.errors.SchemaError)):
        STAGED_MODELS["activity"].validate(frame, lazy=True)


def test_a_frame_with_other_columns_is_left_to_pandera() -> None:
    frame = _staged_activity()
    assert passing_frame(STAGED_MODELS["activity"], frame.assign(extra=1)) is None
    assert passing_frame(STAGED_MODELS["activity"], frame[list(reversed(frame.columns))]) is None
