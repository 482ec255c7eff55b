"""Rolling liquidation windows: exact eviction, duplicates, per-symbol totals, buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.signals.liquidations import (
    LiquidatedSide,
    LiquidationEvent,
    LiquidationWindows,
    bucket_events,
)

T0 = datetime(2025, 10, 10, 21, 0, tzinfo=UTC)
H1, H4, H24 = timedelta(hours=1), timedelta(hours=4), timedelta(hours=24)


def event(
    minutes: float,
    usd: str,
    side: LiquidatedSide = LiquidatedSide.LONG,
    symbol: str = "BTC/USDT:USDT",
    event_id: str | None = None,
    price: str = "100",
) -> LiquidationEvent:
    return LiquidationEvent(
        time=T0 + timedelta(minutes=minutes),
        exchange="binance",
        symbol=symbol,
        liquidated_side=side,
        quote_notional=Decimal(usd),
        event_id=event_id,
        price=Decimal(price),
        amount=Decimal(usd) / Decimal(price),
    )


def test_windows_sum_long_and_short_separately() -> None:
    windows = LiquidationWindows()
    windows.add_many(
        [
            event(-30, "100"),
            event(-90, "200"),
            event(-300, "400", LiquidatedSide.SHORT),
            event(-1000, "800"),
        ]
    )
    totals = windows.totals(T0)
    assert (totals[H1].long_notional, totals[H1].short_notional) == (Decimal(100), Decimal(0))
    assert (totals[H4].long_notional, totals[H4].long_count) == (Decimal(300), 2)
    assert totals[H24].long_notional == Decimal(1100)
    assert totals[H24].short_notional == Decimal(400)
    assert totals[H24].total_notional == Decimal(1500)


def test_window_start_is_exclusive_and_end_inclusive() -> None:
    windows = LiquidationWindows([H1])
    windows.add(event(-60, "5"))  # exactly one hour old at T0: out
    windows.add(event(0, "7"))  # at T0: in
    assert windows.totals(T0)[H1].long_notional == Decimal(7)


def test_late_event_is_evicted_on_time_even_after_newer_ones() -> None:
    windows = LiquidationWindows([H1])
    windows.add(event(0, "10"))
    windows.add(event(-50, "1"))  # arrives late
    assert windows.totals(T0)[H1].long_notional == Decimal(11)
    assert windows.totals(T0 + timedelta(minutes=15))[H1].long_notional == Decimal(10)


def test_duplicates_are_dropped_by_id_or_by_content() -> None:
    windows = LiquidationWindows()
    assert windows.add(event(0, "10", event_id="a1"))
    assert not windows.add(event(1, "99", event_id="a1"))  # same exchange id
    assert windows.add(event(0, "10"))
    assert not windows.add(event(0, "10"))  # same time, symbol, side, price, qty
    assert windows.add(event(0, "10", price="101"))  # another price: another liquidation
    assert windows.totals(T0)[H1].long_count == 3


def test_duplicate_memory_expires_with_the_longest_window() -> None:
    windows = LiquidationWindows([H1])
    first = event(0, "10")
    assert windows.add(first)
    windows.evict(T0 + timedelta(minutes=61))
    assert windows.add(first)  # out of every window: counting it again is harmless
    assert windows.totals(T0 + timedelta(minutes=61))[H1].long_count == 0


def test_per_symbol_totals() -> None:
    windows = LiquidationWindows()
    windows.add(event(-5, "10"))
    windows.add(event(-5, "3", symbol="ETH/USDT:USDT"))
    assert windows.totals(T0, "ETH/USDT:USDT")[H1].long_notional == Decimal(3)
    assert windows.totals(T0, "SOL/USDT:USDT")[H1].long_count == 0
    assert windows.totals(T0)[H1].long_notional == Decimal(13)


EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=-30 * 60, max_value=0),  # minutes before T0
        st.integers(min_value=1, max_value=10**9),  # cents
        st.sampled_from(list(LiquidatedSide)),
        st.sampled_from(["BTC/USDT:USDT", "ETH/USDT:USDT"]),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(raw=EVENTS, steps=st.lists(st.integers(min_value=0, max_value=600), max_size=5))
def test_totals_equal_a_brute_force_sum(
    raw: list[tuple[int, int, LiquidatedSide, str]], steps: list[int]
) -> None:
    events = [
        event(m, str(Decimal(c) / 100), side, symbol, event_id=f"{i}")
        for i, (m, c, side, symbol) in enumerate(raw)
    ]
    windows = LiquidationWindows()
    windows.add_many(events)
    now = T0
    for step in [0, *steps]:
        now += timedelta(minutes=step)
        totals = windows.totals(now)
        for length, got in totals.items():
            inside = [e for e in events if now - length < e.time <= now]
            long_sum = sum(
                (e.quote_notional for e in inside if e.liquidated_side is LiquidatedSide.LONG),
                Decimal(0),
            )
            assert got.long_notional == long_sum
            assert got.long_count + got.short_count == len(inside)


def test_bucket_events_sums_into_aligned_bars() -> None:
    events = [event(-70, "1"), event(-10, "2"), event(-5, "4", LiquidatedSide.SHORT)]
    bars = bucket_events(events, H1)
    assert [(b.start.hour, b.long_usd, b.short_usd) for b in bars] == [
        (19, 1.0, 0.0),
        (20, 2.0, 4.0),
    ]
    assert bucket_events(events, H1, symbol="ETH/USDT:USDT") == []
