"""Exposure limits, the kill switch and the gate every buy passes through.

All money in quote units; exposure is `size * price` of each open position, valued at the
average entry when no price is known. Amounts committed to open buy orders can be passed as
`pending` so a tranche still on the book counts against the limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from risk._fmt import fmt_num, fmt_pct
from risk.params import RiskParams
from risk.position import Position

_ZERO = Decimal(0)
_EMPTY: Mapping[str, Decimal] = {}


@dataclass(frozen=True, slots=True)
class AccountState:
    """The account as the limits see it, in quote units.

    equity: cash plus every holding at its current price. equity_peak: the highest equity seen.
    equity_day_start: equity at the start of the current UTC day. cash: free quote for buys.
    `roll_equity_marks` keeps peak and day start; `EquityMarks.account(equity, cash)` builds this.
    """

    equity: Decimal
    equity_peak: Decimal
    equity_day_start: Decimal
    cash: Decimal


@dataclass(frozen=True, slots=True)
class EquityMarks:
    """Persisted equity watermarks: the UTC day they belong to, its opening equity, the peak."""

    day: date
    equity_day_start: Decimal
    equity_peak: Decimal

    def account(self, equity: Decimal, cash: Decimal) -> AccountState:
        return AccountState(equity, max(self.equity_peak, equity), self.equity_day_start, cash)


def roll_equity_marks(previous: EquityMarks | None, equity: Decimal, now: datetime) -> EquityMarks:
    """Update the watermarks with the current equity; the first call of a UTC day opens it.

    The peak only rises; reset it by passing `previous=None` (a deliberate, manual act).
    """
    today = now.astimezone(UTC).date()
    if previous is None:
        return EquityMarks(today, equity, equity)
    peak = max(previous.equity_peak, equity)
    if previous.day != today:
        return EquityMarks(today, equity, peak)
    return EquityMarks(previous.day, previous.equity_day_start, peak)


def rearm_after_kill(
    marks: EquityMarks,
    equity: Decimal,
    tripped_at: datetime | None,
    now: datetime,
    flat: bool,
    cooldown: timedelta | None,
) -> EquityMarks | None:
    """New watermarks that end a drawdown kill, or None to keep the switch as it is.

    A drawdown is measured from the equity peak; once the bot has sold out it holds cash, so
    the equity never climbs back and the switch would block entries forever. After the book
    has been flat for `cooldown` since the trip, the peak restarts at today's equity (the
    loss stays realised; the next cycle is judged on its own). `cooldown` None = only a
    manual reset (`qtbot resume`) re-arms.
    """
    if cooldown is None or tripped_at is None or not flat or now - tripped_at < cooldown:
        return None
    return EquityMarks(marks.day, marks.equity_day_start, equity)


def kill_switch_reasons(account: AccountState, params: RiskParams) -> list[str]:
    """Why the kill switch is tripped (daily loss, drawdown); empty when it is not."""
    reasons: list[str] = []
    limit = params.daily_loss_limit
    start = account.equity_day_start
    if limit is not None and start > 0:
        loss = (start - account.equity) / start
        if loss >= limit:
            reasons.append(
                f"daily loss {fmt_pct(loss.quantize(Decimal('0.0001')))} from day-start "
                f"equity {fmt_num(start)} >= limit {fmt_pct(limit)}"
            )
    limit = params.max_drawdown
    peak = account.equity_peak
    if limit is not None and peak > 0:
        drawdown = (peak - account.equity) / peak
        if drawdown >= limit:
            reasons.append(
                f"drawdown {fmt_pct(drawdown.quantize(Decimal('0.0001')))} from equity peak "
                f"{fmt_num(peak)} >= max {fmt_pct(limit)}"
            )
    return reasons


@dataclass(frozen=True, slots=True)
class Exposure:
    """Quote value of each open position and their total."""

    by_symbol: Mapping[str, Decimal]
    total: Decimal


def exposure(
    positions: Mapping[str, Position], prices: Mapping[str, Decimal], params: RiskParams
) -> Exposure:
    """Value of open positions at `prices` (average entry where a price is missing)."""
    values: dict[str, Decimal] = {}
    total = _ZERO
    for symbol, position in positions.items():
        if not position.is_open(params.dust_for(symbol)):
            continue
        price = prices.get(symbol, position.avg_entry_price)
        value = position.size * price
        values[symbol] = value
        total += value
    return Exposure(values, total)


def global_block_reasons(
    account: AccountState, params: RiskParams, total_exposure: Decimal, kill: list[str]
) -> list[str]:
    """Reasons no buy at all may go out now (risk-off, kill switch, no equity, total cap)."""
    reasons: list[str] = []
    if params.risk_off:
        reasons.append("risk-off flag set: new entries blocked, exits keep running")
    if kill:
        reasons.extend(f"kill switch: {reason}" for reason in kill)
    if account.equity <= 0:
        reasons.append(f"equity {fmt_num(account.equity)} <= 0")
    elif total_exposure >= params.max_total_fraction * account.equity:
        reasons.append(
            f"total exposure {fmt_num(total_exposure)} >= max "
            f"{fmt_pct(params.max_total_fraction)} of equity {fmt_num(account.equity)}"
        )
    return reasons


@dataclass(frozen=True, slots=True)
class EntryAllowance:
    """Result of the buy gate: `allowed` quote (0 = blocked, < requested = clipped) and why."""

    symbol: str
    requested: Decimal
    allowed: Decimal
    reasons: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return self.allowed <= 0

    @property
    def clipped(self) -> bool:
        return self.allowed < self.requested

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "within limits"


def allowed_entry(
    symbol: str,
    quote_amount: Decimal,
    positions: Mapping[str, Position],
    prices: Mapping[str, Decimal],
    account: AccountState,
    params: RiskParams,
    pending: Mapping[str, Decimal] = _EMPTY,
) -> EntryAllowance:
    """How much of an intended buy of `quote_amount` (quote) on `symbol` the limits allow.

    Checks, in order: risk-off and kill switch (block), max open positions for a new symbol
    (block), then clips to the per-asset room, the total room and the free cash. `pending`
    maps symbol -> quote committed to open buy orders not yet filled.
    """
    if quote_amount <= 0:
        return EntryAllowance(symbol, quote_amount, _ZERO, ("nothing requested",))
    held = exposure(positions, prices, params)
    pending_total = sum(pending.values(), _ZERO)
    blocks = global_block_reasons(
        account, params, held.total + pending_total, kill_switch_reasons(account, params)
    )
    is_new = symbol not in held.by_symbol and pending.get(symbol, _ZERO) <= 0
    if is_new:
        open_count = len(held.by_symbol.keys() | {s for s, q in pending.items() if q > 0})
        if open_count >= params.max_open_positions:
            blocks.append(
                f"{open_count} open positions >= max {params.max_open_positions}: no new symbol"
            )
    if blocks:
        return EntryAllowance(symbol, quote_amount, _ZERO, tuple(blocks))

    equity = account.equity
    asset_used = held.by_symbol.get(symbol, _ZERO) + pending.get(symbol, _ZERO)
    rooms = (
        (
            params.max_asset_fraction * equity - asset_used,
            f"{symbol} room {{room}} to max {fmt_pct(params.max_asset_fraction)} of equity "
            f"{fmt_num(equity)} (holds {fmt_num(asset_used)})",
        ),
        (
            params.max_total_fraction * equity - held.total - pending_total,
            f"total room {{room}} to max {fmt_pct(params.max_total_fraction)} of equity "
            f"{fmt_num(equity)} (exposure {fmt_num(held.total + pending_total)})",
        ),
        (account.cash, "free cash {room}"),
    )
    allowed = quote_amount
    reasons: list[str] = []
    for room, text in rooms:
        room = max(room, _ZERO)
        if room < allowed:
            allowed = room
            reasons.append("clipped: " + text.format(room=fmt_num(room)))
    if allowed <= 0:
        reasons.insert(0, "blocked: no room left")
    return EntryAllowance(symbol, quote_amount, allowed, tuple(reasons))
