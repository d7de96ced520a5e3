"""Per-source retries with exponential backoff and timeouts: IO errors and slow reads are retried, bad data never."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from expectations.errors import QualityGateError, SourceError
from flows.config import load_config
from flows.refresh import refresh_map
from flows.stage import read_source, retry_delays
from sources.base import KINDS, KindOptions, RawTables, SourceKind, SourceRequest, register
from sources.tabular import CSV

pytestmark = pytest.mark.usefixtures("prefect_server")


class FlakyOptions(KindOptions):
    failure: Literal["io", "data", "slow"]
    failures: int = 1  # attempts that fail before one succeeds
    attempts_file: str  # counts the attempts


def _read_flaky(request: SourceRequest) -> RawTables:
    options: FlakyOptions = request.options  # type: ignore[assignment]
    counter = Path(options.attempts_file)
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    if attempt <= options.failures:
        if options.failure == "io":
            raise ConnectionResetError(f"{request.source_id}: the share dropped the connection")
        if options.failure == "data":
            raise SourceError(f"{request.source_id}: line 2 has 5 fields where the header has 3")
        time.sleep(3)  # slower than the source's timeout_seconds
    return CSV.read(SourceRequest(request.source_id, request.location, request.table, CSV.options(), request.folder))


@pytest.fixture
def flaky_kind() -> Iterator[None]:
    register(SourceKind(name="flaky", read=_read_flaky, options=FlakyOptions))
    yield
    KINDS.pop("flaky")


def with_flaky(config: Path, source_ids: dict[str, str]) -> None:
    """Make sources of the mini map flaky: source id -> extra TOML lines (options, retries...)."""
    text = config.read_text()
    for source_id, lines in source_ids.items():
        text = text.replace(f'id = "{source_id}"\npartner = "nhs"\nkind = "csv"',
                            f'id = "{source_id}"\npartner = "nhs"\nkind = "flaky"\n{lines}')
    config.write_text(text)


def attempts(tmp_path: Path, source_id: str) -> int:
    return int((tmp_path / f"{source_id}.attempts").read_text())


def flaky_lines(tmp_path: Path, source_id: str, failure: str, failures: int, retries: int,
                timeout: float = 60) -> str:
    return (f'options = {{ failure = "{failure}", failures = {failures}, '
            f'attempts_file = "{tmp_path / (source_id + ".attempts")}" }}\n'
            f"retries = {retries}\nretry_delay_seconds = 0\ntimeout_seconds = {timeout}")


@pytest.mark.usefixtures("flaky_kind")
def test_io_errors_and_timeouts_are_retried_until_the_read_succeeds(mini_map: Path, tmp_path: Path) -> None:
    with_flaky(mini_map, {
        "nhs_activity": flaky_lines(tmp_path, "nhs_activity", "io", failures=2, retries=2),
        "nhs_flows": flaky_lines(tmp_path, "nhs_flows", "slow", failures=1, retries=1, timeout=0.5),
    })
    result = refresh_map(str(mini_map))
    assert result.status == "published"
    assert attempts(tmp_path, "nhs_activity") == 3 and attempts(tmp_path, "nhs_flows") == 2
    assert {o.source_id: o.rows_read for o in result.sources}["nhs_activity"] == 3


@pytest.mark.usefixtures("flaky_kind")
def test_bad_data_is_never_retried_and_spent_retries_block_the_source(mini_map: Path, tmp_path: Path) -> None:
    with_flaky(mini_map, {
        "nhs_activity": flaky_lines(tmp_path, "nhs_activity", "data", failures=5, retries=3),
        "nhs_flows": flaky_lines(tmp_path, "nhs_flows", "io", failures=5, retries=1),
    })
    with pytest.raises(QualityGateError) as raised:
        refresh_map(str(mini_map))
    assert attempts(tmp_path, "nhs_activity") == 1
    assert attempts(tmp_path, "nhs_flows") == 2
    message = str(raised.value)
    assert "nhs_activity: line 2 has 5 fields" in message
    assert ("nhs_flows: could not be read in 2 attempt(s) (ConnectionResetError): nhs_flows: the share dropped "
            "the connection") in message
    assert not (mini_map.parent / "published" / "mini" / "versions").exists()


def test_each_source_gets_its_own_retries_and_exponential_backoff(mini_map: Path) -> None:
    text = mini_map.read_text().replace('id = "nhs_flows"', 'id = "nhs_flows"\nretries = 3\nretry_delay_seconds = 5')
    mini_map.write_text(text)
    config = load_config(mini_map)
    assert retry_delays(config.source("nhs_flows")) == [5.0, 10.0, 20.0]
    assert retry_delays(config.source("nhs_activity")) == [5.0, 10.0]  # the defaults


@pytest.mark.usefixtures("flaky_kind")
def test_a_retry_waits_its_delay_and_says_why(mini_map: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    with_flaky(mini_map, {"nhs_flows": flaky_lines(tmp_path, "nhs_flows", "io", failures=2, retries=2)
                          .replace("retry_delay_seconds = 0", "retry_delay_seconds = 0.2")})
    config = load_config(mini_map)
    started = time.monotonic()
    with caplog.at_level("WARNING"):
        extracted = read_source(str(mini_map), config.source("nhs_flows"), str(tmp_path / "work"))
    assert time.monotonic() - started >= 0.2 + 0.4  # 0.2 s, then twice as long
    assert extracted.error is None and attempts(tmp_path, "nhs_flows") == 3
    assert [r.getMessage() for r in caplog.records if "nhs_flows" in r.getMessage()] == [
        "nhs_flows: read attempt 1 of 3 failed (ConnectionResetError: nhs_flows: the share dropped the connection); "
        "trying again in 0.2 s",
        "nhs_flows: read attempt 2 of 3 failed (ConnectionResetError: nhs_flows: the share dropped the connection); "
        "trying again in 0.4 s"]
