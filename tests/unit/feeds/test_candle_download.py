"""The candle file mechanics and the retry rules of `download-data`, without a network."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]

from bot.feeds.candle_download import (
    Backoff,
    CandleDownloader,
    CandleRequest,
    DownloadFailed,
    call_with_retries,
    missing_ranges,
)
from bot.feeds.candle_files import (
    HEADER_LINE,
    CandleFileProblem,
    FileSpan,
    PartWriter,
    format_candle,
    install,
    read_span,
    recover_part,
)

MIN = 60_000


def _rows(first: int, count: int) -> list[list[float]]:
    """`count` one-minute candles from `first`; the values follow the time, not the position."""
    stamps = [first + i * MIN for i in range(count)]
    return [[t, 10.0 + t / MIN, 11.5 + t / MIN, 9.25, 10.5, 0.1 * (t / MIN)] for t in stamps]


def _write(path: Path, rows: list[list[float]]) -> None:
    path.write_text(HEADER_LINE + "".join(format_candle(r) for r in rows))


def test_a_candle_line_is_the_shortest_exact_text_of_each_float() -> None:
    assert format_candle([1, 0.1, 2.0, 1e-05, 45953.32, None]) == "1,0.1,2.0,1e-05,45953.32,0.0\n"
    with pytest.raises(ValueError, match="incomplete"):
        format_candle([1, None, 2.0, 1.0, 1.0, 1.0])


def test_missing_ranges_are_before_the_first_and_after_the_last_candle() -> None:
    span = FileSpan(first_ms=10 * MIN, last_ms=20 * MIN, rows=11)
    assert missing_ranges(None, 0, 5) == [(0, 5)]
    assert missing_ranges(span, 0, 30 * MIN) == [(0, 10 * MIN), (20 * MIN + 1, 30 * MIN)]
    assert missing_ranges(span, 12 * MIN, 18 * MIN) == []
    assert missing_ranges(span, 12 * MIN, 30 * MIN) == [(20 * MIN + 1, 30 * MIN)]


def test_a_truncated_last_line_is_cut_off_on_resume(tmp_path: Path) -> None:
    part = tmp_path / "X-1m.csv.part"
    writer = PartWriter(part)
    writer.append(_rows(0, 3))
    writer.close()
    whole = part.read_bytes()
    part.write_bytes(whole + b"180000,13.0,14")  # a crash in the middle of a line
    rows = recover_part(part)
    assert (rows.rows, rows.last_ms) == (3, 2 * MIN)
    assert part.read_bytes() == whole


def test_a_part_that_is_not_candles_is_dropped(tmp_path: Path) -> None:
    part = tmp_path / "X-1m.csv.part"
    part.write_bytes(b"#since=0\n60000,1,1,1,1,1\n0,1,1,1,1,1\n")  # out of order
    assert recover_part(part).rows == 0
    assert not part.exists()


def test_install_merges_earlier_and_later_rows_around_the_file(tmp_path: Path) -> None:
    target, part = tmp_path / "X-1m.csv", tmp_path / "X-1m.csv.part"
    _write(target, _rows(5 * MIN, 5))
    span = read_span(target)
    assert span == FileSpan(5 * MIN, 9 * MIN, 5)
    # Rows the file already holds (a crash after the rename, before the part was removed)
    # are not written twice.
    part.write_text(
        "#since=0\n" + "".join(format_candle(r) for r in _rows(0, 6) + _rows(9 * MIN, 4))
    )
    install(target, part, span)
    expected = tmp_path / "expected.csv"
    _write(expected, _rows(0, 13))
    assert target.read_bytes() == expected.read_bytes()
    assert not part.exists()
    assert not (tmp_path / "X-1m.csv.tmp").exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("date,open\n", "header", id="other_header"),
        pytest.param(HEADER_LINE + "60000,1,1,1,1", "cut short", id="truncated"),
        pytest.param(HEADER_LINE + "60000,1,1,1,1,1\n0,1,1,1,1,1\n", "not after", id="unsorted"),
    ],
)
def test_a_file_that_is_not_ours_is_not_merged_into(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "X-1m.csv"
    path.write_text(text)
    with pytest.raises(CandleFileProblem, match=problem):
        read_span(path)


class _Client:
    """What the downloader uses of a ccxt client; `script` is raised or returned in turn."""

    id = "fakex"
    features: ClassVar[dict[str, Any]] = {"spot": {"fetchOHLCV": {"limit": 2}}}

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[tuple[int, int]] = []
        self.last_response_headers: dict[str, str] = {}

    def parse_timeframe(self, timeframe: str) -> int:
        return 60

    def fetch_ohlcv(self, symbol: str, tf: str, since: int, limit: int, params: Any) -> Any:
        self.calls.append((since, limit))
        step = self.script.pop(0)
        if isinstance(step, tuple):
            self.last_response_headers = step[1]
            step = step[0]
        if isinstance(step, BaseException):
            raise step
        return step


def test_throttling_waits_for_retry_after_then_the_backoff() -> None:
    client = _Client([(ccxt_errors.RateLimitExceeded("429"), {"Retry-After": "7"}), [[1]]])
    slept: list[float] = []
    got = call_with_retries(
        client, "x", lambda: client.fetch_ohlcv("", "", 0, 1, {}), Backoff(), slept.append
    )
    assert got == [[1]]
    assert slept == [7.0]
    client = _Client([ccxt_errors.DDoSProtection("418"), ccxt_errors.RequestTimeout("t"), [[1]]])
    slept.clear()
    call_with_retries(
        client, "x", lambda: client.fetch_ohlcv("", "", 0, 1, {}), Backoff(base_s=0.5), slept.append
    )
    assert slept == [0.5, 1.0]


def test_network_errors_are_retried_a_bounded_number_of_times() -> None:
    client = _Client([ccxt_errors.NetworkError("down")] * 3)
    slept: list[float] = []
    with pytest.raises(DownloadFailed, match="gave up after 3 attempts, last NetworkError"):
        call_with_retries(
            client,
            "x",
            lambda: client.fetch_ohlcv("", "", 0, 1, {}),
            Backoff(attempts=3),
            slept.append,
        )
    assert slept == [0.5, 1.0]


def test_an_exchange_error_is_not_retried() -> None:
    client = _Client([ccxt_errors.BadSymbol("binance {'code': -1121}")])
    with pytest.raises(DownloadFailed, match="fakex refused x"):
        call_with_retries(
            client, "x", lambda: client.fetch_ohlcv("", "", 0, 1, {}), Backoff(), lambda s: None
        )
    assert client.script == []


def test_the_candle_still_open_is_not_written(tmp_path: Path) -> None:
    now = 10 * MIN + 30_000  # the candle that opened at 10 min is still open
    client = _Client([_rows(8 * MIN, 2), _rows(10 * MIN, 1)])
    downloader = CandleDownloader(client, tmp_path, now_ms=lambda: now)
    result = downloader.download(CandleRequest("X/Y", "1m", 8 * MIN, 20 * MIN))
    assert (result.added, result.last_added_ms) == (2, 9 * MIN)
    assert client.calls == [(8 * MIN, 2)]  # the next candle would be the open one: not asked
