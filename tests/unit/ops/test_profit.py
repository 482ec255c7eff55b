"""`profit_view` and the account figures when parts are missing: no price, no paper ledger,
testnet with only the risk job's record, nothing traded."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.ops.profit import account_view, known_prices, profit_view
from bot.state.runtime_state import RuntimeState
from tests.unit.ops.seed import NOW, make_context, seed_trading_state


def test_nothing_traded_is_zero_figures_and_the_paper_start_balance(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    view = profit_view(ctx.settings, ctx.store, NOW)
    json.dumps(view)  # JSON-ready as promised
    assert (view["trades"], view["symbols"], view["win_rate_pct"]) == (0, [], None)
    assert view["account"]["cash"] == "10000"
    assert view["account"]["cash_source"] == "paper start balance"


def test_seeded_positions_are_valued_at_the_risk_jobs_prices(tmp_path: Path) -> None:
    """Seed: 0.01 BTC @ 60000 and 0.2 ETH @ 3000 (fee 0.1 each), valued 66000 and 2850."""
    ctx = make_context(tmp_path)
    seed_trading_state(ctx)
    view = profit_view(ctx.settings, ctx.store, NOW)
    btc, eth = view["symbols"]
    assert btc["unrealised_pnl"] == "59.9"  # 0.01 * 6000 - 0.1
    assert eth["unrealised_pnl"] == "-30.1"  # 0.2 * -150 - 0.1
    assert view["unrealised_pnl"] == "29.8" and view["realised_pnl"] == "0"
    # No paper ledger in this store: the risk job's recorded cash is used.
    account = view["account"]
    assert (account["cash"], account["cash_source"]) == ("8800", "risk job")
    assert account["equity"] == "10030"  # 8800 + 0.01 * 66000 + 0.2 * 2850


def test_a_position_without_any_price_is_said_not_guessed(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    seed_trading_state(ctx)
    # The risk job valued only BTC; ETH's only price is its fill.
    RuntimeState(ctx.store).set_last_prices({"BTC/USDT": Decimal(66000)}, NOW)
    prices = known_prices(ctx.store)
    assert (prices["ETH/USDT"].price, prices["ETH/USDT"].source) == (Decimal(3000), "last fill")
    assert prices["BTC/USDT"].at == NOW


def test_the_newer_of_fill_and_valuation_wins(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    seed_trading_state(ctx)
    RuntimeState(ctx.store).set_last_prices({"BTC/USDT": Decimal(1)}, NOW - timedelta(days=30))
    assert known_prices(ctx.store)["BTC/USDT"].source == "last fill"


def test_testnet_without_any_record_says_cash_unknown(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, exchange={"mode": "testnet", "api_key": "k", "secret": "s"})
    account = account_view(ctx.settings, ctx.store, NOW)
    assert (account["cash"], account["equity"]) == (None, None)
