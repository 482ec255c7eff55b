"""Tiered take-profit: a ladder of (gain, share of the original position to sell).

Fractions inside the code (0.2 = 20 %); percent only in the human form "20:25,50:25", which
`parse_take_profit_tiers` converts once. A tier fires once per cycle: the sell fill carrying
`tier=k` marks it taken on the position, and the planner skips taken tiers. If the price gaps
over several tiers, every due tier is planned at once, one sale each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from risk._fmt import fmt_num, fmt_pct

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class TakeProfitTier:
    """Sell `sell_fraction` of the cycle's original size once the gain reaches `gain`.

    Both are fractions: TakeProfitTier(Decimal("0.2"), Decimal("0.25")) = at +20 % sell 25 %.
    """

    gain: Decimal
    sell_fraction: Decimal


DEFAULT_TAKE_PROFIT_TIERS: tuple[TakeProfitTier, ...] = (
    TakeProfitTier(Decimal("0.2"), Decimal("0.25")),
    TakeProfitTier(Decimal("0.5"), Decimal("0.25")),
)


class TierSpecError(ValueError):
    """A take-profit ladder that is malformed; the message says exactly what is wrong."""


def validate_tiers(tiers: Sequence[TakeProfitTier]) -> tuple[TakeProfitTier, ...]:
    """Check a ladder in fractions; return it as a tuple or raise `TierSpecError`.

    Rules: gains > 0 and strictly increasing, each sell fraction > 0, sum of sells <= 1.
    """
    total = _ZERO
    previous: Decimal | None = None
    for index, tier in enumerate(tiers, start=1):
        if not isinstance(tier.gain, Decimal) or not isinstance(tier.sell_fraction, Decimal):
            raise TierSpecError(f"tier {index}: gain and sell fraction must be Decimal")
        if not tier.gain.is_finite() or tier.gain <= 0:
            raise TierSpecError(f"tier {index}: gain must be > 0 %, got {fmt_pct(tier.gain)}")
        if not tier.sell_fraction.is_finite() or tier.sell_fraction <= 0:
            raise TierSpecError(
                f"tier {index}: sell must be > 0 %, got {fmt_pct(tier.sell_fraction)}"
            )
        if previous is not None and tier.gain <= previous:
            raise TierSpecError(
                f"tier {index}: gain {fmt_pct(tier.gain)} must be greater than the previous "
                f"tier's {fmt_pct(previous)} (gains strictly increasing)"
            )
        previous = tier.gain
        total += tier.sell_fraction
    if total > _ONE:
        raise TierSpecError(f"sell percentages sum to {fmt_pct(total)}, must be <= 100%")
    return tuple(tiers)


def _parse_percent(text: str, what: str, where: str) -> Decimal:
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        raise TierSpecError(f"{where}: {what} is missing")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise TierSpecError(f"{where}: {what} {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise TierSpecError(f"{where}: {what} {text.strip()!r} is not a finite number")
    return value


def parse_take_profit_tiers(spec: str) -> tuple[TakeProfitTier, ...]:
    """Parse "gain%:sell%,..." (percent, e.g. "20:25,50:25") into a ladder in fractions.

    An empty or blank string means no take-profit tiers. Raises `TierSpecError` naming the
    offending tier and rule.
    """
    if not spec.strip():
        return ()
    tiers: list[TakeProfitTier] = []
    for index, raw in enumerate(spec.split(","), start=1):
        item = raw.strip()
        where = f"tier {index} {item!r}"
        if not item:
            raise TierSpecError(f"tier {index} is empty (stray comma in {spec.strip()!r}?)")
        parts = item.split(":")
        if len(parts) != 2:
            raise TierSpecError(f"{where}: expected 'gain%:sell%', e.g. '20:25'")
        gain = _parse_percent(parts[0], "gain", where)
        sell = _parse_percent(parts[1], "sell", where)
        if gain <= 0:
            raise TierSpecError(f"{where}: gain must be > 0 %, got {fmt_num(gain)}")
        if sell <= 0:
            raise TierSpecError(f"{where}: sell must be > 0 %, got {fmt_num(sell)}")
        if tiers and gain / _HUNDRED <= tiers[-1].gain:
            raise TierSpecError(
                f"{where}: gain {fmt_num(gain)}% must be greater than the previous tier's "
                f"{fmt_pct(tiers[-1].gain)} (gains strictly increasing)"
            )
        tiers.append(TakeProfitTier(gain / _HUNDRED, sell / _HUNDRED))
    return validate_tiers(tiers)


def format_take_profit_tiers(tiers: Sequence[TakeProfitTier]) -> str:
    """Inverse of `parse_take_profit_tiers`: DEFAULT_TAKE_PROFIT_TIERS -> "20:25,50:25"."""
    return ",".join(
        f"{fmt_num(t.gain * _HUNDRED)}:{fmt_num(t.sell_fraction * _HUNDRED)}" for t in tiers
    )


@dataclass(frozen=True, slots=True)
class TierSale:
    """One planned take-profit sale, amounts in base units.

    target_amount = sell_fraction * original size; amount = what to sell (see
    `plan_take_profits` for the sizing rule). swept_dust: everything held is sold because what
    would remain could not be sold later. raised: the target was below the venue's minimum
    sale and was raised to it. skipped: nothing held can be sold at all (amount 0): the tier
    is marked done without a sale, so what follows it still happens.
    """

    tier: int
    gain_threshold: Decimal
    trigger_price: Decimal
    sell_fraction: Decimal
    target_amount: Decimal
    amount: Decimal
    swept_dust: bool
    raised: bool = False
    skipped: bool = False


def tier_due(
    tiers: Sequence[TakeProfitTier],
    tiers_done: frozenset[int],
    avg_entry_price: Decimal,
    price: Decimal,
) -> bool:
    """Whether a tier not yet done is due at `price`: `plan_take_profits` plans something
    exactly when this holds and more than `dust` is held. The engine asks this first, so
    that the minimum sale at the exit floor (its `keep_minimum`) is worked out only then."""
    if avg_entry_price <= 0:
        return False
    for index, tier in enumerate(tiers, start=1):
        if index not in tiers_done:
            return price >= avg_entry_price * (_ONE + tier.gain)
    return False


def plan_take_profits(
    tiers: Sequence[TakeProfitTier],
    tiers_done: frozenset[int],
    avg_entry_price: Decimal,
    size: Decimal,
    original_size: Decimal,
    price: Decimal,
    dust: Decimal = _ZERO,
    minimum: Decimal = _ZERO,
    keep_minimum: Decimal = _ZERO,
) -> list[TierSale]:
    """Sales for every tier that is due at `price` and not yet done, in tier order.

    A tier is due when `price >= avg_entry_price * (1 + gain)`. The sizing rule, applied to
    each due tier against what is still held (`minimum` = the venue's smallest sale at `price`,
    base units; `keep_minimum` = the smallest sale at the price the rest would be exited at,
    e.g. its stop, which needs more base units than at `price`; `dust` = what is not a
    position at all):

    1. target = sell_fraction * original_size, clipped to what is held;
    2. a target below `minimum` is raised to it (sell the larger of the tier and the minimum);
    3. if what would remain is at most `dust` or below `minimum` or `keep_minimum` (it could
       not be sold on its own, now or at its stop), everything held is sold instead;
    4. if what is held is itself below `minimum`, nothing can be sold: the tier is returned
       `skipped` (amount 0) and the caller marks it done, so break-even and the trailing stop
       still arm.
    """
    sales: list[TierSale] = []
    if avg_entry_price <= 0 or size <= dust:
        return sales
    remaining = size
    for index, tier in enumerate(tiers, start=1):
        if index in tiers_done:
            continue
        trigger = avg_entry_price * (_ONE + tier.gain)
        if price < trigger:
            break  # gains are increasing: no later tier is due either
        target = tier.sell_fraction * original_size
        if remaining <= 0:
            break  # an earlier tier of this tick sells everything
        if remaining < minimum:
            sales.append(
                TierSale(
                    index,
                    tier.gain,
                    trigger,
                    tier.sell_fraction,
                    target,
                    _ZERO,
                    False,
                    skipped=True,
                )
            )
            continue
        amount = min(target, remaining)
        raised = amount < minimum
        if raised:
            amount = minimum
        swept = False
        rest = remaining - amount
        if rest <= dust or rest < max(minimum, keep_minimum):
            swept = amount < remaining
            amount = remaining
        sales.append(
            TierSale(index, tier.gain, trigger, tier.sell_fraction, target, amount, swept, raised)
        )
        remaining -= amount
    return sales
