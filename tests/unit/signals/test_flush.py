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
def test_the_run_up_window_does_not_hide_the_2025_10_10_cascade(
    load: Callable[[], list[LiquidationBar]],
) -> None:
    """The 24 h window to 20:00 (run-up bars, 51M USD) fires first; the cascade bar
    20:00-24:00 (236M alone) used to fall inside its cool-down and never register."""
    flushes = scan_flushes(load())
    october = [f for f in flushes if f.time.date() in (date(2025, 10, 10), date(2025, 10, 11))]
    print(f"\nBTC 4h flushes around 2025-10-10:\n{describe(october)}")
    run_up, cascade = october  # the later 4h steps stay inside the new cool-down
    assert run_up.time == datetime(2025, 10, 10, 20, tzinfo=UTC)
    assert run_up.long_notional == pytest.approx(50.9e6, rel=0.01)
    assert cascade.time == datetime(2025, 10, 11, tzinfo=UTC)
    assert cascade.long_notional == pytest.approx(286.4e6, rel=0.01)
    assert "5.6x the 50.9M flush at 2025-10-10 20:00" in cascade.reason
    without = scan_flushes(load(), FlushParams(escalation_multiple=None))
    assert [f.time for f in without if f.time.date() == date(2025, 10, 11)] == []


def test_all_four_coins_together_register_the_cascade_too() -> None:
    """The backtest and the live job sum every recorded symbol into one market-wide series."""
    bars = [
        bar
        for coin in ("BTC", "ETH", "SOL", "XRP")
        for bar in load_liquidation_bars(shared_file("liquidations", f"binance_4h_{coin}.csv"))
    ]
    flushes = scan_flushes(bars)
    cascade = next(f for f in flushes if f.time == datetime(2025, 10, 11, tzinfo=UTC))
    assert cascade.long_notional > 5 * 102e6  # the run-up window that fired at 20:00


def test_a_larger_cascade_breaks_the_cool_down_a_smaller_one_does_not() -> None:
    params = FlushParams(cooldown=timedelta(hours=72), escalation_multiple=2.0)
    quiet = [10e6] * 30
    # day 31 fires at 60M; day 32 (119M < 2x) stays quiet; day 33 (121M >= 2x) fires
    flushes = scan_flushes(days_of([*quiet, 60e6, 119e6, 121e6, 130e6]), params)
    assert [f.window_start.date() for f in flushes] == [date(2025, 1, 31), date(2025, 2, 2)]
    assert "2.0x the 60.0M flush" in flushes[1].reason
    # the escalated flush restarts the cool-down and raises the bar to its own size
    assert flush_active(flushes[1], flushes[1].time + timedelta(hours=71), params)


def test_inside_a_cool_down_the_escalation_needs_the_last_flush_size() -> None:
    params = FlushParams(escalation_multiple=2.0)
    bars = days_of([10e6] * 30 + [60e6, 200e6])
    at, last = START + 32 * DAY, START + 31 * DAY
    assert evaluate_flush(bars, at, params, last_flush_at=last) is None  # size unknown
    assert evaluate_flush(bars, at, params, last, last_long_usd=150e6) is None  # 1.3x
    flush = evaluate_flush(bars, at, params, last, last_long_usd=60e6)
    assert flush is not None and flush.long_notional == 200e6
    off = FlushParams(escalation_multiple=None)
    assert evaluate_flush(bars, at, off, last, last_long_usd=60e6) is None


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
