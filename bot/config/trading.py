"""The trading sections of the settings: risk rules (`QTBOT_RISK__*`) and the entry strategy
(`QTBOT_STRATEGY__*`), each with its cross-field checks. Assembled in
`bot.config.settings.Settings`."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from bot.config.section import SettingsSection
from bot.config.values import asset_codes, finite_number, parse_allocation
from bot.strategy.params import AntiChaseAction, BudgetMode, StrategyParams
from exchanges.base import OrderType
from risk.take_profit import parse_take_profit_tiers

Pct = Annotated[float, Field(ge=0, le=100)]
_MAX_ACTIVATION_PCT = 10000

_HUNDRED = Decimal(100)


class RiskSettings(SettingsSection):
    take_profit_tiers: str = Field(
        "20:25,50:25", description="GAIN%:SELL% of the original position, comma separated"
    )
    trailing_stop_pct: float | None = Field(
        20.0, gt=0, lt=100, description="trailing stop % below the high-water mark; off = none"
    )
    trailing_activation_pct: float | None = Field(
        None,
        gt=0,
        le=_MAX_ACTIVATION_PCT,
        description="gain % arming the trailing stop; empty=after last tier",
    )
    trailing_arm_after_tiers: int | None = Field(
        0,
        ge=0,
        le=50,
        description="tiers done before the trailing stop arms: 0=from entry, last=after the last",
    )
    stop_loss_pct: float | None = Field(
        20.0, gt=0, lt=100, description="hard stop % below average entry; off = no hard stop"
    )
    breakeven_after_first_tier: bool = Field(
        True, description="raise the hard stop to entry+fees once tier 1 has fired"
    )
    max_asset_pct: Pct = Field(60.0, description="max share of equity in one asset")
    max_total_pct: Pct = Field(100.0, description="max share of equity in all positions")
    max_open_positions: int = Field(10, ge=1, le=1000, description="max positions held at once")
    daily_loss_limit_pct: float | None = Field(
        10.0,
        gt=0,
        le=100,
        description="pause entries after this % loss since UTC day start (off: none)",
    )
    max_drawdown_pct: float | None = Field(
        30.0,
        gt=0,
        le=100,
        description="pause entries below this % drawdown from the peak (off: none)",
    )
    kill_switch_cooldown_days: float | None = Field(
        7.0,
        ge=0,
        le=365,
        description="re-arm after a drawdown kill once flat this long (off: qtbot resume only)",
    )
    flatten_on_kill: bool = Field(
        False, description="also sell everything when the loss limit or drawdown trips"
    )
    risk_off: bool = Field(False, description="stop new entries; exits keep running")
    exchange_stop: bool = Field(
        True, description="keep a stop order resting on the exchange where it supports them"
    )
    exchange_stop_limit_offset_pct: float = Field(
        0.5, ge=0, le=20, description="limit price of that stop this % below its trigger"
    )
    exchange_stop_step_pct: float = Field(
        1.0, ge=0, le=50, description="move it up when the daemon's stop rose by more than this %"
    )
    exchange_stop_min_interval_seconds: int = Field(
        60, ge=1, le=86400, description="at most one move of that stop per this many seconds"
    )
    check_seconds: int = Field(60, ge=1, le=3600, description="risk job interval")

    @field_validator("take_profit_tiers")
    @classmethod
    def _tiers(cls, value: str) -> str:
        parse_take_profit_tiers(value)
        return value

    @field_validator("trailing_arm_after_tiers", mode="before")
    @classmethod
    def _last_tier(cls, value: object) -> object:
        """`last` arms after the last tier, whatever the ladder's length."""
        if isinstance(value, str):
            text = value.strip().lower()
            if text == "last":
                return None
            if not text.isdigit():
                raise ValueError("expected a number of tiers (0 = from entry) or last")
        return value

    @model_validator(mode="after")
    def _arming_within_ladder(self) -> RiskSettings:
        arm = self.trailing_arm_after_tiers
        count = len(parse_take_profit_tiers(self.take_profit_tiers))
        if arm is not None and arm > count:
            raise ValueError(
                f"QTBOT_RISK__TRAILING_ARM_AFTER_TIERS={arm} but QTBOT_RISK__TAKE_PROFIT_TIERS "
                f"has {count} tier(s): set it to 0..{count}, or last to arm after the last tier"
            )
        return self

    @model_validator(mode="after")
    def _trail_above_entry(self) -> RiskSettings:
        """An explicit activation must arm the trailing stop above the entry price (the rule
        freqtrade enforces as offset > trailing distance): a stop meant to lock in a gain must
        not lock in a loss. Empty activation (after the last tier) is not checked: the tiers
        and the break-even stop decide there."""
        trail, activation = self.trailing_stop_pct, self.trailing_activation_pct
        if trail is None or activation is None:
            return self
        hundred = Decimal(100)
        armed_at = (1 + Decimal(str(activation)) / hundred) * (1 - Decimal(str(trail)) / hundred)
        if armed_at < 1:
            needed = ((1 / (1 - Decimal(str(trail)) / hundred) - 1) * hundred).quantize(
                Decimal("0.01"), ROUND_CEILING
            )
            below = (1 - armed_at) * hundred
            if needed > _MAX_ACTIVATION_PCT:
                raise ValueError(
                    f"QTBOT_RISK__TRAILING_STOP_PCT={trail:g} is so wide that no activation up "
                    f"to {_MAX_ACTIVATION_PCT}% arms it above the entry price: narrow the "
                    "trailing stop (or leave the activation empty to arm after the last tier)"
                )
            raise ValueError(
                f"QTBOT_RISK__TRAILING_ACTIVATION_PCT={activation:g} arms the "
                f"{trail:g}% trailing stop {below:.2f}% below the entry price, locking in a "
                f"loss: set the activation to at least {needed}"
                " (or leave it empty to arm after the last tier)"
            )
        return self


class StrategySettings(SettingsSection):
    budget: Decimal = Field(
        Decimal("1000"), gt=0, description="total quote currency to deploy (e.g. USDT)"
    )
    allocation: str = Field(
        "BTC/USDT:60,ETH/USDT:40", description="SYMBOL:WEIGHT%, weights summing to 100"
    )
    core_assets: str = Field("BTC,ETH", description="base assets treated as core; others are alts")
    alt_cap_pct: Pct = Field(30.0, description="max share of the budget in alts")
    tranches: int = Field(4, ge=1, le=50, description="entry tranches per plan")
    entry_check_minutes: float = Field(
        60.0, gt=0, le=1440, description="how often the entry job looks for due tranches"
    )
    entry_window_days: float = Field(
        21.0, gt=0, le=120, description="days over which the tranches are spread"
    )

    order_type: Literal["limit", "market"] = Field("limit", description="tranche order type")
    limit_offsets_pct: str = Field(
        "0.2", description="% below the bid for limit tranches; a list is used in turn (ladder)"
    )
    reprice_after_hours: float = Field(
        24.0, gt=0, le=720, description="re-place an unfilled limit tranche after this long"
    )
    max_reprices: int = Field(2, ge=0, le=20, description="reprices before converting")
    convert_to_market: bool = Field(
        True, description="buy at market after the last reprice timed out"
    )
    start_regimes: str = Field("easing,neutral", description="regimes in which a plan may start")
    pause_regimes: str = Field("tightening", description="regimes that pause tranches")
    pivot_window_days: float | None = Field(
        None, gt=0, le=730, description="also require an easing pivot this recent; empty = no"
    )
    fomc_blackout_hours: float = Field(
        24.0, ge=0, le=168, description="no tranche this long before an FOMC decision; 0 = off"
    )
    anti_chase_pct: float | None = Field(
        15.0,
        gt=0,
        le=1000,
        description="hold a tranche this % above the N-day average (off: never)",
    )
    anti_chase_days: int = Field(20, ge=1, le=365, description="days in that average")
    anti_chase_action: Literal["delay", "skip"] = Field(
        "delay", description="delay the tranche, or skip it at once"
    )
    anti_chase_max_delay_days: float = Field(
        7.0, ge=0, le=120, description="skip a delayed tranche this long after its due time"
    )
    alt_lag_reference: str = Field("BTC", description="base asset the alts follow")
    alt_lag_gain_pct: float | None = Field(
        10.0,
        ge=0,
        le=1000,
        description="alt plans start once the reference gained this % (off: no)",
    )
    alt_lag_days: float | None = Field(
        30.0,
        ge=0,
        le=365,
        description="... or this many days after the reference plan began (off: no)",
    )
    flush_pull_forward: int = Field(
        1, ge=0, le=50, description="pending tranches a liquidation flush makes due now"
    )
    cycle_cooldown_days: float = Field(
        7.0, ge=0, le=365, description="wait after a position closed before a new plan"
    )
    flush_waives_cooldown: bool = Field(
        True, description="a liquidation flush after a cycle's exit lets the next plan start"
    )
    budget_mode: Literal["fixed", "compounding"] = Field(
        "fixed", description="next cycle's budget: fixed, or adjusted by realised PnL"
    )

    @field_validator("allocation")
    @classmethod
    def _allocation(cls, value: str) -> str:
        parse_allocation(value)
        return value

    _codes = field_validator("core_assets", "alt_lag_reference")(
        classmethod(lambda cls, v: asset_codes(v))
    )

    @field_validator("limit_offsets_pct")
    @classmethod
    def _offsets(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items:
            raise ValueError("must list at least one offset, e.g. 0.2 or 0.2,0.5,1")
        for item in items:
            number = finite_number(item, value)
            if not 0 <= number < 100:
                raise ValueError(f"offset {item}% must be at least 0 and below 100")
        return ",".join(items)

    @field_validator("start_regimes", "pause_regimes")
    @classmethod
    def _regimes(cls, value: str) -> str:
        names = [v.strip().lower() for v in value.split(",") if v.strip()]
        unknown = sorted(set(names) - {"tightening", "neutral", "easing"})
        if unknown:
            raise ValueError(f"unknown regime {unknown}: use tightening, neutral or easing")
        return ",".join(names)

    def params(self) -> StrategyParams:
        """The planner's parameters: percent -> fractions (raises ValueError if inconsistent)."""
        return StrategyParams(
            budget=Decimal(str(self.budget)),
            allocation=tuple((s, w / _HUNDRED) for s, w in parse_allocation(self.allocation)),
            core_assets=frozenset(_csv(self.core_assets.upper())),
            alt_cap=_fraction(self.alt_cap_pct),
            tranches=self.tranches,
            entry_window_days=float(self.entry_window_days),
            order_type=OrderType(self.order_type),
            limit_offsets=tuple(_fraction(x) for x in _csv(self.limit_offsets_pct)),
            reprice_after_hours=float(self.reprice_after_hours),
            max_reprices=self.max_reprices,
            convert_to_market=self.convert_to_market,
            start_regimes=frozenset(_csv(self.start_regimes.lower())),
            pause_regimes=frozenset(_csv(self.pause_regimes.lower())),
            pivot_window_days=_float_or_none(self.pivot_window_days),
            fomc_blackout_hours=float(self.fomc_blackout_hours),
            anti_chase_pct=None if self.anti_chase_pct is None else _fraction(self.anti_chase_pct),
            anti_chase_days=self.anti_chase_days,
            anti_chase_action=AntiChaseAction(self.anti_chase_action),
            anti_chase_max_delay_days=float(self.anti_chase_max_delay_days),
            alt_lag_reference=self.alt_lag_reference.strip().upper(),
            alt_lag_gain=None
            if self.alt_lag_gain_pct is None
            else _fraction(self.alt_lag_gain_pct),
            alt_lag_days=_float_or_none(self.alt_lag_days),
            flush_pull_forward=self.flush_pull_forward,
            cycle_cooldown_days=float(self.cycle_cooldown_days),
            flush_waives_cooldown=self.flush_waives_cooldown,
            budget_mode=BudgetMode(self.budget_mode),
        )

    @property
    def symbols(self) -> list[str]:
        """The allocated symbols, in the order the allocation lists them."""
        return [symbol for symbol, _ in parse_allocation(self.allocation)]

    @property
    def quote_currency(self) -> str:
        """The quote asset the allocated symbols trade against (USDT in BTC/USDT)."""
        return parse_allocation(self.allocation)[0][0].split("/")[1]

    @model_validator(mode="after")
    def _consistent(self) -> StrategySettings:
        both = sorted(set(self.start_regimes.split(",")) & set(self.pause_regimes.split(",")))
        if both:
            raise ValueError(
                f"QTBOT_STRATEGY__START_REGIMES and QTBOT_STRATEGY__PAUSE_REGIMES both list "
                f"{', '.join(both)}: a regime cannot both start plans and pause them"
            )
        core = {a.strip().upper() for a in self.core_assets.split(",") if a.strip()}
        alts = sum(
            (
                w
                for symbol, w in parse_allocation(self.allocation)
                if symbol.split("/")[0] not in core
            ),
            Decimal(0),
        )
        if alts > Decimal(str(self.alt_cap_pct)):
            raise ValueError(
                f"QTBOT_STRATEGY__ALLOCATION gives alts {alts}% but QTBOT_STRATEGY__ALT_CAP_PCT "
                f"is {self.alt_cap_pct:g}%: lower the alt weights or raise the cap (otherwise part "
                "of the budget would silently never be deployed)"
            )

        try:
            self.params()
        except ValueError as exc:
            raise ValueError(f"strategy settings disagree: {exc}") from None
        return self


def _fraction(percent: float | Decimal | str) -> Decimal:
    return Decimal(str(percent)) / _HUNDRED


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]
