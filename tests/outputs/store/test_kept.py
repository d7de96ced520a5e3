"""What a refresh keeps for the next one (outputs/store/kept.py): read back only under the exact header it was
kept under, never half written, and a damaged file is as good as none."""

from pathlib import Path

from outputs.store.kept import keep, kept


def test_a_value_is_read_back_only_under_its_header(tmp_path: Path) -> None:
    path = tmp_path / "private" / ".value.pickle"
    keep(path, ("v1", "code"), {"a": [1, 2.5, None]})
    assert kept(path, ("v1", "code")) == {"a": [1, 2.5, None]}
    assert kept(path, ("v2", "code")) is None and kept(path, ("v1",)) is None
    assert kept(tmp_path / "none.pickle", ("v1", "code")) is None
    keep(path, ("v2", "code"), "replaced")
    assert kept(path, ("v2", "code")) == "replaced" and kept(path, ("v1", "code")) is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left beside it


def test_a_damaged_file_is_as_good_as_none(tmp_path: Path) -> None:
    path = tmp_path / ".value.pickle"
    keep(path, ("v1",), list(range(1000)))
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"", b"not a pickle", whole[:20] + b"\x00" * 40):
        path.write_bytes(damaged)
        assert kept(path, ("v1",)) is None
