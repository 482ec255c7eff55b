"""qtbot's exit rules (long only) re-implemented from their written spec, to check the engine.

Written from the documented rules alone: it imports nothing of `risk/`, the jobs, the order
manager or the backtest replay (tests/unit/backtest/test_exit_reference.py asserts that), only
the settings, to read the parameter values. Given each symbol's candles and the bot's own buy
fills, it says which exits the rules call for: kind, candle, price, amount.

The rules, per cycle (first buy from flat until a sale leaves at most `dust` held):
avg = volume-weighted buy price (fees excluded), fees = every fee of the cycle (quote),
H = high-water mark (starts at the highest buy price), T = trailing stop (None until armed),
B = break-even level (fixed the first time a tier is done: avg + fees / size after every sale of
    that observation).
Each price p observed: H = max(H, p); arm/ratchet T; stop = max(avg*(1-stop_loss), B); p at or
below the stop or T sells everything (named by the higher level); else every due tier not done
sells min(sell_k * cycle_bought, size), or everything when at most dust would remain.
Each candle is walked OPEN -> LOW -> HIGH -> CLOSE; a level crossed inside a leg acts at the
level, one already passed at the open acts at the open. Sells fill at level * (1 - slippage)
and pay fee * amount * price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.config.settings import Settings

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)

TAKE_PROFIT = "take_profit"
TRAILING_STOP = "trailing_stop"
STOP_LOSS = "stop_loss"


@dataclass(frozen=True)
class Tier:
    """Sell `sell` (fraction of the cycle's bought amount) once the price is avg * (1 + gain)."""

    gain: Decimal
    sell: Decimal


@dataclass(frozen=True)
class ExitParams:
    """Every knob of the exit rules, as fractions. `arm_after_tiers` None = after the last
    tier; `fee` is the taker fee (fraction of notional, in quote); `dust` in base units."""

    tiers: tuple[Tier, ...]
    trailing_pct: Decimal | None
    stop_loss_pct: Decimal | None
    breakeven_after_first_tier: bool = True
    arm_after_tiers: int | None = None
    activation_gain: Decimal | None = None
    slippage: Decimal = _ZERO
    fee: Decimal = _ZERO
    dust: Decimal = _ZERO

    @property
    def arm_at(self) -> int:
        return len(self.tiers) if self.arm_after_tiers is None else self.arm_after_tiers


def _fraction(percent: float | None) -> Decimal | None:
    return None if percent is None else Decimal(str(percent)) / _HUNDRED


def parse_tiers(spec: str) -> tuple[Tier, ...]:
    """ "20:25,50:25" (GAIN%:SELL% of the bought amount) -> tiers as fractions; blank = none."""
    tiers = []
    for item in spec.split(","):
        if item.strip():
            gain, sell = item.split(":")
            tiers.append(Tier(Decimal(gain.strip()) / _HUNDRED, Decimal(sell.strip()) / _HUNDRED))
    return tuple(tiers)


def params_from_settings(
    settings: Settings, fee_when_unset: Decimal, dust: Decimal = _ZERO
) -> ExitParams:
    """The bot's percent settings as fractions. `fee_when_unset`: the venue's taker fee, used
    when `paper_fee_pct` is empty. The arming point is read if the setting exists."""
    risk, exchange = settings.risk, settings.exchange
    fee = _fraction(exchange.paper_fee_pct)
    arm: int | None = getattr(risk, "trailing_arm_after_tiers", None)
    return ExitParams(
        tiers=parse_tiers(risk.take_profit_tiers),
        trailing_pct=_fraction(risk.trailing_stop_pct),
        stop_loss_pct=_fraction(risk.stop_loss_pct),
        breakeven_after_first_tier=risk.breakeven_after_first_tier,
        arm_after_tiers=arm,
        activation_gain=_fraction(risk.trailing_activation_pct),
        slippage=Decimal(str(exchange.paper_slippage_pct)) / _HUNDRED,
        fee=fee_when_unset if fee is None else fee,
        dust=dust,
    )


@dataclass(frozen=True)
class Candles:
    """One symbol's bars, oldest first: `ts` = open times in ms UTC, each lasting
    `timeframe_ms`. Prices may be floats (read as their shortest repr) or Decimals."""

    symbol: str
    ts: Sequence[int]
    open: Sequence[float | Decimal]
    high: Sequence[float | Decimal]
    low: Sequence[float | Decimal]
    close: Sequence[float | Decimal]
    timeframe_ms: int

    def bar_of(self, when_ms: int) -> int:
        """Index of the bar whose [open, close) holds `when_ms`; ValueError when none does."""
        lo, hi = 0, len(self.ts)
        while lo < hi:
            mid = (lo + hi) // 2
            if int(self.ts[mid]) <= when_ms:
                lo = mid + 1
            else:
                hi = mid
        i = lo - 1
        if i < 0 or when_ms >= int(self.ts[i]) + self.timeframe_ms:
            raise ValueError(f"{self.symbol}: no candle holds time {when_ms} ms")
        return i


@dataclass(frozen=True)
class BuyFill:
    """One of the bot's buys, taken as given. `at_run`: a market tranche filled at a scheduled
    run, before the bar holding `timestamp_ms` opens; otherwise a resting buy filled inside
    that bar (at the open when its price is at or above it, else as the fall reaches it)."""

    symbol: str
    timestamp_ms: int
    amount: Decimal
    price: Decimal
    fee: Decimal
    at_run: bool = False


@dataclass(frozen=True)
class Exit:
    """One sale the rules call for. `stop` says which protective level named a stop_loss
    ("hard" or "break_even"); `level` is the price before slippage."""

    symbol: str
    kind: str
    tier: int | None
    stop: str | None
    bar_ts: int
    level: Decimal
    price: Decimal
    amount: Decimal
    fee: Decimal

    @property
    def label(self) -> str:
        if self.tier is not None:
            return f"{self.kind}{self.tier}"
        return f"{self.kind}({self.stop})" if self.stop else self.kind


@dataclass
class _Cycle:
    bought: Decimal = _ZERO
    spent: Decimal = _ZERO
    size: Decimal = _ZERO
    fees: Decimal = _ZERO
    high: Decimal = _ZERO
    trail: Decimal | None = None
    break_even: Decimal | None = None
    done: set[int] = field(default_factory=set)

    @property
    def avg(self) -> Decimal:
        return self.spent / self.bought


@dataclass(frozen=True)
class _Stop:
    level: Decimal
    kind: str
    stop: str | None


def _dec(value: float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


class _SymbolWalk:
    """One symbol's state through its bars."""

    def __init__(self, symbol: str, params: ExitParams) -> None:
        self.symbol = symbol
        self.p = params
        self.cycle: _Cycle | None = None
        self.bar_ts = 0
        self.exits: list[Exit] = []

    # --- the rules at one price -----------------------------------------------------------

    def buy(self, fill: BuyFill) -> None:
        c = self.cycle = self.cycle or _Cycle(high=fill.price)
        c.bought += fill.amount
        c.spent += fill.amount * fill.price
        c.size += fill.amount
        c.fees += fill.fee
        c.high = max(c.high, fill.price)

    def _arm(self, c: _Cycle) -> None:
        pct = self.p.trailing_pct
        if pct is None:
            return
        gain = self.p.activation_gain
        armed = (
            c.trail is not None
            or len(c.done) >= self.p.arm_at
            or (gain is not None and c.high >= c.avg * (_ONE + gain))
        )
        if armed:
            c.trail = max(c.trail or _ZERO, c.high * (_ONE - pct))

    def highest_stop(self) -> _Stop | None:
        """The highest exit-everything level: hard or break-even stop vs the trailing stop
        (a tie is named by the hard/break-even stop, listed first by the rules)."""
        c = self.cycle
        if c is None:
            return None
        self._arm(c)
        protective: _Stop | None = None
        if self.p.stop_loss_pct is not None:
            protective = _Stop(c.avg * (_ONE - self.p.stop_loss_pct), STOP_LOSS, "hard")
        if c.break_even is not None and (protective is None or c.break_even >= protective.level):
            protective = _Stop(c.break_even, STOP_LOSS, "break_even")
        if c.trail is not None and (protective is None or c.trail > protective.level):
            return _Stop(c.trail, TRAILING_STOP, None)
        return protective

    def next_tier(self) -> Decimal | None:
        """Trigger of the first tier not done, None when none is left (or nothing held)."""
        c = self.cycle
        if c is None:
            return None
        for k, tier in enumerate(self.p.tiers, start=1):
            if k not in c.done:
                return c.avg * (_ONE + tier.gain)
        return None

    def observe(self, price: Decimal) -> None:
        """Steps 1-5 at one price; sales fill at `price`."""
        c = self.cycle
        if c is None:
            return
        c.high = max(c.high, price)
        stop = self.highest_stop()
        if stop is not None and price <= stop.level:
            self._sell(price, c.size, stop.kind, None, stop.stop)
            return
        for k, tier in enumerate(self.p.tiers, start=1):
            if k in c.done or price < c.avg * (_ONE + tier.gain):
                continue
            amount = min(tier.sell * c.bought, c.size)
            if c.size - amount <= self.p.dust:
                amount = c.size
            c.done.add(k)
            self._sell(price, amount, TAKE_PROFIT, k, None)
            if self.cycle is None:
                return
        # Fixed once, after every sale of the observation that first took a tier (a gap over
        # two tiers sells both at once; the level is taken with both applied).
        if c.done and c.break_even is None and self.p.breakeven_after_first_tier:
            c.break_even = c.avg + c.fees / c.size

    def _sell(
        self, level: Decimal, amount: Decimal, kind: str, tier: int | None, stop: str | None
    ) -> None:
        c = self.cycle
        assert c is not None
        price = level * (_ONE - self.p.slippage)
        fee = self.p.fee * amount * price
        c.size -= amount
        c.fees += fee
        self.exits.append(
            Exit(self.symbol, kind, tier, stop, self.bar_ts, level, price, amount, fee)
        )
        if c.size <= self.p.dust:
            self.cycle = None

    # --- one candle, OPEN -> LOW -> HIGH -> CLOSE -------------------------------------------

    def _fall(self, start: Decimal, end: Decimal, buys: list[BuyFill]) -> None:
        """Down from `start` to `end`: stops met (highest first) act at their level, resting
        buys fill at their price, whichever the path meets first."""
        current = start
        pending = sorted(buys, key=lambda b: b.price, reverse=True)
        while True:
            stop = self.highest_stop()
            if stop is not None and stop.level >= current:
                self.observe(current)  # a level already passed acts at the price reached
                continue
            stop_level = stop.level if stop is not None and stop.level >= end else None
            if pending and (stop_level is None or pending[0].price > stop_level):
                fill = pending.pop(0)
                current = min(current, fill.price)
                self.buy(fill)
                self.observe(current)
            elif stop_level is not None:
                current = stop_level
                self.observe(current)
            else:
                return

    def _rise(self, start: Decimal, end: Decimal) -> None:
        """Up from `start` to `end`: each tier met sells at its trigger, lowest first, then
        the high-water mark follows the path to `end`."""
        current = start
        while (trigger := self.next_tier()) is not None and trigger <= end:
            current = max(current, trigger)
            self.observe(current)
        self.observe(end)

    def bar(
        self, ts: int, ohlc: tuple[Decimal, Decimal, Decimal, Decimal], buys: list[BuyFill]
    ) -> None:
        o, h, low, c = ohlc
        self.bar_ts = ts
        for fill in buys:
            if fill.at_run:
                self.buy(fill)
        resting = [b for b in buys if not b.at_run]
        for fill in resting:
            if fill.price >= o:
                self.buy(fill)
        self.observe(o)
        self._fall(o, low, [b for b in resting if b.price < o])
        self._rise(low, h)
        self._fall(h, c, [])


def simulate_exits(
    candles: Iterable[Candles], buys: Iterable[BuyFill], params: ExitParams
) -> list[Exit]:
    """The exits the rules call for, per symbol independently, oldest first (by candle, then
    symbol, then order within the candle)."""
    by_symbol: dict[str, list[BuyFill]] = {}
    for fill in buys:
        by_symbol.setdefault(fill.symbol, []).append(fill)
    exits: list[Exit] = []
    for series in candles:
        exits.extend(_walk(series, by_symbol.pop(series.symbol, []), params))
    if by_symbol:
        raise ValueError(f"buy fills without candles: {sorted(by_symbol)}")
    exits.sort(key=lambda e: (e.bar_ts, e.symbol))  # stable: a candle's own order is kept
    return exits


def _walk(series: Candles, buys: list[BuyFill], params: ExitParams) -> list[Exit]:
    walk = _SymbolWalk(series.symbol, params)
    in_bar: dict[int, list[BuyFill]] = {}
    for fill in sorted(buys, key=lambda b: b.timestamp_ms):
        in_bar.setdefault(series.bar_of(fill.timestamp_ms), []).append(fill)
    for i in range(len(series.ts)):
        fills = in_bar.get(i, [])
        if walk.cycle is None and not fills:
            continue
        ohlc = (
            _dec(series.open[i]),
            _dec(series.high[i]),
            _dec(series.low[i]),
            _dec(series.close[i]),
        )
        walk.bar(int(series.ts[i]), ohlc, fills)
    return walk.exits
