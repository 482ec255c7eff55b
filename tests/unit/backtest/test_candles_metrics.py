"""Candle files and the performance figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from bot.backtest.candles import (
    CandleFileError,
    load_candles,
    parse_candle_arg,
    parse_candles,
    symbol_from_name,
    to_ms,
)
from bot.backtest.metrics import daily_points, drawdown, performance, sharpe, sortino

DAY_MS = 86_400_000
HEADER = "timestamp,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        pytest.param("BTC_USDT-1d.csv", "BTC/USDT", id="binance_style"),
        pytest.param("eth_usdt_1h.csv", "ETH/USDT", id="lower_case"),
        pytest.param("BTC_USD-1d-weekdays.csv", "BTC/USD", id="usd_quote"),
        pytest.param("candles.csv", None, id="no_symbol"),
    ],
)
def test_symbol_from_file_name(name: str, symbol: str | None) -> None:
    assert symbol_from_name(name) == symbol


def test_explicit_symbol_form_wins(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(HEADER + "0,1,2,0.5,1.5,3\n3600000,1.5,2,1,1.8,\n")
    assert parse_candle_arg(f"sol/usdt={path}") == ("SOL/USDT", path)
    series = load_candles(f"SOL/USDT={path}")
    assert series.symbol == "SOL/USDT" and series.timeframe_ms == 3_600_000
    assert series.volume.tolist() == [3.0, 0.0]
    with pytest.raises(CandleFileError, match="cannot tell the symbol"):
        load_candles(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("0,1,2,0.5,1.5,1\n0,1,2,0.5,1.5,1\n", "not after", id="duplicate_time"),
        pytest.param("0,1,2,1.2,1.5,1\n", "inconsistent OHLC", id="low_above_open"),
        pytest.param("0,1,x,0.5,1.5,1\n", "not a number", id="garbage"),
        pytest.param("", "no candles", id="empty"),
    ],
)
def test_malformed_files_name_the_line(body: str, message: str) -> None:
    with pytest.raises(CandleFileError, match=message):
        parse_candles(HEADER + body, "BTC/USDT", "f.csv")


def test_timeframe_is_the_smallest_step_and_daily_closes_skip_a_partial_day() -> None:
    hour = 3_600_000

    def row(h: int) -> str:
        return f"{h * hour},{h + 1},{h + 1},{h + 1},{h + 1},1\n"

    gappy = [row(h) for h in (0, 1, 2, 5)] + [row(24 + h) for h in range(3)]
    series = parse_candles(HEADER + "".join(gappy), "BTC/USDT")
    assert series.timeframe_ms == hour  # the 2-hour gap does not change it
    # Neither day ends with a bar closing at midnight: no daily close is made up.
    assert series.daily_closes() == []
    full = parse_candles(HEADER + "".join(row(h) for h in range(30)), "BTC/USDT")
    assert full.daily_closes() == [(date(1970, 1, 1), 24.0)]


def test_between_keeps_bars_opening_after_start_and_closing_by_end() -> None:
    body = "".join(f"{i * DAY_MS},1,1,1,1,1\n" for i in range(10))
    series = parse_candles(HEADER + body, "BTC/USDT")
    part = series.between(datetime(1970, 1, 3, tzinfo=UTC), datetime(1970, 1, 6, tzinfo=UTC))
    assert part.ts.tolist() == [2 * DAY_MS, 3 * DAY_MS, 4 * DAY_MS]


def test_drawdown_sharpe_sortino_by_hand() -> None:
    equity = np.array([100.0, 120.0, 90.0, 130.0])
    assert drawdown(equity).tolist() == pytest.approx([0, 0, -0.25, 0])
    returns = np.array([0.01, -0.02, 0.03])
    mean, std = 0.02 / 3, float(np.std(returns, ddof=1))
    assert sharpe(returns) == pytest.approx(mean / std * 365**0.5)
    downside = (0.02**2 / 3) ** 0.5
    assert sortino(returns) == pytest.approx(mean / downside * 365**0.5)
    assert sharpe(np.array([0.01, 0.01])) is None  # no variation: undefined
    assert sortino(np.array([0.01, 0.02])) is None  # no down day: undefined


def test_performance_of_a_year_that_doubles() -> None:
    start = to_ms(datetime(2023, 1, 1, tzinfo=UTC))
    times = start + DAY_MS * np.arange(1, 366, dtype=np.int64)
    equity = 100.0 * 2.0 ** (np.arange(1, 366) / 365)
    exposed = np.r_[np.ones(73), np.zeros(292)]
    perf = performance(start, times, equity, 100.0, exposed, fees=1.5)
    assert perf.total_return == pytest.approx(1.0)
    assert perf.cagr == pytest.approx(1.0)
    assert perf.max_drawdown == 0.0
    assert perf.exposure == pytest.approx(0.2)
    assert perf.sharpe is None or perf.sharpe > 100  # constant daily return
    day_times, day_values = daily_points(times, equity)
    assert day_times.size == 365 and day_values[-1] == pytest.approx(200.0)
