"""`InMemoryPaperLedger.fills` answers from its per-symbol index exactly as a scan of every
fill would: the same fills, in execution order, for any symbol and `since`, whether the fills
arrived in time order or not, through `apply` or `from_state`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.base import Fill, Order, OrderStatus, OrderType, Side
from exchanges.paper.ledger import InMemoryPaperLedger, LedgerChange, PaperOrder

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SYMBOLS = ("BTC/USDT", "ETH/USDT")


def _fill(index: int, symbol: str, minutes: int) -> Fill:
    return Fill(
        f"t{index}",
        f"c{index}",
        None,
        symbol,
        Side.BUY,
        Decimal(1),
        Decimal(100),
        Decimal(0),
        "USDT",
        T0 + timedelta(minutes=minutes),
        False,
    )


def _closed(index: int, symbol: str) -> PaperOrder:
    order = Order(
        f"c{index}",
        None,
        symbol,
        Side.BUY,
        OrderType.MARKET,
        Decimal(1),
        None,
        OrderStatus.CLOSED,
        Decimal(1),
        Decimal(100),
        Decimal(0),
        T0,
        T0,
    )
    return PaperOrder(order, index, "USDT", Decimal(0), Decimal(0), Decimal(100))


def _scan(fills: list[Fill], symbol: str | None, since: datetime | None) -> list[Fill]:
    return [
        f
        for f in fills
        if (symbol is None or f.symbol == symbol) and (since is None or f.timestamp >= since)
    ]


_arrivals = st.lists(st.tuples(st.sampled_from(SYMBOLS), st.integers(0, 20)), max_size=30)
_question = st.tuples(
    st.sampled_from((None, *SYMBOLS, "XRP/USDT")), st.one_of(st.none(), st.integers(-1, 22))
)


@settings(max_examples=150, deadline=None)
@given(_arrivals, st.lists(_question, min_size=1, max_size=6), st.booleans())
def test_fills_match_a_scan_of_every_fill(
    arrivals: list[tuple[str, int]], questions: list[tuple[str | None, int | None]], saved: bool
) -> None:
    fills = [_fill(i, symbol, minutes) for i, (symbol, minutes) in enumerate(arrivals)]
    if saved:
        ledger = InMemoryPaperLedger.from_state({}, [], fills)
    else:
        ledger = InMemoryPaperLedger()
        for i, fill in enumerate(fills):
            ledger.apply(LedgerChange(order=_closed(i, fill.symbol), fills=(fill,)))
    for symbol, minutes in questions:
        since = None if minutes is None else T0 + timedelta(minutes=minutes)
        assert ledger.fills(symbol, since) == _scan(fills, symbol, since)
    assert ledger.fill_count() == len(fills)


def test_a_fill_earlier_than_the_last_one_is_still_found() -> None:
    ledger = InMemoryPaperLedger()
    late, early = _fill(0, "BTC/USDT", 10), _fill(1, "BTC/USDT", 2)
    ledger.apply(LedgerChange(order=_closed(0, "BTC/USDT"), fills=(late,)))
    ledger.apply(LedgerChange(order=_closed(1, "BTC/USDT"), fills=(early,)))
    assert ledger.fills("BTC/USDT", T0 + timedelta(minutes=1)) == [late, early]
    assert ledger.fills("BTC/USDT", T0 + timedelta(minutes=5)) == [late]
