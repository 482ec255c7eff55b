"""A part file is resumed only by the download it belongs to: the same venue and the same
ranges to fetch (which the file's span and --from/--to decide). Otherwise it is started again,
never merged: a part from a longer --to would install rows beyond the new --to, and a part
made against a file that was removed since would leave a gap where that file's rows were."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.feeds.candle_download import CandleDownloader, CandleRequest
from bot.feeds.candle_files import read_span

H = 3_600_000
T0 = 1_700_000_000_000 // H * H
HEADER = "timestamp,open,high,low,close,volume\n"


class PagedClient:
    """ccxt's fetch_ohlcv over a flat hourly history, 10 candles a page; Ctrl-C (as
    KeyboardInterrupt) after `stop_after` pages."""

    id = "fake"
    features: ClassVar[dict[str, Any]] = {"spot": {"fetchOHLCV": {"limit": 10}}}
    last_response_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, stop_after: int | None = None) -> None:
        self.calls = 0
        self.stop_after = stop_after

    def parse_timeframe(self, timeframe: str) -> int:
        return 3600

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int, limit: int, params: dict[str, Any]
    ) -> list[list[float]]:
        self.calls += 1
        if self.stop_after is not None and self.calls > self.stop_after:
            raise KeyboardInterrupt
        first = -(-since // H) * H
        end = min(params["until"] + 1, first + limit * H)
        return [[t, 1.0, 2.0, 0.5, 1.5, 10.0] for t in range(first, end, H)]


def downloader(tmp_path: Path, client: PagedClient, now: int) -> CandleDownloader:
    return CandleDownloader(client, tmp_path, now_ms=lambda: now, sleep=lambda s: None)


def test_a_part_from_a_longer_to_installs_nothing_beyond_the_new_to(tmp_path: Path) -> None:
    now = T0 + 1000 * H
    with pytest.raises(KeyboardInterrupt):  # 30 rows fetched, then Ctrl-C
        downloader(tmp_path, PagedClient(stop_after=3), now).download(
            CandleRequest("BTC/USDT", "1h", T0, T0 + 100 * H)
        )
    to = T0 + 10 * H
    downloader(tmp_path, PagedClient(), now).download(CandleRequest("BTC/USDT", "1h", T0, to))
    span = read_span(tmp_path / "BTC_USDT-1h.csv")
    assert span is not None
    assert span.last_ms == to - H


def test_a_part_made_against_a_removed_file_leaves_no_gap(tmp_path: Path) -> None:
    now = T0 + 200 * H
    target = tmp_path / "BTC_USDT-1h.csv"
    target.write_text(
        HEADER + "".join(f"{T0 + i * H},1.0,2.0,0.5,1.5,10.0\n" for i in range(50, 60))
    )
    with pytest.raises(KeyboardInterrupt):  # both sides of the file partly fetched
        downloader(tmp_path, PagedClient(stop_after=7), now).download(
            CandleRequest("BTC/USDT", "1h", T0, T0 + 150 * H)
        )
    target.unlink()  # the operator removes the file (say it was damaged), then reruns
    downloader(tmp_path, PagedClient(), now).download(
        CandleRequest("BTC/USDT", "1h", T0, T0 + 150 * H)
    )
    stamps = [int(line.split(",")[0]) for line in target.read_text().splitlines()[1:]]
    assert stamps == [T0 + i * H for i in range(150)]
