"""Budget per symbol: allocation weights, core/alt tags and the alt cap. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from bot.strategy.params import StrategyParams

# Budgets are cut to this many decimals (rounded down) so their sum never exceeds the total.
BUDGET_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class SymbolBudget:
    """One symbol's share. weight: configured fraction; effective_weight: after the alt cap.

    budget: quote for the symbol's plan (budget * effective_weight, rounded down).
    """

    symbol: str
    core: bool
    weight: Decimal
    effective_weight: Decimal
    budget: Decimal

    @property
    def kind(self) -> str:
        return "core" if self.core else "alt"

    @property
    def scaled(self) -> bool:
        return self.effective_weight < self.weight


@dataclass(frozen=True)
class Allocation:
    """Every symbol's budget; `unallocated` is what the alt cap freed (left unspent)."""

    symbols: tuple[SymbolBudget, ...]
    total: Decimal
    alt_share: Decimal
    unallocated: Decimal

    def of(self, symbol: str) -> SymbolBudget | None:
        return next((s for s in self.symbols if s.symbol == symbol), None)


def allocate(params: StrategyParams, total: Decimal | None = None) -> Allocation:
    """Split `total` (default `params.budget`) by the allocation weights.

    When the alts' weights add up to more than `alt_cap`, each alt weight is multiplied by
    `alt_cap / alt_share`. The budget this frees is NOT given to the core assets: their
    weights were chosen deliberately and silently doubling down on BTC is not what a user
    capping alts asked for. It shows up as `unallocated`.
    """
    total = params.budget if total is None else total
    alt_share = sum((w for s, w in params.allocation if not params.is_core(s)), Decimal(0))
    scale = params.alt_cap / alt_share if alt_share > params.alt_cap else Decimal(1)
    rows = []
    for symbol, weight in params.allocation:
        core = params.is_core(symbol)
        effective = weight if core else weight * scale
        budget = (total * effective).quantize(BUDGET_QUANTUM, rounding=ROUND_DOWN)
        rows.append(SymbolBudget(symbol, core, weight, effective, budget))
    spent = sum((r.budget for r in rows), Decimal(0))
    return Allocation(tuple(rows), total, alt_share, total - spent)


def split_tranches(budget: Decimal, count: int) -> tuple[Decimal, ...]:
    """`count` equal quote amounts summing exactly to `budget` (the last takes the remainder)."""
    if count < 1:
        raise ValueError("count must be >= 1")
    share = (budget / count).quantize(BUDGET_QUANTUM, rounding=ROUND_DOWN)
    return (share,) * (count - 1) + (budget - share * (count - 1),)


def tranche_count(budget: Decimal, configured: int, minimum: Decimal) -> int:
    """The largest tranche count <= `configured` whose equal tranches (`split_tranches`) each
    hold at least `minimum` quote; 0 when even the whole budget in one tranche is below it."""
    if minimum <= 0:
        return configured
    for count in range(min(configured, int(budget // minimum)), 0, -1):
        if min(split_tranches(budget, count)) >= minimum:
            return count
    return 0
