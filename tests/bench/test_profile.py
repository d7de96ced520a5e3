import copy
import cProfile
import pstats

from bench.profile import deepcopy_callers


def _copies_twice() -> None:
    copy.deepcopy([{"a": [1, 2]}])
    copy.deepcopy({"b": "c"})


def test_deepcopy_is_attributed_to_the_function_that_calls_it() -> None:
    profile = cProfile.Profile()
    profile.runcall(_copies_twice)
    lines = deepcopy_callers(pstats.Stats(profile).stats)  # type: ignore[attr-defined]
    rows = [line for line in lines if line.startswith("| `")]
    assert len(rows) == 1 and "_copies_twice` | 2 |" in rows[0]


def test_no_deepcopy_no_section() -> None:
    profile = cProfile.Profile()
    profile.runcall(sorted, [3, 1, 2])
    assert deepcopy_callers(pstats.Stats(profile).stats) == []  # type: ignore[attr-defined]
