"""The shortcuts that make a trial cheaper answer exactly as the code they stand in for: the
one-bar level search, the risk parameters and quote currency kept per settings object."""

from __future__ import annotations

import random
from dataclasses import fields
from decimal import Decimal

import numpy as np

from bot.backtest.levels import SLACK, Watch, first_flagged
from bot.config.risk_params import risk_params
from bot.config.trading import RiskSettings, StrategySettings
from bot.jobs.book import quote_currency
from exchanges.base import Market
from risk.params import RiskParams


def _watch(draw: random.Random) -> Watch:
    def price() -> Decimal:
        return Decimal(str(round(draw.uniform(80, 120), draw.choice((0, 2, 6)))))

    trailing = draw.random() < 0.6
    return Watch(
        below=tuple(price() for _ in range(draw.randint(0, 2))),
        above=tuple(price() for _ in range(draw.randint(0, 2))),
        trail_factor=Decimal(draw.choice(("0.8", "0.85", "0.9"))) if trailing else None,
        trail_stop=price() if trailing and draw.random() < 0.5 else None,
        high_water=price() if draw.random() < 0.7 else None,
    )


def _edge_bar(draw: random.Random, watch: Watch) -> tuple[float, float]:
    """A bar whose low or high sits exactly on a tested boundary (where rounding would show)."""

    def near(boundary: float) -> float:  # on it, or one float step either side
        return float(np.nextafter(boundary, draw.choice((-np.inf, np.inf, boundary))))

    high, low = draw.uniform(100, 130), draw.uniform(70, 100)
    if watch.below and draw.random() < 0.5:
        low = near(float(max(watch.below)) * (1 + SLACK))
    if watch.above and draw.random() < 0.5:
        high = near(float(min(watch.above)) * (1 - SLACK))
    if watch.trail_factor is not None and draw.random() < 0.5:
        running = max(high, float(watch.high_water or high))
        stop = running * float(watch.trail_factor)
        if watch.trail_stop is not None:
            stop = max(stop, float(watch.trail_stop))
        low = min(near(stop * (1 + SLACK)), high)
    return high, low


def test_the_one_bar_search_flags_exactly_what_the_vectorised_search_flags() -> None:
    draw = random.Random(18)
    seen = set()
    for _ in range(4000):
        watch = _watch(draw)
        high, low = (
            _edge_bar(draw, watch)
            if draw.random() < 0.5
            else (
                draw.uniform(100, 130),
                draw.uniform(70, 100),
            )
        )
        # A second bar sends the search down the numpy path; bar 0's flag does not depend on it.
        highs = np.array([high, draw.uniform(100, 130)])
        lows = np.array([low, draw.uniform(70, 100)])
        one = first_flagged(highs, lows, 0, 1, watch)
        two = first_flagged(highs, lows, 0, 2, watch)
        assert (one == 0) == (two == 0), (watch, high, low)
        assert one in (0, None)
        seen.add(one)
    assert seen == {0, None}  # both answers were exercised


def _market(symbol: str, min_amount: str) -> Market:
    base, quote = symbol.split("/")
    return Market(
        symbol=symbol,
        base=base,
        quote=quote,
        amount_step=Decimal("0.00001"),
        price_tick=Decimal("0.01"),
        min_amount=Decimal(min_amount),
        max_amount=None,
        min_cost=Decimal("5"),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


def _digits(params: RiskParams) -> str:
    """Every field as text, Decimals to the digit (0.1 and 0.10 are not the same here)."""
    return repr([(f.name, getattr(params, f.name)) for f in fields(params)])


def test_risk_params_are_reused_only_for_the_same_settings_markets_and_dust() -> None:
    settings = RiskSettings(take_profit_tiers="10:30,25:30", trailing_stop_pct=15)
    markets = {"BTC/USDT": _market("BTC/USDT", "0.00001")}
    dust = {"BTC/USDT": Decimal("0.00001")}
    first = risk_params(settings, dust_by_symbol=dust, markets=markets)
    again = risk_params(settings, dust_by_symbol=dict(dust), markets=dict(markets))
    assert again is first
    assert risk_params(settings, risk_off=True, dust_by_symbol=dust, markets=markets).risk_off
    # Equal but not the same: its own parameters, each built as before the cache.
    other = RiskSettings(take_profit_tiers="10:30,25:30", trailing_stop_pct=15)
    assert risk_params(other, dust_by_symbol=dust, markets=markets) is not first
    wider = risk_params(settings, dust_by_symbol={"BTC/USDT": Decimal("0.000010")}, markets=markets)
    assert str(wider.dust_for("BTC/USDT")) == "0.000010"
    new_market = {"BTC/USDT": _market("BTC/USDT", "0.001")}
    moved = risk_params(settings, dust_by_symbol=dust, markets=new_market)
    assert moved.sale_minimums["BTC/USDT"].amount == Decimal("0.001")
    changed = RiskSettings(take_profit_tiers="20:50")
    assert [t.gain for t in risk_params(changed).take_profit_tiers] == [Decimal("0.2")]


def test_a_cached_risk_params_is_the_value_a_fresh_build_gives() -> None:
    settings = RiskSettings(stop_loss_pct=12.5, max_drawdown_pct=8, trailing_stop_pct=None)
    markets = {"ETH/USDT": _market("ETH/USDT", "0.0001")}
    dust = {"ETH/USDT": Decimal("0.0001")}
    kept = risk_params(settings, dust_by_symbol=dust, markets=markets)
    kept = risk_params(settings, dust_by_symbol=dust, markets=markets)  # from the cache
    fresh = risk_params(settings.model_copy(), dust_by_symbol=dust, markets=markets)
    assert fresh is not kept and _digits(kept) == _digits(fresh)


def test_the_quote_currency_follows_each_settings_object() -> None:
    usdt = StrategySettings(allocation="BTC/USDT:60,ETH/USDT:40")
    usdc = StrategySettings(allocation="BTC/USDC:100")
    assert [quote_currency(s) for s in (usdt, usdc, usdt, usdc)] == ["USDT", "USDC"] * 2
