"""Settings (percent, human forms) -> the pure risk rules' parameters (fractions), once."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from bot.config.trading import RiskSettings
from exchanges.base import Market
from risk.minimums import SaleMinimum
from risk.params import RiskParams
from risk.take_profit import parse_take_profit_tiers

_HUNDRED = Decimal(100)
# The venue checks its minimum notional against a price of its own (Binance: an average over
# recent minutes for market orders), which can sit below the price a sale was sized at.
NOTIONAL_MARGIN = Decimal("1.05")


def fraction(percent: float) -> Decimal:
    """A percent setting (20 means 20 %) as the fraction the rules use (0.2), exactly."""
    return Decimal(str(percent)) / _HUNDRED


def _fraction(percent: float | None) -> Decimal | None:
    return None if percent is None else fraction(percent)


# Every job run asks for its parameters (thousands of times per backtest) and parsing the
# tiers dominates; the result is a frozen value of frozen inputs, so it is reused while the
# very same settings and market objects are asked about with the same dust.
_CacheKey = tuple[int, bool, tuple[tuple[str, object], ...], tuple[tuple[str, int], ...]]
_cache: dict[_CacheKey, tuple[RiskSettings, tuple[Market, ...], RiskParams]] = {}
_CACHE_SIZE = 256


def risk_params(
    settings: RiskSettings,
    *,
    risk_off: bool = False,
    dust_by_symbol: Mapping[str, Decimal] | None = None,
    markets: Mapping[str, Market] | None = None,
) -> RiskParams:
    """`risk_off` adds the store's manual pause to the setting; dust and the smallest sale
    come from the markets' minimums."""
    dust = dust_by_symbol or {}
    venue = markets or {}
    # Identity, not equality, for the settings and markets (both frozen): equal Decimals such
    # as 0.1 and 0.10 print differently, so only the same objects may share parameters. The
    # dust's digits and exponent are in the key for the same reason; dict order is kept.
    key: _CacheKey = (
        id(settings),
        risk_off,
        tuple((symbol, amount.as_tuple()) for symbol, amount in dust.items()),
        tuple((symbol, id(market)) for symbol, market in venue.items()),
    )
    hit = _cache.get(key)
    if (
        hit is not None
        and hit[0] is settings
        and all(a is b for a, b in zip(hit[1], venue.values(), strict=True))
    ):
        return hit[2]
    params = _build(settings, risk_off, dust, venue)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[key] = (settings, tuple(venue.values()), params)
    return params


def _build(
    settings: RiskSettings,
    risk_off: bool,
    dust_by_symbol: Mapping[str, Decimal],
    markets: Mapping[str, Market],
) -> RiskParams:
    return RiskParams(
        take_profit_tiers=parse_take_profit_tiers(settings.take_profit_tiers),
        trailing_stop_pct=_fraction(settings.trailing_stop_pct),
        trailing_activation_gain=_fraction(settings.trailing_activation_pct),
        trailing_arm_after_tiers=settings.trailing_arm_after_tiers,
        stop_loss_pct=_fraction(settings.stop_loss_pct),
        breakeven_after_first_tier=settings.breakeven_after_first_tier,
        max_asset_fraction=fraction(settings.max_asset_pct),
        max_total_fraction=fraction(settings.max_total_pct),
        max_open_positions=settings.max_open_positions,
        daily_loss_limit=_fraction(settings.daily_loss_limit_pct),
        max_drawdown=_fraction(settings.max_drawdown_pct),
        flatten_on_kill=settings.flatten_on_kill,
        risk_off=settings.risk_off or risk_off,
        dust_by_symbol=dict(dust_by_symbol),
        sale_minimums=sale_minimums(markets),
    )


def sale_minimums(markets: Mapping[str, Market]) -> dict[str, SaleMinimum]:
    """Each market's smallest sale: its minimum amount, its minimum notional with
    `NOTIONAL_MARGIN`, its lot step."""
    return {
        symbol: SaleMinimum(
            market.min_amount or Decimal(0),
            (market.min_cost or Decimal(0)) * NOTIONAL_MARGIN,
            market.amount_step,
        )
        for symbol, market in markets.items()
    }
