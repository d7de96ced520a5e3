"""`write_demo` copies the embedded demo map out of the package, changing only where it publishes."""

from pathlib import Path

from examples import DEMO_CONFIG, DEMO_PUBLISH_ROOT, write_demo
from flows.config import load_config
from flows.source_cache import config_digest, source_key_before_reading


def test_a_copy_of_the_demo_publishes_inside_its_folder_with_the_same_inputs(tmp_path: Path) -> None:
    embedded, copy = load_config(DEMO_CONFIG), load_config(write_demo(tmp_path / "demo"))
    assert copy.publish_path() == (tmp_path / "demo" / DEMO_PUBLISH_ROOT).resolve()
    assert config_digest(copy) == config_digest(embedded)
    for mine, theirs in zip(copy.sources, embedded.sources, strict=True):
        assert source_key_before_reading(copy, mine) == source_key_before_reading(embedded, theirs)
    assert (tmp_path / "demo" / "to_be.toml").is_file()


def test_writing_the_demo_again_replaces_the_earlier_copy(tmp_path: Path) -> None:
    config = write_demo(tmp_path)
    extract = next((tmp_path / "extracts").rglob("*.csv"))
    extract.write_text("changed")
    assert write_demo(tmp_path) == config
    assert extract.read_bytes() == (DEMO_CONFIG.parent / extract.relative_to(tmp_path)).read_bytes()
