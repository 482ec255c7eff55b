"""Trade statistics on round trips and fills built by hand, against figures worked out below."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.backtest.results import RoundTrip, TradeFill
from bot.backtest.trade_stats import pair_stats, profit_factor, trade_stats
from bot.backtest.trader_report import trade_stats_dict
from exchanges.base import Side
from tests.unit.backtest.kit import series

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def trip(pnl: str, cost: str, days: int = 2, closed: bool = True, start: int = 0) -> RoundTrip:
    """A BTC trip of one unit bought at `cost`, `pnl` net of fees."""
    opened = T0 + start * DAY
    return RoundTrip(
        symbol="BTC/USDT",
        opened=opened,
        closed=opened + days * DAY if closed else None,
        bought=Decimal(1),
        avg_entry=Decimal(cost),
        sold=Decimal(1) if closed else Decimal(0),
        avg_exit=Decimal(cost) + Decimal(pnl) if closed else None,
        fees=Decimal(0),
        net_pnl=Decimal(pnl),
        exits=("trailing_stop",) if closed else (),
    )


TRIPS = [
    trip("100", "1000", days=4, start=0),  # +10 %
    trip("-50", "500", days=1, start=5),  # -10 %
    trip("0", "200", days=3, start=7),  # flat: neither a win nor a loss
    trip("30", "200", days=8, start=11),  # +15 %: the best
    trip("5", "100", closed=False, start=20),  # still open: not counted
]


def test_trade_stats_of_hand_built_trips() -> None:
    stats = trade_stats(TRIPS)
    assert (stats.closed_trips, stats.open_trips, stats.wins, stats.losses) == (4, 1, 2, 1)
    assert stats.win_rate == pytest.approx(2 / 4)
    assert stats.gross_profit == pytest.approx(130)
    assert stats.gross_loss == pytest.approx(50)
    assert stats.profit_factor == pytest.approx(130 / 50)
    assert stats.avg_win == pytest.approx(65)
    assert stats.avg_loss == pytest.approx(-50)
    assert stats.avg_win_return == pytest.approx((0.10 + 0.15) / 2)
    assert stats.avg_loss_return == pytest.approx(-0.10)
    assert stats.payoff_ratio == pytest.approx(65 / 50)
    assert stats.expectancy == pytest.approx((100 - 50 + 0 + 30) / 4)
    assert stats.avg_holding_days == pytest.approx((4 + 1 + 3 + 8) / 4)
    assert stats.best is not None and stats.worst is not None
    assert (stats.best.pnl, stats.best.ret, stats.best.opened) == (30, 0.15, T0 + 11 * DAY)
    assert (stats.worst.pnl, stats.worst.ret) == (-50, -0.10)


@pytest.mark.parametrize(
    ("gross_profit", "gross_loss", "expected"),
    [
        pytest.param(130.0, 50.0, 2.6, id="both"),
        pytest.param(130.0, 0.0, math.inf, id="no_loss_is_infinite"),
        pytest.param(0.0, 50.0, 0.0, id="no_win_is_zero"),
        pytest.param(0.0, 0.0, None, id="neither_is_undefined"),
    ],
)
def test_profit_factor_edges(
    gross_profit: float, gross_loss: float, expected: float | None
) -> None:
    assert profit_factor(gross_profit, gross_loss) == (
        expected if expected is None else pytest.approx(expected)
    )


def test_no_closed_trip_leaves_the_ratios_undefined() -> None:
    stats = trade_stats([trip("5", "100", closed=False)])
    assert (stats.closed_trips, stats.open_trips) == (0, 1)
    assert stats.win_rate is None and stats.profit_factor is None and stats.expectancy is None
    assert stats.best is None and stats.worst is None
    as_json = trade_stats_dict(stats)
    assert as_json["win_rate"] is None and as_json["best_trade"] is None


def test_only_winners_give_an_infinite_factor_written_as_null() -> None:
    stats = trade_stats([trip("100", "1000"), trip("30", "200", start=5)])
    assert stats.profit_factor == math.inf and stats.win_rate == 1.0
    assert stats.payoff_ratio is None  # no average loss to divide by
    as_json = trade_stats_dict(stats)
    assert as_json["profit_factor"] is None
    assert (as_json["gross_profit"], as_json["gross_loss"]) == (130.0, 0.0)


def fill(day: int, side: Side, amount: str, price: str, fee: str) -> TradeFill:
    return TradeFill(
        time=T0 + day * DAY + timedelta(milliseconds=1),  # inside the day's candle
        symbol="BTC/USDT",
        side=side,
        amount=Decimal(amount),
        price=Decimal(price),
        fee=Decimal(fee),
        kind="tranche" if side is Side.BUY else "trailing_stop",
        tier=None,
        client_order_id=f"{day}-{side.value}",
    )


def test_pair_pnl_exposure_and_price_change_by_hand() -> None:
    # Five daily bars opening at 100, closing at 101, 102, ... 105.
    bars = series([(100 + i, 100 + i + 2, 100 + i - 1, 101 + i) for i in range(5)], start=T0)
    fills = [
        fill(0, Side.BUY, "1", "100", "1"),  # cash -101
        fill(1, Side.SELL, "1", "120", "1"),  # cash +119: the trip made 18
        fill(3, Side.BUY, "0.5", "110", "0"),  # cash -55, still held at the end
    ]
    trips = [trip("18", "100", days=1), trip("0", "110", closed=False, start=3)]
    times = bars.end_ts
    (row,) = pair_stats([bars], fills, trips, int(bars.ts[0]), times)
    # Cash moved -101 + 119 - 55 = -37; 0.5 held at the last close 105 = 52.5.
    assert row.pnl == pytest.approx(-37 + 52.5)
    assert row.fees == pytest.approx(2)
    # Held in the bars of days 0 and 1 (sold inside day 1), not day 2, again days 3 and 4.
    assert row.exposure == pytest.approx(4 / 5)
    assert row.price_change == pytest.approx(105 / 100 - 1)
    assert row.trades.closed_trips == 1 and row.trades.open_trips == 1
