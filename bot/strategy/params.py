"""Strategy parameters: fractions, days and hours inside the code (settings speak percent).

`StrategyParams` is what every planner function and gate reads. `bot.config.trading` builds it
from the `QTBOT_STRATEGY__*` settings (percent -> fractions), once, at the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from exchanges.base import OrderType

REGIMES = frozenset({"tightening", "neutral", "easing"})


class AntiChaseAction(StrEnum):
    """What a tranche does when the price is too far above its trailing average."""

    DELAY = "delay"  # wait (up to `anti_chase_max_delay_days`), then skip
    SKIP = "skip"  # skip the tranche at once; its budget is not spent


class BudgetMode(StrEnum):
    """Budget of a symbol's next cycle after one has closed."""

    FIXED = "fixed"  # always the configured share of `budget`
    COMPOUNDING = "compounding"  # last cycle's budget plus its realised net PnL


@dataclass(frozen=True)
class StrategyParams:
    """Entry planner parameters. Fractions: 0.1 = 10 %. Money in quote units (e.g. USDT).

    Allocation
      budget: total quote to deploy across all symbols.
      allocation: (symbol, weight fraction) pairs; the weights sum to 1.
      core_assets: base assets treated as core (BTC, ETH); every other base is an alt.
      alt_cap: max fraction of `budget` for all alts together; alt weights above it are
        scaled down proportionally and the freed budget stays UNSPENT (it is not handed to
        the core assets, whose weights the user chose deliberately).

    Tranches
      tranches: entry tranches per plan; entry_window_days: tranche i (0-based) is scheduled
        at start + i * window / (tranches - 1), so the last one lands at the window's end.
      order_type: LIMIT (a limit `limit_offsets` below the bid) or MARKET.
      limit_offsets: fraction below the bid, per tranche in turn (a ladder): tranche i uses
        limit_offsets[i % len(limit_offsets)].
      reprice_after_hours: a resting limit tranche older than this is cancelled and re-placed
        at the current price (same offset), at most `max_reprices` times; after that it is
        converted to a market order (`convert_to_market`) or ends with what it filled.

    Gates
      start_regimes: regimes in which a new plan may start.
      pause_regimes: regimes in which no tranche is placed (the plan waits; see planner).
      pivot_window_days: if set, a plan also needs the last easing pivot to be at most this
        many days old (start "on a pivot").
      fomc_blackout_hours: no tranche within this many hours before an FOMC decision.
      anti_chase_pct: a tranche waits (or is skipped) while the price is more than this
        fraction above the average of the last `anti_chase_days` daily closes; None = off.
      anti_chase_max_delay_days: a delayed tranche is skipped after waiting this long.
      alt_lag_reference: base asset whose plan alts follow (BTC).
      alt_lag_gain / alt_lag_days: an alt plan starts once the reference has gained this
        fraction since its plan of the current regime episode began, or this many days after
        that start (either suffices; None disables that condition; both None = no lag). A
        reference plan from an earlier episode does not count (`gates.lag_reference`).

    Flush, cycles
      flush_pull_forward: a new liquidation flush makes this many pending tranches due now.
      cycle_cooldown_days: wait this long after a cycle closed before a new plan.
      flush_waives_cooldown: a liquidation flush detected after the last cycle's exit lets a
        new plan start inside that cool-down (the playbook buys flushes; the cool-down exists
        to keep the bot from re-entering a falling market on no signal at all).
      budget_mode: FIXED or COMPOUNDING (see `BudgetMode`).
    """

    budget: Decimal = Decimal("1000")
    allocation: tuple[tuple[str, Decimal], ...] = (
        ("BTC/USDT", Decimal("0.6")),
        ("ETH/USDT", Decimal("0.4")),
    )
    core_assets: frozenset[str] = frozenset({"BTC", "ETH"})
    alt_cap: Decimal = Decimal("0.3")
    tranches: int = 4
    entry_window_days: float = 21.0
    order_type: OrderType = OrderType.LIMIT
    limit_offsets: tuple[Decimal, ...] = (Decimal("0.002"),)
    reprice_after_hours: float = 24.0
    max_reprices: int = 2
    convert_to_market: bool = True
    start_regimes: frozenset[str] = frozenset({"easing", "neutral"})
    pause_regimes: frozenset[str] = frozenset({"tightening"})
    pivot_window_days: float | None = None
    fomc_blackout_hours: float = 24.0
    anti_chase_pct: Decimal | None = Decimal("0.15")
    anti_chase_days: int = 20
    anti_chase_action: AntiChaseAction = AntiChaseAction.DELAY
    anti_chase_max_delay_days: float = 7.0
    alt_lag_reference: str = "BTC"
    alt_lag_gain: Decimal | None = Decimal("0.10")
    alt_lag_days: float | None = 30.0
    flush_pull_forward: int = 1
    cycle_cooldown_days: float = 7.0
    flush_waives_cooldown: bool = True
    budget_mode: BudgetMode = BudgetMode.FIXED

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def is_core(self, symbol: str) -> bool:
        return symbol.partition("/")[0] in self.core_assets

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(symbol for symbol, _ in self.allocation)

    @property
    def quote(self) -> str:
        return self.allocation[0][0].partition("/")[2]

    @property
    def reference_symbol(self) -> str:
        """The symbol alts follow: `alt_lag_reference` in the allocation's quote currency."""
        return f"{self.alt_lag_reference}/{self.quote}"


def _problems(p: StrategyParams) -> list[str]:
    problems: list[str] = []
    if p.budget <= 0:
        problems.append("budget must be > 0")
    if not p.allocation:
        problems.append("allocation must list at least one symbol")
    elif abs(sum((w for _, w in p.allocation), Decimal(0)) - 1) > Decimal("0.000001"):
        problems.append("allocation weights must sum to 1")
    if any(w <= 0 for _, w in p.allocation):
        problems.append("allocation weights must be > 0")
    if not 0 <= p.alt_cap <= 1:
        problems.append("alt_cap must be within [0, 1]")
    if p.tranches < 1:
        problems.append("tranches must be >= 1")
    if p.entry_window_days < 0:
        problems.append("entry_window_days must be >= 0")
    if not p.limit_offsets or any(not 0 <= o < 1 for o in p.limit_offsets):
        problems.append("limit_offsets must be fractions within [0, 1)")
    if p.reprice_after_hours <= 0:
        problems.append("reprice_after_hours must be > 0")
    if p.max_reprices < 0:
        problems.append("max_reprices must be >= 0")
    if not p.start_regimes <= REGIMES or not p.pause_regimes <= REGIMES:
        problems.append(f"regimes must be among {sorted(REGIMES)}")
    if p.start_regimes & p.pause_regimes:
        problems.append("a regime cannot both start plans and pause them")
    if p.pivot_window_days is not None and p.pivot_window_days <= 0:
        problems.append("pivot_window_days must be > 0")
    if p.fomc_blackout_hours < 0:
        problems.append("fomc_blackout_hours must be >= 0")
    if p.anti_chase_pct is not None and p.anti_chase_pct <= 0:
        problems.append("anti_chase_pct must be > 0")
    if p.anti_chase_days < 1 or p.anti_chase_max_delay_days < 0:
        problems.append("anti_chase_days must be >= 1 and anti_chase_max_delay_days >= 0")
    if p.alt_lag_gain is not None and p.alt_lag_gain < 0:
        problems.append("alt_lag_gain must be >= 0")
    if p.alt_lag_days is not None and p.alt_lag_days < 0:
        problems.append("alt_lag_days must be >= 0")
    if p.flush_pull_forward < 0:
        problems.append("flush_pull_forward must be >= 0")
    if p.cycle_cooldown_days < 0:
        problems.append("cycle_cooldown_days must be >= 0")
    return problems
