"""`trades` and `profit` after a paper lifecycle fed through the real order path, against
figures worked out by hand (the scenario and its prices: tests/unit/ops/trade_fixture.py).

Fees are 0.1 % of each fill's cost. BTC cycle 1: bought 0.05 @ 60000 + 0.05 @ 58000 = 5900
(avg 59000, fees 3 + 2.9); sold 0.03 @ 70800 (+354, fee 2.124), 0.03 @ 88500 (+885, fee
2.655), 0.04 @ 79650 (+826, fee 3.186): P&L 2065 - 13.865 = 2051.135, 34.765 % of 5900.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.ops.profit import profit_view
from bot.ops.trades import closed_trades, trade_dict
from bot.services.context import Context
from tests.unit.ops.trade_fixture import END, build_lifecycle


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Context:
    return build_lifecycle(tmp_path_factory.mktemp("lifecycle"))


def test_three_closed_round_trips_with_hand_computed_pnl(lifecycle: Context) -> None:
    rows = [trade_dict(t) for t in closed_trades(lifecycle.store)]
    picked = [
        {k: r[k] for k in ("symbol", "entry_avg", "exit_avg", "amount", "fees", "pnl", "pnl_pct")}
        | {"reason": r["reason"], "exits": r["exits"]}
        for r in rows
    ]
    assert picked == [
        {
            "symbol": "BTC/USDT",
            "entry_avg": "59000",
            # (0.03*70800 + 0.03*88500 + 0.04*79650) / 0.1 = 7965 / 0.1
            "exit_avg": "79650",
            "amount": "0.1",
            "fees": "13.865",
            "pnl": "2051.135",
            "pnl_pct": "34.77",  # 34.765 rounded half up
            "reason": "trailing",
            "exits": ["tier 1", "tier 2", "trailing"],
        },
        {
            # 0.02 @ 80000 -> 79000: -20, fees 1.6 + 1.58
            "symbol": "BTC/USDT",
            "entry_avg": "80000",
            "exit_avg": "79000",
            "amount": "0.02",
            "fees": "3.18",
            "pnl": "-23.18",
            "pnl_pct": "-1.45",  # -23.18 / 1600 = -1.44875 %
            "reason": "hard stop",
            "exits": ["hard stop"],
        },
        {
            # 1 @ 3000 -> 2800: -200, fees 3 + 2.8
            "symbol": "ETH/USDT",
            "entry_avg": "3000",
            "exit_avg": "2800",
            "amount": "1",
            "fees": "5.8",
            "pnl": "-205.8",
            "pnl_pct": "-6.86",
            "reason": "panic",
            "exits": ["panic"],
        },
    ]
    assert rows[0]["entry_at"] == "2026-03-02T15:00:00+00:00"
    assert rows[0]["exit_at"] == "2026-03-05T15:00:00+00:00"
    assert rows[0]["held_seconds"] == 3 * 24 * 3600


def test_profit_totals_win_rate_and_buy_and_hold_by_hand(lifecycle: Context) -> None:
    view = profit_view(lifecycle.settings, lifecycle.store, END)
    # Realised: the closed trips (2051.135 - 23.18 - 205.8) + the open cycle's tier 1:
    # 0.003 * (90000 - 75000) = 45.
    assert view["realised_pnl"] == "1867.155"
    # Unrealised: 0.007 * (85000 - 75000) - the open cycle's fees (0.75 + 0.27).
    assert view["unrealised_pnl"] == "68.98"
    assert view["total_pnl"] == "1936.135"
    assert (view["trades"], view["wins"], view["losses"], view["win_rate_pct"]) == (
        3,
        1,
        2,
        "33.33",
    )
    hold = view["buy_and_hold"]
    # BTC: the first cycle's 5900 at 60000, held to 85000; ETH: 3000 at 3000, held to 2800.
    assert Decimal(hold["pnl"]) == pytest.approx(Decimal("2458.3333333") - 200)
    assert hold["invested"] == "8900"
    assert hold["pct"] == "25.37"  # 2258.33 / 8900
    assert hold["strategy_pct"] == "21.75"  # 1936.135 / 8900
    btc, eth = view["symbols"]
    assert (btc["realised_pnl"], btc["unrealised_pnl"], btc["open_size"]) == (
        "2072.955",
        "68.98",
        "0.007",
    )
    assert (btc["last_price"], btc["price_source"], btc["price_age_seconds"]) == (
        "85000",
        "risk job",
        3600,
    )
    assert (eth["last_price"], eth["price_source"], eth["buy_hold_pct"]) == (
        "2800",
        "last fill",
        "-6.67",
    )


def test_paper_cash_and_equity_agree_with_the_total_pnl(lifecycle: Context) -> None:
    """Cash is the paper ledger's; equity = 10000 start + total P&L (fees in quote)."""
    account = profit_view(lifecycle.settings, lifecycle.store, END)["account"]
    assert account["cash_source"] == "paper ledger"
    assert account["positions_value"] == "595"  # 0.007 * 85000
    assert account["cash"] == "11341.135"
    assert Decimal(account["equity"]) == Decimal(10000) + Decimal("1936.135")


def test_since_keeps_trips_closed_at_or_after_it(lifecycle: Context) -> None:
    later = closed_trades(lifecycle.store, since=closed_trades(lifecycle.store)[1].exit_at)
    assert [t.symbol for t in later] == ["BTC/USDT", "ETH/USDT"]
    assert closed_trades(lifecycle.store, since=END) == []
