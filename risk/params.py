"""Risk parameters, all in FRACTIONS (0.2 = 20 %); the bot's config converts percent once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from risk.minimums import NO_MINIMUM, SaleMinimum
from risk.take_profit import DEFAULT_TAKE_PROFIT_TIERS, TakeProfitTier, validate_tiers

_ZERO = Decimal(0)
_ONE = Decimal(1)


def _check_fraction(name: str, value: Decimal | None, *, allow_one: bool) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"RiskParams.{name} must be Decimal or None, got {type(value).__name__}")
    upper_ok = value <= _ONE if allow_one else value < _ONE
    if not value.is_finite() or value <= 0 or not upper_ok:
        bound = "<= 1" if allow_one else "< 1"
        raise ValueError(f"RiskParams.{name} must be a fraction > 0 and {bound}, got {value}")


@dataclass(frozen=True)
class RiskParams:
    """Every knob of the risk engine. Fractions, base units for dust, counts as int.

    take_profit_tiers: ladder of (gain, sell share of the cycle's original size).
    trailing_stop_pct: callback below the high-water mark (None = no trailing stop).
    trailing_arm_after_tiers: the trailing stop arms once this many tiers are done (taken or
    skipped); 0 = from the first fill. None = after the last tier, unless
    `trailing_activation_gain` is set (then only the gain arms it).
    trailing_activation_gain: gain of the high-water mark over the entry that arms the trailing
    stop (None = no gain rule). With both set, whichever comes first arms it.
    stop_loss_pct: hard stop below the average entry (None = off).
    breakeven_after_first_tier: once the first tier is done, raise the hard stop to entry +
    fees per unit held, fixed at that moment (`PositionMarks.break_even`).
    max_asset_fraction / max_total_fraction: cap of one asset / of all assets, share of equity.
    max_open_positions: positions held at once; a new symbol is refused at the cap.
    daily_loss_limit: loss from the UTC day-start equity that trips the kill switch (None = off).
    max_drawdown: loss from the equity peak that trips the kill switch (None = off).
    flatten_on_kill: a tripped kill switch also sells every position.
    risk_off: manual switch; blocks new entries, exits keep running.
    dust_amount: base amount at or below which a holding is not a position (all symbols);
    dust_by_symbol overrides it per symbol (e.g. the market's minimum order amount).
    sale_minimums: the venue's smallest sale per symbol (amount, notional, lot step); every
    sell is sized against it (missing = no minimum).
    """

    take_profit_tiers: tuple[TakeProfitTier, ...] = DEFAULT_TAKE_PROFIT_TIERS
    trailing_stop_pct: Decimal | None = Decimal("0.1")
    trailing_activation_gain: Decimal | None = None
    trailing_arm_after_tiers: int | None = None
    stop_loss_pct: Decimal | None = Decimal("0.15")
    breakeven_after_first_tier: bool = True
    max_asset_fraction: Decimal = Decimal("0.5")
    max_total_fraction: Decimal = Decimal("1")
    max_open_positions: int = 5
    daily_loss_limit: Decimal | None = Decimal("0.05")
    max_drawdown: Decimal | None = Decimal("0.2")
    flatten_on_kill: bool = False
    risk_off: bool = False
    dust_amount: Decimal = _ZERO
    dust_by_symbol: Mapping[str, Decimal] = field(default_factory=dict, hash=False)
    sale_minimums: Mapping[str, SaleMinimum] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "take_profit_tiers", validate_tiers(self.take_profit_tiers))
        _check_fraction("trailing_stop_pct", self.trailing_stop_pct, allow_one=False)
        _check_fraction("stop_loss_pct", self.stop_loss_pct, allow_one=False)
        _check_fraction("daily_loss_limit", self.daily_loss_limit, allow_one=True)
        _check_fraction("max_drawdown", self.max_drawdown, allow_one=True)
        _check_fraction("max_asset_fraction", self.max_asset_fraction, allow_one=True)
        _check_fraction("max_total_fraction", self.max_total_fraction, allow_one=True)
        gain = self.trailing_activation_gain
        if gain is not None and (not isinstance(gain, Decimal) or not gain.is_finite() or gain < 0):
            raise ValueError(f"RiskParams.trailing_activation_gain must be >= 0, got {gain}")
        arm = self.trailing_arm_after_tiers
        if arm is not None and not 0 <= arm <= len(self.take_profit_tiers):
            raise ValueError(
                f"RiskParams.trailing_arm_after_tiers must be 0..{len(self.take_profit_tiers)} "
                f"(the number of tiers), got {arm}"
            )
        if self.max_open_positions < 0:
            raise ValueError("RiskParams.max_open_positions must be >= 0")
        dusts = dict(self.dust_by_symbol)
        for symbol, dust in [("dust_amount", self.dust_amount), *dusts.items()]:
            if not isinstance(dust, Decimal) or not dust.is_finite() or dust < 0:
                raise ValueError(f"RiskParams dust for {symbol} must be a Decimal >= 0")
        object.__setattr__(self, "dust_by_symbol", MappingProxyType(dusts))
        object.__setattr__(self, "sale_minimums", MappingProxyType(dict(self.sale_minimums)))

    def dust_for(self, symbol: str) -> Decimal:
        """Dust threshold in base units for `symbol`."""
        return self.dust_by_symbol.get(symbol, self.dust_amount)

    def min_sale(self, symbol: str, price: Decimal) -> Decimal:
        """Smallest sale (base units) of `symbol` the venue accepts at `price`."""
        return self.sale_minimums.get(symbol, NO_MINIMUM).at(price)
