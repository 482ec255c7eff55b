"""Flush detector on recorded Binance liquidation aggregates, and the aggregate reader."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.signals.flush import Flush, FlushParams, evaluate_flush, flush_active, scan_flushes
from bot.signals.liquidation_history import (
    LiquidationFileError,
    bar_duration_from_name,
    load_liquidation_bars,
    load_shipped_liquidation_bars,
    parse_liquidation_bars,
    resample_bars,
)
from bot.signals.liquidations import LiquidationBar
from tests.unit.signals.data_paths import shared_file

DAY = timedelta(days=1)
START = datetime(2025, 1, 1, tzinfo=UTC)


def days_of(longs: list[float]) -> list[LiquidationBar]:
    return [LiquidationBar(START + i * DAY, DAY, "BTC", v, 0.0) for i, v in enumerate(longs)]


def covering_day(flushes: list[Flush], day: date) -> Flush | None:
    for flush in flushes:
        if flush.window_start.date() <= day < flush.time.date():
            return flush
    return None


def describe(flushes: list[Flush]) -> str:
    return "\n".join(
        f"  {f.window_start:%Y-%m-%d %H:%M} -> {f.time:%Y-%m-%d %H:%M} "
        f"{f.long_notional / 1e6:8.1f}M x{f.multiple:5.1f}"
        for f in flushes
    )


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(
            lambda: load_liquidation_bars(shared_file("liquidations", "binance_1d_BTC.csv")),
            id="shared_data",
        ),
        pytest.param(lambda: load_shipped_liquidation_bars("BTC", "1d"), id="shipped_sample"),
    ],
)
def test_may_2021_crash_is_a_flush(load: Callable[[], list[LiquidationBar]]) -> None:
    flushes = scan_flushes(load())
    print(f"\nBTC daily flushes:\n{describe(flushes)}")
    may_19 = covering_day(flushes, date(2021, 5, 19))
    assert may_19 is not None
    assert may_19.long_notional == pytest.approx(145.7e6, rel=0.01)
    assert may_19.multiple >= FlushParams().min_multiple
    assert "145.7M" in may_19.reason


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(
            lambda: load_liquidation_bars(shared_file("liquidations", "binance_4h_BTC.csv")),
            id="shared_data",
        ),
        pytest.param(lambda: load_shipped_liquidation_bars("BTC", "4h"), id="shipped_sample"),
    ],
)
def test_october_10_2025_stands_out_in_daily_totals(
    load: Callable[[], list[LiquidationBar]],
) -> None:
    daily = resample_bars(load(), DAY)
    flushes = scan_flushes(daily)
    print(f"\nBTC daily (from 4h) flushes:\n{describe(flushes)}")
    october_10 = covering_day(flushes, date(2025, 10, 10))
    assert october_10 is not None
    assert october_10 is max(flushes, key=lambda f: f.multiple)
    assert october_10.long_notional == max(f.long_notional for f in flushes)
    assert october_10.multiple > 20


@pytest.mark.parametrize("coin", ["ETH", "SOL", "XRP"])
def test_october_10_2025_is_the_largest_multiple_for_other_coins(coin: str) -> None:
    daily = resample_bars(
        load_liquidation_bars(shared_file("liquidations", f"binance_4h_{coin}.csv")), DAY
    )
    params = FlushParams(min_long_usd=5e6)  # smaller markets: a lower absolute floor
    flushes = scan_flushes(daily, params)
    top = max(flushes, key=lambda f: f.multiple)
    assert top.window_start.date() == date(2025, 10, 10)


def test_rolling_24h_window_on_4h_bars_fires_during_the_crash() -> None:
    bars = load_shipped_liquidation_bars("BTC", "4h")
    flushes = scan_flushes(bars)
    october = [f for f in flushes if f.time.date() in (date(2025, 10, 10), date(2025, 10, 11))]
    assert len(october) == 1  # the cool-down suppresses the following 4h steps
    assert october[0].time <= datetime(2025, 10, 11, tzinfo=UTC)


def test_threshold_and_multiple_must_both_hold() -> None:
    quiet = [10e6] * 30
    params = FlushParams(min_long_usd=50e6, min_multiple=4)
    assert evaluate_flush(days_of([*quiet, 45e6]), START + 31 * DAY, params) is None  # < 50M
    busy = [20e6] * 30
    assert evaluate_flush(days_of([*busy, 60e6]), START + 31 * DAY, params) is None  # x3 only
    flush = evaluate_flush(days_of([*quiet, 60e6]), START + 31 * DAY, params)
    assert flush is not None and flush.multiple == pytest.approx(6.0)


def test_cool_down_suppresses_repeats_then_the_flush_decays() -> None:
    longs = [10e6] * 30 + [80e6, 90e6, 10e6, 10e6, 100e6]
    params = FlushParams(cooldown=timedelta(hours=72))
    flushes = scan_flushes(days_of(longs), params)
    assert [f.window_start.date() for f in flushes] == [date(2025, 1, 31), date(2025, 2, 4)]
    first = flushes[0]
    assert flush_active(first, first.time + timedelta(hours=71), params)
    assert not flush_active(first, first.time + timedelta(hours=72), params)
    assert (
        evaluate_flush(days_of(longs), START + 32 * DAY, params, last_flush_at=first.time) is None
    )


def test_not_enough_history_means_no_signal() -> None:
    params = FlushParams(min_baseline_windows=10)
    assert evaluate_flush(days_of([1e6] * 5 + [500e6]), START + 6 * DAY, params) is None


def test_zero_baseline_gives_an_infinite_multiple() -> None:
    flush = evaluate_flush(days_of([0.0] * 30 + [60e6]), START + 31 * DAY)
    assert flush is not None and flush.multiple == float("inf")


def test_bar_size_comes_from_the_file_name() -> None:
    assert bar_duration_from_name("binance_4h_BTC.csv") == timedelta(hours=4)
    assert bar_duration_from_name("binance_1d_ETH.csv") == DAY
    assert bar_duration_from_name("notes.csv") is None


def test_shipped_samples_match_the_shared_files() -> None:
    for timeframe in ("1d", "4h"):
        shared = load_liquidation_bars(shared_file("liquidations", f"binance_{timeframe}_BTC.csv"))
        shipped = load_shipped_liquidation_bars("BTC", timeframe)
        by_start = {bar.start: bar for bar in shared}
        assert all(by_start[bar.start] == bar for bar in shipped)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("time,long,short\n", "header must be", id="wrong_header"),
        pytest.param(
            "timestamp,long_liquidation_usd,short_liquidation_usd\n1,2\n",
            "line 2: expected 3 columns",
            id="short_row",
        ),
        pytest.param(
            "timestamp,long_liquidation_usd,short_liquidation_usd\nx,1,2\n",
            "line 2: not a number",
            id="bad_timestamp",
        ),
        pytest.param(
            "timestamp,long_liquidation_usd,short_liquidation_usd\n1,-5,2\n",
            "line 2: amounts must be finite",
            id="negative_amount",
        ),
        pytest.param(
            "timestamp,long_liquidation_usd,short_liquidation_usd\n2000,1,1\n1000,1,1\n",
            "line 3: timestamp",
            id="out_of_order",
        ),
    ],
)
def test_malformed_aggregate_rows_name_file_and_line(text: str, needle: str) -> None:
    with pytest.raises(LiquidationFileError, match=needle):
        parse_liquidation_bars(text, "BTC", DAY, source="agg.csv")


def test_loading_a_file_without_bar_size_needs_a_duration(tmp_path: Path) -> None:
    path = tmp_path / "liq.csv"
    path.write_text("timestamp,long_liquidation_usd,short_liquidation_usd\n0,1,2\n")
    with pytest.raises(LiquidationFileError, match="bar size"):
        load_liquidation_bars(path)
    (bar,) = load_liquidation_bars(path, "BTC", DAY)
    assert bar.start == datetime(1970, 1, 1, tzinfo=UTC) and bar.short_usd == 2.0
