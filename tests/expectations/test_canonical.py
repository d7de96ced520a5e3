import subprocess
import sys

import pandera.pandas as pa
import pytest

from expectations.canonical import CANONICAL_MODELS, STAGED_MODELS, _Strict


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
